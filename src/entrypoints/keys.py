"""One key per purpose, derived from ``HOURBOOK_SECRET_KEY`` with HKDF-SHA256 (RFC 5869).

A single secret used to sign JWTs, Flask sessions, calendar feed tokens, the payment
simulator's webhooks and e-mail links: a value signed for one purpose was then valid for
another. Each purpose now gets its own key, expanded from the secret under its own label, so
no signature made with one key verifies under another, and none made with the raw secret
verifies anywhere.
"""

from __future__ import annotations

import hashlib
import hmac
from enum import StrEnum

_SALT = b"hourbook key derivation v1"
_LENGTH = 32


class Purpose(StrEnum):
    JWT = "hourbook jwt signing"
    FLASK_SESSION = "hourbook flask session"
    CALENDAR_FEED = "hourbook calendar feed tokens"
    SIMULATOR_WEBHOOK = "hourbook payment simulator webhooks"
    EMAIL_LINK = "hourbook e-mail links"
    IDEMPOTENCY = "hourbook idempotency fingerprints"
    PASSWORD_RESET = "hourbook password reset tokens"  # noqa: S105 - a label, no secret


def derive_key(secret: str, purpose: Purpose) -> str:
    """The key for ``purpose``, as 64 hex digits (usable wherever a text secret is wanted)."""
    return _hkdf(secret.encode(), purpose.value.encode()).hex()


def _hkdf(secret: bytes, info: bytes) -> bytes:
    pseudo_random_key = hmac.new(_SALT, secret, hashlib.sha256).digest()  # extract
    # Expand: one SHA-256 block is all a 32-byte key needs (T(1) = HMAC(PRK, info | 0x01)).
    return hmac.new(pseudo_random_key, info + b"\x01", hashlib.sha256).digest()[:_LENGTH]
