"""The outbox: queue, deliver, sweep, for every kind of email.

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
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from authentication import messages
from authentication.models import Email
from remosphere import mailer

logger = logging.getLogger(__name__)

Status = Email.Status
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


def email_queue(*, kind: str, address: str) -> None:
    """Put a ``kind`` email to ``address`` in the outbox (in the caller's transaction) and
    enqueue its delivery once that commits. An open one is reused, not duplicated. The
    same work whether or not ``address`` has an account: the worker decides."""
    try:
        with transaction.atomic():
            email, _ = Email.objects.get_or_create(
                kind=kind, address=address, status__in=Email.OPEN
            )
    except IntegrityError:  # a concurrent request opened one first: that one will do
        email = Email.objects.filter(kind=kind, address=address, status__in=Email.OPEN).first()
        if email is None:  # and it was sent meanwhile: open another
            email = Email.objects.create(kind=kind, address=address)
    transaction.on_commit(partial(email_enqueue, email_id=email.pk), robust=True)


def email_enqueue(*, email_id: int) -> bool:
    """Hand the delivery to the workers; ``False`` (logged) when the broker is out of
    reach, which loses nothing: the row stays pending for the sweep."""
    from authentication.tasks import send_email

    try:
        send_email.apply_async((email_id,), retry=True, retry_policy=PUBLISH_RETRY_POLICY)
    except Exception as error:  # any broker failure: the sweep is the safety net
        logger.warning(
            "email %s not enqueued (%s); the sweep will enqueue it", email_id, type(error).__name__
        )
        return False
    return True


def email_deliver(*, email_id: int) -> Delivery:
    """Send outbox row ``email_id`` if it is due; safe to run any number of times."""
    now = timezone.now()
    claimed_until = now + timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + LEASE_MARGIN_SECONDS)
    claimable = Q(status=Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Status.SENDING, claimed_until__lte=now
    )
    claimed = (
        Email.objects.filter(claimable, pk=email_id).update(
            status=Status.SENDING, claimed_until=claimed_until, attempts=F("attempts") + 1
        )
        == 1
    )
    if not claimed:
        return _why_not_claimed(email_id, now)
    email = Email.objects.get(pk=email_id)
    user = messages.recipient(email.kind, email.address)
    if user is None:
        _release(email, status=Status.SKIPPED, last_error="nobody to send it to")
        return Delivery("skipped")
    # The HTTP call happens outside any transaction: no row lock is held while waiting.
    message = messages.message(email.kind, user)
    try:
        mailer.send_email(
            to=email.address, subject=message.subject, text=message.text, html=message.html
        )
    except mailer.TransientEmailError as error:
        return _after_transient_failure(email, error)
    except mailer.PermanentEmailError as error:
        _release(email, status=Status.FAILED, last_error=str(error))
        logger.error("%s email %s refused: %s", email.kind, email_id, error)
        return Delivery("failed")
    if not _release(email, status=Status.SENT, sent_at=timezone.now(), last_error=""):
        logger.warning(
            "%s email %s sent after its claim expired; another worker may have sent it too",
            email.kind,
            email_id,
        )
    logger.info("%s email %s sent", email.kind, email_id)
    return Delivery("sent")


def emails_sweep(*, stale_after: int) -> int:
    """Enqueue every open row that no task is looking after: pending for more than
    ``stale_after`` seconds past its due time, or claimed by a worker that died. Returns
    how many were enqueued; a broker that is down raises (the cron run fails visibly)."""
    from authentication.tasks import send_email

    now = timezone.now()
    due = Email.objects.filter(
        Q(status=Status.PENDING, next_attempt_at__lte=now - timedelta(seconds=stale_after))
        | Q(status=Status.SENDING, claimed_until__lte=now)
    ).values_list("pk", flat=True)
    count = 0
    for email_id in due.iterator():
        send_email.delay(email_id)
        count += 1
    if count:
        logger.info("sweep: %s email(s) enqueued again", count)
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


def _why_not_claimed(email_id: int, now: datetime) -> Delivery:
    email = Email.objects.filter(pk=email_id).first()
    if email is None or email.status not in Email.OPEN:
        return Delivery("nothing-to-send")
    if email.status == Status.SENDING:  # another worker holds it
        return Delivery("busy", retry_in=(email.claimed_until - now).total_seconds() + 1)
    return Delivery("busy", retry_in=(email.next_attempt_at - now).total_seconds())  # not due


def _after_transient_failure(email: Email, error: mailer.TransientEmailError) -> Delivery:
    if email.attempts >= MAX_ATTEMPTS:
        reason = f"gave up after {email.attempts} attempts: {error}"
        _release(email, status=Status.FAILED, last_error=reason)
        logger.error("%s email %s %s", email.kind, email.pk, reason)
        return Delivery("failed")
    countdown = retry_countdown(email.attempts, retry_after=error.retry_after)
    _release(
        email,
        status=Status.PENDING,
        next_attempt_at=timezone.now() + timedelta(seconds=countdown),
        last_error=str(error),
    )
    logger.warning(
        "%s email %s failed (%s); attempt %s in %.1fs",
        email.kind,
        email.pk,
        error,
        email.attempts + 1,
        countdown,
    )
    return Delivery("retry", retry_in=countdown)


def _release(email: Email, **fields: object) -> bool:
    """End this task's claim with ``fields``; ``False`` if the claim had expired and
    another task took the row over (its outcome then stands)."""
    claimed = Email.objects.filter(
        pk=email.pk, status=Status.SENDING, claimed_until=email.claimed_until
    )
    return claimed.update(claimed_until=None, **fields) == 1
