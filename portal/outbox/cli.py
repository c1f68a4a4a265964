"""``portal outbox dispatch|status``: deliver due outbox messages now, or see what waits.

Exit status of ``status``: 0 nothing failing, 1 some messages have failed at least once and are
still pending (an operator should look at ``last_error``).
"""

from __future__ import annotations

import sys
from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup

from portal.cli_support import database, format_table
from portal.localtime import to_local


def _local(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    moment = to_local(moment)
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M:%S}"


@click.group("outbox", cls=AppGroup)
def outbox_group() -> None:
    """发件箱：向省政务服务平台等外部平台的上报 / the outbox of reports to external platforms."""


@outbox_group.command("dispatch")
def outbox_dispatch() -> None:
    """立即投递到期的消息（与每分钟的后台任务相同，可同时运行）/ deliver due messages now."""
    from portal.tasks.outbox import dispatch_outbox

    counts = dispatch_outbox(current_app._get_current_object())  # type: ignore[attr-defined]
    click.echo(f"投递成功 {counts['delivered']} 条，失败待重试 {counts['failed']} 条 "
               f"/ delivered {counts['delivered']}, failed (will retry) {counts['failed']}")


@outbox_group.command("status")
def outbox_status() -> None:
    """待投递、失败重试中的消息 / pending and failing messages."""
    from portal.outbox import service as outbox

    with database().read_session() as sess:
        report = outbox.status(sess)
        rows = [(m.aggregate, m.topic, str(m.attempts), _local(m.next_attempt_at), (m.last_error or "")[:60])
                for m in report.stuck]
    click.echo(f"已投递 delivered: {report.delivered}  待投递 pending: {report.pending}  "
               f"其中失败重试中 failing: {report.failing}  最早待投递 oldest pending: {_local(report.oldest_pending_at)}")
    if rows:
        click.echo(format_table(("办件 aggregate", "主题 topic", "次数 attempts", "下次 next", "错误 last error"), rows))
        sys.exit(1)
