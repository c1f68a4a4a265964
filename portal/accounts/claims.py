"""What the provincial login tells us about a person, read through config/identity_claims.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from portal.accounts.models import AccountKind
from portal.config import config_file
from portal.errors import DomainError


class ClaimsError(DomainError):
    code = "login_claims_invalid"


@dataclass(frozen=True)
class Identity:
    subject: str
    kind: AccountKind
    name: str
    id_number: str | None = None
    phone: str | None = None
    uscc: str | None = None
    org_name: str | None = None
    real_name_level: str | None = None


def _mapping() -> dict[str, Any]:
    """The sign-in platform's claim names, from the province's ``identity_claims.toml``."""
    return _load_mapping(config_file("identity_claims.toml"))


@lru_cache(maxsize=4)
def _load_mapping(path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def identity_from_claims(claims: Mapping[str, Any]) -> Identity:
    m = _mapping()
    kinds = {v: k for k, v in m["account_types"].items()}
    subject = claims.get(m["subject"])
    kind_name = kinds.get(claims.get(m["account_type"], ""))
    name = (claims.get(m["name"]) or "").strip()
    if not subject or not kind_name or not name:
        raise ClaimsError("统一身份认证平台返回的身份信息不完整，无法登录")
    kind = {"natural": AccountKind.PERSON, "legal": AccountKind.ORGANISATION,
            "staff": AccountKind.STAFF}[kind_name]

    def get(key: str) -> str | None:
        value = claims.get(m[key])
        return str(value).strip() if value else None

    return Identity(subject=str(subject), kind=kind, name=name[:100], id_number=get("id_number"),
                    phone=get("phone"), uscc=get("uscc"), org_name=get("org_name"),
                    real_name_level=get("real_name_level"))
