"""A professional runs their week in a real headless Chromium, on PostgreSQL: signs up and fills
in the profile, sets hours (several windows a day, a day copied to others) and a day off, sees
the bookings clients make, cancels one with the refund shown first, and gets the calendar link."""

from __future__ import annotations

from datetime import time, timedelta

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from booking import catalogue
from booking.model import AvailabilityWindow, BookingStatus, CancellationReason, TravelMode
from tests.integration.web.conftest import WAIT_SECONDS, Browser, Site, new_email
from tests.integration.web.professional_steps import (
    BERLIN,
    client_books,
    next_monday,
    pro_with_account,
    see,
    set_field,
    sign_in,
    sign_out,
    tick,
)

SCRIPT_NAME = "<script>alert(1)</script>"


def choose(browser: Browser, element_id: str, value: str) -> None:
    Select(browser.driver.find_element(By.ID, element_id)).select_by_value(value)


def test_a_professional_signs_up_sets_hours_and_a_day_off_and_sees_a_new_booking(
    site: Site, browser: Browser
) -> None:
    browser.zone("Europe/Berlin")
    email = new_email()
    monday = next_monday()
    wednesday = monday + timedelta(days=2)

    # Sign up, then the profile.
    browser.open(f"{site.url}/")
    browser.click_link("Are you a professional? Offer your time here.")
    browser.fill("f-email", email)
    browser.fill("f-password", "pro password 1234")
    browser.click("main form button[type=submit]")
    see(browser, "h1", "Your profile")
    browser.fill("f-name", "Petra Pro")
    choose(browser, "f-category", "massage")
    browser.fill("f-rate", "60")
    choose(browser, "f-currency", "eur")
    choose(browser, "f-time_zone", "Europe/Berlin")
    choose(browser, "f-city", "Berlin")
    tick(browser, "#f-travel_mode-local")
    browser.click("#profile-form button[type=submit]")

    # The hours: two windows on Monday, then Monday copied to every other day.
    see(browser, "main .notice", "Now set the hours you work")
    assert browser.text("h1") == "Your weekly hours"
    set_field(browser, "f-d0-0-start", "08:00")
    set_field(browser, "f-d0-0-end", "12:00")
    browser.click("button[value='add-0']")  # a second row for Monday, nothing saved yet
    see(browser, "#day-0", "Window 2")
    assert browser.driver.find_element(By.ID, "f-d0-0-start").get_attribute("value") == "08:00"
    assert browser.driver.switch_to.active_element.get_attribute("id") == "f-d0-1-start"
    set_field(browser, "f-d0-1-start", "13:00")
    set_field(browser, "f-d0-1-end", "18:00")
    browser.click("button[value='save']")
    see(browser, "main .notice", "Your hours are saved.")
    choose(browser, "f-from_day", "0")
    for day in range(1, 7):
        tick(browser, f"#f-to_day-{day}")
    browser.click("#copy-form button[type=submit]")
    see(browser, "main .notice", "copied to Tuesday, Wednesday, Thursday, Friday, Sat")

    # A day off: next week's Wednesday.
    browser.click_link("Time off")
    set_field(browser, "f-first_day", wednesday.isoformat())
    browser.fill("f-reason", "Dentist")
    browser.click("#time-off-form button[type=submit]")
    assert "Dentist" in see(browser, "#time-off-list", "Dentist")

    user = site.container.users.by_email(email)
    assert user is not None
    pro = catalogue.get_professional(user.id, uow=site.container.reader())
    assert (pro.name, pro.category, pro.hourly_rate_cents, pro.currency) == (
        "Petra Pro", "massage", 6000, "eur",
    )  # fmt: skip
    assert pro.travel_mode is TravelMode.LOCAL and pro.time_zone == "Europe/Berlin"
    assert len(pro.availability) == 14
    assert [(w.start, w.end) for w in pro.availability if w.day_of_week == 4] == [
        (time(8), time(12)), (time(13), time(18)),
    ]  # fmt: skip
    assert [(p.first_day, p.last_day, p.reason) for p in pro.time_off] == [
        (wednesday, wednesday, "Dentist")
    ]

    # The public page offers Monday from 08:00 and nothing on the day off.
    browser.open(f"{site.url}/pros/{pro.id}?week={monday.isoformat()}&duration=60")
    days = browser.driver.find_elements(By.CSS_SELECTOR, "section.day")
    assert days[0].find_element(By.CSS_SELECTOR, "ul.slots a").text == "08:00"
    assert days[2].text.endswith("No free time")

    # A client books; the professional signs in and sees it.
    sign_out(browser)
    booking = client_books(site, browser, pro, name="Cleo Client")
    sign_in(site, browser, email, "pro password 1234")

    see(browser, "h1", "Your appointments")
    row = browser.text("#appointments tbody tr")
    assert "Cleo Client" in row and "confirmed" in row and "€60.00" in row
    assert f"{booking.start.astimezone(BERLIN):%H:%M}" in row


