"""A forgotten password: asking for a reset tells nobody who has an account, by its answer or
by its cost; the link goes through the outbox, so a mail server that is down loses nothing; the
token is stored hashed and sets a new password once, within 30 minutes, spending every token of
the account and logging it out everywhere."""

from __future__ import annotations

import email
import hashlib
import re
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from adapters.notifications.mail import FolderNotifier
from adapters.sql.tables import outbox, password_reset_tokens
from entrypoints.api.app import create_app
from entrypoints.bootstrap import Container
from entrypoints.config import RateLimits
from tests.factories import FixedClock
from tests.integration.api.support import PASSWORD, Api, bearer, deliver_mail, error_code
from tests.integration.support import statements

NEW_PASSWORD = "a brand new passphrase"  # noqa: S105 - a test account's
_LINK = re.compile(r"https?://\S+/reset-password\?token=\S+")


class Mailed:
    """The API, and the mail folder once the outbox's mail was sent, as the worker would."""

    def __init__(self, wired: Container, folder: Path) -> None:
        self.wired = wired
        self.folder = folder
        self.api = Api(create_app(wired.settings, wired).test_client())

    def mails(self, address: str) -> list[EmailMessage]:
        deliver_mail(self.wired)
        return _mails(self.folder, address)

    def token(self, address: str) -> str:
        deliver_mail(self.wired)
        return _token(self.folder, address)


def _mails(folder: Path, address: str) -> list[EmailMessage]:
    found = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=default)
        if message["To"] == address:
            found.append(message)  # type: ignore[arg-type]
    return found


def _token(folder: Path, address: str) -> str:
    """The token of the newest reset link mailed to ``address``."""
    (message, *_) = reversed(_mails(folder, address))
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    match = _LINK.search(body.get_content())
    assert match, body.get_content()
    return parse_qs(urlsplit(match.group(0)).query)["token"][0]


@pytest.fixture
def mail(tmp_path: Path) -> Path:
    return tmp_path / "mail"


@pytest.fixture
def mailed(container: Container, mail: Path) -> Mailed:
    """The API, its mail going to ``mail``."""
    settings = replace(container.settings, mail_dir=mail)
    return Mailed(replace(container, settings=settings, notifier=FolderNotifier(mail)), mail)


@pytest.fixture
def mailing(mailed: Mailed) -> Api:
    return mailed.api


def _ask(client: FlaskClient, address: str) -> tuple[int, object]:
    response = client.post("/auth/password-reset", json={"email": address})
    return response.status_code, response.get_json()


def _confirm(client: FlaskClient, token: str, password: str = NEW_PASSWORD) -> int:
    body = {"token": token, "password": password}
    response = client.post("/auth/password-reset/confirm", json=body)
    if response.status_code == 400:
        assert error_code(response) == "invalid_link"
    return response.status_code


def _login(client: FlaskClient, address: str, password: str) -> int:
    body = {"email": address, "password": password}
    return client.post("/auth/login", json=body).status_code


def test_unknown_and_known_addresses_get_the_same_answer_and_only_an_account_is_mailed(
    mailing: Api, mailed: Mailed
) -> None:
    account = mailing.register()

    known = _ask(mailing.client, account.email)
    unknown = _ask(mailing.client, "nobody-here@example.com")

    assert known == unknown
    assert known[0] == 202
    assert len(mailed.mails(account.email)) == 1
    assert mailed.mails("nobody-here@example.com") == []


def test_the_mailed_token_sets_the_new_password_once_and_the_old_one_stops_working(
    mailing: Api, mailed: Mailed
) -> None:
    account = mailing.register()
    _ask(mailing.client, account.email)
    token = mailed.token(account.email)

    first = _confirm(mailing.client, token)
    again = _confirm(mailing.client, token, "yet another passphrase")

    assert (first, again) == (204, 400)
    assert _login(mailing.client, account.email, NEW_PASSWORD) == 200
    assert _login(mailing.client, account.email, PASSWORD) == 401
    assert _login(mailing.client, account.email, "yet another passphrase") == 401


