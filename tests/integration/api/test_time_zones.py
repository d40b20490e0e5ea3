"""Each party's own time zone over HTTP: a client gives theirs at registration or changes it
with PATCH /clients/me (an unknown one is refused with the reason), the confirmation emails
give each party the time on their own clock with the other's beside it, and the slots answer
carries local wall-clock labels for the zone asked for."""

from __future__ import annotations

import email
from dataclasses import replace
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest

from adapters.jobs.inline_runner import InlineJobRunner
from adapters.payments.simulator import SimulatedPayments
from entrypoints.bootstrap import Container, make_job_context
from tests.factories import MONDAY, at
from tests.integration.api.support import PROFILE, Account, Api, error_code

AROUND_THE_CLOCK = [{"day_of_week": d, "start": "00:00", "end": "00:00"} for d in range(7)]
UNKNOWN_ZONE = "Mars/Olympus_Mons"


def me(api: Api, who: Account) -> Any:
    response = api.client.get("/clients/me", headers=who.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def patch_zone(api: Api, who: Account, zone: str | None) -> Any:
    return api.client.patch("/clients/me", json={"time_zone": zone}, headers=who.headers)


def test_a_client_registers_with_a_time_zone_and_reads_it_back(api: Api) -> None:
    client = api.register(time_zone="Pacific/Honolulu")

    assert me(api, client)["time_zone"] == "Pacific/Honolulu"


def test_a_client_who_gives_no_zone_has_none(api: Api) -> None:
    client = api.register()

    assert me(api, client)["time_zone"] is None


def test_registering_with_an_unknown_zone_is_refused_with_the_reason(api: Api) -> None:
    body = {"email": "mars@example.com", "password": "correct horse battery", "role": "client",
            "name": "Marvin", "time_zone": UNKNOWN_ZONE}  # fmt: skip

    response = api.client.post("/auth/register", json=body)

    assert response.status_code == 422
    assert error_code(response) == "validation_failed"
    assert "time_zone" in response.get_json()["error"]["details"]["json"]
    assert api.client.post(
        "/auth/login", json={"email": body["email"], "password": body["password"]}
    ).status_code == 401  # nothing was written


def test_a_professional_sets_their_zone_in_the_profile_not_at_registration(api: Api) -> None:
    account = api.register("professional", time_zone="Pacific/Honolulu")  # ignored

    profile = api.client.post(
        "/professionals", json={**PROFILE, "time_zone": "Europe/Berlin"}, headers=account.headers
    )

    assert profile.status_code == 201 and profile.get_json()["time_zone"] == "Europe/Berlin"


def test_a_client_changes_their_zone_and_can_remove_it(api: Api) -> None:
    client = api.register(time_zone="Pacific/Honolulu")

    changed = patch_zone(api, client, "Australia/Sydney")
    assert changed.status_code == 200 and changed.get_json()["time_zone"] == "Australia/Sydney"
    assert me(api, client)["time_zone"] == "Australia/Sydney"

    removed = patch_zone(api, client, None)
    assert removed.status_code == 200 and removed.get_json()["time_zone"] is None
    assert me(api, client)["time_zone"] is None


def test_changing_to_an_unknown_zone_is_refused_and_changes_nothing(api: Api) -> None:
    client = api.register(time_zone="Pacific/Honolulu")

    response = patch_zone(api, client, UNKNOWN_ZONE)

    assert response.status_code == 422
    details = response.get_json()["error"]["details"]["json"]["time_zone"]
    assert details == ["not an IANA time zone name (like Europe/Berlin)"]
    assert me(api, client)["time_zone"] == "Pacific/Honolulu"


# -- the confirmation emails ----------------------------------------------------------------


@pytest.fixture
def mail(tmp_path: Path) -> Path:
    return tmp_path / "mail"


@pytest.fixture
def jobs(container: Container, simulator: SimulatedPayments, mail: Path) -> InlineJobRunner:
    """The embedded default's job runner, its mail adapter writing .eml files into ``mail``."""
    mailing = replace(container, settings=replace(container.settings, mail_dir=mail))
    assert mailing.payments is simulator
    return InlineJobRunner(make_job_context(mailing))


def mailed(folder: Path, address: str, subject: str) -> EmailMessage:
    found = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=default)
        if message["To"] == address and str(message["Subject"]).startswith(subject):
            found.append(message)
    [message] = found
    return message  # type: ignore[return-value]


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def book_and_pay(api: Api, who: Account, professional_id: str) -> None:
    booking = api.book(who, professional_id, at(MONDAY, 16)).get_json()
    intent, secret = booking["payment"]["payment_intent_id"], booking["payment"]["client_secret"]
    paid = api.client.post(
        f"/simulator/payment_intents/{intent}/pay",
        json={"client_secret": secret, "payment_method": "pm_card_visa"},
    )
    assert paid.status_code == 200, paid.get_json()


# Monday 1 June 2026, 16:00-17:00 UTC, for a client in Honolulu and a professional in Sydney.
HONOLULU = "Monday 1 June 2026, 06:00\u201307:00 (Pacific/Honolulu, UTC\u221210)"
SYDNEY = "Tuesday 2 June 2026, 02:00\u201303:00 (Australia/Sydney, UTC+10)"