def test_the_hours_editor_copies_a_day_to_the_days_ticked(site: Site, browser: Browser) -> None:
    pro = pro_with_account(site, availability=(
        AvailabilityWindow(day_of_week=2, start=time(9), end=time(12)),
        AvailabilityWindow(day_of_week=2, start=time(14), end=time(0)),
        AvailabilityWindow(day_of_week=5, start=time(7), end=time(8)),
    ))  # fmt: skip
    sign_in(site, browser, pro.email)
    browser.click_link("Hours")

    choose(browser, "f-from_day", "2")
    tick(browser, "#f-to_day-0")
    tick(browser, "#f-to_day-5")
    browser.click("#copy-form button[type=submit]")
    notice = see(browser, "main .notice", "copied")

    saved = catalogue.get_professional(pro.id, uow=site.container.reader()).availability
    by_day = {day: [(w.start, w.end) for w in saved if w.day_of_week == day] for day in range(7)}
    assert by_day == {
        0: [(time(9), time(12)), (time(14), time(0))],
        1: [],
        2: [(time(9), time(12)), (time(14), time(0))],
        3: [],
        4: [],
        5: [(time(9), time(12)), (time(14), time(0))],  # Saturday's own window was replaced
        6: [],
    }
    assert browser.driver.find_element(By.ID, "f-d5-1-end").get_attribute("value") == "00:00"
    assert "The hours of Wednesday were copied to Monday, Saturday." in notice


def test_copying_a_day_to_no_other_day_says_so_beside_the_days(
    site: Site, browser: Browser
) -> None:
    pro = pro_with_account(site)
    sign_in(site, browser, pro.email)
    browser.open(f"{site.url}/pro/hours")

    choose(browser, "f-from_day", "3")
    tick(browser, "#f-to_day-3")  # only the day itself
    browser.click("#copy-form button[type=submit]")

    assert see(browser, "#f-to_day-error", "Tick") == (
        "Tick at least one other day to copy to."
    )
    assert catalogue.get_professional(pro.id, uow=site.container.reader()) == pro


def test_wrong_hours_are_not_saved_and_each_error_is_beside_its_window(
    site: Site, browser: Browser
) -> None:
    pro = pro_with_account(site)
    sign_in(site, browser, pro.email)
    browser.open(f"{site.url}/pro/hours")

    set_field(browser, "f-d1-0-end", "05:00")  # Tuesday 06:00-05:00: ends before it starts
    set_field(browser, "f-d3-1-start", "10:00")  # Thursday's new row overlaps 06:00-22:00
    set_field(browser, "f-d3-1-end", "11:00")
    set_field(browser, "f-d4-1-start", "23:00")  # Friday's new row has no end
    browser.click("button[value='save']")

    assert "not saved" in see(browser, "main .notice.error", "not saved")
    assert browser.text("#f-d1-0-error") == (
        "The end must be after the start (00:00 means midnight)."
    )
    assert browser.driver.find_element(By.ID, "f-d1-0-end").get_attribute("aria-invalid") == "true"
    assert "overlap" in browser.text("#d3-error")
    assert browser.text("#f-d4-1-error") == "Give both a start and an end, or neither."
    assert browser.driver.find_element(By.ID, "f-d3-1-start").get_attribute("value") == "10:00"
    assert catalogue.get_professional(pro.id, uow=site.container.reader()) == pro


def test_emptying_a_window_removes_it(site: Site, browser: Browser) -> None:
    pro = pro_with_account(site)
    sign_in(site, browser, pro.email)
    browser.open(f"{site.url}/pro/hours")

    set_field(browser, "f-d6-0-start", "")
    set_field(browser, "f-d6-0-end", "")
    browser.click("button[value='save']")
    see(browser, "main .notice", "Your hours are saved.")

    saved = catalogue.get_professional(pro.id, uow=site.container.reader()).availability
    assert sorted({w.day_of_week for w in saved}) == [0, 1, 2, 3, 4, 5]


def test_a_professional_cancels_an_appointment_and_the_client_gets_everything_back(
    site: Site, browser: Browser
) -> None:
    pro = pro_with_account(site, name="Ivo Instructor")
    booking = client_books(site, browser, pro, name=SCRIPT_NAME)
    paid = f"€{booking.total_price_cents // 100}.{booking.total_price_cents % 100:02d}"
    sign_in(site, browser, pro.email)

    assert SCRIPT_NAME in browser.text("#appointments")  # the client's name, as text
    browser.click("#appointments a")
    preview = browser.text("#refund-preview")
    browser.click("#confirm-cancel")
    see(browser, "main .notice", "refunded")

    assert f"the client gets all they paid back: {paid} of {paid}" in preview
    assert f"{paid} is refunded" in browser.text("main .notice")
    assert "No upcoming appointments yet." in browser.text("main")
    [cancelled] = site.bookings_of(booking.client_id)
    assert cancelled.status is BookingStatus.CANCELLED
    assert cancelled.cancellation_reason is CancellationReason.PROFESSIONAL
    assert cancelled.refund_due_cents == booking.total_price_cents


