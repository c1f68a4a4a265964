"""Who may read the files of a recognition case (registered with ``portal.materials``).

A file belongs to a case when it is one of its materials (申请材料, 补正材料) or one of the
documents issued on it (回执, 受理/不予受理决定书, 补正/中止通知书, 认定决定书). Then, by the
file's material kind and its ``visible_to`` in config/policy/material_kinds.toml:

  - the recognition officers of the case's city and provincial staff may read it (not drafts);
  - the applicant may read it (they uploaded or received it), as may the account that uploaded it;
  - the injured worker and the employer may read it only when its kind lists them; otherwise
    they are refused it, even where the materials area's default would let them (the file is
    stored for the worker and the employer): a relative's kinship proof (亲属关系证明), the death
    certificate (死亡证明) or a power of attorney are not the employer's to read;
  - never the employer a medical file (``may_see_medical``; ``portal.materials`` refuses
    employers medical files whatever we say);
  - the receipt is the applicant's: it lists every file name, including medical ones, so an
    employer that did not apply is refused it (whatever its kind's data says);
  - in a draft only the applicant's side: a worker or employer it names is refused what its
    kind does not list, and otherwise the materials area's default decides;
  - for anyone else this rule has no opinion (the uploader's own account still reads its upload).

A file in several cases (a reused 身份证明 or 劳动关系证明) is readable when any of them allows it.

Registered with the materials area by the app factory (``portal._wire_areas``).
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.auth.roles import Actor, Role
from portal.materials.models import StoredFile
from portal.recognition.models import CaseMaterial, CaseStatus, RecognitionCase
from portal.recognition.service.cases import (
    OFFICE_ROLES,
    case_party,
    may_see_kind,
    may_see_medical,
)


def cases_of_file(sess: Session, stored_file: StoredFile) -> list[RecognitionCase]:
    linked = select(CaseMaterial.case_id).where(CaseMaterial.stored_file_id == stored_file.id)
    return list(sess.execute(select(RecognitionCase).where(or_(
        RecognitionCase.id.in_(linked),
        RecognitionCase.receipt_file_id == stored_file.id,
        RecognitionCase.acceptance_file_id == stored_file.id,
        RecognitionCase.decision_file_id == stored_file.id))).scalars())


def case_file_rule(sess: Session, actor: Actor, stored_file: StoredFile) -> bool | None:
    verdict: bool | None = None
    for case in cases_of_file(sess, stored_file):
        opinion = _case_opinion(actor, case, stored_file)
        if opinion is True:
            return True
        if opinion is False:
            verdict = False
    return verdict


def _case_opinion(actor: Actor, case: RecognitionCase, stored_file: StoredFile) -> bool | None:
    if actor.account_id is not None and actor.account_id == stored_file.uploaded_by:
        return True
    party = case_party(actor, case)
    if case.status is CaseStatus.DRAFT:
        # a draft's files: the applicant's side (the default rule); no one else's business yet
        if party in ("worker", "employer") and not may_see_kind(actor, case, stored_file.kind):
            return False
        return None
    if actor.role in OFFICE_ROLES and actor.can_see_city(case.city_code):
        return True
    if party is None:
        return None
    if stored_file.medical and not may_see_medical(actor, case):
        return False
    if case.receipt_file_id == stored_file.id and actor.role is Role.EMPLOYER and party != "applicant":
        return False
    return may_see_kind(actor, case, stored_file.kind)
