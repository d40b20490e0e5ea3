"""Logging in, refreshing and logging out; bad tokens of every kind answer 401."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

from flask import Flask
from flask_jwt_extended import JWTManager, create_access_token

from entrypoints.bootstrap import Container, RevokedTokens
from tests.integration.api.support import PASSWORD, Api, bearer, error_code


def test_a_wrong_password_is_refused_like_an_unknown_address(api: Api) -> None:
    client = api.register()

    wrong = api.client.post("/auth/login", json={"email": client.email, "password": "nope-nope!"})
    unknown = api.client.post(
        "/auth/login", json={"email": "ghost@example.com", "password": PASSWORD}
    )

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()


def test_a_request_without_a_token_is_unauthorized(api: Api) -> None:
    response = api.client.get("/bookings")

    assert response.status_code == 401
    assert error_code(response) == "missing_token"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_expired_token_is_unauthorized(api: Api, app: Flask) -> None:
    client = api.register()
    with app.app_context():
        expired = create_access_token(
            identity=client.id, additional_claims={"role": "client"},
            expires_delta=timedelta(seconds=-1),
        )

    response = api.client.get("/bookings", headers=bearer(expired))

    assert response.status_code == 401
    assert error_code(response) == "token_expired"


def test_a_tampered_token_is_unauthorized(api: Api) -> None:
    client = api.register()
    header, payload, signature = client.token.split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"

    response = api.client.get("/bookings", headers=bearer(tampered))

    assert response.status_code == 401
    assert error_code(response) == "invalid_token"


def test_a_token_signed_with_another_key_is_unauthorized(api: Api) -> None:
    other = Flask("other")
    other.config["JWT_SECRET_KEY"] = "someone-else-s-secret-" * 2
    JWTManager(other)
    with other.app_context():
        forged = create_access_token(identity="x", additional_claims={"role": "admin"})

    response = api.client.get("/bookings", headers=bearer(forged))

    assert response.status_code == 401


def test_garbage_in_the_authorization_header_is_unauthorized(api: Api) -> None:
    response = api.client.get("/bookings", headers={"Authorization": "Bearer not.a.jwt"})

    assert response.status_code == 401


def test_a_refresh_token_is_not_an_access_token(api: Api) -> None:
    client = api.register()

    response = api.client.get("/bookings", headers=bearer(client.refresh_token))

    assert response.status_code == 401


def test_a_refresh_token_buys_a_new_access_token(api: Api) -> None:
    client = api.register()

    refreshed = api.client.post("/auth/refresh", headers=bearer(client.refresh_token))
    used = api.client.get("/clients/me", headers=bearer(refreshed.get_json()["access_token"]))

    assert refreshed.status_code == 200
    assert used.status_code == 200


def test_after_logout_the_access_and_refresh_tokens_are_revoked(api: Api) -> None:
    client = api.register()

    logout = api.client.post(
        "/auth/logout", json={"refresh_token": client.refresh_token}, headers=client.headers
    )
    access = api.client.get("/clients/me", headers=client.headers)
    refresh = api.client.post("/auth/refresh", headers=bearer(client.refresh_token))

    assert logout.status_code == 204
    assert access.status_code == refresh.status_code == 401
    assert error_code(access) == error_code(refresh) == "token_revoked"


def test_logging_out_one_session_leaves_the_others(api: Api) -> None:
    client = api.register()
    other_session = api.login(client.email)

    api.client.post("/auth/logout", headers=client.headers)

    assert api.client.get("/clients/me", headers=other_session.headers).status_code == 200


class CountingRevocations:
    """The app's revocation list, counting how often a request asks it."""

    def __init__(self, inner: RevokedTokens) -> None:
        self.inner = inner
        self.asked = 0

    def is_revoked(self, ids: Sequence[str], account_id: UUID, issued_at: datetime) -> bool:
        self.asked += 1
        return self.inner.is_revoked(ids, account_id, issued_at)

    def revoke(self, jti: str, expires_at: datetime) -> bool:
        return self.inner.revoke(jti, expires_at)

    def revoke_all(self, account_id: UUID, valid_after: datetime) -> None:
        self.inner.revoke_all(account_id, valid_after)


def test_a_token_is_checked_once_per_request_though_the_rate_limiter_reads_it_too(
    api: Api, container: Container
) -> None:
    client = api.register()
    counting = CountingRevocations(container.revoked_tokens)
    container.revoked_tokens = counting

    assert api.client.get("/clients/me", headers=client.headers).status_code == 200
    assert counting.asked == 1

