"""``portal staff load FILE|disable SUBJECT``: the staff register (工作人员授权)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import click
from flask.cli import AppGroup

from portal.cli_support import database, subject_command


@click.group("staff", cls=AppGroup)
def staff_group() -> None:
    """工作人员授权 / the staff register."""


@staff_group.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def staff_load(file: Path) -> None:
    """载入工作人员授权文件（格式同 config/demo_staff.toml），可重复执行。"""
    from portal.demo import load_staff_register
    from portal.errors import DomainError

    try:
        with database().write_transaction() as sess:
            count = load_staff_register(sess, file)
    except tomllib.TOMLDecodeError as exc:
        raise click.ClickException(f"{file} 不是有效的 TOML：{exc}") from exc
    except KeyError as exc:
        raise click.ClickException(f"{file} 缺少字段 {exc}（每条 [[staff]] 需要 subject、name、role、office）") from exc
    except DomainError as exc:
        raise click.ClickException(f"{file}：{exc.message}") from exc
    click.echo(f"已载入 {count} 条工作人员授权 / loaded {count} staff assignments from {file}")


staff_group.add_command(subject_command(
    "disable", "portal.accounts.service:deactivate_staff",
    help="撤销某工作人员的授权并立即注销其会话（调离、离职）。",
    done="已撤销 {subject} 的授权，注销 {count} 个会话 / disabled {subject}, revoked {count} sessions"))
