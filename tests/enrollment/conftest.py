"""Fixtures of the enrollment tests: actors of the demo logins, a session, ready-made units."""

from __future__ import annotations

from datetime import date

import pytest
from stdnum.cn import ric
from stdnum.cn import uscc as stdnum_uscc

from portal.enrollment import service as enrollment
from tests.conftest import sign_in_up_front

#: the demo employer's USCC is in Hefei (91340100…): county 340104 = 合肥市蜀山区
UNIT_FIELDS = dict(uscc="91340100MA2N0A1B5E", name="安徽皖建建设工程有限公司", address="合肥市蜀山区长江西路100号",
                   county_code="340104", industry_code="E4710", contact_name="王强", contact_phone="13955101234")


def make_id(birth: str = "19900307", seq: int = 231, region: str = "340104") -> str:
    """A valid resident ID number: odd ``seq`` for a man, even for a woman."""
    body = f"{region}{birth}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def make_uscc(n: int) -> str:
    body = f"9134010{n:010d}"
    return body + stdnum_uscc.calc_check_digit(body)


EAGER_LOGINS = ("worker", "employer", "employer2", "clerk", "clerk-wuhu", "provincial", "recognition_officer")


@pytest.fixture
def actor_for(actor_for):
    return sign_in_up_front(actor_for, *EAGER_LOGINS)


@pytest.fixture
def enroll(actor_for):
    """``enroll(sess)``: the demo employer's unit, saved and (optionally) submitted/approved."""

    def _enroll(sess, *, who: str = "employer", submit: bool = True, approve: bool = False,
                effective: date | None = None, **overrides):
        actor = actor_for(who)
        fields = {**UNIT_FIELDS, **overrides}
        unit = enrollment.save_unit(sess, actor, **fields)
        if submit or approve:
            enrollment.submit_unit(sess, actor)
        if approve:
            enrollment.approve_unit(sess, actor_for("clerk"), unit.id, risk_class=unit.risk_class or 5, band="1.0",
                               effective_date=effective or date(2026, 1, 1))
        return unit

    return _enroll


@pytest.fixture
def employer(app, login_as):
    """A test client signed in as the demo employer."""
    client = app.test_client()
    login_as(client, "employer")
    return client


@pytest.fixture
def clerk(app, login_as):
    """A test client signed in as the demo clerk of Hefei."""
    client = app.test_client()
    login_as(client, "clerk")
    return client
