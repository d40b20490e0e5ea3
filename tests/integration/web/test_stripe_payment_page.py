"""With Stripe configured, the payment page runs Stripe's Payment Element: Stripe.js from
Stripe, the intent's client secret handed to it, and Stripe's origins in that page's CSP only.
(localstripe plays Stripe's API; no browser here, since Stripe.js itself is not reachable.)"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from adapters.sql import migrate
from entrypoints.api.app import create_app
from entrypoints.bootstrap import build
from entrypoints.config import Environment, Settings
from tests.integration.api.conftest import GENEROUS
from tests.integration.payments.conftest import localstripe  # noqa: F401 - a fixture
from tests.integration.support import UNCAPPED
from tests.integration.web.conftest import Site

pytestmark = pytest.mark.stripe


@pytest.fixture(params=["pk_test_hourbook"])
def stripe_site(
    request: pytest.FixtureRequest,
    postgres_url: str,
    tmp_path: Path,
    localstripe: str,  # noqa: F811 - the fixture
) -> Iterator[tuple[Site, FlaskClient]]:
    settings = Settings(
        env=Environment.TEST,
        secret_key="web-test-secret-" * 4,
        database_url=postgres_url,
        rate_limits=GENEROUS,
        hold_limits=UNCAPPED,
        mail_dir=tmp_path / "mail",
        stripe_api_key="sk_test_hourbook",
        stripe_api_base=localstripe,
        stripe_webhook_secret="whsec_hourbook_web_test",  # noqa: S106 - a test's own
        stripe_publishable_key=request.param,
    )
    container = build(settings)
    migrate.upgrade(container.engine)
    client = create_app(settings, container).test_client()
    yield Site("", container, settings.mail_dir), client
    container.close()


def token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def held_booking(site: Site, client: FlaskClient) -> str:
    """Register, hold a slot tomorrow afternoon; the payment page's path."""
    pro = site.add_pro()
    page = client.get("/register").get_data(as_text=True)
    client.post("/register", data={"name": "Cleo", "email": "cleo.stripe@example.com",
                                   "password": "web password 1234", "csrf_token": token(page)})
    start = (datetime.now(UTC) + timedelta(days=2)).replace(hour=12, minute=0, second=0,
                                                            microsecond=0)  # fmt: skip
    query = {"pro": str(pro.id), "start": start.isoformat(), "duration": "60"}
    page = client.get("/book", query_string=query).get_data(as_text=True)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page)
    assert key is not None
    held = client.post("/book", data={**query, "idempotency_key": key.group(1),
                                      "csrf_token": token(page)})  # fmt: skip
    assert held.status_code == 303, held.get_data(as_text=True)
    return str(held.headers["Location"])


def test_the_payment_page_runs_stripes_payment_element_with_stripes_origins_allowed(
    stripe_site: tuple[Site, FlaskClient],
) -> None:
    site, client = stripe_site
    pay_path = held_booking(site, client)

    answer = client.get(pay_path)

    page = answer.get_data(as_text=True)
    policy = answer.headers["Content-Security-Policy"]
    assert answer.status_code == 200
    assert '<script src="https://js.stripe.com/v3/"></script>' in page
    assert 'data-publishable-key="pk_test_hourbook"' in page
    assert re.search(r'data-client-secret="pi_[^"]+_secret_[^"]+"', page)
    assert "script-src 'self' https://js.stripe.com" in policy
    assert "frame-src https://js.stripe.com https://hooks.stripe.com" in policy
    assert "connect-src 'self' https://api.stripe.com" in policy
    assert "unsafe-inline" not in policy


def test_stripes_origins_stay_off_every_other_page(
    stripe_site: tuple[Site, FlaskClient],
) -> None:
    site, client = stripe_site
    pay_path = held_booking(site, client)
    booking_path = pay_path.removesuffix("/pay")

    for path in ("/", "/my/bookings", booking_path, "/signin"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert "stripe" not in answer.headers["Content-Security-Policy"], path


@pytest.mark.parametrize("stripe_site", [None], indirect=True)
def test_without_a_publishable_key_the_payment_page_says_card_payments_are_not_set_up(
    stripe_site: tuple[Site, FlaskClient],
) -> None:
    site, client = stripe_site
    pay_path = held_booking(site, client)

    page = client.get(pay_path).get_data(as_text=True)

    assert "Card payments are not set up on this server" in page
    assert "js.stripe.com" not in page


def test_the_publishable_key_is_read_from_the_environment() -> None:
    settings = Settings.from_env({"STRIPE_PUBLISHABLE_KEY": "pk_test_123"})

    assert settings.stripe_publishable_key == "pk_test_123"
    assert Settings.from_env({}).stripe_publishable_key is None
