"""The `portal` command: migrations, audit verification, keys, sessions, staff register."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from portal import create_app, migrate
from portal.accounts.models import StaffAssignment
from portal.auth.models import WebSession
from portal.cli import cli
from portal.config import ConfigError, load_settings, validate
from portal.db import utcnow
from portal.demo import STAFF_FILE, demo_accounts_rows
from portal.security.crypto import parse_keyring
from tests.conftest import settings_for_tests
from tests.helpers import tamper_with_audit_trail


def _head(url: str) -> str:
    return ScriptDirectory.from_config(migrate.alembic_config(url)).get_current_head()


def _invoke(app, *args):
    return app.test_cli_runner().invoke(cli, list(args), catch_exceptions=False)


def test_db_current_names_the_head(app):
    url = app.config["PORTAL_SETTINGS"].database_url
    result = _invoke(app, "db", "current")
    assert result.exit_code == 0, result.output
    assert f"{_head(url)} (head)" in result.output


def test_flask_app_cli_offers_the_same_commands(app):
    # `flask --app portal db current` = `portal db current`
    result = app.test_cli_runner().invoke(args=["db", "current"])
    assert result.exit_code == 0 and "(head)" in result.output
    assert {"demo", "serve", "sandbox", "worker", "db", "audit", "keygen", "sessions",
            "staff"} <= set(app.cli.commands)


def test_db_upgrade_downgrade_current_on_a_fresh_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    app = create_app(settings_for_tests(url, tmp_path))
    try:
        first = _invoke(app, "db", "current")
        assert "尚未迁移" in first.output or "不存在" in first.output
        assert _invoke(app, "db", "upgrade").exit_code == 0
        assert f"{_head(url)} (head)" in _invoke(app, "db", "current").output
        down = _invoke(app, "db", "downgrade", "-1")
        assert down.exit_code == 0
        behind = _invoke(app, "db", "current").output
        assert "pending migrations" in behind and "(head)" not in behind.split("pending")[0]
        assert _invoke(app, "db", "downgrade", "base").exit_code == 0
        assert "尚未迁移" in _invoke(app, "db", "current").output
        assert _invoke(app, "db", "upgrade", "head").exit_code == 0
        assert "(head)" in _invoke(app, "db", "current").output
    finally:
        app.extensions["portal.database"].dispose()


def test_audit_verify_ok(app, client, login_as):
    login_as(client, "provincial")
    login_as(client, "clerk")
    result = _invoke(app, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert "审计链完整：共 2 条" in result.output


def test_audit_verify_on_an_empty_trail(app):
    result = _invoke(app, "audit", "verify")
    assert result.exit_code == 0 and "审计链完整：共 0 条" in result.output


def test_audit_verify_names_the_tampered_row(app, client, login_as):
    login_as(client, "provincial")
    login_as(client, "clerk")
    login_as(client, "worker")
    tamper_with_audit_trail(app.extensions["portal.database"].engine,
                            "UPDATE audit_event SET action = 'login.failure' WHERE seq = 2")
    result = _invoke(app, "audit", "verify")
    assert result.exit_code == 1
    assert "第 2 条记录内容被改动" in result.output
    assert "审计链校验失败" in result.output
    assert "第 1 条" not in result.output and "第 3 条" not in result.output  # only row 2 is wrong


def test_keygen_prints_export_lines_that_production_accepts(app):
    result = _invoke(app, "keygen")
    assert result.exit_code == 0
    exports = dict(line[len("export "):].split("=", 1)
                   for line in result.output.splitlines() if line.startswith("export "))
    assert set(exports) == {"PORTAL_SECRET_KEY", "PORTAL_ENCRYPTION_ALGORITHM", "PORTAL_ENCRYPTION_KEYS",
                            "PORTAL_ENCRYPTION_ACTIVE_KEY", "PORTAL_LOOKUP_KEY", "PORTAL_OIDC_CLIENT_SECRET",
                            "PORTAL_TAX_PLATFORM_KEY", "PORTAL_GOV_PLATFORM_SECRET", "PORTAL_AUDIT_KEYS",
                            "PORTAL_AUDIT_ACTIVE_KEY"}
    assert all(line.startswith(("export ", "#")) for line in result.output.splitlines() if line)
    keyring = parse_keyring(exports["PORTAL_ENCRYPTION_KEYS"], exports["PORTAL_ENCRYPTION_ACTIVE_KEY"],
                            exports["PORTAL_ENCRYPTION_ALGORITHM"])
    assert keyring.decrypt(keyring.encrypt("340104199003071235")) == "340104199003071235"
    environ = {**exports, "PORTAL_ENV": "production"}
    validate(load_settings(environ=environ), environ=environ)  # no ConfigError
    again = _invoke(app, "keygen").output
    assert exports["PORTAL_SECRET_KEY"] not in again  # fresh every time


def test_keygen_aes_keys_are_32_bytes(app):
    output = _invoke(app, "keygen", "--algorithm", "aes").output
    exports = dict(line[7:].split("=", 1) for line in output.splitlines() if line.startswith("export "))
    assert exports["PORTAL_ENCRYPTION_ALGORITHM"] == "AES"
    assert len(bytes.fromhex(exports["PORTAL_ENCRYPTION_KEYS"].split(":")[1])) == 32


def test_production_refuses_development_secrets():
    environ = {"PORTAL_ENV": "production"}
    try:
        validate(load_settings(environ=environ), environ=environ)
    except ConfigError as exc:
        assert "PORTAL_SECRET_KEY" in str(exc)
    else:
        raise AssertionError("production with development secrets was accepted")


def test_sessions_purge(app):
    database = app.extensions["portal.database"]
    now = utcnow()
    with database.write_transaction() as sess:
        sess.add(WebSession(id="1" * 64, data={}, created_at=now, last_seen_at=now))
        sess.add(WebSession(id="2" * 64, data={}, created_at=now, last_seen_at=now - timedelta(hours=2)))
    result = _invoke(app, "sessions", "purge")
    assert result.exit_code == 0 and "已删除 1 个失效会话" in result.output
    with database.read_session() as sess:
        assert sess.execute(sa.select(WebSession.id)).scalars().all() == ["1" * 64]


def test_staff_load_is_idempotent(app):
    for _ in range(2):
        result = _invoke(app, "staff", "load", str(STAFF_FILE))
        assert result.exit_code == 0 and "已载入 6 条工作人员授权" in result.output
    with app.extensions["portal.database"].read_session() as sess:
        assert sess.execute(sa.select(sa.func.count()).select_from(StaffAssignment)).scalar_one() == 6


def test_staff_load_refuses_a_bad_register(app, tmp_path):
    bad = Path(tmp_path / "staff.toml")
    bad.write_text('[[staff]]\nsubject = "st-1"\nname = "某人"\nrole = "worker"\noffice = "某处"\n',
                   encoding="utf-8")
    result = app.test_cli_runner().invoke(cli, ["staff", "load", str(bad)])
    assert result.exit_code == 1
    assert "不是工作人员角色" in result.output
    with app.extensions["portal.database"].read_session() as sess:
        assert sess.execute(sa.select(sa.func.count()).select_from(StaffAssignment)).scalar_one() == 0


def test_demo_accounts_table_marks_the_stranger():
    rows = {row[0]: row for row in demo_accounts_rows()}
    assert rows["stranger"][1].startswith("工作人员") and "未授权工作人员" in rows["stranger"][3]
    assert rows["province"][3].startswith("省级管理人员")
    assert rows["clerk-wuhu"][3].startswith("经办人员") and "芜湖" in rows["clerk-wuhu"][3]
    assert rows["worker"][3].startswith("个人") and rows["employer"][3].startswith("用人单位")


def test_demo_binds_only_loopback():
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, ["demo", "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "只能绑定本机回环地址" in result.output
