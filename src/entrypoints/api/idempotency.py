"""``Idempotency-Key`` on every unsafe operation: one decorator over the idempotency store.

Put ``@idempotent()`` under the view's ``@protected(...)`` (or first, on an anonymous view);
``@idempotent(required=True)`` where the key is required (``POST /bookings``). A request with a
key is run once: its answer (status, body and the headers in ``_KEPT_HEADERS``) is stored for
24 hours and every retry with the same key and the same request gets it again, marked
``Idempotent-Replayed: true``. The same key with another request answers 422
``idempotency_key_reused``; while the first request still runs, 409 ``request_in_progress``.
A request without the key simply runs.

Whose key: the account's, when the request carries a verified token (``account:<id>``), so two
accounts never share a key. An anonymous request (register, password reset) is scoped by its
own fingerprint as well as its key: two strangers who pick the same key never meet, and a
stranger reads a stored answer only by sending the very same request (the same e-mail and
password, the same reset token), which tells them nothing they did not know.

The fingerprint is an HMAC, under a key derived from the deployment's secret, of the method,
the path, the query, ``If-Match`` and the body (JSON in a canonical form, else its bytes): the
store keeps no unkeyed hash of a body that holds a password.

What is stored, and what is not (so a retry can still succeed):

- stored: every 2xx, and every 4xx the request itself decides (a rule broken, a slot taken,
  a booking already cancelled, a bad body), since the same request would be refused again;
- not stored: 5xx (503 when a dependency is down, 500), 401, 403, 408, 425 and 429 (the caller
  can fix them without changing the request: verify the address, log in, wait), and a 409
  ``concurrent_update`` (the same request may well succeed next time). The claim is released
  and the retry runs afresh.

If the store cannot record the answer (Redis down after the work was done), the answer is
still sent; the claim lapses after its lease (``IDEMPOTENCY_LEASE``) and a retry then runs
again, which every use case here tolerates (a booking finds the hold its key made).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Mapping
from copy import deepcopy
from functools import lru_cache, wraps
from typing import Any, ParamSpec

from flask import Response, current_app, g, request
from flask_jwt_extended import get_jwt_identity

from booking.errors import ConcurrentUpdate, StorageUnavailable
from booking.ports import StoredResponse
from entrypoints.api import outcomes
from entrypoints.api.blueprints import BodyParser
from entrypoints.api.context import container
from entrypoints.api.errors import REPLAYED_HEADER
from entrypoints.api.schemas.idempotency import (
    DESCRIPTION,
    PATTERN,
    IdempotencyKeySchema,
    OptionalIdempotencyKeySchema,
)
from entrypoints.keys import Purpose, derive_key

P = ParamSpec("P")

HEADER = "Idempotency-Key"
MARK = "hourbook_idempotent"  # set on every decorated view (tests check that none is missed)
_KEPT_HEADERS = ("Content-Type", "ETag", "Location", "Cache-Control")
_NOT_KEPT = frozenset({401, 403, 408, 425, 429})
_PARSER = BodyParser()
_REPLAYED_DOC = {
    REPLAYED_HEADER: {
        "description": '"true" when this is the stored answer to an earlier request with the'
        " same Idempotency-Key",
        "schema": {"type": "string", "enum": ["true"]},
    }
}

logger = logging.getLogger(__name__)


def idempotent(*, required: bool = False) -> Callable[[Callable[P, Any]], Callable[P, Response]]:
    """Honour ``Idempotency-Key`` on this view (see the module's docstring), and document it."""
    schema = IdempotencyKeySchema() if required else OptionalIdempotencyKeySchema()

    def decorate(view: Callable[P, Any]) -> Callable[P, Response]:
        @wraps(view)
        def once(*args: P.args, **kwargs: P.kwargs) -> Response:
            key = _PARSER.parse(schema, location="headers")
            if key is None:
                return current_app.make_response(view(*args, **kwargs))
            return _run_once(key, lambda: view(*args, **kwargs))

        once._apidoc = _documented(getattr(view, "_apidoc", {}), schema, required)  # type: ignore[attr-defined]
        setattr(once, MARK, True)
        return once

    return decorate


def current_key() -> str | None:
    """The ``Idempotency-Key`` of the request being run, if it sent one."""
    key = g.get("hourbook_idempotency_key")
    return key if isinstance(key, str) else None


def record_of(key: str) -> tuple[str, str]:
    """The scope and fingerprint under which this request's answer is kept."""
    fingerprint = _fingerprint()
    account = _account()
    if account is None:
        return f"anonymous:{fingerprint}", fingerprint
    return f"account:{account}", fingerprint


def _run_once(key: str, run: Callable[[], Any]) -> Response:
    store = container().idempotency
    scope, fingerprint = record_of(key)
    stored = store.claim(scope, key, fingerprint)  # 422 reused, 409 in flight, 503 down
    if stored is not None:
        return _replayed(stored)
    g.hourbook_idempotency_key = key
    try:
        response, error = _answer(run)
    except BaseException:
        _quietly(store.release, scope, key)
        raise
    if is_kept(response, error):
        _quietly(store.complete, scope, key, _stored(response))
    else:
        _quietly(store.release, scope, key)
    return response


def _answer(run: Callable[[], Any]) -> tuple[Response, Exception | None]:
    """The view's response, or the one the app's error handlers make of what it raised."""
    try:
        return current_app.make_response(run()), None
    except Exception as error:
        handled = current_app.handle_user_exception(error)  # re-raises what nothing handles
        return current_app.make_response(handled), error


def is_kept(response: Response, error: Exception | None) -> bool:
    """Whether this answer is stored for retries (see the module's docstring)."""
    if response.status_code >= 500 or response.status_code in _NOT_KEPT:
        return False
    return not isinstance(error, ConcurrentUpdate)


def _stored(response: Response) -> StoredResponse:
    headers = {name: response.headers[name] for name in _KEPT_HEADERS if name in response.headers}
    document = {
        "status": response.status_code,
        "headers": headers,
        "body": response.get_data(as_text=True),
    }
    return StoredResponse(json.dumps(document, separators=(",", ":")))


def _replayed(stored: StoredResponse) -> Response:
    document = json.loads(stored.body)
    response = current_app.response_class(document["body"], status=document["status"])
    for name, value in document["headers"].items():
        response.headers[name] = value
    response.headers[REPLAYED_HEADER] = "true"
    outcomes.request_replayed()
    return response


def _quietly(action: Callable[..., None], *args: Any) -> None:
    """Record or release; if the store is down, answer anyway (the claim's lease lapses)."""
    try:
        action(*args)
    except StorageUnavailable as error:
        logger.warning("idempotency record of %s %s not kept: %s", request.method,
                       request.path, error.message)  # fmt: skip


def _account() -> str | None:
    """The verified token's account, if the request presented one (else anonymous)."""
    try:
        identity = get_jwt_identity()
    except RuntimeError:  # no token was verified for this request
        return None
    return str(identity) if identity else None


def _fingerprint() -> str:
    message = json.dumps(
        [request.method, request.path, request.query_string.decode("latin-1"),
         request.headers.get("If-Match"), _canonical_body()],
        separators=(",", ":"),
    )  # fmt: skip
    key = _fingerprint_key(container().settings.secret_key)
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def _canonical_body() -> str:
    """JSON with sorted keys and no spaces, so the same request written otherwise is the same;
    any other body (unreadable JSON, another type) as its bytes."""
    try:
        body = request.get_json(silent=True)
        if body is not None:
            return "json:" + json.dumps(body, sort_keys=True, separators=(",", ":"))
    except (RecursionError, ValueError):  # refused later with 400 malformed_json
        pass
    return "raw:" + request.get_data().decode("latin-1")


@lru_cache(maxsize=4)
def _fingerprint_key(secret: str) -> bytes:
    return derive_key(secret, Purpose.IDEMPOTENCY).encode()


def _documented(
    apidoc: Mapping[str, Any], schema: IdempotencyKeySchema, required: bool
) -> dict[str, Any]:
    """The view's OpenAPI doc with the header and, on each success, ``Idempotent-Replayed``."""
    doc = deepcopy(dict(apidoc))
    written = doc.get("manual_doc", {}).get("parameters")
    if written is not None:  # a view's own ``@blp.doc(parameters=...)`` replaces the list
        written.append({"in": "header", "name": HEADER, "required": required,
                        "description": DESCRIPTION,
                        "schema": {"type": "string", "pattern": PATTERN}})  # fmt: skip
    else:
        parameters = doc.setdefault("arguments", {}).setdefault("parameters", [])
        parameters.append({"in": "headers", "required": required, "schema": schema})
    for variants in doc.get("response", {}).get("responses", {}).values():
        for variant in variants:
            variant.setdefault("headers", {}).update(deepcopy(_REPLAYED_DOC))
    return doc

