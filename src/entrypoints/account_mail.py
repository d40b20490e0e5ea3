"""The mail about accounts that the notification job sends from the outbox
(``adapters.sql.account_mail``): verification links and password reset links, composed here
because their links are signed with keys only the entrypoints hold."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING
from uuid import UUID

from adapters.sql.account_mail import PASSWORD_RESET, VERIFICATION_LINK
from adapters.sql.event_codec import BadEventPayload
from booking.ports import Email
from entrypoints.email_links import (
    Link,
    LinkKind,
    password_reset_email,
    reset_token,
    verification_email,
)

if TYPE_CHECKING:  # the composition root imports this module
    from entrypoints.bootstrap import Container


def composer(container: Container) -> Callable[[str, str], list[Email]]:
    """``compose(kind, payload)``: the mail of one outbox row of account mail."""

    def compose(kind: str, payload: str) -> list[Email]:
        try:
            data = json.loads(payload)
            if kind == PASSWORD_RESET:
                return _reset_mail(container, UUID(data["reset_id"]))
            if kind == VERIFICATION_LINK:
                link = Link(
                    kind=LinkKind(data["kind"]), subject_id=UUID(data["subject_id"]),
                    current=str(data["current"]), new=str(data["new"]),
                )  # fmt: skip
                return [verification_email(container.settings, link)]
        except (KeyError, TypeError, ValueError) as error:
            raise BadEventPayload(f"{kind}: {error!r}") from error
        raise BadEventPayload(f"not a kind of account mail: {kind!r}")

    return compose


def _reset_mail(container: Container, reset_id: UUID) -> list[Email]:
    """The link, to the account's address; nothing for a request that named an address
    without an account, nor once the token is spent or expired (the mail came too late)."""
    to = container.password_resets.recipient(reset_id, container.clock.now())
    if to is None:
        return []
    return [password_reset_email(container.settings, to, reset_token(container.settings, reset_id))]