def test_the_confirmation_emails_give_each_party_their_own_zone_and_the_others(
    api: Api, jobs: InlineJobRunner, mail: Path
) -> None:
    pro_account, pro = api.professional(time_zone="Australia/Sydney", availability=AROUND_THE_CLOCK)
    client = api.register(time_zone="Pacific/Honolulu")
    book_and_pay(api, client, pro["id"])

    jobs.run_pending()

    to_client = mailed(mail, client.email, "Booking confirmed")
    to_professional = mailed(mail, pro_account.email, "New booking")
    assert str(to_client["Subject"]).endswith(HONOLULU)
    assert (
        f"{HONOLULU} \u2014 Tuesday 2 June 2026, 02:00\u201303:00 for the professional in"
        " Australia/Sydney (UTC+10)"
    ) in text_of(to_client)
    assert str(to_professional["Subject"]).endswith(SYDNEY)
    assert (
        f"{SYDNEY} \u2014 Monday 1 June 2026, 06:00\u201307:00 for the client in"
        " Pacific/Honolulu (UTC\u221210)"
    ) in text_of(to_professional)


def test_a_client_without_a_zone_is_mailed_the_professionals_zone(
    api: Api, jobs: InlineJobRunner, mail: Path
) -> None:
    pro_account, pro = api.professional(time_zone="Australia/Sydney", availability=AROUND_THE_CLOCK)
    client = api.register()
    book_and_pay(api, client, pro["id"])

    jobs.run_pending()

    for address, subject in ((client.email, "Booking confirmed"),
                             (pro_account.email, "New booking")):  # fmt: skip
        message = mailed(mail, address, subject)
        assert str(message["Subject"]).endswith(SYDNEY)
        assert "\u2014" not in text_of(message)  # one zone only


# -- slots with local labels ----------------------------------------------------------------


def slots(api: Api, professional_id: str, **query: str) -> Any:
    args = {"from": at(MONDAY, 9).isoformat(), "to": at(MONDAY, 11).isoformat(),
            "duration_minutes": "60", **query}  # fmt: skip
    return api.client.get(f"/professionals/{professional_id}/slots", query_string=args)


def test_slots_asked_for_in_a_zone_carry_its_local_times_beside_the_utc_instants(
    api: Api,
) -> None:
    _, pro = api.professional()

    response = slots(api, pro["id"], time_zone="America/New_York")

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["time_zone"] == "America/New_York"
    assert body["slots"][0] == {
        "start_time": "2026-06-01T09:00:00+00:00",
        "end_time": "2026-06-01T10:00:00+00:00",
        "local_start": "2026-06-01T05:00:00-04:00",
        "local_end": "2026-06-01T06:00:00-04:00",
    }


def test_slots_without_a_zone_have_no_local_labels(api: Api) -> None:
    _, pro = api.professional()

    body = slots(api, pro["id"]).get_json()

    assert "time_zone" not in body
    assert set(body["slots"][0]) == {"start_time", "end_time"}


def test_a_slot_over_a_dst_change_has_each_end_at_its_own_offset(api: Api) -> None:
    far_ahead = {"minimum_notice_minutes": 0, "maximum_advance_minutes": 365 * 24 * 60}
    _, pro = api.professional(availability=AROUND_THE_CLOCK, policy=far_ahead)
    start = "2026-10-25T00:30:00+00:00"  # 02:30 summer time in Berlin, the night clocks go back

    response = api.client.get(
        f"/professionals/{pro['id']}/slots",
        query_string={"from": start, "to": "2026-10-25T01:30:00+00:00",
                      "duration_minutes": "60", "time_zone": "Europe/Berlin"},
    )  # fmt: skip

    [only] = response.get_json()["slots"]
    assert (only["local_start"], only["local_end"]) == (
        "2026-10-25T02:30:00+02:00",
        "2026-10-25T02:30:00+01:00",
    )


def test_the_next_page_of_slots_keeps_the_zone(api: Api) -> None:
    _, pro = api.professional(availability=AROUND_THE_CLOCK)
    query = {"from": MONDAY.isoformat(), "to": at(MONDAY.replace(day=30), 0).isoformat(),
             "duration_minutes": "60", "time_zone": "Asia/Kolkata"}  # fmt: skip

    first = api.client.get(f"/professionals/{pro['id']}/slots", query_string=query).get_json()
    following = api.client.get(first["next"]).get_json()

    assert "time_zone=Asia%2FKolkata" in first["next"]
    assert following["slots"][0]["local_start"].endswith("+05:30")


def test_slots_in_an_unknown_zone_are_refused_with_the_reason(api: Api) -> None:
    _, pro = api.professional()

    response = slots(api, pro["id"], time_zone=UNKNOWN_ZONE)

    assert response.status_code == 422
    assert error_code(response) == "validation_failed"
    assert "time_zone" in response.get_json()["error"]["details"]["query"]
