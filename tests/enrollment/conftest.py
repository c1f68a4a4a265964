"""Fixtures of the enrollment tests: actors of the demo logins, a session, ready-made units."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from stdnum.cn import ric
from stdnum.cn import uscc as stdnum_uscc

from portal.auth.roles import Actor
from portal.enrollment import units
from portal.web.hooks import actor_from_session

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


@pytest.fixture
def sess(app):
    with app.app_context():
        session = app.extensions["portal.database"].sessions()
        try:
            yield session
        finally:
            session.rollback()
            session.close()


EAGER_LOGINS = ("worker", "employer", "employer2", "clerk", "clerk-wuhu", "provincial", "recognition_officer")


@pytest.fixture
def actor_for(app) -> Callable[[str], Actor]:
    """``actor_for("employer")``: sign a demo login in (committed) and return its Actor."""
    from portal.accounts import service as accounts
    from portal.demo import DEMO_LOGIN_FOR_ROLE, demo_identity, load_staff_register

    cache: dict[str, Actor] = {}

    def _actor(who: str) -> Actor:
        if who not in cache:
            username = DEMO_LOGIN_FOR_ROLE.get(who, who)
            with app.extensions["portal.database"].write_transaction() as s:
                load_staff_register(s)
                snapshot = accounts.sign_in(s, demo_identity(username), "127.0.0.1", "test")
            cache[who] = actor_from_session(snapshot, "127.0.0.1", "test")
        return cache[who]

    # Signed in up front: on SQLite a later sign-in would wait for the test session's write lock.
    for who in EAGER_LOGINS:
        _actor(who)
    return _actor


@pytest.fixture
def enroll(actor_for):
    """``enroll(sess)``: the demo employer's unit, saved and (optionally) submitted/approved."""

    def _enroll(sess, *, who: str = "employer", submit: bool = True, approve: bool = False,
                effective: date | None = None, **overrides):
        actor = actor_for(who)
        fields = {**UNIT_FIELDS, **overrides}
        unit = units.save_unit(sess, actor, **fields)
        if submit or approve:
            units.submit_unit(sess, actor)
        if approve:
            units.approve_unit(sess, actor_for("clerk"), unit.id, risk_class=unit.risk_class or 5, band="1.0",
                               effective_date=effective or date(2026, 1, 1))
        return unit

    return _enroll
