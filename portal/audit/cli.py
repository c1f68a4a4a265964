"""``portal audit verify``: check the audit trail's hash chain."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from portal.cli_support import database


@click.group("audit", cls=AppGroup)
def audit_group() -> None:
    """审计日志 / audit trail."""


@audit_group.command("verify")
def audit_verify() -> None:
    """校验审计日志哈希链；有问题时逐条列出并以状态 1 退出。"""
    from portal.audit.service import verify

    with database().read_session() as sess:
        report = verify(sess)
    if report.ok:
        click.echo(f"审计链完整：共 {report.checked} 条 (audit chain intact: {report.checked} rows)")
        return
    for problem in report.problems:
        click.echo(problem)
    click.echo(f"审计链校验失败：共检查 {report.checked} 条，发现 {len(report.problems)} 个问题 "
               f"(audit chain broken)")
    sys.exit(1)
