"""Console settings: the defaults of issue 19 and when cookies may go without Secure."""

from __future__ import annotations

from pydantic import SecretStr

from bot.settings import Settings, load_settings


def settings(**overrides: object) -> Settings:
    return load_settings(_env_file=None, **overrides)  # type: ignore[arg-type]


def test_defaults() -> None:
    s = settings()
    assert (s.console, s.console_host, s.console_port) == ("on", "127.0.0.1", 8081)
    assert (s.console_idle_minutes, s.console_absolute_hours) == (30, 12)


def test_secure_cookies_are_off_only_in_local_mode_on_loopback() -> None:
    assert not settings().console_secure_cookies
    assert settings(console_host="0.0.0.0").console_secure_cookies
    telegram = settings(telegram_token=SecretStr("123:abc"))
    assert telegram.console_secure_cookies
