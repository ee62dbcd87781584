"""The verification-email outbox: queue, deliver, sweep.

Delivery is at least once. A row is written in the caller's transaction and its task is
enqueued only after that transaction commits; if the broker is down then, the row waits
for the sweep. Delivering claims the row for a lease (longer than a task may run) before
calling SendGrid and marks it ``sent`` after, so concurrent tasks for one row never both
send and a re-run after ``sent`` does nothing. The one window for a duplicate: a worker
killed after SendGrid accepted the email but before the row was marked (docs/RELIABILITY.md).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from urllib.parse import urlencode

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from authentication.models import User, VerificationEmail
from authentication.tokens import verification_token_make
from remosphere import mailer

logger = logging.getLogger(__name__)

Status = VerificationEmail.Status
MAX_ATTEMPTS = 10
# A claim outlives the longest a task may run (its hard time limit) by this much.
LEASE_MARGIN_SECONDS = 15
# Publishing to a broker that is down gives up fast: the request must not hang, the
# sweep will enqueue the row later.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}


@dataclass(frozen=True)
class Delivery:
    """What one delivery attempt came to; ``retry_in`` set means "try again then"."""

    outcome: str  # sent | nothing-to-send | busy | retry | failed | skipped
    retry_in: float | None = None


def verification_email_queue(*, user: User) -> None:
    """Put a verification email for ``user`` in the outbox (in the caller's transaction)
    and enqueue its delivery once that commits. An open one is reused, not duplicated."""
    try:
        with transaction.atomic():
            VerificationEmail.objects.get_or_create(user=user, status__in=VerificationEmail.OPEN)
    except IntegrityError:  # a concurrent request opened one first: that one will do
        pass
    transaction.on_commit(partial(verification_email_enqueue, user_id=user.pk), robust=True)


def verification_email_enqueue(*, user_id: int) -> bool:
    """Hand the delivery to the workers; ``False`` (logged) when the broker is out of
    reach, which loses nothing: the row stays pending for the sweep."""
    from authentication.tasks import send_verification_email

    try:
        send_verification_email.apply_async(
            (user_id,), retry=True, retry_policy=PUBLISH_RETRY_POLICY
        )
    except Exception as error:  # any broker failure: the sweep is the safety net
        logger.warning(
            "verification email for user %s not enqueued (%s); the sweep will enqueue it",
            user_id,
            type(error).__name__,
        )
        return False
    return True


def verification_email_deliver(*, user_id: int) -> Delivery:
    """Send ``user_id``'s open verification email, if any; safe to run any number of times."""
    now = timezone.now()
    with transaction.atomic():
        email = (
            # Lock the outbox row only, not the user's (a verification may be updating it).
            VerificationEmail.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(user_id=user_id, status__in=VerificationEmail.OPEN)
            .first()
        )
        if email is None:
            return Delivery("nothing-to-send")
        if email.status == Status.SENDING and email.claimed_until > now:
            wait = (email.claimed_until - now).total_seconds() + 1
            return Delivery("busy", retry_in=wait)  # another worker holds it
        if email.status == Status.PENDING and email.next_attempt_at > now:
            wait = (email.next_attempt_at - now).total_seconds()
            return Delivery("busy", retry_in=wait)  # not due yet
        user = email.user
        if user.email_verified or not user.is_active:
            _finish(email, Status.SKIPPED, "the account is verified or inactive")
            return Delivery("skipped")
        lease = settings.CELERY_TASK_TIME_LIMIT + LEASE_MARGIN_SECONDS
        email.status = Status.SENDING
        email.claimed_until = now + timedelta(seconds=lease)
        email.attempts += 1
        email.save(update_fields=["status", "claimed_until", "attempts"])
    # The HTTP call happens outside any transaction: no row lock is held while waiting.
    try:
        _send(user)
    except mailer.TransientEmailError as error:
        return _after_transient_failure(email, error)
    except mailer.PermanentEmailError as error:
        _release(email, status=Status.FAILED, last_error=str(error))
        logger.error("verification email for user %s refused: %s", user_id, error)
        return Delivery("failed")
    if not _release(email, status=Status.SENT, sent_at=timezone.now(), last_error=""):
        logger.warning(
            "verification email for user %s sent after its claim expired; another worker "
            "may have sent it too",
            user_id,
        )
    logger.info("verification email sent to user %s", user_id)
    return Delivery("sent")


def verification_emails_sweep(*, stale_after: int) -> int:
    """Enqueue every open row that no task is looking after: pending for more than
    ``stale_after`` seconds past its due time, or claimed by a worker that died. Returns
    how many were enqueued; a broker that is down raises (the cron run fails visibly)."""
    from authentication.tasks import send_verification_email

    now = timezone.now()
    due = VerificationEmail.objects.filter(
        Q(status=Status.PENDING, next_attempt_at__lte=now - timedelta(seconds=stale_after))
        | Q(status=Status.SENDING, claimed_until__lte=now)
    ).values_list("user_id", flat=True)
    count = 0
    for user_id in due.iterator():
        send_verification_email.delay(user_id)
        count += 1
    if count:
        logger.info("sweep: %s verification email(s) enqueued again", count)
    return count


def retry_countdown(attempts: int, *, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter after ``attempts`` failures, at least
    ``retry_after``, capped at ``EMAIL_RETRY_MAX_SECONDS``."""
    ceiling = min(
        settings.EMAIL_RETRY_MAX_SECONDS,
        settings.EMAIL_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0),
    )
    countdown = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not security  # nosec B311
    return min(settings.EMAIL_RETRY_MAX_SECONDS, max(countdown, retry_after or 0.0))


def _send(user: User) -> None:
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


def _after_transient_failure(
    email: VerificationEmail, error: mailer.TransientEmailError
) -> Delivery:
    if email.attempts >= MAX_ATTEMPTS:
        reason = f"gave up after {email.attempts} attempts: {error}"
        _release(email, status=Status.FAILED, last_error=reason)
        logger.error("verification email for user %s %s", email.user_id, reason)
        return Delivery("failed")
    countdown = retry_countdown(email.attempts, retry_after=error.retry_after)
    _release(
        email,
        status=Status.PENDING,
        next_attempt_at=timezone.now() + timedelta(seconds=countdown),
        last_error=str(error),
    )
    logger.warning(
        "verification email for user %s failed (%s); attempt %s in %.1fs",
        email.user_id,
        error,
        email.attempts + 1,
        countdown,
    )
    return Delivery("retry", retry_in=countdown)


def _release(email: VerificationEmail, **fields: object) -> bool:
    """End this task's claim with ``fields``; ``False`` if the claim had expired and
    another task took the row over (its outcome then stands)."""
    claimed = VerificationEmail.objects.filter(
        pk=email.pk, status=Status.SENDING, claimed_until=email.claimed_until
    )
    return claimed.update(claimed_until=None, **fields) == 1


def _finish(email: VerificationEmail, status: str, reason: str) -> None:
    email.status = status
    email.last_error = reason
    email.claimed_until = None
    email.save(update_fields=["status", "last_error", "claimed_until"])
