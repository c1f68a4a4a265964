"""Portal configuration: defaults in ``config/portal.toml``, overridden by ``PORTAL_*``.

The settings object is read once at start-up and is read-only afterwards. ``validate()``
refuses unsafe production values with a message that says what to change.
"""

from __future__ import annotations

import os
import sys
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import structlog

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: this project's configuration: the defaults file and the Anhui province's data
CONFIG_DIR = PROJECT_ROOT / "config"
DEFAULTS_FILE = CONFIG_DIR / "portal.toml"
ENV_PREFIX = "PORTAL_"

#: the province configuration in use outside an app (setting ``config_dir``): from
#: ``PORTAL_CONFIG_DIR`` at import, so CLI and worker processes read their province's files before
#: any app exists; ``create_app`` sets it again from its settings
_active_config_dir: Path = (PROJECT_ROOT / os.environ["PORTAL_CONFIG_DIR"].strip()  # relative: to the root
                           if os.environ.get("PORTAL_CONFIG_DIR", "").strip() else CONFIG_DIR)

# Keys whose default value is a development secret: production must override them.
DEVELOPMENT_SECRETS = ("secret_key", "encryption_keys", "lookup_key", "oidc_client_secret",
                       "tax_platform_key", "gov_platform_secret", "audit_keys")

log = structlog.get_logger(__name__)


class ConfigError(RuntimeError):
    """A configuration value is missing, malformed or unsafe."""


def load_defaults() -> dict[str, Any]:
    with DEFAULTS_FILE.open("rb") as fh:
        return tomllib.load(fh)


