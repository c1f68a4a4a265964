"""Policy figures with their effective dates, sources and confidence.

A figure is looked up for the date the rule names (e.g. the premium's billing date); a date no
version covers is refused with a message that says so, never silently answered with another
year's figure. Figures whose confidence is not "C" are `unconfirmed` and pages show 待核实.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from portal.config import CONFIG_DIR, config_dir, config_file
from portal.errors import UserInputError
from portal.policy.dated import EffectiveDated, Sourced, earliest, in_force

#: where policy files live, in this project's config/ and in a province's directory
POLICY_SUBDIR = "policy"
INDUSTRY_FILE = f"{POLICY_SUBDIR}/industry_classes.toml"


class PolicyDataMissing(UserInputError):
    code = "policy_data_missing"


@dataclass(frozen=True)
class Figure(Sourced, EffectiveDated):
    key: str
    value: Any
    valid_from: date
    valid_to: date | None
    source: str
    confidence: str
    note: str = ""

    def decimal(self, *path: str) -> Decimal:
        """The value (or a nested entry of it) as an exact Decimal."""
        value = self.value
        for part in path:
            value = value[part]
        return Decimal(str(value))


@dataclass(frozen=True)
class Industry(Sourced):
    code: str  #: GB/T 4754-2017 大类 code
    name: str
    risk_class: int  #: 行业风险类别 1..8
    confidence: str
    section: str = ""  #: 门类 letter A–T
    from_2011: tuple[str, ...] = ()  #: the GB/T 4754-2011 大类 the class is taken from
    #: why the class needs a person's check (division split, merged or new since 2011), else None
    review: str | None = None
    #: class of a 中类/小类 (by code prefix) that came from a 2011 division of another class
    prefix_class: tuple[tuple[str, int], ...] = ()
    note: str = ""

    def class_for(self, digits: str) -> tuple[int, str | None]:
        """(class, review) for a 2–4 digit code in this division: a prefix that settles the
        class needs no review."""
        for prefix, cls in self.prefix_class:
            if digits.startswith(prefix):
                return cls, None
        if self.review and len(digits) > 2 and self.prefix_class:
            return self.risk_class, None  # a 中类/小类 outside the moved ones: the division's class
        return self.risk_class, self.review


def policy_files() -> tuple[Path, ...]:
    """The policy files in force, one per name: the province's copy where it has one
    (:func:`portal.config.config_file`), else this project's. Every figure loader reads these.
    Read once per directory and process, like every configuration file: a change needs a restart."""
    return _policy_files(config_dir())


@lru_cache(maxsize=8)
def _policy_files(directory: Path) -> tuple[Path, ...]:
    names = {p.name for p in (CONFIG_DIR / POLICY_SUBDIR).glob("*.toml")}
    names |= {p.name for p in (directory / POLICY_SUBDIR).glob("*.toml")}
    return tuple(config_file(POLICY_SUBDIR, name) for name in sorted(names))


@lru_cache(maxsize=8)
def figures_of(paths: tuple[Path, ...]) -> tuple[Figure, ...]:
    """The figures of these policy files (cached by path)."""
    figures = []
    for path in paths:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        for entry in data.get("figure", []):
            figures.append(Figure(
                key=entry["key"], value=entry["value"], valid_from=entry["valid_from"],
                valid_to=entry.get("valid_to"), source=entry["source"], confidence=entry["confidence"],
                note=entry.get("note", ""),
            ))
    return tuple(figures)


def all_figures() -> tuple[Figure, ...]:
    """Every figure of the province in use (cached per set of files)."""
    return figures_of(policy_files())


@lru_cache(maxsize=8)
def _by_key(paths: tuple[Path, ...]) -> dict[str, tuple[Figure, ...]]:
    index: dict[str, list[Figure]] = {}
    for f in figures_of(paths):
        index.setdefault(f.key, []).append(f)
    return {key: tuple(versions) for key, versions in index.items()}


def versions_of(key: str) -> tuple[Figure, ...]:
    """Every version of ``key`` (indexed once per set of files)."""
    return _by_key(policy_files()).get(key, ())


def figure(key: str, on: date) -> Figure:
    """The version of ``key`` in force on ``on``; refuses dates no version covers."""
    versions = versions_of(key)
    if not versions:
        raise PolicyDataMissing(f"未配置政策参数 {key}")
    version = in_force(versions, on)
    if version is None:
        raise PolicyDataMissing(f"{on:%Y年%m月%d日} 没有适用的政策参数"
                                f"（{key}，已有数据自 {earliest(versions):%Y年%m月%d日} 起）")
    return version


def history(key: str) -> list[Figure]:
    return sorted(versions_of(key), key=lambda f: f.valid_from)


def industries() -> dict[str, Industry]:
    return _industries(config_file(INDUSTRY_FILE))


@lru_cache(maxsize=4)
def _industries(path: Path) -> dict[str, Industry]:
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    return {e["code"]: Industry(e["code"], e["name"], int(e["class"]), e["confidence"],
                                section=e.get("section", ""), from_2011=tuple(e.get("from_2011", ())),
                                review=e.get("review"), note=e.get("note", ""),
                                prefix_class=tuple((k, int(v)) for k, v in e.get("prefix_class", {}).items()))
            for e in data.get("industry", [])}


def industry_sources() -> dict[str, str]:
    """Where the class table and the 2011 → 2017 correspondence come from."""
    return _industry_sources(config_file(INDUSTRY_FILE))


@lru_cache(maxsize=4)
def _industry_sources(path: Path) -> dict[str, str]:
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    return {"classes": data.get("source", ""), "mapping": data.get("mapping_source", "")}


def industry_for(code: str) -> Industry | None:
    """The GB/T 4754-2017 大类 of a code (optional 门类 letter, then 2–4 digits); None when no
    division has those two digits or the letter is not the division's 门类."""
    code = (code or "").strip().upper()
    letter, digits = (code[:1], code[1:]) if code[:1].isalpha() else ("", code)
    industry = industries().get(digits[:2])
    if industry is None or (letter and industry.section and letter != industry.section):
        return None
    return industry
