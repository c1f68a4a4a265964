"""联系方式 (contact details): the service hotline and, per city, where to apply in person and which
number to call, from ``contacts.toml`` of the province's configuration. Plain Python, no Flask.

The hotline is a setting (``contact_hotline``, portal.toml) and is passed in; the city offices
are configuration of the province. Only cities of the province in use are listed, in the order of
``regions.toml``, named by it (``province().office("recognition_office", code)``), so another
province's data never shows; a city with no entry shows the hotline only.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from portal.config import config_file
from portal.regions import province

CONTACTS_FILE = "contacts.toml"
_OFFICE_KEYS = {"city_code", "phone", "address"}


class ContactsError(ValueError):
    """``contacts.toml`` is malformed; the message lists every problem."""


@dataclass(frozen=True)
class CityOffice:
    """Where a city takes applications in person (办理地点) and its number (咨询电话)."""

    city_code: str
    city: str  #: 合肥市
    office: str  #: 合肥市人力资源和社会保障局 (from the province's configuration)
    agency: str  #: 合肥市社会保险经办机构
    address: str  #: "" when not configured
    phone: str  #: "" when not configured


@dataclass(frozen=True)
class Contacts:
    hotline: str  #: 12333
    hotline_name: str  #: 人力资源社会保障服务热线
    offices: tuple[CityOffice, ...]
    source: str

    def office(self, city_code: str | None) -> CityOffice | None:
        return next((o for o in self.offices if o.city_code == city_code), None)


@lru_cache(maxsize=4)
def _entries(path: str) -> tuple[str, dict[str, dict[str, str]]]:
    file = Path(path)
    if not file.is_file():
        return "", {}
    with file.open("rb") as fh:
        data = tomllib.load(fh)
    problems, entries = [], {}
    for n, entry in enumerate(data.get("offices", []), start=1):
        unknown = set(entry) - _OFFICE_KEYS
        if unknown:
            problems.append(f"第{n}条: 未知字段 {', '.join(sorted(unknown))}")
        code = entry.get("city_code")
        if not (isinstance(code, str) and len(code) == 6 and code.isdigit()):
            problems.append(f"第{n}条: city_code 应为6位行政区划代码")
            continue
        if code in entries:
            problems.append(f"第{n}条: {code} 重复")
        entries[code] = {k: str(entry.get(k, "")).strip() for k in ("phone", "address")}
    if problems:
        raise ContactsError(f"{file}: 联系方式配置有误 / contacts invalid:\n  - " + "\n  - ".join(problems))
    return str(data.get("source", "")), entries


def contacts(hotline: str, hotline_name: str = "") -> Contacts:
    """The hotline and every city office of the province in use."""
    source, entries = _entries(str(config_file(CONTACTS_FILE)))
    here = province()
    offices = tuple(
        CityOffice(city_code=city.code, city=city.name, office=here.office("recognition_office", city.code),
                   agency=here.office("agency", city.code), address=entries.get(city.code, {}).get("address", ""),
                   phone=entries.get(city.code, {}).get("phone", ""))
        for city in here.cities)
    return Contacts(hotline=hotline, hotline_name=hotline_name, offices=offices, source=source)
