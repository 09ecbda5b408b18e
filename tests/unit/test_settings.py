"""Settings: environment over TOML over defaults; bad values name the setting; secrets hide."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(__import__("os").environ):
        if name.startswith("HARBOUR_"):
            monkeypatch.delenv(name)
    config = tmp_path / "harbour.toml"
    monkeypatch.setenv("HARBOUR_CONFIG", str(config))
    return config


def test_defaults_are_local_sqlite() -> None:
    settings = load_settings()
    assert settings.local_mode
    assert settings.async_database_url == "sqlite+aiosqlite:///var/harbour.db"
    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 8080)


def test_environment_overrides_toml(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clean_env.write_text('http_port = 9000\nhttp_host = "0.0.0.0"\n')
    monkeypatch.setenv("HARBOUR_HTTP_PORT", "9100")
    settings = load_settings()
    assert settings.http_port == 9100
    assert settings.http_host == "0.0.0.0"


def test_postgres_url_gets_async_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARBOUR_DATABASE_URL", "postgresql://harbour@db.internal/harbour")
    assert load_settings().async_database_url.startswith("postgresql+asyncpg://")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HARBOUR_HTTP_PORT", "eighty"),
        ("HARBOUR_HTTP_PORT", "70000"),
        ("HARBOUR_DATABASE_URL", "not a url"),
        ("HARBOUR_DATABASE_URL", "mysql://x/y"),
        ("HARBOUR_TELEGRAM_MODE", "carrier-pigeon"),
        ("HARBOUR_TRANSLATOR", "babelfish"),
    ],
)
def test_bad_value_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        load_settings()


def test_unknown_toml_key_is_refused(clean_env: Path) -> None:
    clean_env.write_text("htp_port = 1\n")
    with pytest.raises(ConfigError, match="HTP_PORT"):
        load_settings()


def test_malformed_toml_is_a_config_error(clean_env: Path) -> None:
    clean_env.write_text("http_port = = 1\n")
    with pytest.raises(ConfigError, match="config file"):
        load_settings()


def test_webhook_mode_needs_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARBOUR_TELEGRAM_TOKEN", "123456:" + "A" * 35)
    monkeypatch.setenv("HARBOUR_TELEGRAM_MODE", "webhook")
    with pytest.raises(ConfigError, match="WEBHOOK_SECRET"):
        load_settings()


def test_sms_needs_public_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARBOUR_TWILIO_ACCOUNT_SID", "AC" + "0" * 32)
    monkeypatch.setenv("HARBOUR_TWILIO_AUTH_TOKEN", "t" * 32)
    monkeypatch.setenv("HARBOUR_TWILIO_FROM", "+447700900000")
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        load_settings()


def test_secrets_never_show(monkeypatch: pytest.MonkeyPatch) -> None:
    token = "123456:CANARYTOKENcanarytokenCANARYTOKEN"
    monkeypatch.setenv("HARBOUR_TELEGRAM_TOKEN", token)
    monkeypatch.setenv("HARBOUR_SECRET_KEY", "k" * 40)
    settings = load_settings()
    assert token not in repr(settings) and token not in str(settings)
    assert "k" * 40 not in repr(settings)
    assert not settings.local_mode
