"""One shape for every area (ARCHITECTURE.md): the same files, routes that leave transactions to
the edge, services that are the only door into an area, nothing registered on import."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from portal import AREAS

ROOT = Path(__file__).resolve().parents[2]
PORTAL = ROOT / "portal"
#: areas that answer only JSON, so have no templates of their own
NO_PAGES = {"api", "auth"}


def _module(area: str, name: str) -> Path | None:
    for candidate in (PORTAL / area / f"{name}.py", PORTAL / area / name / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def _python_files(*folders: Path):
    for folder in folders:
        yield from sorted(p for p in folder.rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("area", AREAS)
def test_every_area_has_the_same_files(area):
    missing = [name for name in ("models", "service", "routes", "forms") if _module(area, name) is None]
    assert not missing, f"portal/{area} lacks {missing}"
    assert (PORTAL / area / "__init__.py").read_text(encoding="utf-8").strip().startswith('"""')
    if area not in NO_PAGES:
        assert (ROOT / "templates" / area).is_dir(), f"templates/{area}/ is missing"


def _view_modules():
    for area in AREAS:
        routes = _module(area, "routes")
        yield from ([routes] if routes.name == "routes.py" else sorted(routes.parent.glob("*.py")))
    yield PORTAL / "api" / "decorators.py"


#: what only the request edge (portal/web/unit_of_work.py) and services do
TRANSACTION_CALLS = re.compile(r"\.commit\(|\.rollback\(|set_write_intent|separate_transaction|"
                               r"write_transaction|independent_transaction|abandon\(|begin_nested")


@pytest.mark.parametrize("path", list(_view_modules()), ids=lambda p: str(p.relative_to(ROOT)))
def test_routes_leave_transactions_to_the_unit_of_work(path):
    found = [f"{n}: {line.strip()}" for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if TRANSACTION_CALLS.search(line)]
    assert not found, found


def test_nothing_registers_on_import():
    offenders = []
    for path in _python_files(PORTAL, ROOT / "adapters"):
        text = path.read_text(encoding="utf-8")
        if path == PORTAL / "models.py":
            continue  # Alembic needs every model imported: the one exception
        if "noqa: F401" in text:
            offenders.append(f"{path.relative_to(ROOT)}: noqa F401")
        if re.search(r"listens_for\(\s*Session\b", text):
            offenders.append(f"{path.relative_to(ROOT)}: global session listener")
    assert not offenders, offenders


def test_one_definition_of_local_time_and_of_the_shared_error_types():
    zones, invalid_fields, enum_helpers = [], [], []
    for path in _python_files(PORTAL, ROOT / "adapters"):
        text = path.read_text(encoding="utf-8")
        rel = str(path.relative_to(ROOT))
        zones += [rel] * text.count('ZoneInfo("Asia/Shanghai")')
        invalid_fields += [rel] * len(re.findall(r"^class InvalidFields\b", text, re.M))
        enum_helpers += [rel] * len(re.findall(r"^def _enum\b", text, re.M))
    # the portal's Beijing time, and the platforms' (adapters never import the portal)
    assert sorted(zones) == ["adapters/__init__.py", "portal/localtime.py"]
    assert invalid_fields == ["portal/errors.py"]
    assert enum_helpers == []


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.level == 0:
                yield node.module, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []


#: what every area may import from another besides its service: the models (ORM relationships
#: and query columns) and the web plumbing the auth, api and materials areas provide to all
#: views (access decorators, roles, OpenAPI operations, API authentication, file responses)
SHARED = {"models", "access", "roles", "openapi", "decorators", "uploads"}


@pytest.mark.parametrize("area", AREAS)
def test_other_areas_are_entered_through_their_service(area):
    offenders = []
    for path in _python_files(PORTAL / area):
        for module, names in _imports(path):
            parts = module.split(".")
            if len(parts) < 2 or parts[0] != "portal" or parts[1] not in AREAS or parts[1] == area:
                continue
            door = parts[2] if len(parts) > 2 else None
            entered = [door] if door else names
            for name in entered:
                if name not in SHARED and name != "service":
                    offenders.append(f"{path.relative_to(ROOT)} imports portal.{parts[1]}.{name}")
    assert not offenders, offenders
