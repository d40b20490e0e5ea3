"""Professionals: search, create a profile, read it, change it (guarded by ETag / If-Match)."""

from __future__ import annotations

import re
from dataclasses import replace
from uuid import UUID, uuid4

from flask import request
from flask.views import MethodView
from marshmallow import RAISE

from booking import catalogue
from booking.catalogue import FreeTime
from booking.errors import ConcurrentUpdate
from booking.model import Professional
from booking.ports import SearchCriteria
from entrypoints import accounts
from entrypoints.accounts import Role
from entrypoints.api.blueprints import Blueprint
from entrypoints.api.calendar_feed import feed_path
from entrypoints.api.context import container
from entrypoints.api.errors import ApiError
from entrypoints.api.idempotency import idempotent
from entrypoints.api.presenters import Body, professional_body
from entrypoints.api.reads import reader
from entrypoints.api.schemas.professionals import (
    POLICY_RULES,
    CalendarFeedSchema,
    NewProfessionalSchema,
    ProfessionalChangesSchema,
    ProfessionalPageSchema,
    ProfessionalSchema,
    ProfileDraft,
    Search,
    SearchArgsSchema,
)
from entrypoints.api.security import (
    OPTIONAL_BEARER,
    Principal,
    current_principal,
    optional_principal,
    protected,
)
from entrypoints.email_links import Link, LinkKind

blp = Blueprint(
    "professionals", __name__, url_prefix="/professionals", description="Find and manage"
)

# Our ETags are versions: ASCII digits only (str.isdigit() also takes "٣" and "³"), and at most
# 18 of them, which fits a 64-bit integer and stays far below int()'s limit on digits.
_ETAG = re.compile(r'(?P<weak>W/)?"(?P<version>[0-9]{1,18})"')
_ETAG_DOC = {"ETag": {"description": "the profile's version", "schema": {"type": "string"}}}
_IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "schema": {"type": "string", "pattern": r'^(\*|"[0-9]{1,18}")$', "maxLength": 20},
    "description": (
        'the ETag you read (like "3"), or *: the change is refused (412) if the profile changed'
        ' since; a weak ETag (W/"3") never matches (412)'
    ),
}


@blp.route("")
class Professionals(MethodView):
    @blp.arguments(SearchArgsSchema, location="query", unknown=RAISE)
    @blp.response(200, ProfessionalPageSchema)
    def get(self, search: Search) -> Body:
        """Search by category and distance, optionally only those free in a time window.

        Ordered by distance when a point is given, else by name. ``lat``, ``lng`` and
        ``radius_km`` come together or not at all; so do ``available_from`` and
        ``available_to``, the latter after the former and at most 62 days later.
        """
        app = container()
        criteria = SearchCriteria(
            category=search.category,
            near=search.near,
            radius_km=search.radius_km,
            limit=search.limit,
            offset=search.offset,
        )
        free = None
        if search.window is not None:
            free = FreeTime(span=search.window, duration=search.duration)
        found = catalogue.search_professionals(
            criteria, uow=reader(), clock=app.clock, free=free
        )
        items = [professional_body(pro, distance) for pro, distance in found]
        return {"items": items, "limit": search.limit, "offset": search.offset}

    @protected(Role.PROFESSIONAL, Role.ADMIN)
    @idempotent()
    @blp.doc(description=POLICY_RULES)
    @blp.arguments(NewProfessionalSchema)
    @blp.response(201, ProfessionalSchema, headers=_ETAG_DOC)
    def post(self, draft: ProfileDraft) -> tuple[Body, int, dict[str, str]]:
        """Create a profile: a professional their own (once), an admin anyone's.

        A professional's profile starts with their login address; another ``email`` is mailed
        a link and shown as ``pending_email`` until the link is opened.
        """
        principal = current_principal()
        app = container()
        professional_id = principal.user_id if principal.role is Role.PROFESSIONAL else uuid4()
        if principal.role is Role.PROFESSIONAL and _exists(professional_id):
            raise ApiError(409, "profile_exists", "you already have a profile: PATCH it")
        pro = draft.build(professional_id)
        pending = None
        login = app.users.get(principal.user_id) if principal.role is Role.PROFESSIONAL else None
        if login is not None and pro.email.lower() != login.email:
            # Bookings are mailed to the profile's address: until its owner proves they read
            # it, the profile uses the account's own address.
            pending, pro = pro.email, replace(pro, email=login.email)
        catalogue.register_professional(pro, uow=app.uow())
        if principal.role is Role.PROFESSIONAL:
            app.users.link_professional(principal.user_id, pro.id)
        body = professional_body(pro)
        if pending is not None:
            link = Link(kind=LinkKind.PROFILE_EMAIL, subject_id=pro.id, current=pro.email,
                        new=pending)  # fmt: skip
            accounts.send_link(app, link)
            body["pending_email"] = pending
        headers = {"ETag": _etag(pro), "Location": f"/professionals/{pro.id}"}
        return body, 201, headers


