"""The OpenAPI document states the rules the API enforces, and the API enforces what it states.

A client generated from ``/openapi.json`` should send only what the API accepts: times as
``HH:MM``, phone numbers in the one format the domain takes, single-line names, PATCH bodies
with something in them, ``If-Match`` as an ETag. Rules between fields are said in words in
the operation's description. (Schemathesis checks the same both ways over generated requests:
test_schemathesis.py.)
"""

from __future__ import annotations

import re
from typing import Any

import jsonschema_rs
import pytest
from flask.testing import FlaskClient

from tests.integration.api.support import PROFILE, Api, Json, error_code

Document = dict[str, Any]


@pytest.fixture
def document(client: FlaskClient) -> Document:
    served: Document = client.get("/openapi.json").get_json()
    return served


def component(document: Document, name: str) -> Json:
    found: Json = document["components"]["schemas"][name]
    return found


def field_errors(response: Any) -> Json:
    assert response.status_code == 422, response.get_json()
    assert error_code(response) == "validation_failed"
    errors: Json = response.get_json()["error"]["details"]["json"]
    return errors


# -- PATCH with nothing to change --------------------------------------------------------------


def test_an_empty_patch_of_your_client_record_is_refused_with_a_reason(api: Api) -> None:
    client = api.register(name="Cleo Client")

    response = api.client.patch("/clients/me", json={}, headers=client.headers)

    assert field_errors(response) == {"_schema": ["give at least one field to change"]}
    assert api.client.get("/clients/me", headers=client.headers).get_json()["name"] == (
        "Cleo Client"
    )


def test_an_empty_patch_of_a_profile_is_refused_with_a_reason(api: Api) -> None:
    owner, pro = api.professional()

    response = api.client.patch(f"/professionals/{pro['id']}", json={}, headers=owner.headers)

    assert field_errors(response) == {"_schema": ["give at least one field to change"]}


def test_the_document_says_a_patch_needs_at_least_one_field(document: Document) -> None:
    for name in ("ClientChanges", "ProfessionalChanges"):
        assert component(document, name)["minProperties"] == 1


# -- single-line fields ------------------------------------------------------------------------

BREAKS = ["Ada\nBcc: victim@example.com", "Ada\r\nX: y", "Ada\u2028Lovelace", "Ada\x85", "Ada\t"]


@pytest.mark.parametrize("name", BREAKS)
def test_a_client_cannot_register_with_a_line_break_in_their_name(api: Api, name: str) -> None:
    body = {"email": "cleo@example.com", "password": "correct horse battery",
            "role": "client", "name": name}

    response = api.client.post("/auth/register", json=body)

    assert field_errors(response) == {
        "name": ["must be one line: no line breaks or other control characters"]}


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "Cleo\nClient"), ("phone", "+49 30 123\n4567"), ("email", "cleo@example.com\n")],
)
def test_a_client_cannot_change_a_field_to_hold_a_line_break(
    api: Api, field: str, value: str
) -> None:
    client = api.register()

    response = api.client.patch("/clients/me", json={field: value}, headers=client.headers)

    assert list(field_errors(response)) == [field]


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "Ada\nPlumber"), ("category", "plumbing\n"), ("email", "ada@example.com\r")],
)
def test_a_profile_refuses_line_breaks_in_its_single_line_fields(
    api: Api, field: str, value: str
) -> None:
    owner, pro = api.professional()

    response = api.client.patch(
        f"/professionals/{pro['id']}", json={field: value}, headers=owner.headers
    )

    assert list(field_errors(response)) == [field]


def test_a_reason_for_time_off_is_one_line(api: Api) -> None:
    owner, pro = api.professional()
    days_off = [{"first_day": "2026-06-08", "last_day": "2026-06-09", "reason": "away\nBcc: x"}]

    response = api.client.put(
        f"/professionals/{pro['id']}/time-off", json={"days_off": days_off},
        headers=owner.headers,
    )

    assert "reason" in str(field_errors(response)["days_off"])


def test_a_name_of_only_spaces_is_refused_at_the_edge_and_the_document_says_so(
    api: Api, document: Document
) -> None:
    client = api.register()

    response = api.client.patch("/clients/me", json={"name": "   "}, headers=client.headers)

    assert field_errors(response) == {"name": ["must not be blank"]}
    pattern = component(document, "ClientChanges")["properties"]["name"]["pattern"]
    assert not re.search(pattern, "   ") and re.search(pattern, " Ada ")


def test_every_single_line_field_in_the_document_refuses_control_characters(
    document: Document,
) -> None:
    single_line = [
        ("Register", "name"), ("Register", "phone"), ("Register", "email"),
        ("ClientChanges", "name"), ("ClientChanges", "phone"), ("ClientChanges", "email"),
        ("NewProfessional", "name"), ("NewProfessional", "category"),
        ("ProfessionalChanges", "name"), ("TimeOff", "reason"),
    ]
    for schema, field in single_line:
        pattern = component(document, schema)["properties"][field]["pattern"]
        validator = jsonschema_rs.validator_for({"type": "string", "pattern": pattern})
        assert not validator.is_valid("line\nbreak"), (schema, field)
        assert not validator.is_valid("nul\x00"), (schema, field)
        assert not validator.is_valid("a\x00b@example.com"), (schema, field)


