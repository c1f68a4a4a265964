"""Factories for recognition tests (both sides use them).

``submitted_case(sess, people, ...)`` makes a case as a submitted filing would leave it — the
applicant's rows, then ``states.apply(SUBMIT)`` as the applicant — without the upload steps, so
office-side tests start from 待审查材料 in milliseconds. ``office_actor(...)`` builds the
recognition officer of another city (the demo register has only Hefei's).

Import the fixtures into a test module with ``from tests.recognition.factories import people``
(and ``files_dir``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from portal.auth.roles import Actor, Role
from portal.recognition import service as recognition
from portal.recognition.models import (
    ApplicantKind,
    CaseAction,
    EventKind,
    RecognitionCase,
)
from portal.recognition.service import cases as case_repo
from portal.recognition.service import states

HEFEI, WUHU = "340100", "340200"


@dataclass(frozen=True)
class People:
    worker: Actor
    relative: Actor
    employer: Actor
    employer2: Actor
    officer: Actor
    province: Actor
    clerk_wuhu: Actor

    @property
    def wuhu_officer(self) -> Actor:
        return office_actor(self.clerk_wuhu.account_id, WUHU)


def office_actor(account_id: int | None, city_code: str) -> Actor:
    """A recognition officer of ``city_code`` (acting through an existing account row)."""
    from portal.regions import city_name

    return Actor(role=Role.RECOGNITION_OFFICER, account_id=account_id, display_name="测试认定员",
                 city_code=city_code, office=f"{city_name(city_code)}人力资源和社会保障局 工伤保险处")


@pytest.fixture
def people(actor_for) -> People:
    """Every demo login signed in BEFORE the test's own session writes (SQLite: one writer)."""
    return People(worker=actor_for("worker"), relative=actor_for("relative"), employer=actor_for("employer"),
                  employer2=actor_for("employer2"), officer=actor_for("officer"),
                  province=actor_for("province"), clerk_wuhu=actor_for("clerk-wuhu"))


@pytest.fixture
def files_dir(tmp_path) -> Path:
    path = tmp_path / "files"
    path.mkdir(exist_ok=True)
    return path


def submitted_case(sess, people: People, *, applicant: str = "employer", city_code: str = HEFEI,
                   received_on: date = date(2025, 9, 15), event_date: date | None = None,
                   injury: str = "左手食指近节指骨骨折", late: bool = False,
                   late_reason: str | None = None) -> RecognitionCase:
    """A case in status submitted, filed by the employer (default), the worker or a relative."""
    fields = dict(city_code=city_code, county_code=city_code[:4] + "04", worker_person_id=people.worker.person_id,
                  employer_organisation_id=people.employer.organisation_id, event_kind=EventKind.ACCIDENT,
                  event_date=event_date or received_on - timedelta(days=5), event_time="09:30", event_place="合肥市蜀山区某工地3号楼",
                  event_account="在脚手架上搬运钢管时被滑落的钢管砸伤左手。", injury=injury, late=late,
                  late_reason=late_reason)
    if applicant == "employer":
        who = people.employer
        fields.update(applicant_kind=ApplicantKind.EMPLOYER, applicant_organisation_id=who.organisation_id)
    elif applicant == "worker":
        who = people.worker
        fields.update(applicant_kind=ApplicantKind.WORKER, applicant_person_id=who.person_id)
    elif applicant == "relative":
        who = people.relative
        fields.update(applicant_kind=ApplicantKind.RELATIVE, applicant_person_id=who.person_id,
                      relation="spouse")
    else:  # pragma: no cover - a typo in a test
        raise ValueError(applicant)
    case = RecognitionCase(applicant_account_id=who.account_id, **fields)
    sess.add(case)
    sess.flush()
    case.received_on = received_on
    case.submitted_at = datetime(received_on.year, received_on.month, received_on.day, 2, 0, tzinfo=timezone.utc)
    case_repo.assign_reference(case, received_on.year)
    sess.flush()
    states.apply(sess, who, case, CaseAction.SUBMIT, on=received_on, note="申请人在线提交工伤认定申请。")
    return case


def accepted_case(sess, people: People, files_dir: Path, *, received_on: date = date(2025, 9, 15),
                  accepted_on: date | None = None, simplified: bool = False, **kwargs) -> RecognitionCase:
    case = submitted_case(sess, people, received_on=received_on, **kwargs)
    return recognition.accept_case(sess, people.officer, case.id, simplified=simplified,
                                   simplified_reason="事实清楚、权利义务明确" if simplified else None,
                                   files_dir=files_dir, on=accepted_on or received_on)


def decided_case(sess, people: People, files_dir: Path, *, on: date = date(2025, 9, 20), **kwargs) -> RecognitionCase:
    case = accepted_case(sess, people, files_dir, **kwargs)
    return recognition.decide_case(sess, people.officer, case.id, outcome="recognised", ground_code="r14_1",
                                   reasoning="经调查核实，该职工在工作时间和工作场所内因工作原因受到事故伤害。",
                                   files_dir=files_dir, on=on)


def supply_everything(sess, people: People, case: RecognitionCase, files_dir: Path, *, on: date) -> RecognitionCase:
    """The applicant uploads a file for every item of the supplement list and sends it
    (the applicant side's real services)."""
    from sqlalchemy import select

    from portal.recognition.models import SupplementItem
    from tests.materials import samples

    who = {"employer": people.employer, "worker": people.worker, "relative": people.relative}[case.applicant_kind.value]
    items = sess.execute(select(SupplementItem).where(SupplementItem.case_id == case.id)).scalars().all()
    for item in items:
        recognition.upload_supplement(sess, who, case.id, item.id, data=samples.pdf(), filename="补正.pdf",
                                      files_dir=files_dir)
    return recognition.supply(sess, who, case.id, today=on,
                              now=datetime(on.year, on.month, on.day, 3, 0, tzinfo=timezone.utc))
