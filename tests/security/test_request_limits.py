"""Request bodies: too large is 413, not JSON is 415, malformed is 400; never a 500."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_a_body_over_the_limit_answers_413():
    body = '{"email": "a@example.com", "password": "' + "x" * 20_000 + '"}'
    response = APIClient().post("/api/auth/register", body, content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (413, "too_large")


def test_a_body_that_is_not_utf8_answers_400():
    response = APIClient().post(
        "/api/auth/login", b'{"email": "\xff\xfe"}', content_type="application/json"
    )
    assert response.status_code == 400


def test_a_text_body_answers_415():
    response = APIClient().post("/api/auth/login", "hello", content_type="text/plain")
    assert response.status_code == 415
