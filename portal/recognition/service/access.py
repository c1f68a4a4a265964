"""Who may read the files of a recognition case (registered with ``portal.materials``).

A file belongs to a case when it is one of its materials (申请材料, 补正材料) or one of the
documents issued on it (回执, 受理/不予受理决定书, 认定决定书). Then:

  - the recognition officers of the case's city and provincial staff may read it (not drafts);
  - the parties may read it: the applicant, the injured worker and the employer, by
    :func:`cases.is_party` — but never the employer a medical file
    (``may_see_medical``; ``portal.materials`` refuses employers medical files whatever we say);
  - the receipt is the applicant's: it lists every file name, including medical ones, so an
    employer that did not apply is refused it;
  - for anyone else this rule has no opinion (the uploader's own account still reads its upload).

Registered with the materials area by the app factory (``portal._wire_areas``).
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.auth.roles import Actor, Role
from portal.materials.models import StoredFile
from portal.recognition.models import CaseMaterial, CaseStatus, RecognitionCase
from portal.recognition.service.cases import OFFICE_ROLES, is_party, may_see_medical


def cases_of_file(sess: Session, stored_file: StoredFile) -> list[RecognitionCase]:
    linked = select(CaseMaterial.case_id).where(CaseMaterial.stored_file_id == stored_file.id)
    return list(sess.execute(select(RecognitionCase).where(or_(
        RecognitionCase.id.in_(linked),
        RecognitionCase.receipt_file_id == stored_file.id,
        RecognitionCase.acceptance_file_id == stored_file.id,
        RecognitionCase.decision_file_id == stored_file.id))).scalars())


def case_file_rule(sess: Session, actor: Actor, stored_file: StoredFile) -> bool | None:
    found = cases_of_file(sess, stored_file)
    if not found:
        return None
    for case in found:
        if case.status is CaseStatus.DRAFT:
            continue  # a draft's files: only the uploader's account (the default rule)
        if actor.role in OFFICE_ROLES and actor.can_see_city(case.city_code):
            return True
        if not is_party(actor, case):
            continue
        if stored_file.medical and not may_see_medical(actor, case):
            continue
        if (case.receipt_file_id == stored_file.id and actor.role is Role.EMPLOYER
                and actor.organisation_id != case.applicant_organisation_id):
            return False
        return True
    return None

