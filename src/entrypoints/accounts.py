"""Accounts: register, verify addresses, authenticate, reset passwords, create admins. Used by
the API and CLI.

Passwords are hashed with Argon2id (memory-hard), at most a few at once per process
(``entrypoints.passwords``). A client account and its ``Client`` share one
id, and so do a professional account and the profile it creates, so a token's identity says
which client or professional the caller acts as without another lookup.
"""

from __future__ import annotations

import hmac
import logging
import re
from enum import StrEnum
from uuid import UUID, uuid4

from adapters.request_context import actor_bound
from adapters.sql.users import EmailTaken, User
from booking import catalogue
from booking.audit import Actor
from booking.errors import InvalidInput
from booking.model import Client
from entrypoints.bootstrap import Container
from entrypoints.config import EmailVerification
from entrypoints.email_links import (
    RESET_LIFETIME,
    Link,
    LinkKind,
    ResetToken,
    make_reset_token,
    password_fingerprint,
    password_reset_email,
    read_reset_token,
    verification_email,
)

logger = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


class Role(StrEnum):
    CLIENT = "client"
    PROFESSIONAL = "professional"
    ADMIN = "admin"


def register(
    container: Container,
    *,
    role: Role,
    email: str,
    password: str,
    name: str = "",
    phone: str = "",
) -> User | None:
    """Open a client or professional account; None if the address has one already.

    Both cases cost the same (the password is hashed either way) and the caller answers them
    alike, so registering tells nobody which addresses have accounts. With
    ``HOURBOOK_EMAIL_VERIFICATION=required`` the new address is mailed a verification link; an
    address that is taken is mailed nothing (its owner gets no mail they did not ask for).
    """
    try:
        if role is Role.CLIENT:
            user = register_client(container, email=email, password=password, name=name,
                                   phone=phone)  # fmt: skip
        else:
            user = register_professional(container, email=email, password=password)
    except EmailTaken:
        return None
    if container.settings.email_verification is EmailVerification.REQUIRED:
        send_verification(container, user)
    return user


def register_client(
    container: Container, *, email: str, password: str, name: str, phone: str = ""
) -> User:
    """A client account and its client record, in one transaction. Raises EmailTaken."""
    account_id = uuid4()
    client = Client(id=account_id, name=name, email=email, phone=phone)  # validates
    user = _new_user(container, account_id, email, password, Role.CLIENT, client_id=account_id)
    with actor_bound(Actor.account(user.id, user.role)):  # they open their own account
        container.users.add(user, client)
    return user


def register_professional(container: Container, *, email: str, password: str) -> User:
    """A professional account; its public profile is created afterwards (POST /professionals)."""
    user = _new_user(container, uuid4(), email, password, Role.PROFESSIONAL)
    with actor_bound(Actor.account(user.id, user.role)):  # they open their own account
        container.users.add(user)
    return user


def create_admin(container: Container, email: str, password: str) -> User:
    """An administrator account: only the CLI makes these (``hourbook create-admin``)."""
    user = _new_user(container, uuid4(), email, password, Role.ADMIN)
    container.users.add(user)
    return user


def authenticate(container: Container, email: str, password: str) -> User | None:
    """The account if the password is right, else None (the same work either way).

    A right password whose stored hash was made with older (weaker) parameters is hashed again
    with today's and stored, so accounts move to the current cost as their owners log in.
    """
    passwords = container.passwords
    user = container.users.by_email(email)
    if user is None:
        # Hash anyway, so the answer takes as long whether or not the address exists.
        passwords.hash(password)
        return None
    if not passwords.verify(user.password_hash, password):
        return None
    if passwords.needs_rehash(user.password_hash):
        container.users.replace_password_hash(
            user.id, user.password_hash, passwords.hash(password)
        )
    return user


def may_book(container: Container, user_id: UUID) -> bool:
    """False only when verification is required and the account's address is not verified."""
    if container.settings.email_verification is EmailVerification.OFF:
        return True
    user = container.users.get(user_id)
    return user is not None and user.email_verified_at is not None


def send_verification(container: Container, user: User) -> None:
    """Mail ``user`` the link that verifies their address (logged, not raised, if it fails:
    ``POST /auth/verification`` sends it again)."""
    link = Link(kind=LinkKind.REGISTRATION, subject_id=user.id, current=user.email,
                new=user.email)  # fmt: skip
    send_link(container, link)


def send_link(container: Container, link: Link) -> None:
    try:
        container.notifier.send(verification_email(container.settings, link))
    except Exception:  # SMTP can fail in many ways; the account exists either way
        logger.exception("could not mail the verification link (%s)", link.kind.value)


def follow_link(container: Container, link: Link) -> bool:
    """Apply what a followed link confirms; False if it no longer applies."""
    now = container.clock.now()
    if link.kind is LinkKind.REGISTRATION:
        return container.users.mark_verified(link.subject_id, link.new, now)
    if link.kind is LinkKind.CLIENT_EMAIL:
        return catalogue.change_client_email(
            link.subject_id, link.current, link.new, uow=container.uow()
        )
    return catalogue.change_professional_email(
        link.subject_id, link.current, link.new, uow=container.uow()
    )


def request_password_reset(container: Container, email: str) -> None:
    """Mail the account of ``email``, if there is one, a link to choose a new password.

    An unknown address is looked up, and a token made and its mail written, like a known one;
    only the sending is skipped, so the caller answers both alike.
    """
    settings = container.settings
    user = container.users.by_email(email.strip())
    password_hash = user.password_hash if user is not None else ""
    token = make_reset_token(settings, ResetToken(
        account_id=user.id if user is not None else UUID(int=0),
        fingerprint=password_fingerprint(settings, password_hash),
        issued_at=container.clock.now(),
    ))  # fmt: skip
    message = password_reset_email(settings, user.email if user is not None else email, token)
    if user is None:
        return
    try:
        container.notifier.send(message)
    except Exception:  # SMTP can fail in many ways; the caller asks again
        logger.exception("could not mail the password reset link")


def reset_password(container: Container, token: str, password: str) -> UUID | None:
    """Set the password of the account ``token`` was made for; None if the token is not this
    server's, is more than 30 minutes old, or was spent (the password changed since it was
    made). Raises InvalidInput for a password register would refuse.
    """
    _check_password(password)
    settings = container.settings
    reset = read_reset_token(settings, token)
    if reset is None or container.clock.now() - reset.issued_at > RESET_LIFETIME:
        return None
    user = container.users.get(reset.account_id)
    if user is None or not hmac.compare_digest(
        password_fingerprint(settings, user.password_hash), reset.fingerprint
    ):
        return None
    new_hash = container.passwords.hash(password)
    # Only if the hash is still the one the token was made for: of two uses at once, one wins.
    with actor_bound(Actor.account(user.id, user.role)):  # proven by the mailed token
        if not container.users.replace_password_hash(
            user.id, user.password_hash, new_hash, audit_as="password_reset"
        ):
            return None
    return user.id


def _check_password(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"passwords have {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
        )


def _new_user(
    container: Container,
    user_id: UUID,
    email: str,
    password: str,
    role: Role,
    *,
    client_id: UUID | None = None,
) -> User:
    if not _EMAIL.match(email.strip()) or len(email) > 320:
        raise InvalidInput("email is not a valid address")
    _check_password(password)
    return User(
        id=user_id,
        email=email.strip().lower(),
        password_hash=container.passwords.hash(password),
        role=role.value,
        created_at=container.clock.now(),
        client_id=client_id,
    )
