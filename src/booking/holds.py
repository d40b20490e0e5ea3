"""How many unpaid holds a client may keep: a hold blocks a professional's time for nothing
until it is paid or expires, so a client keeps only a few at once (docs/architecture.md).

The caps are checked inside the hold's own transaction, against the client's pending bookings
read after the other holds of that client were made to wait, so racing requests cannot pass
them together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from booking.errors import InvalidInput, TooManyHolds
from booking.model import Booking, BookingStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldLimits:
    """Unpaid (pending) bookings a client may hold at once: in all, and with one professional."""

    per_client: int = 3
    per_client_and_professional: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.per_client_and_professional <= self.per_client:
            raise InvalidInput(
                "hold limits must be at least 1, and the one per professional at most the total"
            )

    def check(self, held: Iterable[Booking], *, client_id: UUID, professional_id: UUID) -> None:
        """Raise TooManyHolds if the client may not hold one more with ``professional_id``;
        ``held`` holds (at least) the client's pending bookings."""
        pending = [
            b for b in held if b.client_id == client_id and b.status is BookingStatus.PENDING
        ]
        if len(pending) >= self.per_client:
            raise TooManyHolds(
                f"you already hold {len(pending)} unpaid bookings, the most allowed is"
                f" {self.per_client}: pay for one or cancel it first"
            )
        with_them = [b for b in pending if b.professional_id == professional_id]
        if len(with_them) >= self.per_client_and_professional:
            raise TooManyHolds(
                f"you already hold {len(with_them)} unpaid booking(s) with this professional,"
                f" the most allowed is {self.per_client_and_professional}: pay for it or"
                " cancel it first"
            )


DEFAULT_HOLD_LIMITS = HoldLimits()
