"""Bill pages: who may see a bill (its own organisation, staff of its city), and what they show."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.auth.roles import Actor, Role
from portal.payments import service
from tests.payments.conftest import issue_committed


@pytest.fixture
def app_overrides():
    return {"tax_platform_url": "http://127.0.0.1:9", "tax_platform_timeout_seconds": 1}


def _bill_for(app, organisation_id: int) -> int:
    """A bill whose reference the (unreachable) platform did not give."""
    return issue_committed(app, Actor(role=Role.EMPLOYER, organisation_id=organisation_id),
                           amount=Decimal("100.50"), purpose=service.PURPOSE_SUPPLEMENTARY)


def test_bill_visible_to_own_organisation_and_city_staff_only(app, login_as):
    owner = app.test_client()
    bill_id = _bill_for(app, login_as(owner, "employer")["organisation_id"])
    page = owner.get(f"/payments/bills/{bill_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "待缴费" in html and "壹佰元伍角" in html and "暂时无法连接" in html
    assert "查询缴费结果" in html
    assert "<h1>缴费单 GS" in html
    assert bill_id and f"/payments/bills/{bill_id}" in owner.get("/payments/bills").get_data(as_text=True)

    for who, status in (("employer2", 404), ("clerk-wuhu", 404), ("clerk", 200), ("provincial", 200),
                        ("worker", 403)):
        other = app.test_client()
        login_as(other, who)
        assert other.get(f"/payments/bills/{bill_id}").status_code == status, who
    intruder = app.test_client()
    login_as(intruder, "employer2")
    assert f"/payments/bills/{bill_id}" not in intruder.get("/payments/bills").get_data(as_text=True)


def test_pay_and_refresh_need_csrf_and_scope(app, login_as, csrf_token):
    owner = app.test_client()
    bill_id = _bill_for(app, login_as(owner, "employer")["organisation_id"])
    assert owner.post(f"/payments/bills/{bill_id}/refresh").status_code == 400  # no CSRF token
    other = app.test_client()
    login_as(other, "employer2")
    assert other.post(f"/payments/bills/{bill_id}/pay", data={"csrf_token": csrf_token(other)}).status_code == 404
    # Platform unreachable: no reference, so paying is refused with a Chinese 503 page.
    answer = owner.post(f"/payments/bills/{bill_id}/pay", data={"csrf_token": csrf_token(owner)})
    assert answer.status_code == 503 and "暂时无法连接" in answer.get_data(as_text=True)
    refreshed = owner.post(f"/payments/bills/{bill_id}/refresh", data={"csrf_token": csrf_token(owner)},
                           follow_redirects=True)
    assert refreshed.status_code == 200 and "尚未取得缴款码" in refreshed.get_data(as_text=True)


def test_bill_status_polls_while_the_outcome_is_awaited_and_stops_when_final(app, login_as):
    from portal.payments.models import Bill, BillStatus
    from tests.payments.conftest import FakePlatform, deliver_references

    owner = app.test_client()
    organisation_id = login_as(owner, "employer")["organisation_id"]
    database = app.extensions["portal.database"]
    with app.app_context(), database.write_transaction() as sess:
        bill = service.issue_bill(sess, Actor(role=Role.EMPLOYER, organisation_id=organisation_id),
                                  subject_type="project", subject_id=1, organisation_id=organisation_id,
                                  city_code="340100", amount=Decimal("100.50"),
                                  purpose=service.PURPOSE_SUPPLEMENTARY)
        bill_id = bill.id
    with app.app_context():
        deliver_references(FakePlatform())
    with database.write_transaction() as sess:
        sess.get(Bill, bill_id).status = BillStatus.PENDING_CONFIRMATION
    fragment = {"HX-Request": "true", "HX-Target": "bill-status"}

    page = owner.get(f"/payments/bills/{bill_id}").get_data(as_text=True)
    assert 'id="bill-status"' in page and 'hx-trigger="every 3s"' in page and "<h1>" in page
    partial = owner.get(f"/payments/bills/{bill_id}", headers=fragment)
    html = partial.get_data(as_text=True)
    assert partial.status_code == 200 and html.lstrip().startswith('<div id="bill-status"')
    assert "<h1>" not in html and "待确认" in html and 'hx-trigger="every 3s"' in html

    with database.write_transaction() as sess:
        sess.get(Bill, bill_id).status = BillStatus.PAID
    html = owner.get(f"/payments/bills/{bill_id}", headers=fragment).get_data(as_text=True)
    assert "已缴费" in html and "hx-trigger" not in html
