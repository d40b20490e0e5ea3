"""A client books and pays in a real headless Chromium, on PostgreSQL, end to end."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from adapters.sql.audit import AuditQuery
from booking.audit import ActorKind
from booking.model import BookingStatus, Location
from tests.integration.web.conftest import (
    WAIT_SECONDS,
    Browser,
    Site,
    new_email,
    register_account,
)

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def search_and_open(browser: Browser, site: Site, name: str) -> None:
    browser.open(site.url + "/")
    Select(browser.driver.find_element(By.ID, "f-category")).select_by_value("massage")
    Select(browser.driver.find_element(By.ID, "f-place")).select_by_value("Berlin")
    browser.click("#search button[type=submit]")
    browser.click_link(name)


def first_slot_next_week(browser: Browser) -> str:
    """Go to next week on a professional's page and pick its first slot; its link."""
    browser.click("a[rel=next]")
    link = browser.driver.find_element(By.CSS_SELECTOR, "ul.slots a")
    href = str(link.get_attribute("href"))
    browser.follow(link)
    return href


def pay_with(browser: Browser, card: str) -> str:
    """On the payment page: pay with ``card``; the booking's id (from its page's address)."""
    browser.fill("f-card_number", card)
    browser.fill("f-expiry", "12/34")
    browser.fill("f-cvc", "123")
    browser.click("#pay")
    WebDriverWait(browser.driver, WAIT_SECONDS).until(lambda d: "/pay" not in d.current_url)
    return browser.path.split("/")[2].split("?")[0]


def test_a_client_searches_picks_a_slot_in_their_zone_registers_pays_and_sees_it_confirmed(
    site: Site, browser: Browser
) -> None:
    pro = site.add_pro(name="Hanna Massage")
    browser.zone("America/New_York")
    email = new_email()

    search_and_open(browser, site, "Hanna Massage")
    assert "your time zone, America/New_York" in browser.text("#zone-note")
    assert "Europe/Berlin" in browser.text("#zone-note")  # the professional's beside it
    browser.click("a[rel=next]")
    slot = browser.driver.find_element(By.CSS_SELECTOR, "ul.slots a")
    shown = slot.text  # "00:00 (06:00)": New York time, Berlin time in brackets
    label = str(slot.get_attribute("aria-label"))  # "Book Monday 7 December, 00:00 to 01:00 …"
    browser.follow(slot)
    browser.click("main a.button")  # Register, keeping the chosen slot
    register_account(browser, email)
    browser.click("#hold")
    booking_id = pay_with(browser, "4242 4242 4242 4242")

    status = browser.wait_for_text("#status", "Confirmed")
    booking = site.bookings_of(site.client_id(email))[0]
    assert booking.id.hex == booking_id.replace("-", "")
    assert booking.professional_id == pro.id and booking.status is BookingStatus.CONFIRMED
    start = booking.start
    assert shown.startswith(start.astimezone(NEW_YORK).strftime("%H:%M"))
    assert f"({start.astimezone(BERLIN):%H:%M})" in shown
    local = start.astimezone(NEW_YORK)
    assert label.startswith(f"Book {local:%A} {local.day} {local:%B}, {local:%H:%M} to ")
    assert "Confirmed" in status
    WebDriverWait(browser.driver, WAIT_SECONDS).until(
        lambda _: len(site.mails_about(str(booking.id))) >= 2  # to the client and the pro
    )


def test_a_declined_card_frees_the_slot_and_says_so(site: Site, browser: Browser) -> None:
    pro = site.add_pro(name="Dora Decline")
    browser.open(f"{site.url}/register")
    email = new_email()
    register_account(browser, email)
    browser.open(f"{site.url}/pros/{pro.id}")
    slot_href = first_slot_next_week(browser)
    browser.click("#hold")

    pay_with(browser, "4000 0000 0000 0002")

    assert "declined" in browser.wait_for_text("#status", "Payment failed")
    assert "released" in browser.text("#status")
    [booking] = site.bookings_of(site.client_id(email))
    assert booking.status is BookingStatus.CANCELLED
    browser.driver.back()  # to the payment page: it no longer takes a payment
    browser.open(slot_href.split("/book")[0] + f"/pros/{pro.id}")
    browser.click("a[rel=next]")
    links = browser.driver.find_elements(By.CSS_SELECTOR, "ul.slots a")
    again = [link.get_attribute("href") for link in links]
    assert slot_href in again  # the slot is free again


