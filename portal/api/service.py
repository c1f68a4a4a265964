"""The machine interfaces' use cases (/api/): credentials of other agencies' systems, and what a
call may read. Plain Python, no Flask.

The api area's one door for routes and other areas. Credentials themselves are issued and
checked in :mod:`portal.api.clients`; every call, accepted or refused, is audited. The web
plumbing other areas' views use stays where it is and is imported directly: ``@operation``
(``portal.api.openapi``, the OpenAPI contract of a view) and ``@machine_endpoint``
(``portal.api.decorators``, the access policy of a machine view).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from portal.api.clients import (
    KNOWN_SCOPES,
    ApiAuthError,
    ApiScopeError,
    IssuedCredential,
    authenticate,
    create_client,
    machine_actor,
    parse_basic,
)
from portal.api.models import ApiClient
from portal.audit import service as audit
from portal.auth.roles import Actor
from portal.certificates import service as certificates
from portal.db import independent_transaction, utcnow, will_write
from portal.errors import DomainError, NotFoundError
from portal.projects import service as projects

__all__ = [
    "KNOWN_SCOPES", "ApiAuthError", "ApiScopeError", "IssuedCredential", "ProjectCover",
    "authenticate", "authenticate_call", "create_client", "machine_actor", "parse_basic",
    "project_cover",
]


def authenticate_call(sess: Session, header: str | None, scope: str, actor: Actor,
                      endpoint: str | None) -> ApiClient:
    """The calling system behind ``header``, allowed ``scope``; its use is recorded.

    A machine call writes even when it only reads (``last_used_at``, the audit row), so the unit
    of work says so first. A refused call raises ApiAuthError/ApiScopeError, after its audit
    row (``api.refused``) was committed in an independent transaction: the error response rolls
    the request's own unit of work back."""
    will_write(sess)
    try:
        return authenticate(sess, header, scope)
    except DomainError as exc:
        with independent_transaction(sess) as own:
            audit.record(own, actor, "api.refused", object_type="endpoint", object_id=endpoint,
                         detail={"code": exc.code})
        raise


@dataclass(frozen=True)
class ProjectCover:
    """What a housing-construction bureau (住建) may know of a project: its public facts."""

    facts: certificates.PublicFacts
    permit_number: str | None


def project_cover(sess: Session, actor: Actor, client: ApiClient, code: str) -> ProjectCover:
    """The cover of the project ``code`` in the calling system's city (先参保、后开工).

    Every look-up is audited (``api.project_cover.read``). A miss raises NotFoundError after
    its audit row, and the client's use, were committed in an independent transaction."""
    client_id, city_code = client.id, client.city_code  # read before sess's transaction ends
    project = projects.project_by_code(sess, code, city_code)
    if project is None:
        with independent_transaction(sess) as own:
            own.get(ApiClient, client_id).last_used_at = utcnow()
            _audit_cover_read(own, actor, code, city_code, found=False)
        raise NotFoundError("没有该项目编号的参保项目，或该项目不在贵单位所属地市")
    _audit_cover_read(sess, actor, code, project.city_code, found=True)
    return ProjectCover(projects.facts_of(project), project.permit_number)


def _audit_cover_read(sess: Session, actor: Actor, code: str, city_code: str | None, *, found: bool) -> None:
    audit.record(sess, actor, "api.project_cover.read", object_type="project", object_id=code[:64],
                 city_code=city_code, detail={"found": found})
