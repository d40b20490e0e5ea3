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

Besides answering as documented, the document must be precise, both ways (Schemathesis's
``positive_data_acceptance`` and ``negative_data_rejection``): every request it calls valid
is accepted, and every request it calls invalid is refused. Two kinds of refusal of a valid
request are the API's to make, and are let through: a booking rule that depends on the
professional's policy, the clock or what is booked (a 422 with a rule code such as
``too_soon``, the way a taken slot is a 409), and a stale ``If-Match`` (412). The rules between
fields that the schema language cannot state (``to`` after ``from``, ``lat``, ``lng`` and
``radius_km`` together, a window that ends after it starts, a policy's durations on its grid)
are stated in the descriptions; the valid requests made here follow them, as a client reading
the document would (``follow_the_stated_rules``). Valid requests draw their times from the
years the API accepts; the ends of the calendar are tried in a sweep of their own, which must
only be answered as documented, without a 5xx. Last, the coverage phase's requests with an
undocumented method (405 with an ``Allow`` header, listing what the document lists) and without
a required header (4xx) are made for every path.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from uuid import uuid4

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import CheckContext, not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.transport import Response
from schemathesis.generation.meta import CoverageScenario
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)
from schemathesis.specs.openapi.formats import unregister_string_format

from booking.catalogue import MAX_FREE_RESULTS
from booking.errors import RuleViolation, error_codes
from entrypoints import accounts
from entrypoints.bootstrap import Container
from tests.factories import MONDAY, at
from tests.integration.api.support import PASSWORD, Api, bearer

EXAMPLES = 15  # per operation, mode and stack: both stacks together stay well under a minute
POSITIVE, NEGATIVE = schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE
Modes = tuple[schemathesis.GenerationMode, ...]
Checks = list[Any]
# A valid request may still break a booking rule that depends on state: the professional's
# policy, the clock, what is booked. Those answers are 422 with the rule's own code.
STATE_RULES = frozenset(
    code for code, error in error_codes().items() if issubclass(error, RuleViolation)
) - {RuleViolation.code}
# A token only the server mints (an e-mail link) cannot be generated valid: refused with 400.
UNGUESSABLE = frozenset({"invalid_link"})
# Whether a webhook URL's host resolves to public addresses is DNS's to say, not the schema's:
# a valid URL may be refused with 422 url_not_allowed (its description says so).
DEPENDS_ON_DNS = frozenset({"url_not_allowed"})


def valid_requests_are_accepted(ctx: CheckContext, response: Response, case: Any) -> bool | None:
    """``positive_data_acceptance``, but for a booking rule's 422 or a stale If-Match's 412."""
    if (
        response.status_code == 412
        or (response.status_code == 422 and _error_code(response) in STATE_RULES)
        or (response.status_code == 400 and _error_code(response) in UNGUESSABLE)
        or (response.status_code == 422 and _error_code(response) in DEPENDS_ON_DNS)
    ):
        return None
    return positive_data_acceptance(ctx, response, case)


def _error_code(response: Response) -> str | None:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return None


