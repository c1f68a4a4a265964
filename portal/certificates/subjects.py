"""What a certificate can be about, and what a third party may see of it.

Areas that issue proofs of cover (units, construction projects) describe their subject with a
``SubjectProvider``; the app factory registers it (``certificates.register(...)`` in
``portal._wire_areas``). The certificates area never reads their tables itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Callable

from sqlalchemy.orm import Session

from portal.auth.roles import Actor


@dataclass(frozen=True)
class PublicFacts:
    """Only what a third party may see: no personal data, no amounts beyond status."""

    title: str  #: e.g. 项目名称 or 单位名称
    holder: str  #: 参保单位 / 施工总承包单位
    reference: str  #: project code or USCC
    period_from: date | None
    period_to: date | None
    status: str  #: e.g. 已参保 / 已竣工 / 未参保
    covered: bool
    city_code: str | None
    extra: tuple[tuple[str, str], ...] = field(default=())  #: more (label, value) rows

    def as_dict(self) -> dict:
        return {
            "title": self.title, "holder": self.holder, "reference": self.reference,
            "period_from": self.period_from.isoformat() if self.period_from else None,
            "period_to": self.period_to.isoformat() if self.period_to else None,
            "status": self.status, "covered": self.covered, "city_code": self.city_code,
            "extra": [list(pair) for pair in self.extra],
        }


@dataclass(frozen=True)
class SubjectProvider:
    subject_type: str  #: "unit" | "project"
    label: str  #: 单位参保证明 / 项目参保证明
    #: facts of the subject as they are now; None when it does not exist
    facts: Callable[[Session, int], PublicFacts | None]
    #: may this actor have a certificate of it issued (its own unit/project)?
    may_issue: Callable[[Session, Actor, int], bool]
    #: row labels of title, holder and reference on the certificate
    title_label: str = "项目名称"
    holder_label: str = "施工总承包单位"
    reference_label: str = "项目编号"
    #: the sentence the certificate attests
    statement: str = "上述工程建设项目已按项目方式参加工伤保险"


_PROVIDERS: dict[str, SubjectProvider] = {}


def register(provider: SubjectProvider) -> None:
    """What a certificate of ``provider.subject_type`` says and who may have one issued."""
    _PROVIDERS[provider.subject_type] = provider


def provider(subject_type: str) -> SubjectProvider | None:
    return _PROVIDERS.get(subject_type)
