"""The ``Hourbook-Signature`` header: ``t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">``.

While a secret rotates the header carries one ``v1`` per valid secret (newest first), so a
receiver holding either secret verifies the event (as Stripe does). Receivers check it with the
snippet in docs/webhooks.md, which also refuses a timestamp outside their replay window.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence

HEADER = "Hourbook-Signature"
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


def new_secret() -> str:
    """A fresh signing secret: 32 random bytes, URL-safe, with a recognisable prefix."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under ``secret``."""
    signed = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def header(secrets_in_use: Sequence[str], timestamp: int, body: bytes) -> str:
    """The header's value: the timestamp, then a ``v1`` for each secret in use."""
    if not secrets_in_use:
        raise ValueError("an endpoint always has a secret to sign with")
    parts = [f"t={timestamp}"]
    parts += [f"v1={signature(secret, timestamp, body)}" for secret in secrets_in_use]
    return ",".join(parts)
