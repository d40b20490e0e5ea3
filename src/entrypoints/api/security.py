"""Bearer tokens (flask-jwt-extended): who is calling, with which role, and the logout list.

A token's identity is the account id and its ``role`` claim the account's role; ``fam`` names
the login it descends from (see :func:`issue_tokens`). Tokens that are
expired, tampered with, revoked (logged out) or missing all answer 401 in the common error
shape; a valid token with the wrong role answers 403.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import ParamSpec, TypeVar
from uuid import UUID, uuid4

from flask import Flask, Response, g
from flask_jwt_extended import (
    JWTManager,
    create_access_token,
    create_refresh_token,
    get_jwt,
    get_jwt_identity,
    verify_jwt_in_request,
)
from flask_smorest import Blueprint

from adapters.request_context import bind_actor
from adapters.sql.users import User
from booking.audit import Actor
from entrypoints.accounts import Role
from entrypoints.api.context import container
from entrypoints.api.errors import ApiError, error_response
from entrypoints.config import Settings
from entrypoints.keys import Purpose, derive_key

P = ParamSpec("P")
R = TypeVar("R")

AUDIENCE = "hourbook-api"
SCHEME = "bearerAuth"
BEARER = [{SCHEME: []}]
OPTIONAL_BEARER = [{}, {SCHEME: []}]  # anonymous, or with a token that may show more
SECURITY_SCHEMES = {SCHEME: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller. Clients and professionals act as the client or profile sharing their id."""

    user_id: UUID
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def owns_profile(self, professional_id: UUID) -> bool:
        return self.role is Role.PROFESSIONAL and self.user_id == professional_id


def verify_token(*, optional: bool = False) -> None:
    """``verify_jwt_in_request``, at most once per request that carries a valid access token.

    The rate limiter names the caller by their token before the view runs; verifying it again
    in the view decoded it twice and asked the revocation list twice, a tenth of a booking's
    time. A request whose token was missing or invalid is checked again, and fails again.
    """
    if g.get("hourbook_token_verified"):
        return
    verify_jwt_in_request(optional=optional)
    if get_jwt_identity() is not None:
        g.hourbook_token_verified = True
        principal = current_principal()
        bind_actor(Actor.account(principal.user_id, principal.role.value))  # until it ends


def current_principal() -> Principal:
    role = get_jwt().get("role")
    try:
        return Principal(UUID(str(get_jwt_identity())), Role(str(role)))
    except ValueError:
        raise ApiError(401, "invalid_token", "the token does not name an account") from None


def optional_principal() -> Principal | None:
    """The caller of a public view if they sent a token, else None (anonymous).

    A token that is sent must be valid: an expired, tampered or revoked one answers 401 here as
    everywhere, rather than quietly reading the view as a stranger.
    """
    verify_token(optional=True)
    if get_jwt_identity() is None:
        return None
    return current_principal()


def verified_principal() -> Principal | None:
    """The caller whose token was verified during this request (by the rate limiter or the
    view), else None; it verifies nothing itself, so it never answers 401."""
    if not g.get("hourbook_token_verified"):
        return None
    return current_principal()


def protected(*roles: Role) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Require a valid access token (of one of ``roles``, if given) and document it."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def checked(*args: P.args, **kwargs: P.kwargs) -> R:
            verify_token()
            if roles and current_principal().role not in roles:
                allowed = " or ".join(role.value for role in roles)
                raise ApiError(403, "forbidden", f"this needs a {allowed} account")
            return view(*args, **kwargs)

        documented: Callable[P, R] = Blueprint.doc(security=BEARER)(checked)
        return documented

    return decorate


def issue_tokens(user: User) -> dict[str, object]:
    """A new login: an access token and a refresh token of a new family.

    A family is one login and the tokens that refreshing it gives later: revoking it (logout,
    or a refresh token used twice) ends every token of that login at once. Only the family's
    newest refresh token may be used (the database keeps which one that is).
    """
    family, refresh_jti = uuid4().hex, str(uuid4())
    container().revoked_tokens.start_family(family, user.id, refresh_jti, _refresh_expiry())
    return _tokens(user, family, refresh_jti)


def rotate_tokens(user: User, claims: Mapping[str, object]) -> dict[str, object] | None:
    """New tokens of the same login for the refresh token ``claims``, which is spent; None if
    it had been spent already (the caller ends the login: someone else holds a copy)."""
    family = claims.get("fam")
    if not isinstance(family, str) or not family:  # made before families existed
        if not container().revoked_tokens.revoke(str(claims["jti"]), _expiry(claims)):
            return None
        return issue_tokens(user)
    successor = str(uuid4())
    store = container().revoked_tokens
    if not store.rotate(family, str(claims["jti"]), successor, _refresh_expiry()):
        return None
    return _tokens(user, family, successor)


