"""办事指南 (service catalogue): the public service items, loaded from ``service_catalogue.toml`` of
the province's configuration (``portal.config.config_file``).

Each item says who applies, what to bring, how long it takes, where (办理地点: a place, and for
items handled by the city the offices of every city, :mod:`portal.public.contacts`), what it costs
(收费), the steps (流程), the blank forms to download (``[[forms]]``, rendered as PDFs) and whether
it can be done online in this portal (``online``: the page that starts it) or how to do it
offline (``offline``).

Plain Python, no Flask. The file is validated as a whole when it is loaded, and every problem is
reported at once, so a broken catalogue stops the portal at start-up rather than on a visitor's
page. Content follows ``shared/domain.md`` §4 and §5; where that reference marks a fact
UNCONFIRMED (U), the item carries ``confidence = "U"`` and names the affected sections in
``unconfirmed``, and the pages show a "待核实" badge there (domain.md, "Markers").
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from portal.config import config_file

CATALOGUE_FILE = "service_catalogue.toml"

#: lower-case words joined by single hyphens, e.g. "unit-enrollment"
CODE_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
#: codes that would clash with fixed URLs under /services/
RESERVED_CODES = frozenset({"search"})
CONFIDENCE_LEVELS = ("C", "U")
#: sections of an item that may be flagged 待核实
SECTIONS = ("applicants", "materials", "time_limit", "legal_basis", "outcome", "notes", "place", "steps")

_REQUIRED_ITEM_KEYS = ("code", "name", "applicants", "materials", "time_limit", "legal_basis",
                       "outcome", "confidence", "notes", "place", "fee", "steps", "offline")
_OPTIONAL_ITEM_KEYS = ("ref", "unconfirmed", "city_offices", "forms", "online", "online_note")
_TOP_KEYS = ("source", "general", "items", "forms")
_GENERAL_KEYS = ("text", "confidence")
_FORM_KEYS = ("code", "title", "basis", "template")
#: an endpoint of this portal, e.g. "recognition.index"
ENDPOINT_PATTERN = re.compile(r"^[a-z_]+\.[a-z_]+$")


class CatalogueError(ValueError):
    """The catalogue file is malformed; ``problems`` lists every problem found."""

    def __init__(self, problems: list[str], path: Path | None = None) -> None:
        self.problems = problems
        where = f"{path}: " if path else ""
        super().__init__(where + "办事指南目录有误 / service catalogue invalid:\n  - " + "\n  - ".join(problems))


@dataclass(frozen=True)
class GeneralNote:
    """A rule that applies to every service item (domain.md §4 "General", §5 counting)."""

    text: str
    confidence: str

    @property
    def unconfirmed(self) -> bool:
        return self.confidence == "U"


@dataclass(frozen=True)
class BlankForm:
    """A form the law prescribes for an item (e.g. 工伤认定申请表), offered as a blank PDF."""

    code: str  #: kebab-case, in the URL /services/<item>/forms/<code>.pdf
    title: str  #: 工伤认定申请表
    basis: str  #: where the law prescribes it
    template: str  #: the PDF's template under templates/


@dataclass(frozen=True)
class ServiceItem:
    """One service item (办事事项) as the public sees it."""

    code: str  #: kebab-case, used in the URL /services/<code>
    name: str  #: 事项名称
    applicants: str  #: 申请人 (who may apply, and where)
    materials: tuple[str, ...]  #: 申请材料
    time_limit: str  #: 办理时限
    legal_basis: tuple[str, ...]  #: 法律依据
    outcome: str  #: 办理结果
    confidence: str  #: "C" all shown facts confirmed, "U" some unconfirmed
    notes: str  #: 说明
    unconfirmed: frozenset[str] = frozenset()  #: sections holding unconfirmed facts
    ref: str = ""  #: where the content comes from in domain.md (maintainers only)
    place: str = ""  #: 办理地点
    fee: str = ""  #: 收费
    steps: tuple[str, ...] = ()  #: 办理流程
    offline: str = ""  #: how to do it at the counter (线下办理)
    city_offices: bool = False  #: handled by the city: list every city's office and number
    forms: tuple[BlankForm, ...] = ()  #: 表格下载
    online: str = ""  #: the portal page that starts it online (an endpoint), "" if not online
    online_note: str = ""  #: who may do it online, e.g. "用人单位使用法人账号登录后办理"

    @property
    def is_unconfirmed(self) -> bool:
        return self.confidence == "U"

    def section_unconfirmed(self, section: str) -> bool:
        return section in self.unconfirmed

    def search_text(self) -> str:
        """What the public look-up searches: name, applicants and materials."""
        return normalise(" ".join((self.name, self.applicants, *self.materials)))


@dataclass(frozen=True)
class Catalogue:
    source: str
    general: tuple[GeneralNote, ...]
    items: tuple[ServiceItem, ...]
    forms: tuple[BlankForm, ...] = ()

    def get(self, code: str) -> ServiceItem | None:
        return next((item for item in self.items if item.code == code), None)

    def form(self, item_code: str, form_code: str) -> BlankForm | None:
        """A blank form offered by an item (None when that item does not offer it)."""
        item = self.get(item_code)
        return next((f for f in item.forms if f.code == form_code), None) if item else None

    def search(self, query: str | None) -> tuple[ServiceItem, ...]:
        """Items whose name, applicants or materials contain every word of ``query``.

        Case- and width-insensitive (NFKC): "ＡＢ" finds "ab". An empty query lists all items.
        """
        terms = normalise(query or "").split()
        if not terms:
            return self.items
        return tuple(item for item in self.items
                     if all(term in item.search_text() for term in terms))


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Read and validate the catalogue; raise :class:`CatalogueError` listing every problem."""
    path = path or config_file(CATALOGUE_FILE)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError([f"TOML 语法错误 / syntax error: {exc}"], path) from exc
    return parse_catalogue(data, path)


