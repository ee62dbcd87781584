"""Account business logic: registration, email verification, login, logout.

Views call these functions and do nothing else of substance. Writes run in one
transaction with the outbox row of the email they cause (``emails.outbox.email_queue``).

**No account enumeration.** Registering a taken address answers as a new one would (and
spends the same password hashing), asking for a verification email writes the same
outbox row whether or not the address has an account, and a failed login says only that
the email or password is wrong, after the same one password hash.

**No account pre-hijacking.** Anyone may register any address, any number of times; each
registration keeps the password it chose (``Registration``) and the account has no usable
password until the address is confirmed. Confirming takes the emailed token (proof of
reading the inbox) *and* a password, which must be one of the registrations' passwords:
that one becomes the account's, every other registration is dropped. So after an address
is verified, the only password that works was typed by someone holding its link, whoever
registered first, and whichever link they followed (docs/SECURITY.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.conf import settings
from django.contrib.auth.hashers import check_password, is_password_usable, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from knox.models import AuthToken
from rest_framework import status

from authentication import tokens
from authentication.models import Registration, User
from emails.kinds import Kind
from emails.outbox import email_queue
from remosphere import ratelimit
from remosphere.addresses import normalize_email
from remosphere.exceptions import ApplicationError, TooManyAttempts

logger = logging.getLogger(__name__)

INVALID_TOKEN = "This verification link is invalid or has expired."  # noqa: S105 - a message  # nosec B105
ALREADY_VERIFIED = "This email address is already verified; log in."
NOT_REGISTERED_WITH = (
    "That is not the password this address was registered with. Type the one you chose "
    "when you signed up, or set a new one with a password reset."
)
INVALID_RESET_LINK = "This password-reset link is invalid, expired or already used."
INVALID_CREDENTIALS = "Invalid email or password."
EMAIL_NOT_VERIFIED = "Verify your email address before logging in; check your inbox."


@transaction.atomic
def user_register(*, email: str, password: str) -> str:
    """Record a registration of ``email`` with ``password`` and queue the email that lets
    the address's owner confirm it; return the normalised address.

    A taken address gets the same answer and the same hashing: an unverified one gains
    one more registration (its owner gets a link), a verified one is left alone and its
    owner is told, with a way to reset the password if it was them.
    """
    email = normalize_email(email)
    try:
        validate_password(password, user=User(email=email))
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from None
    hashed = make_password(password)
    user = _account_for(email)
    if user.email_verified:
        logger.info("registration of a verified address (user %s) answered as new", user.pk)
        email_queue(kind=Kind.ACCOUNT_EXISTS, address=email)
        return email
    Registration.objects.create(user=user, password=hashed)
    _keep_newest_registrations(user)
    email_queue(kind=Kind.VERIFICATION, address=email)
    return email


@transaction.atomic
def verification_email_resend(*, email: str) -> None:
    """Ask for a new confirmation link. The same outbox row whether or not the address
    has an unverified account (the worker decides), so neither the answer nor its timing
    says which."""
    email_queue(kind=Kind.VERIFICATION, address=normalize_email(email))


def user_verify_email(*, token: str, password: str) -> User:
    """Confirm the address of the token's account with the password of one of its
    registrations; that password becomes the account's.

    ``invalid_token`` for any bad, expired or foreign token; ``already_verified`` (409)
    once the address is confirmed; ``wrong_password`` when no registration has it.
    """
    user = tokens.token_user(
        tokens.VERIFICATION, token, max_age=settings.EMAIL_VERIFICATION_MAX_AGE
    )
    if user is None or not user.is_active:
        raise ApplicationError(INVALID_TOKEN, code="invalid_token")
    if user.email_verified:
        raise ApplicationError(
            ALREADY_VERIFIED, code="already_verified", status_code=status.HTTP_409_CONFLICT
        )
    _limit_password_attempts(user.email)
    # Hashing happens before any lock is taken: each check is a few hundred milliseconds.
    chosen = next(
        (r for r in user.registrations.all() if check_password(password, r.password)), None
    )
    if chosen is None:
        raise ApplicationError(NOT_REGISTERED_WITH, code="wrong_password")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.email_verified:  # a concurrent confirmation got here first
            raise ApplicationError(
                ALREADY_VERIFIED, code="already_verified", status_code=status.HTTP_409_CONFLICT
            )
        if not user.registrations.filter(pk=chosen.pk).exists():
            raise ApplicationError(NOT_REGISTERED_WITH, code="wrong_password")
        user.password = chosen.password
        user.email_verified_at = timezone.now()
        user.save(update_fields=["password", "email_verified_at"])
        user.registrations.all().delete()
    logger.info("user %s verified their email address", user.pk)
    return user


@dataclass(frozen=True)
class Session:
    """What a login gives: the API token (shown once, stored hashed) and its expiry."""

    user: User
    token: str
    expiry: datetime


@transaction.atomic
def password_reset_request(*, email: str) -> None:
    """Ask for a password-reset link; the same outbox row whether or not the address has
    an account (the worker decides)."""
    email_queue(kind=Kind.PASSWORD_RESET, address=normalize_email(email))


def password_reset_confirm(*, token: str, password: str) -> User:
    """Set a new password with the emailed token. The link works once, and it proves the
    inbox: an unverified account becomes verified, its pending registrations dropped.
    Every API token of the account ends (``User.save``)."""
    user = tokens.token_user(tokens.PASSWORD_RESET, token, max_age=settings.PASSWORD_RESET_MAX_AGE)
    if user is None or not user.is_active:
        raise ApplicationError(INVALID_RESET_LINK, code="invalid_token")
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from None
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.password != user.password:  # a concurrent reset spent the link
            raise ApplicationError(INVALID_RESET_LINK, code="invalid_token")
        locked.set_password(password)
        if not locked.email_verified:
            locked.email_verified_at = timezone.now()
            locked.registrations.all().delete()
        locked.save()
    logger.info("user %s set a new password with a reset link", user.pk)
    return locked


def user_login(*, email: str, password: str) -> Session:
    """Check the credentials and open a session: a new API token (one per login)."""
    email = normalize_email(email)
    _limit_password_attempts(email)
    user = User.objects.filter(email=email).first()
    if user is None:
        make_password(password)  # the hashing a known address costs, so timing tells nothing
        raise ApplicationError(INVALID_CREDENTIALS, code="invalid_credentials")
    upgrade = None
    if user.email_verified:
        encoded = user.password
        upgrade = partial(_upgrade_hash, user)
    else:  # the newest registration only: one hash, as for every other login
        newest = user.registrations.first()
        encoded = newest.password if newest else None
    if not (_password_matches(password, encoded, upgrade) and user.is_active):
        raise ApplicationError(INVALID_CREDENTIALS, code="invalid_credentials")
    if not user.email_verified:
        raise ApplicationError(
            EMAIL_NOT_VERIFIED, code="email_not_verified", status_code=status.HTTP_403_FORBIDDEN
        )
    instance, token = AuthToken.objects.create(user, expiry=settings.REST_KNOX["TOKEN_TTL"])
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return Session(user=user, token=token, expiry=instance.expiry)


def user_logout(*, token: AuthToken) -> None:
    """End the session of this one token."""
    token.delete()


def user_logout_everywhere(*, user: User) -> int:
    """End every session of ``user``; how many there were."""
    count, _ = AuthToken.objects.filter(user=user).delete()
    return count


def _password_matches(
    password: str, encoded: str | None, upgrade: Callable[[str], None] | None = None
) -> bool:
    """``check_password``, hashing once even when there is nothing to compare with (with
    the first hasher: the cost of checking a current hash). ``upgrade`` re-hashes a
    matching password stored with an older hasher or older parameters."""
    if encoded is None or not is_password_usable(encoded):
        make_password(password)
        return False
    return check_password(password, encoded, setter=upgrade)


def _upgrade_hash(user: User, password: str) -> None:
    """The same password, hashed with the first hasher (Argon2id): not a password change,
    so no session ends (``User.save`` ends them all on a change)."""
    User.objects.filter(pk=user.pk).update(password=make_password(password))
    logger.info("user %s: password hash upgraded to %s", user.pk, settings.PASSWORD_HASHERS[0])


def _account_for(email: str) -> User:
    """The account of ``email``, created (without a usable password) if there is none."""
    user = User.objects.filter(email=email).first()
    if user is not None:
        return user
    try:
        with transaction.atomic():
            return User.objects.create_user(email=email)
    except IntegrityError:  # a concurrent registration of the same address created it
        return User.objects.get(email=email)


def _keep_newest_registrations(user: User) -> None:
    stale = user.registrations.values_list("pk", flat=True)[Registration.MAX_PER_USER :]
    Registration.objects.filter(pk__in=list(stale)).delete()


def _limit_password_attempts(email: str) -> None:
    """Per account, whatever the client address: a stranger guessing from many
    addresses is stopped, and can lock the owner out for one short window at most."""
    verdict = ratelimit.hit("password-account", email, settings.THROTTLE_RATE_LOGIN_ACCOUNT)
    if not verdict.allowed:
        raise TooManyAttempts(verdict.retry_after)
