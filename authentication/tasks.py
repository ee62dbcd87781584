"""Celery tasks of the authentication app: adapters that call services.

A task takes ids, re-reads the row and is safe to run twice (the service skips an
already verified user). Only transient email failures are retried.
"""

from __future__ import annotations

import logging
import random

from celery import Task
from django.conf import settings

from authentication import services
from remosphere import mailer
from remosphere.celery import app

logger = logging.getLogger(__name__)


def retry_countdown(retries: int, *, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter, at least ``retry_after``, capped."""
    ceiling = min(settings.EMAIL_RETRY_MAX_SECONDS, settings.EMAIL_RETRY_BASE_SECONDS * 2**retries)
    countdown = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not security
    return min(settings.EMAIL_RETRY_MAX_SECONDS, max(countdown, retry_after or 0.0))


@app.task(bind=True, name="authentication.send_verification_email", max_retries=None)
def send_verification_email(self: Task, user_id: int) -> None:
    try:
        services.verification_email_send(user_id=user_id)
    except mailer.TransientEmailError as error:
        if self.request.retries >= settings.EMAIL_MAX_RETRIES:
            logger.error(
                "verification email for user %s given up after %s retries: %s",
                user_id,
                self.request.retries,
                error,
            )
            return
        countdown = retry_countdown(self.request.retries, retry_after=error.retry_after)
        logger.warning(
            "verification email for user %s failed (%s); retry %s in %.1fs",
            user_id,
            error,
            self.request.retries + 1,
            countdown,
        )
        raise self.retry(countdown=countdown) from None
    except mailer.PermanentEmailError as error:
        logger.error("verification email for user %s not sent: %s", user_id, error)
