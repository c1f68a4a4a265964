"""``portal keygen`` (fresh production secrets) and ``portal keys rotate`` (re-encrypt personal
data under the active key)."""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from pathlib import Path

import click
from flask.cli import AppGroup

from portal.cli_support import database, operator, settings


@click.command("keygen")
@click.option("--algorithm", type=click.Choice(["SM4", "AES"], case_sensitive=False), default="SM4",
              show_default=True, help="个人信息加密算法 / personal-data cipher")
def keygen(algorithm: str) -> None:
    """生成生产环境密钥（export 行）/ print fresh production secrets as shell export lines."""
    from portal.security.crypto import new_key_hex

    algorithm = algorithm.upper()
    kid = "k" + datetime.now(timezone.utc).strftime("%Y%m%d")
    lines = [
        "# 门户生产环境密钥 (fresh portal secrets): 存入密钥管理系统，切勿提交到代码库。",
        "# 轮换加密密钥时，把旧的 编号:密钥 保留在 PORTAL_ENCRYPTION_KEYS 中（逗号分隔），旧数据才可读。",
        "# PORTAL_LOOKUP_KEY 一经使用不可更换（盲索引依赖它）。",
        "# PORTAL_OIDC_CLIENT_SECRET: 若省政务服务平台已分配客户端密钥，请改用平台提供的值。",
        f"export PORTAL_SECRET_KEY={secrets.token_urlsafe(48)}",
        f"export PORTAL_ENCRYPTION_ALGORITHM={algorithm}",
        f"export PORTAL_ENCRYPTION_KEYS={kid}:{new_key_hex(algorithm)}",
        f"export PORTAL_ENCRYPTION_ACTIVE_KEY={kid}",
        f"export PORTAL_LOOKUP_KEY={secrets.token_hex(32)}",
        f"export PORTAL_OIDC_CLIENT_SECRET={secrets.token_urlsafe(32)}",
        "# PORTAL_TAX_PLATFORM_KEY: 与税务部门社保费征收平台约定的签名密钥，以双方协商的值为准。",
        f"export PORTAL_TAX_PLATFORM_KEY={secrets.token_urlsafe(32)}",
        "# PORTAL_GOV_PLATFORM_SECRET: 省政务服务平台（一网通办）分配的接口密钥，以平台提供的值为准。",
        f"export PORTAL_GOV_PLATFORM_SECRET={secrets.token_urlsafe(32)}",
        "# PORTAL_AUDIT_KEYS: 审计链密钥，只放在数据库之外；轮换时保留旧的 编号:密钥，旧记录才能校验。",
        f"export PORTAL_AUDIT_KEYS={kid}:{secrets.token_hex(32)}",
        f"export PORTAL_AUDIT_ACTIVE_KEY={kid}",
    ]
    click.echo("\n".join(lines))


@click.group("keys", cls=AppGroup)
def keys_group() -> None:
    """个人信息加密密钥 / personal-data encryption keys."""


@keys_group.command("rotate")
def keys_rotate() -> None:
    """用当前密钥（PORTAL_ENCRYPTION_ACTIVE_KEY）重新加密所有旧密钥加密的个人信息。"""
    from portal.audit import service as audit
    from portal.materials.service import reseal_all_files
    from portal.models import metadata
    from portal.security.fields import keyring
    from portal.security.rotation import reseal_all

    with database().write_transaction() as sess:
        result = reseal_all(sess, metadata, keyring())
        files = reseal_all_files(sess, Path(settings().files_dir), keyring())
        audit.record(sess, operator(), "keys.rotate", detail={
            "active_key": keyring().active, "resealed": result.resealed, "files_resealed": files.resealed})
    click.echo(f"已用密钥 {keyring().active} 重新加密 {result.resealed} 项，{result.already_current} 项无需处理"
               f" / resealed {result.resealed}, {result.already_current} already current")
    click.echo(f"材料文件：重新加密 {files.resealed} 个，{files.already_current} 个无需处理"
               f" / files resealed {files.resealed}, {files.already_current} already current")
