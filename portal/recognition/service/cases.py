"""Finding recognition cases within what an actor may see, locking one for a change, naming the
office that handles it, and numbering its documents.

Who sees what (shared across every page, list and download):
  - the applicant's account sees its drafts; nobody else sees a draft;
  - a worker (or relative) sees submitted cases where they are the injured worker or the applicant;
  - an employer sees submitted cases of its own workers (and its own drafts), never medical details;
  - recognition officers and other city staff see submitted cases of their city; provincial staff all.
"""

from __future__ import annotations

from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.auth.roles import Actor, Role
from portal.errors import NotFoundError
from portal.materials import service as materials
from portal.recognition.models import CaseStatus, DocumentCounter, RecognitionCase
from portal.recognition.service.policy import applicant_role
from portal.regions import city_name, province

#: who handles cases: the recognition officers of a city and provincial staff
OFFICE_ROLES = frozenset({Role.RECOGNITION_OFFICER, Role.PROVINCIAL})
#: the code of the area's field messages (``portal.errors.InvalidFields``)
INVALID_FIELDS = "recognition_invalid_fields"


class CaseNotFound(NotFoundError):
    code = "recognition_case_not_found"


def visible_cases(actor: Actor) -> Select:
    """``select(RecognitionCase)`` limited to what ``actor`` may see."""
    q = select(RecognitionCase)
    own_draft = RecognitionCase.applicant_account_id == (actor.account_id or -1)
    submitted = RecognitionCase.status != CaseStatus.DRAFT
    if actor.role is Role.WORKER and actor.person_id is not None:
        mine = or_(RecognitionCase.worker_person_id == actor.person_id,
                   RecognitionCase.applicant_person_id == actor.person_id)
        return q.where(or_(own_draft, and_(submitted, mine)))
    if actor.role is Role.EMPLOYER and actor.organisation_id is not None:
        ours = or_(RecognitionCase.employer_organisation_id == actor.organisation_id,
                   RecognitionCase.applicant_organisation_id == actor.organisation_id)
        own_org_draft = and_(RecognitionCase.status == CaseStatus.DRAFT,
                             RecognitionCase.applicant_organisation_id == actor.organisation_id)
        return q.where(or_(own_org_draft, and_(submitted, ours)))
    if actor.role is Role.PROVINCIAL:
        return q.where(submitted)
    if actor.role is not None and actor.role.is_city_staff and actor.city_code:
        return q.where(submitted, RecognitionCase.city_code == actor.city_code)
    return q.where(RecognitionCase.id == -1)


def load_case(sess: Session, actor: Actor, case_id: int, *, for_update: bool = False) -> RecognitionCase:
    """The case if ``actor`` may see it; otherwise :class:`CaseNotFound` (also for cases
    outside the actor's scope, so ids cannot be probed)."""
    q = visible_cases(actor).where(RecognitionCase.id == case_id)
    if for_update:
        q = q.with_for_update()
    case = sess.execute(q).scalar_one_or_none()
    if case is None:
        raise CaseNotFound("没有找到这个工伤认定案件，或者您无权查看")
    if for_update:
        sess.refresh(case)  # the row as locked, not a copy from the identity map
    return case


def lock_case(sess: Session, actor: Actor, case_id: int) -> RecognitionCase:
    """Load and lock the case row for a change, so two clicks cannot both act on one status."""
    return load_case(sess, actor, case_id, for_update=True)


def may_see_medical(actor: Actor, case: RecognitionCase) -> bool:
    """Medical details (injury, diagnosis, medical files) are for the worker's side and staff;
    the employer sees only what the decision states."""
    if actor.role is Role.EMPLOYER:
        return False
    return True


def is_party(actor: Actor, case: RecognitionCase) -> bool:
    """The applicant, the injured worker or the employer (not staff)."""
    if actor.role is Role.WORKER:
        return actor.person_id in (case.worker_person_id, case.applicant_person_id)
    if actor.role is Role.EMPLOYER:
        return actor.organisation_id in (case.employer_organisation_id, case.applicant_organisation_id)
    return False


