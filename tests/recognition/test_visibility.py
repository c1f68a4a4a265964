"""Who sees which recognition case (cases.visible_cases / load_case), and which of its files by
material kind (access.case_file_rule, ``visible_to`` in config/policy/material_kinds.toml), on
both databases."""

from datetime import date, datetime, timezone

import pytest

from portal.errors import NotFoundError
from portal.materials import kinds
from portal.materials import service as materials
from portal.materials.models import StoredFile
from portal.materials.uploads import files_dir as upload_dir
from portal.recognition import service as recognition
from portal.recognition.models import (
    ApplicantKind,
    CaseMaterial,
    CaseStatus,
    RecognitionCase,
)
from portal.recognition.service import load_case, may_see_medical, visible_cases
from portal.recognition.service.cases import next_document_number
from tests.recognition import factories
from tests.recognition.filing_fixtures import CAL, fill_draft

people, files_dir = factories.people, factories.files_dir


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



# --- who reads which file of a case, by its material kind ------------------------------------------

FILED_ON = date(2026, 4, 1)


def _files_by_kind(sess, case) -> dict[str, StoredFile]:
    return {m.kind: sess.get(StoredFile, m.stored_file_id)
            for m in sess.query(CaseMaterial).filter_by(case_id=case.id)}


def _file_case(sess, actor, directory, **draft):
    """A case filed through the services, one file per required slot; its files by kind."""
    case = fill_draft(sess, actor, files_dir=directory, today=FILED_ON, **draft)
    recognition.submit(sess, actor, case.id, today=FILED_ON, now=datetime(2026, 4, 1, 2, tzinfo=timezone.utc),
                       files_dir=directory, case_url="http://localhost/recognition/cases/1", calendar=CAL)
    files = _files_by_kind(sess, case)
    files["receipt"] = sess.get(StoredFile, case.receipt_file_id)
    return case, files


def _relative_death_case(sess, relative, directory):
    return _file_case(sess, relative, directory, kind="relative", died=True, death_date=FILED_ON)


def _reads(sess, actor, stored) -> bool:
    try:
        materials.readable_by_token(sess, actor, stored.token)
    except NotFoundError:
        return False
    return True


def test_the_employer_does_not_read_a_relatives_kinship_proof_or_the_death_certificate(sess, people, files_dir):
    case, files = _relative_death_case(sess, people.relative, files_dir)
    assert {"kinship_proof", "death_certificate", "labour_relation", "id_card", "medical_certificate"} <= set(files)
    assert case.worker_person_id == people.worker.person_id  # the worker is a party too
    for kind in ("kinship_proof", "death_certificate", "medical_certificate", "receipt"):
        assert not _reads(sess, people.employer, files[kind]), kind
    # what it must answer: the labour relation, and whom the case is about
    for kind in ("labour_relation", "id_card"):
        assert _reads(sess, people.employer, files[kind]), kind
    # the applicant (they uploaded or received it), the worker, the office: everything
    for who in (people.relative, people.worker, people.officer, people.province):
        for kind, stored in files.items():
            assert _reads(sess, who, stored), (who.role, kind)
    # strangers and the office of another city: nothing
    for who in (people.employer2, people.wuhu_officer):
        for kind, stored in files.items():
            assert not _reads(sess, who, stored), (who.role, kind)


def test_the_documents_the_office_issues_reach_every_party(sess, people, files_dir):
    case, _files = _relative_death_case(sess, people.relative, files_dir)
    recognition.accept_case(sess, people.officer, case.id, files_dir=files_dir, on=FILED_ON)
    letter = sess.get(StoredFile, case.acceptance_file_id)
    assert letter.kind == "decision"
    for who in (people.relative, people.worker, people.employer, people.officer):
        assert _reads(sess, who, letter), who.role
    assert not _reads(sess, people.employer2, letter)


def test_an_employer_reads_in_a_worker_filed_case_what_it_read_before(sess, people, files_dir):
    _case, files = _file_case(sess, people.worker, files_dir, kind="worker")
    for kind in ("labour_relation", "id_card"):
        assert _reads(sess, people.employer, files[kind]), kind
    for kind in ("medical_certificate", "receipt"):
        assert not _reads(sess, people.employer, files[kind]), kind


