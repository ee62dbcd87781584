"""Addresses no email is sent to: each hard-bounced, had an email dropped by SendGrid as
invalid, or reported an email as spam (``emails.delivery_events`` adds them; the
worker finds them when it claims an email, ``emails.outbox``). Sending to such an
address again hurts the sender's reputation with every mailbox provider, and so the
delivery of every other email.

A suppression changes nothing the web answers: the worker alone decides, and the row
becomes ``suppressed`` with the reason. An operator lifts one (the address was fixed, the
spam report was a mistake) from the admin or ``manage.py lift_suppression``; the row stays,
with who lifted it and when, and a later bounce suppresses the address again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from emails.models import Suppression
from remosphere.addresses import normalize_email

logger = logging.getLogger(__name__)

Reason = Suppression.Reason


@dataclass(frozen=True)
class Suppressing:
    """An address to suppress, because of an event that happened ``at``."""

    address: str
    reason: str
    detail: str
    email_id: int | None
    at: datetime


def suppressions_add(items: list[Suppressing]) -> int:
    """Suppress each address, in one ``INSERT`` (the first item of an address counts); how
    many became suppressed. An address suppressed already is left as it is, and so is one
    lifted after its event: SendGrid retries its batches for a day, and an old bounce
    arriving late must not undo an operator's decision."""
    first: dict[str, Suppressing] = {}
    for item in items:
        first.setdefault(normalize_email(item.address), item)
    if not first:
        return 0
    lifted: dict[str, datetime] = {}
    for address, at in Suppression.objects.filter(
        address__in=first, lifted_at__isnull=False
    ).values_list("address", "lifted_at"):
        lifted[address] = max(at, lifted.get(address, at))
    # SendGrid's timestamps are whole seconds: an event of second T happened before T + 1.
    wanted = {
        address: item
        for address, item in first.items()
        if address not in lifted or lifted[address] < item.at + timedelta(seconds=1)
    }
    if not wanted:
        return 0
    table = connection.ops.quote_name(Suppression._meta.db_table)
    now = timezone.now()
    with connection.cursor() as cursor:
        # ON CONFLICT without a target: the partial unique index (one active suppression
        # per address) turns a second one into nothing.
        cursor.execute(
            f"""
            INSERT INTO {table} (address, reason, detail, email_id, created_at, lifted_by)
            SELECT v.address, v.reason, v.detail, v.email_id, %s, ''
            FROM unnest(%s::text[], %s::text[], %s::text[], %s::bigint[])
                 AS v(address, reason, detail, email_id)
            ON CONFLICT DO NOTHING
            RETURNING email_id, reason
            """,  # noqa: S608  # nosec B608: the table's name is the model's own
            [
                now,
                list(wanted),
                [item.reason for item in wanted.values()],
                [item.detail[:1000] for item in wanted.values()],
                [item.email_id for item in wanted.values()],
            ],
        )
        made = cursor.fetchall()
    for email_id, reason in made:
        logger.info("an address is suppressed (%s, email %s)", reason, email_id)
    return len(made)


def suppression_of(address: str) -> Suppression | None:
    """The active suppression of ``address``, if any."""
    return Suppression.objects.filter(
        address=normalize_email(address), lifted_at__isnull=True
    ).first()


def suppression_lift(*, address: str, by: str) -> Suppression | None:
    """Lift the active suppression of ``address``: emails to it are sent again. The lifted
    suppression, or ``None`` if the address was not suppressed."""
    suppression = suppression_of(address)
    if suppression is None:
        return None
    suppression.lifted_at = timezone.now()
    suppression.lifted_by = by[:254]
    suppression.save(update_fields=["lifted_at", "lifted_by"])
    logger.info("suppression %s lifted by %s", suppression.pk, by)
    return suppression


def described(reason: str, detail: str) -> str:
    """The row's ``last_error`` when an email is not sent to a suppressed address."""
    said = {"bounced": "it bounced", "dropped": "SendGrid dropped an email to it",
            "spam_report": "its owner reported an email as spam"}.get(reason, reason)  # fmt: skip
    return f"suppressed: {said}" + (f" ({detail[:300]})" if detail else "")
