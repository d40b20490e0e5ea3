"""Mail about accounts (verification links, password reset links) goes through the outbox.

A request writes the message to the ``outbox`` table, in the transaction of the change it is
about where there is one, instead of talking to the mail server: a mail server that is down
delays the mail, and loses none. The notification job (``adapters.jobs.tasks.send_notifications``)
has the entrypoints compose it (``JobContext.account_mail``: links are signed with keys only
they hold) and sends it once, retried like any other notification.

The payload carries no secret: a verification link is signed when it is composed, and a reset
link's token is derived from the reset's id with the deployment's key (the database holds only
the token's SHA-256).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, insert

from adapters.request_context import current_request_id
from adapters.sql.errors import storage_errors
from adapters.sql.rows import new_job_key
from adapters.sql.tables import outbox

VERIFICATION_LINK = "VerificationLinkRequested"  # {kind, subject_id, current, new}
PASSWORD_RESET = "PasswordResetRequested"  # noqa: S105 - {reset_id}, no secret
ACCOUNT_MAIL = frozenset({VERIFICATION_LINK, PASSWORD_RESET})


def write(connection: Connection, kind: str, payload: Mapping[str, str], now: datetime) -> None:
    """Add the message to the outbox, in the caller's transaction."""
    if kind not in ACCOUNT_MAIL:
        raise ValueError(f"not a kind of account mail: {kind!r}")
    connection.execute(
        insert(outbox).values(
            event_type=kind,
            payload=json.dumps(dict(payload), sort_keys=True),
            occurred_at=now.astimezone(UTC),
            created_at=now.astimezone(UTC),
            request_id=current_request_id(),
            job_key=new_job_key(),
        )
    )


class SqlAccountMail:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def send(self, kind: str, payload: Mapping[str, str], now: datetime) -> None:
        """Queue the message: written to the outbox now, mailed by the notification job."""
        with storage_errors(), self.engine.begin() as connection:
            write(connection, kind, payload, now)
