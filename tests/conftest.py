"""Marks every test by the real services it uses, and reports how many of each ran.

A test that takes a PostgreSQL, Redis or localstripe fixture is marked ``postgres``, ``redis``
or ``stripe`` (as tests that reach the services another way are marked by hand), so
``-m postgres`` selects them all, and the summary line shows how many passed against each
service: CI must show those counts above zero.
"""

from __future__ import annotations

import os

import pytest

# Before anything imports rq: RQ reads its key prefix once per process, and entrypoints sets
# it from HOURBOOK_REDIS_PREFIX (tests/integration/api/test_redis_keys.py relies on that).
import entrypoints  # noqa: F401
from entrypoints.config import TEST_SUITE_MARKER

# HOURBOOK_ENV=test (cheap password hashing) is refused outside the suite; the suite, and every
# process it starts with a copy of this environment, says that it is the suite.
os.environ[TEST_SUITE_MARKER] = "1"

SERVICE_FIXTURES = {
    "postgres": {"postgres_url", "postgres_admin"},
    "redis": {"redis_client", "redis_prefix"},
    "stripe": {"localstripe"},
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for service, fixtures in SERVICE_FIXTURES.items():
            if used & fixtures and item.get_closest_marker(service) is None:
                item.add_marker(service)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    passed = terminalreporter.stats.get("passed", [])
    counts = {
        service: sum(1 for report in passed if service in report.keywords)
        for service in SERVICE_FIXTURES
    }
    terminalreporter.write_line(
        "tests that ran against real services: "
        + ", ".join(f"{service} {count} passed" for service, count in counts.items())
    )
