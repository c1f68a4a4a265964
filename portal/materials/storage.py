"""Encrypted file storage under ``files_dir`` (outside ``static/``; never served as a static file).

Each stored file is one file on disk named by a random key, in two levels of subdirectories
(``ab/cd/abcd…``) so no directory grows huge. The content is sealed with the personal-data
keyring (SM4-GCM by default) with the key as associated data, so a file copied under another
name does not decrypt. Writes go to a temporary file that is renamed into place: a reader never
sees half a file.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from portal.security.crypto import Keyring

_KEY = re.compile(r"^[0-9a-f]{32}$")


def new_storage_key() -> str:
    return secrets.token_hex(16)


def path_for(files_dir: Path, key: str) -> Path:
    if not _KEY.match(key):  # keys are ours; anything else is a bug or tampering
        raise ValueError("invalid storage key")
    return Path(files_dir) / key[:2] / key[2:4] / key


def _context(key: str) -> bytes:
    return key.encode("ascii")


def write(files_dir: Path, keyring: Keyring, data: bytes, key: str | None = None) -> str:
    """Seal ``data`` into a new file (or replace ``key``'s file atomically); returns the key."""
    key = key or new_storage_key()
    target = path_for(files_dir, key)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    blob = keyring.encrypt_bytes(data, _context(key))
    temp = target.with_name(f".{key}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temp, "xb") as fh:
            fh.write(blob)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    return key


def read(files_dir: Path, keyring: Keyring, key: str) -> bytes:
    return keyring.decrypt_bytes(path_for(files_dir, key).read_bytes(), _context(key))


def key_id(files_dir: Path, key: str) -> str:
    """Which encryption key sealed the file (for rotation)."""
    with open(path_for(files_dir, key), "rb") as fh:
        return Keyring.bytes_key_id(fh.read(64))


def reseal(files_dir: Path, keyring: Keyring, key: str) -> bool:
    """Re-encrypt one file under the active key; False when it already is."""
    if key_id(files_dir, key) == keyring.active:
        return False
    write(files_dir, keyring, read(files_dir, keyring, key), key=key)
    return True
