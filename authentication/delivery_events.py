"""What SendGrid reports about the emails it accepted: its Event Webhook's events, applied
to the outbox rows they are about.

Each send carries its row's id in ``custom_args`` (``remosphere.mailer.EMAIL_ID_ARG``), and
SendGrid copies it into every event about the email, with ``sg_message_id`` (the
``X-Message-Id`` the row keeps, then a suffix) and the recipient's address. An event is
applied only when all three agree with the row, so an event about another sender's email
(another project on the same account, a staging deployment whose ids overlap) changes
nothing.

SendGrid retries a batch for up to 24 hours, and its event ids are not stable across
retries, so an event is deduplicated by what it means for the row: the row's outcome only
moves forward (``RANK``): ``deferred``, then ``delivered``, then a bounce, a drop or a spam
report. The same event twice, or an old one arriving after a newer one (``delivered``
after ``bounced``), changes nothing. One ``UPDATE ... WHERE outcome IN (lower ones)``
decides, so two web instances applying the same batch at once agree.

An address that hard-bounced, that SendGrid dropped an email to as invalid (or as an
address that bounced or reported spam before), or whose owner reported spam, is
suppressed (``authentication.suppressions``).

Events of types that mean nothing for delivery (``processed``, ``open``, ``click``...),
of types this code does not know, about rows that do not exist, about other senders'
emails, and items that are not events at all are counted and skipped; the caller answers
SendGrid 2xx all the same (a refused batch would only be sent again).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from authentication import suppressions
from authentication.models import Email, normalize_email
from remosphere.mailer import EMAIL_ID_ARG

logger = logging.getLogger(__name__)

Outcome = Email.Outcome
# SendGrid's event type -> the outcome it records.
OUTCOMES = {
    "deferred": Outcome.DEFERRED,
    "delivered": Outcome.DELIVERED,
    "bounce": Outcome.BOUNCED,
    "dropped": Outcome.DROPPED,
    "spamreport": Outcome.SPAM_REPORT,
}
# Events SendGrid sends that say nothing about whether the email arrived.
UNTRACKED = {"processed", "open", "click", "unsubscribe", "group_unsubscribe", "group_resubscribe"}
# How far along an outcome is: news only moves a row to a higher rank. The three endings
# share one: the first reported stands.
RANK = {
    Outcome.NONE: 0,
    Outcome.DEFERRED: 1,
    Outcome.DELIVERED: 2,
    Outcome.BOUNCED: 3,
    Outcome.DROPPED: 3,
    Outcome.SPAM_REPORT: 3,
}
# A drop because of the address itself (SendGrid's reasons), not of the request.
SUPPRESSING_DROPS = ("invalid", "bounced address", "spam reporting address")

# What became of each item of a batch.
APPLIED = "applied"  # the row's outcome moved
UNCHANGED = "unchanged"  # the row already knew as much or more (a retry, an old event)
UNTRACKED_TYPE = "untracked"  # processed, open, click...
UNKNOWN_TYPE = "unknown_type"
NO_SUCH_EMAIL = "no_such_email"  # names a row that does not exist
FOREIGN = "foreign"  # not one of this outbox's emails
MALFORMED = "malformed"
RESULTS = (APPLIED, UNCHANGED, UNTRACKED_TYPE, UNKNOWN_TYPE, NO_SUCH_EMAIL, FOREIGN, MALFORMED)


def events_apply(events: list[Any]) -> Counter[str]:
    """Apply a batch; how many items came to each result."""
    tally: Counter[str] = Counter({result: 0 for result in RESULTS})
    for event in events:
        tally[event_apply(event)] += 1
    return tally


def event_apply(event: Any) -> str:
    """Apply one event to its row; what it came to (one of ``RESULTS``)."""
    if not isinstance(event, dict) or not isinstance(event.get("event"), str):
        return MALFORMED
    if EMAIL_ID_ARG not in event:
        return FOREIGN  # another sender's email on the same SendGrid account
    email_id, happened = _email_id(event[EMAIL_ID_ARG]), _moment(event.get("timestamp"))
    address = event.get("email")
    if email_id is None or happened is None or not isinstance(address, str):
        return MALFORMED
    kind = event["event"]
    if kind in UNTRACKED:
        return UNTRACKED_TYPE
    if kind not in OUTCOMES:
        return UNKNOWN_TYPE
    row = Email.objects.filter(pk=email_id).values("address", "message_id").first()
    if row is None:
        return NO_SUCH_EMAIL
    message = event.get("sg_message_id")
    if normalize_email(address) != normalize_email(row["address"]) or (
        row["message_id"]
        and not (isinstance(message, str) and message.startswith(row["message_id"]))
    ):
        return FOREIGN
    outcome, reason = OUTCOMES[kind], _reason(event)
    earlier = [o for o, rank in RANK.items() if rank < RANK[outcome]]
    with transaction.atomic():
        moved = Email.objects.filter(pk=email_id, outcome__in=earlier).update(
            outcome=outcome, outcome_at=happened, outcome_reason=reason
        )
        suppress = _suppression_reason(kind, event)
        if suppress:
            suppressions.suppression_add(
                address=row["address"],
                reason=suppress,
                detail=reason,
                email_id=email_id,
                at=happened,
            )
    return APPLIED if moved else UNCHANGED


def _email_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value) or None
    return None


def _moment(value: Any) -> datetime | None:
    """An event's ``timestamp`` (Unix seconds); absent: now."""
    if value is None:
        return timezone.now()
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _reason(event: dict) -> str:
    """SendGrid's words for what happened: a bounce's or drop's ``reason``, a deferral's
    ``response``."""
    said = event.get("reason") or event.get("response") or ""
    return said[:1000] if isinstance(said, str) else ""


def _suppression_reason(kind: str, event: dict) -> str | None:
    if kind == "bounce" and event.get("type", "bounce") == "bounce":  # not "blocked"
        return suppressions.Reason.BOUNCED
    if kind == "spamreport":
        return suppressions.Reason.SPAM_REPORT
    reason = event.get("reason")
    dropped_for_the_address = isinstance(reason, str) and reason.strip().lower().startswith(
        SUPPRESSING_DROPS
    )
    return suppressions.Reason.DROPPED if kind == "dropped" and dropped_for_the_address else None
