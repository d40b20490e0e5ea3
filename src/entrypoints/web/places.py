"""The cities and categories the search form offers: those ``hourbook seed`` fills.

Kept here because the web pages sit below the CLI (import-linter's entrypoint layers), so they
cannot import ``entrypoints.cli.seed``; tests/integration/web/test_web_limits.py checks that
both lists agree.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class City:
    name: str
    lat: float
    lng: float


CITIES = (
    City("New York", 40.7128, -74.0060),
    City("Chicago", 41.8781, -87.6298),
    City("San Francisco", 37.7749, -122.4194),
    City("Toronto", 43.6532, -79.3832),
    City("São Paulo", -23.5505, -46.6333),
    City("London", 51.5074, -0.1278),
    City("Berlin", 52.5200, 13.4050),
    City("Paris", 48.8566, 2.3522),
    City("Madrid", 40.4168, -3.7038),
    City("Mumbai", 19.0760, 72.8777),
    City("Sydney", -33.8688, 151.2093),
    City("Auckland", -36.8485, 174.7633),
)
CATEGORIES = (
    "plumbing", "electrical", "cleaning", "dog-walking", "tutoring", "photography",
    "personal-training", "massage",
)  # fmt: skip
