"""The HTTP edge on the test client: client addresses behind trusted proxies, login budgets and
the back-off after wrong passwords, bodies over the limit however sent, and the headers every
answer carries (or must not)."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from entrypoints.api.app import SWAGGER_UI_VERSION, create_app
from entrypoints.api.login_throttle import Throttle
from entrypoints.bootstrap import Container
from entrypoints.config import (
    ConfigError,
    LoginThrottle,
    RateLimits,
    Settings,
    TrustedProxies,
    trusted_proxies,
)
from tests.integration.api.support import PASSWORD, Api, bearer, error_code


def app_with(container: Container, **changes: object) -> FlaskClient:
    settings = replace(container.settings, **changes)  # type: ignore[arg-type]
    return create_app(settings, replace(container, settings=settings)).test_client()


def login(
    client: FlaskClient, email: str, password: str, address: str = "192.0.2.10", **headers: str
) -> TestResponse:
    return client.post(
        "/auth/login", json={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address}, headers=headers,
    )  # fmt: skip


def chunked(client: FlaskClient, path: str, body: bytes, **headers: str) -> TestResponse:
    """A body sent as HTTP/1.1 chunks: no Content-Length, the server ends the stream."""
    return client.post(
        path, input_stream=io.BytesIO(body),
        headers={"Content-Type": "application/json", **headers},
        environ_overrides={
            "CONTENT_LENGTH": "", "HTTP_TRANSFER_ENCODING": "chunked",
            "wsgi.input_terminated": True,
        },
    )  # fmt: skip


# -- client addresses ------------------------------------------------------------------------


def test_trusted_proxies_are_a_hop_count_or_networks_and_nothing_else() -> None:
    assert trusted_proxies(None) == TrustedProxies()
    assert trusted_proxies("1") == TrustedProxies(hops=1)
    networks = trusted_proxies("127.0.0.1/32, 10.0.0.0/8")
    assert [str(network) for network in networks.networks] == ["127.0.0.1/32", "10.0.0.0/8"]
    assert networks.gunicorn_allow_ips() == "127.0.0.1/32,10.0.0.0/8"
    assert TrustedProxies(hops=1).gunicorn_allow_ips() == "*"
    assert TrustedProxies().gunicorn_allow_ips() == "0.0.0.0/32"  # nobody's address
    for bad in ("nginx", "10.0.0.1/8", "9", "-1", "10.0.0.0/8,"):
        with pytest.raises(ConfigError, match="HOURBOOK_TRUSTED_PROXIES"):
            trusted_proxies(bad)
    assert Settings.from_env({"HOURBOOK_TRUSTED_PROXIES": "2"}).trusted_proxies.hops == 2


def spend_login_budget(client: FlaskClient, **headers: str) -> list[int]:
    """Two wrong logins through the proxy at 127.0.0.1 (login allows 2 a minute here)."""
    return [
        login(client, "nobody@example.com", "x" * 10, "127.0.0.1", **headers).status_code
        for _ in range(3)
    ]


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_login_budget(
    container: Container,
) -> None:
    client = app_with(
        container, trusted_proxies=trusted_proxies("127.0.0.1/32"),
        rate_limits=RateLimits(login="2/minute"),
    )  # fmt: skip

    first = spend_login_budget(client, **{"X-Forwarded-For": "198.51.100.1"})
    second = spend_login_budget(client, **{"X-Forwarded-For": "198.51.100.2"})

    assert first == second == [401, 401, 429]


def test_a_forged_forwarded_for_on_the_left_of_the_proxys_entry_changes_nothing(
    container: Container,
) -> None:
    client = app_with(
        container, trusted_proxies=trusted_proxies("127.0.0.1/32"),
        rate_limits=RateLimits(login="2/minute"),
    )  # fmt: skip

    spent = spend_login_budget(client, **{"X-Forwarded-For": "203.0.113.9, 198.51.100.1"})
    forged = login(
        client, "nobody@example.com", "x" * 10, "127.0.0.1",
        **{"X-Forwarded-For": "203.0.113.77, 198.51.100.1"},
    )  # fmt: skip

    assert spent == [401, 401, 429]
    assert forged.status_code == 429  # the proxy said 198.51.100.1; the rest is the client's


def test_forwarding_headers_from_an_untrusted_peer_are_ignored(container: Container) -> None:
    client = app_with(
        container, trusted_proxies=trusted_proxies("10.0.0.0/8"),
        rate_limits=RateLimits(login="2/minute"),
    )  # fmt: skip

    statuses = [
        login(client, "nobody@example.com", "x" * 10, "198.51.100.7",
              **{"X-Forwarded-For": f"203.0.113.{n}"}).status_code
        for n in range(3)
    ]  # fmt: skip

    assert statuses == [401, 401, 429]


def test_a_hop_count_takes_the_address_that_many_places_from_the_right(
    container: Container,
) -> None:
    client = app_with(
        container, trusted_proxies=trusted_proxies("1"),
        rate_limits=RateLimits(login="2/minute"),
    )  # fmt: skip

    first = spend_login_budget(client, **{"X-Forwarded-For": "203.0.113.1, 198.51.100.1"})
    other = login(
        client, "nobody@example.com", "x" * 10, "127.0.0.1",
        **{"X-Forwarded-For": "203.0.113.1, 198.51.100.2"},
    )  # fmt: skip

    assert first == [401, 401, 429]
    assert other.status_code == 401


def test_without_trusted_proxies_the_peer_is_the_client_whatever_it_forwards(
    container: Container,
) -> None:
    client = app_with(container, rate_limits=RateLimits(login="2/minute"))

    statuses = [
        login(client, "nobody@example.com", "x" * 10, "127.0.0.1",
              **{"X-Forwarded-For": f"203.0.113.{n}"}).status_code
        for n in range(3)
    ]  # fmt: skip

    assert statuses == [401, 401, 429]


# -- login budgets and the back-off ----------------------------------------------------------


def test_a_token_does_not_move_login_onto_another_budget(container: Container) -> None:
    client = app_with(container, rate_limits=RateLimits(login="2/minute"))
    holder = Api(app_with(container)).register()  # a valid token, made on another app
    spent = [login(client, holder.email, "x" * 10).status_code for _ in range(2)]

    with_token = login(client, holder.email, "x" * 10, **bearer(holder.token))

    assert spent == [401, 401]
    assert with_token.status_code == 429
    assert error_code(with_token) == "too_many_requests"


def test_wrong_passwords_make_that_address_wait_for_that_account_and_nobody_else(
    api: Api, client: FlaskClient
) -> None:
    owner = api.register()
    wrong = [login(client, owner.email, "not-the-password", "192.0.2.66") for _ in range(6)]

    right_from_there = login(client, owner.email, PASSWORD, "192.0.2.66")
    right_from_elsewhere = login(client, owner.email, PASSWORD, "192.0.2.77")

    assert [r.status_code for r in wrong] == [401] * 5 + [429]
    assert error_code(wrong[-1]) == "too_many_requests"
    assert 1 <= int(wrong[-1].headers["Retry-After"]) <= 2
    assert right_from_there.status_code == 429  # even the right password waits there
    assert right_from_elsewhere.status_code == 200  # the owner is never locked out


def test_by_default_the_wait_starts_at_two_seconds_and_doubles_up_to_fifteen_minutes() -> None:
    throttle = Throttle(_UnreachableStore(), "", LoginThrottle())  # type: ignore[arg-type]

    waits = [throttle.wait_seconds(over) for over in (1, 2, 3, 9, 10, 100)]

    assert LoginThrottle().free_failures == 5
    assert waits == [2, 4, 8, 512, 900, 900]


def test_an_unreachable_counter_store_lets_logins_through(
    caplog: pytest.LogCaptureFixture,
) -> None:
    throttle = Throttle(_UnreachableStore(), "", LoginThrottle())  # type: ignore[arg-type]

    for _ in range(10):
        throttle.check("192.0.2.1", "a@example.com")  # never raises
        throttle.failed("192.0.2.1", "a@example.com")
    throttle.succeeded("192.0.2.1", "a@example.com")

    assert "login throttle store unreachable" in caplog.text


def test_a_right_password_clears_the_count_of_its_address(api: Api, client: FlaskClient) -> None:
    owner = api.register()
    for _ in range(4):
        login(client, owner.email, "typo-typo", "192.0.2.5")
    assert login(client, owner.email, PASSWORD, "192.0.2.5").status_code == 200

    again = [login(client, owner.email, "typo-typo", "192.0.2.5").status_code for _ in range(4)]

    assert again == [401] * 4


def test_an_account_attacked_from_many_addresses_makes_each_failing_address_wait_at_once(
    container: Container,
) -> None:
    client = app_with(container, login_throttle=LoginThrottle(account_alarm=3))
    owner = Api(client).register()
    for n in range(3):  # three addresses, one wrong password each: the alarm is reached
        assert login(client, owner.email, "guess", f"198.51.100.{n}").status_code == 401

    fourth = login(client, owner.email, "guess", "198.51.100.9")
    fourth_again = login(client, owner.email, "guess", "198.51.100.9")
    owner_logs_in = login(client, owner.email, PASSWORD, "192.0.2.200")

    assert fourth.status_code == 401
    assert fourth_again.status_code == 429
    assert owner_logs_in.status_code == 200


# -- bodies ----------------------------------------------------------------------------------


MEGABYTE_OF_SPACES = b'{"email": "a@example.com", "password": "xxxxxxxxxx"}' + b" " * 1_000_000


@pytest.mark.parametrize("path", ["/auth/login", "/bookings", "/stripe/webhook"])
def test_a_chunked_body_over_the_limit_answers_the_json_413(
    client: FlaskClient, path: str
) -> None:
    answer = chunked(client, path, MEGABYTE_OF_SPACES)

    assert answer.status_code == 413
    assert error_code(answer) == "request_entity_too_large"


def test_a_chunked_body_under_the_limit_reaches_the_view_whole(client: FlaskClient) -> None:
    answer = chunked(client, "/auth/login", b'{"email": "a@example.com", "password": "xxxxxxxxxx"}')

    assert answer.status_code == 401  # read and checked, not an empty or cut body
    assert error_code(answer) == "invalid_credentials"


def test_a_declared_body_over_the_limit_answers_the_json_413(client: FlaskClient) -> None:
    answer = client.post(
        "/auth/login", data=MEGABYTE_OF_SPACES, headers={"Content-Type": "application/json"}
    )

    assert answer.status_code == 413
    assert error_code(answer) == "request_entity_too_large"


def test_a_declared_body_over_the_limit_is_read_to_its_end_before_the_413(
    client: FlaskClient,
) -> None:
    """So a proxy still sending it (nginx) is not reset mid-body and gets the 413, not a 502."""
    body = io.BytesIO(MEGABYTE_OF_SPACES)

    answer = client.post(
        "/bookings", input_stream=body, content_length=len(MEGABYTE_OF_SPACES),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip

    assert answer.status_code == 413
    assert error_code(answer) == "request_entity_too_large"
    assert body.tell() == len(MEGABYTE_OF_SPACES)


# -- headers ---------------------------------------------------------------------------------


def test_a_2xx_carries_no_retry_after_and_a_429_does(container: Container) -> None:
    client = app_with(container, rate_limits=RateLimits(default="2/minute", search="2/minute"))

    answers = [client.get("/professionals") for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert "Retry-After" not in answers[0].headers
    assert "X-RateLimit-Limit" in answers[0].headers
    assert int(answers[2].headers["Retry-After"]) > 0


def test_a_405_names_the_allowed_methods(client: FlaskClient) -> None:
    answer = client.open("/healthz", method="TRACE")

    assert answer.status_code == 405
    assert error_code(answer) == "method_not_allowed"
    assert set(answer.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS"}


def test_answers_with_tokens_are_not_stored_or_sniffed(api: Api, client: FlaskClient) -> None:
    account = api.register()

    tokens = login(client, account.email, PASSWORD)
    me = client.get("/clients/me", headers=account.headers)

    for answer in (tokens, me):
        assert answer.headers["Cache-Control"] == "no-store"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Referrer-Policy"] == "no-referrer"


def test_swagger_ui_is_pinned_and_off_in_production_unless_asked_for(
    container: Container,
) -> None:
    production = {
        "HOURBOOK_ENV": "production", "HOURBOOK_SECRET_KEY": "s" * 40, "REDIS_URL": "redis://r",
        "STRIPE_API_KEY": "sk_x", "STRIPE_WEBHOOK_SECRET": "whsec_x",
        "HOURBOOK_METRICS_TOKEN": "m" * 32,
    }  # fmt: skip
    assert Settings.from_env(production).api_docs is False
    assert Settings.from_env({**production, "HOURBOOK_API_DOCS": "true"}).api_docs is True
    assert Settings.from_env({}).api_docs is True

    off = app_with(container, api_docs=False)
    on = app_with(container, api_docs=True)

    assert off.get("/docs").status_code == 404
    assert off.get("/openapi.json").status_code == 200
    page = on.get("/docs").get_data(as_text=True)
    assert f"swagger-ui-dist@{SWAGGER_UI_VERSION}/" in page


class _UnreachableStore:
    """A counter store whose every call fails as a Redis outage would."""

    base_exceptions = ConnectionError

    def __getattr__(self, name: str) -> object:
        def fail(*_: object) -> None:
            raise ConnectionError("no route to the store")

        return fail
