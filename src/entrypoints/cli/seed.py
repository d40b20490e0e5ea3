"""``hourbook seed``: a realistic, reproducible catalogue of professionals for demos and trials.

Professionals are spread round-robin over cities (each in its own IANA zone and currency) and
categories, so every city has every category; names, rates, hours and exact locations come
from a seeded random generator, and ids are derived from the seed and the position, so seeding
twice adds nothing the second time.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import time, timedelta
from uuid import UUID, uuid5

from booking import catalogue
from booking.model import (
    AvailabilityWindow,
    BookingPolicy,
    Location,
    Professional,
    TravelMode,
)
from booking.ports import UnitOfWork
from entrypoints.places import CATEGORIES, CITIES, City

_NAMESPACE = UUID("5d3c1f0e-8a4b-4a8e-9a51-7f0b0c9d2e11")


_FIRST = (
    "Ada", "Bruno", "Chiara", "Dev", "Elif", "Farah", "Goran", "Hana", "Ines", "Jonas",
    "Kofi", "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq",
    "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zoe",
)  # fmt: skip
_LAST = (
    "Okafor", "Lindqvist", "Moreau", "Tanaka", "Haddad", "Kowalski", "Silva", "Brennan",
    "Novak", "Rahman", "Fischer", "Costa", "Ivanova", "Mensah", "Park", "Duarte",
)  # fmt: skip

Week = tuple[AvailabilityWindow, ...]


def _days(days: range, *spans: tuple[int, int]) -> Week:
    return tuple(
        AvailabilityWindow(day_of_week=day, start=time(start), end=time(end % 24))
        for day in days
        for start, end in spans
    )


WEEKS: tuple[Week, ...] = (
    _days(range(0, 5), (9, 17)),  # office hours
    _days(range(0, 5), (8, 12), (13, 18)),  # with a lunch break
    _days(range(1, 6), (10, 19)),  # Tuesday to Saturday
    _days(range(0, 5), (17, 21)) + _days(range(5, 7), (9, 15)),  # evenings and weekends
    _days(range(0, 7), (7, 12)),  # mornings, every day
)


def catalogue_of(count: int, seed: int = 1) -> Iterator[Professional]:
    """``count`` professionals, the same ones for the same ``seed``."""
    rng = random.Random(seed)
    categories = list(CATEGORIES)
    for index in range(count):
        city = CITIES[index % len(CITIES)]
        category = categories[(index // len(CITIES)) % len(categories)]
        yield _professional(rng, index, seed, city, category)


def _professional(
    rng: random.Random, index: int, seed: int, city: City, category: str
) -> Professional:
    low, high, travels = CATEGORIES[category]
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    return Professional(
        id=uuid5(_NAMESPACE, f"{seed}:{index}"),
        name=f"{first} {last}",
        email=f"{first}.{last}.{index}@example.com".lower(),
        category=category,
        hourly_rate_cents=rng.randrange(low, high + 1, 500),
        currency=city.currency,
        time_zone=city.time_zone,
        # Within about 15 km of the centre, where people live and work.
        location=Location(
            round(city.lat + rng.uniform(-0.12, 0.12), 6),
            round(city.lng + rng.uniform(-0.18, 0.18), 6),
        ),
        travel_mode=TravelMode.TRAVEL if travels else TravelMode.LOCAL,
        travel_fee_cents=rng.choice((0, 1_000, 1_500, 2_500)) if travels else 0,
        availability=rng.choice(WEEKS),
        policy=BookingPolicy(buffer=timedelta(minutes=rng.choice((0, 0, 15, 30)))),
    )


def seed(
    uow: Callable[[], UnitOfWork],
    count: int,
    *,
    random_seed: int = 1,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Register the catalogue's professionals that are not there yet; how many were added."""
    added = 0
    for professional in catalogue_of(count, random_seed):
        with uow() as unit:
            if unit.professionals.get(professional.id) is not None:
                continue
        catalogue.register_professional(professional, uow=uow())
        added += 1
        if progress is not None:
            progress(added)
    return added