@blp.route("/<uuid:professional_id>")
class OneProfessional(MethodView):
    @blp.doc(security=OPTIONAL_BEARER)
    @blp.response(200, ProfessionalSchema, headers=_ETAG_DOC)
    def get(self, professional_id: UUID) -> tuple[Body, int, dict[str, str]]:
        """A public profile; its ETag is the version to send back in If-Match.

        The private calendar feed's URL is not part of it: it is shown once, by
        ``POST /professionals/{id}/calendar-feed/rotate``.
        """
        optional_principal()  # a bad token is a 401, not an anonymous read
        pro = catalogue.get_professional(professional_id, uow=reader())
        return professional_body(pro), 200, {"ETag": _etag(pro), "Vary": "Authorization"}

    @protected(Role.PROFESSIONAL, Role.ADMIN)
    @idempotent()
    @blp.doc(parameters=[_IF_MATCH], description=f"At least one field.\n\n{POLICY_RULES}")
    @blp.arguments(ProfessionalChangesSchema)
    @blp.response(200, ProfessionalSchema, headers=_ETAG_DOC)
    def patch(
        self, changes: dict[str, object], professional_id: UUID
    ) -> tuple[Body, int, dict[str, str]]:
        """Change your profile (or any, as admin); with If-Match, only if nobody else did.

        A new ``email`` is not taken at once: a link is mailed to it, and the profile's address
        changes when the link is opened. Until then the answer shows it as ``pending_email``.
        """
        require_editor(current_principal(), professional_id)
        expected = _if_match()
        new_email = changes.pop("email", None)
        try:
            pro = catalogue.update_professional(
                professional_id, changes, uow=container().uow(), expected_version=expected
            )
        except ConcurrentUpdate as error:
            if expected is None:
                raise
            raise ApiError(
                412, "precondition_failed", "the profile changed since: read it again"
            ) from error
        body = professional_body(pro)
        if isinstance(new_email, str) and new_email != pro.email:
            link = Link(kind=LinkKind.PROFILE_EMAIL, subject_id=pro.id, current=pro.email,
                        new=new_email)  # fmt: skip
            accounts.send_link(container(), link)
            body["pending_email"] = new_email
        return body, 200, {"ETag": _etag(pro)}


@blp.route("/<uuid:professional_id>/calendar-feed/rotate")
class CalendarFeedToken(MethodView):
    @protected(Role.PROFESSIONAL, Role.ADMIN)
    @idempotent()
    @blp.response(201, CalendarFeedSchema)
    def post(self, professional_id: UUID) -> tuple[Body, int, dict[str, str]]:
        """Make a new private calendar feed URL; the one before stops working at once.

        The URL is shown in this answer only (its token is stored hashed): subscribe to it in
        your calendar app, and rotate again if it leaks.
        """
        require_editor(current_principal(), professional_id)
        app = container()
        catalogue.get_professional(professional_id, uow=app.reader(primary=True))  # 404 for admins
        token = app.feed_tokens.rotate(professional_id, app.clock.now())
        url = app.settings.public_url.rstrip("/") + feed_path(professional_id, token)
        return {"calendar_feed_url": url}, 201, {"Cache-Control": "no-store"}


def require_editor(principal: Principal, professional_id: UUID) -> None:
    """Profiles are public, so editing another's is forbidden (403), not hidden (404)."""
    if not (principal.is_admin or principal.owns_profile(professional_id)):
        catalogue.get_professional(professional_id, uow=container().uow())  # 404 if none
        raise ApiError(403, "forbidden", "only the professional or an admin may change this")


def _exists(professional_id: UUID) -> bool:
    uow = container().uow()
    with uow:
        return uow.professionals.get(professional_id) is not None


def _etag(pro: Professional) -> str:
    return f'"{pro.version}"'


def _if_match() -> int | None:
    """The version ``If-Match`` names; None for no header or ``*`` (any version will do)."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    tag = _ETAG.fullmatch(header.strip())
    if tag is None:
        raise ApiError(400, "invalid_header", 'If-Match must be one ETag like "3", or *')
    if tag["weak"]:  # If-Match compares strongly (RFC 9110, 13.1.1): a weak tag never matches
        raise ApiError(
            412, "precondition_failed", 'a weak ETag (W/"…") never matches: send the ETag as read'
        )
    return int(tag["version"])
