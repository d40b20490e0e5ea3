"""Which server a view reads from: a standby, unless the caller must see their own write.

With ``DATABASE_REPLICA_URLS``, every write request by a signed-in caller (any method but GET,
HEAD and OPTIONS, whatever its answer: a refused booking may still have written) marks their
account in Redis for the read-your-writes window; their reads during it go to the primary.
Anonymous reads, and a caller's reads outside the window, go to a fit standby. Why a window
and not LSNs: docs/deploy.md "Replicas".
"""

from __future__ import annotations

from flask import Flask, Response, request

from booking.ports import UnitOfWork
from entrypoints.api.context import container
from entrypoints.api.security import verified_principal
from entrypoints.bootstrap import Container

_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def reader() -> UnitOfWork:
    """A read-only unit of work for this request."""
    app = container()
    writers = app.recent_writers
    if writers is None:
        return app.reader()
    principal = verified_principal()
    return app.reader(primary=principal is not None and writers.wrote_recently(principal.user_id))


def init_reads(app: Flask, built: Container) -> None:
    """Mark writers after their requests, when reads may go to a standby."""
    if built.recent_writers is not None:
        app.after_request(_mark_writer)


def _mark_writer(response: Response) -> Response:
    if request.method not in _READS:
        principal = verified_principal()
        writers = container().recent_writers
        if principal is not None and writers is not None:
            writers.wrote(principal.user_id)
    return response
