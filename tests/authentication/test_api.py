"""The JSON API: status codes, one error shape everywhere, never a 500."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from authentication import tokens
from authentication.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-and-unusual-passphrase"


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def post(api: APIClient, path: str, body: object):
    return api.post(f"/api/auth/{path}", body, format="json")


def verified(email: str = "ada@example.com") -> User:
    return User.objects.create_user(email, PASSWORD, email_verified_at=timezone.now())


def logged_in(api: APIClient) -> str:
    verified()
    token = post(api, "login", {"email": "ada@example.com", "password": PASSWORD}).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return token


def link_token(email: str = "ada@example.com") -> str:
    return tokens.token_make(tokens.VERIFICATION, User.objects.get(email=email))


# --- register -------------------------------------------------------------------------------


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
def test_register_answers_400_invalid_naming_the_bad_fields(api, body, fields):
    response = post(api, "register", body)
    body = response.json()
    assert (response.status_code, body["code"], sorted(body["fields"])) == (400, "invalid", fields)


def test_register_of_a_taken_address_answers_exactly_as_for_a_new_one(api, redis_client):
    new = post(api, "register", {"email": "new@example.com", "password": PASSWORD})
    verified("ada@example.com")
    taken = post(api, "register", {"email": "ada@example.com", "password": PASSWORD})
    assert (taken.status_code, taken.json()["detail"]) == (new.status_code, new.json()["detail"])


# --- bodies ---------------------------------------------------------------------------------


def test_invalid_json_answers_400_parse_error(api):
    response = api.post("/api/auth/register", "{not json", content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (400, "parse_error")


def test_a_json_array_body_answers_400(api):
    response = api.post("/api/auth/register", "[1, 2]", content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (400, "invalid")


def test_a_form_body_answers_415_with_a_code(api):
    response = api.post(
        "/api/auth/register", "email=a", content_type="application/x-www-form-urlencoded"
    )
    assert (response.status_code, response.json()["code"]) == (415, "unsupported_media_type")


def test_asking_for_html_from_the_api_answers_406_with_a_code(api):
    response = api.get("/api/auth/me", HTTP_ACCEPT="text/html")
    assert (response.status_code, response.json()["code"]) == (406, "not_acceptable")


def test_an_unknown_api_path_answers_404_in_the_error_shape(api):
    response = api.get("/api/auth/no-such-thing")
    assert (response.status_code, response.json()) == (
        404,
        {"detail": "Not found.", "code": "not_found"},
    )


def test_a_wrong_method_answers_405_with_a_code(api):
    response = api.get("/api/auth/login")
    assert (response.status_code, response.json()["code"]) == (405, "method_not_allowed")


# --- verify ---------------------------------------------------------------------------------


def test_verify_with_the_registration_password_answers_200(api, redis_client):
    post(api, "register", {"email": "ada@example.com", "password": PASSWORD})
    response = post(api, "verify-email", {"token": link_token(), "password": PASSWORD})
    assert (response.status_code, response.json()["email_verified"]) == (200, True)


def test_verify_with_another_password_answers_400_wrong_password(api, redis_client):
    post(api, "register", {"email": "ada@example.com", "password": PASSWORD})
    response = post(api, "verify-email", {"token": link_token(), "password": "not-this-one-1"})
    assert (response.status_code, response.json()["code"]) == (400, "wrong_password")


def test_verify_twice_answers_409_already_verified(api, redis_client):
    post(api, "register", {"email": "ada@example.com", "password": PASSWORD})
    body = {"token": link_token(), "password": PASSWORD}
    post(api, "verify-email", body)
    response = post(api, "verify-email", body)
    assert (response.status_code, response.json()["code"]) == (409, "already_verified")


def test_verify_with_a_bad_token_answers_400_invalid_token(api):
    response = post(api, "verify-email", {"token": "garbage", "password": PASSWORD})
    assert (response.status_code, response.json()["code"]) == (400, "invalid_token")


def test_verify_no_longer_answers_a_get(api):
    assert api.get("/api/auth/verify-email", {"token": "x"}).status_code == 405


# --- resend ---------------------------------------------------------------------------------


def test_resend_answers_the_same_for_known_and_unknown_addresses(api, redis_client):
    User.objects.create_user("ada@example.com")
    known = post(api, "resend-verification", {"email": "ada@example.com"})
    unknown = post(api, "resend-verification", {"email": "nobody@example.com"})
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())


# --- login, sessions ---------------------------------------------------------------------------


def test_login_of_an_unverified_user_answers_403_email_not_verified(api, redis_client):
    post(api, "register", {"email": "ada@example.com", "password": PASSWORD})
    response = post(api, "login", {"email": "ada@example.com", "password": PASSWORD})
    assert (response.status_code, response.json()["code"]) == (403, "email_not_verified")


def test_login_with_wrong_credentials_answers_400(api):
    response = post(api, "login", {"email": "nobody@example.com", "password": PASSWORD})
    assert (response.status_code, response.json()["code"]) == (400, "invalid_credentials")


def test_login_gives_a_token_with_its_expiry_that_authenticates_me(api):
    verified()
    body = post(api, "login", {"email": "ada@example.com", "password": PASSWORD}).json()
    api.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert (api.get("/api/auth/me").json()["email"], "expiry" in body) == ("ada@example.com", True)


def test_me_without_a_token_answers_401_not_authenticated(api):
    response = api.get("/api/auth/me")
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")


def test_an_expired_token_answers_401(api, settings):
    from knox.models import AuthToken

    logged_in(api)
    AuthToken.objects.update(expiry=timezone.now())
    response = api.get("/api/auth/me")
    assert (response.status_code, response.json()["code"]) == (401, "authentication_failed")


def test_logout_ends_that_token_only(api):
    logged_in(api)
    other = APIClient()
    login = post(other, "login", {"email": "ada@example.com", "password": PASSWORD})
    other.credentials(HTTP_AUTHORIZATION=f"Token {login.json()['token']}")
    api.post("/api/auth/logout")
    assert (api.get("/api/auth/me").status_code, other.get("/api/auth/me").status_code) == (
        401,
        200,
    )


def test_logout_everywhere_ends_every_token(api):
    logged_in(api)
    other = APIClient()
    token = post(other, "login", {"email": "ada@example.com", "password": PASSWORD}).json()
    other.credentials(HTTP_AUTHORIZATION=f"Token {token['token']}")
    api.post("/api/auth/logout-everywhere")
    assert other.get("/api/auth/me").status_code == 401


def test_a_password_change_ends_every_token(api):
    logged_in(api)
    user = User.objects.get()
    user.set_password("another-long-passphrase")
    user.save()
    assert api.get("/api/auth/me").status_code == 401


# --- caching (issue 9, finding 12) -----------------------------------------------------------


def test_answers_with_a_token_or_account_data_may_not_be_stored(api):
    verified()
    login = post(api, "login", {"email": "ada@example.com", "password": PASSWORD})
    api.credentials(HTTP_AUTHORIZATION=f"Token {login.json()['token']}")
    me = api.get("/api/auth/me")
    assert ["no-store" in r["Cache-Control"] for r in (login, me)] == [True, True]


# --- OpenAPI --------------------------------------------------------------------------------


def test_openapi_document_lists_every_endpoint(api):
    document = api.get("/api/schema/", {"format": "json"}).json()
    assert sorted(document["paths"]) == [
        "/api/auth/login",
        "/api/auth/logout",
        "/api/auth/logout-everywhere",
        "/api/auth/me",
        "/api/auth/password-reset",
        "/api/auth/password-reset/confirm",
        "/api/auth/register",
        "/api/auth/resend-verification",
        "/api/auth/verify-email",
    ]


def test_openapi_document_is_openapi_3(api):
    assert api.get("/api/schema/", {"format": "json"}).json()["openapi"].startswith("3.")


def test_openapi_document_generates_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


# --- password reset (issue 10) -----------------------------------------------------------


def test_a_reset_request_answers_the_same_for_known_and_unknown_addresses(api, redis_client):
    verified()
    known = post(api, "password-reset", {"email": "ada@example.com"})
    unknown = post(api, "password-reset", {"email": "nobody@example.com"})
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())


def test_a_reset_with_its_token_sets_the_password(api):
    user = verified()
    token = tokens.token_make(tokens.PASSWORD_RESET, user)
    response = post(
        api, "password-reset/confirm", {"token": token, "password": "a-new-passphrase-9"}
    )
    login = post(api, "login", {"email": "ada@example.com", "password": "a-new-passphrase-9"})
    assert (response.status_code, login.status_code) == (200, 200)


def test_a_reset_with_a_bad_token_answers_400_invalid_token(api):
    response = post(
        api, "password-reset/confirm", {"token": "nope", "password": "a-new-passphrase-9"}
    )
    assert (response.status_code, response.json()["code"]) == (400, "invalid_token")


def test_a_reset_with_a_weak_password_answers_400_naming_the_field(api):
    token = tokens.token_make(tokens.PASSWORD_RESET, verified())
    response = post(api, "password-reset/confirm", {"token": token, "password": "123"})
    assert (response.status_code, list(response.json()["fields"])) == (400, ["password"])
