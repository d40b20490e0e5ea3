"""Who is signed in to the web pages: a signed session cookie, the API's accounts and roles.

The cookie is HttpOnly, ``SameSite=Lax`` and ``Secure`` outside development and the test suite.
It lives :data:`IDLE_MINUTES` after the last page the person opened (each page refreshes it)
and never more than :data:`MAX_HOURS` after signing in. A sign-in has an id (``sid``) in the
API's logout list: signing out revokes it, and "log out everywhere" or a password reset ends
web sign-ins too, as it ends the API's tokens.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import ParamSpec, TypeVar
from urllib.parse import urlencode
from uuid import UUID

from flask import Flask, abort, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from adapters.request_context import bind_actor
from adapters.sql.users import User
from booking.audit import Actor
from entrypoints.accounts import Role
from entrypoints.api.context import container
from entrypoints.config import Environment, Settings

P = ParamSpec("P")
R = TypeVar("R")

COOKIE_NAME = "hourbook_web"
IDLE_MINUTES = 30
MAX_HOURS = 12


@dataclass(frozen=True, slots=True)
class Visitor:
    """A signed-in person."""

    user_id: UUID
    role: Role
    email: str


def configure(app: Flask, settings: Settings) -> None:
    """The session cookie's attributes (Flask's session is used by the web pages only)."""
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.env not in (Environment.DEVELOPMENT, Environment.TEST),
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=IDLE_MINUTES),
        SESSION_REFRESH_EACH_REQUEST=True,
    )


def sign_in(user: User) -> None:
    """Start a new sign-in for ``user`` (a new session: nothing of the anonymous one is kept
    but the CSRF token's replacement)."""
    zone = session.get("zone")
    session.clear()
    session.permanent = True
    session["uid"] = str(user.id)
    session["role"] = user.role
    session["email"] = user.email
    session["sid"] = secrets.token_urlsafe(16)
    session["since_us"] = time.time_ns() // 1000
    session["csrf"] = secrets.token_urlsafe(32)
    if zone:
        session["zone"] = zone


def sign_out() -> None:
    sid = session.get("sid")
    if isinstance(sid, str):
        until = datetime.now(UTC) + timedelta(hours=MAX_HOURS, minutes=1)
        container().revoked_tokens.revoke(sid, until)
    session.clear()


def current_visitor() -> Visitor | None:
    """The signed-in person, or None; an ended or revoked sign-in is cleared here."""
    if "visitor" in g:
        return g.visitor  # type: ignore[no-any-return]
    g.visitor = visitor = _read_visitor()
    if visitor is not None:  # the audit log names them for what this request changes
        bind_actor(Actor.account(visitor.user_id, visitor.role.value))  # until it ends
    return visitor


def _read_visitor() -> Visitor | None:
    try:
        user_id, role = UUID(str(session["uid"])), Role(str(session["role"]))
        since_us, sid, email = int(session["since_us"]), str(session["sid"]), str(session["email"])
    except (KeyError, ValueError, TypeError):
        return None
    since = datetime.fromtimestamp(since_us / 1_000_000, UTC)
    too_old = datetime.now(UTC) - since > timedelta(hours=MAX_HOURS)
    if too_old or container().revoked_tokens.is_revoked([sid], user_id, since):
        session.clear()
        return None
    return Visitor(user_id, role, email)


def signed_in() -> Visitor:
    """The signed-in person, in a view that ``client_required`` guards."""
    visitor = current_visitor()
    if visitor is None:
        abort(401)
    return visitor


def sign_in_url() -> str:
    """The sign-in page, coming back to this page (with its query) afterwards."""
    return url_for("web.sign_in", next=request.full_path.rstrip("?"))


def client_required(view: Callable[P, R]) -> Callable[P, R | Response]:
    """Send anonymous visitors to sign in (and back); other roles get a plain explanation."""
    return _role_required(Role.CLIENT, view)


def professional_required(view: Callable[P, R]) -> Callable[P, R | Response]:
    """As :func:`client_required`, for the professional's pages (``/pro/...``)."""
    return _role_required(Role.PROFESSIONAL, view)


def _role_required(role: Role, view: Callable[P, R]) -> Callable[P, R | Response]:
    @wraps(view)
    def checked(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        visitor = current_visitor()
        if visitor is None:
            return redirect(sign_in_url(), code=303)
        if visitor.role is not role:
            return redirect(url_for("web.wrong_role", need=role.value), code=303)
        return view(*args, **kwargs)

    return checked


def safe_next(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site, else ``default`` (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def with_query(path: str, **args: str) -> str:
    return f"{path}?{urlencode(args)}" if args else path