def test_an_employer_that_applies_reads_every_file_but_medical_ones(sess, people, files_dir):
    _case, files = _file_case(sess, people.employer, files_dir, kind="employer", died=True, death_date=FILED_ON)
    for kind in ("death_certificate", "labour_relation", "id_card", "receipt"):
        assert _reads(sess, people.employer, files[kind]), kind
    assert not _reads(sess, people.employer, files["medical_certificate"])
    assert _reads(sess, people.worker, files["death_certificate"])


def test_the_employer_cannot_read_the_kinship_proof_of_a_relatives_draft(sess, people, files_dir):
    case = fill_draft(sess, people.relative, kind="relative", files_dir=files_dir, today=FILED_ON, died=True,
                      death_date=FILED_ON)
    files = _files_by_kind(sess, case)
    # stored for the worker and the employer, yet not the employer's to read
    assert files["kinship_proof"].organisation_id == people.employer.organisation_id
    for kind in ("kinship_proof", "death_certificate"):
        assert not _reads(sess, people.employer, files[kind]), kind
        assert _reads(sess, people.relative, files[kind]), kind
    assert _reads(sess, people.employer, files["labour_relation"])


def test_the_download_route_refuses_the_employer_a_relatives_documents(app, login_as, actor_for):
    relative = actor_for("relative")
    for who in ("worker", "employer", "officer"):
        actor_for(who)  # signed in before the write below (SQLite: one writer)
    with app.test_request_context():
        directory = upload_dir()
    with app.extensions["portal.database"].write_transaction() as sess:
        _case, files = _relative_death_case(sess, relative, directory)
        tokens = {kind: stored.token for kind, stored in files.items()}

    def client(who):
        signed_in = app.test_client()
        login_as(signed_in, who)
        return signed_in

    employer, applicant, officer = client("employer"), client("relative"), client("recognition_officer")
    for kind in ("kinship_proof", "death_certificate"):
        assert employer.get(f"/files/{tokens[kind]}").status_code == 404, kind
        assert applicant.get(f"/files/{tokens[kind]}").status_code == 200, kind
        assert officer.get(f"/files/{tokens[kind]}").status_code == 200, kind
    assert employer.get(f"/files/{tokens['labour_relation']}").status_code == 200
    # the employer's case page does not link them; it counts what it may not see
    page = employer.get(f"/recognition/cases/{_case.id}").get_data(as_text=True)
    for kind in ("kinship_proof", "death_certificate"):
        assert tokens[kind] not in page, kind
    assert tokens["labour_relation"] in page and "按规定您不能查看" in page
    assert tokens["kinship_proof"] in applicant.get(f"/recognition/cases/{_case.id}").get_data(as_text=True)


# --- the policy data itself ------------------------------------------------------------------------


def test_every_kind_says_who_sees_it_and_why():
    configured = {k.code: k for k in materials.material_kinds()}
    for kind in configured.values():
        assert {"applicant", "office"} <= kind.visible_to, kind.code
        assert kind.visible_basis, kind.code
        assert not (kind.medical and "employer" in kind.visible_to), kind.code
    for code in ("kinship_proof", "death_certificate", "power_of_attorney", "receipt", "other", "supplement"):
        assert "employer" not in configured[code].visible_to, code
    for code in ("labour_relation", "accident_proof", "decision"):
        assert "employer" in configured[code].visible_to, code


@pytest.mark.parametrize(("medical", "entry", "message"), [
    ("false", 'visible_basis = "x"', "needs visible_to"),
    ("false", 'visible_to = ["applicant", "office", "neighbour"]\nvisible_basis = "x"', "unknown parties"),
    ("false", 'visible_to = ["worker", "employer"]\nvisible_basis = "x"', "always see"),
    ("false", 'visible_to = ["applicant", "office"]', "needs visible_basis"),
    ("true", 'visible_to = ["applicant", "employer", "office"]\nvisible_basis = "x"', "employers never see it"),
])
def test_the_loader_refuses_a_kind_without_a_sound_visibility(tmp_path, medical, entry, message):
    from portal import config

    path = tmp_path / "policy" / "material_kinds.toml"  # a province's own list of kinds
    path.parent.mkdir()
    path.write_text(f'[[kind]]\ncode = "x"\nlabel = "x"\nmedical = {medical}\n{entry}\n', encoding="utf-8")
    previous = config.use_config_dir(tmp_path)
    try:
        with pytest.raises(ValueError, match=message):
            kinds.material_kinds()
    finally:
        config.use_config_dir(previous)