def test_a_reset_refuses_every_access_and_refresh_token_issued_before_it(
    mailing: Api, mailed: Mailed
) -> None:
    account = mailing.register()
    other_login = mailing.login(account.email)
    _ask(mailing.client, account.email)

    assert _confirm(mailing.client, mailed.token(account.email)) == 204

    for login in (account, other_login):
        me = mailing.client.get("/clients/me", headers=login.headers)
        refreshed = mailing.client.post("/auth/refresh", headers=bearer(login.refresh_token))
        assert (me.status_code, refreshed.status_code) == (401, 401)
    tokens = mailing.client.post(
        "/auth/login", json={"email": account.email, "password": NEW_PASSWORD}
    ).get_json()
    me = mailing.client.get("/clients/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200


def test_a_token_older_than_30_minutes_is_refused_and_changes_nothing(
    mailing: Api, mailed: Mailed, clock: FixedClock
) -> None:
    account = mailing.register()
    _ask(mailing.client, account.email)
    token = mailed.token(account.email)

    clock.advance(timedelta(minutes=30, seconds=1))

    assert _confirm(mailing.client, token) == 400
    assert _login(mailing.client, account.email, PASSWORD) == 200
    assert _login(mailing.client, account.email, NEW_PASSWORD) == 401


def test_a_token_29_minutes_old_still_works(
    mailing: Api, mailed: Mailed, clock: FixedClock
) -> None:
    account = mailing.register()
    _ask(mailing.client, account.email)
    token = mailed.token(account.email)

    clock.advance(timedelta(minutes=29))

    assert _confirm(mailing.client, token) == 204


def test_a_new_password_register_would_refuse_is_refused_and_leaves_the_token_usable(
    mailing: Api, mailed: Mailed
) -> None:
    account = mailing.register()
    _ask(mailing.client, account.email)
    token = mailed.token(account.email)

    short = mailing.client.post(
        "/auth/password-reset/confirm", json={"token": token, "password": "too short"}
    )

    assert short.status_code == 422
    assert _login(mailing.client, account.email, PASSWORD) == 200
    assert _confirm(mailing.client, token) == 204


def test_a_token_this_server_did_not_mint_is_refused(mailing: Api, mailed: Mailed) -> None:
    account = mailing.register()
    _ask(mailing.client, account.email)
    token = mailed.token(account.email)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")

    assert _confirm(mailing.client, forged) == 400
    assert _confirm(mailing.client, "not-a-token") == 400
    assert _login(mailing.client, account.email, PASSWORD) == 200


def test_a_reset_spends_every_token_mailed_before_it_too(
    mailing: Api, mailed: Mailed, clock: FixedClock
) -> None:
    account = mailing.register()
    _ask(mailing.client, account.email)
    older = mailed.token(account.email)
    clock.advance(timedelta(minutes=1))
    _ask(mailing.client, account.email)
    newer = mailed.token(account.email)

    assert older != newer
    assert _confirm(mailing.client, newer) == 204
    assert _confirm(mailing.client, older, "yet another passphrase") == 400


def _limited(container: Container, mail: Path) -> FlaskClient:
    limits = RateLimits(default="50/minute", login="50/minute", booking="50/minute",
                        register="2/minute")  # fmt: skip
    settings = replace(container.settings, rate_limits=limits, mail_dir=mail)
    wired = replace(container, settings=settings, notifier=FolderNotifier(mail))
    return create_app(settings, wired).test_client()


def test_reset_requests_for_one_address_are_limited_whoever_sends_them(
    container: Container, mail: Path
) -> None:
    client = _limited(container, mail)
    address = f"target-{uuid4().hex[:8]}@example.com"

    answers = [
        client.post(
            "/auth/password-reset", json={"email": address},
            environ_base={"REMOTE_ADDR": f"198.51.100.{n}"},
        ).status_code
        for n in range(3)
    ]  # fmt: skip

    assert answers == [202, 202, 429]


def test_reset_requests_from_one_address_are_limited_whatever_they_name(
    container: Container, mail: Path
) -> None:
    client = _limited(container, mail)

    answers = [
        client.post("/auth/password-reset", json={"email": f"n{n}@example.com"}).status_code
        for n in range(3)
    ]

    assert answers == [202, 202, 429]


def test_the_link_goes_through_the_outbox_so_a_mail_server_that_is_down_loses_nothing(
    mailed: Mailed, mail: Path
) -> None:
    account = mailed.api.register()
    down = replace(mailed.wired.settings, smtp_url="smtp://127.0.0.1:9")  # nothing listens

    asked = _ask(mailed.api.client, account.email)  # the request never talks to the server
    with pytest.raises(OSError):
        deliver_mail(replace(mailed.wired, settings=down))  # the job fails, and will retry

    assert asked[0] == 202
    assert _mails(mail, account.email) == []
    assert _confirm(mailed.api.client, mailed.token(account.email)) == 204  # delivered now


def test_tokens_are_stored_only_as_their_hash(mailed: Mailed, container: Container) -> None:
    account = mailed.api.register()
    _ask(mailed.api.client, account.email)
    token = mailed.token(account.email)

    with container.engine.connect() as connection:
        stored = [
            [str(value) for value in row]
            for table in (password_reset_tokens, outbox)
            for row in connection.execute(sa.select(table))
        ]
        hashes = connection.scalars(sa.select(password_reset_tokens.c.token_sha256)).all()

    assert not any(token in value for row in stored for value in row)
    assert hashes == [hashlib.sha256(token.encode()).hexdigest()]


def test_asking_for_an_unknown_address_costs_the_same_statements_as_for_an_account(
    mailed: Mailed, container: Container
) -> None:
    account = mailed.api.register()
    stranger = f"nobody-{uuid4().hex[:8]}@example.com"

    with statements(container.engine) as known:
        known_answer = _ask(mailed.api.client, account.email)
    with statements(container.engine) as unknown:
        unknown_answer = _ask(mailed.api.client, stranger)

    assert known_answer == unknown_answer
    assert [_shape(sql) for sql in known] == [_shape(sql) for sql in unknown]
    assert any("password_reset_tokens" in sql for sql in unknown)  # the write happens too
    assert any("outbox" in sql for sql in unknown)
    assert mailed.mails(stranger) == []


def _shape(sql: str) -> str:
    return " ".join(sql.split())


def test_a_reset_spends_every_unused_token_of_the_account(
    mailed: Mailed, container: Container, clock: FixedClock
) -> None:
    account = mailed.api.register()
    for _ in range(3):
        _ask(mailed.api.client, account.email)
        clock.advance(timedelta(minutes=1))
    *older, newest = [_token_of(message) for message in mailed.mails(account.email)]

    assert _confirm(mailed.api.client, newest) == 204

    with container.engine.connect() as connection:
        unused = connection.scalar(
            sa.select(sa.func.count())
            .select_from(password_reset_tokens)
            .where(password_reset_tokens.c.used_at.is_(None))
        )
    assert unused == 0
    assert [_confirm(mailed.api.client, token, "another passphrase!") for token in older] == [
        400, 400
    ]


def _token_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    match = _LINK.search(body.get_content())
    assert match
    return parse_qs(urlsplit(match.group(0)).query)["token"][0]


def test_a_link_mailed_after_its_token_expired_is_not_sent(
    mailed: Mailed, clock: FixedClock
) -> None:
    account = mailed.api.register()
    _ask(mailed.api.client, account.email)

    clock.advance(timedelta(minutes=31))  # the mail server was down all this while

    assert mailed.mails(account.email) == []
