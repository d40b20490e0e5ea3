"""The visitor's time zone: sent by the browser (a hidden ``tz`` field that a small script
fills in), kept in the session, and the professional's zone when the browser said nothing."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import request, session

_MAX_NAME = 64


def parse_zone(name: str | None) -> ZoneInfo | None:
    """The IANA zone ``name`` names, or None for anything else."""
    if not name or len(name) > _MAX_NAME or ".." in name or name.startswith("/"):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def browser_zone() -> ZoneInfo | None:
    """The zone of ``?tz=`` (remembered), else the remembered one; None if the browser never
    said (no JavaScript)."""
    sent = parse_zone(request.values.get("tz"))
    if sent is not None:
        session["zone"] = sent.key
        return sent
    return parse_zone(session.get("zone"))


def visitor_zone(fallback: str) -> ZoneInfo:
    """The browser's zone, else ``fallback``."""
    known = browser_zone()
    return known if known is not None else ZoneInfo(fallback)
