"""Account services on the real PostgreSQL; the email enqueue on the real Redis."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from authentication import services
from authentication.models import User, VerificationEmail
from authentication.tokens import verification_token_make
from remosphere.exceptions import ApplicationError
from tests.authentication.counting_hasher import CountingHasher

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-and-unusual-passphrase"
QUEUE = "remosphere"


def verified_user(email: str = "ada@example.com") -> User:
    return User.objects.create_user(email, PASSWORD, email_verified_at=timezone.now())


def test_register_stores_an_unverified_user_with_a_lowercased_email(redis_client):
    services.user_register(email="Ada@Example.COM", password=PASSWORD)
    user = User.objects.get()
    assert (user.email, user.email_verified) == ("ada@example.com", False)


def test_register_hashes_the_password(redis_client):
    services.user_register(email="ada@example.com", password=PASSWORD)
    user = User.objects.get()
    assert user.password != PASSWORD and user.check_password(PASSWORD)


def test_register_writes_the_users_verification_email_to_the_outbox(redis_client):
    services.user_register(email="ada@example.com", password=PASSWORD)
    assert list(VerificationEmail.objects.values_list("user__email", "status")) == [
        ("ada@example.com", "pending")
    ]


def test_register_rejects_a_weak_password_per_field():
    with pytest.raises(ValidationError) as raised:
        services.user_register(email="ada@example.com", password="12345678")
    assert list(raised.value.message_dict) == ["password"]


def test_register_of_a_taken_address_answers_as_a_new_one_would(redis_client):
    verified_user("ada@example.com")
    assert services.user_register(email="ADA@example.com", password=PASSWORD) == ("ada@example.com")


def test_register_of_a_taken_address_creates_nothing(redis_client):
    verified_user("ada@example.com")
    services.user_register(email="ada@example.com", password="another-long-passphrase")
    assert User.objects.get().check_password(PASSWORD)


def test_register_of_a_taken_verified_address_sends_nothing(redis_client):
    verified_user("ada@example.com")
    services.user_register(email="ada@example.com", password=PASSWORD)
    assert VerificationEmail.objects.count() == 0


def test_register_of_a_taken_unverified_address_sends_its_owner_the_link_again(
    redis_client, django_capture_on_commit_callbacks
):
    User.objects.create_user("ada@example.com", PASSWORD)
    with django_capture_on_commit_callbacks(execute=True):
        services.user_register(email="ada@example.com", password="another-long-passphrase")
    assert redis_client.llen(QUEUE) == 1


def test_register_of_a_taken_address_hashes_a_password_as_a_new_account_does(
    redis_client, settings
):
    settings.PASSWORD_HASHERS = ["tests.authentication.counting_hasher.CountingHasher"]
    CountingHasher.calls = 0
    services.user_register(email="new@example.com", password=PASSWORD)
    for_new = CountingHasher.calls
    verified_user("ada@example.com")
    CountingHasher.calls = 0
    services.user_register(email="ada@example.com", password=PASSWORD)
    assert CountingHasher.calls == for_new


def test_register_enqueues_nothing_before_commit(redis_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        services.user_register(email="ada@example.com", password=PASSWORD)
    assert redis_client.llen(QUEUE) == 0


def test_register_enqueues_one_email_task_on_commit(
    redis_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.user_register(email="ada@example.com", password=PASSWORD)
    assert redis_client.llen(QUEUE) == 1


def test_verify_marks_the_email_verified():
    user = User.objects.create_user("ada@example.com", PASSWORD)
    services.user_verify_email(token=verification_token_make(user))
    user.refresh_from_db()
    assert user.email_verified


def test_a_token_works_only_once():
    user = User.objects.create_user("ada@example.com", PASSWORD)
    token = verification_token_make(user)
    services.user_verify_email(token=token)
    with pytest.raises(ApplicationError, match="invalid or has expired"):
        services.user_verify_email(token=token)


def test_a_tampered_token_is_invalid():
    user = User.objects.create_user("ada@example.com", PASSWORD)
    token = verification_token_make(user)
    with pytest.raises(ApplicationError):
        services.user_verify_email(token=token[:-2] + ("aa" if token[-2:] != "aa" else "bb"))


def test_an_expired_token_is_invalid(settings):
    user = User.objects.create_user("ada@example.com", PASSWORD)
    token = verification_token_make(user)
    settings.EMAIL_VERIFICATION_MAX_AGE = -1
    with pytest.raises(ApplicationError):
        services.user_verify_email(token=token)


def test_a_password_change_invalidates_earlier_tokens():
    user = User.objects.create_user("ada@example.com", PASSWORD)
    token = verification_token_make(user)
    user.set_password("another-long-passphrase")
    user.save()
    with pytest.raises(ApplicationError):
        services.user_verify_email(token=token)


def test_login_of_an_unverified_user_is_refused_with_a_clear_code():
    User.objects.create_user("ada@example.com", PASSWORD)
    with pytest.raises(ApplicationError) as raised:
        services.user_login(email="ada@example.com", password=PASSWORD)
    assert (raised.value.code, raised.value.status_code) == ("email_not_verified", 403)


def test_login_with_a_wrong_password_is_invalid_credentials():
    verified_user()
    with pytest.raises(ApplicationError) as raised:
        services.user_login(email="ada@example.com", password="wrong-passphrase")
    assert raised.value.code == "invalid_credentials"


def test_login_of_a_verified_user_returns_a_token():
    verified_user()
    _, token = services.user_login(email="ADA@example.com", password=PASSWORD)
    assert len(token) == 40


def test_logout_deletes_the_token():
    user = verified_user()
    _, token = services.user_login(email="ada@example.com", password=PASSWORD)
    services.user_logout(user=user)
    _, new_token = services.user_login(email="ada@example.com", password=PASSWORD)
    assert new_token != token


def test_resend_to_an_unknown_address_enqueues_nothing(
    redis_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.verification_email_resend(email="nobody@example.com")
    assert redis_client.llen(QUEUE) == 0


def test_resend_to_a_verified_address_enqueues_nothing(
    redis_client, django_capture_on_commit_callbacks
):
    verified_user()
    with django_capture_on_commit_callbacks(execute=True):
        services.verification_email_resend(email="ada@example.com")
    assert redis_client.llen(QUEUE) == 0


def test_resend_to_an_unverified_address_enqueues_one_task(
    redis_client, django_capture_on_commit_callbacks
):
    User.objects.create_user("ada@example.com", PASSWORD)
    with django_capture_on_commit_callbacks(execute=True):
        services.verification_email_resend(email="ada@example.com")
    assert redis_client.llen(QUEUE) == 1
