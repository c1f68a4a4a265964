"""What every piece of policy data has: a mark of how well its source is confirmed, and (for
figures and rules that change) the period in which a version is in force."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TypeVar


class Sourced:
    """``confidence`` is "C" when confirmed from a primary source; anything else is 待核实."""

    confidence: str

    @property
    def unconfirmed(self) -> bool:
        return self.confidence != "C"


class EffectiveDated:
    """A version in force from ``valid_from`` to ``valid_to`` (open-ended when None)."""

    valid_from: date
    valid_to: date | None

    def covers(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


V = TypeVar("V", bound=EffectiveDated)


def in_force(versions: Iterable[V], on: date) -> V | None:
    """The version in force on ``on``, or None when no version covers that day."""
    return next((version for version in versions if version.covers(on)), None)


def earliest(versions: Iterable[EffectiveDated]) -> date:
    return min(version.valid_from for version in versions)
