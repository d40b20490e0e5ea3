"""A forgotten password: asking for a reset tells nobody who has an account; the mailed token
sets a new password once, within 30 minutes, and logs the account out everywhere."""

from __future__ import annotations

import email
import re
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

import pytest
from flask.testing import FlaskClient

from adapters.notifications.mail import FolderNotifier
from entrypoints.api.app import create_app
from entrypoints.bootstrap import Container
from entrypoints.config import RateLimits
from tests.factories import FixedClock
from tests.integration.api.support import PASSWORD, Api, bearer, error_code

NEW_PASSWORD = "a brand new passphrase"  # noqa: S105 - a test account's
_LINK = re.compile(r"https?://\S+/reset-password\?token=\S+")


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
def mailing(container: Container, mail: Path) -> Api:
    """The API mailing into ``mail``."""
    settings = replace(container.settings, mail_dir=mail)
    wired = replace(container, settings=settings, notifier=FolderNotifier(mail))
    return Api(create_app(settings, wired).test_client())


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
    mailing: Api, mail: Path
) -> None:
    account = mailing.register()

    known = _ask(mailing.client, account.email)
    unknown = _ask(mailing.client, "nobody-here@example.com")

    assert known == unknown
    assert known[0] == 202
    assert len(_mails(mail, account.email)) == 1
    assert _mails(mail, "nobody-here@example.com") == []


def test_the_mailed_token_sets_the_new_password_once_and_the_old_one_stops_working(
    mailing: Api, mail: Path
) -> None:
    account = mailing.register()
    _ask(mailing.client, account.email)
    token = _token(mail, account.email)

    first = _confirm(mailing.client, token)
    again = _confirm(mailing.client, token, "yet another passphrase")

    assert (first, again) == (204, 400)
    assert _login(mailing.client, account.email, NEW_PASSWORD) == 200
    assert _login(mailing.client, account.email, PASSWORD) == 401
    assert _login(mailing.client, account.email, "yet another passphrase") == 401


def test_a_reset_refuses_every_access_and_refresh_token_issued_before_it(
    mailing: Api, mail: Path
) -> None:
    account = mailing.register()
    other_login = mailing.login(account.email)
    _ask(mailing.client, account.email)

    assert _confirm(mailing.client, _token(mail, account.email)) == 204

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
    mailing: Api, mail: Path, clock: FixedClock
) -> None:
    account = mailing.register()
    _ask(mailing.client, account.email)
    token = _token(mail, account.email)

    clock.advance(timedelta(minutes=30, seconds=1))

    assert _confirm(mailing.client, token) == 400
    assert _login(mailing.client, account.email, PASSWORD) == 200
    assert _login(mailing.client, account.email, NEW_PASSWORD) == 401


def test_a_token_29_minutes_old_still_works(mailing: Api, mail: Path, clock: FixedClock) -> None:
    account = mailing.register()
    _ask(mailing.client, account.email)
    token = _token(mail, account.email)

    clock.advance(timedelta(minutes=29))

    assert _confirm(mailing.client, token) == 204


def test_a_new_password_register_would_refuse_is_refused_and_leaves_the_token_usable(
    mailing: Api, mail: Path
) -> None:
    account = mailing.register()
    _ask(mailing.client, account.email)
    token = _token(mail, account.email)

    short = mailing.client.post(
        "/auth/password-reset/confirm", json={"token": token, "password": "too short"}
    )

    assert short.status_code == 422
    assert _login(mailing.client, account.email, PASSWORD) == 200
    assert _confirm(mailing.client, token) == 204


def test_a_token_this_server_did_not_mint_is_refused(mailing: Api, mail: Path) -> None:
    account = mailing.register()
    _ask(mailing.client, account.email)
    token = _token(mail, account.email)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")

    assert _confirm(mailing.client, forged) == 400
    assert _confirm(mailing.client, "not-a-token") == 400
    assert _login(mailing.client, account.email, PASSWORD) == 200


def test_a_reset_spends_every_token_mailed_before_it_too(
    mailing: Api, mail: Path, clock: FixedClock
) -> None:
    account = mailing.register()
    _ask(mailing.client, account.email)
    older = _token(mail, account.email)
    clock.advance(timedelta(minutes=1))
    _ask(mailing.client, account.email)
    newer = _token(mail, account.email)

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
