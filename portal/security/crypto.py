"""Personal-data encryption at rest (SM4-GCM or AES-GCM) and keyed lookup hashes (HMAC-SM3).

Ciphertext format, stored as text: ``v1.<kid>.<base64url(nonce | ciphertext | tag)>``. The key id
travels with every value so keys can rotate: new values are sealed with the active key, old
values stay readable as long as their key is configured (``portal keys rotate`` re-seals them under the active key).

Equality look-ups ("is this ID number already registered?") go through a keyed hash
(盲索引, blind index): HMAC-SM3 of the normalised value, with the kind of value mixed in so an ID
number and a phone number never collide.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_KID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
_NONCE_BYTES = 12
_TAG_BYTES = 16
VERSION = "v1"


class DecryptionError(ValueError):
    """A stored value could not be decrypted (unknown key id, or tampered ciphertext)."""


@dataclass(frozen=True)
class Keyring:
    keys: dict[str, bytes]
    active: str
    algorithm: str  # "SM4" or "AES"

    def _cipher(self, key: bytes, mode: modes.Mode) -> Cipher:
        algo = algorithms.SM4(key) if self.algorithm == "SM4" else algorithms.AES(key)
        return Cipher(algo, mode)

    def encrypt(self, plaintext: str, context: bytes = b"") -> str:
        """Seal ``plaintext``; ``context`` (e.g. the column name) is bound as associated data."""
        nonce = os.urandom(_NONCE_BYTES)
        enc = self._cipher(self.keys[self.active], modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(context)
        body = enc.update(plaintext.encode("utf-8")) + enc.finalize()
        blob = base64.urlsafe_b64encode(nonce + body + enc.tag).decode("ascii")
        return f"{VERSION}.{self.active}.{blob}"

    def decrypt(self, token: str, context: bytes = b"") -> str:
        try:
            version, kid, blob = token.split(".", 2)
        except ValueError as exc:
            raise DecryptionError("不是密文格式") from exc
        if version != VERSION or kid not in self.keys:
            raise DecryptionError(f"未知的密钥编号 {kid!r}")
        raw = base64.urlsafe_b64decode(blob.encode("ascii"))
        nonce, body, tag = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:-_TAG_BYTES], raw[-_TAG_BYTES:]
        dec = self._cipher(self.keys[kid], modes.GCM(nonce, tag)).decryptor()
        dec.authenticate_additional_data(context)
        try:
            return (dec.update(body) + dec.finalize()).decode("utf-8")
        except InvalidTag as exc:
            raise DecryptionError("密文校验失败（可能被篡改）") from exc

    @staticmethod
    def key_id(token: str) -> str:
        return token.split(".", 2)[1]

    # Files (stored materials) are sealed the same way, as bytes: ``b"v1.<kid>." + nonce |
    # ciphertext | tag`` (no base64). Same keys, same algorithm, same key ids, so an old key stays
    # readable until the files sealed with it are re-sealed under the active key.

    def encrypt_bytes(self, data: bytes, context: bytes = b"") -> bytes:
        """Seal ``data``; ``context`` (e.g. the file's storage key) is bound as associated data."""
        nonce = os.urandom(_NONCE_BYTES)
        enc = self._cipher(self.keys[self.active], modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(context)
        body = enc.update(data) + enc.finalize()
        return f"{VERSION}.{self.active}.".encode("ascii") + nonce + body + enc.tag

    def decrypt_bytes(self, blob: bytes, context: bytes = b"") -> bytes:
        kid = self.bytes_key_id(blob)
        if kid not in self.keys:
            raise DecryptionError(f"未知的密钥编号 {kid!r}")
        raw = blob.split(b".", 2)[2]
        if len(raw) < _NONCE_BYTES + _TAG_BYTES:
            raise DecryptionError("密文过短")
        nonce, body, tag = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:-_TAG_BYTES], raw[-_TAG_BYTES:]
        dec = self._cipher(self.keys[kid], modes.GCM(nonce, tag)).decryptor()
        dec.authenticate_additional_data(context)
        try:
            return dec.update(body) + dec.finalize()
        except InvalidTag as exc:
            raise DecryptionError("密文校验失败（可能被篡改）") from exc

    @staticmethod
    def bytes_key_id(blob: bytes) -> str:
        """The key id a sealed file was encrypted with (for rotation)."""
        parts = blob[:40].split(b".", 2)
        if len(parts) != 3 or parts[0] != VERSION.encode("ascii") or not _KID.match(
                parts[1].decode("ascii", "replace")):
            raise DecryptionError("不是密文格式")
        return parts[1].decode("ascii")


def parse_key_spec(spec: str, *, what: str) -> dict[str, bytes]:
    """``"kid:hex,kid:hex"`` → {kid: key bytes}; ``what`` names the keys in messages."""
    keys: dict[str, bytes] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        kid, sep, hexkey = part.partition(":")
        if not sep or not _KID.match(kid):
            raise ValueError(f"{what}项 {kid!r} 格式应为 编号:十六进制密钥")
        try:
            keys[kid] = bytes.fromhex(hexkey)
        except ValueError as exc:
            raise ValueError(f"{what} {kid} 不是十六进制") from exc
    return keys


def parse_keyring(spec: str, active: str, algorithm: str = "SM4") -> Keyring:
    """Parse ``"kid:hex,kid:hex"``; SM4 keys are 16 bytes, AES keys 32."""
    algorithm = algorithm.upper()
    if algorithm not in ("SM4", "AES"):
        raise ValueError("encryption_algorithm 只能是 SM4 或 AES")
    size = 16 if algorithm == "SM4" else 32
    keys = parse_key_spec(spec, what="密钥")
    for kid, key in keys.items():
        if len(key) != size:
            raise ValueError(f"密钥 {kid} 长度应为 {size} 字节（{algorithm}）")
    if active not in keys:
        raise ValueError(f"当前密钥 {active!r} 不在密钥列表中")
    return Keyring(keys, active, algorithm)


def new_key_hex(algorithm: str = "SM4") -> str:
    return os.urandom(16 if algorithm.upper() == "SM4" else 32).hex()


def sm3_hex(data: bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


def lookup_hash(key: bytes, kind: str, normalised_value: str) -> str:
    """HMAC-SM3 blind index of a normalised value; ``kind`` separates domains."""
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(kind.encode("ascii") + b"\x00" + normalised_value.encode("utf-8"))
    return mac.finalize().hex()
