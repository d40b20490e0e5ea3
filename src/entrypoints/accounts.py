"""Accounts: register, verify addresses, authenticate, reset passwords, create admins. Used by
the API and CLI.

Passwords are hashed with Argon2id (memory-hard), at most a few at once per process
(``entrypoints.passwords``). A client account and its ``Client`` share one
id, and so do a professional account and the profile it creates, so a token's identity says
which client or professional the caller acts as without another lookup.
"""

from __future__ import annotations

import re
from enum import StrEnum
from uuid import UUID, uuid4

from adapters.request_context import actor_bound
from adapters.sql.account_mail import VERIFICATION_LINK
from adapters.sql.users import EmailTaken, User
from booking import catalogue
from booking.audit import Actor
from booking.errors import InvalidInput
from booking.model import Client
from entrypoints.bootstrap import Container
from entrypoints.config import EmailVerification
from entrypoints.email_links import RESET_LIFETIME, Link, LinkKind, reset_token, token_sha256

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
    time_zone: str | None = None,
) -> User | None:
    """Open a client or professional account; None if the address has one already.

    Both cases cost the same (the password is hashed either way) and the caller answers them
    alike, so registering tells nobody which addresses have accounts. With
    ``HOURBOOK_EMAIL_VERIFICATION=required`` the new address is mailed a verification link; an
    address that is taken is mailed nothing (its owner gets no mail they did not ask for).
    """
    verify = container.settings.email_verification is EmailVerification.REQUIRED
    try:
        if role is Role.CLIENT:
            return register_client(container, email=email, password=password, name=name,
                                   phone=phone, time_zone=time_zone, verify=verify)  # fmt: skip
        return register_professional(container, email=email, password=password, verify=verify)
    except EmailTaken:
        return None


def register_client(
    container: Container,
    *,
    email: str,
    password: str,
    name: str,
    phone: str = "",
    time_zone: str | None = None,
    verify: bool = False,
) -> User:
    """A client account and its client record, in one transaction (with the verification
    link's mail, if ``verify``). Raises EmailTaken."""
    account_id = uuid4()
    # Client validates the values, the time zone too.
    client = Client(id=account_id, name=name, email=email, phone=phone, time_zone=time_zone)
    user = _new_user(container, account_id, email, password, Role.CLIENT, client_id=account_id)
    with actor_bound(Actor.account(user.id, user.role)):  # they open their own account
        container.users.add(user, client, mail=_verification_mail(user) if verify else None)
    return user


def register_professional(
    container: Container, *, email: str, password: str, verify: bool = False
) -> User:
    """A professional account (with the verification link's mail, if ``verify``, in the same
    transaction); its public profile is created afterwards (POST /professionals)."""
    user = _new_user(container, uuid4(), email, password, Role.PROFESSIONAL)
    with actor_bound(Actor.account(user.id, user.role)):  # they open their own account
        container.users.add(user, mail=_verification_mail(user) if verify else None)
    return user


def _verification_mail(user: User) -> dict[str, str]:
    return _link_mail(Link(kind=LinkKind.REGISTRATION, subject_id=user.id, current=user.email,
                           new=user.email))  # fmt: skip


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
    """Mail ``user`` the link that verifies their address (through the outbox)."""
    link = Link(kind=LinkKind.REGISTRATION, subject_id=user.id, current=user.email,
                new=user.email)  # fmt: skip
    send_link(container, link)


def send_link(container: Container, link: Link) -> None:
    """Queue the mail of ``link``: written to the outbox now, sent by the notification job, so
    a mail server that is down delays it and loses nothing."""
    container.account_mail.send(VERIFICATION_LINK, _link_mail(link), container.clock.now())


def _link_mail(link: Link) -> dict[str, str]:
    """The outbox payload of the mail of ``link`` (``entrypoints.account_mail`` reads it)."""
    return {"kind": link.kind.value, "subject_id": str(link.subject_id),
            "current": link.current, "new": link.new}  # fmt: skip


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
    """Queue a link to choose a new password for the account of ``email``, if there is one.

    An address without an account costs the same: it is looked up, and a token made and
    stored with its mail, in the same statements; only the mail job finds nobody to send it
    to. So neither the answer nor its timing tells whether the address has an account.
    """
    user = container.users.by_email(email.strip())
    reset_id, now = uuid4(), container.clock.now()
    container.password_resets.issue(
        reset_id=reset_id,
        account_id=user.id if user is not None else None,
        token_sha256=token_sha256(reset_token(container.settings, reset_id)),
        now=now,
        expires_at=now + RESET_LIFETIME,
    )


def reset_password(container: Container, token: str, password: str) -> UUID | None:
    """Set the password of the account ``token`` was mailed to, and spend every reset token
    of that account; None if the token is unknown, spent, or more than 30 minutes old. Raises
    InvalidInput for a password register would refuse (the token stays usable then).
    """
    _check_password(password)
    stored, resets = token_sha256(token), container.password_resets
    if not resets.is_usable(stored, container.clock.now()):
        return None  # before hashing: a wrong token costs no Argon2
    new_hash = container.passwords.hash(password)
    # Spent, with the account's other tokens, only if still usable: of two uses, one wins.
    return resets.spend(stored, container.clock.now(), new_hash)


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
