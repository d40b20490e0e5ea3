"""Liveness, readiness and the served OpenAPI document."""

from __future__ import annotations

from flask.testing import FlaskClient

from adapters.sql.engine import make_engine
from entrypoints.bootstrap import Container


def test_liveness_answers_ok(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readiness_checks_the_database_and_redis_when_configured(
    client: FlaskClient, container: Container
) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    expected = {"database": "ok"} | ({"redis": "ok"} if container.redis else {})
    assert response.get_json()["checks"] == expected


def test_readiness_fails_when_the_database_is_gone(
    client: FlaskClient, container: Container
) -> None:
    container.engine.dispose()
    container.engine = make_engine("sqlite+pysqlite:////nonexistent/directory/hourbook.sqlite3")

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.get_json()["error"]["details"]["database"] == "unavailable"


def test_the_openapi_document_lists_every_endpoint_with_bearer_security(
    client: FlaskClient,
) -> None:
    spec = client.get("/openapi.json").get_json()

    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert set(spec["paths"]) >= {
        "/auth/register", "/auth/login", "/auth/refresh", "/auth/logout", "/professionals",
        "/professionals/{professional_id}", "/professionals/{professional_id}/availability",
        "/professionals/{professional_id}/time-off", "/professionals/{professional_id}/slots",
        "/bookings", "/bookings/{booking_id}", "/bookings/{booking_id}/cancel", "/clients/me",
        "/healthz", "/readyz",
    }
    assert spec["paths"]["/bookings"]["post"]["security"] == [{"bearerAuth": []}]
    assert "Error" in spec["components"]["schemas"]


def test_the_docs_page_is_served(client: FlaskClient) -> None:
    response = client.get("/docs")

    assert response.status_code == 200
    assert b"swagger" in response.data.lower()
