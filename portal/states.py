"""One idiom for every state machine (状态机): a transition table and one ``apply()``.

An area declares its machine once, beside its models::

    UNIT_STATES = StateMachine(
        name="enrollment",                       # audit actions "enrollment.<action>"
        object_type="enrolled_unit",
        transitions={(None, A.CREATE): S.DRAFT, (S.DRAFT, A.SUBMIT): S.SUBMITTED, ...},
        illegal=IllegalUnitTransition,           # a ConflictError with the area's code
        timeline=_timeline_event,                # writes the area's event row (optional)
        effects=(_report_to_platform, _notify),  # outbox and inbox, same transaction (optional)
    )

and changes a status only through ``UNIT_STATES.apply(sess, actor, unit, A.SUBMIT)``, which

1. refuses a move the table does not list (no step skipped, none done twice) and any extra
   ``guard`` the area gives (who may act, a one-time action done already);
2. sets the status;
3. writes the timeline event, the audit row and the effects (outbox messages, inbox messages),
   all in the caller's transaction, so they commit or roll back with the change.

Callers lock the row first when two clicks could race (``with_for_update``). A test enumerates
every machine (``tests/core/test_state_machines.py``): each status reachable, each action audited.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Mapping, TypeVar

from sqlalchemy.orm import Session

from portal.audit import service as audit
from portal.auth.roles import Actor
from portal.errors import ConflictError

S = TypeVar("S", bound=enum.Enum)
A = TypeVar("A", bound=enum.Enum)


class IllegalTransition(ConflictError):
    code = "illegal_transition"


@dataclass(frozen=True)
class Transition(Generic[S, A]):
    """One move, as the timeline, the audit row and the effects see it."""

    action: A
    source: S | None
    target: S
    note: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


#: ``guard(actor, subject, action)`` raises a domain error to refuse a move the table allows.
Guard = Callable[[Actor, Any, Any], None]
#: ``timeline(sess, actor, subject, transition)`` adds the area's event row and returns it.
Timeline = Callable[[Session, Actor, Any, Transition], Any]
#: ``effect(sess, actor, subject, transition, event)``: an outbox or inbox message, a date …
Effect = Callable[[Session, Actor, Any, Transition, Any], None]


def _label(value: enum.Enum | None) -> str:
    if value is None:
        return "尚未登记"
    return getattr(value, "label", None) or str(value.value)


@dataclass(frozen=True)
class StateMachine(Generic[S, A]):
    #: prefix of the audit actions: ``<name>.<action>``
    name: str
    #: the audited object's type (``audit_event.object_type``)
    object_type: str
    #: (from, action) → to; ``None`` as "from" is the creation of the subject
    transitions: Mapping[tuple[S | None, A], S]
    #: the ConflictError subclass raised for a move the table does not list
    illegal: type[ConflictError] = IllegalTransition
    guard: Guard | None = None
    timeline: Timeline | None = None
    effects: tuple[Effect, ...] = ()
    #: the subject attribute holding the status
    attribute: str = "status"
    #: the audit action of a move (``{name}``, ``{action}``), kept stable for the audit browser
    audit_action: str = "{name}.{action}"
    #: where a subject created outside the table starts, when some move also leads back there
    starts_at: frozenset[S] = frozenset()

    # --- the table ------------------------------------------------------------------------------

    @property
    def statuses(self) -> set[S]:
        found: set[S] = set()
        for (source, _), target in self.transitions.items():
            found.add(target)
            if source is not None:
                found.add(source)
        return found

    @property
    def actions(self) -> set[A]:
        return {action for (_, action) in self.transitions}

    @property
    def initial(self) -> set[S]:
        """Where a subject starts: the targets of a creation, or the sources nothing leads to."""
        created = {target for (source, _), target in self.transitions.items() if source is None}
        if created or self.starts_at:
            return created | set(self.starts_at)
        targets = set(self.transitions.values())
        return {source for (source, _) in self.transitions if source is not None and source not in targets}

    def reachable(self) -> set[S]:
        """Every status a subject can reach from where it starts."""
        seen = set(self.initial)
        queue = deque(seen)
        while queue:
            current = queue.popleft()
            for (source, _), target in self.transitions.items():
                if source is current and target not in seen:
                    seen.add(target)
                    queue.append(target)
        return seen

    def allowed_actions(self, status: S | None) -> list[A]:
        return [action for (source, action) in self.transitions if source is status]

    def allows(self, status: S | None, action: A) -> bool:
        return (status, action) in self.transitions

    def next_status(self, current: S | None, action: A) -> S:
        """The status ``action`` leads to, or the area's illegal-transition error with the reason."""
        target = self.transitions.get((current, action))
        if target is None:
            raise self.illegal(f"当前状态为“{_label(current)}”，不能办理“{_label(action)}”")
        return target

    def audit_action_of(self, action: A) -> str:
        return self.audit_action.format(name=self.name, action=action.value)

    # --- the one place a status changes --------------------------------------------------------

    def apply(self, sess: Session, actor: Actor, subject: Any, action: A, *, note: str | None = None,
              detail: Mapping[str, Any] | None = None, audit_detail: Mapping[str, Any] | None = None,
              object_id: Any = None, city_code: str | None = None) -> Any:
        """Move ``subject`` by ``action``: check, set the status, write the timeline event, the
        audit row and the effects in ``sess``'s transaction. Returns the timeline event (or None
        when the machine keeps no timeline).

        ``detail`` goes to the timeline and the effects; ``audit_detail`` (default: ``detail``)
        to the audit row, which always has "from" and "to"."""
        source = getattr(subject, self.attribute)
        target = self.next_status(source, action)
        if self.guard is not None:
            self.guard(actor, subject, action)
        setattr(subject, self.attribute, target)
        move = Transition(action, source, target, note, dict(detail or {}))
        event = self.timeline(sess, actor, subject, move) if self.timeline is not None else None
        sess.flush()
        audited = dict(detail or {}) if audit_detail is None else dict(audit_detail)
        audit.record(sess, actor, self.audit_action_of(action), object_type=self.object_type,
                     object_id=str(object_id if object_id is not None else subject.id),
                     city_code=city_code if city_code is not None else getattr(subject, "city_code", None),
                     detail={"from": source.value if source is not None else None, "to": target.value,
                             **audited})
        for effect in self.effects:
            effect(sess, actor, subject, move, event)
        return event