def test_submitting_the_hold_form_twice_books_once(site: Site, browser: Browser) -> None:
    pro = site.add_pro(name="Otto Once")
    browser.open(f"{site.url}/register")
    email = new_email()
    register_account(browser, email)
    browser.open(f"{site.url}/pros/{pro.id}")
    first_slot_next_week(browser)

    # The same form sent three times: twice in the background, then by the button.
    landed = browser.driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const form = document.getElementById("hold-form");
        const send = () => fetch(form.action, {method: "POST", body: new FormData(form)});
        Promise.all([send(), send()]).then((answers) => done(answers.map((a) => a.url)));
        """
    )
    browser.click("#hold")

    WebDriverWait(browser.driver, WAIT_SECONDS).until(lambda d: "/pay" in d.current_url)
    [booking] = site.bookings_of(site.client_id(email))
    pay_page = f"{site.url}/my/bookings/{booking.id}/pay"
    assert landed == [pay_page, pay_page]
    assert browser.driver.current_url == pay_page


def test_a_client_cancels_and_sees_the_refund_the_policy_gives(
    site: Site, browser: Browser
) -> None:
    pro = site.add_pro(name="Carla Cancel")
    browser.open(f"{site.url}/register")
    email = new_email()
    register_account(browser, email)
    browser.open(f"{site.url}/pros/{pro.id}")
    first_slot_next_week(browser)
    browser.click("#hold")
    pay_with(browser, "4242424242424242")
    browser.wait_for_text("#status", "Confirmed")
    [booking] = site.bookings_of(site.client_id(email))
    hours_ahead = (booking.start - datetime.now(booking.start.tzinfo)).total_seconds() / 3600
    expected = booking.total_price_cents if hours_ahead > 25 else booking.total_price_cents // 2
    amount = f"€{expected // 100:,}.{expected % 100:02d}"

    browser.click_link("My bookings")
    browser.click_link("Cancel")
    preview = browser.text("#refund-preview")
    browser.click("#confirm-cancel")

    assert f"you get {amount} back" in preview
    assert "Cancelled" in browser.text("#status")
    assert f"Refund: {amount}" in browser.text("#refund")
    [cancelled] = site.bookings_of(site.client_id(email))
    assert cancelled.status is BookingStatus.CANCELLED
    assert cancelled.refund_due_cents == expected
    # The pages write the audit entries the API writes: the client made and cancelled it.
    entries = site.container.audit_log.page(
        AuditQuery(entity="booking", entity_id=str(booking.id), limit=50)
    ).entries
    who = {(e.action, e.actor.kind, e.actor.account_id) for e in entries}
    client = site.client_id(email)
    assert {("created", ActorKind.ACCOUNT, client), ("cancelled", ActorKind.ACCOUNT, client),
            ("confirmed", ActorKind.STRIPE, None)} <= who  # fmt: skip


def test_a_client_can_search_around_the_location_their_browser_shares(
    site: Site, browser: Browser
) -> None:
    site.add_pro(name="Lea Lisbon", location=Location(38.7223, -9.1393), time_zone="Europe/Lisbon")
    site.add_pro(name="Hanna Berlin")
    browser.driver.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": site.url, "permissions": ["geolocation"],
    })  # fmt: skip
    browser.driver.execute_cdp_cmd("Emulation.setGeolocationOverride", {
        "latitude": 38.72, "longitude": -9.14, "accuracy": 10,
    })  # fmt: skip
    browser.open(site.url + "/")
    Select(browser.driver.find_element(By.ID, "f-category")).select_by_value("massage")

    Select(browser.driver.find_element(By.ID, "f-place")).select_by_value("here")
    WebDriverWait(browser.driver, WAIT_SECONDS).until(
        lambda d: d.find_element(By.NAME, "lat").get_attribute("value")
    )
    browser.click("#search button[type=submit]")

    results = browser.text("table.results")
    assert "Lea Lisbon" in results
    assert "Hanna Berlin" not in results
