"""No answer reveals whether an address has an account: register, resend and login
answer the same, and spend the same password hashing, for known and unknown addresses;
resend runs the very same database statements for both (its timing told them apart)."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from authentication.models import User
from tests.support.hashers import CountingHasher

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-and-unusual-passphrase"


@pytest.fixture
def known() -> User:
    return User.objects.create_user("known@example.com", PASSWORD, email_verified_at=timezone.now())


def answer(path: str, body: dict) -> tuple[int, object]:
    response = APIClient().post(f"/api/auth/{path}", body, format="json")
    return response.status_code, response.json()


def test_login_answers_an_unknown_address_as_a_wrong_password(known):
    unknown = answer("login", {"email": "nobody@example.com", "password": PASSWORD})
    wrong = answer("login", {"email": "known@example.com", "password": "not-the-passphrase"})
    assert unknown == wrong


def test_login_hashes_a_password_for_an_unknown_address_too(known, settings):
    settings.PASSWORD_HASHERS = ["tests.support.hashers.CountingHasher"]
    known.set_password(PASSWORD)
    known.save()
    CountingHasher.calls = 0
    answer("login", {"email": "known@example.com", "password": "not-the-passphrase"})
    for_known = CountingHasher.calls
    CountingHasher.calls = 0
    answer("login", {"email": "nobody@example.com", "password": "not-the-passphrase"})
    assert CountingHasher.calls == for_known


def test_resend_answers_a_known_address_as_an_unknown_one(known, redis_client):
    assert answer("resend-verification", {"email": "known@example.com"}) == answer(
        "resend-verification", {"email": "nobody@example.com"}
    )


def test_register_answers_a_known_address_as_a_new_one(known, redis_client):
    status, body = answer("register", {"email": "known@example.com", "password": PASSWORD})
    new_status, new_body = answer("register", {"email": "new@example.com", "password": PASSWORD})
    assert (status, body["detail"]) == (new_status, new_body["detail"])


# What differs between any two runs: savepoint names and timestamps.
VARYING = re.compile(r'"s\d+_x\d+"|\'[0-9-]+ [0-9:.+]+\'::timestamptz')


def statements_of_a_resend(address: str) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        answer("resend-verification", {"email": address})
    return [
        VARYING.sub("<varies>", query["sql"].replace(address, "<address>"))
        for query in captured.captured_queries
    ]


@pytest.mark.parametrize("address", ["known@example.com", "unverified@example.com"])
def test_resend_does_the_same_database_work_for_any_address(known, address, redis_client):
    User.objects.create_user("unverified@example.com")
    assert statements_of_a_resend(address) == statements_of_a_resend("nobody@example.com")
