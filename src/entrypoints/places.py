"""The cities and categories of the demo catalogue: what ``hourbook seed`` fills, and what the
find page offers to choose from."""

from __future__ import annotations

from dataclasses import dataclass


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
