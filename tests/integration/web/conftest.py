"""The browser-test harness: the real app on PostgreSQL in a live server thread, driven by
Debian's headless Chromium through its chromedriver (Selenium), scanned by axe-core.

* ``site``: a fresh schema, the app from ``create_app`` serving on a free port, the payment
  simulator delivering its signed webhooks to that server's ``/stripe/webhook`` (as in
  ``hourbook demo``), the inline job runner writing mail to ``site.mail_dir``. Its ``add_pro``
  stores a professional; ``bookings_of`` reads what a client holds.
* ``browser``: one headless Chromium per test session (no browser is downloaded: the
  ``chromium`` and ``chromium-driver`` packages, installed by ``.ci/run``); each test starts
  with no cookies and the time zone it asks for (``browser.zone(...)``).
* ``accessibility_violations(driver)``: axe-core's serious and critical findings on the page.
"""

from __future__ import annotations

import shutil
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from axe_selenium_python import Axe
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import BaseWSGIServer, make_server

from adapters.jobs.inline_runner import InlineJobRunner
from adapters.sql import migrate
from booking import catalogue
from booking.model import AvailabilityWindow, Booking, BookingPolicy, Location, Professional
from booking.ports import BookingQuery
from entrypoints.api.app import create_app
from entrypoints.bootstrap import Container, build, make_job_context
from entrypoints.config import Environment, Settings
from tests.integration.api.conftest import GENEROUS
from tests.integration.support import UNCAPPED

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT_SECONDS = 20
BERLIN = Location(52.52, 13.405)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Site:
    url: str
    container: Container
    mail_dir: Path
    server: BaseWSGIServer | None = field(default=None, repr=False)

    def add_pro(self, **overrides: Any) -> Professional:
        """A professional in Berlin, free 06:00-22:00 every day, with an hour's notice."""
        fields: dict[str, Any] = {
            "id": uuid4(),
            "name": "Hanna Web",
            "email": f"pro-{uuid4().hex[:8]}@example.com",
            "category": "massage",
            "hourly_rate_cents": 6000,
            "currency": "eur",
            "time_zone": "Europe/Berlin",
            "location": BERLIN,
            "availability": tuple(
                AvailabilityWindow(day_of_week=day, start=time(6), end=time(22))
                for day in range(7)
            ),
            "policy": BookingPolicy(minimum_notice=timedelta(hours=1)),
        }
        fields.update(overrides)
        return catalogue.register_professional(Professional(**fields), uow=self.container.uow())

    def bookings_of(self, client_id: UUID) -> list[Booking]:
        with self.container.reader() as uow:
            return uow.bookings.list(BookingQuery(client_id=client_id))

    def client_id(self, email: str) -> UUID:
        user = self.container.users.by_email(email)
        assert user is not None, email
        return user.id

    def mails_about(self, text: str) -> list[Path]:
        if not self.mail_dir.is_dir():
            return []
        return [path for path in sorted(self.mail_dir.glob("*.eml")) if text in path.read_text()]

    def fetch(self, path: str, *, cookie: str = "") -> tuple[int, dict[str, str], str]:
        """A plain GET (no browser): status, headers and body."""
        request = urllib.request.Request(self.url + path, headers={"Cookie": cookie})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=WAIT_SECONDS) as answer:  # noqa: S310
                return answer.status, dict(answer.headers), answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()


@pytest.fixture
def site(postgres_url: str, tmp_path: Path) -> Iterator[Site]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        env=Environment.TEST,
        secret_key="web-test-secret-" * 4,
        database_url=postgres_url,
        rate_limits=GENEROUS,
        hold_limits=UNCAPPED,
        instance_dir=tmp_path,
        mail_dir=tmp_path / "mail",
        public_url=url,  # the simulator delivers its webhooks here
    )
    container = build(settings)
    migrate.upgrade(container.engine)
    server = make_server("127.0.0.1", port, create_app(settings, container), threaded=True)
    serving = threading.Thread(target=server.serve_forever, name="web-test-http", daemon=True)
    runner = InlineJobRunner(make_job_context(container), tick_seconds=0.2)
    serving.start()
    runner.start()
    try:
        yield Site(url, container, settings.mail_dir, server)
    finally:
        server.shutdown()
        runner.stop()
        container.close()