AS_DOCUMENTED = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
CHECKS = [*AS_DOCUMENTED, valid_requests_are_accepted]
COVERAGE_CHECKS = [
    *AS_DOCUMENTED, unsupported_method, allow_header_conformance, missing_required_header
]
COVERAGE_SCENARIOS = {
    CoverageScenario.UNSPECIFIED_HTTP_METHOD, CoverageScenario.MISSING_PARAMETER
}

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
SUPPORTED = ["1970-01-01T00:00:00Z", "2200-12-31T23:59:59Z", "2200-12-31T21:59:59-02:00"]
FORTNIGHT = 14 * 24 * 2  # half hours after the fixed clock
fortnight = st.integers(0, FORTNIGHT).map(
    lambda n: (MONDAY + timedelta(minutes=30 * n)).isoformat()
)
fortnight_days = st.integers(0, 14).map(lambda n: (MONDAY.date() + timedelta(days=n)).isoformat())
# Valid requests: the years the API accepts. The calendar sweep: anything, the ends above too.
instants = st.one_of(st.sampled_from(SUPPORTED), fortnight)
days = st.one_of(st.sampled_from(["1970-01-01", "2200-12-31"]), fortnight_days)
any_instants = st.one_of(st.sampled_from(CALENDAR_ENDS + SUPPORTED_EDGES), fortnight)
any_days = st.one_of(
    st.sampled_from(["0001-01-01", "1969-12-31", "1970-01-01", "2200-12-31", "2201-01-01",
                     "9999-12-31"]),
    fortnight_days,
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
TAKES_TIMES = {
    *WINDOWS, ("POST", "/bookings"), ("PUT", "/professionals/{professional_id}/time-off")
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
        return [
            {"body": {"days_off": days_off}, "valid": index == 0}
            for index, days_off in enumerate(DAYS_OFF)
        ]
    if operation == ("POST", "/bookings"):
        noon = at(MONDAY, 12).isoformat()
        body = {"professional_id": professional_id, "start_time": noon, "duration_minutes": 60}
        return [{"body": body}]
    if operation not in WINDOWS:
        return []
    start, end = WINDOWS[operation]
    edges = [{"query": {start: first, end: last}, "valid": False} for first, last in EDGE_WINDOWS]
    ordinary: dict[str, Any] = {start: MONDAY.isoformat(), end: at(MONDAY, 23).isoformat()}
    if operation != ("GET", "/bookings"):
        ordinary["duration_minutes"] = 60
    return [*edges, {"query": ordinary}]


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
    endpoint_id: str  # a webhook endpoint
    delivery_id: str  # a delivery of it

    def headers_for(self, method: str, path: str) -> dict[str, str]:
        """The token the operation is for, so it gets past 401/403 into its real work."""
        if path == "/auth/logout":
            return self.throwaway
        if path == "/auth/refresh":
            return self.refresh
        if (method, path) == ("POST", "/professionals") or path.startswith("/admin"):
            return self.admin  # the owner has a profile already: they would only get 409
        if path.startswith("/professionals"):
            return self.owner
        if path.startswith("/admin"):
            return self.admin
        return self.client

    def path_parameters(self) -> dict[str, str]:
        return {
            "professional_id": self.professional_id,
            "booking_id": self.booking_id,
            "endpoint_id": self.endpoint_id,
            "delivery_id": self.delivery_id,
        }


def draw_times_from(instant_pool: st.SearchStrategy[str], day_pool: st.SearchStrategy[str]) -> None:
    """Make every date-time and date Schemathesis draws come from these pools."""
    schemathesis.openapi.format("date-time", instant_pool)
    schemathesis.openapi.format("date", day_pool)


@pytest.fixture
def calendar_edges() -> Iterator[None]:
    draw_times_from(instants, days)
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
    admin = api.login(admin_email).headers
    endpoint = api.client.post(
        "/admin/webhook-endpoints",
        json={"url": "https://93.184.216.34/hooks", "event_types": ["booking.created"]},
        headers=admin,
    ).get_json()
    delivery = api.client.post(
        f"/admin/webhook-endpoints/{endpoint['id']}/test", headers=admin
    ).get_json()
    return World(
        professional_id=pro["id"],
        booking_id=booking["id"],
        owner=owner.headers,
        client=client.headers,
        admin=admin,
        refresh=bearer(client.refresh_token),
        throwaway=api.register().headers,
        endpoint_id=endpoint["id"],
        delivery_id=str(delivery["id"]),
    )


def run_operation(
    operation: schemathesis.APIOperation, world: World, modes: Modes, checks: Checks = CHECKS
) -> None:
    for mode in modes:
        try:
            run_cases(operation, world, mode, checks=checks)
        except Unsatisfiable:
            if mode is POSITIVE:
                raise  # only an operation without inputs has no invalid request to make


def run_fixed(operation: schemathesis.APIOperation, world: World) -> None:
    """The fixed requests: those at the ends of the calendar are invalid on purpose."""
    for fixed in fixed_requests(operation.method.upper(), operation.path, world.professional_id):
        valid = fixed.pop("valid", True)
        checks = CHECKS if valid else AS_DOCUMENTED
        run_cases(operation, world, POSITIVE, examples=FIXED_EXAMPLES, checks=checks, **fixed)


def run_cases(
    operation: schemathesis.APIOperation,
    world: World,
    mode: schemathesis.GenerationMode,
    *,
    checks: Checks,
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
            follow_the_stated_rules(case)
        case.call_and_validate(headers=headers, checks=checks)

    exercise()


def run_coverage(operation: schemathesis.APIOperation, world: World) -> None:
    """Undocumented methods and missing required headers, from Schemathesis's coverage phase.

    Only these two scenarios, and only their invalid requests: the whole phase's valid
    requests take the better part of a minute to draw.
    """
    schema = operation.schema
    cases = schema.iter_coverage_cases(
        operation,
        generation_modes=[NEGATIVE],
        generation_config=schema.config.generation_for(operation=operation),
    )
    for case in cases:
        data = case.meta.phase.data if case.meta is not None else None
        if getattr(data, "scenario", None) not in COVERAGE_SCENARIOS:
            continue
        headers = world.headers_for(operation.method.upper(), operation.path)
        missing = data.parameter if data.scenario is CoverageScenario.MISSING_PARAMETER else None
        headers = {name: value for name, value in headers.items() if name != missing}
        case.path_parameters = {
            name: world.path_parameters()[name] for name in case.path_parameters or {}
        }
        case.call_and_validate(headers=headers, checks=COVERAGE_CHECKS)


def describe(failure: BaseException) -> str:
    """What failed, with the curl line that reproduces it."""
    return failure.message if isinstance(failure, BaseExceptionGroup) else str(failure)


def aim_at_the_real_professional(body: Any, professional_id: str) -> None:
    """A valid body naming some professional names the real one (a new booking's, say)."""
    if isinstance(body, dict) and "professional_id" in body:
        body["professional_id"] = professional_id


LONGEST_SEARCH = timedelta(days=62)  # of free slots, or of professionals with free time
POINT = ("lat", "lng", "radius_km")
SOMEWHERE = {"lat": 52.5, "lng": 13.4, "radius_km": 25.0}


def follow_the_stated_rules(case: schemathesis.Case) -> None:
    """Make a valid request also keep the rules its operation states in words.

    They are the ones between fields, which JSON Schema cannot say about query parameters or
    say readably about bodies; each is in the description of the field or schema it concerns.
    """
    query = case.query if isinstance(case.query, dict) else {}
    if any(name in query for name in POINT):  # lat, lng and radius_km together
        query.update({name: SOMEWHERE[name] for name in POINT if name not in query})
    for start, end in (("available_from", "available_to"), ("from", "to")):
        in_order(query, start, end, required=case.path.endswith("/slots"))
    if "available_from" in query:  # offset + limit at most MAX_FREE_RESULTS
        query["limit"] = min(int(query.get("limit", 20)), MAX_FREE_RESULTS)
        query["offset"] = min(int(query.get("offset", 0)), MAX_FREE_RESULTS - query["limit"])
    body = case.body if isinstance(case.body, dict) else {}
    for name in ("windows", "availability"):
        windows = body.get(name)
        if isinstance(windows, list):
            body[name] = without_overlaps(windows)
    for days_off in body.get("days_off", []):
        if isinstance(days_off, dict):  # ends on or after its first day
            first, last = sorted((days_off["first_day"], days_off["last_day"]))
            days_off["first_day"], days_off["last_day"] = first, last
    if isinstance(body.get("policy"), dict) and not policy_fits(body["policy"]):
        body["policy"] = {}  # all defaults
    if body.get("role") == "client":  # clients need a name
        body.setdefault("name", "Cleo Client")


def without_overlaps(windows: list[Any]) -> list[Any]:
    """Each window ends after it starts (or at midnight), and the windows of one day may touch
    but not overlap: a later one that overlaps an earlier kept one is left out."""
    kept: list[dict[str, Any]] = []
    for window in windows:
        if not isinstance(window, dict):
            kept.append(window)
            continue
        first, last = sorted((window["start"], window["end"]), key=time.fromisoformat)
        window["start"], window["end"] = first, "00:00" if first == last else last
        span = _minutes(window["start"]), _minutes(window["end"]) or 24 * 60
        if not any(
            other["day_of_week"] == window["day_of_week"]
            and span[0] < (_minutes(other["end"]) or 24 * 60)
            and _minutes(other["start"]) < span[1]
            for other in kept
            if isinstance(other, dict)
        ):
            kept.append(window)
    return kept


def _minutes(clock: str) -> int:
    parsed = time.fromisoformat(clock)
    return parsed.hour * 60 + parsed.minute


def in_order(query: dict[str, Any], start: str, end: str, *, required: bool) -> None:
    """Both or neither, the end after the start, at most LONGEST_SEARCH apart."""
    if start not in query and end not in query:
        return
    if start in query and end in query:
        try:
            first, last = sorted(datetime.fromisoformat(query[name]) for name in (start, end))
            if first < last <= first + LONGEST_SEARCH:
                query[start], query[end] = first.isoformat(), last.isoformat()
                return
        except OverflowError:  # an end of the calendar (the fixed requests): left as it is
            return
    if required:
        query[start], query[end] = MONDAY.isoformat(), at(MONDAY, 23).isoformat()
    else:
        query.pop(start, None)
        query.pop(end, None)


def policy_fits(policy: dict[str, Any]) -> bool:
    """The rules between a policy's fields, as PolicySchema's description states them."""
    grid = policy.get("granularity_minutes", 30)
    shortest = policy.get("minimum_duration_minutes", 60)
    longest = policy.get("maximum_duration_minutes", 480)
    notice = policy.get("minimum_notice_minutes", 120)
    advance = policy.get("maximum_advance_minutes", 129_600)
    return (
        shortest % grid == 0 and longest % grid == 0 and grid <= shortest <= longest
        and notice < advance <= 1_051_200
    )


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
        failures += attempt(operation, run_operation, operation, world, modes)
        failures += attempt(operation, run_fixed, operation, world)
    for operation in operations:
        failures += attempt(operation, run_coverage, operation, world)
    draw_times_from(any_instants, any_days)  # the ends of the calendar: answered, never a 5xx
    for operation in operations:
        if (operation.method.upper(), operation.path) in TAKES_TIMES:
            failures += attempt(
                operation, run_operation, operation, world, (POSITIVE,), AS_DOCUMENTED
            )

    assert len(operations) >= 20
    assert not failures, "\n\n".join(failures)


def attempt(operation: schemathesis.APIOperation, run: Any, *args: Any) -> list[str]:
    """Run one sweep of one operation; what failed, with the curl lines that reproduce it."""
    try:
        run(*args)
    # Collect all, so one run shows every broken operation (a FailureGroup is a
    # BaseExceptionGroup, which `except Exception` would let through).
    except (Exception, FailureGroup) as failure:
        return [f"{operation.method.upper()} {operation.path}: {describe(failure)}"]
    return []
