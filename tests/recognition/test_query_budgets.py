"""Query budgets of the recognition pages (issue 14 point 4), both databases: the number of SQL
statements a request runs does not grow with the number of cases. Each page is measured with 3
cases, then 30 more are filed (each with an open 催办) and the same page must run no more
statements than before — an N+1 (a query per row) breaks it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal.recognition.models import Urge
from tests.query_budget import assert_within_budget, count_queries
from tests.recognition import factories
from tests.recognition.factories import People, submitted_case

people = factories.people

TODAY = date.today()
OFFICE_PAGES = ["/recognition/office/", "/recognition/office/?clock=overdue", "/recognition/office/?clock=near",
                "/recognition/office/?clock=due", "/recognition/office/?status=all",
                "/recognition/office/?status=submitted", "/recognition/office/?status=served",
                "/recognition/office/?q=RD-340100", "/recognition/office/?page=2"]
PROVINCE_PAGES = ["/recognition/office/overview", "/recognition/office/overview/340100",
                  "/recognition/office/?city_code=340100", "/recognition/office/"]
WORKER_PAGES = ["/recognition/"]


def _file(app, people: People, n: int) -> list[int]:
    """``n`` submitted cases of Hefei, received 50, 15 and 0 days ago in turn (15-day review
    clocks: overdue, near — due today or the next working day — and later), each pressed once
    (an open 催办), so every filter of the queue has rows."""
    ids = []
    with app.extensions["portal.database"].write_transaction() as s:
        for k in range(n):
            case = submitted_case(s, people, received_on=TODAY - timedelta(days=(50, 15, 0)[k % 3]))
            s.add(Urge(case_id=case.id, by_account_id=people.employer.account_id, text="请尽快办理。"))
            ids.append(case.id)
    return ids


def _measure(app, client, urls: list[str]) -> dict[str, int]:
    found = {}
    for url in urls:
        with count_queries(app) as counted:
            response = client.get(url)
        assert response.status_code == 200, url
        assert "RD-340100" in response.get_data(as_text=True) or url.endswith(("served", "overview")), url
        found[url] = counted.total
    return found


@pytest.mark.parametrize("who, urls", [("officer", OFFICE_PAGES), ("provincial", PROVINCE_PAGES),
                                       ("worker", WORKER_PAGES)])
def test_list_pages_do_not_grow_with_the_cases(app, client, login_as, people, who, urls):
    first = _file(app, people, 3)
    login_as(client, who)
    case_page = f"/recognition/office/cases/{first[0]}" if who != "worker" else f"/recognition/cases/{first[0]}"
    before = _measure(app, client, urls + [case_page])
    _file(app, people, 30)
    for url, budget in before.items():
        assert_within_budget(app, client.get, url, budget=budget)
    # and the budgets are small: a page is a handful of statements, not one per case
    assert max(before.values()) <= 40, before
