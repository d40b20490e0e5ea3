"""Accounts and tokens: register, verify the address, log in, refresh, log out (revokes),
reset a forgotten password."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from uuid import UUID

from flask.views import MethodView
from flask_jwt_extended import decode_token, get_jwt, jwt_required
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt import PyJWTError

from adapters.request_context import actor_bound
from booking.audit import Actor, ActorKind
from entrypoints import accounts
from entrypoints.api.blueprints import Blueprint
from entrypoints.api.context import container
from entrypoints.api.errors import ApiError
from entrypoints.api.idempotency import idempotent
from entrypoints.api.login_throttle import client_address
from entrypoints.api.login_throttle import throttle as login_throttle
from entrypoints.api.presenters import Body
from entrypoints.api.schemas.accounts import (
    AcceptedSchema,
    LinkArgsSchema,
    LoginSchema,
    LogoutSchema,
    PasswordResetConfirmSchema,
    PasswordResetSchema,
    RegisterSchema,
    TokensSchema,
    VerifiedSchema,
)
from entrypoints.api.security import (
    BEARER,
    current_principal,
    issue_tokens,
    protected,
    revoke,
    revoke_everywhere,
    revoke_family,
    rotate_tokens,
)
from entrypoints.email_links import read_link
from entrypoints.passwords import HashingBusy

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Accounts and tokens")

CHECK_YOUR_EMAIL: Body = {
    "status": "accepted",
    "message": "if the address can be used, it has an account now: check your e-mail, then log in",
}


@blp.route("/register")
class Register(MethodView):
    @idempotent()
    @blp.arguments(RegisterSchema)
    @blp.response(202, AcceptedSchema)
    def post(self, body: dict[str, str]) -> Body:
        """Open a client or professional account (admins are made with the CLI).

        A client gives a ``name``, and may give a ``time_zone`` (see ``PATCH /clients/me``).
        The answer is the same whether the address was free or had
        an account already, so it tells nobody who has one. When verification is required, a
        link is mailed to the new address; the account logs in at once but books only once the
        link was opened.
        """
        with _hashing():
            accounts.register(
                container(), role=accounts.Role(body["role"]), email=body["email"],
                password=body["password"], name=body.get("name", ""), phone=body["phone"],
                time_zone=body.get("time_zone"),
            )  # fmt: skip
        return CHECK_YOUR_EMAIL


@blp.route("/verify-email")
class VerifyEmail(MethodView):
    @blp.arguments(LinkArgsSchema, location="query")
    @blp.response(200, VerifiedSchema)
    def get(self, args: dict[str, str]) -> Body:
        """Follow the link mailed to an address: verifies it, or applies the change it names.

        A token this server did not mint, or one more than a day old, answers 400
        ``invalid_link``."""
        app = container()
        link = read_link(app.settings, args["token"])
        if link is None:
            raise ApiError(400, "invalid_link", "the link is damaged or more than a day old")
        if not accounts.follow_link(app, link):
            raise ApiError(409, "link_outdated", "the address changed since this link was sent")
        return {"status": "verified", "email": link.new}


@blp.route("/verification")
class Verification(MethodView):
    @protected()
    @idempotent()
    @blp.response(202, AcceptedSchema)
    def post(self) -> Body:
        """Mail the verification link for your address again."""
        app = container()
        user = app.users.get(current_principal().user_id)
        if user is None:
            raise ApiError(401, "invalid_token", "the account is gone")
        if user.email_verified_at is None:
            accounts.send_verification(app, user)
        return {"status": "accepted", "message": "check your e-mail"}


@blp.route("/password-reset")
class PasswordReset(MethodView):
    @idempotent()
    @blp.arguments(PasswordResetSchema)
    @blp.response(202, AcceptedSchema)
    def post(self, body: dict[str, str]) -> Body:
        """Ask for a link to choose a new password, mailed to the address if it has an account.

        The answer is the same whether or not it has one. The link works once, for 30 minutes.
        """
        accounts.request_password_reset(container(), body["email"])
        return {
            "status": "accepted",
            "message": "if the address has an account, a link to choose a new password is on "
            "its way: it works once, for 30 minutes",
        }


@blp.route("/password-reset/confirm")
class PasswordResetConfirm(MethodView):
    @idempotent()
    @blp.arguments(PasswordResetConfirmSchema)
    @blp.response(204)
    def post(self, body: dict[str, str]) -> None:
        """Set a new password with the token of the mailed link, and log out everywhere.

        The token is spent; every token issued to the account until now is refused. A token
        this server did not mint, one more than 30 minutes old, or one spent already answers
        400 ``invalid_link``.
        """
        app = container()
        with _hashing():
            account_id = accounts.reset_password(app, body["token"], body["password"])
        if account_id is None:
            raise ApiError(
                400, "invalid_link", "the link is damaged, used already or more than 30 minutes old"
            )
        with actor_bound(Actor(kind=ActorKind.ACCOUNT, account_id=account_id)):  # the link's
            revoke_everywhere(account_id)


@blp.route("/login")
class Login(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokensSchema)
    def post(self, body: dict[str, str]) -> Body:
        """Exchange e-mail and password for an access token and a refresh token.

        After a few wrong passwords for one account from one address, that address waits
        before trying that account again (429 with ``Retry-After``); other addresses do not.
        """
        address, throttle = client_address(), login_throttle()
        throttle.check(address, body["email"])
        with _hashing():
            user = accounts.authenticate(container(), body["email"], body["password"])
        if user is None:
            throttle.failed(address, body["email"])
            raise ApiError(401, "invalid_credentials", "wrong e-mail address or password")
        throttle.succeeded(address, body["email"])
        return issue_tokens(user)


@blp.route("/refresh")
class Refresh(MethodView):
    @jwt_required(refresh=True)
    @blp.doc(security=BEARER, description="Send the refresh token as the bearer token.")
    @blp.response(200, TokensSchema)
    def post(self) -> Body:
        """A new access token and a new refresh token; the one sent is spent.

        Each refresh token is good once. Sending a spent one again ends the whole login (every
        token descended from it), since one of its two holders is not its owner.
        """
        claims = get_jwt()
        user = container().users.get(_identity())
        if user is None:
            raise ApiError(401, "invalid_token", "the account is gone")
        tokens = rotate_tokens(user, claims)
        if tokens is None:  # spent before: a copy is in someone else's hands
            revoke_family(claims)
            raise ApiError(401, "token_revoked", "the token was revoked")
        return tokens


@blp.route("/logout")
class Logout(MethodView):
    @jwt_required(verify_type=False)
    @blp.doc(security=BEARER)
    @idempotent()
    @blp.arguments(LogoutSchema(), required=False)
    @blp.response(204)
    def post(self, body: dict[str, str]) -> None:
        """End this login: the presented token (access or refresh) and every token of its
        login, refresh tokens included; also ``refresh_token`` and its login, if given."""
        revoke(get_jwt())
        other = body.get("refresh_token") if body else None
        if other:
            with suppress(JWTExtendedException, PyJWTError):  # invalid or expired: nothing to do
                revoke(decode_token(other))


@blp.route("/logout-all")
class LogoutAll(MethodView):
    @protected()
    @idempotent()
    @blp.response(204)
    def post(self) -> None:
        """Log out everywhere: every token of your account issued until now is refused."""
        revoke_everywhere(current_principal().user_id)


def _identity() -> UUID:
    try:
        return UUID(str(get_jwt()["sub"]))
    except ValueError:
        raise ApiError(401, "invalid_token", "the token does not name an account") from None


@contextmanager
def _hashing() -> Iterator[None]:
    """Answer 503 with Retry-After when every password-hashing slot stays busy."""
    try:
        yield
    except HashingBusy:
        raise ApiError(
            503, "busy", "too many logins and registrations at once: try again shortly",
            headers={"Retry-After": "2"},
        ) from None
