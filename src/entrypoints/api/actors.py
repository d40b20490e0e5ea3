"""Who the audit log says made a request's changes, and from which address.

Each request starts as ``system`` from its client address (after the trusted proxies,
``api/proxies.py``); verifying its access token (``security.verify_token``) makes its account
the actor, and the Stripe webhook makes ``stripe`` the actor. Both are unbound when the request
ends, so a thread serving the next request starts afresh.
"""

from __future__ import annotations

from flask import Flask, request

from adapters.request_context import (
    bind_actor,
    bind_client_address,
    current_actor,
    unbind_actor,
    unbind_client_address,
)

# In the WSGI environ, like the request id's binding (``api/request_ids.py``), for the same reason.
_BINDINGS = "hourbook.actor_bindings"


def init_actors(app: Flask) -> None:
    app.before_request(_bind)
    app.teardown_request(_unbind)


def _bind() -> None:
    request.environ[_BINDINGS] = (
        bind_actor(current_actor()),
        bind_client_address(request.remote_addr),
    )


def _unbind(_: BaseException | None) -> None:
    bindings = request.environ.pop(_BINDINGS, None)
    if bindings is not None:
        actor, address = bindings
        unbind_actor(actor)
        unbind_client_address(address)
