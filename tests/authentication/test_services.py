"""Account services on the real PostgreSQL; the email enqueue on the real Redis."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from knox.models import AuthToken

from authentication import services, tokens
from authentication.models import Registration, User
from emails.models import Email
from remosphere.exceptions import ApplicationError
from tests.support.hashers import CountingHasher

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-and-unusual-passphrase"
QUEUE = "remosphere"


def verified_user(email: str = "ada@example.com") -> User:
    return User.objects.create_user(email, PASSWORD, email_verified_at=timezone.now())


def link_token(email: str) -> str:
    """The token the emailed link of ``email`` carries."""
    return tokens.token_make(tokens.VERIFICATION, User.objects.get(email=email))


def code_of(call) -> str:
    with pytest.raises(ApplicationError) as raised:
        call()
    return raised.value.code


# --- registering -------------------------------------------------------------------------


def test_register_creates_an_unverified_account_with_a_lowercased_email(redis_client):
    services.user_register(email="Ada@Example.COM", password=PASSWORD)
    user = User.objects.get()
    assert (user.email, user.email_verified) == ("ada@example.com", False)


def test_register_keeps_the_password_hashed_on_the_registration_not_the_account(redis_client):
    services.user_register(email="ada@example.com", password=PASSWORD)
    user, registration = User.objects.get(), Registration.objects.get()
    assert (
        user.has_usable_password(),
        registration.password != PASSWORD,
        check_password(PASSWORD, registration.password),
    ) == (False, True, True)


def test_register_writes_a_verification_email_to_the_outbox(redis_client):
    services.user_register(email="ada@example.com", password=PASSWORD)
    assert list(Email.objects.values_list("kind", "address", "status")) == [
        ("verification", "ada@example.com", "pending")
    ]


def test_register_rejects_a_weak_password_per_field():
    with pytest.raises(ValidationError) as raised:
        services.user_register(email="ada@example.com", password="12345678")
    assert list(raised.value.message_dict) == ["password"]


def test_register_of_a_taken_address_answers_as_a_new_one_would(redis_client):
    verified_user("ada@example.com")
    assert services.user_register(email="ADA@example.com", password=PASSWORD) == "ada@example.com"


def test_register_of_a_verified_address_changes_nothing(redis_client):
    verified_user("ada@example.com")
    services.user_register(email="ada@example.com", password="another-long-passphrase")
    assert (User.objects.get().check_password(PASSWORD), Registration.objects.count()) == (True, 0)


def test_register_of_a_taken_address_hashes_a_password_as_a_new_account_does(
    redis_client, settings
):
    settings.PASSWORD_HASHERS = ["tests.support.hashers.CountingHasher"]
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


def test_registrations_of_one_address_are_capped_to_the_newest(redis_client):
    for n in range(Registration.MAX_PER_USER + 3):
        services.user_register(email="ada@example.com", password=f"{PASSWORD}-{n}")
    assert Registration.objects.count() == Registration.MAX_PER_USER


# --- account pre-hijacking (issue 9, finding 1) --------------------------------------------

ATTACKER, OWNER = "attacker-chose-this-passphrase", "owner-chose-this-passphrase"


def login_code(password: str, email: str = "victim@example.com") -> str:
    try:
        services.user_login(email=email, password=password)
    except ApplicationError as error:
        return error.code
    return "ok"


def test_an_attacker_registering_first_loses_the_account_when_the_owner_confirms(redis_client):
    services.user_register(email="victim@example.com", password=ATTACKER)
    services.user_register(email="Victim@Example.com", password=OWNER)

    services.user_verify_email(token=link_token("victim@example.com"), password=OWNER)

    assert (login_code(OWNER), login_code(ATTACKER)) == ("ok", "invalid_credentials")


def test_an_attacker_registering_second_loses_too(redis_client):
    services.user_register(email="victim@example.com", password=OWNER)
    services.user_register(email="victim@example.com", password=ATTACKER)

    services.user_verify_email(token=link_token("victim@example.com"), password=OWNER)

    assert (login_code(OWNER), login_code(ATTACKER)) == ("ok", "invalid_credentials")


def test_the_owner_following_the_link_the_attackers_registration_sent_keeps_their_own(
    redis_client,
):
    services.user_register(email="victim@example.com", password=ATTACKER)
    attackers_link = link_token("victim@example.com")  # mailed to the owner's inbox
    services.user_register(email="victim@example.com", password=OWNER)

    services.user_verify_email(token=attackers_link, password=OWNER)

    assert (login_code(OWNER), login_code(ATTACKER)) == ("ok", "invalid_credentials")


def test_a_link_alone_never_activates_a_password_chosen_by_someone_else(redis_client):
    services.user_register(email="victim@example.com", password=ATTACKER)
    link = link_token("victim@example.com")

    refused = code_of(lambda: services.user_verify_email(token=link, password=OWNER))

    assert (refused, User.objects.get().email_verified, login_code(ATTACKER)) == (
        "wrong_password",
        False,
        "email_not_verified",
    )


def test_after_verification_registering_again_changes_no_password(redis_client):
    services.user_register(email="victim@example.com", password=OWNER)
    services.user_verify_email(token=link_token("victim@example.com"), password=OWNER)
    services.user_register(email="victim@example.com", password=ATTACKER)
    assert (login_code(OWNER), login_code(ATTACKER)) == ("ok", "invalid_credentials")


def test_concurrent_registrations_of_one_address_all_answer_and_only_the_confirmed_one_works(
    transactional_db, redis_client
):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    passwords = [f"concurrent-passphrase-{n}" for n in range(6)]

    def register(password: str) -> str:
        try:
            return services.user_register(email="race@example.com", password=password)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(len(passwords)) as pool:
        answers = list(pool.map(register, passwords))
    services.user_verify_email(token=link_token("race@example.com"), password=passwords[3])

    works = [login_code(p, "race@example.com") for p in passwords]
    assert (answers, User.objects.count(), works) == (
        ["race@example.com"] * len(passwords),
        1,
        ["invalid_credentials"] * 3 + ["ok"] + ["invalid_credentials"] * 2,
    )


# --- verifying -------------------------------------------------------------------------------


def registered(email: str = "ada@example.com") -> str:
    services.user_register(email=email, password=PASSWORD)
    return link_token(email)


def test_verify_marks_the_email_verified_and_drops_the_registrations(redis_client):
    services.user_verify_email(token=registered(), password=PASSWORD)
    user = User.objects.get()
    assert (user.email_verified, user.check_password(PASSWORD), Registration.objects.count()) == (
        True,
        True,
        0,
    )


def test_a_second_confirmation_says_already_verified(redis_client):
    token = registered()
    services.user_verify_email(token=token, password=PASSWORD)
    with pytest.raises(ApplicationError) as raised:
        services.user_verify_email(token=token, password=PASSWORD)
    assert (raised.value.code, raised.value.status_code) == ("already_verified", 409)


def test_a_tampered_token_is_invalid(redis_client):
    token = registered()
    tampered = token[:-2] + ("aa" if token[-2:] != "aa" else "bb")
    assert code_of(lambda: services.user_verify_email(token=tampered, password=PASSWORD)) == (
        "invalid_token"
    )


def test_an_expired_token_is_invalid(redis_client, settings):
    token = registered()
    settings.EMAIL_VERIFICATION_MAX_AGE = -1
    assert code_of(lambda: services.user_verify_email(token=token, password=PASSWORD)) == (
        "invalid_token"
    )


def test_a_token_for_another_purpose_is_invalid(redis_client):
    services.user_register(email="ada@example.com", password=PASSWORD)
    foreign = tokens.Purpose("another-purpose", tokens.VERIFICATION.state)
    token = tokens.token_make(foreign, User.objects.get())
    assert code_of(lambda: services.user_verify_email(token=token, password=PASSWORD)) == (
        "invalid_token"
    )


# --- logging in ------------------------------------------------------------------------------


def test_login_of_an_unverified_account_with_its_registration_password_says_verify_first(
    redis_client,
):
    services.user_register(email="ada@example.com", password=PASSWORD)
    with pytest.raises(ApplicationError) as raised:
        services.user_login(email="ada@example.com", password=PASSWORD)
    assert (raised.value.code, raised.value.status_code) == ("email_not_verified", 403)


def test_login_with_a_wrong_password_is_invalid_credentials():
    verified_user()
    assert login_code("wrong-passphrase", "ada@example.com") == "invalid_credentials"


def test_each_login_gets_its_own_expiring_token(settings):
    verified_user()
    first = services.user_login(email="ADA@example.com", password=PASSWORD)
    second = services.user_login(email="ada@example.com", password=PASSWORD)
    ttl = settings.REST_KNOX["TOKEN_TTL"]
    assert (
        first.token != second.token,
        abs((first.expiry - timezone.now()) - ttl).total_seconds() < 60,
    ) == (True, True)


def test_tokens_are_stored_hashed():
    verified_user()
    session = services.user_login(email="ada@example.com", password=PASSWORD)
    stored = AuthToken.objects.get()
    assert session.token not in (stored.digest, stored.token_key)


def test_logout_ends_only_that_session():
    user = verified_user()
    services.user_login(email="ada@example.com", password=PASSWORD)
    services.user_login(email="ada@example.com", password=PASSWORD)
    services.user_logout(token=AuthToken.objects.filter(user=user).first())
    assert AuthToken.objects.filter(user=user).count() == 1


def test_logout_everywhere_ends_every_session():
    user = verified_user()
    services.user_login(email="ada@example.com", password=PASSWORD)
    services.user_login(email="ada@example.com", password=PASSWORD)
    assert (services.user_logout_everywhere(user=user), AuthToken.objects.count()) == (2, 0)


def test_a_password_change_ends_every_session():
    user = verified_user()
    services.user_login(email="ada@example.com", password=PASSWORD)
    user.set_password("another-long-passphrase")
    user.save()
    assert AuthToken.objects.count() == 0


# --- the per-account limit (issue 9, finding 6) ------------------------------------------


def test_guesses_at_one_account_are_limited_whatever_the_address(redis_client, settings):
    settings.THROTTLE_RATE_LOGIN_ACCOUNT = "3/minute"
    verified_user()
    codes = [login_code("wrong-passphrase", "ada@example.com") for _ in range(3)]
    with pytest.raises(ApplicationError) as raised:
        services.user_login(email="ada@example.com", password=PASSWORD)
    assert (codes, raised.value.code, raised.value.status_code, raised.value.retry_after > 0) == (
        ["invalid_credentials"] * 3,
        "throttled",
        429,
        True,
    )


def test_the_per_account_limit_leaves_other_accounts_alone(redis_client, settings):
    settings.THROTTLE_RATE_LOGIN_ACCOUNT = "2/minute"
    verified_user("ada@example.com")
    verified_user("grace@example.com")
    for _ in range(3):
        login_code("wrong-passphrase", "ada@example.com")
    assert login_code(PASSWORD, "grace@example.com") == "ok"


# --- resending ---------------------------------------------------------------------------


@pytest.mark.parametrize("address", ["nobody@example.com", "ada@example.com", "new@example.com"])
def test_resend_writes_the_same_outbox_row_whoever_the_address_is(redis_client, address):
    verified_user("ada@example.com")
    services.user_register(email="new@example.com", password=PASSWORD)
    Email.objects.all().delete()
    services.verification_email_resend(email=address)
    assert list(Email.objects.values_list("kind", "address")) == [("verification", address)]


def test_resend_enqueues_one_task_on_commit(redis_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.verification_email_resend(email="nobody@example.com")
    assert redis_client.llen(QUEUE) == 1


# --- password reset (issue 10) -----------------------------------------------------------


def reset_token(email: str = "ada@example.com") -> str:
    return tokens.token_make(tokens.PASSWORD_RESET, User.objects.get(email=email))


@pytest.mark.parametrize("address", ["nobody@example.com", "ada@example.com"])
def test_a_reset_request_writes_the_same_outbox_row_whoever_the_address_is(redis_client, address):
    verified_user("ada@example.com")
    services.password_reset_request(email=address)
    assert list(Email.objects.values_list("kind", "address")) == [("password_reset", address)]


def test_a_reset_sets_the_new_password_and_ends_every_session(redis_client):
    verified_user()
    services.user_login(email="ada@example.com", password=PASSWORD)
    services.password_reset_confirm(token=reset_token(), password="a-brand-new-passphrase")
    assert (login_code("a-brand-new-passphrase", "ada@example.com"), AuthToken.objects.count()) == (
        "ok",
        1,  # the login just now; the one from before the reset ended
    )


def test_a_reset_link_works_once(redis_client):
    verified_user()
    token = reset_token()
    services.password_reset_confirm(token=token, password="a-brand-new-passphrase")
    assert code_of(
        lambda: services.password_reset_confirm(token=token, password="yet-another-passphrase")
    ) == ("invalid_token")


def test_a_reset_link_expires(redis_client, settings):
    verified_user()
    token = reset_token()
    settings.PASSWORD_RESET_MAX_AGE = -1
    assert code_of(
        lambda: services.password_reset_confirm(token=token, password="a-brand-new-passphrase")
    ) == ("invalid_token")


def test_a_reset_refuses_a_weak_password_per_field(redis_client):
    verified_user()
    with pytest.raises(ValidationError) as raised:
        services.password_reset_confirm(token=reset_token(), password="12345678")
    assert list(raised.value.message_dict) == ["password"]


def test_a_verification_link_is_no_reset_link(redis_client):
    services.user_register(email="ada@example.com", password=PASSWORD)
    assert code_of(
        lambda: services.password_reset_confirm(token=link_token("ada@example.com"), password=OWNER)
    ) == ("invalid_token")


def test_the_owner_of_an_address_someone_else_registered_takes_it_with_a_reset(redis_client):
    services.user_register(email="victim@example.com", password=ATTACKER)
    services.password_reset_confirm(token=reset_token("victim@example.com"), password=OWNER)
    user = User.objects.get()
    assert (
        user.email_verified,
        login_code(OWNER),
        login_code(ATTACKER),
        user.registrations.count(),
    ) == (
        True,
        "ok",
        "invalid_credentials",
        0,
    )


def test_registering_a_verified_address_tells_its_owner(redis_client):
    verified_user("ada@example.com")
    services.user_register(email="ada@example.com", password="another-long-passphrase")
    assert list(Email.objects.values_list("kind", "address")) == [
        ("account_exists", "ada@example.com")
    ]
