"""``portal benefits estimate``: the benefits engine from the command line, so anyone can check it
against their own cases.

    echo '{"date": "2024-05-10", "outcome": "disability", "grade": 4,
           "own_monthly_wage": "5432.17"}' | portal benefits estimate

Reads ONE case as a JSON object on standard input and prints JSON on standard output:

    {"items": [{"code", "amount", "period", "payer", "explanation"}, ...],
     "totals": {"one_off", "monthly"}, "notes": [...]}

Amounts are decimal strings in yuan, each rounded once to the fen, half-up (``benefits.rounding``);
``period`` is ``one_off`` or ``monthly``; ``payer`` is ``fund`` (工伤保险基金) or ``employer``
(用人单位). Input fields: see :mod:`portal.benefits.facts` and README "待遇测算". Near retirement,
give either ``years_to_retirement`` or ``birth_date`` (ISO) + ``sex`` (``male``/``female``) +, for a
woman, ``original_retirement_age`` (50 or 55): the statutory retirement age then follows the 2025
gradual reform (:mod:`portal.policy.retirement`); both at once is refused.

Bad input: exit status 2, the same Chinese messages as the estimator page, one per line on
standard error as "field（名称）：message", and ``{"errors": [{"field", "message"}, ...]}`` on
standard output. A field the estimate does not read is refused the same way (exit status 2), so a
typo in an optional field never goes unseen. No database or configuration is needed: policy figures come from
``config/policy/benefits.toml``.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal

import click

from portal.benefits.engine import estimate
from portal.benefits.facts import (
    FIELD_LABELS,
    FieldError,
    InvalidFacts,
    parse_facts,
)
from portal.localtime import local_today

EXIT_INVALID = 2


def _fail(errors: list[FieldError]) -> None:
    click.echo(json.dumps({"errors": [e.as_dict() for e in errors]}, ensure_ascii=False, indent=2))
    for e in errors:
        click.echo(_named(e), err=True)
    sys.exit(EXIT_INVALID)


def _named(e: FieldError) -> str:
    """'field（名称）：message'"""
    name = FIELD_LABELS.get(e.field.split(".")[0], "")
    return f"{e.field}（{name}）：{e.message}" if name else f"{e.field}：{e.message}"


@click.group("benefits")
def benefits_group() -> None:
    """工伤保险待遇测算 / work-injury benefits."""


@benefits_group.command("estimate")
def estimate_command() -> None:
    """从标准输入读一个案件（JSON），输出各项待遇（JSON）/ estimate the benefits of one case.

    距法定退休年龄：填 years_to_retirement，或填 birth_date、sex（male/female）和女职工的
    original_retirement_age（50或55），两者只填一种；不认识的字段会被拒绝。
    """
    text = sys.stdin.read()
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        _fail([FieldError("case", f"输入不是有效的 JSON（第{exc.lineno}行第{exc.colno}列：{exc.msg}）")])
        return
    today = local_today()
    try:
        facts = parse_facts(data, today=today)
        result = estimate(facts, as_of=today)
    except InvalidFacts as exc:
        _fail(exc.errors)
        return
    for note in result.field_notes:  # a missing or provisional figure: said, the rest computed
        click.echo(f"提示：{_named(note)}", err=True)
    click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
