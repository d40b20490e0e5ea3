"""Each purpose signs with its own key derived from the secret, e-mail links expire after a
day, and ``hourbook serve`` tells loopback binds from public ones."""

from __future__ import annotations

import time
from uuid import uuid4

import pytest
from flask import Flask

from adapters.payments.simulator import simulated_webhook_secret
from entrypoints.cli.main import is_loopback
from entrypoints.config import Settings
from entrypoints.email_links import Link, LinkKind, make_link, read_link
from entrypoints.keys import Purpose, derive_key
from entrypoints.payments import webhook_secret

SECRET = "a-deployment-secret-" * 3


def test_every_purpose_has_its_own_key_and_none_is_the_secret() -> None:
    keys = {derive_key(SECRET, purpose) for purpose in Purpose}

    assert len(keys) == len(Purpose)
    assert SECRET not in keys
    assert derive_key(SECRET, Purpose.JWT) == derive_key(SECRET, Purpose.JWT)  # stable
    assert derive_key(SECRET + "x", Purpose.JWT) != derive_key(SECRET, Purpose.JWT)


def test_the_flask_session_key_is_derived_not_the_secret(app: Flask) -> None:
    secret = app.extensions["hourbook"].settings.secret_key

    assert app.config["SECRET_KEY"] == derive_key(secret, Purpose.FLASK_SESSION)
    assert app.config["JWT_SECRET_KEY"] == derive_key(secret, Purpose.JWT)


def test_simulator_webhooks_do_not_sign_with_the_raw_secret() -> None:
    # (Calendar feed tokens use no secret at all: random, stored hashed, see
    # test_calendar_feed_url.py.)
    assert webhook_secret(Settings(secret_key=SECRET)) != simulated_webhook_secret(SECRET)


def test_an_email_link_expires_after_a_day(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(secret_key=SECRET)
    link = Link(kind=LinkKind.REGISTRATION, subject_id=uuid4(), current="a@example.com",
                new="a@example.com")  # fmt: skip
    token = make_link(settings, link).split("token=", 1)[1]
    now = time.time()

    monkeypatch.setattr(time, "time", lambda: now + 23 * 3600)
    fresh = read_link(settings, token)
    monkeypatch.setattr(time, "time", lambda: now + 25 * 3600)
    stale = read_link(settings, token)

    assert fresh == link
    assert stale is None


def test_an_email_link_signed_under_another_secret_is_refused() -> None:
    link = Link(kind=LinkKind.CLIENT_EMAIL, subject_id=uuid4(), current="a@example.com",
                new="b@example.com")  # fmt: skip
    token = make_link(Settings(secret_key="another-secret-" * 3), link).split("token=", 1)[1]

    assert read_link(Settings(secret_key=SECRET), token) is None


@pytest.mark.parametrize(
    ("bind", "local"),
    [
        ("127.0.0.1:8000", True), ("localhost:8000", True), ("[::1]:8000", True),
        ("unix:/run/hourbook.sock", True), ("0.0.0.0:8000", False), ("[::]:8000", False),
        ("10.0.1.11:8000", False), ("book.example.com:8000", False),
    ],
)  # fmt: skip
def test_serve_tells_loopback_binds_from_public_ones(bind: str, local: bool) -> None:
    assert is_loopback(bind) is local
