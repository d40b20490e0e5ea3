"""Links mailed to an address to prove its owner reads it: signed, expiring, single-purpose.

A link carries what it confirms (the account, its address when the link was made, the address
to confirm) signed with the e-mail link key (``keys.Purpose.EMAIL_LINK``), so nothing is
stored until it is followed. A link made for one address stops working once the account's
address changed since, so an old link cannot undo a newer change. Password reset tokens (below)
are stored instead, hashed, so that each is good once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from urllib.parse import urlencode
from uuid import UUID

from itsdangerous import BadSignature, URLSafeTimedSerializer

from booking.ports import Email
from entrypoints.config import Settings
from entrypoints.keys import Purpose, derive_key

LINK_LIFETIME_SECONDS = 24 * 3600
VERIFY_PATH = "/auth/verify-email"


class LinkKind(StrEnum):
    REGISTRATION = "registration"  # the address an account was opened with
    CLIENT_EMAIL = "client-email"  # a client's new address (login and contact)
    PROFILE_EMAIL = "profile-email"  # a professional profile's new contact address


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    kind: LinkKind
    subject_id: UUID  # the account, or the professional profile
    current: str  # the address when the link was made
    new: str  # the address the link confirms


def make_link(settings: Settings, link: Link) -> str:
    token = _serializer(settings).dumps(
        {"k": link.kind.value, "s": str(link.subject_id), "c": link.current, "n": link.new}
    )
    return f"{settings.public_url.rstrip('/')}{VERIFY_PATH}?{urlencode({'token': token})}"


def read_link(settings: Settings, token: str) -> Link | None:
    """The link's content if it is genuine and not expired, else None."""
    try:
        data = _serializer(settings).loads(token, max_age=LINK_LIFETIME_SECONDS)
        return Link(
            kind=LinkKind(data["k"]), subject_id=UUID(data["s"]), current=data["c"], new=data["n"]
        )
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


def verification_email(settings: Settings, link: Link) -> Email:
    url = make_link(settings, link)
    if link.kind is LinkKind.REGISTRATION:
        subject = "Confirm your e-mail address for hourbook"
        why = "Someone (we hope you) opened an hourbook account with this address."
    else:
        subject = "Confirm your new e-mail address for hourbook"
        why = "Someone (we hope you) asked hourbook to send its messages to this address."
    body = (
        f"{why}\n\nTo confirm it, open this link within 24 hours:\n\n{url}\n\n"
        "If it was not you, ignore this message: nothing changes until the link is opened.\n"
    )
    return Email(to=link.new, subject=subject, body=body)


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        derive_key(settings.secret_key, Purpose.EMAIL_LINK), salt="hourbook e-mail link"
    )


# Password reset: a random reset id is stored with the SHA-256 of its token, and the token is
# HMAC(password reset key, id): only this deployment can make a token from an id, so neither
# the database (ids and hashes) nor the outbox row of the mail (the id) gives a token away.
RESET_LIFETIME = timedelta(minutes=30)
RESET_PAGE = "/reset-password"


def reset_token(settings: Settings, reset_id: UUID) -> str:
    """The token mailed for reset ``reset_id``."""
    key = derive_key(settings.secret_key, Purpose.PASSWORD_RESET).encode()
    digest = hmac.new(key, reset_id.bytes, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_sha256(token: str) -> str:
    """What is stored of a reset token, and looked up when it comes back."""
    return hashlib.sha256(token.encode()).hexdigest()


def password_reset_email(settings: Settings, to: str, token: str) -> Email:
    url = f"{settings.public_url.rstrip('/')}{RESET_PAGE}?{urlencode({'token': token})}"
    body = (
        "Someone (we hope you) asked to choose a new password for your hourbook account.\n\n"
        f"To choose it, open this link within 30 minutes; it works once:\n\n{url}\n\n"
        "If it was not you, ignore this message: your password stays as it is.\n"
    )
    return Email(to=to, subject="Choose a new hourbook password", body=body)


