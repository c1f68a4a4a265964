"""What a third party (住建, a project owner, anyone holding a certificate) may know of a project:
its name, contractor, code, city, cover period and status. Never amounts, never workers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.auth.roles import Actor, Role
from portal.certificates.service import PublicFacts, SubjectProvider
from portal.localtime import to_local
from portal.projects.models import INSURED_STATUSES, Project, ProjectStatus


def facts_of(project: Project) -> PublicFacts:
    period_from = to_local(project.cover_start).date() if project.cover_start else project.planned_start
    if project.status is ProjectStatus.COMPLETED:
        period_to = project.completed_on
    else:
        period_to = project.planned_end
    return PublicFacts(
        title=project.name, holder=project.organisation.name, reference=project.code,
        period_from=period_from, period_to=period_to, status=project.status.label,
        covered=project.status in INSURED_STATUSES, city_code=project.city_code,
        extra=(("施工许可证编号", project.permit_number or "尚未登记"),),
    )


def _facts(sess: Session, project_id: int) -> PublicFacts | None:
    project = sess.get(Project, project_id)
    return facts_of(project) if project is not None else None


def _may_issue(sess: Session, actor: Actor, project_id: int) -> bool:
    project = sess.get(Project, project_id)
    return (project is not None and actor.role is Role.EMPLOYER and actor.owns_organisation(project.organisation_id)
            and project.status is not ProjectStatus.DRAFT)


def project_by_code(sess: Session, code: str, city_code: str | None) -> Project | None:
    """A submitted project by its code, for a caller limited to ``city_code`` (None = all)."""
    project = sess.execute(select(Project).where(Project.code == code.strip().upper())).scalar_one_or_none()
    if project is None or project.status is ProjectStatus.DRAFT:
        return None
    if city_code is not None and project.city_code != city_code:
        return None
    return project


#: 项目参保证明, registered with the certificates area by the app factory
CERTIFICATE_SUBJECT = SubjectProvider("project", "项目参保证明", _facts, _may_issue)
