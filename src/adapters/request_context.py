"""The id of the request whose work is in progress, for log lines and the jobs it causes.

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

_request_id: ContextVar[str | None] = ContextVar("hourbook_request_id", default=None)


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
