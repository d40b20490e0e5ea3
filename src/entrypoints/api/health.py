"""Liveness (the process answers) and readiness (its database and Redis answer too)."""

from __future__ import annotations

import logging

from flask.views import MethodView
from sqlalchemy import text

from entrypoints.api.blueprints import Blueprint
from entrypoints.api.context import container
from entrypoints.api.errors import ApiError
from entrypoints.api.presenters import Body
from entrypoints.api.schemas.accounts import HealthSchema

logger = logging.getLogger(__name__)

blp = Blueprint("health", __name__, description="For load balancers and orchestrators")


@blp.route("/healthz")
class Liveness(MethodView):
    @blp.response(200, HealthSchema)
    def get(self) -> Body:
        """The process is up."""
        return {"status": "ok"}


@blp.route("/readyz")
class Readiness(MethodView):
    @blp.response(200, HealthSchema)
    def get(self) -> Body:
        """The database (and Redis, when configured) answer: 200, else 503."""
        checks = {"database": _database()}
        if container().redis is not None:
            checks["redis"] = _redis()
        if any(state != "ok" for state in checks.values()):
            raise ApiError(503, "not_ready", "a dependency is not reachable", checks)
        return {"status": "ok", "checks": checks}


def _database() -> str:
    try:
        with container().engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # any failure means not ready; the log says which
        logger.warning("readiness: database unreachable", exc_info=True)
        return "unavailable"
    return "ok"


def _redis() -> str:
    client = container().redis
    try:
        if client is None or not client.ping():
            return "unavailable"
    except Exception:
        logger.warning("readiness: redis unreachable", exc_info=True)
        return "unavailable"
    return "ok"
