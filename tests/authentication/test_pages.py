"""The pages email links open, through Django's test client (the browser test drives
them in Chromium): what each shows, that opening changes nothing, headers, limits."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from authentication import services, tokens
from authentication.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-and-unusual-passphrase"


@pytest.fixture
def registered(redis_client) -> str:
    """A registration of ada@example.com; the token of its link."""
    services.user_register(email="ada@example.com", password=PASSWORD)
    return tokens.token_make(tokens.VERIFICATION, User.objects.get())


def heading(response) -> str:
    html = response.content.decode()
    return html.split("<h1>", 1)[1].split("</h1>", 1)[0]


def test_opening_the_link_shows_a_form_and_changes_nothing(registered):
    response = Client().get("/verify-email", {"token": registered}, HTTP_ACCEPT="text/html")
    assert (response.status_code, heading(response), User.objects.get().email_verified) == (
        200,
        "Confirm your email address",
        False,
    )


def test_token_pages_are_never_cached_and_tell_no_other_site_their_address(registered):
    response = Client().get("/verify-email", {"token": registered})
    assert ("no-store" in response["Cache-Control"], response["Referrer-Policy"]) == (
        True,
        "same-origin",
    )


def test_the_button_confirms_with_the_password(registered):
    response = Client().post("/verify-email", {"token": registered, "password": PASSWORD})
    assert (heading(response), User.objects.get().email_verified) == (
        "Your email address is confirmed",
        True,
    )


def test_a_wrong_password_shows_the_form_with_the_reason(registered):
    response = Client().post("/verify-email", {"token": registered, "password": "not-mine-at-all"})
    assert (
        response.status_code,
        heading(response),
        "not the password" in response.content.decode(),
    ) == (
        400,
        "Confirm your email address",
        True,
    )


def test_a_second_visit_says_already_verified(registered):
    Client().post("/verify-email", {"token": registered, "password": PASSWORD})
    response = Client().get("/verify-email", {"token": registered})
    assert (response.status_code, heading(response)) == (200, "This address is already confirmed")


@pytest.mark.parametrize("token", ["", "garbage", "eyJ1IjoxfQ:1abc:def"])
def test_a_bad_link_says_so_and_offers_a_new_one(token):
    response = Client().get("/verify-email", {"token": token})
    html = response.content.decode()
    assert (response.status_code, heading(response), 'action="/verify-email/new-link"' in html) == (
        400,
        "This link is invalid or has expired",
        True,
    )


def test_asking_for_a_new_link_answers_the_same_for_any_address(registered):
    known = Client().post("/verify-email/new-link", {"email": "ada@example.com"})
    unknown = Client().post("/verify-email/new-link", {"email": "nobody@example.com"})
    same = known.content.decode().replace("ada@", "x@") == unknown.content.decode().replace(
        "nobody@", "x@"
    )
    assert (known.status_code, unknown.status_code, same) == (200, 200, True)


def test_forms_need_their_csrf_token(registered):
    response = Client(enforce_csrf_checks=True).post(
        "/verify-email", {"token": registered, "password": PASSWORD}
    )
    assert (response.status_code, User.objects.get().email_verified) == (403, False)


def test_a_page_over_the_rate_limit_answers_429_with_the_form(registered, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "login": "1/minute",
        },
    }
    Client().post("/verify-email", {"token": registered, "password": "a-wrong-guess-1"})
    response = Client().post("/verify-email", {"token": registered, "password": PASSWORD})
    assert (response.status_code, "Too many attempts" in response.content.decode()) == (429, True)


def test_the_reset_page_without_a_token_asks_for_the_address():
    response = Client().get("/reset-password", {"email": "ada@example.com"})
    assert (heading(response), 'value="ada@example.com"' in response.content.decode()) == (
        "Choose a new password",
        True,
    )


def test_the_reset_page_sets_the_new_password(redis_client):
    user = User.objects.create_user("ada@example.com", PASSWORD, email_verified_at=timezone.now())
    token = tokens.token_make(tokens.PASSWORD_RESET, user)
    response = Client().post(
        "/reset-password",
        {"token": token, "password": "a-new-passphrase-9", "password_again": "a-new-passphrase-9"},
    )
    user.refresh_from_db()
    assert (heading(response), user.check_password("a-new-passphrase-9")) == (
        "Your password is changed",
        True,
    )


def test_the_reset_page_refuses_two_different_passwords(redis_client):
    user = User.objects.create_user("ada@example.com", PASSWORD, email_verified_at=timezone.now())
    token = tokens.token_make(tokens.PASSWORD_RESET, user)
    response = Client().post(
        "/reset-password",
        {"token": token, "password": "a-new-passphrase-9", "password_again": "a-new-passphrase-8"},
    )
    assert (response.status_code, "not the same" in response.content.decode()) == (400, True)


def test_the_reset_page_shows_the_password_validators_reasons(redis_client):
    user = User.objects.create_user("ada@example.com", PASSWORD, email_verified_at=timezone.now())
    token = tokens.token_make(tokens.PASSWORD_RESET, user)
    response = Client().post(
        "/reset-password", {"token": token, "password": "12345678", "password_again": "12345678"}
    )
    assert (response.status_code, "too common" in response.content.decode()) == (400, True)
