"""The web forms share the API's protections: the per-address limits of logging in and
registering, and the back-off after wrong passwords for one account."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from adapters.sql import migrate
from entrypoints import accounts
from entrypoints.accounts import Role
from entrypoints.api.app import create_app
from entrypoints.bootstrap import build
from entrypoints.config import Environment, LoginThrottle, RateLimits, Settings
from tests.integration.api.conftest import GENEROUS

PASSWORD = "web password 1234"  # noqa: S105 - a test account's


def web_client(tmp_path: Path, **changes: object) -> FlaskClient:
    settings = replace(Settings(
        env=Environment.TEST,
        secret_key="web-test-secret-" * 4,
        database_url=f"sqlite+pysqlite:///{tmp_path / 'web.sqlite3'}",
        mail_dir=tmp_path / "mail",
        rate_limits=GENEROUS,
    ), **changes)  # fmt: skip
    container = build(settings)
    migrate.upgrade(container.engine)
    accounts.register(container, role=Role.CLIENT, email="cleo@example.com", password=PASSWORD,
                      name="Cleo")  # fmt: skip
    return create_app(settings, container).test_client()


def sign_in(client: FlaskClient, password: str) -> int:
    page = client.get("/signin").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    form = {"email": "cleo@example.com", "password": password, "csrf_token": found[1]}
    return client.post("/signin", data=form).status_code


def test_wrong_passwords_on_the_sign_in_page_make_that_address_wait(tmp_path: Path) -> None:
    client = web_client(tmp_path, login_throttle=LoginThrottle(free_failures=2))

    first = [sign_in(client, "wrong password!") for _ in range(2)]
    refused = sign_in(client, PASSWORD)  # even the right one, while waiting

    assert first == [400, 400]
    assert refused == 429


@pytest.mark.parametrize(("path", "rate"), [("/signin", "login"), ("/register", "register")])
def test_the_sign_in_and_register_forms_have_the_apis_per_address_limits(
    tmp_path: Path, path: str, rate: str
) -> None:
    limits = replace(GENEROUS, **{rate: "2/minute"})
    assert isinstance(limits, RateLimits)
    client = web_client(tmp_path, rate_limits=limits)
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None

    answers = [client.post(path, data={"csrf_token": found[1]}).status_code for _ in range(3)]

    assert answers[:2] == [400, 400] and answers[2] == 429


def test_the_search_form_offers_the_seeded_cities_and_categories() -> None:
    from entrypoints.cli import seed
    from entrypoints.web import places

    assert [(c.name, c.lat, c.lng) for c in places.CITIES] == [
        (c.name, c.lat, c.lng) for c in seed.CITIES
    ]
    assert set(places.CATEGORIES) == set(seed.CATEGORIES)
