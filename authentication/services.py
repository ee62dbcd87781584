"""Account business logic: registration, email verification, login.

Views and tasks call these functions and do nothing else of substance. Writes run in
one transaction; the verification email is enqueued only once that transaction has
committed, so the worker never looks for a user that does not exist yet.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import status
from rest_framework.authtoken.models import Token

from authentication.models import User, normalize_email
from authentication.tokens import verification_token_make, verification_token_user
from remosphere import mailer
from remosphere.exceptions import ApplicationError

logger = logging.getLogger(__name__)

DUPLICATE_EMAIL = "An account with this email address already exists."
INVALID_TOKEN = "This verification link is invalid or has expired."  # noqa: S105 - a message
INVALID_CREDENTIALS = "Invalid email or password."
EMAIL_NOT_VERIFIED = "Verify your email address before logging in; check your inbox."


@transaction.atomic
def user_register(*, email: str, password: str) -> User:
    email = normalize_email(email)
    try:
        validate_password(password, user=User(email=email))
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from None
    if User.objects.filter(email=email).exists():
        raise ValidationError({"email": [DUPLICATE_EMAIL]})
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password)
    except IntegrityError:  # a concurrent registration of the same address won
        raise ValidationError({"email": [DUPLICATE_EMAIL]}) from None
    _verification_email_enqueue(user)
    return user


def verification_email_resend(*, email: str) -> None:
    """Send a new link to an unverified account; silent for anything else, so the
    answer does not reveal whether the address has an account."""
    user = User.objects.filter(email=normalize_email(email), is_active=True).first()
    if user is not None and not user.email_verified:
        _verification_email_enqueue(user)


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


def verification_email_send(*, user_id: int) -> bool:
    """Send the verification email; ``False`` when there is nothing to send.

    Raises ``mailer.TransientEmailError`` or ``mailer.PermanentEmailError``.
    """
    user = User.objects.filter(pk=user_id).first()
    if user is None or not user.is_active:
        logger.info("verification email skipped: user %s does not exist or is inactive", user_id)
        return False
    if user.email_verified:
        logger.info("verification email skipped: user %s is already verified", user_id)
        return False
    link = (
        f"{settings.EMAIL_VERIFICATION_URL}?{urlencode({'token': verification_token_make(user)})}"
    )
    mailer.send_email(
        to=user.email,
        subject="Verify your RemoSphere email address",
        text=(
            "Welcome to RemoSphere!\n\n"
            f"Open this link to verify your email address:\n\n{link}\n\n"
            "If you did not create an account, ignore this email.\n"
        ),
    )
    logger.info("verification email sent to user %s", user_id)
    return True


def _verification_email_enqueue(user: User) -> None:
    from authentication.tasks import send_verification_email

    send_verification_email.delay_on_commit(user.pk)
