"""The professional's pages keep the web pages' promises: axe-core finds no serious or critical
violation on any of them, they fit 360 px, each has the CSP and no inline script, a form posted
without its CSRF token is refused with 400 and changes nothing, and only the professional
signed in reaches them (and only their own appointments)."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import timedelta

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from booking import catalogue
from tests.integration.web.conftest import (
    WAIT_SECONDS,
    Browser,
    Site,
    accessibility_violations,
    new_email,
    register_account,
)
from tests.integration.web.professional_steps import (
    client_books,
    next_monday,
    pro_with_account,
    see,
    set_field,
    sign_in,
    sign_out,
    tick,
)

PRO_PAGES = ("/pro/bookings", "/pro/hours", "/pro/time-off", "/pro/profile", "/pro/calendar")


def visit_every_professional_page(site: Site, browser: Browser,
                                  check: Callable[[str], None]) -> None:  # fmt: skip
    """Sign up, fill in the profile (once wrongly), the hours (once wrongly), time off, see an
    appointment, open its cancel page and make the calendar link, checking each page."""
    browser.open(f"{site.url}/pro/signup")
    check("sign up")
    email = new_email()
    browser.fill("f-email", email)
    browser.fill("f-password", "pro password 1234")
    browser.click("main form button[type=submit]")
    see(browser, "h1", "Your profile")
    check("new profile")
    browser.click("#profile-form button[type=submit]")
    see(browser, "main", "Enter your name.")
    check("profile with errors")
    browser.fill("f-name", "Axel Access")
    Select(browser.driver.find_element(By.ID, "f-category")).select_by_value("tutoring")
    browser.fill("f-rate", "45.50")
    tick(browser, "#f-travel_mode-travel")
    browser.fill("f-travel_fee", "5")
    browser.click("#profile-form button[type=submit]")
    see(browser, "main .notice", "Now set the hours")
    check("hours, new")
    set_field(browser, "f-d0-0-start", "09:00")
    browser.click("button[value='save']")
    see(browser, "main", "not saved")
    check("hours with errors")
    set_field(browser, "f-d0-0-end", "17:00")
    browser.click("button[value='add-0']")
    see(browser, "#day-0", "Window 2")
    check("hours with an added row")
    browser.click("button[value='save']")
    see(browser, "main .notice", "saved")
    browser.open(f"{site.url}/pro/time-off")
    check("time off, none")
    set_field(browser, "f-first_day", (next_monday() + timedelta(days=1)).isoformat())
    browser.click("#time-off-form button[type=submit]")
    see(browser, "main .notice", "added")
    check("time off, one")
    browser.open(f"{site.url}/pro/bookings")
    check("appointments, none")
    user = site.container.users.by_email(email)
    assert user is not None
    pro = catalogue.get_professional(user.id, uow=site.container.reader())
    sign_out(browser)
    client_books(site, browser, pro)
    sign_in(site, browser, email, "pro password 1234")
    see(browser, "h1", "Your appointments")
    check("appointments, one")
    browser.click("#appointments a")
    see(browser, "h1", "Cancel this appointment?")
    check("cancel")
    browser.open(f"{site.url}/pro/calendar")
    check("calendar link, none")
    browser.click("#rotate")
    see(browser, "#feed", "Copy it now")
    check("calendar link, made")
    browser.open(f"{site.url}/pro/profile")
    check("profile")


def test_no_professional_page_has_a_serious_or_critical_accessibility_violation(
    site: Site, browser: Browser
) -> None:
    found: dict[str, list[str]] = {}

    def scan(page: str) -> None:
        WebDriverWait(browser.driver, WAIT_SECONDS).until(
            lambda d: d.execute_script("return document.readyState") == "complete"
        )
        violations = accessibility_violations(browser.driver)
        if violations:
            found[page] = [f"{v['id']}: {v['help']} ({len(v['nodes'])})" for v in violations]

    visit_every_professional_page(site, browser, scan)

    assert found == {}


def test_every_professional_page_fits_a_360_pixel_wide_screen(
    site: Site, browser: Browser
) -> None:
    too_wide: dict[str, int] = {}

    def measure(page: str) -> None:
        width = int(browser.driver.execute_script("return document.documentElement.scrollWidth"))
        if width > 360:
            too_wide[page] = width

    browser.driver.set_window_size(360, 800)
    try:
        visit_every_professional_page(site, browser, measure)
    finally:
        browser.driver.set_window_size(1280, 900)

    assert too_wide == {}


def test_every_professional_page_has_the_csp_and_no_inline_script(
    site: Site, browser: Browser
) -> None:
    pro = pro_with_account(site)
    sign_in(site, browser, pro.email)
    cookie = browser.cookie_header()

    for path in ("/pro/signup", *PRO_PAGES):
        status, headers, body = site.fetch(path, cookie=cookie)
        assert status == 200, (path, status)
        policy = headers.get("Content-Security-Policy", "")
        assert "default-src 'self'" in policy and "unsafe-inline" not in policy, path
        assert "script-src 'self';" in policy and "stripe" not in policy, path
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), f"inline script on {path}"
        assert not re.search(r"\sstyle=", body), f"inline style on {path}"


def post_without_browser(site: Site, path: str, cookie: str, fields: dict[str, str]) -> int:
    request = urllib.request.Request(  # noqa: S310 - our own test server
        site.url + path, data=urllib.parse.urlencode(fields).encode(), headers={"Cookie": cookie}
    )
    try:
        with urllib.request.urlopen(request, timeout=WAIT_SECONDS) as answer:  # noqa: S310
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_every_professional_form_posted_without_its_csrf_token_gets_400_and_changes_nothing(
    site: Site, browser: Browser
) -> None:
    pro = pro_with_account(site)
    booking = client_books(site, browser, pro)
    sign_in(site, browser, pro.email)
    cookie = browser.cookie_header()
    forms = {
        "/pro/signup": {"email": new_email(), "password": "pro password 1234"},
        "/pro/profile": {"name": "Changed", "category": "massage", "rate": "1",
                         "currency": "eur", "time_zone": "Europe/Berlin", "city": "Berlin",
                         "travel_mode": "local"},
        "/pro/hours": {"action": "save", "d0-0-start": "01:00", "d0-0-end": "02:00"},
        "/pro/hours/copy": {"from_day": "0", "to_day": "1"},
        "/pro/time-off": {"first_day": "2030-01-01"},
        "/pro/time-off/remove": {"first_day": "2030-01-01", "last_day": "2030-01-01"},
        "/pro/calendar": {},
        f"/pro/bookings/{booking.id}/cancel": {},
    }

    for path, fields in forms.items():
        assert post_without_browser(site, path, cookie, fields) == 400, path
        forged = {**fields, "csrf_token": "not-the-token"}
        assert post_without_browser(site, path, cookie, forged) == 400, path

    assert catalogue.get_professional(pro.id, uow=site.container.reader()) == pro
    [unchanged] = site.bookings_of(booking.client_id)
    assert unchanged.status is booking.status
    assert not site.container.feed_tokens.matches(pro.id, "")


def test_anonymous_visitors_are_sent_to_sign_in_and_back(site: Site, browser: Browser) -> None:
    pro = pro_with_account(site)

    browser.open(f"{site.url}/pro/hours")
    see(browser, "h1", "Sign in")
    browser.fill("f-email", pro.email)
    browser.fill("f-password", "pro password 1234")
    browser.click("main form button[type=submit]")

    see(browser, "h1", "Your weekly hours")


def test_a_client_is_told_these_pages_are_for_professionals(site: Site, browser: Browser) -> None:
    browser.open(f"{site.url}/register")
    register_account(browser, new_email())
    see(browser, "h1", "")

    for path in PRO_PAGES:
        browser.open(site.url + path)
        assert "for professionals' accounts; you are signed in as a client" in browser.text(
            "main"
        ), path


def test_a_professional_cannot_open_or_cancel_another_professionals_appointment(
    site: Site, browser: Browser
) -> None:
    theirs = pro_with_account(site, name="Other Pro")
    booking = client_books(site, browser, theirs)
    mine = pro_with_account(site, name="Nosy Pro")
    sign_in(site, browser, mine.email)

    browser.open(f"{site.url}/pro/bookings/{booking.id}/cancel")

    assert "(404)" in browser.text("main")
    assert "Other Pro" not in browser.text("main")
    [still] = site.bookings_of(booking.client_id)
    assert still.status is booking.status


def test_a_professional_without_a_profile_is_sent_to_fill_it_in(
    site: Site, browser: Browser
) -> None:
    browser.open(f"{site.url}/pro/signup")
    browser.fill("f-email", new_email())
    browser.fill("f-password", "pro password 1234")
    browser.click("main form button[type=submit]")
    see(browser, "h1", "Your profile")

    browser.open(f"{site.url}/pro/hours")

    assert browser.text("h1") == "Your profile"
    assert "Fill in your profile first." in browser.text("main .notice")


def test_keyboard_focus_is_visible_and_follows_the_page_on_every_professional_page(
    site: Site, browser: Browser
) -> None:
    pro = pro_with_account(site)
    client_books(site, browser, pro)
    sign_in(site, browser, pro.email)
    unmarked: list[str] = []
    out_of_order: list[str] = []
    checked = 0
    for path in PRO_PAGES:
        browser.open(site.url + path)
        browser.driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
        previous = None
        for _ in range(200):
            focused = browser.driver.switch_to.active_element
            if focused.tag_name == "body":  # past the last control: the page itself
                break
            outline, width, follows = browser.driver.execute_script(
                "const s = getComputedStyle(arguments[0]);"
                "const after = !arguments[1] || arguments[1] === arguments[0] || Boolean("
                "  arguments[1].compareDocumentPosition(arguments[0]) & 4);"
                "return [s.outlineStyle, s.outlineWidth, after];", focused, previous
            )
            checked += 1
            label = focused.get_attribute("id") or focused.text[:30]
            name = f"{path}: {focused.tag_name} {label!r}"
            if outline == "none" or width == "0px":
                unmarked.append(name)
            if not follows:
                out_of_order.append(name)
            previous = focused
            focused.send_keys(Keys.TAB)

    assert unmarked == []
    assert out_of_order == []
    assert checked > 80  # the hours editor alone has more than 50 controls (a time field's
    # hour and minute are each a stop of their own)
