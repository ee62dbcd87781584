"""The email task: an adapter that calls the outbox.

A task takes ids, and the service it calls decides everything from the database row, so
a task run twice, redelivered after a crash, or enqueued again by the sweep does no harm.
"""

from __future__ import annotations

import logging

from celery import Task, shared_task
from django.db import DatabaseError, close_old_connections

from emails import outbox
from emails.selectors import SEND_EMAIL_TASK

logger = logging.getLogger(__name__)

# While PostgreSQL is unreachable the task waits and tries again (it never drops the
# email): this often, and without limit, since the row it needs is in the database.
DATABASE_RETRY_SECONDS = 5


@shared_task(bind=True, name=SEND_EMAIL_TASK, max_retries=None)
def send_email(self: Task, email_id: int) -> str:
    """Deliver outbox row ``email_id`` (any kind of email)."""
    try:
        delivery = outbox.email_deliver(email_id=email_id)
    except DatabaseError as error:
        close_old_connections()
        logger.warning(
            "email %s: database unreachable (%s); retry in %ss",
            email_id,
            type(error).__name__,
            DATABASE_RETRY_SECONDS,
        )
        raise self.retry(countdown=DATABASE_RETRY_SECONDS) from None
    if delivery.retry_in is not None:
        raise self.retry(countdown=delivery.retry_in)
    return str(delivery)  # in Celery's "succeeded" log line: "verification email sent"
