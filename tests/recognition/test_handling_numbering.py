"""Document numbers (文书编号) under concurrency, on both databases: two transactions that number
the same kind of document at once never get the same number, whether the year's counter row
already exists (row lock) or both try to create it (unique constraint, then the lock)."""

from __future__ import annotations

import re
import threading
import time
from datetime import date

import pytest

from portal.recognition import service as recognition
from portal.recognition.service.cases import next_document_number
from tests.recognition import factories
from tests.recognition.factories import accepted_case, submitted_case

#: fixtures shared by the recognition tests
people, files_dir = factories.people, factories.files_dir


def _number(text: str) -> int:
    return int(re.search(r"〕(\d+)号", text).group(1))


@pytest.mark.parametrize("counter_exists", [True, False])
def test_two_concurrent_transactions_never_share_a_number(app, counter_exists):
    database = app.extensions["portal.database"]
    if counter_exists:
        with database.write_transaction() as s:
            next_document_number(s, "340100", 2025, "decision")
    got: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)
    lock = threading.Lock()

    def worker(hold: float) -> None:
        try:
            start.wait(timeout=10)
            with database.write_transaction() as s:
                number = next_document_number(s, "340100", 2025, "decision")
                time.sleep(hold)  # keep the transaction open while the other one asks
            with lock:
                got.append(number)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(hold,)) for hold in (0.3, 0.0)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    first = 2 if counter_exists else 1
    assert sorted(_number(n) for n in got) == [first, first + 1]


def test_numbers_run_per_city_year_and_kind_through_the_services(sess, people, files_dir):
    numbers = [accepted_case(sess, people, files_dir, received_on=date(2025, 12, 30)).acceptance_number
               for _ in range(3)]
    assert numbers == [f"合肥人社工伤受字〔2025〕{n}号" for n in (1, 2, 3)]
    new_year = accepted_case(sess, people, files_dir, received_on=date(2026, 1, 5))
    assert new_year.acceptance_number == "合肥人社工伤受字〔2026〕1号"


def test_a_wuhu_case_is_numbered_in_wuhu(sess, people, files_dir):
    case = submitted_case(sess, people, city_code="340200", received_on=date(2025, 12, 30))
    recognition.accept_case(sess, people.wuhu_officer, case.id, files_dir=files_dir, on=date(2025, 12, 31))
    assert case.acceptance_number == "芜湖人社工伤受字〔2025〕1号"