def case_party(actor: Actor, case: RecognitionCase) -> str | None:
    """Which party of ``case`` the actor is, in the words of ``visible_to``
    (config/policy/material_kinds.toml): ``"applicant"`` (filed it: the worker, a relative or
    the employer), ``"worker"`` (the injured worker), ``"employer"``, or None (staff, strangers)."""
    if actor.account_id is not None and actor.account_id == case.applicant_account_id:
        return "applicant"
    if actor.role is Role.EMPLOYER and actor.organisation_id is not None:
        if actor.organisation_id == case.applicant_organisation_id:
            return "applicant"
        if actor.organisation_id == case.employer_organisation_id:
            return "employer"
    if actor.role is Role.WORKER and actor.person_id is not None:
        if actor.person_id == case.applicant_person_id:
            return "applicant"
        if actor.person_id == case.worker_person_id:
            return "worker"
    return None


def may_see_kind(actor: Actor, case: RecognitionCase, kind: str) -> bool:
    """Whether a party of ``case`` may read a file of material kind ``kind``: the applicant
    always; the injured worker and the employer only when the kind lists them (``visible_to``);
    a kind no longer configured, only the applicant. Staff are the access rule's business."""
    party = case_party(actor, case)
    if party is None:
        return False
    if party == "applicant":
        return True
    listed = next((k.visible_to for k in materials.material_kinds() if k.code == kind), frozenset())
    return party in listed


# --- who handles it -------------------------------------------------------------------------

def office_name(city_code: str | None) -> str:
    """The recognition office of a city, as applicants see it (no person's name)."""
    return province().office("recognition_office", city_code) or "工伤认定部门"


def actor_office(actor: Actor, case: RecognitionCase) -> str:
    """Who acted, as the timeline and answers name them: an office, never a person."""
    if actor.role in OFFICE_ROLES:
        return office_name(case.city_code) if actor.role is Role.RECOGNITION_OFFICER else province().hrss_department
    return f"申请人：{applicant_role(case)}"


# --- numbering --------------------------------------------------------------------------------

DOCUMENT_WORDS = {"acceptance": "工伤受字", "refusal": "工伤不受字", "decision": "工伤认字",
                  "supplement": "工伤补字", "suspension": "工伤中字"}


def assign_reference(case: RecognitionCase, year: int) -> str:
    """受理编号 RD-<city>-<year>-<case id, 6 digits>: unique without a counter."""
    case.reference = f"RD-{case.city_code}-{year}-{case.id:06d}"
    return case.reference


def next_document_number(sess: Session, city_code: str, year: int, kind: str) -> str:
    """The next number of a document kind in a city and year, e.g. 合肥人社工伤认字〔2026〕7号.
    Numbers are sequential without gaps among committed documents: the counter row is updated
    in the caller's transaction."""
    for _attempt in range(3):
        row = sess.execute(select(DocumentCounter).where(
            DocumentCounter.city_code == city_code, DocumentCounter.year == year,
            DocumentCounter.kind == kind).with_for_update()).scalar_one_or_none()
        if row is not None:
            sess.execute(update(DocumentCounter).where(DocumentCounter.id == row.id)
                         .values(last=DocumentCounter.last + 1))
            sess.refresh(row)
            number = row.last
            break
        try:
            with sess.begin_nested():
                sess.add(DocumentCounter(city_code=city_code, year=year, kind=kind, last=1))
            number = 1
            break
        except IntegrityError:
            continue  # another transaction created it first: lock it and count on
    else:  # pragma: no cover - three lost races in a row
        raise RuntimeError("document counter contention")
    prefix = province().office("document_prefix", city_code) or f"{city_name(city_code)}人社"
    return f"{prefix}{DOCUMENT_WORDS[kind]}〔{year}〕{number}号"
