"""The live stack (portal + unified-login sandbox + tax sandbox on loopback) reports 办件 to the
一网通办 peer inside the unified-login sandbox: the wiring browser and end-to-end tests rely on."""

from __future__ import annotations

from datetime import datetime, timezone

from portal.outbox import gov_items
from portal.tasks.outbox import dispatch_outbox
from tests.conftest import sign_in_up_front


def test_the_live_portal_reports_to_the_platform_in_the_login_sandbox(live_stack, actor_for):
    worker = sign_in_up_front(actor_for, "worker")("worker")
    app = live_stack.app
    assert app.config["PORTAL_SETTINGS"].gov_platform_url == live_stack.sandbox_url
    with app.extensions["portal.database"].write_transaction() as sess:
        gov_items.report_item(sess, item_no="GSRD-LIVE-1", item_code="340000-GS-RD-001", item_name="工伤认定",
                              applicant_account_id=worker.account_id, applicant_person_id=worker.person_id,
                              applicant_organisation_id=None, department="合肥市人力资源和社会保障局",
                              city_code="340100", received_at=datetime(2026, 3, 2, 1, 30, tzinfo=timezone.utc))
    assert dispatch_outbox(app) == {"delivered": 1, "failed": 0}
    assert live_stack.gov_items.item("GSRD-LIVE-1").applicant_sub == "np-0001"
