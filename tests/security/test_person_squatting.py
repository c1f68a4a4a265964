"""Issue 12 point 3: no squatting on a person's ID number.

Any account typing an ID number with a false name used to create the one shared person record,
after which the real employer's enrollment and site registration of the worker were refused
("姓名与该身份证号码已登记的姓名不一致"), a message that also told a stranger whether the number was
registered and whether a guessed name matched. Now a typed record stays unconfirmed and local to
its typing scope; the worker's verified sign-in confirms and links; a different name goes to the
clerks' work list (姓名不一致待核实).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal import migrate
from portal.accounts import service as accounts
from portal.accounts.models import Person
from portal.audit.models import AuditEvent
from portal.enrollment import service as enrollment
from portal.enrollment.models import UnitMember
from portal.inbox.models import InboxMessage
from portal.localtime import local_today
from portal.projects import service as projects
from portal.projects.models import RosterEntry
from portal.projects.service import WorkerInput
from portal.recognition import service as recognition
from portal.recognition.models import RecognitionCase
from tests.conftest import _postgres_base_url, _with_search_path, sign_in_up_front
from tests.enrollment.conftest import UNIT_FIELDS, make_id
from tests.frontend.test_pages import check_page
from tests.projects.conftest import enroll as enroll_project
from tests.projects.conftest import pay_open_bills

REAL_ID = "340104199003071235"  #: 张伟, the demo worker: not signed in until a test says so
RELATIVE_ID = "340202198506124528"  #: 李秀英, the demo relative
UNIT_B = dict(UNIT_FIELDS, uscc="91340100MA2N0E5F43", name="合肥明远机械制造有限公司", contact_name="赵丽")


@pytest.fixture
def staff(actor_for):
    return sign_in_up_front(actor_for, "employer", "employer2", "clerk", "clerk-wuhu", "provincial")


def _approved_unit(sess, actor, clerk, fields):
    unit = enrollment.save_unit(sess, actor, **fields)
    enrollment.submit_unit(sess, actor)
    enrollment.approve_unit(sess, clerk, unit.id, risk_class=unit.risk_class or 5, band="1.0",
                            effective_date=date(2026, 1, 1))
    return unit.id


def _add_member(sess, actor, name, id_number):
    member, _ = enrollment.add_member(sess, actor, name=name, id_number=id_number, phone="", wage_base="8000",
                                      start_date=local_today(), insurance_type="regular")
    return member.id


def _covered_project(sess, employer):
    project = enroll_project(sess, employer)
    projects.submit_project(sess, employer, project.id)
    pay_open_bills(sess, project.id)
    return project.id


def _worker(name, id_number):
    return WorkerInput(name=name, id_number=id_number, phone="", trade="钢筋工", team=None,
                       entry_date=local_today().isoformat(), row_number=None)


def test_a_squatter_blocks_nobody_and_the_workers_sign_in_sorts_it_out(app, tx, staff):
    employer_a, employer_b = staff("employer"), staff("employer2")
    clerk, clerk_wuhu, province = staff("clerk"), staff("clerk-wuhu"), staff("provincial")

    # B types the real worker's ID number with a false name: in its member list and a recognition draft
    tx(lambda s: _approved_unit(s, employer_b, clerk, UNIT_B))
    b_member = tx(lambda s: _add_member(s, employer_b, "张三", REAL_ID))
    case_id = tx(lambda s: recognition.create_draft(s, employer_b, applicant_kind="employer").id)
    tx(lambda s: recognition.save_worker(s, employer_b, case_id, name="张三", id_number=REAL_ID,
                                         today=local_today()))

    # the real employer A enrolls the worker and registers them on its site: both succeed, true name
    tx(lambda s: _approved_unit(s, employer_a, clerk, UNIT_FIELDS))
    a_member = tx(lambda s: _add_member(s, employer_a, "张伟", REAL_ID))
    project_id = tx(lambda s: _covered_project(s, employer_a))
    entry_id = tx(lambda s: projects.add_worker(s, employer_a, project_id, _worker("张伟", REAL_ID)).id)

    def persons_of(s):
        return {m: s.get(UnitMember, m).person for m in (a_member, b_member)}

    before = tx(lambda s: {k: (p.id, p.name, p.confirmed) for k, p in persons_of(s).items()})
    assert before[a_member][1:] == ("张伟", False) and before[b_member][1:] == ("张三", False)
    assert before[a_member][0] != before[b_member][0]  # each typing scope has its own record

    # the worker's verified sign-in confirms: A's same-name record is linked, B's waits for a clerk
    worker = staff("worker")

    def after(s):
        confirmed = s.get(Person, worker.person_id)
        b_person = s.get(UnitMember, b_member).person
        return (confirmed.confirmed, confirmed.name, s.get(UnitMember, a_member).person_id,
                s.get(RosterEntry, entry_id).person_id, b_person.id, b_person.confirmed,
                s.get(RecognitionCase, case_id).worker_person_id, s.get(Person, before[a_member][0]))

    ok, name, a_person, roster_person, b_person, b_confirmed, case_worker, retired = tx(after)
    assert ok and name == "张伟"
    assert a_person == roster_person == worker.person_id
    assert retired is None  # the unconfirmed record was retired after re-pointing
    assert b_person != worker.person_id and not b_confirmed and case_worker == b_person

    # the mismatch is on the work list of the clerks of B's city, and the province's
    page = tx(lambda s: accounts.read_name_mismatches(s, clerk))
    assert page.total == 1
    row = page.rows[0]
    assert (row.typed_name, row.real_name, row.person_id) == ("张三", "张伟", b_person)
    assert row.id_number_masked == REAL_ID[:6] + "*" * 8 + REAL_ID[-4:]
    assert UNIT_B["name"] in row.typed_in and row.city == "合肥市"
    assert tx(lambda s: accounts.read_name_mismatches(s, province)).total == 1
    assert tx(lambda s: accounts.read_name_mismatches(s, clerk_wuhu)).total == 0

    with app.extensions["portal.database"].read_session() as s:
        events = s.execute(select(AuditEvent).where(AuditEvent.action.in_(
            ["person.link", "person.name_mismatch_found"]))).scalars().all()
        assert {e.action for e in events} == {"person.link", "person.name_mismatch_found"}
        assert all(REAL_ID not in json.dumps(e.detail or {}) for e in events)


def _flash(response) -> str:
    found = re.findall(r'<p class="flash[^"]*">(.*?)</p>', response.get_data(as_text=True), re.S)
    return " ".join(found)


def test_answers_do_not_tell_whether_a_number_or_a_name_is_registered(app, tx, staff, login_as, csrf_token):
    clerk, employer_b = staff("clerk"), staff("employer2")
    staff("worker"), staff("relative")  # 张伟 and 李秀英 have confirmed records
    tx(lambda s: _approved_unit(s, employer_b, clerk, UNIT_B))
    client = app.test_client()
    login_as(client, "employer2")
    unknown = make_id(seq=611)
    tries = {"not registered": ("张三", unknown), "registered, wrong name": ("张三", REAL_ID),
             "registered, right name": ("李秀英", RELATIVE_ID)}

    answers = {}
    for label, (name, number) in tries.items():
        response = client.post("/enrollment/members/new", data={
            "csrf_token": csrf_token(client), "name": name, "id_number": number, "phone": "",
            "wage_base": "8000", "start_date": local_today().isoformat(), "insurance_type": "regular"})
        shown = client.get(response.headers.get("Location", "/")) if response.status_code == 303 else response
        answers[label] = (response.status_code, response.headers.get("Location"),
                          _flash(shown).replace(name, "NAME"))
    assert answers["not registered"] == answers["registered, wrong name"] == answers["registered, right name"]
    assert answers["not registered"][0] == 303, answers

    steps = {}
    for label, (name, number) in tries.items():
        case_id = tx(lambda s: recognition.create_draft(s, employer_b, applicant_kind="employer").id)
        response = client.post(f"/recognition/cases/{case_id}/file/worker", data={
            "csrf_token": csrf_token(client), "member_id": "", "name": name, "id_number": number})
        shown = client.get(response.headers["Location"]) if response.status_code == 303 else response
        steps[label] = (response.status_code, (response.headers.get("Location") or "").replace(str(case_id), "N"),
                        _flash(shown))
    assert steps["not registered"] == steps["registered, wrong name"] == steps["registered, right name"]
    assert steps["not registered"][0] == 303, steps


def test_clerk_links_or_keeps_separate_and_the_typist_is_asked_to_check(app, tx, staff, login_as, csrf_token):
    employer_a, employer_b, clerk = staff("employer"), staff("employer2"), staff("clerk")
    tx(lambda s: _approved_unit(s, employer_a, clerk, UNIT_FIELDS))
    tx(lambda s: _approved_unit(s, employer_b, clerk, UNIT_B))
    a_member = tx(lambda s: _add_member(s, employer_a, "张卫", REAL_ID))  # a typo
    b_member = tx(lambda s: _add_member(s, employer_b, "张三", REAL_ID))
    worker = staff("worker")
    page = tx(lambda s: accounts.read_name_mismatches(s, clerk))
    by_name = {r.typed_name: r.person_id for r in page.rows}
    assert set(by_name) == {"张卫", "张三"}

    wuhu = app.test_client()
    login_as(wuhu, "clerk-wuhu")  # another city's clerk: not theirs
    assert wuhu.post(f"/staff/name-mismatches/{by_name['张卫']}/link",
                     data={"csrf_token": csrf_token(wuhu)}).status_code == 404

    hefei = app.test_client()
    login_as(hefei, "clerk")
    listing = hefei.get("/staff/name-mismatches")
    assert listing.status_code == 200 and check_page(listing).h1 == ["姓名不一致待核实"]
    assert REAL_ID not in listing.get_data(as_text=True)
    assert hefei.post(f"/staff/name-mismatches/{by_name['张卫']}/link",
                      data={"csrf_token": csrf_token(hefei)}).status_code == 303
    kept = hefei.post(f"/staff/name-mismatches/{by_name['张三']}/separate", data={"csrf_token": csrf_token(hefei)})
    assert kept.status_code == 303
    assert "不是同一人" in _flash(hefei.get(kept.headers["Location"])), _flash(hefei.get("/staff/name-mismatches"))
    assert hefei.post(f"/staff/name-mismatches/{by_name['张三']}/link",
                      data={"csrf_token": csrf_token(hefei)}).status_code == 404  # closed

    def check(s):
        a = s.get(UnitMember, a_member).person
        b = s.get(UnitMember, b_member).person
        message = s.execute(select(InboxMessage).where(  # (the unit's approval notice is another message)
            InboxMessage.recipient_organisation_id == employer_b.organisation_id,
            InboxMessage.dedupe_key.like("accounts:person:%:check_id_number"))).scalar_one()
        return a.id, a.name, b.id, b.kept_separate, message.subject, message.body

    a_person, a_name, b_person, separate, subject, body = tx(check)
    assert a_person == worker.person_id and a_name == "张伟"  # typed name replaced by the real name
    assert b_person != worker.person_id and separate
    assert "核对" in subject and REAL_ID not in body and "张三" in body
    assert tx(lambda s: accounts.read_name_mismatches(s, clerk)).total == 0


def test_one_confirmed_record_per_number_and_one_unconfirmed_per_scope(db):
    digest = accounts.id_number_hash(REAL_ID)

    def add(**fields):
        with db.begin_nested():
            db.add(Person(name="张伟", id_number=REAL_ID, id_number_hash=digest, **fields))
            db.flush()

    add(confirmed=True)
    add(scope="organisation:1")
    add(scope="organisation:2")
    for fields in ({"confirmed": True}, {"scope": "organisation:1"}):
        with pytest.raises(IntegrityError):
            add(**fields)
    assert accounts.find_person_by_id_number(db, REAL_ID).confirmed


def test_every_reference_to_a_person_is_found_in_the_metadata():
    from portal.accounts.service.typed import _person_references

    found = {f"{t.name}.{c.name}" for t, c in _person_references()}
    assert {"account.person_id", "unit_member.person_id", "roster_entry.person_id", "stored_file.person_id",
            "recognition_case.worker_person_id", "recognition_case.applicant_person_id",
            "inbox_message.recipient_person_id"} <= found


def _migration_urls(tmp_path):
    yield f"sqlite:///{tmp_path / 'm.db'}", None
    base = _postgres_base_url()
    if base is not None:
        schema = f"squat_{uuid.uuid4().hex[:8]}"
        yield _with_search_path(base, schema), (base, schema)


def test_migration_confirms_signed_in_persons_and_keeps_others_as_legacy(tmp_path):
    for url, pg in _migration_urls(tmp_path):
        admin = sa.create_engine(pg[0]) if pg else None
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{pg[1]}"'))
        try:
            migrate.upgrade(url, "f6a500000005")
            engine = sa.create_engine(url)
            with engine.begin() as conn:
                for pid, digest in ((1, "a" * 64), (2, "b" * 64)):
                    conn.execute(sa.text(
                        "INSERT INTO person (id, name, id_number, id_number_hash, created_at, updated_at) "
                        "VALUES (:id, '某人', 'x', :h, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"id": pid, "h": digest})
                conn.execute(sa.text(
                    "INSERT INTO account (id, subject, kind, display_name, person_id, created_at) "
                    "VALUES (1, 'np-x', 'person', '某人', 1, CURRENT_TIMESTAMP)"))
            migrate.upgrade(url)
            with engine.begin() as conn:  # after: another scope's record of the same number
                conn.execute(sa.text(
                    "INSERT INTO person (id, name, id_number, id_number_hash, created_at, updated_at, scope) "
                    "VALUES (3, '别人', 'x', :h, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'organisation:9')"),
                    {"h": "a" * 64})
            with engine.connect() as conn:
                rows = dict(conn.execute(sa.text("SELECT id, confirmed FROM person")).all())
                scopes = dict(conn.execute(sa.text("SELECT id, scope FROM person")).all())
            assert bool(rows[1]) and not bool(rows[2]) and scopes == {1: None, 2: "legacy", 3: "organisation:9"}
            migrate.downgrade(url, "f6a500000005")
            with engine.connect() as conn:
                assert conn.execute(sa.text("SELECT count(*) FROM person")).scalar_one() == 2
            engine.dispose()
        finally:
            if admin is not None:
                with admin.begin() as conn:
                    conn.execute(sa.text(f'DROP SCHEMA "{pg[1]}" CASCADE'))
                admin.dispose()
