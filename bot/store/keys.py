"""Where the encryption key comes from, and the refusal to start with the wrong one.

The key is `HARBOUR_SECRET_KEY`, or the first line of `HARBOUR_SECRET_KEY_FILE` (later lines
are older keys still needed to read data during a rotation). In local mode only, a key file is
created under the data directory with mode 0600, and only when the database holds no
encrypted data yet: a new key is never made silently over existing data.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from bot.settings import ConfigError, Settings
from bot.store.crypto import Cipher, DataKey
from bot.store.files import private_directory
from bot.store.key_checks import check_private, check_strength

log = logging.getLogger(__name__)

LOCAL_KEY_NAME = "secret.key"


def _parse_keys(text: str, source: str) -> Cipher:
    lines = [
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    ]
    if not lines:
        raise ConfigError(f"{source}: no key found")
    weak = check_strength(lines[0], source)  # the key new data is sealed with
    if weak is not None:
        raise ConfigError(weak)
    try:
        keys = [DataKey.from_secret(line.encode("utf-8")) for line in lines]
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    return Cipher(keys[0], tuple(keys[1:]))


def _read_private(path: Path) -> str:
    """The key file's text, if only its owner can read it."""
    source = "HARBOUR_SECRET_KEY_FILE"
    try:
        exposed = check_private(path, source)
        if exposed is not None:
            raise ConfigError(exposed)
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read {path} ({exc.strerror})") from None


def local_key_path(settings: Settings) -> Path:
    return settings.data_dir / LOCAL_KEY_NAME


def load_cipher(settings: Settings, *, database_has_data: bool) -> Cipher:
    """Build the cipher from the configured key, creating a local key only when that is safe."""
    if settings.secret_key is not None:
        return _parse_keys(settings.secret_key.get_secret_value(), "HARBOUR_SECRET_KEY")
    if settings.secret_key_file is not None:
        return _parse_keys(_read_private(settings.secret_key_file), "HARBOUR_SECRET_KEY_FILE")
    if not settings.local_mode:
        raise ConfigError(
            "HARBOUR_SECRET_KEY or HARBOUR_SECRET_KEY_FILE is required when a channel is enabled"
        )
    path = local_key_path(settings)
    if path.exists():
        return _parse_keys(_read_private(path), str(path))
    if database_has_data:
        raise ConfigError(
            "the database holds encrypted data but no key was found: set HARBOUR_SECRET_KEY_FILE "
            "to the key it was written with (a new key is never created over existing data)"
        )
    private_directory(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
    log.warning(
        "local mode: created a new encryption key at %s (mode 0600). Back it up: "
        "without it the stored data cannot be read. Use HARBOUR_SECRET_KEY_FILE in production.",
        path,
    )
    return _parse_keys(path.read_text(encoding="utf-8"), str(path))
