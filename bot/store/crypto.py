"""Encryption at rest (AES-256-GCM) and keyed hashes for lookups (HMAC-SHA256).

A ciphertext is: version byte | key id (4 bytes) | nonce (12 bytes) | AES-GCM output.
The key id lets several keys live side by side, so keys can be rotated. Each value is bound
to its purpose (the associated data), so a body cannot be swapped into another column.
Lookups (a phone number, a chat id, an enrolment code) use HMAC, never the plaintext.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = 1
_HEADER = 1 + 4 + 12


class KeyMismatch(Exception):
    """Data was encrypted with a key we do not hold, or has been tampered with."""


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


@dataclass(frozen=True)
class DataKey:
    """One master secret and what is derived from it. The repr never shows key material."""

    key_id: bytes
    aead: AESGCM = field(repr=False)
    hmac_key: bytes = field(repr=False)

    @classmethod
    def from_secret(cls, master: bytes) -> DataKey:
        if len(master) < 32:
            raise ValueError("the secret key must be at least 32 bytes")
        return cls(
            key_id=_derive(master, b"harbour key id")[:4],
            aead=AESGCM(_derive(master, b"harbour aes-gcm")),
            hmac_key=_derive(master, b"harbour hmac"),
        )


class Cipher:
    """Encrypts with the primary key; decrypts with any key in the ring.

    Keyed hashes always use the primary key's HMAC key, so rotating the key
    means re-hashing lookups too (done by `harbour keys rotate`).
    """

    def __init__(self, primary: DataKey, older: tuple[DataKey, ...] = ()) -> None:
        self.primary = primary
        self._ring = {k.key_id: k for k in (*older, primary)}

    def encrypt(self, plaintext: bytes, purpose: str) -> bytes:
        nonce = os.urandom(12)
        sealed = self.primary.aead.encrypt(nonce, plaintext, purpose.encode())
        return bytes([_VERSION]) + self.primary.key_id + nonce + sealed

    def decrypt(self, blob: bytes, purpose: str) -> bytes:
        if len(blob) < _HEADER + 16 or blob[0] != _VERSION:
            raise KeyMismatch("not a Harbour ciphertext")
        key = self._ring.get(bytes(blob[1:5]))
        if key is None:
            raise KeyMismatch("encrypted with a key that is not configured")
        try:
            return key.aead.decrypt(bytes(blob[5:17]), bytes(blob[17:]), purpose.encode())
        except InvalidTag as exc:
            raise KeyMismatch("the data does not match the configured key") from exc

    def encrypt_text(self, text: str, purpose: str) -> bytes:
        return self.encrypt(text.encode("utf-8"), purpose)

    def decrypt_text(self, blob: bytes, purpose: str) -> str:
        return self.decrypt(blob, purpose).decode("utf-8")

    def lookup_hash(self, value: str, purpose: str) -> str:
        """A keyed hash for equality lookups: hex HMAC-SHA256 over purpose and value."""
        message = purpose.encode() + b"\x00" + value.encode("utf-8")
        return hmac.new(self.primary.hmac_key, message, hashlib.sha256).hexdigest()

    def lookup_hashes(self, value: str, purpose: str) -> list[str]:
        """The keyed hash under every key in the ring, primary first. Looking up with all of
        them finds rows a key rotation has not re-hashed yet (bot/privacy/key_rotation.py)."""
        message = purpose.encode() + b"\x00" + value.encode("utf-8")
        keys = [self.primary, *(k for k in self._ring.values() if k is not self.primary)]
        return [hmac.new(k.hmac_key, message, hashlib.sha256).hexdigest() for k in keys]

    def key_id_of(self, blob: bytes) -> bytes:
        return bytes(blob[1:5])
