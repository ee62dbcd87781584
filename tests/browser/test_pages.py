"""A person's first hour, in a real browser: headless Chromium (Debian's package) driven by
Playwright, opening the links of emails a real worker sent through the local SendGrid.

Screenshots of every page are written to ``var/test-output/pages/`` (or
``$TEST_OUTPUT_DIR/pages/``) for a person to look at.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from stack.http import call

# One xdist worker runs this module: one browser serves all its tests.
pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("browser"),
]

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "a-long-and-unusual-passphrase"
NEW_PASSWORD = "an-even-longer-new-passphrase"
# Chromium as root in a closed network: no sandbox (root), nothing that phones home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(os.environ.get("TEST_OUTPUT_DIR", ROOT / "var" / "test-output")) / "pages"


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"the browser test needs {CHROMIUM}: run scripts/test-setup.sh (make test does)"
        )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own database
    # calls (fixtures) are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    page = context.new_page()
    yield page
    context.close()


def shoot(page, name: str) -> None:
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def link_in(text: str) -> str:
    return re.search(r"https?://\S+", text).group(0)


def heading(page) -> str:
    return page.locator("h1").inner_text()


def test_the_verification_link_opens_a_page_whose_button_confirms_and_reopening_says_so(
    live_server, fake_sendgrid, start_worker, page
):
    start_worker()
    call(
        "POST",
        f"{live_server.url}/api/auth/register",
        {"email": "ada@example.com", "password": PASSWORD},
    )
    [email] = fake_sendgrid.wait_for(1)
    link = link_in(email.text)
    page.set_content(email.html)
    shoot(page, "0-verification-email")

    page.goto(link)
    shoot(page, "1-verify-email")
    opened = heading(page)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm my email address").click()
    shoot(page, "2-verified")
    confirmed = heading(page)
    page.goto(link)
    shoot(page, "3-already-verified")
    reopened = heading(page)
    login = call(
        "POST",
        f"{live_server.url}/api/auth/login",
        {"email": "ada@example.com", "password": PASSWORD},
    )

    assert (opened, confirmed, reopened, login.status) == (
        "Confirm your email address",
        "Your email address is confirmed",
        "This address is already confirmed",
        200,
    )


def test_opening_the_link_alone_confirms_nothing(live_server, fake_sendgrid, start_worker, page):
    start_worker()
    call(
        "POST",
        f"{live_server.url}/api/auth/register",
        {"email": "scanned@example.com", "password": PASSWORD},
    )
    [email] = fake_sendgrid.wait_for(1)

    for _ in range(3):  # a mail scanner, then a preview, then a refresh
        page.goto(link_in(email.text))
    login = call(
        "POST",
        f"{live_server.url}/api/auth/login",
        {"email": "scanned@example.com", "password": PASSWORD},
    )

    assert (heading(page), login.json["code"]) == (
        "Confirm your email address",
        "email_not_verified",
    )


def test_a_wrong_password_shows_the_form_again_with_the_reason(
    live_server, fake_sendgrid, start_worker, page
):
    start_worker()
    call(
        "POST",
        f"{live_server.url}/api/auth/register",
        {"email": "typo@example.com", "password": PASSWORD},
    )
    [email] = fake_sendgrid.wait_for(1)

    page.goto(link_in(email.text))
    page.get_by_label("Password").fill("not-what-i-chose-at-all")
    page.get_by_role("button", name="Confirm my email address").click()
    shoot(page, "4-wrong-password")

    assert (heading(page), "not the password" in page.get_by_role("alert").inner_text()) == (
        "Confirm your email address",
        True,
    )


def test_an_invalid_link_offers_a_new_one_which_arrives(
    live_server, fake_sendgrid, start_worker, page
):
    start_worker()
    call(
        "POST",
        f"{live_server.url}/api/auth/register",
        {"email": "late@example.com", "password": PASSWORD},
    )
    fake_sendgrid.wait_for(1)

    page.goto(f"{live_server.url}/verify-email?token=expired-or-mangled")
    shoot(page, "5-link-invalid")
    invalid = heading(page)
    page.get_by_label("Email address").fill("late@example.com")
    page.get_by_role("button", name="Send me a new link").click()
    shoot(page, "6-new-link-sent")
    second = fake_sendgrid.wait_for(2)[1]

    assert (invalid, heading(page), second.to) == (
        "This link is invalid or has expired",
        "Check your inbox",
        "late@example.com",
    )


def test_a_password_reset_from_the_page_to_a_new_password(
    live_server, fake_sendgrid, start_worker, page
):
    from django.utils import timezone

    from authentication.models import User

    User.objects.create_user("grace@example.com", PASSWORD, email_verified_at=timezone.now())
    start_worker()

    page.goto(f"{live_server.url}/reset-password")
    shoot(page, "7-reset-request")
    page.get_by_label("Email address").fill("grace@example.com")
    page.get_by_role("button", name="Email me a link").click()
    [email] = fake_sendgrid.wait_for(1)
    page.goto(link_in(email.text))
    shoot(page, "8-reset-password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password, again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save my new password").click()
    shoot(page, "9-password-changed")
    changed = heading(page)
    page.goto(link_in(email.text))
    reused = heading(page)
    login = call(
        "POST",
        f"{live_server.url}/api/auth/login",
        {"email": "grace@example.com", "password": NEW_PASSWORD},
    )

    assert (changed, reused, login.status) == (
        "Your password is changed",
        "This link is invalid or has expired",
        200,
    )
