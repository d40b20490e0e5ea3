"""Accounts and tokens: register, log in, refresh, log out (revokes)."""

from __future__ import annotations

from contextlib import suppress
from uuid import UUID

from flask.views import MethodView
from flask_jwt_extended import decode_token, get_jwt, jwt_required
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt import PyJWTError

from adapters.sql.users import EmailTaken, User
from entrypoints import accounts
from entrypoints.api.blueprints import Blueprint
from entrypoints.api.context import container
from entrypoints.api.errors import ApiError
from entrypoints.api.presenters import Body
from entrypoints.api.schemas.accounts import (
    AccountSchema,
    LoginSchema,
    LogoutSchema,
    RegisterSchema,
    TokensSchema,
)
from entrypoints.api.security import BEARER, issue_tokens, revoke

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Accounts and tokens")


@blp.route("/register")
class Register(MethodView):
    @blp.arguments(RegisterSchema)
    @blp.response(201, AccountSchema)
    def post(self, body: dict[str, str]) -> Body:
        """Open a client or professional account (admins are made with the CLI).

        A client gives a ``name``.
        """
        app = container()
        try:
            if body["role"] == accounts.Role.CLIENT:
                user = accounts.register_client(
                    app, email=body["email"], password=body["password"],
                    name=body["name"], phone=body["phone"],
                )
            else:
                user = accounts.register_professional(
                    app, email=body["email"], password=body["password"]
                )
        except EmailTaken:
            raise ApiError(409, "email_taken", "an account with this address exists") from None
        return _account(user)


@blp.route("/login")
class Login(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokensSchema)
    def post(self, body: dict[str, str]) -> Body:
        """Exchange e-mail and password for an access token and a refresh token."""
        user = accounts.authenticate(container(), body["email"], body["password"])
        if user is None:
            raise ApiError(401, "invalid_credentials", "wrong e-mail address or password")
        return issue_tokens(user)


@blp.route("/refresh")
class Refresh(MethodView):
    @jwt_required(refresh=True)
    @blp.doc(security=BEARER, description="Send the refresh token as the bearer token.")
    @blp.response(200, TokensSchema)
    def post(self) -> Body:
        """A new access token for a valid refresh token."""
        user = container().users.get(_identity())
        if user is None:
            raise ApiError(401, "invalid_token", "the account is gone")
        tokens = issue_tokens(user)
        del tokens["refresh_token"]
        return tokens


@blp.route("/logout")
class Logout(MethodView):
    @jwt_required(verify_type=False)
    @blp.doc(security=BEARER)
    @blp.arguments(LogoutSchema(), required=False)
    @blp.response(204)
    def post(self, body: dict[str, str]) -> None:
        """Revoke the presented token (access or refresh), and ``refresh_token`` if given."""
        revoke(get_jwt())
        other = body.get("refresh_token") if body else None
        if other:
            with suppress(JWTExtendedException, PyJWTError):  # invalid or expired: nothing to do
                revoke(decode_token(other))


def _identity() -> UUID:
    try:
        return UUID(str(get_jwt()["sub"]))
    except ValueError:
        raise ApiError(401, "invalid_token", "the token does not name an account") from None


def _account(user: User) -> Body:
    return {
        "id": user.id,
        "email": user.email,
        "role": user.role,
        "client_id": user.client_id,
        "professional_id": user.professional_id,
    }
