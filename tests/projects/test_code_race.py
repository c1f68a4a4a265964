"""Two contractors enrolling in one city at once must not collide on the project code."""

import threading

# the inner module: its code allocation is patched
from portal.projects.service import projects
from tests.projects.conftest import enroll


def test_a_taken_code_is_retried_with_the_next_free_one(app, actor_for, tx, monkeypatch):
    employer = actor_for("employer")
    first = tx(lambda sess: enroll(sess, employer).code)
    real_next_code = projects._next_code
    calls = []

    def racing_next_code(sess, city_code, year):
        calls.append(1)
        # the first computation returns the code another contractor just took
        return first if len(calls) == 1 else real_next_code(sess, city_code, year)

    monkeypatch.setattr(projects, "_next_code", racing_next_code)
    second = tx(lambda sess: enroll(sess, employer).code)
    assert second != first and len(calls) == 2
    assert int(second[-5:]) == int(first[-5:]) + 1


def test_contractors_enrolling_at_the_same_moment_all_get_codes(app, actor_for, tx):
    """Ten enrolments in one city and year at once: every one succeeds, with ten distinct codes
    in sequence (PostgreSQL takes turns at numbering; SQLite has one writer)."""
    from concurrent.futures import ThreadPoolExecutor

    employer = actor_for("employer")
    start = threading.Barrier(10)

    def one(i: int) -> str:
        start.wait(timeout=10)
        return tx(lambda sess: enroll(sess, employer, name=f"同时参保项目{i}").code)

    with ThreadPoolExecutor(max_workers=10) as pool:
        codes = list(pool.map(one, range(10)))
    assert len(set(codes)) == 10
    numbers = sorted(int(code[-5:]) for code in codes)
    assert numbers == list(range(numbers[0], numbers[0] + 10))
