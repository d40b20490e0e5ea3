"""Who and what the work in progress is for: the request id, the actor and the client address.

The request id is for log lines and the jobs a request causes; the actor and the client
address are what the audit log records with each change (``adapters.sql.audit``): the entrypoint
binds them (the API per request, once it knows the caller; the Stripe webhook ``stripe``; the
jobs ``worker``), and the unit of work reads them when it commits. Unbound, the actor is
``system`` (an operator's command) and the address None.

The HTTP edge binds the request's id for the length of a request; the unit of work stores it
with the outbox rows it writes, and a job binds it again while it handles such a row, so the
lines a worker logs for a confirmation email carry the id of the request that confirmed.

A ``ContextVar`` rather than a thread-local: each thread (and each asyncio task) sees its own
value, and a thread started during a request does not inherit it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

from booking.audit import SYSTEM, Actor

_request_id: ContextVar[str | None] = ContextVar("hourbook_request_id", default=None)
_actor: ContextVar[Actor] = ContextVar("hourbook_actor", default=SYSTEM)
_client_address: ContextVar[str | None] = ContextVar("hourbook_client_address", default=None)


def current_request_id() -> str | None:
    """The id bound in this context, or None outside any request or job that has one."""
    return _request_id.get()


def bind_request_id(request_id: str | None) -> Token[str | None]:
    """Bind ``request_id`` until :func:`unbind_request_id` is called with the returned token."""
    return _request_id.set(request_id)


def unbind_request_id(token: Token[str | None]) -> None:
    _request_id.reset(token)


@contextmanager
def request_id_bound(request_id: str | None) -> Iterator[None]:
    """Bind ``request_id`` for the ``with`` block, then restore whatever was bound before."""
    token = bind_request_id(request_id)
    try:
        yield
    finally:
        unbind_request_id(token)


def current_actor() -> Actor:
    return _actor.get()


def bind_actor(actor: Actor) -> Token[Actor]:
    return _actor.set(actor)


def unbind_actor(token: Token[Actor]) -> None:
    _actor.reset(token)


@contextmanager
def actor_bound(actor: Actor) -> Iterator[None]:
    """Changes committed in the ``with`` block are made by ``actor``."""
    token = bind_actor(actor)
    try:
        yield
    finally:
        unbind_actor(token)


def current_client_address() -> str | None:
    return _client_address.get()


def bind_client_address(address: str | None) -> Token[str | None]:
    return _client_address.set(address)


def unbind_client_address(token: Token[str | None]) -> None:
    _client_address.reset(token)
