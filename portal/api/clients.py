"""Issuing and checking API credentials (HTTP Basic: client id + secret). Plain Python."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.api.models import ApiClient
from portal.audit import service as audit
from portal.auth.roles import Actor
from portal.db import utcnow
from portal.errors import ConflictError, DomainError, PermissionDenied, UserInputError

_CLIENT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}$")
KNOWN_SCOPES = frozenset({"project_cover:read"})


class ApiAuthError(DomainError):
    status = 401
    code = "unauthorized"


class ApiScopeError(PermissionDenied):
    code = "insufficient_scope"


@dataclass(frozen=True)
class IssuedCredential:
    client_id: str
    secret: str  #: shown once, never stored


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_client(sess: Session, actor: Actor, *, client_id: str, name: str, scopes: list[str],
                  city_code: str | None) -> IssuedCredential:
    if not _CLIENT_ID.match(client_id):
        raise UserInputError("接口调用方编号只能包含小写字母、数字和连字符，3至64位")
    unknown = set(scopes) - KNOWN_SCOPES
    if unknown or not scopes:
        raise UserInputError(f"未知的权限范围：{', '.join(sorted(unknown)) or '（空）'}")
    if sess.execute(select(ApiClient).where(ApiClient.client_id == client_id)).scalar_one_or_none():
        raise ConflictError(f"接口调用方 {client_id} 已存在")
    secret = secrets.token_urlsafe(32)
    client = ApiClient(client_id=client_id, name=name, secret_hash=_digest(secret),
                       scopes=" ".join(sorted(scopes)), city_code=city_code)
    sess.add(client)
    sess.flush()
    audit.record(sess, actor, "api_client.create", object_type="api_client", object_id=client.id,
                 city_code=city_code, detail={"client_id": client_id, "scopes": sorted(scopes)})
    return IssuedCredential(client_id, secret)


def parse_basic(header: str | None) -> tuple[str, str]:
    if not header or not header.startswith("Basic "):
        raise ApiAuthError("缺少接口凭证（HTTP Basic：调用方编号和密钥）")
    try:
        client_id, sep, secret = base64.b64decode(header[6:], validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiAuthError("接口凭证格式不正确") from exc
    if not sep:
        raise ApiAuthError("接口凭证格式不正确")
    return client_id, secret


def authenticate(sess: Session, header: str | None, scope: str) -> ApiClient:
    """The calling system, or ApiAuthError/ApiScopeError. Failures look alike to the caller."""
    client_id, secret = parse_basic(header)
    client = sess.execute(select(ApiClient).where(ApiClient.client_id == client_id)).scalar_one_or_none()
    expected = client.secret_hash if client else _digest(secrets.token_urlsafe(16))
    if client is None or not client.active or not hmac.compare_digest(expected, _digest(secret)):
        raise ApiAuthError("接口凭证无效或已停用")
    if scope not in client.scopes.split():
        raise ApiScopeError(f"该接口凭证无权调用此接口（需要 {scope}）")
    client.last_used_at = utcnow()
    return client


def machine_actor(client: ApiClient, client_addr: str | None, request_id: str | None) -> Actor:
    """How a calling system appears in the audit trail."""
    return Actor(role=None, display_name=f"接口：{client.name}（{client.client_id}）", city_code=client.city_code,
                 client_addr=client_addr, request_id=request_id)
