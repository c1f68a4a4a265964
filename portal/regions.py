"""The province served: its administrative divisions (行政区划) and the names of its offices and
platforms, from ``regions.toml`` of the configured province (``portal.config.config_file``).

Pages, documents and services print these names; nothing else names the province.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from portal.config import config_file

#: office names a city may override; patterns use {city} and {city_short}
OFFICE_KEYS = ("recognition_office", "agency", "government", "document_prefix")


@dataclass(frozen=True)
class City:
    code: str  #: 地市行政区划代码 (6 digits, GB/T 2260)
    name: str
    offices: Mapping[str, str] = field(default_factory=dict)  #: this city's own office names

    @property
    def short_name(self) -> str:
        """合肥市 → 合肥 (as in document numbers, 合肥人社工伤认字〔2026〕7号)."""
        return self.name.removesuffix("市") or self.name


@dataclass(frozen=True)
class Pooling:
    """The provincial pooling plan the portal implements (省级统筹实施方案)."""

    document: str  #: 文号, e.g. 皖人社发〔2023〕21号
    title: str  #: 《…实施方案》
    in_force: date
    summary: str

    @property
    def citation(self) -> str:
        return f"{self.document}{self.title}"


@dataclass(frozen=True)
class Province:
    code: str
    name: str
    cities: tuple[City, ...]
    source: str
    confidence: str
    abbreviation: str = ""
    portal_name: str = ""
    hrss_department: str = ""
    tax_bureau: str = ""
    gov_platform: str = ""
    implementing_measures: str = ""
    implementing_measures_short: str = ""
    pooling: Pooling | None = None
    example_county_code: str = ""
    example_county_name: str = ""
    offices: Mapping[str, str] = field(default_factory=dict)  #: patterns of office names
    #: 事项编码 and 事项名称 on the government-service platform, by the portal's item name
    platform_items: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    def platform_item(self, item: str) -> tuple[str, str]:
        """(事项编码, 事项名称) of ``item`` (e.g. "recognition") on the province's platform."""
        try:
            return self.platform_items[item]
        except KeyError:
            raise KeyError(f"regions.toml [province.platform_items] 缺少 {item}") from None

    def city(self, code: str) -> City | None:
        return next((c for c in self.cities if c.code == code), None)

    def city_of(self, division_code: str) -> City | None:
        """The prefecture city of any county or city code (``code[:4] + "00"``)."""
        if len(division_code) != 6 or not division_code.isdigit():
            return None
        return self.city(division_code[:4] + "00")

    @property
    def example_city(self) -> City:
        """The city of the example county (form hints), else the first city."""
        return self.city_of(self.example_county_code) or self.cities[0]

    @property
    def example_county(self) -> str:
        """"340104（合肥市蜀山区）", as messages about a division code give it."""
        return f"{self.example_county_code}（{self.example_county_name}）"

    def office(self, kind: str, city_code: str | None) -> str:
        """The name of a city's office of ``kind`` (``OFFICE_KEYS``), e.g. 合肥市人力资源和社会保障局;
        "" when the city is unknown."""
        city = self.city(city_code) if city_code else None
        if city is None:
            return ""
        pattern = city.offices.get(kind) or self.offices[kind]
        return pattern.format(city=city.name, city_short=city.short_name)


def _load(path: Path) -> Province:
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    head = data["province"]
    cities = tuple(City(c["code"], c["name"], MappingProxyType({k: c[k] for k in OFFICE_KEYS if k in c}))
                   for c in data["cities"])
    pooling = head.get("pooling")
    example = head.get("example", {})
    missing = [k for k in OFFICE_KEYS if k not in head]
    if missing:
        raise ValueError(f"{path}: [province] 缺少 {', '.join(missing)}")
    return Province(
        head["code"], head["name"], cities, head["source"], head["confidence"],
        abbreviation=head.get("abbreviation", ""), portal_name=head["portal_name"],
        hrss_department=head["hrss_department"], tax_bureau=head["tax_bureau"],
        gov_platform=head["gov_platform"], implementing_measures=head.get("implementing_measures", ""),
        implementing_measures_short=head.get("implementing_measures_short", ""),
        pooling=Pooling(pooling["document"], pooling["title"], pooling["in_force"], pooling["summary"])
        if pooling else None,
        example_county_code=example.get("county_code", ""), example_county_name=example.get("county_name", ""),
        offices=MappingProxyType({k: head[k] for k in OFFICE_KEYS}),
        platform_items=MappingProxyType({k: (v["code"], v["name"])
                                         for k, v in head.get("platform_items", {}).items()}),
    )


@lru_cache(maxsize=4)
def _cached(path: str) -> Province:
    return _load(Path(path))


def province() -> Province:
    """The province of the configuration in use (cached per file)."""
    return _cached(str(config_file("regions.toml")))


def city_name(code: str | None) -> str:
    if code is None:
        return province().name
    city = province().city(code)
    return city.name if city else code