def parse_catalogue(data: dict[str, Any], path: Path | None = None) -> Catalogue:
    problems: list[str] = []
    for key in sorted(set(data) - set(_TOP_KEYS)):
        problems.append(f"未知字段 / unknown key: {key}")
    source = data.get("source")
    if not _nonempty_str(source):
        problems.append("缺少 source（内容来源） / missing source")

    general = []
    raw_general = data.get("general", [])
    if not isinstance(raw_general, list):
        problems.append("general 应为表数组 / general must be an array of tables")
        raw_general = []
    for n, entry in enumerate(raw_general, start=1):
        where = f"general 第{n}条"
        if not isinstance(entry, dict):
            problems.append(f"{where}: 应为表 / must be a table")
            continue
        for key in sorted(set(entry) - set(_GENERAL_KEYS)):
            problems.append(f"{where}: 未知字段 / unknown key: {key}")
        if not _nonempty_str(entry.get("text")):
            problems.append(f"{where}: 缺少 text / missing text")
        if entry.get("confidence") not in CONFIDENCE_LEVELS:
            problems.append(f"{where}: confidence 应为 C 或 U / must be C or U")
        general.append(GeneralNote(str(entry.get("text", "")).strip(), entry.get("confidence", "U")))

    forms = _parse_forms(data.get("forms", []), problems)

    raw_items = data.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        problems.append("缺少服务事项 [[items]] / no [[items]]")
        raw_items = []
    items = []
    seen_codes: set[str] = set()
    seen_names: set[str] = set()
    for n, entry in enumerate(raw_items, start=1):
        if not isinstance(entry, dict):
            problems.append(f"第{n}项: 应为表 / must be a table")
            continue
        item_problems: list[str] = []
        item = _parse_item(entry, item_problems, forms)
        label = f"第{n}项（{entry.get('code', '?')}）"
        problems.extend(f"{label}: {p}" for p in item_problems)
        if item is None:
            continue
        if item.code in seen_codes:
            problems.append(f"{label}: 编码重复 / duplicate code")
        if item.name in seen_names:
            problems.append(f"{label}: 名称重复 / duplicate name")
        seen_codes.add(item.code)
        seen_names.add(item.name)
        items.append(item)

    if problems:
        raise CatalogueError(problems, path)
    return Catalogue(source=source.strip(), general=tuple(general), items=tuple(items),
                     forms=tuple(forms.values()))


def _parse_forms(raw: Any, problems: list[str]) -> dict[str, BlankForm]:
    forms: dict[str, BlankForm] = {}
    if not isinstance(raw, list):
        problems.append("forms 应为表数组 / forms must be an array of tables")
        return forms
    for n, entry in enumerate(raw, start=1):
        where = f"forms 第{n}条"
        if not isinstance(entry, dict):
            problems.append(f"{where}: 应为表 / must be a table")
            continue
        for key in sorted(set(entry) - set(_FORM_KEYS)):
            problems.append(f"{where}: 未知字段 / unknown key: {key}")
        missing = [key for key in _FORM_KEYS if not _nonempty_str(entry.get(key))]
        if missing:
            problems.append(f"{where}: 缺少 / missing {', '.join(missing)}")
            continue
        if not CODE_PATTERN.match(entry["code"]):
            problems.append(f"{where}: code 应为小写短横线格式 / code must be kebab-case")
        elif entry["code"] in forms:
            problems.append(f"{where}: 编码重复 / duplicate code")
        forms[entry["code"]] = BlankForm(entry["code"], entry["title"].strip(), entry["basis"].strip(),
                                         entry["template"].strip())
    return forms


