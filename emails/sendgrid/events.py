"""SendGrid's Event Webhook items, translated into this app's delivery events.

Each send carries its row's id in ``custom_args`` (``EMAIL_ID_ARG``), and SendGrid copies
it into every event about the email, with ``sg_message_id`` (the ``X-Message-Id`` the row
keeps, then a suffix) and the recipient's address. What an event *does* to a row (which
outcome outranks which, what suppresses an address) is the domain's
(``emails.delivery_events``); here are only SendGrid's words, in two tables: its event
names (``OUTCOMES``, ``UNTRACKED``) and the drop reasons that blame the address
(``ADDRESS_DROPS``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from emails.outcomes import (
    FOREIGN,
    MALFORMED,
    UNKNOWN_TYPE,
    UNTRACKED_TYPE,
    DeliveryEvent,
    Outcome,
)
from servicespec.sendgrid import EMAIL_ID_ARG

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
# A drop because of the address itself (SendGrid's reasons), not of the request.
ADDRESS_DROPS = ("invalid", "bounced address", "spam reporting address")


def translate(item: Any) -> DeliveryEvent | str:
    """One item of a batch as a delivery event, or why it is none (one of
    ``emails.outcomes.RESULTS``)."""
    if not isinstance(item, dict) or not isinstance(item.get("event"), str):
        return MALFORMED
    if EMAIL_ID_ARG not in item:
        return FOREIGN  # another sender's email on the same SendGrid account
    email_id, happened = _email_id(item[EMAIL_ID_ARG]), _moment(item.get("timestamp"))
    address = item.get("email")
    if email_id is None or happened is None or not isinstance(address, str):
        return MALFORMED
    name = item["event"]
    if name in UNTRACKED:
        return UNTRACKED_TYPE
    if name not in OUTCOMES:
        return UNKNOWN_TYPE
    message_id = item.get("sg_message_id")
    return DeliveryEvent(
        email_id=email_id,
        address=address,
        outcome=OUTCOMES[name],
        happened=happened,
        reason=_reason(item),
        message_id=message_id if isinstance(message_id, str) else None,
        address_at_fault=_address_at_fault(name, item),
    )


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


def _reason(item: dict) -> str:
    """SendGrid's words for what happened: a bounce's or drop's ``reason``, a deferral's
    ``response``."""
    said = item.get("reason") or item.get("response") or ""
    return said[:1000] if isinstance(said, str) else ""


def _address_at_fault(name: str, item: dict) -> bool:
    if name == "bounce":
        return item.get("type", "bounce") == "bounce"  # not "blocked"
    if name == "spamreport":
        return True
    if name == "dropped":
        reason = item.get("reason")
        return isinstance(reason, str) and reason.strip().lower().startswith(ADDRESS_DROPS)
    return False
