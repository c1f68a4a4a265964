"""The sandbox's RSA signing key: persisted as PEM in ``key_dir`` so restarts keep it.

Keys are joserfc objects: Authlib 1.9 signs id_tokens with joserfc internally and deprecates
``authlib.jose`` (importing it warns "please use joserfc instead").
The ``kid`` is the RFC 7638 thumbprint, so it changes exactly when the key does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import structlog
from joserfc.jwk import KeySet, RSAKey

SIGNING_ALG = "RS256"
KEY_FILE_NAME = "gov_platform_sandbox_rs256.pem"
KEY_SIZE = 2048

log = structlog.get_logger("sandbox.gov_platform")


@dataclass(frozen=True)
class SigningKey:
    private: RSAKey

    @property
    def kid(self) -> str:
        return self.private.kid  # type: ignore[return-value]

    def public_jwks(self) -> dict:
        """The JWKS document: public parameters only, with kid, use and alg."""
        return {"keys": [self.private.as_dict(private=False)]}

    def public_key_set(self) -> KeySet:
        return KeySet.import_key_set(self.public_jwks())


def _with_kid(key: RSAKey) -> RSAKey:
    params = {"kid": key.thumbprint(), "use": "sig", "alg": SIGNING_ALG}
    return RSAKey.import_key(key.as_pem(private=True), params)


def _create_key_file(path: Path) -> None:
    """Write a fresh key atomically: a complete temporary file, then a hard link that fails if
    another process got there first (both then load the winner's key)."""
    pem = RSAKey.generate_key(KEY_SIZE, private=True).as_pem(private=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        os.link(tmp, path)
        log.info("sandbox_signing_key_created", path=str(path))
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)


def load_or_create_signing_key(key_dir: str | Path | None) -> SigningKey:
    """Load the PEM from ``key_dir``, creating it (mode 0600) on first use; None = in memory."""
    if key_dir is None:
        return SigningKey(_with_kid(RSAKey.generate_key(KEY_SIZE, private=True)))

    key_dir = Path(key_dir)
    key_dir.mkdir(parents=True, exist_ok=True)
    path = key_dir / KEY_FILE_NAME
    if not path.exists():
        _create_key_file(path)
    key = _with_kid(RSAKey.import_key(path.read_bytes()))
    if not key.is_private:
        raise ValueError(f"{path} holds no private key")
    return SigningKey(key)
