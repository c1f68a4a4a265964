"""Kinds of material (材料种类), read from ``config/policy/material_kinds.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache

from portal.config import CONFIG_DIR
from portal.errors import UserInputError

KINDS_FILE = CONFIG_DIR / "policy" / "material_kinds.toml"


@dataclass(frozen=True)
class MaterialKind:
    code: str
    label: str
    #: medical content: employers never see it
    medical: bool
    #: stays valid across cases (ID, labour relation): offered for reuse
    reusable: bool


@lru_cache(maxsize=1)
def material_kinds() -> tuple[MaterialKind, ...]:
    """Every configured kind, in the file's order."""
    with KINDS_FILE.open("rb") as fh:
        data = tomllib.load(fh)
    kinds = tuple(MaterialKind(code=k["code"], label=k["label"], medical=bool(k["medical"]),
                               reusable=bool(k.get("reusable", False))) for k in data["kind"])
    codes = [k.code for k in kinds]
    if len(set(codes)) != len(codes):
        raise ValueError(f"{KINDS_FILE.name}: duplicate kind codes")
    if any(len(code) > 40 for code in codes):
        raise ValueError(f"{KINDS_FILE.name}: kind codes are at most 40 characters")
    return kinds


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
