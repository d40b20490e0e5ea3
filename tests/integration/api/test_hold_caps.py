"""Unpaid holds per client are capped through the API (409 too_many_holds, saying the cap),
and the caps and the search rate limit are settings, validated when read."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from uuid import uuid4

import pytest

from booking.holds import HoldLimits
from entrypoints.api.app import create_app
from entrypoints.bootstrap import Container
from entrypoints.config import ConfigError, Settings
from tests.factories import MONDAY, at
from tests.integration.api.support import Api, booking_body, error_code


@pytest.fixture
def capped(container: Container) -> Api:
    """The API with the default hold caps (the other API tests run without them)."""
    settings = replace(container.settings, hold_limits=HoldLimits())
    return Api(create_app(settings, replace(container, settings=settings)).test_client())


def test_a_second_unpaid_hold_with_one_professional_is_refused_with_409(capped: Api) -> None:
    api = capped
    _, pro = api.professional()
    client = api.register()
    api.book(client, pro["id"], at(MONDAY, 10))

    second = api.client.post(
        "/bookings",
        json=booking_body(pro["id"], at(MONDAY, 13)),
        headers={**client.headers, "Idempotency-Key": str(uuid4())},
    )

    assert second.status_code == 409
    assert error_code(second) == "too_many_holds"
    assert "the most allowed is 1" in second.get_json()["error"]["message"]


def test_a_fourth_unpaid_hold_is_refused_with_409_and_books_nothing(capped: Api) -> None:
    api = capped
    professionals = [api.professional()[1]["id"] for _ in range(4)]
    client = api.register()
    for pro in professionals[:3]:
        api.book(client, pro, at(MONDAY, 10))

    fourth = api.book(client, professionals[3], at(MONDAY, 10), expect=409)
    listed = api.client.get("/bookings", headers=client.headers).get_json()

    assert "the most allowed is 3" in fourth.get_json()["error"]["message"]
    assert len(listed["items"]) == 3


def test_the_hold_caps_and_the_search_limit_are_read_from_the_environment(
    tmp_path: Path,
) -> None:
    settings = Settings.from_env(
        {
            "HOURBOOK_INSTANCE_DIR": str(tmp_path),
            "HOURBOOK_MAX_HOLDS_PER_CLIENT": "5",
            "HOURBOOK_MAX_HOLDS_PER_CLIENT_AND_PROFESSIONAL": "2",
            "HOURBOOK_RATE_LIMIT_SEARCH": "10/minute",
        }
    )
    defaults = Settings.from_env({"HOURBOOK_INSTANCE_DIR": str(tmp_path)})

    assert (settings.hold_limits.per_client, settings.hold_limits.per_client_and_professional) == (
        5,
        2,
    )
    assert settings.rate_limits.search == "10/minute"
    assert (defaults.hold_limits.per_client, defaults.hold_limits.per_client_and_professional) == (
        3,
        1,
    )
    assert defaults.rate_limits.search == "60/minute"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"HOURBOOK_MAX_HOLDS_PER_CLIENT": "0"}, "between 1 and 1000000"),
        ({"HOURBOOK_MAX_HOLDS_PER_CLIENT": "many"}, "must be an integer"),
        (
            {
                "HOURBOOK_MAX_HOLDS_PER_CLIENT": "2",
                "HOURBOOK_MAX_HOLDS_PER_CLIENT_AND_PROFESSIONAL": "3",
            },
            "must not be above HOURBOOK_MAX_HOLDS_PER_CLIENT",
        ),
        ({"HOURBOOK_RATE_LIMIT_SEARCH": "lots"}, "HOURBOOK_RATE_LIMIT_SEARCH must be a rate"),
    ],
)
def test_bad_caps_refuse_to_start_naming_the_variable(
    tmp_path: Path, environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({"HOURBOOK_INSTANCE_DIR": str(tmp_path), **environ})
