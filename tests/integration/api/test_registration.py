"""Registering tells nobody who has an account, costs a bounded amount of hashing, and (when
verification is required) leads to booking only through a link mailed to the address. New
e-mail addresses for clients and profiles take effect only through such a link too."""

from __future__ import annotations

import email
import re
from dataclasses import replace
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from argon2 import PasswordHasher
from flask.testing import FlaskClient
from sqlalchemy import select, update

from adapters.notifications.mail import FolderNotifier
from adapters.sql.tables import users
from entrypoints import accounts
from entrypoints.api.app import create_app
from entrypoints.bootstrap import Container
from entrypoints.config import EmailVerification
from entrypoints.passwords import Passwords
from tests.factories import MONDAY, at
from tests.integration.api.support import PASSWORD, PROFILE, Api, booking_body, error_code

_LINK = re.compile(r"https?://\S+/auth/verify-email\?token=\S+")


class Mailbox:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def to(self, address: str) -> list[EmailMessage]:
        found = []
        for path in sorted(self.folder.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=default)
            if message["To"] == address:
                found.append(message)  # type: ignore[arg-type]
        return found

    def link_for(self, address: str) -> str:
        """The path and query of the newest verification link mailed to ``address``."""
        (message, *_) = reversed(self.to(address))
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        match = _LINK.search(body.get_content())
        assert match, body.get_content()
        parts = urlsplit(match.group(0))
        return f"{parts.path}?{parts.query}"


@pytest.fixture
def mailbox(tmp_path: Path) -> Mailbox:
    return Mailbox(tmp_path / "mail")


@pytest.fixture
def verifying(container: Container, mailbox: Mailbox) -> Api:
    """The API with HOURBOOK_EMAIL_VERIFICATION=required, mailing into ``mailbox``."""
    settings = replace(
        container.settings, email_verification=EmailVerification.REQUIRED,
        mail_dir=mailbox.folder,
    )  # fmt: skip
    wired = replace(container, settings=settings, notifier=FolderNotifier(mailbox.folder))
    return Api(create_app(settings, wired).test_client())


def _register(client: FlaskClient, address: str, password: str = PASSWORD) -> int:
    body = {"email": address, "password": password, "role": "client", "name": "Vera"}
    return client.post("/auth/register", json=body).status_code


def test_an_account_books_only_after_its_address_is_verified_through_the_mailed_link(
    verifying: Api, mailbox: Mailbox
) -> None:
    _, pro = verifying.professional()
    address = "vera@example.com"
    assert _register(verifying.client, address) == 202
    client = verifying.login(address)

    refused = verifying.book(client, pro["id"], at(MONDAY, 10), expect=403)
    followed = verifying.client.get(mailbox.link_for(address))
    booked = verifying.book(client, pro["id"], at(MONDAY, 10))

    assert error_code(refused) == "email_unverified"
    assert followed.status_code == 200
    assert followed.get_json() == {"status": "verified", "email": address}
    assert booked.get_json()["status"] == "pending"


def test_a_taken_address_is_answered_like_a_new_one_and_mailed_nothing_more(
    verifying: Api, mailbox: Mailbox
) -> None:
    verifying.client.post(
        "/auth/register",
        json={"email": "owner@example.com", "password": PASSWORD, "role": "client", "name": "O"},
    )
    mailed_before = len(mailbox.to("owner@example.com"))

    taken = verifying.client.post(
        "/auth/register",
        json={"email": "owner@example.com", "password": PASSWORD, "role": "client", "name": "O"},
    )
    new = verifying.client.post(
        "/auth/register",
        json={"email": "newcomer@example.com", "password": PASSWORD, "role": "client",
              "name": "N"},
    )  # fmt: skip

    assert taken.status_code == new.status_code == 202
    assert taken.get_json() == new.get_json()
    assert mailed_before == 1
    assert len(mailbox.to("owner@example.com")) == 1
    assert len(mailbox.to("newcomer@example.com")) == 1


def test_a_damaged_link_is_refused_with_a_reason(verifying: Api, mailbox: Mailbox) -> None:
    _register(verifying.client, "vera@example.com")
    link = mailbox.link_for("vera@example.com")

    damaged = verifying.client.get(link[:-3] + "xyz")

    assert damaged.status_code == 400
    assert error_code(damaged) == "invalid_link"


def test_the_verification_link_can_be_mailed_again(verifying: Api, mailbox: Mailbox) -> None:
    _register(verifying.client, "vera@example.com")
    client = verifying.login("vera@example.com")

    again = verifying.client.post("/auth/verification", headers=client.headers)

    assert again.status_code == 202
    assert len(mailbox.to("vera@example.com")) == 2


def test_with_verification_off_a_new_account_books_at_once(api: Api) -> None:
    _, pro = api.professional()
    client = api.register()

    api.book(client, pro["id"], at(MONDAY, 10))


def test_when_every_hashing_slot_stays_busy_register_and_login_answer_503_with_retry_after(
    api: Api, container: Container
) -> None:
    passwords = Passwords(container.password_hasher, limit=1, wait_seconds=0)
    container.passwords = passwords
    client = api.register()
    passwords.slots.acquire()  # another request is hashing

    try:
        register = api.client.post(
            "/auth/register",
            json={"email": "late@example.com", "password": PASSWORD, "role": "professional"},
        )
        login = api.client.post("/auth/login", json={"email": client.email, "password": PASSWORD})
    finally:
        passwords.slots.release()

    for busy in (register, login):
        assert busy.status_code == 503
        assert error_code(busy) == "busy"
        assert int(busy.headers["Retry-After"]) > 0
    assert _register(api.client, "late@example.com") == 202  # free again


