"""The one state-machine idiom (portal.states), on a small machine of its own."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth.roles import Actor, Role
from portal.choices import LabelledEnum, labels
from portal.errors import ConflictError, PermissionDenied
from portal.states import StateMachine

Status = LabelledEnum("Status", [("DRAFT", ("draft", "草稿")), ("SENT", ("sent", "已提交")),
                                 ("DONE", ("done", "已办结"))])
Action = LabelledEnum("Action", [("CREATE", ("create", "填写")), ("SEND", ("send", "提交")),
                                 ("FINISH", ("finish", "办结"))])


class Refused(ConflictError):
    code = "test_refused"


class Thing:
    def __init__(self) -> None:
        self.id, self.status, self.city_code = 7, None, "340100"


def _machine(**kwargs) -> StateMachine:
    return StateMachine(name="thing", object_type="thing", illegal=Refused, transitions={
        (None, Action.CREATE): Status.DRAFT,
        (Status.DRAFT, Action.SEND): Status.SENT,
        (Status.SENT, Action.FINISH): Status.DONE,
    }, **kwargs)


ACTOR = Actor(role=Role.CLERK, account_id=1, display_name="经办人", city_code="340100")


def test_labelled_enums_carry_code_and_label():
    assert Status("sent") is Status.SENT and Status.SENT.label == "已提交" and Status.SENT == "sent"
    assert labels(Status) == {Status.DRAFT: "草稿", Status.SENT: "已提交", Status.DONE: "已办结"}


def test_the_table_answers_questions():
    machine = _machine()
    assert machine.initial == {Status.DRAFT}
    assert machine.reachable() == set(Status)
    assert machine.allowed_actions(Status.DRAFT) == [Action.SEND]
    assert machine.allows(None, Action.CREATE) and not machine.allows(Status.DONE, Action.SEND)


def test_apply_moves_audits_writes_the_timeline_and_the_effects_in_order(sess):
    calls = []
    machine = _machine(timeline=lambda s, a, subject, move: calls.append(("timeline", move.source, move.target)) or "event",
                       effects=(lambda s, a, subject, move, event: calls.append(("effect", move.action, event)),))
    thing = Thing()
    machine.apply(sess, ACTOR, thing, Action.CREATE)
    event = machine.apply(sess, ACTOR, thing, Action.SEND, detail={"reason": "齐全"})
    assert event == "event" and thing.status is Status.SENT
    assert calls[-2:] == [("timeline", Status.DRAFT, Status.SENT), ("effect", Action.SEND, "event")]
    rows = sess.scalars(select(AuditEvent).where(AuditEvent.object_type == "thing").order_by(AuditEvent.id)).all()
    assert [r.action for r in rows] == ["thing.create", "thing.send"]
    assert rows[-1].object_id == "7" and rows[-1].city_code == "340100"


def test_a_move_the_table_does_not_list_is_refused_with_the_areas_error(sess):
    thing = Thing()
    thing.status = Status.DONE
    with pytest.raises(Refused) as refused:
        _machine().apply(sess, ACTOR, thing, Action.SEND)
    assert "已办结" in refused.value.message and "提交" in refused.value.message
    assert thing.status is Status.DONE


def test_a_guard_refuses_before_anything_changes(sess):
    def only_province(actor, subject, action):
        if actor.role is not Role.PROVINCIAL:
            raise PermissionDenied("只有省级经办机构可以办理")

    thing = Thing()
    thing.status = Status.DRAFT
    with pytest.raises(PermissionDenied):
        _machine(guard=only_province).apply(sess, ACTOR, thing, Action.SEND)
    assert thing.status is Status.DRAFT
    assert sess.scalar(select(AuditEvent).where(AuditEvent.object_type == "thing")) is None