# -- formats the document states exactly -------------------------------------------------------

PHONES = {
    "": True,
    "+49 30 1234567": True,
    "(030) 123-4567": True,
    "0" * 20: True,
    "+" + "0" * 20: True,
    "0" * 21: False,
    "0" * 31: False,  # under the old maxLength of 32, yet never valid
    "12345": False,
    "+49 30 12345x": False,
}


@pytest.mark.parametrize(("phone", "valid"), PHONES.items())
def test_the_documented_phone_pattern_is_exactly_what_the_api_accepts(
    api: Api, document: Document, phone: str, valid: bool
) -> None:
    client = api.register()
    field = component(document, "ClientChanges")["properties"]["phone"]
    validator = jsonschema_rs.validator_for({"type": "string", **field})

    response = api.client.patch("/clients/me", json={"phone": phone}, headers=client.headers)

    assert validator.is_valid(phone) is valid
    assert response.status_code == (200 if valid else 422), response.get_json()


@pytest.mark.parametrize(
    ("start", "valid"),
    [("09:00", True), ("09:00:00", True), ("23:59", True), ("", False), ("9:00", False),
     ("24:00", False), ("09:00+01:00", False), ("09", False), ("T09:00", False)],
)
def test_availability_times_are_hh_mm_in_the_document_and_at_the_edge(
    api: Api, document: Document, start: str, valid: bool
) -> None:
    owner, pro = api.professional()
    field = component(document, "Window")["properties"]["start"]
    validator = jsonschema_rs.validator_for(field)
    windows = [{"day_of_week": 0, "start": start, "end": "00:00"}]

    response = api.client.put(
        f"/professionals/{pro['id']}/availability", json={"windows": windows},
        headers=owner.headers,
    )

    assert validator.is_valid(start) is valid
    assert response.status_code == (200 if valid else 422), response.get_json()


def test_if_match_is_documented_as_an_etag_or_a_star(document: Document) -> None:
    parameters = document["paths"]["/professionals/{professional_id}"]["patch"]["parameters"]
    schema = next(p for p in parameters if p["name"] == "If-Match")["schema"]
    validator = jsonschema_rs.validator_for(schema)

    assert [validator.is_valid(tag) for tag in ('"3"', "*", "3", 'W/"3"', '"3", "4"')] == [
        True, True, False, False, False]


def test_time_zones_are_listed_by_name(document: Document) -> None:
    zones = component(document, "NewProfessional")["properties"]["time_zone"]["enum"]

    assert "Europe/Berlin" in zones and "UTC" in zones and "Mars/Olympus" not in zones


# -- rules between fields, said in words -------------------------------------------------------


def test_the_rules_between_fields_are_in_the_operations_descriptions(
    document: Document,
) -> None:
    paths = document["paths"]
    search = paths["/professionals"]["get"]["description"]
    slots = paths["/professionals/{professional_id}/slots"]["get"]["description"]
    booking = paths["/bookings"]["post"]["description"]
    profile = paths["/professionals"]["post"]["description"]

    assert "``lat``, ``lng`` and\n``radius_km`` come together" in search
    assert "``to`` is after ``from``" in slots
    assert "multiple of\nthe professional's granularity" in slots
    assert "a multiple of their granularity" in booking
    assert "multiples of the granularity" in profile


# Answers only, stamped by the server: no client ever sends these instants.
WEBHOOK_ANSWERS = ("Endpoint", "EndpointWithSecret", "Attempt", "Delivery")


def test_every_instant_states_the_years_the_api_accepts(document: Document) -> None:
    instants = [
        (name, field)
        for name, schema in document["components"]["schemas"].items()
        for field, definition in schema.get("properties", {}).items()
        if definition.get("format") == "date-time" and not name.endswith(("Page", "Slot"))
        and name not in ("Booking", "FreeSlots", *WEBHOOK_ANSWERS)
    ]
    query = [
        parameter
        for path in document["paths"].values()
        for operation in path.values()
        if isinstance(operation, dict)  # not the path's own list of parameters
        for parameter in operation.get("parameters", [])
        if parameter.get("schema", {}).get("format") == "date-time"
    ]

    assert instants and query
    for name, field in instants:
        text = component(document, name)["properties"][field]["description"]
        assert "1970 to 2200" in text, (name, field)
    for parameter in query:
        assert "1970 to 2200" in parameter["description"], parameter["name"]


# -- 405 ---------------------------------------------------------------------------------------


def test_a_method_the_resource_lacks_answers_405_with_allow(client: FlaskClient) -> None:
    response = client.open("/healthz", method="TRACE")

    assert response.status_code == 405
    assert {"GET", "HEAD", "OPTIONS"} <= set(response.headers["Allow"].split(", "))
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_a_new_profile_with_a_phone_like_category_or_blank_name_is_refused(api: Api) -> None:
    owner = api.register("professional")

    response = api.client.post(
        "/professionals", json={**PROFILE, "name": " ", "category": "Plumbing"},
        headers=owner.headers,
    )

    assert set(field_errors(response)) == {"name", "category"}
