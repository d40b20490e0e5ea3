"""CSRF protection for the web pages: a per-session token in every form and every fetch that
changes something (``csrf_token`` field or ``X-CSRF-Token`` header). A state-changing request
to a web page without the session's token answers 400 and changes nothing."""

from __future__ import annotations

import hmac
import secrets

from flask import abort, request, session

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def token() -> str:
    """The session's token (made on first use)."""
    current = session.get("csrf")
    if not isinstance(current, str) or not current:
        current = secrets.token_urlsafe(32)
        session["csrf"] = current
    return current


def check() -> None:
    """Refuse (400) a state-changing request whose token is missing or not the session's."""
    if request.method in _SAFE_METHODS:
        return
    expected = session.get("csrf")
    sent = request.form.get(FIELD) or request.headers.get(HEADER) or ""
    if not isinstance(expected, str) or not expected or not hmac.compare_digest(
        sent.encode(), expected.encode()
    ):
        abort(400, description="csrf")
