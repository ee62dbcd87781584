"""Every kind of email, rendered from its templates with realistic data: a text part and
an HTML part, the product's name, what it is for, the link (as a button and as a plain
URL, a token that works), how long it works, what to do if you did not ask for it, and
nothing loaded from elsewhere."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.utils import timezone

from authentication import tokens
from authentication.models import User
from emails import messages
from emails.kinds import Kind

pytestmark = pytest.mark.django_db

KINDS = sorted(Kind.values)
# The token each kind's link carries (authentication/email_kinds.py).
PURPOSE = {
    Kind.VERIFICATION: tokens.VERIFICATION,
    Kind.PASSWORD_RESET: tokens.PASSWORD_RESET,
    Kind.ACCOUNT_EXISTS: tokens.PASSWORD_RESET,
}


@pytest.fixture
def ada() -> User:
    return User.objects.create_user(
        "ada@example.com", "a-long-passphrase", email_verified_at=timezone.now()
    )


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


@pytest.mark.parametrize("kind", KINDS)
def test_both_parts_carry_the_same_working_link(kind, ada, settings):
    settings.EMAIL_VERIFICATION_URL = "https://remosphere.example/verify-email"
    settings.PASSWORD_RESET_URL = "https://remosphere.example/reset-password"
    message = messages.message(kind, ada)
    [text_link] = re.findall(r"https://remosphere\.example/\S+", message.text)
    html_links = set(re.findall(r'href="(https://remosphere\.example/[^"]+)"', message.html))
    purpose = PURPOSE[kind]
    assert (
        html_links == {text_link.replace("&", "&amp;")},
        tokens.token_user(purpose, token_of(text_link), max_age=60) == ada,
    ) == (True, True)


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("verification", ["Confirm your email address", "3 days", "Did not sign up?"]),
        ("password_reset", ["Reset your password", "1 hour", "Did not ask for this?"]),
        ("account_exists", ["already has an account", "1 hour", "Not you?"]),
    ],
)
def test_each_part_says_what_it_is_for_how_long_it_works_and_what_if_not_you(kind, says, ada):
    message = messages.message(kind, ada)
    for part in (message.text, message.html):
        assert [phrase for phrase in [*says, "RemoSphere", ada.email] if phrase not in part] == []


@pytest.mark.parametrize("kind", KINDS)
def test_no_part_loads_anything_from_elsewhere(kind, ada):
    html = messages.message(kind, ada).html
    assert (
        re.findall(r"<img|src=|url\(|<script|<link", html, re.IGNORECASE),
        "<a href=" in html,
    ) == (
        [],
        True,
    )


@pytest.mark.parametrize("kind", KINDS)
def test_the_subject_names_the_product(kind, ada):
    assert "RemoSphere" in messages.message(kind, ada).subject


def test_lifetimes_read_as_people_say_them():
    assert [messages.for_people(s) for s in (30, 90, 3600, 7200, 86400, 259200)] == [
        "30 seconds",
        "1 minute",
        "1 hour",
        "2 hours",
        "1 day",
        "3 days",
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_preview_email_writes_both_parts_for_a_person_to_open(kind, tmp_path):
    call_command("preview_email", kind, "--to", str(tmp_path))
    text, html = (tmp_path / f"{kind}.txt").read_text(), (tmp_path / f"{kind}.html").read_text()
    assert (
        text.startswith("Subject: "),
        "token=" in text,
        html.lstrip().startswith("<!DOCTYPE html>"),
    ) == (
        True,
        True,
        True,
    )
