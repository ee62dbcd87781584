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
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from emails.models import Suppression
from remosphere.addresses import normalize_email

logger = logging.getLogger(__name__)

Reason = Suppression.Reason


def suppression_add(
    *, address: str, reason: str, detail: str = "", email_id: int | None, at: datetime
) -> bool:
    """Suppress ``address`` because of an event that happened ``at``; ``False`` when it is
    suppressed already, or was lifted after that event (SendGrid retries its batches for a
    day: an old bounce arriving late must not undo an operator's decision)."""
    address = normalize_email(address)
    # SendGrid's timestamps are whole seconds: an event of second T happened before T + 1.
    if Suppression.objects.filter(
        address=address, lifted_at__gte=at + timedelta(seconds=1)
    ).exists():
        return False
    try:
        with transaction.atomic():
            Suppression.objects.create(
                address=address, reason=reason, detail=detail[:1000], email_id=email_id
            )
    except IntegrityError:  # one active suppression per address: it is suppressed already
        return False
    logger.info("an address is suppressed (%s, email %s)", reason, email_id)
    return True


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
