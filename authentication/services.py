"""Account business logic: registration, email verification, login.

Views call these functions and do nothing else of substance. Writes run in one
transaction with the verification email's outbox row (``authentication.emails``).

No answer reveals whether an address has an account: registering a taken address answers
as a new one would (and spends the same password-hashing time), resending answers the
same either way, and a failed login says only that the email or password is wrong.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import status
from rest_framework.authtoken.models import Token

from authentication import emails
from authentication.models import User, normalize_email
from authentication.tokens import verification_token_user
from remosphere.exceptions import ApplicationError

logger = logging.getLogger(__name__)

INVALID_TOKEN = "This verification link is invalid or has expired."  # noqa: S105 - a message  # nosec B105
INVALID_CREDENTIALS = "Invalid email or password."
EMAIL_NOT_VERIFIED = "Verify your email address before logging in; check your inbox."


@transaction.atomic
def user_register(*, email: str, password: str) -> str:
    """Create the account and queue its verification email; return the normalised address.

    A taken address gets the same answer: its owner, if still unverified, gets a new
    verification email, and nothing is created.
    """
    email = normalize_email(email)
    try:
        validate_password(password, user=User(email=email))
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from None
    existing = User.objects.filter(email=email).first()
    if existing is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(email=email, password=password)
        except IntegrityError:  # a concurrent registration of the same address won
            return email
        emails.verification_email_queue(user=user)
        return email
    make_password(password)  # the hashing a new account costs, so timing tells nothing
    if existing.is_active and not existing.email_verified:
        emails.verification_email_queue(user=existing)
    logger.info("registration of an existing address (user %s) answered as new", existing.pk)
    return email


@transaction.atomic
def verification_email_resend(*, email: str) -> None:
    """Send a new link to an unverified account; silent for anything else, so the
    answer does not reveal whether the address has an account."""
    user = User.objects.filter(email=normalize_email(email), is_active=True).first()
    if user is not None and not user.email_verified:
        emails.verification_email_queue(user=user)


@transaction.atomic
def user_verify_email(*, token: str) -> User:
    user = verification_token_user(token, max_age=settings.EMAIL_VERIFICATION_MAX_AGE)
    if user is None or not user.is_active:
        raise ApplicationError(INVALID_TOKEN, code="invalid_token")
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.email_verified:  # a concurrent request with the same token got here first
        raise ApplicationError(INVALID_TOKEN, code="invalid_token")
    user.email_verified_at = timezone.now()
    user.save(update_fields=["email_verified_at"])
    return user


def user_login(*, email: str, password: str) -> tuple[User, str]:
    """Check the credentials and return the user with their API token."""
    user = authenticate(username=normalize_email(email), password=password)
    if user is None:
        raise ApplicationError(INVALID_CREDENTIALS, code="invalid_credentials")
    if not user.email_verified:
        raise ApplicationError(
            EMAIL_NOT_VERIFIED, code="email_not_verified", status_code=status.HTTP_403_FORBIDDEN
        )
    token, _ = Token.objects.get_or_create(user=user)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return user, token.key


def user_logout(*, user: User) -> None:
    Token.objects.filter(user=user).delete()
