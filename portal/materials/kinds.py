"""Kinds of material (材料种类), read from ``config/policy/material_kinds.toml`` (or the province's copy)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from portal.config import config_file
from portal.errors import UserInputError

KINDS_FILE = "policy/material_kinds.toml"


@dataclass(frozen=True)
class MaterialKind:
    code: str
    label: str
    #: medical content: employers never see it
    medical: bool
    #: stays valid across cases (ID, labour relation): offered for reuse
    reusable: bool
    #: who may read a file of this kind in a case (``visible_to``): the applicant and the office
    #: always; the injured worker and the employer only when listed (PIPL minimisation)
    visible_to: frozenset[str] = frozenset({"applicant", "office"})
    #: why those parties (``visible_basis``): the need each one has, and the rule it rests on
    visible_basis: str = ""


#: the parties a case file may be shown to (shared/domain.md §2): who filed it, the injured
#: worker, the employer, and the office handling the case (recognition officers, provincial staff)
PARTIES = frozenset({"applicant", "worker", "employer", "office"})
#: the parties who always read a case's files: the applicant uploaded or received them, the
#: office decides on them
ALWAYS_VISIBLE_TO = frozenset({"applicant", "office"})


def material_kinds() -> tuple[MaterialKind, ...]:
    """Every configured kind, in the file's order."""
    return _kinds(config_file(KINDS_FILE))


@lru_cache(maxsize=4)
def _kinds(path: Path) -> tuple[MaterialKind, ...]:
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    kinds = tuple(MaterialKind(code=k["code"], label=k["label"], medical=bool(k["medical"]),
                               reusable=bool(k.get("reusable", False)),
                               visible_to=_visible_to(k), visible_basis=str(k.get("visible_basis", "")).strip())
                  for k in data["kind"])
    codes = [k.code for k in kinds]
    if len(set(codes)) != len(codes):
        raise ValueError("material_kinds.toml: duplicate kind codes")
    if any(len(code) > 40 for code in codes):
        raise ValueError("material_kinds.toml: kind codes are at most 40 characters")
    return kinds


def _visible_to(entry: dict) -> frozenset[str]:
    """The ``visible_to`` of one kind, checked: every kind must say, with its basis, and a
    medical kind never lists the employer."""
    code, parties = entry.get("code"), entry.get("visible_to")
    if not isinstance(parties, list) or not all(isinstance(p, str) for p in parties):
        raise ValueError(f"material_kinds.toml: kind {code!r} needs visible_to, a list of parties")
    found = frozenset(parties)
    if found - PARTIES:
        raise ValueError(f"material_kinds.toml: kind {code!r} names unknown parties {sorted(found - PARTIES)}")
    if ALWAYS_VISIBLE_TO - found:
        raise ValueError(f"material_kinds.toml: kind {code!r}: the applicant and the office always see a case's files")
    if entry.get("medical") and "employer" in found:
        raise ValueError(f"material_kinds.toml: kind {code!r} is medical: employers never see it")
    if not str(entry.get("visible_basis", "")).strip():
        raise ValueError(f"material_kinds.toml: kind {code!r} needs visible_basis (why these parties)")
    return found


def material_kind(code: str) -> MaterialKind:
    """The kind named by ``code``; an unknown code is the caller's input error."""
    for kind in material_kinds():
        if kind.code == code:
            return kind
    raise UserInputError("材料种类不正确", code="unknown_material_kind")


def kind_label(code: str) -> str:
    """The Chinese label of a kind; the code itself if it is no longer configured."""
    return next((k.label for k in material_kinds() if k.code == code), code)


def reusable_kinds() -> tuple[str, ...]:
    return tuple(k.code for k in material_kinds() if k.reusable)
