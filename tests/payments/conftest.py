"""Fixtures of the payments tests: a recording fake platform, an employer organisation."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from adapters.tax_collection.client import PaymentStatus
from adapters.tax_collection.codes import PaymentState
from adapters.tax_collection.errors import TaxPlatformError
from portal.accounts.models import Organisation
from portal.auth.roles import Actor, Role
from portal.payments import service

SUBJECT = "testsubject"
PAID_CALLS: list[int] = []
service.register_paid_handler(SUBJECT, lambda sess, bill: PAID_CALLS.append(bill.id))


@dataclass
class FakePlatform:
    """Records calls; ``down`` makes every call fail like an unreachable platform."""

    down: bool = False
    paid: dict[str, tuple[Decimal, datetime]] = field(default_factory=dict)
    calls: list[tuple] = field(default_factory=list)
    _seq: itertools.count = field(default_factory=lambda: itertools.count(1))

    def issue_reference(self, *, bill_number, amount, payer, purpose, city_code):
        self.calls.append(("issue", bill_number, amount))
        if self.down:
            raise TaxPlatformError("down", code="unreachable")
        return f"REF{bill_number}"

    def query_payment(self, reference):
        self.calls.append(("query", reference))
        if self.down:
            raise TaxPlatformError("down", code="timeout")
        if reference in self.paid:
            amount, at = self.paid[reference]
            return PaymentStatus(reference, PaymentState.PAID, amount, at)
        return PaymentStatus(reference, PaymentState.UNPAID)


PAID_AT = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
def org(db) -> Organisation:
    organisation = Organisation(uscc="91340100MA2N0X1234", name="安徽测试建设集团有限公司")
    db.add(organisation)
    db.commit()
    return organisation


@pytest.fixture
def employer(org) -> Actor:
    return Actor(role=Role.EMPLOYER, account_id=None, display_name=org.name, organisation_id=org.id)


@pytest.fixture
def paid_calls() -> list[int]:
    PAID_CALLS.clear()
    return PAID_CALLS


@pytest.fixture
def live_employer(app, login_as, csrf_token, live_stack):
    """A ``requests`` session signed in as the demo employer on the live portal, carrying its
    CSRF token (``.csrf``), organisation id and Actor."""
    import requests


    flask_client = app.test_client()
    snapshot = login_as(flask_client, "employer")
    http = requests.Session()
    http.cookies.set(app.config["SESSION_COOKIE_NAME"],
                     flask_client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value)
    http.csrf = csrf_token(flask_client)
    http.organisation_id = snapshot["organisation_id"]
    http.actor = Actor(role=Role.EMPLOYER, account_id=snapshot["account_id"],
                       display_name=snapshot["display_name"], organisation_id=snapshot["organisation_id"])
    return http
