"""The JSON API: status codes and per-field errors, never a 500."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from authentication.models import User
from authentication.tokens import verification_token_make

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-and-unusual-passphrase"


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def post(api: APIClient, path: str, body: object):
    return api.post(f"/api/auth/{path}", body, format="json")


def test_register_answers_201_with_the_address(api, redis_client):
    response = post(api, "register", {"email": "Ada@example.com", "password": PASSWORD})
    assert (response.status_code, response.json()["email"]) == (201, "ada@example.com")


def test_register_never_returns_the_password(api, redis_client):
    response = post(api, "register", {"email": "ada@example.com", "password": PASSWORD})
    assert "password" not in response.json()


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["email", "password"]),
        ({"email": "ada@example.com"}, ["password"]),
        ({"email": "not-an-email", "password": PASSWORD}, ["email"]),
        ({"email": "ada@example.com", "password": "password"}, ["password"]),
        ({"email": ["x"], "password": PASSWORD}, ["email"]),
        ({"email": "ada@example.com", "password": "x" * 200}, ["password"]),
    ],
)
def test_register_answers_400_naming_the_bad_fields(api, body, fields):
    response = post(api, "register", body)
    assert (response.status_code, sorted(response.json())) == (400, fields)


def test_register_of_a_taken_address_answers_exactly_as_for_a_new_one(api, redis_client):
    new = post(api, "register", {"email": "new@example.com", "password": PASSWORD})
    User.objects.create_user("ada@example.com", PASSWORD, email_verified_at=timezone.now())
    taken = post(api, "register", {"email": "ada@example.com", "password": PASSWORD})
    assert (taken.status_code, taken.json()["detail"]) == (new.status_code, new.json()["detail"])


def test_invalid_json_answers_400(api):
    response = api.post("/api/auth/register", "{not json", content_type="application/json")
    assert response.status_code == 400


def test_a_json_array_body_answers_400(api):
    response = api.post("/api/auth/register", "[1, 2]", content_type="application/json")
    assert response.status_code == 400


def test_a_form_body_answers_415(api):
    response = api.post(
        "/api/auth/register", "email=a", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415


def test_verify_by_post_answers_200(api):
    user = User.objects.create_user("ada@example.com", PASSWORD)
    response = post(api, "verify-email", {"token": verification_token_make(user)})
    assert (response.status_code, response.json()["email_verified"]) == (200, True)


def test_verify_by_link_answers_200(api):
    user = User.objects.create_user("ada@example.com", PASSWORD)
    response = api.get("/api/auth/verify-email", {"token": verification_token_make(user)})
    assert response.status_code == 200


def test_verify_with_a_bad_token_answers_400_invalid_token(api):
    response = post(api, "verify-email", {"token": "garbage"})
    assert (response.status_code, response.json()["code"]) == (400, "invalid_token")


def test_verify_link_without_a_token_answers_400(api):
    assert api.get("/api/auth/verify-email").status_code == 400


def test_resend_answers_the_same_for_known_and_unknown_addresses(api, redis_client):
    User.objects.create_user("ada@example.com", PASSWORD)
    known = post(api, "resend-verification", {"email": "ada@example.com"})
    unknown = post(api, "resend-verification", {"email": "nobody@example.com"})
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())


def test_login_of_an_unverified_user_answers_403_email_not_verified(api):
    User.objects.create_user("ada@example.com", PASSWORD)
    response = post(api, "login", {"email": "ada@example.com", "password": PASSWORD})
    assert (response.status_code, response.json()["code"]) == (403, "email_not_verified")


def test_login_with_wrong_credentials_answers_400(api):
    response = post(api, "login", {"email": "nobody@example.com", "password": PASSWORD})
    assert (response.status_code, response.json()["code"]) == (400, "invalid_credentials")


def test_login_token_authenticates_me(api):
    User.objects.create_user("ada@example.com", PASSWORD, email_verified_at=timezone.now())
    token = post(api, "login", {"email": "ada@example.com", "password": PASSWORD}).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/auth/me").json()["email"] == "ada@example.com"


def test_me_without_a_token_answers_401(api):
    assert api.get("/api/auth/me").status_code == 401


def test_logout_revokes_the_token(api):
    User.objects.create_user("ada@example.com", PASSWORD, email_verified_at=timezone.now())
    token = post(api, "login", {"email": "ada@example.com", "password": PASSWORD}).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    api.post("/api/auth/logout")
    assert api.get("/api/auth/me").status_code == 401


def test_openapi_document_lists_every_endpoint(api):
    document = api.get("/api/schema/", {"format": "json"}).json()
    assert sorted(document["paths"]) == [
        "/api/auth/login",
        "/api/auth/logout",
        "/api/auth/me",
        "/api/auth/register",
        "/api/auth/resend-verification",
        "/api/auth/verify-email",
    ]


def test_openapi_document_is_openapi_3(api):
    assert api.get("/api/schema/", {"format": "json"}).json()["openapi"].startswith("3.")


def test_openapi_document_generates_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
