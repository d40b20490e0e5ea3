"""Every client page passes axe-core with no serious or critical violation, and fits a
360 px wide screen without sideways scrolling."""

from __future__ import annotations

from collections.abc import Callable

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests.integration.web.conftest import (
    WAIT_SECONDS,
    Browser,
    Site,
    accessibility_violations,
    new_email,
    register_account,
)
from tests.integration.web.test_booking_in_the_browser import first_slot_next_week, pay_with


def visit_every_client_page(site: Site, browser: Browser, check: Callable[[str], None]) -> None:
    """Walk a booking from search to cancellation, calling ``check(page name)`` on each page."""
    pro = site.add_pro(name="Alma Access")
    browser.open(f"{site.url}/")
    check("find")
    browser.open(f"{site.url}/?category=massage&place=Berlin&radius=10&days=7")
    check("find with results")
    browser.click("table.results a")
    check("professional")
    first_slot_next_week(browser)
    check("book, signed out")
    browser.open(f"{site.url}/signin")
    check("sign in")
    browser.driver.back()
    browser.click("main a.button")
    check("register")
    register_account(browser, new_email())
    check("book, signed in")
    browser.click("#hold")
    check("pay")
    pay_with(browser, "4242 4242 4242 4242")
    browser.wait_for_text("#status", "Confirmed")
    check("booking confirmed")
    browser.click_link("My bookings")
    check("my bookings")
    browser.click_link("Cancel")
    check("cancel")
    browser.click("#confirm-cancel")
    check("booking cancelled")
    browser.open(f"{site.url}/pros/{pro.id}?duration=60&week=2020-01-06")
    check("professional, a week in the past")


def test_no_client_page_has_a_serious_or_critical_accessibility_violation(
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

    visit_every_client_page(site, browser, scan)

    assert found == {}


def test_every_client_page_fits_a_360_pixel_wide_screen(site: Site, browser: Browser) -> None:
    too_wide: dict[str, int] = {}

    def measure(page: str) -> None:
        width = int(browser.driver.execute_script("return document.documentElement.scrollWidth"))
        if width > 360:
            too_wide[page] = width

    browser.driver.set_window_size(360, 800)
    try:
        viewport = browser.driver.execute_script("return window.innerWidth")
        assert viewport <= 360
        visit_every_client_page(site, browser, measure)
    finally:
        browser.driver.set_window_size(1280, 900)

    assert too_wide == {}


def test_the_scanner_does_find_a_serious_violation_when_there_is_one(browser: Browser) -> None:
    browser.open(
        "data:text/html,<!doctype html><html lang=en><title>bad</title><main>"
        "<input type=text><p style='color:%23bbb;background:%23fff'>faint</p></main></html>"
    )

    found = {violation["id"] for violation in accessibility_violations(browser.driver)}

    assert {"label", "color-contrast"} <= found


def test_keyboard_focus_is_visible_on_every_control_of_the_search_and_a_week(
    site: Site, browser: Browser
) -> None:
    pro = site.add_pro(name="Kai Keys")
    unmarked: list[str] = []
    checked = 0
    for path in ("/?category=massage&place=Berlin", f"/pros/{pro.id}"):
        browser.open(site.url + path)
        body = browser.driver.find_element(By.TAG_NAME, "body")
        body.send_keys(Keys.TAB)
        for _ in range(25):
            focused = browser.driver.switch_to.active_element
            if focused.tag_name == "body":  # past the last control: the page itself
                break
            style = browser.driver.execute_script(
                "const s = getComputedStyle(arguments[0]);"
                "return [s.outlineStyle, s.outlineWidth, s.boxShadow];", focused
            )
            checked += 1
            if style[0] == "none" or style[1] == "0px":
                unmarked.append(f"{path}: {focused.tag_name} {focused.text[:30]!r}")
            focused.send_keys(Keys.TAB)

    assert unmarked == []
    assert checked > 20
