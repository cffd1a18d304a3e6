"""Sealed values: secrets the outbox must carry until delivery (an invite link), encrypted.

Imports nothing from the other layers. Fernet (AES-128-CBC + HMAC-SHA256) keyed from
``DUBAN_SECRET_KEY``: the database alone never yields the value; a changed key makes old
seals unreadable (such a message fails with that reason rather than going out wrong).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken


class SealBroken(ValueError):
    """A sealed value that this key cannot open (tampered, or the secret key changed)."""


class Sealer:
    """Seals and opens short secrets with a key derived from the service's secret key."""

    def __init__(self, secret_key: str) -> None:
        digest = hashlib.sha256(f"duban:seal:{secret_key}".encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def __repr__(self) -> str:
        return "Sealer(***)"

    def seal(self, value: str) -> str:
        """The value encrypted and authenticated, as ASCII text."""
        return self._fernet.encrypt(value.encode()).decode()

    def open(self, sealed: str) -> str:
        """The value back; SealBroken if this key did not seal it or it was changed."""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except (InvalidToken, ValueError) as exc:
            raise SealBroken(
                "a sealed value cannot be opened (was DUBAN_SECRET_KEY changed?)"
            ) from exc
