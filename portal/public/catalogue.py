"""办事指南 (service catalogue): the public service items, loaded from ``config/service_catalogue.toml``.

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

from portal.config import CONFIG_DIR

CATALOGUE_FILE = CONFIG_DIR / "service_catalogue.toml"

#: lower-case words joined by single hyphens, e.g. "unit-enrollment"
CODE_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
#: codes that would clash with fixed URLs under /services/
RESERVED_CODES = frozenset({"search"})
CONFIDENCE_LEVELS = ("C", "U")
#: sections of an item that may be flagged 待核实
SECTIONS = ("applicants", "materials", "time_limit", "legal_basis", "outcome", "notes")

_REQUIRED_ITEM_KEYS = ("code", "name", "applicants", "materials", "time_limit", "legal_basis",
                       "outcome", "confidence", "notes")
_OPTIONAL_ITEM_KEYS = ("ref", "unconfirmed")
_TOP_KEYS = ("source", "general", "items")
_GENERAL_KEYS = ("text", "confidence")


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

    def get(self, code: str) -> ServiceItem | None:
        return next((item for item in self.items if item.code == code), None)

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


def load_catalogue(path: Path = CATALOGUE_FILE) -> Catalogue:
    """Read and validate the catalogue; raise :class:`CatalogueError` listing every problem."""
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
        item = _parse_item(entry, item_problems)
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
    return Catalogue(source=source.strip(), general=tuple(general), items=tuple(items))


def _parse_item(entry: dict[str, Any], problems: list[str]) -> ServiceItem | None:
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
    for key in ("name", "applicants", "time_limit", "outcome"):
        if not _nonempty_str(entry[key]):
            problems.append(f"{key} 不能为空 / must be a non-empty string")
    if not isinstance(entry["notes"], str):
        problems.append("notes 应为字符串 / notes must be a string")
    for key in ("materials", "legal_basis"):
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
    if problems:
        return None
    return ServiceItem(
        code=code, name=entry["name"].strip(), applicants=entry["applicants"].strip(),
        materials=tuple(m.strip() for m in entry["materials"]), time_limit=entry["time_limit"].strip(),
        legal_basis=tuple(c.strip() for c in entry["legal_basis"]), outcome=entry["outcome"].strip(),
        confidence=confidence, notes=entry["notes"].strip(), unconfirmed=frozenset(unconfirmed),
        ref=ref.strip(),
    )


def _nonempty_str(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The deployed catalogue, read once per process (the file is read-only at runtime)."""
    return load_catalogue()
