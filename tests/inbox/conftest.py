"""Fixtures of the inbox tests: the demo people and employers signed in, and delivery helpers."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from portal.auth.roles import Actor
from portal.inbox import service

#: who has an inbox in the demo data (workers and relatives sign in as WORKER)
OWNERS = ("worker", "relative", "employer", "employer2")


@dataclass
class People:
    worker: Actor
    relative: Actor
    employer: Actor
    employer2: Actor
    officer: Actor  #: staff: no inbox


@pytest.fixture
def people(actor_for) -> People:
    """Signed in before any test session opens (SQLite: a sign-in needs the writer lock)."""
    return People(*(actor_for(who) for who in (*OWNERS, "officer")))


def recipient(actor: Actor) -> dict:
    """The ``deliver`` keyword naming this actor's inbox."""
    if actor.person_id is not None:
        return {"person_id": actor.person_id}
    return {"organisation_id": actor.organisation_id}


def deliver_to(sess, actor: Actor, **fields):
    defaults = {"kind": "notice", "subject": "工伤认定申请已收到", "body": "您的申请已收到。"}
    return service.deliver(sess, **recipient(actor), **{**defaults, **fields})


@pytest.fixture
def database(app):
    return app.extensions["portal.database"]


@pytest.fixture
def deliver_committed(app, database):
    """Deliver in a committed transaction of its own (as recognition would); returns the id."""

    def _deliver(actor: Actor, **fields) -> int:
        with app.app_context(), database.write_transaction() as sess:
            return deliver_to(sess, actor, **fields).id

    return _deliver
