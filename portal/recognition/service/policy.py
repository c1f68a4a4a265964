"""The recognition lists from ``config/policy/recognition.toml``: who may file with which window,
close relatives, required materials, and the legal grounds a decision may cite."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from portal.config import config_file
from portal.policy.dated import Sourced

POLICY_FILE = "policy/recognition.toml"


@dataclass(frozen=True)
class ApplicantRule:
    kind: str
    window_rule: str  #: deadline rule key in deadlines.toml (employer_filing / worker_filing)
    late_allowed: bool
    late_note: str


@dataclass(frozen=True)
class MaterialRule(Sourced):
    kind: str
    when: str  #: always | accident | disease | died | relative
    label: str
    hint: str
    basis: str
    confidence: str


@dataclass(frozen=True)
class Ground:
    code: str
    outcome: str  #: recognised | deemed | not_recognised
    article: str
    text: str

    @property
    def label(self) -> str:
        return f"{self.article}：{self.text}"


def _data() -> dict:
    return _load(config_file(POLICY_FILE))


@lru_cache(maxsize=4)
def _load(path: Path) -> dict:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def applicant_rule(kind: str) -> ApplicantRule:
    for entry in _data()["applicant"]:
        if entry["kind"] == kind:
            return ApplicantRule(**entry)
    raise KeyError(kind)


def relations() -> dict[str, str]:
    return dict(_data()["relations"])


def applicant_role(case) -> str:
    """Who applied, as every page and document describes the applicant: 用人单位, 职工本人, or
    近亲属 with the relation chosen when filing, e.g. 近亲属（配偶）."""
    label = case.applicant_kind.label
    relation = relations().get(case.relation or "") if case.relation else None
    return f"{label}（{relation}）" if relation else label


def materials() -> list[MaterialRule]:
    return [MaterialRule(**m) for m in _data()["material"]]


def required_materials(*, event_kind: str | None, died: bool, applicant_kind: str) -> list[MaterialRule]:
    """The materials a case of this shape needs (《工伤保险条例》第十八条 and local practice)."""
    wanted = {"always"}
    if event_kind:
        wanted.add(event_kind)
    if died:
        wanted.add("died")
    if applicant_kind == "relative":
        wanted.add("relative")
    return [m for m in materials() if m.when in wanted]


def grounds(outcome: str | None = None) -> list[Ground]:
    return [Ground(**g) for g in _data()["ground"] if outcome is None or g["outcome"] == outcome]


def ground(code: str) -> Ground:
    for g in grounds():
        if g.code == code:
            return g
    raise KeyError(code)
