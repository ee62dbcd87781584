"""What became of the emails the provider accepted: delivery events, applied to the outbox
rows they are about. The provider's own words are translated before they get here
(``emails.sendgrid.events``).

An event is applied only when its row exists and its address and message id agree with
the row, so an event about another sender's email (another project on the same account, a
staging deployment whose ids overlap) changes nothing.

The provider retries a batch for up to 24 hours, and its event ids are not stable across
retries, so an event is deduplicated by what it means for the row: the row's outcome only
moves forward (``RANK``): ``deferred``, then ``delivered``, then a bounce, a drop or a spam
report. The same event twice, or an old one arriving after a newer one (``delivered``
after ``bounced``), changes nothing. One ``UPDATE ... WHERE outcome IN (lower ones)``
decides, so two web instances applying the same batch at once agree.

An address that hard-bounced, that an email was dropped to because of the address itself,
or whose owner reported spam, is suppressed (``emails.suppressions``).

Items that are not delivery news (opens, clicks...), of types not known, about rows that
do not exist or about other senders' emails, and items that are not events at all are
counted and skipped; the webhook answers 2xx all the same (a refused batch would only be
sent again).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace

from django.db import DataError, IntegrityError, transaction

from emails import suppressions
from emails.models import Email
from emails.outcomes import (
    APPLIED,
    FOREIGN,
    NO_SUCH_EMAIL,
    RESULTS,
    UNCHANGED,
    UNSTORABLE,
    DeliveryEvent,
    Outcome,
)
from remosphere.addresses import normalize_email

logger = logging.getLogger(__name__)

# How far along an outcome is: news only moves a row to a higher rank. The three endings
# share one: the first reported stands.
RANK = {
    Outcome.NONE: 0,
    Outcome.DEFERRED: 1,
    Outcome.DELIVERED: 2,
    Outcome.BOUNCED: 3,
    Outcome.BLOCKED: 3,
    Outcome.DROPPED: 3,
    Outcome.SPAM_REPORT: 3,
}
# The outcomes that suppress the address, when the address itself is at fault.
SUPPRESSES = {
    Outcome.BOUNCED: suppressions.Reason.BOUNCED,
    Outcome.DROPPED: suppressions.Reason.DROPPED,
    Outcome.SPAM_REPORT: suppressions.Reason.SPAM_REPORT,
}


def events_apply(events: Iterable[DeliveryEvent | str]) -> Counter[str]:
    """Apply a batch of translated events (a string: an item skipped, and why); how many
    items came to each result. One event the database refuses (its text, say) is counted
    ``unstorable`` and skipped, and the rest of the batch is applied: a refused batch would
    only come back, and fail again, for a day. A database that does not answer raises."""
    tally: Counter[str] = Counter({result: 0 for result in RESULTS})
    for event in events:
        if isinstance(event, str):
            tally[event] += 1
            continue
        try:
            with transaction.atomic():  # one event's failure leaves the others' writes alone
                tally[event_apply(event)] += 1
        except (DataError, IntegrityError, UnicodeError) as error:
            logger.warning(
                "a delivery event for email %s was not stored (%s); the rest of the batch is "
                "applied", event.email_id, type(error).__name__,
            )  # fmt: skip
            tally[UNSTORABLE] += 1
    return tally


def event_apply(event: DeliveryEvent) -> str:
    """Apply one event to its row; what it came to (one of ``RESULTS``)."""
    if event.email_id is None:  # the provider did not say which email: the last one sent
        row = (
            Email.objects.filter(
                address=normalize_email(event.address), sent_at__lte=event.happened
            )
            .order_by("-sent_at")
            .values("pk", "address", "message_id")
            .first()
        )
        if row is None:
            return FOREIGN  # nothing of ours went there: another sender's email
        event = replace(event, email_id=row["pk"])
    else:
        row = Email.objects.filter(pk=event.email_id).values("address", "message_id").first()
        if row is None:
            return NO_SUCH_EMAIL
    # A provider's id for an event begins with the id it answered the send with; an event
    # without one (a delayed bounce) is matched by the row's id and the address alone.
    if normalize_email(event.address) != normalize_email(row["address"]) or (
        row["message_id"]
        and event.message_id is not None
        and not event.message_id.startswith(row["message_id"])
    ):
        return FOREIGN
    earlier = [o for o, rank in RANK.items() if rank < RANK[event.outcome]]
    with transaction.atomic():
        moved = Email.objects.filter(pk=event.email_id, outcome__in=earlier).update(
            outcome=event.outcome, outcome_at=event.happened, outcome_reason=event.reason
        )
        suppress = SUPPRESSES.get(event.outcome) if event.address_at_fault else None
        if suppress:
            suppressions.suppression_add(
                address=row["address"],
                reason=suppress,
                detail=event.reason,
                email_id=event.email_id,
                at=event.happened,
            )
    return APPLIED if moved else UNCHANGED
