"""Passwords are hashed with Argon2id at OWASP's minimum; a password stored with Django's
former PBKDF2 keeps working and is re-hashed with Argon2id at its owner's next login,
without ending any session; an unknown address costs the same hash as a known one; and no
more hashes run at once in a process than PASSWORD_HASHES_AT_ONCE. On the real database."""

from __future__ import annotations

import threading
import time

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher, check_password, make_password
from django.utils import timezone
from knox.models import AuthToken

from authentication import services
from authentication.models import Registration, User
from remosphere import hashers
from remosphere.exceptions import ApplicationError
from tests.support.hashers import CountingArgon2Hasher

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-and-unusual-passphrase"
PRODUCTION = ["remosphere.hashers.Argon2idPasswordHasher",
              "django.contrib.auth.hashers.PBKDF2PasswordHasher"]  # fmt: skip
ARGON2ID = "argon2$argon2id$v=19$m=19456,t=2,p=1$"


@pytest.fixture(autouse=True)
def production_hashers(settings) -> None:
    settings.PASSWORD_HASHERS = PRODUCTION


def test_the_settings_put_argon2id_first_and_keep_pbkdf2():
    from remosphere import settings as production

    assert production.PASSWORD_HASHERS == PRODUCTION


def test_a_new_password_is_argon2id_at_owasp_s_minimum(redis_client):
    services.user_register(email="ada@example.com", password=PASSWORD)
    assert Registration.objects.get().password.startswith(ARGON2ID)


def legacy_account(email: str = "old@example.com") -> User:
    """An account from before the switch: its password as Django's default PBKDF2 made it
    (1,000,000 iterations of SHA-256)."""
    user = User.objects.create_user(email, email_verified_at=timezone.now())
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    user._password = None
    user.save(update_fields=["password"])
    return user


def test_a_pbkdf2_password_logs_in_and_is_rehashed_with_argon2id(redis_client):
    user = legacy_account()
    before = user.password
    session = services.user_login(email=user.email, password=PASSWORD)
    user.refresh_from_db()
    assert (before.startswith("pbkdf2_sha256$1000000$"), session.user.pk,
            user.password.startswith(ARGON2ID), check_password(PASSWORD, user.password)) == (
        True, user.pk, True, True)  # fmt: skip


def test_the_upgraded_hash_logs_in_and_is_not_rehashed_again(redis_client):
    user = legacy_account()
    services.user_login(email=user.email, password=PASSWORD)
    user.refresh_from_db()
    upgraded = user.password
    services.user_login(email=user.email, password=PASSWORD)
    user.refresh_from_db()
    assert user.password == upgraded


def test_the_upgrade_ends_no_session(redis_client):
    user = legacy_account()
    AuthToken.objects.create(user)  # a session from before the upgrade
    services.user_login(email=user.email, password=PASSWORD)
    assert AuthToken.objects.filter(user=user).count() == 2


def test_a_wrong_password_leaves_the_pbkdf2_hash_as_it_was(redis_client):
    user = legacy_account()
    before = user.password
    with pytest.raises(ApplicationError):
        services.user_login(email=user.email, password="not-the-password-at-all")
    user.refresh_from_db()
    assert user.password == before


def test_a_pbkdf2_registration_still_confirms_its_address_and_upgrades_at_login(redis_client):
    from authentication import tokens

    user = User.objects.create_user("new@example.com")
    Registration.objects.create(user=user, password=make_password(PASSWORD, hasher="pbkdf2_sha256"))
    token = tokens.token_make(tokens.VERIFICATION, user)
    services.user_verify_email(token=token, password=PASSWORD)
    services.user_login(email=user.email, password=PASSWORD)
    user.refresh_from_db()
    assert user.password.startswith(ARGON2ID)


def test_an_unknown_address_costs_the_same_hash_as_a_known_account(redis_client, settings):
    settings.PASSWORD_HASHERS = ["tests.support.hashers.CountingArgon2", *PRODUCTION[1:]]
    known = User.objects.create_user("ada@example.com", email_verified_at=timezone.now())
    known.set_password(PASSWORD)
    known.save()
    CountingArgon2Hasher.calls.clear()
    for email in ("ada@example.com", "nobody@example.com"):
        with pytest.raises(ApplicationError):
            services.user_login(email=email, password="a-wrong-but-long-password")
    assert CountingArgon2Hasher.calls == [("verify", 19456, 2, 1), ("encode", 19456, 2, 1)]


def test_no_more_hashes_run_at_once_than_the_setting_allows(settings):
    settings.PASSWORD_HASHES_AT_ONCE = 2
    active, peak, lock = [0], [0], threading.Lock()

    def hash_once() -> None:
        with hashers._hashing():
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            time.sleep(0.05)
            with lock:
                active[0] -= 1

    threads = [threading.Thread(target=hash_once) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak[0] == 2


def test_argon2id_hashes_verify_under_the_bound_from_many_threads(settings):
    settings.PASSWORD_HASHES_AT_ONCE = 1
    encoded = make_password(PASSWORD)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(check_password(PASSWORD, encoded)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 4
