"""What the web pages promise about security: user text is text, every page has the CSP, a
form without its CSRF token is refused, and the session cookie's attributes."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

from selenium.common.exceptions import NoAlertPresentException

from tests.integration.web.conftest import Browser, Site, new_email, register_account
from tests.integration.web.test_booking_in_the_browser import first_slot_next_week, pay_with

SCRIPT_NAME = "<script>alert(1)</script>"


def assert_no_alert(browser: Browser) -> None:
    try:
        alert = browser.driver.switch_to.alert
    except NoAlertPresentException:
        return
    raise AssertionError(f"a script ran and opened an alert: {alert.text}")


def test_a_professional_named_like_a_script_is_shown_as_text_and_every_page_has_the_csp(
    site: Site, browser: Browser
) -> None:
    pro = site.add_pro(name=SCRIPT_NAME)
    visited = []

    browser.open(f"{site.url}/?category=massage&place=Berlin&radius=10&days=7")
    visited.append(browser.path)
    assert SCRIPT_NAME in browser.text("table.results")
    browser.click("table.results a")
    visited.append(browser.path)
    assert browser.text("h1") == SCRIPT_NAME
    assert_no_alert(browser)
    first_slot_next_week(browser)
    visited.append(browser.path)
    browser.click("main a.button")
    visited.append(browser.path)
    email = new_email()
    register_account(browser, email)
    browser.click("#hold")
    visited.append(browser.path)
    assert SCRIPT_NAME in browser.text("main")
    pay_with(browser, "4242 4242 4242 4242")
    browser.wait_for_text("#status", "Confirmed")
    visited.append(browser.path)
    assert SCRIPT_NAME in browser.text("main")
    browser.click_link("My bookings")
    visited.append(browser.path)
    assert SCRIPT_NAME in browser.text("main")
    browser.click_link("Cancel")
    visited.append(browser.path)
    assert SCRIPT_NAME in browser.text("main")
    assert_no_alert(browser)
    visited += ["/signin", "/register", f"/pros/{pro.id}?week=2099-01-01"]

    cookie = browser.cookie_header()
    for path in visited:
        status, headers, body = site.fetch("/" + path.lstrip("/"), cookie=cookie)
        assert status == 200, (path, status)
        policy = headers.get("Content-Security-Policy", "")
        assert "default-src 'self'" in policy and "unsafe-inline" not in policy, path
        assert "script-src 'self';" in policy and "style-src 'self';" in policy, path
        assert "frame-ancestors 'none'" in policy, path
        assert "stripe" not in policy, path  # Stripe's origins only on a Stripe payment page
        assert "<script>alert(1)" not in body, path
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), f"inline script on {path}"


def test_a_form_posted_without_its_csrf_token_is_refused_with_400(site: Site) -> None:
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(f"{site.url}/register").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    fields = {"name": "Cleo", "email": new_email(), "password": "web password 1234"}

    def post(data: dict[str, str]) -> int:
        body = urllib.parse.urlencode(data).encode()
        try:
            return int(opener.open(f"{site.url}/register", data=body).status)
        except urllib.error.HTTPError as error:
            return error.code

    assert post(fields) == 400  # no token
    assert post({**fields, "csrf_token": "not-the-token"}) == 400
    assert site.container.users.by_email(fields["email"]) is None  # nothing was written
    assert post({**fields, "csrf_token": token.group(1)}) == 200  # 303, followed to the page
    assert site.container.users.by_email(fields["email"]) is not None


def test_a_form_whose_token_was_removed_in_the_browser_gets_the_400_page(
    site: Site, browser: Browser
) -> None:
    browser.open(f"{site.url}/register")
    browser.driver.execute_script(
        'document.querySelector("input[name=csrf_token]").remove()'
    )
    register_account(browser, new_email())

    assert "(400)" in browser.text("main")


def test_the_session_cookie_is_http_only_and_same_site_lax(site: Site, browser: Browser) -> None:
    browser.open(f"{site.url}/register")
    register_account(browser, new_email())

    [cookie] = [c for c in browser.driver.get_cookies() if c["name"] == "hourbook_web"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"


def test_signing_out_ends_the_session_even_for_a_copied_cookie(
    site: Site, browser: Browser
) -> None:
    browser.open(f"{site.url}/register")
    register_account(browser, new_email())
    copied = browser.cookie_header()
    assert site.fetch("/my/bookings", cookie=copied)[0] == 200

    browser.click("header form button")

    status, _, page = site.fetch("/my/bookings", cookie=copied)
    assert status == 200  # the sign-in page, reached through the redirect
    assert "<h1>Sign in</h1>" in page
    assert "<h1>My bookings</h1>" not in page


def test_a_payment_page_allows_stripe_only_when_stripe_pays(site: Site, browser: Browser) -> None:
    pro = site.add_pro(name="Paula Pay")
    browser.open(f"{site.url}/register")
    register_account(browser, new_email())
    browser.open(f"{site.url}/pros/{pro.id}")
    first_slot_next_week(browser)
    browser.click("#hold")

    status, headers, body = site.fetch("/" + browser.path, cookie=browser.cookie_header())

    assert status == 200 and 'id="card-form"' in body  # the simulator's card form
    assert "stripe" not in headers["Content-Security-Policy"]
