"""The outbox: queue, deliver, sweep, for every kind of email.

Delivery is at least once. A row is written in the caller's transaction and its task is
enqueued only after that transaction commits; if the broker is down then, the row waits
for the sweep. Delivering claims the row for a lease (longer than a task may run:
``servicespec.timeouts``) before calling SendGrid and marks it ``sent`` after, so
concurrent tasks for one row never both send and a re-run after ``sent`` does nothing.
The one window for a duplicate: a worker killed after SendGrid accepted the email but
before the row was marked (docs/RELIABILITY.md).
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from emails import messages, sending, suppressions
from emails.models import Email, Suppression
from remosphere import db
from servicespec import timeouts

logger = logging.getLogger(__name__)

Status = Email.Status
# The partial unique index's predicate (models.Email), as SQL.
_OPEN_SQL = "(" + ", ".join(f"'{status}'" for status in Email.OPEN) + ")"
MAX_ATTEMPTS = 10
# A row given back because the database was too slow to send it safely is tried again
# this soon; so is recording a send PostgreSQL did not take.
DATABASE_SLOW_RETRY_SECONDS = 5
# Recording a send is retried until this close to the end of the claim.
LEASE_SAFETY_SECONDS = 5
# How long Redis keeps the note of a send PostgreSQL did not record: far longer than any
# retry or sweep takes to come back to the row. (A send PostgreSQL did record keeps its
# note for two leases only, so the notes of a busy day take little memory.)
ACCEPTED_MEMORY_SECONDS = 7 * 24 * 3600
# Publishing to a broker that is down gives up fast: the request must not hang, the
# sweep will enqueue the row later.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}


@dataclass(frozen=True)
class Delivery:
    """What one delivery attempt came to; ``retry_in`` set means "try again then"."""

    # sent | nothing-to-send | busy | retry | failed | skipped | suppressed | recording
    outcome: str
    retry_in: float | None = None
    kind: str = ""

    def __str__(self) -> str:
        return f"{self.kind} email {self.outcome}" if self.kind else self.outcome


def email_queue(*, kind: str, address: str) -> None:
    """Put a ``kind`` email to ``address`` in the outbox (in the caller's transaction) and
    enqueue its delivery once that commits. An open one is reused, not duplicated. The
    same work whether or not ``address`` has an account: the worker decides."""
    email_id = _open_email(kind, address)
    transaction.on_commit(partial(email_enqueue, email_id=email_id), robust=True)


def _open_email(kind: str, address: str) -> int:
    """The id of the open row for (``kind``, ``address``), written if there is none: one
    ``INSERT ... ON CONFLICT DO NOTHING`` on the partial unique index (a concurrent
    request's row makes it wait, then do nothing), and a ``SELECT`` only when a row was
    open already. No savepoint, no exception: a registration's commit comes sooner."""
    table, now = Email._meta.db_table, _at(timezone.now())
    with connection.cursor() as cursor:
        for _ in range(3):  # the open row may be sent between the two statements
            cursor.execute(
                f"INSERT INTO {table} "  # the model's own table  # noqa: S608  # nosec B608
                "(kind, address, status, attempts, next_attempt_at, last_error, created_at) "
                "VALUES (%s, %s, %s, 0, %s, '', %s) "
                f"ON CONFLICT (address, kind) WHERE status IN {_OPEN_SQL} DO NOTHING "
                "RETURNING id",
                [kind, address, Status.PENDING, now, now],
            )
            row = cursor.fetchone()
            if row is None:
                cursor.execute(
                    f"SELECT id FROM {table} "  # noqa: S608  # nosec B608
                    f"WHERE address = %s AND kind = %s AND status IN {_OPEN_SQL}",
                    [address, kind],
                )
                row = cursor.fetchone()
            if row is not None:
                return row[0]
    raise RuntimeError(f"could not open a {kind} email for an address")


def email_enqueue(*, email_id: int) -> bool:
    """Hand the delivery to the workers; ``False`` (logged) when the broker is out of
    reach, which loses nothing: the row stays pending for the sweep."""
    from emails.tasks import send_email

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
    claimed = _claim(email_id, now)
    if claimed is None:
        return _why_not_claimed(email_id, now)
    email, user, suppressed = claimed
    if email.attempts > 1 and _accepted_earlier(email):
        return Delivery("sent", kind=email.kind)
    if suppressed is not None:  # it bounced, was dropped or reported spam: never again
        _release(email, status=Status.SUPPRESSED, last_error=suppressions.described(*suppressed))
        return Delivery("suppressed", kind=email.kind)
    if user is None:
        _release(email, status=Status.SKIPPED, last_error="nobody to send it to")
        return Delivery("skipped", kind=email.kind)
    if timezone.now() > now + timedelta(seconds=timeouts.send_deadline(settings.SENDGRID_TIMEOUT)):
        # The database answered so slowly that the send might outlive the claim: give the
        # row back unsent rather than risk another worker taking it over mid-send.
        _release(email, status=Status.PENDING, next_attempt_at=timezone.now())
        return Delivery("retry", retry_in=DATABASE_SLOW_RETRY_SECONDS)
    message = messages.message(email.kind, user)
    # No connection is held while waiting on SendGrid: the worker's threads share a few.
    db.give_back_connection()
    try:
        message_id = sending.send_email(
            to=email.address,
            subject=message.subject,
            text=message.text,
            html=message.html,
            email_id=email.pk,
            category=email.kind,
        )
    except sending.TransientEmailError as error:
        return _after_transient_failure(email, error)
    except sending.PermanentEmailError as error:
        _release(email, status=Status.FAILED, last_error=str(error), failed_at=timezone.now())
        logger.error("%s email %s refused: %s", email.kind, email_id, error)
        return Delivery("failed", kind=email.kind)
    return _record_sent(email, message_id or "")


def _record_sent(email: Email, message_id: str) -> Delivery:
    """Mark the row ``sent`` now that SendGrid accepted the email. Nothing may send it
    again, so the acceptance is first noted in Redis (for a little longer than the claim),
    where a later attempt on the row (a retry, the sweep) looks before it sends; then the
    write to PostgreSQL is retried through a blip while the claim holds, and if it cannot
    be made, the note is kept for a week and a later attempt only records it."""
    sent_at = timezone.now()
    noted = _note_accepted(email, sent_at, seconds=2 * timeouts.lease(settings.SENDGRID_TIMEOUT))
    wait = 0.25
    while True:
        try:
            recorded = _release(
                email, status=Status.SENT, sent_at=sent_at, last_error="", message_id=message_id
            )
            break
        except DatabaseError as error:
            db.discard_connection()
            if wait == 0.25:  # the first failure: keep the note until the row is recorded
                logger.warning(
                    "%s email %s accepted by SendGrid, but PostgreSQL did not take the "
                    "record (%s); retrying the record, not the send",
                    email.kind,
                    email.pk,
                    type(error).__name__,
                )
                noted = _note_accepted(email, sent_at, seconds=ACCEPTED_MEMORY_SECONDS)
            if (
                timezone.now() + timedelta(seconds=wait + LEASE_SAFETY_SECONDS)
                >= email.claimed_until
            ):
                logger.warning(
                    "%s email %s: PostgreSQL still unreachable; the next attempt only records "
                    "the send (%s)",
                    email.kind,
                    email.pk,
                    "noted in Redis"
                    if noted
                    else "NOT noted: Redis failed too, it may be sent twice",
                )
                return Delivery("recording", retry_in=DATABASE_SLOW_RETRY_SECONDS, kind=email.kind)
            time.sleep(wait)
            wait = min(wait * 2, 4.0)
    if not recorded:
        logger.warning(
            "%s email %s sent after its claim expired; another worker may have sent it too",
            email.kind,
            email.pk,
        )
    # No log line of its own: Celery's "Task ... succeeded" line carries this outcome.
    return Delivery("sent", kind=email.kind)


def _accepted_key(email_id: int) -> str:
    return f"outbox:accepted:{email_id}"


def _note_accepted(email: Email, sent_at: datetime, *, seconds: int) -> bool:
    """Note in Redis that SendGrid accepted ``email``; ``False`` if Redis failed."""
    try:
        cache.set(_accepted_key(email.pk), sent_at.isoformat(), timeout=seconds)
    except (redis.RedisError, OSError) as error:
        logger.warning(
            "%s email %s: the note that SendGrid accepted it was not written to Redis (%s)",
            email.kind,
            email.pk,
            type(error).__name__,
        )
        return False
    return True


def _accepted_earlier(email: Email) -> bool:
    """Whether SendGrid accepted this row's email on an attempt whose record PostgreSQL
    did not take; if so the row is marked ``sent`` now, with the time it was accepted."""
    try:
        accepted = cache.get(_accepted_key(email.pk))
    except (redis.RedisError, OSError):
        accepted = None  # Redis down: at worst the documented duplicate, never a loss
    if accepted is None:
        return False
    _release(email, status=Status.SENT, sent_at=datetime.fromisoformat(accepted), last_error="")
    logger.info("%s email %s was accepted earlier: recorded, not sent again", email.kind, email.pk)
    return True


def _claim(email_id: int, now: datetime) -> tuple[Email, Any, tuple[str, str] | None] | None:
    """Claim the row if it is due (pending and due, or claimed by a worker whose lease
    has run out), find who it is for and whether the address is suppressed (its reason
    and detail). One ``UPDATE ... RETURNING``, so two workers can never both win it; on
    PostgreSQL the recipient and the suppression come in the same round trip."""
    until = now + timedelta(seconds=timeouts.lease(settings.SENDGRID_TIMEOUT))
    claim = (
        f"UPDATE {Email._meta.db_table} "  # the model's own table  # noqa: S608  # nosec B608
        "SET status = %s, claimed_until = %s, attempts = attempts + 1 "
        "WHERE id = %s AND ((status = %s AND next_attempt_at <= %s) "
        "OR (status = %s AND claimed_until <= %s)) "
        "RETURNING kind, address, attempts"
    )
    params = [
        *(Status.SENDING, _at(until)),  # SET
        *(email_id, Status.PENDING, _at(now), Status.SENDING, _at(now)),  # WHERE
    ]
    postgres = connection.vendor == "postgresql"
    User = get_user_model()
    columns = [f.column for f in User._meta.concrete_fields]
    if postgres:
        claim = (
            f"WITH claimed AS ({claim}) SELECT claimed.kind, claimed.address, "  # noqa: S608  # nosec B608
            f"claimed.attempts, s.reason, s.detail, {', '.join(f'u.{c}' for c in columns)} "
            f"FROM claimed LEFT JOIN {User._meta.db_table} u "
            "ON u.email = claimed.address AND u.is_active "
            f"LEFT JOIN {Suppression._meta.db_table} s "
            "ON s.address = claimed.address AND s.lifted_at IS NULL"
        )
    with connection.cursor() as cursor:
        cursor.execute(claim, params)
        row = cursor.fetchone()
    if row is None:
        return None
    (kind, address, attempts), account = row[:3], row[3:]
    email = Email(
        pk=email_id,
        kind=kind,
        address=address,
        attempts=attempts,
        status=Status.SENDING,
        claimed_until=until,
    )
    if not postgres:
        found = suppressions.suppression_of(address)
        suppressed = (found.reason, found.detail) if found else None
        return email, messages.recipient(kind, address), suppressed
    (reason, detail), account = account[:2], account[2:]
    user = None
    if account[0] is not None:
        names = [f.attname for f in User._meta.concrete_fields]
        user = User.from_db(connection.alias, names, list(account))
    wanted = user if user is not None and messages.wanted(kind, user) else None
    return email, wanted, (reason, detail) if reason is not None else None


def emails_sweep(*, stale_after: int) -> int:
    """Enqueue every open row that no task is looking after: pending for more than
    ``stale_after`` seconds past its due time, or claimed by a worker that died. Returns
    how many were enqueued; a broker that is down raises (the cron run fails visibly)."""
    from emails.tasks import send_email

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


def _after_transient_failure(email: Email, error: sending.TransientEmailError) -> Delivery:
    if email.attempts >= MAX_ATTEMPTS:
        reason = f"gave up after {email.attempts} attempts: {error}"
        _release(email, status=Status.FAILED, last_error=reason, failed_at=timezone.now())
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
    another task took the row over (its outcome then stands). Plain SQL, as the claim:
    building the ORM's query cost more CPU than the rest of the send (BENCHMARKS.md)."""
    fields["claimed_until"] = None
    meta = Email._meta
    assignments = ", ".join(f"{meta.get_field(name).column} = %s" for name in fields)
    values = [meta.get_field(name).get_db_prep_value(v, connection) for name, v in fields.items()]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {meta.db_table} SET {assignments} "  # the model's own columns  # noqa: S608  # nosec B608
            "WHERE id = %s AND status = %s AND claimed_until = %s",
            [*values, email.pk, Status.SENDING, _at(email.claimed_until)],
        )
        return cursor.rowcount == 1


def _at(moment: datetime) -> object:
    """A datetime as this database compares it."""
    return connection.ops.adapt_datetimefield_value(moment)
