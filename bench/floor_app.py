"""Floor (b): the least a Flask booking route can do, one INSERT, under hourbook's gunicorn
configuration:
``gunicorn -c python:entrypoints.serve.gunicorn_conf 'bench.floor_app:create_app()'``.

No authentication, validation, idempotency or overlap check: the database's exclusion
constraint is the only guard. ``BENCH_FLOOR_DSN`` is a libpq connection string.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime, timedelta
from uuid import UUID

import psycopg
from flask import Flask, request

from bench.floors import INSERT_BOOKING, booking_row


def create_app() -> Flask:
    dsn = os.environ["BENCH_FLOOR_DSN"]
    local = threading.local()  # one connection per gunicorn thread

    def connection() -> psycopg.Connection:
        if getattr(local, "connection", None) is None:
            local.connection = psycopg.connect(dsn, autocommit=True)
        return local.connection  # type: ignore[no-any-return]

    app = Flask("bench-floor")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/bookings")
    def book() -> tuple[dict[str, str], int]:
        body = request.get_json()
        row = booking_row(
            UUID(body["professional_id"]),
            UUID(body["client_id"]),
            datetime.fromisoformat(body["start_time"]),
            timedelta(minutes=body["duration_minutes"]),
        )
        connection().execute(INSERT_BOOKING, row)
        return {"id": str(row[0])}, 201

    return app
