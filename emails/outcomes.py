"""What can become of an email once the provider accepted it, in this app's own words: the
outcomes a row records, and one piece of news about one email (``DeliveryEvent``), as a
provider's translation (``emails.sendgrid.events``) hands it to the domain
(``emails.delivery_events``). No model here: a provider's module reads it without Django
being set up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import models


class Outcome(models.TextChoices):
    """What the provider reported after accepting the email; later news can only move it
    forward (``emails.delivery_events.RANK``)."""

    NONE = "", "not reported"
    DEFERRED = "deferred"  # the receiving server asked to try again later
    DELIVERED = "delivered"
    BOUNCED = "bounced"  # the receiving server refused the address for good
    BLOCKED = "blocked"  # it refused the message for now (often the sender's reputation)
    DROPPED = "dropped"  # the provider did not send it (an address it knows to be bad...)
    SPAM_REPORT = "spam_report"  # the recipient marked it as spam


@dataclass(frozen=True)
class DeliveryEvent:
    """One piece of news about one email."""

    email_id: int | None  # None: the provider did not say (the last email sent to the address)
    address: str
    outcome: Outcome
    happened: datetime
    reason: str  # the provider's words: a bounce's reason, a deferral's response
    message_id: str | None  # the provider's id of the message, as the event gives it
    address_at_fault: bool  # the address itself caused it (a hard bounce, a spam report...)


# What became of each item of a batch.
APPLIED = "applied"  # the row's outcome moved
UNCHANGED = "unchanged"  # the row already knew as much or more (a retry, an old event)
UNTRACKED_TYPE = "untracked"  # processed, open, click...
UNKNOWN_TYPE = "unknown_type"
NO_SUCH_EMAIL = "no_such_email"  # names a row that does not exist
FOREIGN = "foreign"  # not one of this outbox's emails
MALFORMED = "malformed"
UNSTORABLE = "unstorable"  # the database refused what it says; the rest of the batch is applied
RESULTS = (
    APPLIED, UNCHANGED, UNTRACKED_TYPE, UNKNOWN_TYPE, NO_SUCH_EMAIL, FOREIGN, MALFORMED, UNSTORABLE,
)  # fmt: skip
