"""Refresh tokens rotate and are good once, logouts end a whole login, "log out everywhere",
and only tokens signed with this deployment's own JWT key, issuer and audience are taken."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import jwt
from flask import Flask
from sqlalchemy import func, select

from adapters.sql.tables import revoked_tokens, token_families
from entrypoints.api.security import AUDIENCE
from entrypoints.bootstrap import Container
from entrypoints.keys import Purpose, derive_key
from tests.integration.api.support import Api, bearer, error_code, token_claims


def refresh(api: Api, token: str) -> tuple[int, dict[str, object]]:
    response = api.client.post("/auth/refresh", headers=bearer(token))
    return response.status_code, response.get_json()


def test_a_refresh_answers_a_new_refresh_token_and_spends_the_one_sent(api: Api) -> None:
    client = api.register()

    status, tokens = refresh(api, client.refresh_token)
    again, _ = refresh(api, str(tokens["refresh_token"]))

    assert status == again == 200
    assert tokens["refresh_token"] != client.refresh_token
    assert token_claims(str(tokens["refresh_token"]))["fam"] == token_claims(client.token)["fam"]


def test_refreshing_keeps_one_row_per_login_and_lists_nothing_as_revoked(
    api: Api, container: Container
) -> None:
    client = api.register()
    token = client.refresh_token
    for _ in range(5):
        token = str(refresh(api, token)[1]["refresh_token"])

    with container.engine.connect() as connection:
        families = connection.execute(select(func.count()).select_from(token_families)).scalar()
        revoked = connection.execute(select(func.count()).select_from(revoked_tokens)).scalar()
    assert (families, revoked) == (1, 0)


def test_a_reused_refresh_token_ends_every_token_of_its_login(api: Api) -> None:
    client = api.register()
    _, rotated = refresh(api, client.refresh_token)

    reused, answer = refresh(api, client.refresh_token)  # a thief replays the spent one

    assert reused == 401
    assert answer["error"]["code"] == "token_revoked"  # type: ignore[index]
    assert refresh(api, str(rotated["refresh_token"]))[0] == 401
    newest = api.client.get("/clients/me", headers=bearer(str(rotated["access_token"])))
    assert newest.status_code == 401


def test_two_refreshes_racing_with_one_token_get_one_new_pair_and_end_the_login(
    api: Api, app: Flask
) -> None:
    client = api.register()
    start = threading.Barrier(2)
    answers: list[int] = []

    def race() -> None:
        own = app.test_client()
        start.wait()
        answers.append(own.post("/auth/refresh", headers=bearer(client.refresh_token))
                       .status_code)  # fmt: skip

    threads = [threading.Thread(target=race) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answers) == [200, 401]
    assert api.client.get("/clients/me", headers=client.headers).status_code == 401


def test_a_reused_refresh_token_leaves_the_accounts_other_logins_alone(api: Api) -> None:
    client = api.register()
    other = api.login(client.email)
    refresh(api, client.refresh_token)

    refresh(api, client.refresh_token)

    assert api.client.get("/clients/me", headers=other.headers).status_code == 200
    assert refresh(api, other.refresh_token)[0] == 200


def test_logging_out_with_only_the_access_token_ends_its_refresh_token_too(api: Api) -> None:
    client = api.register()

    logout = api.client.post("/auth/logout", headers=client.headers)
    status, answer = refresh(api, client.refresh_token)

    assert logout.status_code == 204
    assert status == 401
    assert answer["error"]["code"] == "token_revoked"  # type: ignore[index]


def test_logging_out_everywhere_ends_every_login_and_a_new_login_works(api: Api) -> None:
    client = api.register()
    other = api.login(client.email)

    done = api.client.post("/auth/logout-all", headers=client.headers)

    assert done.status_code == 204
    for token in (client.token, other.token):
        answer = api.client.get("/clients/me", headers=bearer(token))
        assert answer.status_code == 401
        assert error_code(answer) == "token_revoked"
    assert refresh(api, other.refresh_token)[0] == 401
    fresh = api.login(client.email)
    assert api.client.get("/clients/me", headers=fresh.headers).status_code == 200


def test_logging_out_everywhere_leaves_other_accounts_logged_in(api: Api) -> None:
    client, neighbour = api.register(), api.register()

    api.client.post("/auth/logout-all", headers=client.headers)

    assert api.client.get("/clients/me", headers=neighbour.headers).status_code == 200


def _forge(key: str, claims: dict[str, object]) -> str:
    now = datetime.now(UTC)
    body = {"iat": now, "nbf": now, "exp": now + timedelta(minutes=5), "type": "access",
            "jti": "forged", "fresh": False, **claims}  # fmt: skip
    return jwt.encode(body, key, algorithm="HS256")


def test_a_token_signed_with_the_raw_secret_key_is_refused(api: Api, app: Flask) -> None:
    client = api.register()
    settings = app.extensions["hourbook"].settings
    claims = {**token_claims(client.token), "jti": "raw-secret"}

    forged = _forge(settings.secret_key, claims)

    assert api.client.get("/clients/me", headers=bearer(forged)).status_code == 401


def test_a_token_for_another_audience_or_issuer_is_refused(api: Api, app: Flask) -> None:
    client = api.register()
    settings = app.extensions["hourbook"].settings
    key = derive_key(settings.secret_key, Purpose.JWT)
    claims = token_claims(client.token)
    assert claims["aud"] == AUDIENCE
    assert claims["iss"] == settings.public_url

    right = _forge(key, {**claims, "jti": "right"})
    wrong_audience = _forge(key, {**claims, "jti": "aud", "aud": "some-other-api"})
    wrong_issuer = _forge(key, {**claims, "jti": "iss", "iss": "https://elsewhere.example"})
    no_audience = _forge(key, {k: v for k, v in claims.items() if k != "aud"} | {"jti": "x"})

    assert api.client.get("/clients/me", headers=bearer(right)).status_code == 200
    for forged in (wrong_audience, wrong_issuer, no_audience):
        assert api.client.get("/clients/me", headers=bearer(forged)).status_code == 401
