"""Every state machine of the portal, enumerated: each status reachable, each action audited.

The machines are the areas' public ``*_STATES``; a new area with a status adds its machine here.
"""

from __future__ import annotations

import dataclasses
import enum
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth.roles import Actor, Role
from portal.enrollment import service as enrollment
from portal.payments import service as payments
from portal.projects import service as projects
from portal.recognition import service as recognition
from portal.states import StateMachine

MACHINES: dict[str, StateMachine] = {
    "enrollment": enrollment.UNIT_STATES,
    "projects": projects.PROJECT_STATES,
    "payments": payments.BILL_STATES,
    "recognition": recognition.CASE_STATES,
}
ACTOR = Actor(role=Role.PROVINCIAL, account_id=1, display_name="省级经办人")


def _status_enum(machine: StateMachine) -> type[enum.Enum]:
    return type(next(iter(machine.statuses)))


@pytest.mark.parametrize("area", MACHINES)
def test_every_status_is_reachable_from_where_a_subject_starts(area):
    machine = MACHINES[area]
    assert machine.initial, f"{area}: no starting status"
    assert machine.reachable() == set(_status_enum(machine)), f"{area}: unreachable statuses"


@pytest.mark.parametrize("area", MACHINES)
def test_every_status_has_a_label_people_read(area):
    for status in _status_enum(MACHINES[area]):
        assert status.label and status.label != status.value


@pytest.mark.parametrize("area", MACHINES)
def test_every_action_is_audited_with_its_move(area, sess):
    # The area's timeline, effects and guard are exercised by its own tests; here the table alone.
    machine = dataclasses.replace(MACHINES[area], guard=None, timeline=None, effects=())
    for n, ((source, action), target) in enumerate(machine.transitions.items(), start=1):
        subject = SimpleNamespace(id=n, city_code="340100", **{machine.attribute: source})
        machine.apply(sess, ACTOR, subject, action)
        assert getattr(subject, machine.attribute) is target
        row = sess.scalars(select(AuditEvent).where(AuditEvent.object_type == machine.object_type,
                                                    AuditEvent.object_id == str(n))
                           .order_by(AuditEvent.id.desc())).first()
        assert row is not None and row.action == machine.audit_action_of(action), (area, action)
        assert row.detail["from"] == (source.value if source is not None else None)
        assert row.detail["to"] == target.value