def _parse(key: str, raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{ENV_PREFIX}{key.upper()} 应为 true/false，实际为 {raw!r}")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError as exc:
            raise ConfigError(f"{ENV_PREFIX}{key.upper()} 应为整数，实际为 {raw!r}") from exc
    return raw


@dataclass(frozen=True)
class Settings:
    """Resolved settings; ``values`` is immutable."""

    values: Mapping[str, Any]
    defaults: Mapping[str, Any]
    unknown_env: tuple[str, ...] = field(default=())

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    @property
    def is_production(self) -> bool:
        return self.values["env"] == "production"

    @property
    def is_testing(self) -> bool:
        return self.values["env"] == "testing"

    def is_default(self, key: str) -> bool:
        return self.values[key] == self.defaults[key]

    def flask_config(self) -> dict[str, Any]:
        """The subset Flask and its extensions read under their own names."""
        return {
            "SECRET_KEY": self.values["secret_key"],
            "SESSION_COOKIE_NAME": self.values["session_cookie_name"],
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": bool(self.values["session_cookie_secure"]) or self.is_production,
            "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the server-side session
            "WTF_CSRF_HEADERS": ["X-CSRFToken"],
            "RATELIMIT_STORAGE_URI": self.values["ratelimit_storage_url"],
            "RATELIMIT_ENABLED": bool(self.values["ratelimit_enabled"]),
            "RATELIMIT_HEADERS_ENABLED": True,
            "TESTING": self.is_testing,
            "MAX_CONTENT_LENGTH": int(self.values["max_request_mb"]) * 1024 * 1024,
            "PORTAL_SETTINGS": self,
        }


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Defaults, then ``PORTAL_*`` environment variables, then explicit overrides."""
    environ = os.environ if environ is None else environ
    defaults = load_defaults()
    values = dict(defaults)
    unknown = []
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        key = name[len(ENV_PREFIX):].lower()
        if key not in defaults:
            # e.g. PORTAL_TEST_POSTGRES_URL belongs to the test suite, not the app.
            unknown.append(name)
            continue
        values[key] = _parse(key, raw, defaults[key])
    for key, value in (overrides or {}).items():
        if key not in defaults:
            raise ConfigError(f"未知配置项 {key!r}")
        values[key] = value
    values["database_url"] = _normalise_database_url(values["database_url"])
    values["queue_url"] = _resolve_sqlite_path(values["queue_url"])
    values["files_dir"] = _resolve_dir(values["files_dir"])
    values["config_dir"] = _resolve_dir(values["config_dir"]) if values.get("config_dir") else str(CONFIG_DIR)
    if values.get("migration_database_url"):
        values["migration_database_url"] = _normalise_database_url(values["migration_database_url"])
    return Settings(MappingProxyType(values), MappingProxyType(defaults), tuple(sorted(unknown)))


def config_dir() -> Path:
    """The province configuration directory the portal reads (``config_dir``): the current
    app's, inside an app context (two apps in one process each read their own province), else
    the process-wide one (:func:`use_config_dir`, ``PORTAL_CONFIG_DIR``)."""
    flask = sys.modules.get("flask")  # no app can exist before Flask is imported
    if flask is not None and flask.has_app_context():
        settings = flask.current_app.config.get("PORTAL_SETTINGS")
        if settings is not None:
            return _as_path(settings.values["config_dir"])
    return _active_config_dir


def config_file(*parts: str | Path) -> Path:
    """A configuration file of the province in use, e.g. ``config_file("policy/benefits.toml")``:
    every loader of ``config/`` finds its file here.

    A province directory holds only what differs: a file it lacks is this project's own."""
    return _resolve(config_dir(), Path(*parts))


@lru_cache(maxsize=256)
def _resolve(directory: Path, relative: Path) -> Path:
    """Looked up once per directory and file: configuration is read at start-up, not per request."""
    own = directory / relative
    return own if directory != CONFIG_DIR and own.is_file() else CONFIG_DIR / relative


@lru_cache(maxsize=16)
def _as_path(directory: str) -> Path:
    return Path(directory)


def use_config_dir(path: str | Path | None) -> Path:
    """Select the province configuration outside an app context (start-up, CLI and worker
    processes, and tests that build a second province's app); returns the previous directory so
    a test can put it back. Loaders cache by resolved file path, so switching never serves the
    other province's data."""
    global _active_config_dir
    previous = _active_config_dir
    _active_config_dir = Path(_resolve_dir(str(path))) if path else CONFIG_DIR
    return previous


def _resolve_sqlite_path(url: str) -> str:
    """``sqlite:///instance/x.db`` is relative to the project root, not the working dir."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite:///:memory:":
        return prefix + str(PROJECT_ROOT / url[len(prefix):])
    return url


def _resolve_dir(path: str) -> str:
    """A relative directory (``instance/files``) is relative to the project root."""
    resolved = Path(path)
    return str(resolved if resolved.is_absolute() else PROJECT_ROOT / resolved)


def _normalise_database_url(url: str) -> str:
    # psycopg 3 is the only PostgreSQL driver we ship.
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain):]
    return _resolve_sqlite_path(url)


def validate(settings: Settings, environ: Mapping[str, str] | None = None) -> None:
    """Refuse to run production with development secrets or insecure transport."""
    environ = os.environ if environ is None else environ
    for name in settings.unknown_env:
        if not name.startswith(("PORTAL_TEST_", "PORTAL_BENCH_")):  # the tests' and benchmarks' own
            log.warning("config.unknown_variable", variable=name)
    if settings.env not in ("development", "production", "testing"):
        raise ConfigError(f"PORTAL_ENV 只能是 development、production 或 testing，实际为 {settings.env!r}")
    _parse_keyring(settings)
    _check_audit_settings(settings)
    _check_province(settings)
    for key in ("db_statement_timeout_ms", "db_lock_timeout_ms"):
        if not isinstance(settings.values[key], int) or settings.values[key] <= 0:
            raise ConfigError(f"{key} 必须是正整数（毫秒）：0 会让请求无限等待数据库")
    if settings.db_lock_timeout_ms > settings.db_statement_timeout_ms:
        raise ConfigError("db_lock_timeout_ms 不能大于 db_statement_timeout_ms")
    if settings.upload_max_bytes > settings.max_request_mb * 1024 * 1024:
        raise ConfigError("upload_max_bytes 不能大于 max_request_mb（整个请求的上限）")
    for key in ("estimate_pdf_cache_entries", "estimate_pdf_cache_mb", "spreadsheet_max_unzipped_mb",
                "spreadsheet_max_zip_ratio", "spreadsheet_max_rows_read", "spreadsheet_max_seconds"):
        if not isinstance(settings.values[key], int) or settings.values[key] <= 0:
            raise ConfigError(f"{key} 必须是正整数")
    _check_rate_limits(settings)
    if not settings.is_production:
        return
    problems = []
    for key in DEVELOPMENT_SECRETS:
        if settings.is_default(key):
            problems.append(
                f"{ENV_PREFIX}{key.upper()} 仍为开发默认值，生产环境必须设置为新的随机值"
                f" (still the development default; set a fresh secret)"
            )
    if environ.get("AUTHLIB_INSECURE_TRANSPORT"):
        problems.append(
            "环境变量 AUTHLIB_INSECURE_TRANSPORT 已设置：生产环境必须通过 HTTPS 登录"
            " (AUTHLIB_INSECURE_TRANSPORT is set; production logins must use HTTPS)"
        )
    if settings.database_url.startswith("sqlite") is False and "postgresql" not in settings.database_url:
        problems.append("生产环境数据库只支持 PostgreSQL (postgresql+psycopg://...)")
    if problems:
        raise ConfigError("生产环境配置不安全，拒绝启动：\n- " + "\n- ".join(problems))


def _check_rate_limits(settings: Settings) -> None:
    """A malformed limit would fail every request it guards: refuse it at start-up."""
    from limits import parse_many

    for key in sorted(k for k in settings.values if k.startswith("ratelimit_") and k not in
                      ("ratelimit_enabled", "ratelimit_storage_url")):
        try:
            parse_many(str(settings.values[key]))
        except ValueError as exc:
            raise ConfigError(f"{key} 格式不正确（应如 \"60 per minute\"），实际为 {settings.values[key]!r}") from exc


def _parse_keyring(settings: Settings) -> dict[str, bytes]:
    from portal.security.crypto import parse_keyring

    try:
        return parse_keyring(settings.encryption_keys, settings.encryption_active_key,
                             settings.encryption_algorithm)
    except ValueError as exc:
        raise ConfigError(f"加密密钥配置有误：{exc}") from exc


def _check_audit_settings(settings: Settings) -> None:
    from portal.audit.keys import parse_audit_keys, parse_sinks

    try:
        parse_audit_keys(settings.audit_keys, settings.audit_active_key)
        parse_sinks(settings.audit_checkpoint_sink)
    except ValueError as exc:
        raise ConfigError(f"审计日志配置有误：{exc}") from exc
    if not isinstance(settings.audit_checkpoint_interval_s, int) or settings.audit_checkpoint_interval_s < 60:
        raise ConfigError("audit_checkpoint_interval_s 必须是不小于 60 的整数（秒）")


def _check_province(settings: Settings) -> None:
    """The province directory exists and describes the province ``province_code`` names."""
    directory = Path(settings.config_dir)
    if not directory.is_dir():
        raise ConfigError(f"config_dir 目录不存在：{directory}")
    regions = directory / "regions.toml" if (directory / "regions.toml").is_file() else CONFIG_DIR / "regions.toml"
    with regions.open("rb") as fh:
        code = tomllib.load(fh).get("province", {}).get("code")
    if code != settings.province_code:
        raise ConfigError(f"province_code（{settings.province_code}）与 {regions.name} 中的省份代码（{code}）不一致")
