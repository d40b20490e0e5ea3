"""In production an endpoint's URL must be https and resolve to public addresses only."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from uuid import uuid4

import pytest
from flask import Flask

from adapters.sql import migrate
from entrypoints import accounts
from entrypoints.api.app import create_app
from entrypoints.bootstrap import build
from entrypoints.config import Environment, Settings
from tests.factories import FixedClock
from tests.integration.api.support import PASSWORD, Account, Api, error_code


@pytest.fixture
def production(settings: Settings) -> Iterator[Flask]:
    """The app as HOURBOOK_ENV=production builds it: https required, no allow-list."""
    chosen = Settings.from_env({"HOURBOOK_ENV": "production", "HOURBOOK_SECRET_KEY": "s" * 40,
                                "REDIS_URL": settings.redis_url or "", "STRIPE_API_KEY": "sk_x",
                                "STRIPE_WEBHOOK_SECRET": "whsec_x",
                                "HOURBOOK_METRICS_TOKEN": "t" * 32})  # fmt: skip
    assert chosen.webhooks.require_https and chosen.webhooks.allowed_networks == ()
    prod = replace(settings, env=Environment.PRODUCTION, webhooks=chosen.webhooks)
    container = build(prod, clock=FixedClock())
    migrate.upgrade(container.engine)
    yield create_app(prod, container)
    container.close()


@pytest.fixture
def prod_admin(production: Flask) -> tuple[Api, Account]:
    api = Api(production.test_client())
    email = f"admin-{uuid4().hex[:8]}@example.com"
    accounts.create_admin(production.extensions["hourbook"], email, PASSWORD)
    return api, api.login(email)


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.5/hooks",  # private
        "https://127.0.0.1/hooks",  # loopback
        "https://localhost/hooks",  # a name for loopback
        "https://169.254.169.254/latest/meta-data",  # the cloud metadata service (link-local)
        "https://[::1]/hooks",
        "https://[::ffff:10.0.0.5]/hooks",  # IPv4-mapped private
        "https://100.64.0.1/hooks",  # shared address space
        "https://0.0.0.0/hooks",
    ],
)
def test_a_url_on_a_non_public_address_is_refused_in_production(
    prod_admin: tuple[Api, Account], url: str
) -> None:
    api, admin = prod_admin
    response = api.client.post(
        "/admin/webhook-endpoints", json={"url": url, "event_types": ["booking.created"]},
        headers=admin.headers,
    )  # fmt: skip
    assert response.status_code == 422, response.get_json()
    assert error_code(response) == "url_not_allowed"
    assert api.client.get("/admin/webhook-endpoints", headers=admin.headers).get_json() == {
        "items": []
    }


def test_plain_http_is_refused_in_production_and_https_to_a_public_address_accepted(
    prod_admin: tuple[Api, Account],
) -> None:
    api, admin = prod_admin
    plain = api.client.post(
        "/admin/webhook-endpoints",
        json={"url": "http://93.184.216.34/hooks", "event_types": ["booking.created"]},
        headers=admin.headers,
    )
    secure = api.client.post(
        "/admin/webhook-endpoints",
        json={"url": "https://93.184.216.34/hooks", "event_types": ["booking.created"]},
        headers=admin.headers,
    )
    assert plain.status_code == 422 and "https" in plain.get_json()["error"]["message"]
    assert secure.status_code == 201, secure.get_json()
    assert secure.get_json()["secret"].startswith("whsec_")


def test_changing_the_url_to_a_private_address_is_refused_too(
    prod_admin: tuple[Api, Account],
) -> None:
    api, admin = prod_admin
    created = api.client.post(
        "/admin/webhook-endpoints",
        json={"url": "https://93.184.216.34/hooks", "event_types": ["booking.created"]},
        headers=admin.headers,
    ).get_json()
    response = api.client.patch(
        f"/admin/webhook-endpoints/{created['id']}", json={"url": "https://192.168.1.1/"},
        headers=admin.headers,
    )  # fmt: skip
    assert response.status_code == 422
    found = api.client.get(f"/admin/webhook-endpoints/{created['id']}", headers=admin.headers)
    assert found.get_json()["url"] == "https://93.184.216.34/hooks"


def test_endpoints_are_for_admins_only(api: Api) -> None:
    client = api.register()
    response = api.client.get("/admin/webhook-endpoints", headers=client.headers)
    assert response.status_code == 403
    assert api.client.get("/admin/webhook-endpoints").status_code == 401


def test_the_secret_is_shown_at_creation_only(api: Api, admin: Account) -> None:
    created = api.client.post(
        "/admin/webhook-endpoints",
        json={"url": "http://127.0.0.1:9/hooks", "event_types": ["booking.created"]},
        headers=admin.headers,
    ).get_json()
    listed = api.client.get("/admin/webhook-endpoints", headers=admin.headers).get_json()
    one = api.client.get(f"/admin/webhook-endpoints/{created['id']}", headers=admin.headers)
    assert created["secret"].startswith("whsec_")
    assert "secret" not in listed["items"][0] and "secret" not in one.get_json()
    assert created["secret"] not in one.get_data(as_text=True)
