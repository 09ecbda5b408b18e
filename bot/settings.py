"""All configuration, read in one place.

Order of precedence (highest first): `HARBOUR_*` environment variables, then the TOML file
(`config/harbour.toml`, or the file named by `HARBOUR_CONFIG`), then the defaults below.
Secrets are `SecretStr`, so they never appear in a repr, a traceback or a log line.
Every key is documented in `config/harbour.example.toml`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_CONFIG_FILE = Path("config/harbour.toml")
_DURATION = re.compile(r"^\d+[mhd]$")


class ConfigError(Exception):
    """A setting is missing or wrong. The message names the setting, never its secret value."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HARBOUR_", extra="forbid", frozen=True)

    data_dir: Path = Path("var")
    database_url: str = ""  # empty: SQLite file under data_dir
    secret_key: SecretStr | None = None
    secret_key_file: Path | None = None

    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)

    # The staff web console (bot/web/console/): its own bind, on unless HARBOUR_CONSOLE=off.
    console: Literal["on", "off"] = "on"
    console_host: str = "127.0.0.1"
    console_port: int = Field(default=8081, ge=0, le=65535)
    console_require_totp: bool = False  # admins must give a TOTP code as well
    console_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    console_absolute_hours: int = Field(default=12, ge=1, le=72)
    console_lockout_failures: int = Field(default=5, ge=1, le=100)
    console_lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)

    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_mode: Literal["polling", "webhook"] = "polling"
    telegram_webhook_secret: SecretStr | None = None
    telegram_bot_username: str | None = None  # for enrolment deep links (t.me/<name>?start=)

    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from: str | None = None
    twilio_api_url: str = "https://api.twilio.com"
    public_url: str | None = None
    sms_per_second: float = Field(default=1.0, gt=0, le=100)

    translator: Literal["none", "libre", "google"] = "none"
    libretranslate_url: str | None = None
    libretranslate_api_key: SecretStr | None = None
    translation_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    # How a staff member's reply is marked for the survivor: their first name, or their role
    # ("Your advocate", "Support team"); the format itself is "relay.from" in locales/.
    reply_mark: Literal["name", "role"] = "name"

    escalation_timeout_minutes: float = Field(default=5.0, gt=0, le=120)
    office_hours: str = "mon-fri 09:00-17:00"  # when the duty team is on call; else the rota
    office_timezone: str = "Europe/London"

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # A language whose safety-critical strings (emergency numbers, STOP/HELP, the phrase bank)
    # no native speaker has reviewed yet: "warn" at start-up, or "refuse" to start.
    unreviewed_safety_text: Literal["warn", "refuse"] = "warn"
    outbox_max_attempts: int = Field(default=8, ge=1, le=100)  # at least, before giving up
    # A send that keeps failing (an outage) is retried, at most ~5 minutes apart, for at least
    # this long before it is given up and staff are told. Urgent sends never give up.
    outbox_retry_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    # How long a sender's claim on a row lasts without renewal (renewed while it is alive):
    # after a crash, the rows it held wait this long before another sender takes them.
    outbox_lease_seconds: float = Field(default=120.0, ge=1, le=3600)
    enrolment_code_hours: int = Field(default=72, ge=1, le=24 * 30)

    # Retention (bot/privacy/retention.py): days each kind of data is kept. The inbox and
    # outbox keep at least 2 days, which Telegram's /clear needs to find the last 48 hours.
    retention_message_body_days: int = Field(default=180, ge=1)
    retention_inbox_payload_days: int = Field(default=14, ge=2)
    retention_outbox_days: int = Field(default=30, ge=2)
    retention_audit_detail_days: int = Field(default=730, ge=1)
    retention_closed_case_days: int = Field(default=90, ge=1)

    # Appointments and reminders (bot/care/appointments.py, bot/care/reminders.py)
    reminder_offsets: str = "24h,2h"  # before each appointment; m, h or d
    reminder_no_reply_alert: str = "3h"  # tell the advocate if no reply by then
    reminder_late_grace_minutes: int = Field(default=15, ge=0, le=24 * 60)
    reminder_min_lead_minutes: int = Field(default=30, ge=0, le=24 * 60)

    @field_validator("reminder_offsets", "reminder_no_reply_alert")
    @classmethod
    def _check_durations(cls, value: str) -> str:
        parts = [p.strip() for p in value.split(",")]
        if not parts or not all(_DURATION.match(p) and int(p[:-1]) > 0 for p in parts):
            raise ValueError("must be durations such as 24h, 90m or 2d, separated by commas")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = Path(os.environ.get("HARBOUR_CONFIG", DEFAULT_CONFIG_FILE))
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file)
        return (init_settings, env_settings, toml)

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value:
            return value
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError("is not a valid SQLAlchemy URL") from exc
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError("must be a sqlite:// or postgresql:// URL")
        return value

    @model_validator(mode="after")
    def _check_channels(self) -> Settings:
        if (
            self.telegram_mode == "webhook"
            and self.telegram_token
            and not (self.telegram_webhook_secret)
        ):
            raise ValueError("HARBOUR_TELEGRAM_WEBHOOK_SECRET is required in webhook mode")
        if self.sms_enabled and not self.public_url:
            raise ValueError("HARBOUR_PUBLIC_URL is required when SMS is enabled")
        if self.translator == "libre" and not self.libretranslate_url:
            raise ValueError("HARBOUR_LIBRETRANSLATE_URL is required with translator 'libre'")
        return self

    @property
    def telegram_enabled(self) -> bool:
        return self.telegram_token is not None

    @property
    def sms_enabled(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_from)

    @property
    def local_mode(self) -> bool:
        """No channel credentials: the embedded default, chatting in the terminal."""
        return not (self.telegram_enabled or self.sms_enabled)

    @property
    def console_secure_cookies(self) -> bool:
        """Cookies are Secure, except in local mode on a loopback bind (plain http there)."""
        loopback = self.console_host in ("127.0.0.1", "localhost", "::1")
        return not (self.local_mode and loopback)

    @property
    def async_database_url(self) -> str:
        """The URL with an async driver: aiosqlite for SQLite, asyncpg for PostgreSQL."""
        if not self.database_url:
            return f"sqlite+aiosqlite:///{self.data_dir / 'harbour.db'}"
        url = make_url(self.database_url)
        driver = "sqlite+aiosqlite" if url.get_backend_name() == "sqlite" else "postgresql+asyncpg"
        return url.set(drivername=driver).render_as_string(hide_password=False)


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's errors into one message per bad setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]) or "settings"
            setting = f"HARBOUR_{name.upper()}" if error["loc"] else "configuration"
            problems.append(f"{setting}: {error['msg']}")
        raise ConfigError("; ".join(problems)) from None
    except (OSError, ValueError) as exc:  # unreadable or malformed TOML file
        raise ConfigError(f"config file: {exc}") from None
