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

from portal.config import CONFIG_DIR
from portal.errors import UserInputError
from portal.policy.dated import EffectiveDated, Sourced, earliest, in_force

POLICY_DIR = CONFIG_DIR / "policy"


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
    code: str  #: GB/T 4754 大类 code
    name: str
    risk_class: int  #: 行业风险类别 1..8
    confidence: str


def _load(directory: Path) -> tuple[Figure, ...]:
    figures = []
    for path in sorted(directory.glob("*.toml")):
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        for entry in data.get("figure", []):
            figures.append(Figure(
                key=entry["key"], value=entry["value"], valid_from=entry["valid_from"],
                valid_to=entry.get("valid_to"), source=entry["source"], confidence=entry["confidence"],
                note=entry.get("note", ""),
            ))
    return tuple(figures)


@lru_cache(maxsize=1)
def all_figures() -> tuple[Figure, ...]:
    return _load(POLICY_DIR)


def figure(key: str, on: date) -> Figure:
    """The version of ``key`` in force on ``on``; refuses dates no version covers."""
    versions = [f for f in all_figures() if f.key == key]
    if not versions:
        raise PolicyDataMissing(f"未配置政策参数 {key}")
    version = in_force(versions, on)
    if version is None:
        raise PolicyDataMissing(f"{on:%Y年%m月%d日} 没有适用的政策参数"
                                f"（{key}，已有数据自 {earliest(versions):%Y年%m月%d日} 起）")
    return version


def history(key: str) -> list[Figure]:
    return sorted((f for f in all_figures() if f.key == key), key=lambda f: f.valid_from)


@lru_cache(maxsize=1)
def industries() -> dict[str, Industry]:
    with (POLICY_DIR / "industry_classes.toml").open("rb") as fh:
        data = tomllib.load(fh)
    return {e["code"]: Industry(e["code"], e["name"], int(e["class"]), e["confidence"])
            for e in data.get("industry", [])}


def industry_for(code: str) -> Industry | None:
    """Risk class of a GB/T 4754 code, by its 2-digit 大类; None when not in the table."""
    code = (code or "").strip().upper()
    digits = code[1:] if code[:1].isalpha() else code
    return industries().get(digits[:2])
