"""``portal audit verify`` and ``portal audit checkpoint``: the audit trail's keyed chain."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from portal.cli_support import database


@click.group("audit", cls=AppGroup)
def audit_group() -> None:
    """审计日志 / audit trail."""


@audit_group.command("verify")
@click.option("--checkpoints", "checkpoint_files", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="另外读取的检查点文件（如日志服务器收到的 syslog 检查点）/ extra checkpoint file")
def audit_verify(checkpoint_files: tuple[Path, ...]) -> None:
    """校验审计日志哈希链及检查点；有问题时逐条列出并以状态 1 退出。"""
    from portal.audit.service import verify

    with database().read_session() as sess:
        report = verify(sess, checkpoint_files=checkpoint_files)
    if report.ok:
        click.echo(f"审计链完整：共 {report.checked} 条 (audit chain intact: {report.checked} rows)")
        return
    for problem in report.problems:
        click.echo(problem)
    click.echo(f"审计链校验失败：共检查 {report.checked} 条，发现 {len(report.problems)} 个问题 "
               f"(audit chain broken)")
    sys.exit(1)


@audit_group.command("checkpoint")
def audit_checkpoint() -> None:
    """封链并把链头的签名检查点写到所有检查点去处 (seal, then anchor the chain head outside the
    database); every sink failing is exit status 1."""
    from portal.audit.service import write_checkpoint

    with database().read_session() as sess:
        result = write_checkpoint(sess)
    cp = result.checkpoint
    for sink in result.failed_sinks:
        click.echo(f"检查点写入失败 / checkpoint sink failed: {sink}", err=True)
    if result.failed_sinks and len(result.failed_sinks) == len(_sinks()):
        sys.exit(1)
    click.echo(f"检查点已写入：第 {cp.seq} 条，哈希 {cp.hash[:12]}…，密钥 {cp.key_id}，节点 {cp.node} "
               f"(checkpoint written: seq {cp.seq})")


def _sinks():
    from portal.audit.keys import installed

    return installed().sinks
