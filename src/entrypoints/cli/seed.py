"""``hourbook seed``: a realistic, reproducible catalogue of professionals for demos and trials.

Professionals are spread round-robin over cities (each in its own IANA zone and currency) and
categories, so every city has every category; names, rates, hours and exact locations come
from a seeded random generator, and ids are derived from the seed and the position, so seeding
twice adds nothing the second time.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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

_NAMESPACE = UUID("5d3c1f0e-8a4b-4a8e-9a51-7f0b0c9d2e11")


@dataclass(frozen=True, slots=True)
class City:
    name: str
    lat: float
    lng: float
    time_zone: str
    currency: str


CITIES = (
    City("New York", 40.7128, -74.0060, "America/New_York", "usd"),
    City("Chicago", 41.8781, -87.6298, "America/Chicago", "usd"),
    City("San Francisco", 37.7749, -122.4194, "America/Los_Angeles", "usd"),
    City("Toronto", 43.6532, -79.3832, "America/Toronto", "cad"),
    City("São Paulo", -23.5505, -46.6333, "America/Sao_Paulo", "brl"),
    City("London", 51.5074, -0.1278, "Europe/London", "gbp"),
    City("Berlin", 52.5200, 13.4050, "Europe/Berlin", "eur"),
    City("Paris", 48.8566, 2.3522, "Europe/Paris", "eur"),
    City("Madrid", 40.4168, -3.7038, "Europe/Madrid", "eur"),
    City("Mumbai", 19.0760, 72.8777, "Asia/Kolkata", "inr"),
    City("Sydney", -33.8688, 151.2093, "Australia/Sydney", "aud"),
    City("Auckland", -36.8485, 174.7633, "Pacific/Auckland", "nzd"),
)

# category -> (lowest and highest hourly rate in cents, whether they travel to the client)
CATEGORIES: dict[str, tuple[int, int, bool]] = {
    "plumbing": (5_000, 12_000, True),
    "electrical": (5_500, 13_000, True),
    "cleaning": (2_500, 4_500, True),
    "dog-walking": (1_500, 3_000, True),
    "tutoring": (3_000, 9_000, False),
    "photography": (6_000, 20_000, False),
    "personal-training": (4_000, 10_000, False),
    "massage": (5_000, 11_000, False),
}

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
