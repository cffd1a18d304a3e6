"""Sealed values: secrets the outbox must carry until delivery (an invite link), encrypted.

Imports nothing from the other layers. Fernet (AES-128-CBC + HMAC-SHA256) keyed from
``DUBAN_SECRET_KEY``: the database alone never yields the value; a changed key makes old
seals unreadable (such a message fails with that reason rather than going out wrong).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken


class SealBroken(ValueError):
    """A sealed value that this key cannot open (tampered, or the secret key changed)."""


class Sealer:
    """Seals and opens short secrets with a key derived from the service's secret key."""

    def __init__(self, secret_key: str) -> None:
        digest = hashlib.sha256(f"duban:seal:{secret_key}".encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))
        self._mac_key = hashlib.sha256(f"duban:sign:{secret_key}".encode()).digest()

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

    def sign(self, value: str) -> str:
        """``value`` with a short authenticator, as lower-case ``[a-z0-9.-]`` text.

        For values that are not secret but must not be forged and must stay short, such as
        the token in a reply address (an e-mail local part holds at most 64 characters, which
        a Fernet token does not fit, and mail servers may fold its case).
        """
        if not value or not all(ch.isascii() and (ch.isalnum() or ch == "-") for ch in value):
            raise ValueError("only ASCII letters, digits and '-' can be signed")
        return f"{value.lower()}.{self._mac(value.lower())}"

    def verify(self, signed: str) -> str:
        """The value back from :meth:`sign`; SealBroken if the authenticator does not match."""
        value, dot, mac = signed.strip().lower().rpartition(".")
        if not dot or not value or not hmac.compare_digest(mac, self._mac(value)):
            raise SealBroken("a signed value does not match (forged, or DUBAN_SECRET_KEY changed)")
        return value

    def _mac(self, value: str) -> str:
        digest = hmac.new(self._mac_key, value.encode(), hashlib.sha256).digest()
        # 100 bits: far beyond guessing, and short enough for a reply address.
        return base64.b32encode(digest).decode()[:20].lower()
