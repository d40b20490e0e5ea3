"""Domain events back from their outbox rows: the JSON is checked, never trusted.

``adapters.sql.rows.outbox_values`` writes ``event_type`` (the class name) and the fields as
JSON; this reads them back into the same event, or fails with :class:`BadEventPayload` naming
what is wrong (unknown type, missing or extra keys, a value of the wrong kind).
"""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import datetime
from typing import Any, get_type_hints
from uuid import UUID

from booking.events import BookingCancelled, BookingConfirmed, BookingRequested, Event, RefundIssued

EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (BookingRequested, BookingConfirmed, BookingCancelled, RefundIssued)
}


class BadEventPayload(ValueError):
    """An outbox row that does not describe a known event."""


def decode_event(event_type: str, payload: str) -> Event:
    cls = EVENT_TYPES.get(event_type)
    if cls is None:
        raise BadEventPayload(f"unknown event type {event_type!r}")
    try:
        document = json.loads(payload)
    except ValueError as error:
        raise BadEventPayload(f"{event_type}: the payload is not JSON") from error
    if not isinstance(document, dict):
        raise BadEventPayload(f"{event_type}: the payload is not a JSON object")
    hints = get_type_hints(cls)
    expected = {field.name for field in fields(cls)}
    if set(document) != expected:
        missing, extra = expected - set(document), set(document) - expected
        raise BadEventPayload(
            f"{event_type}: missing {sorted(missing)}, unexpected {sorted(extra)}"
        )
    values = {name: _value(event_type, name, hints[name], document[name]) for name in expected}
    return cls(**values)


def _value(event_type: str, name: str, kind: Any, raw: object) -> object:
    try:
        if kind is UUID and isinstance(raw, str):
            return UUID(raw)
        if kind is datetime and isinstance(raw, str):
            value = datetime.fromisoformat(raw)
            if value.tzinfo is not None:
                return value
        if kind is bool and isinstance(raw, bool):
            return raw
        if kind is int and isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if kind is str and isinstance(raw, str):
            return raw
    except ValueError:
        pass
    kind_name = getattr(kind, "__name__", str(kind))
    raise BadEventPayload(f"{event_type}.{name}: {raw!r} is not a valid {kind_name}")