class Browser:
    """The session's Chromium, with the few moves the tests make."""

    def __init__(self, driver: WebDriver) -> None:
        self.driver = driver

    def zone(self, name: str) -> None:
        self.driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": name})

    def open(self, url: str) -> None:
        self.driver.get(url)

    def text(self, css: str) -> str:
        return str(self.driver.find_element(By.CSS_SELECTOR, css).text)

    def fill(self, label_for: str, value: str) -> None:
        element = self.driver.find_element(By.ID, label_for)
        element.clear()
        element.send_keys(value)

    def click(self, css: str) -> None:
        """Click what ``css`` finds and wait for the page it leads to (every click the tests
        make follows a link or sends a form)."""
        self.follow(self.driver.find_element(By.CSS_SELECTOR, css))

    def click_link(self, text: str) -> None:
        self.follow(self.driver.find_element(By.LINK_TEXT, text))

    def follow(self, element: WebElement) -> None:
        page = self.driver.find_element(By.TAG_NAME, "html")
        element.click()
        WebDriverWait(self.driver, WAIT_SECONDS).until(lambda _: _left(page))
        WebDriverWait(self.driver, WAIT_SECONDS).until(
            lambda d: d.execute_script("return document.readyState") == "complete"
        )

    def wait_for_text(self, css: str, wanted: str) -> str:
        WebDriverWait(self.driver, WAIT_SECONDS).until(
            lambda d: wanted in d.find_element(By.CSS_SELECTOR, css).text
        )
        return self.text(css)

    def cookie_header(self) -> str:
        return "; ".join(f"{c['name']}={c['value']}" for c in self.driver.get_cookies())

    @property
    def path(self) -> str:
        return str(self.driver.current_url).split("//", 1)[1].split("/", 1)[1]


def _left(page: WebElement) -> bool:
    """Whether ``page`` (the old document's root) is gone: Chromium says so as a stale element,
    or, while the new document is being attached, as a node that no longer belongs to it."""
    try:
        page.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in str(error):
            return True
        raise
    return False


@pytest.fixture(scope="session")
def chromium() -> Iterator[WebDriver]:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists() or shutil.which("chromedriver") is None:
        pytest.fail("Debian's chromium and chromium-driver are needed: .ci/run installs them")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1280,900", "--disable-gpu"):  # fmt: skip
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(WAIT_SECONDS * 2)
    yield driver
    driver.quit()


@pytest.fixture
def browser(chromium: WebDriver) -> Browser:
    chromium.delete_all_cookies()
    chromium.execute_cdp_cmd("Network.clearBrowserCookies", {})
    chromium.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "UTC"})
    return Browser(chromium)


def accessibility_violations(driver: WebDriver) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the current page."""
    axe = Axe(driver)
    axe.inject()
    results = axe.run()
    return [v for v in results["violations"] if v.get("impact") in ("serious", "critical")]


def register_account(browser: Browser, email: str, name: str = "Cleo Client") -> None:
    """Fill in and send the registration form the browser is on."""
    browser.fill("f-name", name)
    browser.fill("f-email", email)
    browser.fill("f-password", "web password 1234")
    browser.click("form.stack button[type=submit]")


def new_email() -> str:
    return f"client-{uuid4().hex[:10]}@example.com"



@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """On a failure, say where the browser was and what the page said."""
    report = yield
    browser = item.funcargs.get("browser") if hasattr(item, "funcargs") else None
    if report.failed and call.when == "call" and isinstance(browser, Browser):
        try:
            page = browser.driver.find_element(By.TAG_NAME, "main").text
        except Exception as error:  # the page may be gone with the failure
            page = repr(error)
        report.sections.append(("browser", f"at {browser.driver.current_url}\n{page}"))
    return report
