"""Schemathesis against the served /openapi.json, on SQLite and on PostgreSQL + Redis: for every
operation, generated requests (valid and invalid) never cause a 5xx, and every answer matches the
documented status codes, content types, headers and schemas.

The requests reach real objects, not just 401s and 404s: path ids are those of a real profile
and a real booking, valid bodies that name a professional name that one, and each operation is
called with the token it is for (the profile's owner, the booking's client, an admin to create
profiles). Times and days are drawn from three pools: the ends of Python's calendar (years 1 and
9999, with the offsets that push them over), the edges of the years the API accepts, and the
fortnight after the fixed clock. A few requests are always made besides: windows and days off at
the ends of the calendar, and ordinary ones that get through validation into real work. Last,
every read runs again, over whatever the writes left stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.formats import unregister_string_format

from entrypoints import accounts
from entrypoints.bootstrap import Container
from tests.factories import MONDAY, at
from tests.integration.api.support import PASSWORD, Api, bearer

EXAMPLES = 15  # per operation, mode and stack: both stacks together stay well under a minute
POSITIVE, NEGATIVE = schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE
Modes = tuple[schemathesis.GenerationMode, ...]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

# Where datetime arithmetic overflows: a day or an offset more and there is no year to be in.
CALENDAR_ENDS = [
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00Z",
    "0001-01-02T00:00:00-12:00",
    "9999-12-30T00:00:00Z",
    "9999-12-31T23:30:00Z",
    "9999-12-31T23:59:59-14:00",
]
# Either side of the years the API accepts (1970 to 2200).
SUPPORTED_EDGES = [
    "1969-12-31T23:59:59Z",
    "1970-01-01T00:00:00Z",
    "1970-01-01T00:30:00+01:00",
    "2200-12-31T23:59:59Z",
    "2200-12-31T23:00:00-02:00",
    "2201-01-01T00:00:00Z",
]
FORTNIGHT = 14 * 24 * 2  # half hours after the fixed clock
instants = st.one_of(
    st.sampled_from(CALENDAR_ENDS + SUPPORTED_EDGES),
    st.integers(0, FORTNIGHT).map(lambda n: (MONDAY + timedelta(minutes=30 * n)).isoformat()),
)
days = st.one_of(
    st.sampled_from(["0001-01-01", "1969-12-31", "1970-01-01", "2200-12-31", "2201-01-01",
                     "9999-12-31"]),
    st.integers(0, 14).map(lambda n: (MONDAY.date() + timedelta(days=n)).isoformat()),
)

# Always asked, whatever the draws above do: the ends of the calendar of every operation that
# takes a time window or days off, and one ordinary request that passes validation into the
# real work (the draws rarely hit a duration the policy offers, say).
EDGE_WINDOWS = [
    ("9999-12-30T00:00:00Z", "9999-12-31T00:00:00Z"),
    ("0001-01-01T00:00:00+14:00", "0001-01-02T00:00:00+14:00"),
    ("2200-12-31T00:00:00-12:00", "2201-01-02T00:00:00Z"),
]
WINDOWS = {
    ("GET", "/professionals"): ("available_from", "available_to"),
    ("GET", "/professionals/{professional_id}/slots"): ("from", "to"),
    ("GET", "/bookings"): ("from", "to"),
}
DAYS_OFF = [  # in this order: if the API ever took the last, it would be stored, as it once
    # was, and break every later search for free time
    [{"first_day": "2026-06-08", "last_day": "2026-06-09"}],  # ordinary, and leaves Monday free
    [{"first_day": "0001-01-01", "last_day": "2026-05-31"}],
    [{"first_day": "2026-06-02", "last_day": "9999-12-31"}],
]
NINE_TO_FIVE = [{"day_of_week": day, "start": "09:00", "end": "17:00"} for day in range(7)]
FIXED_EXAMPLES = 3  # part of the request is fixed; these vary the rest


def fixed_requests(method: str, path: str, professional_id: str) -> list[dict[str, Any]]:
    """The fixed parts (``as_strategy`` keywords) of the requests always made."""
    operation = (method, path)
    if operation == ("PUT", "/professionals/{professional_id}/availability"):
        return [{"body": {"windows": NINE_TO_FIVE}}]  # last, so later bookings can fit
    if operation == ("PUT", "/professionals/{professional_id}/time-off"):
        return [{"body": {"days_off": days_off}} for days_off in DAYS_OFF]
    if operation == ("POST", "/bookings"):
        noon = at(MONDAY, 12).isoformat()
        body = {"professional_id": professional_id, "start_time": noon, "duration_minutes": 60}
        return [{"body": body}]
    if operation not in WINDOWS:
        return []
    start, end = WINDOWS[operation]
    queries: list[dict[str, Any]] = [{start: first, end: last} for first, last in EDGE_WINDOWS]
    ordinary: dict[str, Any] = {start: MONDAY.isoformat(), end: at(MONDAY, 23).isoformat()}
    if operation != ("GET", "/bookings"):
        ordinary["duration_minutes"] = 60
    return [{"query": query} for query in [*queries, ordinary]]


@dataclass
class World:
    """Real objects to aim at, and a token for each kind of caller."""

    professional_id: str
    booking_id: str
    owner: dict[str, str]  # the professional whose profile it is
    client: dict[str, str]  # who made the booking
    admin: dict[str, str]
    refresh: dict[str, str]
    throwaway: dict[str, str]  # for /auth/logout, which revokes it

    def headers_for(self, method: str, path: str) -> dict[str, str]:
        """The token the operation is for, so it gets past 401/403 into its real work."""
        if path == "/auth/logout":
            return self.throwaway
        if path == "/auth/refresh":
            return self.refresh
        if (method, path) == ("POST", "/professionals"):
            return self.admin  # the owner has a profile already: they would only get 409
        if path.startswith("/professionals"):
            return self.owner
        return self.client

    def path_parameters(self) -> dict[str, str]:
        return {"professional_id": self.professional_id, "booking_id": self.booking_id}


@pytest.fixture
def calendar_edges() -> Iterator[None]:
    """Make every date-time and date Schemathesis draws come from the pools above."""
    schemathesis.openapi.format("date-time", instants)
    schemathesis.openapi.format("date", days)
    yield
    unregister_string_format("date-time")
    unregister_string_format("date")


@pytest.fixture
def world(api: Api, container: Container) -> World:
    owner, pro = api.professional()
    client = api.register()
    booking = api.book(client, pro["id"], at(MONDAY, 10)).get_json()
    admin_email = f"admin-{uuid4().hex[:8]}@example.com"
    accounts.create_admin(container, admin_email, PASSWORD)
    return World(
        professional_id=pro["id"],
        booking_id=booking["id"],
        owner=owner.headers,
        client=client.headers,
        admin=api.login(admin_email).headers,
        refresh=bearer(client.refresh_token),
        throwaway=api.register().headers,
    )


def run_operation(operation: schemathesis.APIOperation, world: World, modes: Modes) -> None:
    for mode in modes:
        try:
            run_cases(operation, world, mode)
        except Unsatisfiable:
            if mode is POSITIVE:
                raise  # only an operation without inputs has no invalid request to make


def run_fixed(operation: schemathesis.APIOperation, world: World) -> None:
    for fixed in fixed_requests(operation.method.upper(), operation.path, world.professional_id):
        run_cases(operation, world, POSITIVE, examples=FIXED_EXAMPLES, **fixed)


def run_cases(
    operation: schemathesis.APIOperation,
    world: World,
    mode: schemathesis.GenerationMode,
    *,
    examples: int = EXAMPLES,
    **fixed: Any,
) -> None:
    headers = world.headers_for(operation.method.upper(), operation.path)
    strategy = operation.as_strategy(
        mode, path_parameters=world.path_parameters(), headers=headers, **fixed
    )

    @given(case=strategy)
    @settings(
        max_examples=examples, deadline=None, database=None, derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def exercise(case: schemathesis.Case) -> None:
        if mode.is_positive:  # an invalid body stays as drawn: it is the point of the case
            aim_at_the_real_professional(case.body, world.professional_id)
        case.call_and_validate(headers=headers, checks=CHECKS)

    exercise()


def describe(failure: BaseException) -> str:
    """What failed, with the curl line that reproduces it."""
    return failure.message if isinstance(failure, BaseExceptionGroup) else str(failure)


def aim_at_the_real_professional(body: Any, professional_id: str) -> None:
    """A valid body naming some professional names the real one (a new booking's, say)."""
    if isinstance(body, dict) and "professional_id" in body:
        body["professional_id"] = professional_id


@pytest.mark.usefixtures("calendar_edges")
def test_every_operation_answers_as_documented_and_never_5xx(app: Flask, world: World) -> None:
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    # Then every read again: what the writes stored (days off, windows, policies) must not
    # break a search, a slot listing or a profile, for this professional or anyone else.
    reads = [operation for operation in operations if operation.method.upper() == "GET"]
    sweeps = [(operation, (POSITIVE, NEGATIVE)) for operation in operations]
    sweeps += [(operation, (POSITIVE,)) for operation in reads]
    failures: list[str] = []

    for operation, modes in sweeps:
        try:
            run_operation(operation, world, modes)
            run_fixed(operation, world)
        # Collect all, so one run shows every broken operation (a FailureGroup is a
        # BaseExceptionGroup, which `except Exception` would let through).
        except (Exception, FailureGroup) as failure:
            failures.append(f"{operation.method.upper()} {operation.path}: {describe(failure)}")

    assert len(operations) >= 20
    assert not failures, "\n\n".join(failures)
