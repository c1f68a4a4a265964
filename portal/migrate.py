"""Alembic, driven from Python (``portal db upgrade``); no create_all outside tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    cfg.set_main_option(
        "file_template",
        "%%(year)d%%(month).2d%%(day).2d_%%(hour).2d%%(minute).2d_%%(rev)s_%%(slug)s",
    )
    cfg.set_main_option("truncate_slug_length", "40")
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def current(database_url: str) -> None:
    command.current(alembic_config(database_url), verbose=False)


def revision(database_url: str, message: str, autogenerate: bool = True) -> None:
    command.revision(alembic_config(database_url), message=message, autogenerate=autogenerate)


def migration_url(settings) -> str:
    """Migrations run as the owner role (``migration_database_url``), the portal as a runtime
    role that cannot TRUNCATE, ALTER or DROP; empty means the one ``database_url``."""
    return settings.migration_database_url or settings.database_url


def grant_runtime_statements(role: str, schema: str = "public") -> list[str]:
    """What the owner grants the runtime role (PostgreSQL): rows only, never TRUNCATE, REFERENCES,
    TRIGGER or DDL (those stay with the owner, who is not granted away); no deleting audit rows
    or the chain head, no writing the migration version. Default privileges cover tables and
    sequences later migrations create."""
    import re

    for name in (role, schema):
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            raise ValueError(f"角色名或模式名只能由小写字母、数字和下划线组成：{name!r}")
    return [
        f"GRANT USAGE ON SCHEMA {schema} TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {role}",
        f"REVOKE DELETE ON {schema}.audit_event, {schema}.audit_chain_head FROM {role}",
        f"REVOKE INSERT, UPDATE, DELETE ON {schema}.alembic_version FROM {role}",
    ]
