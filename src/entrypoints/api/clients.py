"""The calling client's own record."""

from __future__ import annotations

from flask.views import MethodView

from booking import catalogue
from entrypoints.accounts import Role
from entrypoints.api.blueprints import Blueprint
from entrypoints.api.context import container
from entrypoints.api.presenters import Body, client_body
from entrypoints.api.schemas.accounts import ClientChangesSchema, ClientSchema
from entrypoints.api.security import current_principal, protected

blp = Blueprint("clients", __name__, url_prefix="/clients", description="Your client record")


@blp.route("/me")
class Me(MethodView):
    @protected(Role.CLIENT)
    @blp.response(200, ClientSchema)
    def get(self) -> Body:
        """Your name and contact details."""
        client = catalogue.get_client(current_principal().user_id, uow=container().uow())
        return client_body(client)

    @protected(Role.CLIENT)
    @blp.arguments(ClientChangesSchema)
    @blp.response(200, ClientSchema)
    def patch(self, changes: dict[str, str]) -> Body:
        """Change your name or contact details (the login address stays as it is).

        Give at least one field: an empty body answers 422.
        """
        client = catalogue.update_client(
            current_principal().user_id, changes, uow=container().uow()
        )
        return client_body(client)
