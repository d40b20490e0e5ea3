"""Steps the professional's browser tests share: an account with a profile, signing in, filling
the hours editor, and a client booking through the client's pages."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from booking.model import Booking, Professional
from entrypoints import accounts
from entrypoints.accounts import Role
from tests.integration.web.conftest import (
    WAIT_SECONDS,
    Browser,
    Site,
    new_email,
    register_account,
)
from tests.integration.web.test_booking_in_the_browser import pay_with

PASSWORD = "pro password 1234"  # noqa: S105 - a test account's
BERLIN = ZoneInfo("Europe/Berlin")


def pro_with_account(site: Site, **overrides: Any) -> Professional:
    """A professional's account and its profile (Berlin, free 06:00-22:00), as the API makes
    them: the profile's id is the account's, and the account is linked to it."""
    email = f"pro-{uuid4().hex[:10]}@example.com"
    user = accounts.register(site.container, role=Role.PROFESSIONAL, email=email,
                             password=PASSWORD)  # fmt: skip
    assert user is not None
    pro = site.add_pro(id=user.id, email=email, **overrides)
    site.container.users.link_professional(user.id, pro.id)
    return pro


def sign_in(site: Site, browser: Browser, email: str, password: str = PASSWORD) -> None:
    browser.open(f"{site.url}/signin")
    browser.fill("f-email", email)
    browser.fill("f-password", password)
    browser.click("main form button[type=submit]")
    WebDriverWait(browser.driver, WAIT_SECONDS).until(lambda d: "/signin" not in d.current_url)


def see(browser: Browser, css: str, wanted: str) -> str:
    """Wait until the element ``css`` says ``wanted`` (the page may still be changing: an
    element of the page before is looked up again) and return its text."""

    def shown(driver: WebDriver) -> str | None:
        found = str(driver.find_element(By.CSS_SELECTOR, css).text)
        return found if wanted in found else None

    waiting = WebDriverWait(browser.driver, WAIT_SECONDS,
                            ignored_exceptions=(NoSuchElementException,
                                                StaleElementReferenceException))  # fmt: skip
    return str(waiting.until(shown))


def tick(browser: Browser, css: str) -> None:
    """Click a control that changes the page in place (a radio button, a checkbox)."""
    browser.driver.find_element(By.CSS_SELECTOR, css).click()


def sign_out(browser: Browser) -> None:
    browser.click("header form button")
    WebDriverWait(browser.driver, WAIT_SECONDS).until(lambda d: "signed_out=1" in d.current_url)


def set_field(browser: Browser, element_id: str, value: str) -> None:
    """Set a time or date input: their keyboard entry depends on the browser's locale, the
    value they post does not."""
    element = browser.driver.find_element(By.ID, element_id)
    browser.driver.execute_script("arguments[0].value = arguments[1];", element, value)


def next_monday(zone: ZoneInfo = BERLIN) -> date:
    today = datetime.now(zone).date()
    return today + timedelta(days=7 - today.weekday())


def client_books(site: Site, browser: Browser, pro: Professional, name: str = "Cleo Client",
                 ) -> Booking:  # fmt: skip
    """A new client registers, books the professional's first slot next week and pays."""
    email = new_email()
    browser.open(f"{site.url}/register")
    register_account(browser, email, name=name)
    browser.open(f"{site.url}/pros/{pro.id}?week={next_monday().isoformat()}")
    browser.click("ul.slots a")
    browser.click("#hold")
    pay_with(browser, "4242 4242 4242 4242")
    see(browser, "#status", "Confirmed")
    sign_out(browser)
    [booking] = site.bookings_of(site.client_id(email))
    return booking
