"""Property tests of the recognition procedure (both databases): random sequences of actions by
random actors, run through the REAL services (the office's ``handling``, the applicant's
``recognition.supply`` / ``withdraw``), each step in its own savepoint as a request would be in its
own transaction. After every step:

  - the status is exactly what the transition table predicts (a refused step changes nothing);
  - no status outside TRANSITIONS is ever reached;
  - one-time steps happen at most once (submit exactly once; supplement request, acceptance,
    refusal, decision, service, withdrawal at most once);
  - a closed case accepts nothing;
  - the timeline's (from, to) pairs form a valid path from draft through TRANSITIONS.

Example counts are modest for CI speed (every accepted step renders a PDF).
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import event as note_event
from hypothesis import strategies as st
from sqlalchemy import select

from portal.errors import DomainError
from portal.recognition import service as recognition
from portal.recognition.models import CaseAction as A
from portal.recognition.models import CaseEvent, CaseStatus, RecognitionCase
from portal.recognition.service import TRANSITIONS
from tests.recognition import factories
from tests.recognition.factories import submitted_case, supply_everything

#: fixtures shared by the recognition tests
people, files_dir = factories.people, factories.files_dir

OFFICE_STEPS = ["request_supplement", "accept", "refuse", "suspend", "resume", "decide", "serve", "note"]
APPLICANT_STEPS = ["supply", "withdraw"]
ALL_STEPS = OFFICE_STEPS + APPLICANT_STEPS
#: who tries: the case's applicant (the employer), the injured worker (a party, not the
#: applicant), the Hefei officer, provincial staff, Wuhu's officer, another employer
ACTORS = ["applicant", "worker", "officer", "officer", "province", "wuhu", "employer2"]
ONCE = {"submit": 1, "request_supplement": 1, "accept": 1, "refuse": 1, "decide": 1, "serve": 1, "withdraw": 1}
REACHABLE = set(TRANSITIONS.values()) | {CaseStatus.DRAFT}


def _actor(people, key):
    return {"applicant": people.employer, "worker": people.worker, "officer": people.officer,
            "province": people.province, "wuhu": people.wuhu_officer, "employer2": people.employer2}[key]


def _predict(status: CaseStatus, supplement_requested: bool, step: str, actor_key: str) -> CaseStatus | None:
    """The status after ``step`` by ``actor_key``, or None when it must be refused."""
    office = actor_key in ("officer", "province")
    if step == "note":
        return status if office and status in (CaseStatus.ACCEPTED, CaseStatus.SUSPENDED) else None
    action = A(step)
    target = TRANSITIONS.get((status, action))
    if target is None or (action is A.REQUEST_SUPPLEMENT and supplement_requested):
        return None
    if action in recognition.APPLICANT_ACTIONS:
        return target if actor_key == "applicant" else None
    return target if office else None


def _run(sess, people, files_dir, case_id: int, step: str, actor_key: str, on: date) -> None:
    actor = _actor(people, actor_key)
    match step:
        case "request_supplement":
            recognition.request_supplement(sess, actor, case_id, files_dir=files_dir, on=on, items=[
                recognition.SupplementRequest("labour_relation", "请提供劳动合同")])
        case "accept":
            recognition.accept_case(sess, actor, case_id, files_dir=files_dir, on=on)
        case "refuse":
            recognition.refuse_case(sess, actor, case_id, reasons="不属于本部门管辖", files_dir=files_dir, on=on)
        case "suspend":
            recognition.suspend_case(sess, actor, case_id, reason="待仲裁裁决", files_dir=files_dir, on=on)
        case "resume":
            recognition.resume_case(sess, actor, case_id, note="仲裁裁决书已生效", on=on)
        case "decide":
            recognition.decide_case(sess, actor, case_id, outcome="recognised", ground_code="r14_1",
                                    reasoning="因工作原因受到事故伤害。", files_dir=files_dir, on=on)
        case "serve":
            recognition.serve_case(sess, actor, case_id, on=on)
        case "note":
            recognition.add_note(sess, actor, case_id, kind="note", text="调查记录")
        case "supply":
            case = sess.get(RecognitionCase, case_id)
            if actor_key == "applicant" and case.status is CaseStatus.AWAITING_SUPPLEMENT:
                supply_everything(sess, people, case, files_dir, on=on)
            else:
                from datetime import datetime, timezone

                recognition.supply(sess, actor, case_id, today=on, now=datetime.now(timezone.utc))
        case "withdraw":
            recognition.withdraw(sess, actor, case_id, reason=None, today=on)


def _check_timeline(sess, case_id: int) -> list[CaseEvent]:
    events = list(sess.execute(select(CaseEvent).where(CaseEvent.case_id == case_id)
                               .order_by(CaseEvent.id)).scalars())
    current = CaseStatus.DRAFT
    for event in events:
        assert event.from_status == current.value, (event.action, event.from_status, current)
        target = TRANSITIONS.get((current, A(event.action)))
        assert target is not None and event.to_status == target.value, (event.action, current)
        current = target
    counts: dict[str, int] = {}
    for event in events:
        counts[event.action] = counts.get(event.action, 0) + 1
    for action, most in ONCE.items():
        assert counts.get(action, 0) <= most, (action, counts)
    assert counts["submit"] == 1
    return events


def _property(sess, people, files_dir, data) -> None:
    start = date(2025, 9, 1)
    case = submitted_case(sess, people, received_on=start)
    case_id = case.id
    status, requested = CaseStatus.SUBMITTED, False
    for n in range(data.draw(st.integers(min_value=1, max_value=10), label="steps")):
        # terminal refusals and withdrawals come from the "anything" pool only, or few runs get deep
        legal = [a.value for (s, a) in TRANSITIONS if s is status and a not in (A.WITHDRAW, A.REFUSE)] + ["note"]
        # mostly a legal step by someone entitled to it (so runs get deep), sometimes anything
        pool = legal if data.draw(st.sampled_from([True, True, True, False]), label="legal?") else ALL_STEPS
        step = data.draw(st.sampled_from(pool), label="step")
        if data.draw(st.sampled_from([True, True, True, False]), label="entitled?"):
            entitled = ["applicant"] if step in APPLICANT_STEPS else ["officer", "province"]
            actor_key = data.draw(st.sampled_from(entitled), label="actor")
        else:
            actor_key = data.draw(st.sampled_from(ACTORS), label="actor")
        expected = _predict(status, requested, step, actor_key)
        before = len(_check_timeline(sess, case_id))
        refused = None
        try:
            with sess.begin_nested():
                _run(sess, people, files_dir, case_id, step, actor_key, start + timedelta(days=n + 1))
        except DomainError as exc:
            refused = exc
        sess.expire_all()
        now = sess.execute(select(RecognitionCase.status, RecognitionCase.supplement_requested)
                           .where(RecognitionCase.id == case_id)).one()
        events = _check_timeline(sess, case_id)
        assert now.status in REACHABLE
        if expected is None:
            assert refused is not None, f"{step} by {actor_key} in {status} should be refused"
            assert now.status is status and len(events) == before
        else:
            assert refused is None, f"{step} by {actor_key} in {status} refused: {refused.message}"
            assert now.status is expected
            assert len(events) == before + (0 if step == "note" else 1)
        if status.is_closed:
            assert refused is not None and now.status is status
        status, requested = now.status, now.supplement_requested
    note_event(f"ended {status.value}")  # --hypothesis-show-statistics: how deep the runs went


def test_random_action_sequences_follow_the_transition_table(sess, people, files_dir):
    examples = 30 if sess.get_bind().dialect.name == "sqlite" else 12

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(data=st.data())
    def run(data):
        _property(sess, people, files_dir, data)

    run()


def test_every_status_the_table_names_is_a_known_status_and_closed_ones_lead_nowhere():
    for (source, _action), target in TRANSITIONS.items():
        assert isinstance(source, CaseStatus) and isinstance(target, CaseStatus)
        assert not source.is_closed
    for status in CaseStatus:
        if status.is_closed:
            assert recognition.allowed_actions(status) == []
