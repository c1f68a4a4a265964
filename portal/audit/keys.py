"""The audit trail's keys and checkpoint sinks, from configuration (never from the database).

``audit_keys`` is a keyring like ``encryption_keys``: ``"kid:hex,kid:hex"``; new rows and
checkpoints are MACed (HMAC-SM3) with ``audit_active_key`` and record its id, older keys stay
configured so older rows keep verifying. The settings are installed once at start-up
(:func:`install`), like the personal-data keyring, so services stay free of Flask.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes, hmac

from portal.config import PROJECT_ROOT
from portal.security.crypto import parse_key_spec

MIN_KEY_BYTES, MAX_KEY_BYTES = 16, 64


@dataclass(frozen=True)
class AuditKeys:
    keys: dict[str, bytes]
    active: str

    def mac(self, kid: str, purpose: bytes, data: bytes) -> str:
        """HMAC-SM3 under key ``kid``; ``purpose`` separates rows, links and checkpoints."""
        mac = hmac.HMAC(self.keys[kid], hashes.SM3())
        mac.update(purpose + b"\x00" + data)
        return mac.finalize().hex()


def parse_audit_keys(spec: str, active: str) -> AuditKeys:
    keys = parse_key_spec(spec, what="审计密钥")
    for kid, key in keys.items():
        if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
            raise ValueError(f"审计密钥 {kid} 长度应为 {MIN_KEY_BYTES}–{MAX_KEY_BYTES} 字节")
    if active not in keys:
        raise ValueError(f"当前审计密钥 {active!r} 不在 audit_keys 中")
    return AuditKeys(keys, active)


@dataclass(frozen=True)
class Sink:
    """Where checkpoints go: ``file`` (path) or ``syslog`` (host, port over UDP)."""

    kind: str
    path: Path | None = None
    host: str = ""
    port: int = 0

    def __str__(self) -> str:
        return f"file:{self.path}" if self.kind == "file" else f"syslog://{self.host}:{self.port}"


def parse_sinks(spec: str) -> tuple[Sink, ...]:
    sinks = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        if part.startswith("file:"):
            path = Path(part[len("file:"):])
            if not str(path):
                raise ValueError("检查点文件路径为空")
            sinks.append(Sink("file", path=path if path.is_absolute() else PROJECT_ROOT / path))
        elif part.startswith("syslog://"):
            host, sep, port = part[len("syslog://"):].rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"syslog 检查点地址应为 syslog://主机:端口，实际为 {part!r}")
            sinks.append(Sink("syslog", host=host.strip("[]"), port=int(port)))
        else:
            raise ValueError(f"audit_checkpoint_sink 只支持 file:路径 或 syslog://主机:端口，实际为 {part!r}")
    if not sinks:
        raise ValueError("audit_checkpoint_sink 不能为空：检查点是数据库之外的防线")
    return tuple(sinks)


@dataclass(frozen=True)
class AuditSettings:
    keys: AuditKeys
    sinks: tuple[Sink, ...]
    interval_s: int
    node: str


_installed: AuditSettings | None = None


def install(settings) -> AuditSettings:
    """Install the audit keys and sinks from the portal settings (called by the app factory)."""
    global _installed
    _installed = AuditSettings(
        keys=parse_audit_keys(settings.audit_keys, settings.audit_active_key),
        sinks=parse_sinks(settings.audit_checkpoint_sink),
        interval_s=int(settings.audit_checkpoint_interval_s),
        node=socket.gethostname(),
    )
    return _installed


def installed() -> AuditSettings:
    if _installed is None:
        raise RuntimeError("audit keys not installed (create the app first)")
    return _installed
