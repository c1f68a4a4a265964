"""Property test of the project state machine: whatever the order of actions, a site is never
started before its premium is paid, and no action succeeds twice."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.errors import ConflictError
from portal.localtime import local_today
from portal.projects import service as projects
from portal.projects.models import Project, ProjectStatus
from tests.projects.conftest import enroll, pay_open_bills

ACTIONS = ("submit", "pay", "start", "complete")
#: the one legal move of each action: from → to
LEGAL = {"submit": ("draft", "awaiting_payment"), "pay": ("awaiting_payment", "covered"),
         "start": ("covered", "started"), "complete": ("started", "completed")}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=8))
def test_any_sequence_of_actions_follows_the_state_machine(actor_for, tx, sequence):
    employer = actor_for("employer")
    project_id = tx(lambda s: enroll(s, employer).id)
    today = local_today()
    run = {
        "submit": lambda s: projects.submit_project(s, employer, project_id),
        "pay": lambda s: pay_open_bills(s, project_id),
        "start": lambda s: projects.start_project(s, employer, project_id, started_on=today),
        "complete": lambda s: projects.complete_project(s, employer, project_id, completed_on=today),
    }
    state = "draft"
    for action in sequence:
        before, after = LEGAL[action]
        if action == "pay":  # paying when nothing is due changes nothing
            tx(run[action])
            state = after if state == before else state
        elif state == before:
            tx(run[action])
            state = after
        else:
            try:
                tx(run[action])
            except ConflictError as exc:
                if action == "start" and state in ("draft", "awaiting_payment"):
                    assert "先参保、后开工" in exc.message
            else:
                raise AssertionError(f"{action} succeeded in state {state}")
        project = tx(lambda s: s.get(Project, project_id))
        assert project.status is ProjectStatus(state)
        if project.status in (ProjectStatus.STARTED, ProjectStatus.COMPLETED):
            assert project.cover_start is not None
