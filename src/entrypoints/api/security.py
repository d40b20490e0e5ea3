"""Bearer tokens (flask-jwt-extended): who is calling, with which role, and the logout list.

A token's identity is the account id and its ``role`` claim the account's role. Tokens that are
expired, tampered with, revoked (logged out) or missing all answer 401 in the common error
shape; a valid token with the wrong role answers 403.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import ParamSpec, TypeVar
from uuid import UUID

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

from adapters.sql.users import User
from entrypoints.accounts import Role
from entrypoints.api.context import container
from entrypoints.api.errors import ApiError, error_response
from entrypoints.config import Settings

P = ParamSpec("P")
R = TypeVar("R")

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
    claims = {"role": user.role}
    settings = container().settings
    return {
        "access_token": create_access_token(identity=str(user.id), additional_claims=claims),
        "refresh_token": create_refresh_token(identity=str(user.id), additional_claims=claims),
        "token_type": "Bearer",
        "expires_in": settings.access_token_minutes * 60,
    }


def revoke(claims: Mapping[str, object]) -> None:
    expires = claims.get("exp")
    expires_at = (
        datetime.fromtimestamp(expires, UTC)
        if isinstance(expires, int)
        else datetime.now(UTC) + timedelta(days=400)
    )
    container().revoked_tokens.revoke(str(claims["jti"]), expires_at)


def init_jwt(app: Flask, settings: Settings) -> JWTManager:
    app.config.update(
        JWT_SECRET_KEY=settings.secret_key,
        JWT_TOKEN_LOCATION=["headers"],
        JWT_ACCESS_TOKEN_EXPIRES=timedelta(minutes=settings.access_token_minutes),
        JWT_REFRESH_TOKEN_EXPIRES=timedelta(days=settings.refresh_token_days),
        JWT_ALGORITHM="HS256",
        JWT_DECODE_ALGORITHMS=["HS256"],
    )
    jwt = JWTManager(app)
    _answer_in_our_shape(jwt)

    @jwt.token_in_blocklist_loader
    def is_revoked(_header: dict[str, object], payload: dict[str, object]) -> bool:
        return container().revoked_tokens.is_revoked(str(payload["jti"]))

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
