"""An optional ``Idempotency-Key`` for one view, over the shared idempotency store.

Used by ``POST /bookings/{id}/reschedule`` until one decorator gives every unsafe endpoint the
same support; it keeps the rules ``POST /bookings`` has (``booking.services.create_booking``):
the key is scoped to the caller's account, a retry with the same key and request answers the
first answer again (``Idempotent-Replayed: true``), the same key with another request is 422
``idempotency_key_reused``, one still running is 409 ``request_in_progress``; a final refusal
(a rule, a taken slot, a booking that may not move) is kept and answered again, while a failure
a retry may fix (storage down, a collision) forgets the key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from contextlib import suppress

from marshmallow import Schema

from booking.errors import (
    BookingError,
    CannotReschedule,
    InvalidInput,
    NotFound,
    RuleViolation,
    SlotUnavailable,
    StorageUnavailable,
    error_codes,
)
from booking.ports import IdempotencyStore, StoredResponse
from entrypoints.api.presenters import Body

_FINAL = (NotFound, RuleViolation, SlotUnavailable, InvalidInput, CannotReschedule)


def fingerprint(*parts: object) -> str:
    """What was asked, as a digest: the endpoint and the meaning of its input."""
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def answer_once(
    store: IdempotencyStore,
    key: str | None,
    *,
    scope: str,
    request: str,
    schema: Schema,
    run: Callable[[], Body],
) -> tuple[Body, bool]:
    """``run()``'s body, or the first answer to this ``key`` again; and whether it is a replay.

    ``schema`` is the answer's: the body is stored dumped to JSON and loaded back on replay.
    """
    if key is None:
        return run(), False
    stored = store.claim(scope, key, request)
    if stored is not None:
        return _replayed(stored, schema), True
    try:
        body = run()
    except _FINAL as error:
        store.complete(scope, key, _error(error))
        raise
    except BaseException:
        store.release(scope, key)
        raise
    # If the answer cannot be stored, the change stands and the caller gets it now; a retry
    # (once the claim's lease lapses) moves the booking to where it already is: no change.
    with suppress(StorageUnavailable):
        store.complete(scope, key, StoredResponse(json.dumps({"body": schema.dump(body)})))
    return body, False


def _error(error: BookingError) -> StoredResponse:
    return StoredResponse(json.dumps({"error": {"code": error.code, "message": error.message}}))


def _replayed(stored: StoredResponse, schema: Schema) -> Body:
    document = json.loads(stored.body)
    if "error" in document:
        error_class = error_codes().get(document["error"]["code"], BookingError)
        raise error_class(document["error"]["message"], replayed=True)
    loaded: Body = schema.load(document["body"])
    return loaded
