"""Demo data: the staff register and the sandbox's demo identities. Loading is idempotent."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from portal.accounts import service as accounts
from portal.accounts.claims import Identity, identity_from_claims
from portal.config import CONFIG_DIR, config_file

#: this project's (Anhui's) files; a province's directory may hold its own (:func:`config_file`)
STAFF_FILE = CONFIG_DIR / "demo_staff.toml"
SANDBOX_ACCOUNTS_FILE = CONFIG_DIR / "sandbox_accounts.toml"


def staff_file() -> Path:
    """The staff register of the province in use."""
    return config_file(STAFF_FILE.name)


def sandbox_accounts_file() -> Path:
    """The sign-in sandbox's demo identities of the province in use."""
    return config_file(SANDBOX_ACCOUNTS_FILE.name)

#: Which demo login shows each role (see config/sandbox_accounts.toml; password "demo").
DEMO_LOGIN_FOR_ROLE = {
    "worker": "worker",
    "employer": "employer",
    "clerk": "clerk",
    "recognition_officer": "officer",
    "appraisal_office": "appraisal",
    "finance": "finance",
    "provincial": "province",
}


def load_staff_register(sess: Session, path: Path | None = None) -> int:
    """Load a staff register (default: the province's, :func:`staff_file`)."""
    with (path or staff_file()).open("rb") as fh:
        entries = tomllib.load(fh)["staff"]
    for entry in entries:
        accounts.upsert_staff_assignment(
            sess, subject=entry["subject"], name=entry["name"], role=entry["role"],
            city_code=entry.get("city_code"), office=entry["office"],
        )
    return len(entries)


def sandbox_accounts() -> tuple[dict[str, Any], ...]:
    return _sandbox_accounts(sandbox_accounts_file())


@lru_cache(maxsize=4)
def _sandbox_accounts(path: Path) -> tuple[dict[str, Any], ...]:
    with path.open("rb") as fh:
        return tuple(tomllib.load(fh)["accounts"])


def demo_identity(username: str) -> Identity:
    """The identity the sandbox would assert for a demo login (tests, demo data)."""
    account = next(a for a in sandbox_accounts() if a["username"] == username)
    return identity_from_claims({k: v for k, v in account.items() if k != "username"})


ACCOUNT_TYPES = {"natural": "个人 natural", "legal": "法人 legal", "staff": "工作人员 staff"}


def demo_accounts_rows() -> list[tuple[str, str, str, str]]:
    """(username, 类型, name, role) of every sandbox demo account, from the two config files."""
    from portal.auth.roles import Role
    from portal.regions import city_name

    with staff_file().open("rb") as fh:
        staff = {entry["subject"]: entry for entry in tomllib.load(fh)["staff"]}
    rows = []
    for account in sandbox_accounts():
        kind = account["account_type"]
        if kind == "natural":
            role = f"{Role.WORKER.label} worker"
        elif kind == "legal":
            role = f"{Role.EMPLOYER.label} employer（{account.get('org_name', '')}）"
        elif account["sub"] in staff:
            entry = staff[account["sub"]]
            where = city_name(entry.get("city_code")) if entry.get("city_code") else "全省"
            role = f"{Role(entry['role']).label} {entry['role']}（{where}）"
        else:
            role = "未授权工作人员：登录将被拒绝 (not authorised: login refused)"
        rows.append((account["username"], ACCOUNT_TYPES.get(kind, kind), account["name"], role))
    return rows
