"""Accounts: register, authenticate, create admins. Used by the API and by the CLI.

Passwords are hashed with Argon2id (memory-hard). A client account and its ``Client`` share one
id, and so do a professional account and the profile it creates, so a token's identity says
which client or professional the caller acts as without another lookup.
"""

from __future__ import annotations

import re
from enum import StrEnum
from uuid import UUID, uuid4

from argon2.exceptions import InvalidHashError, VerificationError

from adapters.sql.users import User
from booking.errors import InvalidInput
from booking.model import Client
from entrypoints.bootstrap import Container

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


class Role(StrEnum):
    CLIENT = "client"
    PROFESSIONAL = "professional"
    ADMIN = "admin"


def register_client(
    container: Container, *, email: str, password: str, name: str, phone: str = ""
) -> User:
    """A client account and its client record, in one transaction. Raises EmailTaken."""
    account_id = uuid4()
    client = Client(id=account_id, name=name, email=email, phone=phone)  # validates
    user = _new_user(container, account_id, email, password, Role.CLIENT, client_id=account_id)
    container.users.add(user, client)
    return user


def register_professional(container: Container, *, email: str, password: str) -> User:
    """A professional account; its public profile is created afterwards (POST /professionals)."""
    user = _new_user(container, uuid4(), email, password, Role.PROFESSIONAL)
    container.users.add(user)
    return user


def create_admin(container: Container, email: str, password: str) -> User:
    """An administrator account: only the CLI makes these (``hourbook create-admin``)."""
    user = _new_user(container, uuid4(), email, password, Role.ADMIN)
    container.users.add(user)
    return user


def authenticate(container: Container, email: str, password: str) -> User | None:
    """The account if the password is right, else None (the same work either way)."""
    hasher = container.password_hasher
    user = container.users.by_email(email)
    if user is None:
        # Hash anyway, so the answer takes as long whether or not the address exists.
        hasher.hash(password)
        return None
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


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
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"passwords have {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
        )
    return User(
        id=user_id,
        email=email.strip().lower(),
        password_hash=container.password_hasher.hash(password),
        role=role.value,
        created_at=container.clock.now(),
        client_id=client_id,
    )

