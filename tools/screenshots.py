"""Screenshots of the web pages for the docs, made by the browser the tests use.

    python tools/screenshots.py                 # every page at every width, into docs/images/
    python tools/screenshots.py --out /tmp/shots --pages find,pro-hours --widths 390

It runs what ``hourbook demo`` runs (the embedded default: a SQLite file, the seeded catalogue,
the payment simulator and the in-process job runner) in a temporary folder, adds one
professional with an account, then drives Debian's headless ``chromium`` (through
``chromium-driver``, as the browser tests do) along one booking: a client finds the
professional, opens their page, holds a slot and pays with the simulator's success card, sees
the confirmation and their bookings; the professional signs in and opens the hours editor and
their appointments. Each page in :data:`PAGES` is saved as ``<page>-<width>.png`` for each of
:data:`WIDTHS`, the whole page tall (at most :data:`MAX_HEIGHT`), reduced to a 256-colour
palette so the committed files stay small. ``tests/integration/web/test_screenshots.py`` checks
that the images committed are exactly these and runs this script on a reduced set.

Needs the ``docs`` extra (``pip install -c constraints.txt -e '.[docs]'``) and the ``chromium``
and ``chromium-driver`` packages.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

from adapters.jobs.inline_runner import InlineJobRunner
from adapters.sql import migrate
from booking import catalogue
from booking.model import AvailabilityWindow, Location, Professional, TimeOff
from entrypoints import accounts
from entrypoints.accounts import Role
from entrypoints.api.app import create_app
from entrypoints.bootstrap import Container, build, make_job_context
from entrypoints.cli import seed
from entrypoints.cli.demo import demo_settings

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
# In the order the walk reaches them.
PAGES = (
    "find", "professional", "pay", "confirmation", "my-bookings", "pro-hours", "pro-bookings",
)  # fmt: skip
WIDTHS = (1280, 390)
MAX_HEIGHT = 2400
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ZONE = "Europe/Berlin"
WAIT_SECONDS = 30
SEEDED = 120
PASSWORD = "screenshot password"  # noqa: S105 - a throwaway account in a temporary database


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=IMAGES, help="folder for the PNG files")
    parser.add_argument("--pages", default=",".join(PAGES), help="comma-separated page names")
    parser.add_argument("--widths", default=",".join(map(str, WIDTHS)), help="comma-separated")
    args = parser.parse_args(argv)
    pages = [name for name in args.pages.split(",") if name]
    unknown = set(pages) - set(PAGES)
    if unknown:
        parser.error(f"unknown pages: {', '.join(sorted(unknown))}; known: {', '.join(PAGES)}")
    widths = [int(width) for width in args.widths.split(",") if width]
    args.out.mkdir(parents=True, exist_ok=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with serving() as (url, container), chromium() as driver:
        saved = walk(url, container, driver, Camera(driver, args.out, set(pages), widths))
    for path in saved:
        print(f"{path}  ({path.stat().st_size // 1024} KiB)")
    return 0


@contextmanager
def serving() -> Iterator[tuple[str, Container]]:
    """The demo's embedded app, on a free port, in a temporary instance folder."""
    with tempfile.TemporaryDirectory(prefix="hourbook-shots-") as folder:
        environ = {**os.environ, "HOURBOOK_INSTANCE_DIR": folder}
        environ.pop("HOURBOOK_MAIL_DIR", None)
        server = make_server("127.0.0.1", 0, lambda env, start: [])  # reserve a port first
        port = server.server_port
        server.server_close()
        url = f"http://127.0.0.1:{port}"
        settings = demo_settings(environ, url)
        container = build(settings)
        migrate.upgrade(container.engine)
        seed.seed(container.uow, SEEDED)
        server = make_server("127.0.0.1", port, create_app(settings, container), threaded=True)
        runner = InlineJobRunner(make_job_context(container), tick_seconds=0.2)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        runner.start()
        try:
            yield url, container
        finally:
            server.shutdown()
            runner.stop()
            container.close()


@contextmanager
def chromium() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--hide-scrollbars", "--window-size=1280,900"):  # fmt: skip
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": ZONE})
    try:
        yield driver
    finally:
        driver.quit()


