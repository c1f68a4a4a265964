"""Two contractors enrolling in one city at once must not collide on the project code."""

# the inner module: its code allocation is patched
from portal.projects.service import projects
from tests.projects.conftest import enroll


def test_a_taken_code_is_retried_with_the_next_free_one(app, actor_for, tx, monkeypatch):
    employer = actor_for("employer")
    first = tx(lambda sess: enroll(sess, employer).code)
    real_next_code = projects._next_code
    calls = []

    def racing_next_code(sess, city_code, year):
        calls.append(1)
        # the first computation returns the code another contractor just took
        return first if len(calls) == 1 else real_next_code(sess, city_code, year)

    monkeypatch.setattr(projects, "_next_code", racing_next_code)
    second = tx(lambda sess: enroll(sess, employer).code)
    assert second != first and len(calls) == 2
    assert int(second[-5:]) == int(first[-5:]) + 1
