"""Who sees which recognition case (cases.visible_cases / load_case), on both databases."""

from datetime import date

import pytest

from portal.errors import NotFoundError
from portal.recognition.models import ApplicantKind, CaseStatus, RecognitionCase
from portal.recognition.service import load_case, may_see_medical, visible_cases
from portal.recognition.service.cases import next_document_number


def _ids(sess, actor):
    return {c.id for c in sess.execute(visible_cases(actor)).scalars()}


@pytest.fixture
def cases(sess, actor_for):
    # sign everyone in first: actor_for commits on its own connection
    for who in ("employer2", "officer", "clerk-wuhu", "province"):
        actor_for(who)
    worker, employer, relative = actor_for("worker"), actor_for("employer"), actor_for("relative")
    made = {}

    def add(name, **fields):
        case = RecognitionCase(**fields)
        sess.add(case)
        sess.flush()
        made[name] = case.id

    base = {"city_code": "340100", "worker_person_id": worker.person_id,
            "employer_organisation_id": employer.organisation_id, "event_date": date(2025, 9, 1)}
    add("worker_draft", status=CaseStatus.DRAFT, applicant_kind=ApplicantKind.WORKER,
        applicant_account_id=worker.account_id, applicant_person_id=worker.person_id, **base)
    add("employer_draft", status=CaseStatus.DRAFT, applicant_kind=ApplicantKind.EMPLOYER,
        applicant_account_id=employer.account_id, applicant_organisation_id=employer.organisation_id, **base)
    add("employer_filed", status=CaseStatus.SUBMITTED, applicant_kind=ApplicantKind.EMPLOYER,
        applicant_account_id=employer.account_id, applicant_organisation_id=employer.organisation_id, **base)
    add("relative_filed", status=CaseStatus.ACCEPTED, applicant_kind=ApplicantKind.RELATIVE,
        applicant_account_id=relative.account_id, applicant_person_id=relative.person_id,
        **{**base, "worker_person_id": None})
    add("wuhu_case", status=CaseStatus.SUBMITTED, applicant_kind=ApplicantKind.WORKER,
        applicant_account_id=worker.account_id, applicant_person_id=worker.person_id,
        **{**base, "city_code": "340200"})
    return made


def test_each_actor_sees_only_their_cases(sess, actor_for, cases):
    c = cases
    assert _ids(sess, actor_for("worker")) == {c["worker_draft"], c["employer_filed"], c["wuhu_case"]}
    assert _ids(sess, actor_for("relative")) == {c["relative_filed"]}
    assert _ids(sess, actor_for("employer")) == {c["employer_draft"], c["employer_filed"],
                                                 c["relative_filed"], c["wuhu_case"]}
    assert _ids(sess, actor_for("employer2")) == set()
    # staff: submitted cases of their city only; nobody but the applicant sees a draft
    assert _ids(sess, actor_for("officer")) == {c["employer_filed"], c["relative_filed"]}
    assert _ids(sess, actor_for("clerk-wuhu")) == {c["wuhu_case"]}
    assert _ids(sess, actor_for("province")) == {c["employer_filed"], c["relative_filed"], c["wuhu_case"]}


def test_a_case_outside_scope_is_not_found_rather_than_forbidden(sess, actor_for, cases):
    with pytest.raises(NotFoundError):
        load_case(sess, actor_for("employer2"), cases["employer_filed"])
    with pytest.raises(NotFoundError):
        load_case(sess, actor_for("officer"), cases["wuhu_case"])
    case = load_case(sess, actor_for("officer"), cases["employer_filed"], for_update=True)
    assert may_see_medical(actor_for("officer"), case)
    assert not may_see_medical(actor_for("employer"), case)


def test_document_numbers_run_per_city_year_and_kind(sess):
    assert next_document_number(sess, "340100", 2026, "decision") == "合肥人社工伤认字〔2026〕1号"
    assert next_document_number(sess, "340100", 2026, "decision") == "合肥人社工伤认字〔2026〕2号"
    assert next_document_number(sess, "340100", 2026, "acceptance") == "合肥人社工伤受字〔2026〕1号"
    assert next_document_number(sess, "340200", 2026, "decision") == "芜湖人社工伤认字〔2026〕1号"
    assert next_document_number(sess, "340100", 2027, "decision") == "合肥人社工伤认字〔2027〕1号"
