"""Administrative divisions (行政区划) of the province served, from ``config/regions.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache

from portal.config import CONFIG_DIR


@dataclass(frozen=True)
class City:
    code: str  #: 地市行政区划代码 (6 digits, GB/T 2260)
    name: str


@dataclass(frozen=True)
class Province:
    code: str
    name: str
    cities: tuple[City, ...]
    source: str
    confidence: str

    def city(self, code: str) -> City | None:
        return next((c for c in self.cities if c.code == code), None)

    def city_of(self, division_code: str) -> City | None:
        """The prefecture city of any county or city code (``code[:4] + "00"``)."""
        if len(division_code) != 6 or not division_code.isdigit():
            return None
        return self.city(division_code[:4] + "00")


@lru_cache(maxsize=1)
def province() -> Province:
    with (CONFIG_DIR / "regions.toml").open("rb") as fh:
        data = tomllib.load(fh)
    head = data["province"]
    cities = tuple(City(c["code"], c["name"]) for c in data["cities"])
    return Province(head["code"], head["name"], cities, head["source"], head["confidence"])


def city_name(code: str | None) -> str:
    if code is None:
        return province().name
    city = province().city(code)
    return city.name if city else code
