"""Admin: outgoing webhook endpoints, their secrets, their delivery log, redelivery and pings.

The worker delivers; these views only store what the admin asks for (a redelivery or a ping is
a delivery due now). docs/webhooks.md says what receivers get and how to verify it.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any
from uuid import UUID

from flask.views import MethodView
from marshmallow import RAISE

from adapters.webhooks_out.addresses import UrlRefused
from adapters.webhooks_out.endpoints import Delivery, Endpoint
from entrypoints.accounts import Role
from entrypoints.api.blueprints import Blueprint
from entrypoints.api.context import container
from entrypoints.api.errors import ApiError
from entrypoints.api.idempotency import idempotent
from entrypoints.api.schemas.webhooks import (
    DeliveryPageArgsSchema,
    DeliveryPageSchema,
    DeliverySchema,
    EndpointChangesSchema,
    EndpointListSchema,
    EndpointSchema,
    EndpointWithSecretSchema,
    NewEndpointSchema,
    RotationSchema,
)
from entrypoints.api.security import protected

blp = Blueprint(
    "webhook_endpoints", __name__, url_prefix="/admin/webhook-endpoints",
    description="Outgoing webhooks (admins)",
)  # fmt: skip

Body = dict[str, Any]


@blp.route("")
class WebhookEndpoints(MethodView):
    @protected(Role.ADMIN)
    @idempotent()
    @blp.arguments(NewEndpointSchema)
    @blp.response(201, EndpointWithSecretSchema)
    def post(self, body: Body) -> tuple[Body, int, dict[str, str]]:
        """Add an endpoint; its signing secret is in this answer only.

        Events of the chosen types are sent to it from now on, signed with the secret
        (``Hourbook-Signature``, see docs/webhooks.md).
        """
        app = container()
        _check_url(body["url"])
        endpoint, secret = app.webhook_endpoints.create(
            url=body["url"], description=body["description"], event_types=body["event_types"],
            enabled=body["enabled"], now=app.clock.now(),
        )  # fmt: skip
        location = f"/admin/webhook-endpoints/{endpoint.id}"
        headers = {"Location": location, "Cache-Control": "no-store"}
        return {**asdict(endpoint), "secret": secret}, 201, headers

    @protected(Role.ADMIN)
    @blp.response(200, EndpointListSchema)
    def get(self) -> Body:
        """Every endpoint, oldest first (secrets are never shown again)."""
        app = container()
        return {"items": [asdict(found) for found in app.webhook_endpoints.list(app.clock.now())]}


@blp.route("/<uuid:endpoint_id>")
class OneWebhookEndpoint(MethodView):
    @protected(Role.ADMIN)
    @blp.response(200, EndpointSchema)
    def get(self, endpoint_id: UUID) -> Body:
        """One endpoint."""
        return asdict(_endpoint(endpoint_id))

    @protected(Role.ADMIN)
    @idempotent()
    @blp.arguments(EndpointChangesSchema, unknown=RAISE)
    @blp.response(200, EndpointSchema)
    def patch(self, changes: Body, endpoint_id: UUID) -> Body:
        """Change the URL, the event types, the description, or enable/disable it.

        Enabling an endpoint the worker disabled also forgets its count of dead deliveries.
        """
        app = container()
        if "url" in changes:
            _check_url(changes["url"])
        found = app.webhook_endpoints.update(endpoint_id, changes, app.clock.now())
        if found is None:
            raise _not_found()
        return asdict(found)

    @protected(Role.ADMIN)
    @idempotent()
    @blp.response(204)
    def delete(self, endpoint_id: UUID) -> tuple[str, int]:
        """Remove the endpoint and its delivery log; nothing more is sent to it."""
        if not container().webhook_endpoints.delete(endpoint_id):
            raise _not_found()
        return "", 204


@blp.route("/<uuid:endpoint_id>/rotate-secret")
class SecretRotation(MethodView):
    @protected(Role.ADMIN)
    @idempotent()
    @blp.arguments(RotationSchema)
    @blp.response(201, EndpointWithSecretSchema)
    def post(self, body: Body, endpoint_id: UUID) -> tuple[Body, int, dict[str, str]]:
        """A new signing secret, shown in this answer only.

        For ``grace_minutes`` (default a day) events carry two ``v1`` signatures, by the new
        secret and by the one it replaces, so the receiver can switch at its own pace; then
        only the new one.
        """
        app = container()
        grace = timedelta(minutes=body["grace_minutes"])
        rotated = app.webhook_endpoints.rotate(endpoint_id, grace, app.clock.now())
        if rotated is None:
            raise _not_found()
        endpoint, secret = rotated
        return {**asdict(endpoint), "secret": secret}, 201, {"Cache-Control": "no-store"}


@blp.route("/<uuid:endpoint_id>/deliveries")
class Deliveries(MethodView):
    @protected(Role.ADMIN)
    @blp.arguments(DeliveryPageArgsSchema, location="query", unknown=RAISE)
    @blp.response(200, DeliveryPageSchema)
    def get(self, page: Body, endpoint_id: UUID) -> Body:
        """The delivery log, newest first: each delivery with every attempt (status, duration,
        the first 2 KiB of the answer, or why there was none)."""
        _endpoint(endpoint_id)
        found = container().webhook_endpoints.deliveries(
            endpoint_id, limit=page["limit"], offset=page["offset"]
        )
        return {"items": [_delivery(one) for one in found], **page}


@blp.route("/<uuid:endpoint_id>/deliveries/<int:delivery_id>/redeliver")
class Redelivery(MethodView):
    @protected(Role.ADMIN)
    @idempotent()
    @blp.response(202, DeliverySchema)
    def post(self, endpoint_id: UUID, delivery_id: int) -> tuple[Body, int]:
        """Send a delivery's event again (same event ``id``): a new delivery, due now."""
        app = container()
        found = app.webhook_endpoints.redeliver(endpoint_id, delivery_id, app.clock.now())
        if found is None:
            raise ApiError(404, "not_found", "no such delivery of this endpoint")
        return _delivery(found), 202


@blp.route("/<uuid:endpoint_id>/test")
class Ping(MethodView):
    @protected(Role.ADMIN)
    @idempotent()
    @blp.response(202, DeliverySchema)
    def post(self, endpoint_id: UUID) -> tuple[Body, int]:
        """Send a ``ping`` event to the endpoint (even a disabled one), due now; its delivery
        shows in the log like any other."""
        app = container()
        found = app.webhook_endpoints.ping(endpoint_id, app.clock.now())
        if found is None:
            raise _not_found()
        return _delivery(found), 202


def _check_url(url: str) -> None:
    try:
        container().webhook_urls.check(url)
    except UrlRefused as refused:
        raise ApiError(422, "url_not_allowed", str(refused)) from None


def _endpoint(endpoint_id: UUID) -> Endpoint:
    app = container()
    found = app.webhook_endpoints.get(endpoint_id, app.clock.now())
    if found is None:
        raise _not_found()
    return found


def _delivery(delivery: Delivery) -> Body:
    body = asdict(delivery)
    body["attempts"] = [asdict(attempt) for attempt in delivery.attempts]
    return body


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "no such webhook endpoint")
