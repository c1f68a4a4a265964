"""SQLAlchemy column type for personal data encrypted at rest.

The keyring is installed once at start-up (:func:`install_keyring`) from configuration; columns
use it when values are bound and loaded. Each value is bound to its column name as associated
data, so a ciphertext copied into another column does not decrypt.
"""

from __future__ import annotations

from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

from portal.security.crypto import Keyring

_keyring: Keyring | None = None
_lookup_key: bytes | None = None


def install_keyring(keyring: Keyring, lookup_key: bytes) -> None:
    global _keyring, _lookup_key
    _keyring, _lookup_key = keyring, lookup_key


def keyring() -> Keyring:
    if _keyring is None:
        raise RuntimeError("personal-data keyring not installed (create the app first)")
    return _keyring


def lookup_key() -> bytes:
    if _lookup_key is None:
        raise RuntimeError("lookup key not installed (create the app first)")
    return _lookup_key


class EncryptedText(TypeDecorator[str]):
    """Text column holding ``v1.<kid>.<ciphertext>``; Python sees the plaintext."""

    impl = Text
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context.encode("ascii")

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        return None if value is None else keyring().encrypt(value, self.context)

    def process_result_value(self, value: str | None, dialect) -> str | None:
        return None if value is None else keyring().decrypt(value, self.context)