def test_a_hash_made_with_older_parameters_is_redone_at_login(
    api: Api, container: Container
) -> None:
    client = api.register()
    older = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1).hash(PASSWORD)
    with container.engine.begin() as connection:
        connection.execute(update(users).where(users.c.email == client.email)
                           .values(password_hash=older))  # fmt: skip
    assert container.passwords.needs_rehash(older)

    api.login(client.email)

    with container.engine.connect() as connection:
        stored = connection.execute(
            select(users.c.password_hash).where(users.c.email == client.email)
        ).scalar_one()
    assert stored != older
    assert not container.passwords.needs_rehash(stored)
    api.login(client.email)  # and the password still opens the account


def test_a_new_client_address_takes_effect_only_through_the_link_mailed_to_it(
    verifying: Api, mailbox: Mailbox
) -> None:
    client = verifying.register()
    before = verifying.client.get("/clients/me", headers=client.headers).get_json()["email"]

    asked = verifying.client.patch(
        "/clients/me", json={"email": "new-home@example.com", "name": "Vera V."},
        headers=client.headers,
    )  # fmt: skip
    unchanged = verifying.client.get("/clients/me", headers=client.headers).get_json()
    followed = verifying.client.get(mailbox.link_for("new-home@example.com"))
    changed = verifying.client.get("/clients/me", headers=client.headers).get_json()

    assert asked.status_code == 200
    assert asked.get_json()["pending_email"] == "new-home@example.com"
    assert unchanged["email"] == before
    assert unchanged["name"] == "Vera V."  # the other changes are applied at once
    assert followed.status_code == 200
    assert changed["email"] == "new-home@example.com"


def test_an_older_address_link_does_nothing_once_the_address_changed_since(
    verifying: Api, mailbox: Mailbox
) -> None:
    client = verifying.register()
    for address in ("first@example.com", "second@example.com"):
        verifying.client.patch("/clients/me", json={"email": address}, headers=client.headers)
    first, second = mailbox.link_for("first@example.com"), mailbox.link_for("second@example.com")
    assert verifying.client.get(second).status_code == 200

    stale = verifying.client.get(first)

    assert stale.status_code == 409
    assert error_code(stale) == "link_outdated"
    me = verifying.client.get("/clients/me", headers=client.headers).get_json()
    assert me["email"] == "second@example.com"


def test_a_new_profile_address_takes_effect_only_through_the_link_mailed_to_it(
    verifying: Api, mailbox: Mailbox
) -> None:
    owner, pro = verifying.professional()
    path = f"/professionals/{pro['id']}"

    asked = verifying.client.patch(path, json={"email": "desk@example.com"},
                                   headers=owner.headers)  # fmt: skip
    unchanged = verifying.client.get(path).get_json()
    verifying.client.get(mailbox.link_for("desk@example.com"))
    changed = verifying.client.get(path).get_json()

    assert asked.status_code == 200
    assert asked.get_json()["pending_email"] == "desk@example.com"
    assert unchanged["email"] == pro["email"]
    assert changed["email"] == "desk@example.com"


def test_a_booking_request_body_alone_cannot_skip_verification(
    verifying: Api, mailbox: Mailbox
) -> None:
    _, pro = verifying.professional()
    client = verifying.register()

    response = verifying.client.post(
        "/bookings", json=booking_body(pro["id"], at(MONDAY, 10)),
        headers={**client.headers, "Idempotency-Key": "k-1"},
    )  # fmt: skip

    assert response.status_code == 403
    assert mailbox.to(client.email)  # the link went out at registration


def test_a_new_profile_starts_with_the_login_address_until_its_own_is_verified(
    verifying: Api, mailbox: Mailbox
) -> None:
    owner, pro = verifying.professional(email="shop@example.com")
    path = f"/professionals/{pro['id']}"

    before = verifying.client.get(path).get_json()["email"]
    verifying.client.get(mailbox.link_for("shop@example.com"))
    after = verifying.client.get(path).get_json()["email"]

    assert pro["pending_email"] == "shop@example.com"
    assert before == owner.email
    assert after == "shop@example.com"


class CountingPasswords(Passwords):
    hashed = 0

    def hash(self, password: str) -> str:
        self.hashed += 1
        return super().hash(password)


def test_a_taken_address_costs_the_same_hashing_as_a_new_one(
    api: Api, container: Container
) -> None:
    client = api.register()
    counting = CountingPasswords(container.password_hasher, limit=2)
    container.passwords = counting

    _register(api.client, client.email)
    taken = counting.hashed
    _register(api.client, "brand-new@example.com")

    assert taken == 1
    assert counting.hashed - taken == 1


def test_an_admin_creates_a_profile_with_the_address_as_sent(
    verifying: Api, container: Container, mailbox: Mailbox
) -> None:
    accounts.create_admin(container, "root@example.com", PASSWORD)
    admin = verifying.login("root@example.com")

    created = verifying.client.post(
        "/professionals", json={**PROFILE, "email": "agency@example.com"}, headers=admin.headers
    )

    assert created.status_code == 201
    assert created.get_json()["email"] == "agency@example.com"
    assert "pending_email" not in created.get_json()
    assert mailbox.to("agency@example.com") == []