def _tokens(user: User, family: str, refresh_jti: str) -> dict[str, object]:
    # ``iat_us``: the issue time in microseconds, so "log out everywhere" cuts to the instant.
    claims = {"role": user.role, "fam": family, "iat_us": time.time_ns() // 1000}
    identity = str(user.id)
    return {
        "access_token": create_access_token(identity=identity, additional_claims=claims),
        "refresh_token": create_refresh_token(
            identity=identity, additional_claims={**claims, "jti": refresh_jti}
        ),
        "token_type": "Bearer",
        "expires_in": container().settings.access_token_minutes * 60,
    }


def _refresh_expiry() -> datetime:
    return datetime.now(UTC) + timedelta(days=container().settings.refresh_token_days)


def revoke(claims: Mapping[str, object]) -> bool:
    """Revoke the token and its family; True if the token was not revoked before."""
    first = container().revoked_tokens.revoke(str(claims["jti"]), _expiry(claims))
    revoke_family(claims)
    return first


def revoke_family(claims: Mapping[str, object]) -> None:
    """End every token of the login ``claims`` belongs to (tokens without a family: none)."""
    family = claims.get("fam")
    if not isinstance(family, str) or not family:
        return
    # The family's newest refresh token ends at most a refresh lifetime from now.
    days = container().settings.refresh_token_days
    until = datetime.now(UTC) + timedelta(days=days, minutes=1)
    container().revoked_tokens.revoke(family, until)


def revoke_everywhere(account_id: UUID) -> None:
    """Refuse every token of the account issued until now ("log out everywhere")."""
    now = datetime.fromtimestamp(time.time_ns() // 1000 / 1_000_000, UTC)
    container().revoked_tokens.revoke_all(account_id, now)


def issued_at(claims: Mapping[str, object]) -> datetime:
    """When the token was made, to the microsecond if it says (``iat_us``)."""
    micros = claims.get("iat_us")
    if isinstance(micros, int):
        return datetime.fromtimestamp(micros / 1_000_000, UTC)
    seconds = claims.get("iat")
    return datetime.fromtimestamp(seconds if isinstance(seconds, int | float) else 0, UTC)


def _expiry(claims: Mapping[str, object]) -> datetime:
    expires = claims.get("exp")
    if isinstance(expires, int):
        return datetime.fromtimestamp(expires, UTC)
    return datetime.now(UTC) + timedelta(days=400)


def init_jwt(app: Flask, settings: Settings) -> JWTManager:
    """Tokens signed with their own key (derived from the secret), for this deployment only:
    ``iss`` is its public URL and ``aud`` this API, and both are checked."""
    app.config.update(
        JWT_SECRET_KEY=derive_key(settings.secret_key, Purpose.JWT),
        JWT_TOKEN_LOCATION=["headers"],
        JWT_ACCESS_TOKEN_EXPIRES=timedelta(minutes=settings.access_token_minutes),
        JWT_REFRESH_TOKEN_EXPIRES=timedelta(days=settings.refresh_token_days),
        JWT_ALGORITHM="HS256",
        JWT_DECODE_ALGORITHMS=["HS256"],
        JWT_ENCODE_ISSUER=settings.public_url,
        JWT_DECODE_ISSUER=settings.public_url,
        JWT_ENCODE_AUDIENCE=AUDIENCE,
        JWT_DECODE_AUDIENCE=AUDIENCE,
    )
    jwt = JWTManager(app)
    _answer_in_our_shape(jwt)

    @jwt.token_in_blocklist_loader
    def is_revoked(_header: dict[str, object], payload: dict[str, object]) -> bool:
        try:
            account_id = UUID(str(payload["sub"]))
        except ValueError:
            return True
        ids = [str(payload["jti"])]
        if isinstance(payload.get("fam"), str):
            ids.append(str(payload["fam"]))
        revoked = container().revoked_tokens.is_revoked(ids, account_id, issued_at(payload))
        if revoked and payload.get("type") == "refresh":
            # A spent or logged-out refresh token came back: whoever holds it may have stolen
            # it, so the whole login ends (reuse detection).
            revoke_family(payload)
        return revoked

    return jwt


def _answer_in_our_shape(jwt: JWTManager) -> None:
    def unauthorized(code: str, message: str) -> Callable[..., Response]:
        def answer(*_args: object) -> Response:
            return error_response(
                401, code, message, headers={"WWW-Authenticate": 'Bearer realm="hourbook"'}
            )

        return answer

    jwt.unauthorized_loader(unauthorized("missing_token", "this needs a bearer token"))
    jwt.invalid_token_loader(unauthorized("invalid_token", "the token is not valid"))
    jwt.expired_token_loader(unauthorized("token_expired", "the token has expired"))
    jwt.revoked_token_loader(unauthorized("token_revoked", "the token was revoked"))
    jwt.needs_fresh_token_loader(unauthorized("fresh_token_required", "log in again"))
    jwt.token_verification_failed_loader(unauthorized("invalid_token", "the token is not valid"))
    jwt.user_lookup_error_loader(unauthorized("invalid_token", "the account is gone"))
