"""``portal deadline``: the statutory clocks from the command line, for checking against a calendar.

    portal deadline RULE START_DATE [--suspended-days N]
    portal deadline --list

Prints the due date (ISO) on the first line — followed on that line by `` 暂定`` when it rests on
a year whose holiday arrangement is not confirmed yet (e.g. ``2027-06-01 暂定``) — then whether
the rule counts working or calendar days, then the explanation (which says why a date is 暂定).
The province's holiday overrides and confirmed years in the configured database apply when it is
reachable; without them the calendar library (and, for later years, the provisional statutory
holidays) is used. A year no source covers is an error (exit 2), never a guess.
"""

from __future__ import annotations

from datetime import date, timedelta

import click

from portal.clocks.deadlines import Pause, PauseKind, Unit, deadline, rule, rules
from portal.errors import UserInputError

COUNTING = {Unit.WORKING_DAYS: "working days (工作日)", Unit.CALENDAR_DAYS: "calendar days (日)",
            Unit.MONTHS: "calendar days (日), period in months (个月)",
            Unit.YEARS: "calendar days (日), period in years (年)"}


def _calendar():
    """The portal's working-day calendar with the province's overrides and confirmed years,
    when a DB is there (the command runs without an app context: the app is loaded here)."""
    from flask import current_app, has_app_context
    from flask.cli import ScriptInfo

    from portal.clocks.service import work_calendar

    try:
        if has_app_context():
            app = current_app._get_current_object()
        else:
            ctx = click.get_current_context(silent=True)
            info = ctx.find_object(ScriptInfo) if ctx is not None else None
            if info is None:
                return None
            app = info.load_app()
        with app.app_context(), app.extensions["portal.database"].read_session() as sess:
            return work_calendar(sess)
    except Exception:  # no database yet (e.g. a fresh checkout): the library alone
        return None


def _suspension(r, start: date, days: int, cal) -> list[Pause]:
    """N days of stopped clock right after the start event, in the rule's own unit."""
    if days == 0:
        return []
    kinds = [k for k in (PauseKind.SUSPENSION, PauseKind.SUPPLEMENT, PauseKind.RESCHEDULE, PauseKind.TOLLING)
             if k in r.pausable_by]
    if not kinds:
        raise UserInputError(f"期限“{r.title}”依法不因中止而停止计算，不能指定 --suspended-days")
    first = start + timedelta(days=1)
    last = first + timedelta(days=days - 1)
    if r.counts_working_days:
        from portal.clocks.calendar import LIBRARY_ONLY

        calendar = cal or LIBRARY_ONLY
        counted, day = 0, start
        while counted < days:
            day += timedelta(days=1)
            if calendar.is_working_day(day):
                counted += 1
        last = day
    return [Pause(first, last, kinds[0], "命令行指定的中止天数")]


@click.command("deadline")
@click.argument("rule_name", required=False)
@click.argument("start_date", required=False)
@click.option("--suspended-days", type=click.IntRange(min=0, max=3650), default=0,
              help="计时中止的天数（按该期限的计算单位：工作日或日）")
@click.option("--list", "list_rules", is_flag=True, help="列出全部期限规则")
def deadline_command(rule_name: str | None, start_date: str | None, suspended_days: int,
                     list_rules: bool) -> None:
    """计算法定期限的届满日 / compute a statutory deadline."""
    if list_rules:
        for r in rules():
            kind = "working days" if r.counts_working_days else "calendar days"
            click.echo(f"{r.key}\t{r.period_label}\t{kind}\t{r.title}\t{r.basis}\t{r.source}\t[{r.confidence}]")
        return
    if not rule_name or not start_date:
        raise click.UsageError("用法：portal deadline RULE START_DATE [--suspended-days N]，或 portal deadline --list")
    try:
        start = date.fromisoformat(start_date)
    except ValueError as exc:
        raise click.UsageError(f"日期 {start_date!r} 格式不正确，应为 YYYY-MM-DD") from exc
    cal = _calendar()
    try:
        r = rule(rule_name, start)
        result = deadline(r, start, _suspension(r, start, suspended_days, cal), calendar=cal)
    except UserInputError as exc:
        hint = getattr(exc, "staff_hint", None)
        click.echo(f"{exc.message}；{hint}" if hint else exc.message, err=True)
        raise SystemExit(2) from exc
    first = result.due_date.isoformat() if result.due_date else "paused"
    click.echo(f"{first} 暂定" if result.provisional else first)
    click.echo(COUNTING[r.unit])
    click.echo(result.explanation)