class Camera:
    """Saves the page the browser is on, at each width, when its name was asked for."""

    def __init__(self, driver: WebDriver, out: Path, pages: set[str], widths: list[int]) -> None:
        self.driver, self.out, self.pages, self.widths = driver, out, pages, widths
        self.saved: list[Path] = []

    def __call__(self, name: str) -> None:
        if name not in self.pages:
            return
        for width in self.widths:
            self.saved.append(self._shoot(name, width))
        self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    def _shoot(self, name: str, width: int) -> Path:
        metrics = {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": width < 600}
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        height = int(self.driver.execute_script("return document.documentElement.scrollHeight"))
        metrics["height"] = min(max(height, 600), MAX_HEIGHT)
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        self.driver.execute_script("window.scrollTo(0, 0); document.activeElement.blur();")
        png = self.driver.get_screenshot_as_png()
        image = Image.open(io.BytesIO(png)).convert("RGB")
        path = self.out / f"{name}-{width}.png"
        image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
        return path


def walk(url: str, container: Container, driver: WebDriver, shoot: Callable[[str], None],
         ) -> list[Path]:  # fmt: skip
    """One booking through the pages, calling ``shoot(page)`` on each page of :data:`PAGES`."""
    pro_email = "mia@example.com"  # a fresh database each run: the pictures do not change
    pro = _professional_with_account(container, pro_email)

    def fill(element_id: str, value: str) -> None:
        element = driver.find_element(By.ID, element_id)
        element.clear()
        element.send_keys(value)

    def click(css: str) -> None:
        driver.find_element(By.CSS_SELECTOR, css).click()

    def wait_for(css: str, text: str) -> None:
        waiting = WebDriverWait(driver, WAIT_SECONDS, ignored_exceptions=(
            NoSuchElementException, StaleElementReferenceException))  # the page may be changing
        waiting.until(lambda d: text in d.find_element(By.CSS_SELECTOR, css).text)

    driver.get(f"{url}/?category=massage&place=Berlin&radius=10&days=7&tz={ZONE}")
    wait_for("#results-title", "Berlin")
    shoot("find")
    driver.get(f"{url}/pros/{pro.id}?week={_next_monday().isoformat()}&duration=60&tz={ZONE}")
    wait_for("h1", pro.name)
    shoot("professional")
    driver.get(f"{url}/register")
    fill("f-name", "Cleo Client")
    fill("f-email", "cleo@example.com")
    fill("f-password", PASSWORD)
    click("form.stack button[type=submit]")
    WebDriverWait(driver, WAIT_SECONDS).until(lambda d: "/register" not in d.current_url)
    driver.get(f"{url}/pros/{pro.id}?week={_next_monday().isoformat()}&duration=60&tz={ZONE}")
    driver.find_elements(By.CSS_SELECTOR, "ul.slots a")[3].click()
    click("#hold")
    wait_for("h1", "Pay")
    fill("f-card_number", "4242 4242 4242 4242")
    fill("f-expiry", "12/34")
    fill("f-cvc", "123")
    shoot("pay")
    click("#pay")
    wait_for("#status", "Confirmed")
    shoot("confirmation")
    driver.get(f"{url}/my/bookings")
    shoot("my-bookings")
    click("header form button")
    WebDriverWait(driver, WAIT_SECONDS).until(lambda d: "signed_out" in d.current_url)
    driver.get(f"{url}/signin")
    fill("f-email", pro_email)
    fill("f-password", PASSWORD)
    click("main form button[type=submit]")
    wait_for("h1", "Your appointments")
    driver.get(f"{url}/pro/hours")
    shoot("pro-hours")
    driver.get(f"{url}/pro/bookings")
    shoot("pro-bookings")
    return shoot.saved if isinstance(shoot, Camera) else []


def _professional_with_account(container: Container, email: str) -> Professional:
    """Mia, in the centre of Berlin: a professional's account and profile, as the pages make
    them, with two windows on weekdays, a short Saturday and a day off."""
    user = accounts.register(container, role=Role.PROFESSIONAL, email=email, password=PASSWORD)
    if user is None:
        raise RuntimeError(f"{email} has an account already: the database was not fresh")
    weekdays = [
        AvailabilityWindow(day_of_week=day, start=start, end=end)
        for day in range(5)
        for start, end in ((time(9), time(12, 30)), (time(14), time(18)))
    ]
    saturday = AvailabilityWindow(day_of_week=5, start=time(10), end=time(14))
    day_off = _next_monday() + timedelta(days=2)
    pro = Professional(
        id=user.id, name="Mia Moreau", email=email, category="massage",
        hourly_rate_cents=6500, currency="eur", time_zone=ZONE, location=Location(52.52, 13.405),
        availability=(*weekdays, saturday),
        time_off=(TimeOff(first_day=day_off, last_day=day_off, reason="Training"),),
    )  # fmt: skip
    catalogue.register_professional(pro, uow=container.uow())
    container.users.link_professional(user.id, pro.id)
    return pro


def _next_monday() -> date:
    today = datetime.now(ZoneInfo(ZONE)).date()
    return today + timedelta(days=7 - today.weekday())


if __name__ == "__main__":
    sys.exit(main())
