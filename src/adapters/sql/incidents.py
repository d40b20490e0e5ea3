"""Payment incidents (stray payments and disputes) over one SQLAlchemy ``Connection``.

Few and rare, so plain Core statements: none of them is on a hot path.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, CursorResult, Executable, insert, select, update

from adapters.sql import rows
from adapters.sql.errors import storage_errors
from adapters.sql.tables import payment_incidents
from booking.errors import InvalidInput
from booking.incidents import REFUNDED_IN_FULL, PaymentIncident

_STRAY_KINDS = sorted(kind.value for kind in REFUNDED_IN_FULL)


class SqlPaymentIncidents:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def _execute(self, statement: Executable) -> CursorResult[Any]:
        with storage_errors():
            return self._connection.execute(statement)

    def add(self, incident: PaymentIncident) -> None:
        self._execute(insert(payment_incidents).values(**rows.incident_values(incident)))

    def get(self, reference: str) -> PaymentIncident | None:
        return self._first(select(payment_incidents).where(
            payment_incidents.c.reference == reference
        ))

    def get_by_payment_intent(self, payment_intent_id: str) -> PaymentIncident | None:
        return self._first(select(payment_incidents).where(
            payment_incidents.c.payment_intent_id == payment_intent_id,
            payment_incidents.c.kind.in_(_STRAY_KINDS),
        ))

    def update(self, incident: PaymentIncident) -> None:
        values = rows.incident_values(incident)
        reference = values.pop("reference")
        result = self._execute(
            update(payment_incidents)
            .where(payment_incidents.c.reference == reference)
            .values(**values)
        )
        if result.rowcount == 0:
            raise InvalidInput(f"incident {reference} does not exist")

    def refunds_owed(self, limit: int) -> list[str]:
        query = (
            select(payment_incidents.c.reference)
            .where(payment_incidents.c.refund_due_cents > payment_incidents.c.refunded_cents)
            .order_by(payment_incidents.c.recorded_at)
            .limit(limit)
        )
        return [str(reference) for reference in self._execute(query).scalars()]

    def latest(self, limit: int) -> list[PaymentIncident]:
        query = (
            select(payment_incidents)
            .order_by(payment_incidents.c.recorded_at.desc(), payment_incidents.c.reference)
            .limit(limit)
        )
        return [rows.incident_from(row) for row in self._execute(query).mappings()]

    def _first(self, query: Executable) -> PaymentIncident | None:
        row = self._execute(query).mappings().first()
        return None if row is None else rows.incident_from(row)
