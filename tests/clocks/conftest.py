"""Fixtures of the clocks tests: actors of the demo logins and a session."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from portal.auth.roles import Actor
from portal.web.hooks import actor_from_session


@pytest.fixture
def sess(app):
    with app.app_context():
        session = app.extensions["portal.database"].sessions()
        try:
            yield session
        finally:
            session.rollback()
            session.close()


@pytest.fixture
def actor_for(app) -> Callable[[str], Actor]:
    """``actor_for("provincial")``: sign a demo login in (committed) and return its Actor."""
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
    for who in ("provincial", "clerk"):
        _actor(who)
    return _actor
