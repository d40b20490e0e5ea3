"""The calling client's own record."""

from __future__ import annotations

from flask.views import MethodView

from booking import catalogue
from entrypoints import accounts
from entrypoints.accounts import Role
from entrypoints.api.blueprints import Blueprint
from entrypoints.api.context import container
from entrypoints.api.idempotency import idempotent
from entrypoints.api.presenters import Body, client_body
from entrypoints.api.reads import reader
from entrypoints.api.schemas.accounts import ClientChangesSchema, ClientSchema
from entrypoints.api.security import current_principal, protected
from entrypoints.email_links import Link, LinkKind

blp = Blueprint("clients", __name__, url_prefix="/clients", description="Your client record")


@blp.route("/me")
class Me(MethodView):
    @protected(Role.CLIENT)
    @blp.response(200, ClientSchema)
    def get(self) -> Body:
        """Your name, contact details and time zone."""
        client = catalogue.get_client(current_principal().user_id, uow=reader())
        return client_body(client)

    @protected(Role.CLIENT)
    @idempotent()
    @blp.arguments(ClientChangesSchema)
    @blp.response(200, ClientSchema)
    def patch(self, changes: dict[str, str]) -> Body:
        """Change your name, contact details or time zone (the login address stays as it is).

        ``time_zone`` is an IANA name (``Pacific/Honolulu``): from then on your emails give
        times in it, with the professional's beside it when theirs differs. An unknown name
        answers 422.

        A new ``email`` is not taken at once: a link is mailed to it, and the address changes
        when the link is opened. Until then the answer shows it as ``pending_email``. Give at
        least one field: an empty body answers 422.
        """
        app = container()
        client_id = current_principal().user_id
        new_email = changes.pop("email", None)
        client = catalogue.update_client(client_id, changes, uow=app.uow())
        body = client_body(client)
        if new_email is not None and new_email != client.email:
            link = Link(kind=LinkKind.CLIENT_EMAIL, subject_id=client_id, current=client.email,
                        new=new_email)  # fmt: skip
            accounts.send_link(app, link)
            body["pending_email"] = new_email
        return body