def _parse_item(entry: dict[str, Any], problems: list[str], forms: dict[str, BlankForm]) -> ServiceItem | None:
    for key in sorted(set(entry) - set(_REQUIRED_ITEM_KEYS) - set(_OPTIONAL_ITEM_KEYS)):
        problems.append(f"未知字段 / unknown key: {key}")
    for key in _REQUIRED_ITEM_KEYS:
        if key not in entry:
            problems.append(f"缺少字段 / missing key: {key}")
    if problems:
        return None

    code = entry["code"]
    if not isinstance(code, str) or not CODE_PATTERN.match(code):
        problems.append("code 应为小写短横线格式，如 unit-enrollment / code must be kebab-case")
    elif code in RESERVED_CODES:
        problems.append(f"code 不能使用保留字 {code} / reserved code")
    for key in ("name", "applicants", "time_limit", "outcome", "place", "fee", "offline"):
        if not _nonempty_str(entry[key]):
            problems.append(f"{key} 不能为空 / must be a non-empty string")
    if not isinstance(entry["notes"], str):
        problems.append("notes 应为字符串 / notes must be a string")
    for key in ("materials", "legal_basis", "steps"):
        value = entry[key]
        if not isinstance(value, list) or not value or not all(_nonempty_str(v) for v in value):
            problems.append(f"{key} 应为非空字符串列表 / must be a non-empty list of strings")

    confidence = entry["confidence"]
    unconfirmed = entry.get("unconfirmed", [])
    if confidence not in CONFIDENCE_LEVELS:
        problems.append("confidence 应为 C（已核实）或 U（待核实） / confidence must be C or U")
    if not isinstance(unconfirmed, list) or not all(isinstance(s, str) for s in unconfirmed):
        problems.append("unconfirmed 应为字符串列表 / unconfirmed must be a list of strings")
        unconfirmed = []
    else:
        unknown = [s for s in unconfirmed if s not in SECTIONS]
        if unknown:
            problems.append(f"unconfirmed 含未知栏目 / unknown sections: {', '.join(unknown)}")
        if len(set(unconfirmed)) != len(unconfirmed):
            problems.append("unconfirmed 有重复 / duplicate sections")
        if confidence == "U" and not unconfirmed:
            problems.append("confidence = U 时须在 unconfirmed 中列出待核实的栏目 / U needs unconfirmed sections")
        if confidence == "C" and unconfirmed:
            problems.append("confidence = C 时 unconfirmed 应为空 / C must not list unconfirmed sections")
    ref = entry.get("ref", "")
    if not isinstance(ref, str):
        problems.append("ref 应为字符串 / ref must be a string")
    if not isinstance(entry.get("city_offices", False), bool):
        problems.append("city_offices 应为 true 或 false / city_offices must be a boolean")
    form_codes = entry.get("forms", [])
    if not isinstance(form_codes, list) or not all(isinstance(c, str) for c in form_codes):
        problems.append("forms 应为表格编码列表 / forms must be a list of form codes")
        form_codes = []
    unknown_forms = [c for c in form_codes if c not in forms]
    if unknown_forms:
        problems.append(f"forms 含未定义的表格 / undefined forms: {', '.join(unknown_forms)}")
    online = entry.get("online", "")
    if not isinstance(online, str) or (online and not ENDPOINT_PATTERN.match(online)):
        problems.append("online 应为本门户的页面（如 recognition.index） / online must be an endpoint")
    online_note = entry.get("online_note", "")
    if not isinstance(online_note, str) or (online_note and not online):
        problems.append("online_note 只用于可以在线办理的事项 / online_note needs online")
    if problems:
        return None
    return ServiceItem(
        code=code, name=entry["name"].strip(), applicants=entry["applicants"].strip(),
        materials=tuple(m.strip() for m in entry["materials"]), time_limit=entry["time_limit"].strip(),
        legal_basis=tuple(c.strip() for c in entry["legal_basis"]), outcome=entry["outcome"].strip(),
        confidence=confidence, notes=entry["notes"].strip(), unconfirmed=frozenset(unconfirmed),
        ref=ref.strip(), place=entry["place"].strip(), fee=entry["fee"].strip(),
        steps=tuple(step.strip() for step in entry["steps"]), offline=entry["offline"].strip(),
        city_offices=bool(entry.get("city_offices", False)), forms=tuple(forms[c] for c in form_codes),
        online=online, online_note=online_note.strip(),
    )


def _nonempty_str(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


@lru_cache(maxsize=4)
def _cached(path: str) -> Catalogue:
    return load_catalogue(Path(path))


def catalogue() -> Catalogue:
    """The deployed catalogue of the province in use, read once per file (read-only at runtime)."""
    return _cached(str(config_file(CATALOGUE_FILE)))
