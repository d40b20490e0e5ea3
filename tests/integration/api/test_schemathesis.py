"""Schemathesis against the served /openapi.json: for every operation, generated requests (valid
and invalid) never cause a 5xx, and every answer matches the documented status codes, content
types, headers and schemas. Valid tokens are supplied, so protected operations are exercised
past authentication."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from adapters.sql import migrate
from entrypoints.api.app import create_app
from entrypoints.bootstrap import Container, build
from entrypoints.config import Environment, Settings
from tests.factories import FixedClock
from tests.integration.api.conftest import GENEROUS
from tests.integration.api.support import Api, bearer

EXAMPLES = 20  # per operation and mode: the whole run stays well under a minute
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@dataclass
class Tokens:
    client: dict[str, str]
    professional: dict[str, str]
    refresh: dict[str, str]
    throwaway: dict[str, str]  # for /auth/logout, which revokes it

    def for_operation(self, method: str, path: str) -> dict[str, str]:
        """The token the operation is for, so it gets past 401/403 into its real work."""
        if path == "/auth/logout":
            return self.throwaway
        if path == "/auth/refresh":
            return self.refresh
        professional_write = path.startswith("/professionals") and method != "GET"
        if professional_write or path.endswith("/time-off"):
            return self.professional
        return self.client


@pytest.fixture
def fuzzed_app(sqlite_url: str) -> Iterator[tuple[Flask, Tokens]]:
    settings_ = Settings(
        env=Environment.TEST, database_url=sqlite_url, secret_key="fuzz-secret-" * 4,
        rate_limits=GENEROUS,
    )
    container: Container = build(settings_, clock=FixedClock())
    migrate.upgrade(container.engine)
    app = create_app(settings_, container)
    api = Api(app.test_client())
    professional, _ = api.professional()
    client = api.register()
    tokens = Tokens(
        client=client.headers,
        professional=professional.headers,
        refresh=bearer(client.refresh_token),
        throwaway=api.register().headers,
    )
    yield app, tokens
    container.close()


def run_operation(operation: schemathesis.APIOperation, tokens: Tokens) -> None:
    headers = tokens.for_operation(operation.method.upper(), operation.path)
    for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):

        @given(case=operation.as_strategy(mode))
        @settings(
            max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            exercise()
        except Unsatisfiable:
            if mode is schemathesis.GenerationMode.POSITIVE:
                raise  # only an operation without inputs has no invalid request to make


def test_every_operation_answers_as_documented_and_never_5xx(
    fuzzed_app: tuple[Flask, Tokens],
) -> None:
    app, tokens = fuzzed_app
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]

    for operation in operations:
        try:
            run_operation(operation, tokens)
        except Exception as failure:  # collect all, so one run shows every broken operation
            failures.append(f"{operation.method.upper()} {operation.path}: {failure}")

    assert len(operations) >= 20
    assert not failures, "\n\n".join(failures)
