"""Signed checkpoints of the audit chain's head, kept outside the database.

A checkpoint says "at time T, on node N, the chain ended at row SEQ with hash H", MACed with the
active audit key (its id included). It is written to every configured sink: an append-only JSON
lines file (default) and/or a syslog server over UDP (RFC 5424), which is where the database's
administrators cannot reach. ``verify`` then fails on a trail shorter than the last checkpoint or
whose row SEQ no longer has hash H; a checkpoint whose MAC does not match is reported as forged.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

import structlog

from portal.audit.keys import AuditSettings, Sink

log = structlog.get_logger(__name__)

KIND = "portal.audit.checkpoint"
_PURPOSE = b"audit-checkpoint"
#: syslog facility 13 (log audit), severity 6 (informational)
_SYSLOG_PRI = 13 * 8 + 6


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: str
    node: str
    key_id: str
    mac: str = ""

    def payload(self) -> dict:
        return {"kind": KIND, "seq": self.seq, "hash": self.hash, "at": self.at, "node": self.node,
                "key_id": self.key_id}

    def signed_bytes(self) -> bytes:
        return json.dumps(self.payload(), sort_keys=True, separators=(",", ":")).encode("utf-8")

    def line(self) -> str:
        return json.dumps({**self.payload(), "mac": self.mac}, sort_keys=True, separators=(",", ":"))


def sign(settings: AuditSettings, seq: int, head_hash: str, at: datetime | None = None) -> Checkpoint:
    at = (at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    unsigned = Checkpoint(seq=seq, hash=head_hash, at=at.isoformat(timespec="seconds"),
                          node=settings.node, key_id=settings.keys.active)
    mac = settings.keys.mac(unsigned.key_id, _PURPOSE, unsigned.signed_bytes())
    return Checkpoint(**{**unsigned.__dict__, "mac": mac})


def write(settings: AuditSettings, checkpoint: Checkpoint) -> list[str]:
    """Write to every sink; returns the sinks that failed (each logged). A file is appended to
    and fsynced; a syslog datagram is sent once (UDP: the file sink is the one read back)."""
    failed = []
    for sink in settings.sinks:
        try:
            if sink.kind == "file":
                _append(sink.path, checkpoint.line())
            else:
                _send_syslog(sink, settings.node, checkpoint.line())
        except OSError:
            log.exception("audit.checkpoint_sink_failed", sink=str(sink))
            failed.append(str(sink))
    return failed


def _append(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, (line + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def _send_syslog(sink: Sink, node: str, line: str) -> None:
    stamp = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    message = f"<{_SYSLOG_PRI}>1 {stamp} {node or '-'} portal-audit {os.getpid()} checkpoint - {line}"
    family = socket.AF_INET6 if ":" in sink.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.sendto(message.encode("utf-8"), (sink.host, sink.port))


@dataclass
class CheckpointRead:
    valid: list[Checkpoint]
    problems: list[str]


def read(settings: AuditSettings, extra_files: Iterable[Path] = ()) -> CheckpointRead:
    """Every checkpoint in the file sinks and ``extra_files`` (e.g. the log server's file of the
    syslog sink); lines of other programs are skipped, a checkpoint whose MAC fails or whose key
    id is not configured is a problem."""
    result = CheckpointRead([], [])
    files = [s.path for s in settings.sinks if s.kind == "file"] + list(extra_files)
    for path in files:
        if not path.exists():
            continue
        with path.open(encoding="utf-8", errors="replace") as fh:
            for number, raw in enumerate(fh, 1):
                if KIND not in raw:
                    continue
                where = f"{path.name} 第 {number} 行 / {path.name} line {number}"
                try:
                    data = json.loads(raw[raw.index("{"):])
                    checkpoint = Checkpoint(seq=int(data["seq"]), hash=str(data["hash"]), at=str(data["at"]),
                                            node=str(data["node"]), key_id=str(data["key_id"]),
                                            mac=str(data["mac"]))
                except (ValueError, KeyError, TypeError):
                    result.problems.append(f"检查点无法解析：{where}: unreadable checkpoint")
                    continue
                if checkpoint.key_id not in settings.keys.keys:
                    result.problems.append(f"检查点的密钥编号 {checkpoint.key_id} 未配置：{where}: unknown key id")
                    continue
                expected = settings.keys.mac(checkpoint.key_id, _PURPOSE, checkpoint.signed_bytes())
                if expected != checkpoint.mac:
                    result.problems.append(f"检查点签名无效（伪造或被改动）：{where}: forged or edited checkpoint")
                    continue
                result.valid.append(checkpoint)
    return result