def test_the_calendar_link_is_shown_once_and_a_new_one_stops_the_old(
    site: Site, browser: Browser
) -> None:
    pro = pro_with_account(site)
    sign_in(site, browser, pro.email)
    browser.click_link("Calendar link")
    assert browser.driver.find_elements(By.ID, "f-feed") == []

    browser.click("#rotate")
    first = feed_link(browser, other_than="")
    browser.click("#rotate")
    second = feed_link(browser, other_than=first)

    assert first.startswith(f"{site.url}/professionals/{pro.id}/calendar.ics?token=")
    assert browser.driver.find_element(By.CSS_SELECTOR, "button[data-copy]").is_displayed()
    status, _, body = site.fetch(second.removeprefix(site.url))
    assert status == 200 and body.startswith("BEGIN:VCALENDAR")
    assert site.fetch(first.removeprefix(site.url))[0] == 404
    browser.open(f"{site.url}/pro/calendar")
    assert second not in browser.driver.page_source  # shown once, never again


def feed_link(browser: Browser, other_than: str) -> str:
    """The link the calendar page shows, once it shows one other than ``other_than``."""

    def shown(driver: WebDriver) -> str | None:
        value = str(driver.find_element(By.ID, "f-feed").get_attribute("value"))
        return value if value != other_than else None

    return str(WebDriverWait(browser.driver, WAIT_SECONDS).until(shown))


def test_a_day_off_can_be_removed(site: Site, browser: Browser) -> None:
    pro = pro_with_account(site)
    sign_in(site, browser, pro.email)
    browser.open(f"{site.url}/pro/time-off")
    first = next_monday() + timedelta(days=3)
    set_field(browser, "f-first_day", first.isoformat())
    set_field(browser, "f-last_day", (first + timedelta(days=4)).isoformat())
    browser.click("#time-off-form button[type=submit]")
    see(browser, "main .notice", "The time off is added.")
    assert len(catalogue.get_professional(pro.id, uow=site.container.reader()).time_off) == 1

    browser.click("#time-off-list button")

    see(browser, "main .notice", "The time off is removed.")
    assert catalogue.get_professional(pro.id, uow=site.container.reader()).time_off == ()


def test_a_last_day_before_the_first_is_refused_beside_the_field(
    site: Site, browser: Browser
) -> None:
    pro = pro_with_account(site)
    sign_in(site, browser, pro.email)
    browser.open(f"{site.url}/pro/time-off")

    set_field(browser, "f-first_day", "2030-05-10")
    set_field(browser, "f-last_day", "2030-05-09")
    browser.click("#time-off-form button[type=submit]")

    assert see(browser, "#f-last_day-error", "last day") == (
        "The last day must be on or after the first day."
    )
    assert catalogue.get_professional(pro.id, uow=site.container.reader()).time_off == ()


def test_enter_in_the_hours_form_saves(site: Site, browser: Browser) -> None:
    pro = pro_with_account(site)
    sign_in(site, browser, pro.email)
    browser.open(f"{site.url}/pro/hours")

    set_field(browser, "f-d6-0-start", "10:00")
    browser.driver.find_element(By.ID, "f-d6-0-start").send_keys(Keys.ENTER)

    see(browser, "main .notice", "Your hours are saved.")
    saved = catalogue.get_professional(pro.id, uow=site.container.reader()).availability
    assert [(w.start, w.end) for w in saved if w.day_of_week == 6] == [(time(10), time(22))]


def test_a_price_that_is_not_an_amount_is_refused_beside_the_field(
    site: Site, browser: Browser
) -> None:
    pro = pro_with_account(site)
    sign_in(site, browser, pro.email)
    browser.open(f"{site.url}/pro/profile")

    browser.fill("f-rate", "sixty")
    browser.click("#profile-form button[type=submit]")

    assert see(browser, "#f-rate-error", "amount") == "Enter an amount like 60 or 60.50."
    assert browser.driver.find_element(By.ID, "f-rate").get_attribute("aria-invalid") == "true"
    assert catalogue.get_professional(pro.id, uow=site.container.reader()) == pro


def test_a_profile_changed_in_another_window_meanwhile_is_not_overwritten(
    site: Site, browser: Browser
) -> None:
    pro = pro_with_account(site, name="Old Name")
    sign_in(site, browser, pro.email)
    browser.open(f"{site.url}/pro/profile")
    catalogue.update_professional(pro.id, {"hourly_rate_cents": 9900},
                                  uow=site.container.uow())  # fmt: skip

    browser.fill("f-name", "New Name")
    browser.click("#profile-form button[type=submit]")

    assert "changed in another window" in see(browser, "#f-name-error", "another window")
    saved = catalogue.get_professional(pro.id, uow=site.container.reader())
    assert (saved.name, saved.hourly_rate_cents) == ("Old Name", 9900)
    assert browser.driver.find_element(By.ID, "f-rate").get_attribute("value") == "99.00"
