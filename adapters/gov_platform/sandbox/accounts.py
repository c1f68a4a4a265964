"""Demo accounts of the sandbox, read from ``config/sandbox_accounts.toml``.

Each ``[[accounts]]`` table names one person or unit. Every password is "demo" unless an entry
sets ``password``. Unknown keys are reported (a typo would otherwise drop a claim silently).
"""

from __future__ import annotations

import dataclasses
import hmac
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from adapters.gov_platform.codes import AccountType

#: <project root>/config/sandbox_accounts.toml; this file is adapters/gov_platform/sandbox/accounts.py
DEFAULT_ACCOUNTS_FILE = Path(__file__).resolve().parents[3] / "config" / "sandbox_accounts.toml"
DEMO_PASSWORD = "demo"

log = structlog.get_logger("sandbox.gov_platform")


@dataclass(frozen=True)
class Account:
    """One demo account. Personal fields stay out of ``repr`` so they cannot reach a log."""

    username: str
    sub: str
    account_type: AccountType
    name: str = field(repr=False)
    password: str = field(default=DEMO_PASSWORD, repr=False)
    real_name_level: str | None = None
    id_card_number: str | None = field(default=None, repr=False)
    phone_number: str | None = field(default=None, repr=False)
    uscc: str | None = None
    org_name: str | None = None

    def get_user_id(self) -> str:
        return self.sub


_REQUIRED = ("username", "sub", "account_type", "name")
_KNOWN = frozenset(f.name for f in dataclasses.fields(Account))


class AccountBook:
    """The loaded accounts, looked up by login name or by subject."""

    def __init__(self, accounts: list[Account]):
        self._by_username: dict[str, Account] = {}
        self._by_sub: dict[str, Account] = {}
        for account in accounts:
            if account.username in self._by_username:
                raise ValueError(f"duplicate sandbox username {account.username!r}")
            if account.sub in self._by_sub:
                raise ValueError(f"duplicate sandbox sub {account.sub!r}")
            self._by_username[account.username] = account
            self._by_sub[account.sub] = account

    def __iter__(self):
        return iter(self._by_username.values())

    def __len__(self) -> int:
        return len(self._by_username)

    def by_sub(self, sub: str) -> Account | None:
        return self._by_sub.get(sub)

    def authenticate(self, username: str, password: str) -> Account | None:
        """The account if username and password match, else None (compared in constant time)."""
        account = self._by_username.get(username)
        expected = account.password if account else "\x00 no such account"
        ok = hmac.compare_digest(expected.encode("utf-8"), password.encode("utf-8"))
        return account if (account and ok) else None


def load_accounts(path: Path | None = None) -> AccountBook:
    path = Path(path) if path is not None else DEFAULT_ACCOUNTS_FILE
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    accounts = []
    for index, entry in enumerate(data.get("accounts", [])):
        missing = [key for key in _REQUIRED if not entry.get(key)]
        if missing:
            raise ValueError(f"{path}: accounts[{index}] lacks {', '.join(missing)}")
        unknown = sorted(set(entry) - _KNOWN)
        if unknown:
            log.warning("sandbox_account_unknown_keys", file=str(path), index=index, keys=unknown)
        values = {key: str(value) for key, value in entry.items() if key in _KNOWN}
        try:
            values["account_type"] = AccountType(values["account_type"])
        except ValueError:
            raise ValueError(
                f"{path}: accounts[{index}] has account_type {entry['account_type']!r}; "
                f"expected one of {', '.join(AccountType)}"
            ) from None
        accounts.append(Account(**values))
    if not accounts:
        raise ValueError(f"{path}: no [[accounts]] defined")
    return AccountBook(accounts)
