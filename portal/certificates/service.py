"""Issue, render and verify proofs of cover (参保证明). Plain Python.

The certificates area's one door. Areas that issue proofs of cover (units, construction
projects) describe their subject with a :class:`SubjectProvider` whose facts are
:class:`PublicFacts`; the app factory registers each with :func:`register`
(:mod:`portal.certificates.subjects`). The certificates area never reads their tables itself.

Verification tells a third party one of three things:
- 有效 (valid): the certificate exists, its code matches, and what it says is still true;
- 已过时 (outdated): genuine, but the facts changed since (e.g. the project was completed or the
  period extended) — the current facts are shown instead;
- 无效 (not genuine): no certificate with that number and code — possibly forged.
"""

from __future__ import annotations

import enum
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit import service as audit
from portal.auth.roles import Actor
from portal.certificates.models import Certificate
from portal.certificates.subjects import (
    PublicFacts,
    SubjectProvider,
    provider,
    register,
)
from portal.db import utcnow
from portal.errors import NotFoundError
from portal.security.crypto import lookup_hash
from portal.security.fields import lookup_key

__all__ = [
    "CODE_LENGTH", "PublicFacts", "SubjectProvider", "Verdict", "Verification", "check_code", "issue",
    "own_certificate", "printed_facts", "provider", "register", "verify",
]

CODE_LENGTH = 16


class Verdict(enum.StrEnum):
    VALID = "valid"  #: 有效
    OUTDATED = "outdated"  #: 已过时
    NOT_GENUINE = "not_genuine"  #: 无效（可能伪造）


@dataclass(frozen=True)
class Verification:
    verdict: Verdict
    certificate: Certificate | None
    printed: PublicFacts | None
    current: PublicFacts | None


def _canonical(number: str, facts: dict) -> str:
    return number + "\n" + json.dumps(facts, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _seal(number: str, facts: dict) -> str:
    return lookup_hash(lookup_key(), "certificate", _canonical(number, facts))


def check_code(certificate: Certificate) -> str:
    """The 校验码 printed beside the number and carried in the QR code."""
    return certificate.seal[:CODE_LENGTH]


def _facts_from(data: dict) -> PublicFacts:
    return PublicFacts(
        title=data["title"], holder=data["holder"], reference=data["reference"],
        period_from=date.fromisoformat(data["period_from"]) if data["period_from"] else None,
        period_to=date.fromisoformat(data["period_to"]) if data["period_to"] else None,
        status=data["status"], covered=data["covered"], city_code=data["city_code"],
        extra=tuple(tuple(pair) for pair in data.get("extra", [])),
    )


def printed_facts(certificate: Certificate) -> PublicFacts:
    return _facts_from(certificate.facts)


def issue(sess: Session, actor: Actor, subject_type: str, subject_id: int) -> Certificate:
    """A new certificate of the subject's facts as they are now (own units/projects only)."""
    source = provider(subject_type)
    if source is None or not source.may_issue(sess, actor, subject_id):
        raise NotFoundError("未找到可出具参保证明的对象")
    facts = source.facts(sess, subject_id)
    if facts is None:
        raise NotFoundError("未找到可出具参保证明的对象")
    number = f"CB{utcnow():%Y%m%d}{secrets.randbelow(10**8):08d}"
    data = facts.as_dict()
    certificate = Certificate(number=number, subject_type=subject_type, subject_id=subject_id, facts=data,
                              seal=_seal(number, data), issued_by_account_id=actor.account_id)
    sess.add(certificate)
    sess.flush()
    audit.record(sess, actor, "certificate.issue", object_type=subject_type, object_id=subject_id,
                 city_code=facts.city_code, detail={"number": number})
    return certificate


def own_certificate(sess: Session, actor: Actor, number: str) -> Certificate:
    certificate = sess.execute(select(Certificate).where(Certificate.number == number)).scalar_one_or_none()
    source = provider(certificate.subject_type) if certificate else None
    if certificate is None or source is None or not source.may_issue(sess, actor, certificate.subject_id):
        raise NotFoundError("未找到该参保证明")
    return certificate


def verify(sess: Session, number: str, code: str) -> Verification:
    """Public check of a certificate number + 校验码 (from the QR code or typed in)."""
    number, code = (number or "").strip().upper(), (code or "").strip().lower()
    certificate = sess.execute(select(Certificate).where(Certificate.number == number)).scalar_one_or_none()
    if (certificate is None or len(code) != CODE_LENGTH
            or not hmac.compare_digest(check_code(certificate), code)
            or not hmac.compare_digest(certificate.seal, _seal(certificate.number, certificate.facts))):
        return Verification(Verdict.NOT_GENUINE, None, None, None)
    printed = _facts_from(certificate.facts)
    source = provider(certificate.subject_type)
    current = source.facts(sess, certificate.subject_id) if source else None
    verdict = Verdict.VALID if current is not None and current == printed else Verdict.OUTDATED
    return Verification(verdict, certificate, printed, current)
