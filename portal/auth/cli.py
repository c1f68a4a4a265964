"""``portal sessions purge|revoke SUBJECT``: the server-side sessions."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.cli_support import database, settings, subject_command


@click.group("sessions", cls=AppGroup)
def sessions_group() -> None:
    """服务端会话 / server-side sessions."""


@sessions_group.command("purge")
def sessions_purge() -> None:
    """删除已失效的会话（已注销、空闲超时或超过最长时限）。"""
    from portal.auth.sessions import purge_dead_sessions

    with database().write_transaction() as sess:
        deleted = purge_dead_sessions(sess, settings().session_idle_minutes)
    click.echo(f"已删除 {deleted} 个失效会话 / purged {deleted} dead sessions")


sessions_group.add_command(subject_command(
    "revoke", "portal.accounts.service:revoke_sessions_of",
    help="立即注销某账号（统一身份认证平台标识 SUBJECT）的全部会话。",
    done="已注销 {count} 个会话 / revoked {count} sessions of {subject}"))
