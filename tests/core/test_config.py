"""Configuration: defaults, PORTAL_* overrides, and the production refusal."""

import pytest

from portal.config import ConfigError, load_settings, validate

SAFE = {
    "PORTAL_ENV": "production",
    "PORTAL_SECRET_KEY": "a" * 40,
    "PORTAL_ENCRYPTION_KEYS": "p1:" + "ab" * 16,
    "PORTAL_ENCRYPTION_ACTIVE_KEY": "p1",
    "PORTAL_LOOKUP_KEY": "b" * 40,
    "PORTAL_OIDC_CLIENT_SECRET": "c" * 40,
    "PORTAL_TAX_PLATFORM_KEY": "d" * 40,
    "PORTAL_GOV_PLATFORM_SECRET": "e" * 40,
    "PORTAL_AUDIT_KEYS": "p1:" + "cd" * 32,
    "PORTAL_AUDIT_ACTIVE_KEY": "p1",
    "PORTAL_DATABASE_URL": "postgresql://portal@db/portal",
}


def test_environment_overrides_defaults_with_types():
    settings = load_settings(environ={"PORTAL_SESSION_IDLE_MINUTES": "15", "PORTAL_RATELIMIT_ENABLED": "false",
                                      "PORTAL_UNKNOWN_THING": "1"})
    assert settings.session_idle_minutes == 15
    assert settings.ratelimit_enabled is False
    assert settings.unknown_env == ("PORTAL_UNKNOWN_THING",)


def test_postgres_urls_use_psycopg3_and_sqlite_paths_are_absolute():
    assert load_settings(environ={"PORTAL_DATABASE_URL": "postgresql://u@h/d"}).database_url == \
        "postgresql+psycopg://u@h/d"
    assert load_settings(environ={}).database_url.startswith("sqlite:////")


def test_bad_integer_is_explained():
    with pytest.raises(ConfigError, match="PORTAL_SESSION_IDLE_MINUTES 应为整数"):
        load_settings(environ={"PORTAL_SESSION_IDLE_MINUTES": "half an hour"})


def test_production_with_fresh_secrets_starts():
    validate(load_settings(environ=SAFE), environ=SAFE)


@pytest.mark.parametrize("missing", ["PORTAL_SECRET_KEY", "PORTAL_ENCRYPTION_KEYS", "PORTAL_LOOKUP_KEY",
                                     "PORTAL_OIDC_CLIENT_SECRET", "PORTAL_TAX_PLATFORM_KEY",
                                     "PORTAL_GOV_PLATFORM_SECRET", "PORTAL_AUDIT_KEYS"])
def test_production_refuses_each_default_secret(missing):
    env = {k: v for k, v in SAFE.items() if k != missing}
    if missing == "PORTAL_ENCRYPTION_KEYS":
        env.pop("PORTAL_ENCRYPTION_ACTIVE_KEY")
    if missing == "PORTAL_AUDIT_KEYS":
        env.pop("PORTAL_AUDIT_ACTIVE_KEY")
    with pytest.raises(ConfigError) as info:
        validate(load_settings(environ=env), environ=env)
    assert missing in str(info.value) and "拒绝启动" in str(info.value)


def test_production_refuses_insecure_transport_flag():
    env = {**SAFE, "AUTHLIB_INSECURE_TRANSPORT": "1"}
    with pytest.raises(ConfigError, match="AUTHLIB_INSECURE_TRANSPORT"):
        validate(load_settings(environ=env), environ=env)


def test_development_tolerates_defaults():
    validate(load_settings(environ={}), environ={})


def test_malformed_keys_are_refused_in_any_mode():
    env = {"PORTAL_ENCRYPTION_KEYS": "k1:abcd", "PORTAL_ENCRYPTION_ACTIVE_KEY": "k1"}
    with pytest.raises(ConfigError, match="加密密钥配置有误"):
        validate(load_settings(environ=env), environ=env)
