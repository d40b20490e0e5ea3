"""The app factory: ``create_app()`` reads settings from the environment and builds a fresh app.

Tests pass their own ``Settings`` (and may pass a ready ``Container`` with a fixed clock).
Nothing is built at import time; each call returns a new, independent app.
"""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from adapters.sql.migrate import ensure_up_to_date
from entrypoints.api import (
    audit,
    auth,
    bookings,
    calendar,
    calendar_feed,
    clients,
    errors,
    health,
    professionals,
    simulator,
    webhook_endpoints,
    webhooks,
)
from entrypoints.api.actors import init_actors
from entrypoints.api.context import EXTENSION
from entrypoints.api.edge import init_edge, init_edge_after_limiter
from entrypoints.api.limits import init_limiter
from entrypoints.api.login_throttle import init_login_throttle
from entrypoints.api.metrics import init_metrics
from entrypoints.api.proxies import behind_proxies
from entrypoints.api.reads import init_reads
from entrypoints.api.request_ids import init_request_ids
from entrypoints.api.security import SECURITY_SCHEMES, init_jwt
from entrypoints.bootstrap import Container, build
from entrypoints.config import Settings, require_rq_key_prefix
from entrypoints.keys import Purpose, derive_key
from entrypoints.web import init_web

API_VERSION = "1"
SWAGGER_UI_VERSION = "5.17.14"
_BLUEPRINTS = (
    auth.blp,
    professionals.blp,
    calendar.blp,
    bookings.blp,
    clients.blp,
    health.blp,
    audit.blp,
    webhook_endpoints.blp,
)


class HourbookApi(Api):  # type: ignore[misc]  # flask-smorest ships no type hints
    """flask-smorest's Api with our error shape, documented and answered."""

    ERROR_SCHEMA = errors.ErrorSchema

    def handle_http_exception(self, error: Exception) -> object:
        return errors.http_error(error)  # type: ignore[arg-type]


def create_app(settings: Settings | None = None, container: Container | None = None) -> Flask:
    if settings is None and container is None:  # a process of its own (gunicorn): the env
        settings = Settings.from_env()
        require_rq_key_prefix(settings)
    settings = settings or container.settings  # type: ignore[union-attr]
    container = container or build(settings)
    ensure_up_to_date(container.engine)  # migrating is the operator's job: hourbook db upgrade

    app = Flask("hourbook")
    app.config.update(_flask_config(settings))
    app.wsgi_app = behind_proxies(app.wsgi_app, settings.trusted_proxies)  # type: ignore[method-assign]
    app.extensions[EXTENSION] = container
    init_request_ids(app)  # first: every later hook, and every log line, has the request id
    init_actors(app)  # next: whatever a later hook changes is audited from this address
    init_edge(app)  # before the limiter: a chunked body is measured before anything reads it
    init_metrics(app, container)
    init_reads(app, container)

    api = HourbookApi(app, spec_kwargs={"info": {"description": _DESCRIPTION}})
    api.spec.components.security_scheme("bearerAuth", SECURITY_SCHEMES["bearerAuth"])
    for blueprint in _BLUEPRINTS:
        api.register_blueprint(blueprint)
    _require_a_change(api)
    for plain in (webhooks.stripe_webhook, calendar_feed.calendar_feed):  # not in the API doc
        app.register_blueprint(plain)
    simulator.register_if_simulated(app)
    init_web(app, settings)  # the pages for people, on the same use cases
    errors.register(app)
    init_jwt(app, settings)
    init_login_throttle(app, settings)
    init_limiter(app, settings)
    init_edge_after_limiter(app)
    return app


def _require_a_change(api: HourbookApi) -> None:
    """Say ``minProperties: 1`` for every PATCH body (``Changes``): apispec has no word for it."""
    for name in ("ClientChanges", "ProfessionalChanges", "EndpointChanges"):
        api.spec.components.schemas[name]["minProperties"] = 1


def _flask_config(settings: Settings) -> dict[str, object]:
    return {
        "SECRET_KEY": derive_key(settings.secret_key, Purpose.FLASK_SESSION),
        "MAX_CONTENT_LENGTH": settings.max_body_bytes,
        "JSON_SORT_KEYS": False,
        "API_TITLE": "hourbook",
        "API_VERSION": API_VERSION,
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/",
        "OPENAPI_JSON_PATH": "openapi.json",
        # Swagger UI runs scripts from a CDN in the reader's browser: a pinned version, and
        # off in production unless HOURBOOK_API_DOCS says otherwise (openapi.json stays).
        "OPENAPI_SWAGGER_UI_PATH": "docs" if settings.api_docs else None,
        "OPENAPI_SWAGGER_UI_URL": f"https://cdn.jsdelivr.net/npm/swagger-ui-dist@{SWAGGER_UI_VERSION}/",
        "TESTING": settings.env == "test",
    }


_DESCRIPTION = """Hire professionals by the hour: search, see free slots, book, pay, cancel.

Every error answers `{"error": {"code", "message", "details"?}}`. Times are ISO 8601 with an
offset; money is integer cents with a currency. Authenticate with `Authorization: Bearer
<access token>` from `POST /auth/login`.
"""
