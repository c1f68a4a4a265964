"""``portal api-client create``: issue credentials to another agency's system."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.cli_support import as_operator


@click.group("api-client", cls=AppGroup)
def api_client_group() -> None:
    """其他部门系统的接口凭证 / credentials of other agencies' systems."""


@api_client_group.command("create")
@click.argument("client_id")
@click.option("--name", required=True, help="调用单位名称，如 某市住房和城乡建设局")
@click.option("--scope", "scopes", multiple=True, required=True, help="权限范围，如 project_cover:read")
@click.option("--city", "city_code", default=None, help="所属地市代码；省级调用方不填")
def api_client_create(client_id: str, name: str, scopes: tuple[str, ...], city_code: str | None) -> None:
    """签发接口凭证；密钥只显示这一次。"""
    from portal.api.clients import create_client

    issued = as_operator(create_client, client_id=client_id, name=name, scopes=list(scopes),
                         city_code=city_code)
    click.echo(f"调用方编号 client id: {issued.client_id}\n密钥 secret（只显示一次 / shown once）: {issued.secret}")
