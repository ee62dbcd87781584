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

# SendGrid's event type -> the outcome it records. A bounce of ``type`` "blocked" is a block
# (BOUNCE_TYPES), its own outcome.
OUTCOMES = {
    "deferred": Outcome.DEFERRED,
    "delivered": Outcome.DELIVERED,
    "bounce": Outcome.BOUNCED,
    "dropped": Outcome.DROPPED,
    "spamreport": Outcome.SPAM_REPORT,
}
# Events SendGrid sends that say nothing about whether the email arrived.
UNTRACKED = {"processed", "open", "click", "unsubscribe", "group_unsubscribe", "group_resubscribe"}
# A bounce event's ``type``, as SendGrid's Event Webhook reference gives it -> the outcome
# and whether the address itself is at fault. "bounce": the receiving server refused the
# address for good (a hard bounce). "blocked": it refused the message for now, most often
# for the sender's reputation or content: not the address's fault, and not a bounce in
# SendGrid's own statistics.
BOUNCE_TYPES = {
    "bounce": (Outcome.BOUNCED, True),
    "blocked": (Outcome.BLOCKED, False),
}
# A drop's ``reason``, exactly as SendGrid's Event Webhook reference lists them -> whether
# the address itself is at fault (then it is suppressed here too). Matched whole, never by
# prefix: "Invalid SMTPAPI header" is a fault of the request (of this project's code), and
# must not suppress every recipient as "Invalid" (a malformed address) does. A reason not
# in this table is recorded and never suppresses.
DROP_REASONS = {
    "Invalid": True,  # not a valid address
    "Bounced Address": True,  # it hard-bounced before (SendGrid's bounce list)
    "Spam Reporting Address": True,  # its owner reported spam before
    "Unsubscribed Address": False,  # unsubscribed from a group: not a bad address
    "Invalid SMTPAPI header": False,  # the request was malformed: the sender's fault
    "Spam Content (if spam checker app enabled)": False,  # the message's content
    "Recipient List over Package Quota": False,  # the account's plan
}
# How much of SendGrid's words a row keeps: a receiving server's answer is free text.
REASON_LIMIT = 1000


def translate(item: Any) -> DeliveryEvent | str:
    """One item of a batch as a delivery event, or why it is none (one of
    ``emails.outcomes.RESULTS``).

    A delayed (asynchronous) bounce comes without ``sg_message_id`` (SendGrid's reference:
    the message id is unavailable then); it is still about the row its custom argument
    names. One without the custom argument either is about whichever email was last sent
    to the address before it (``email_id`` ``None``: the domain finds it)."""
    if not isinstance(item, dict) or not isinstance(item.get("event"), str):
        return MALFORMED
    name = item["event"]
    delayed_bounce = name == "bounce" and not item.get("sg_message_id")
    if EMAIL_ID_ARG not in item and not delayed_bounce:
        return FOREIGN  # another sender's email on the same SendGrid account
    email_id = _email_id(item[EMAIL_ID_ARG]) if EMAIL_ID_ARG in item else None
    happened, address = _moment(item.get("timestamp")), item.get("email")
    if (EMAIL_ID_ARG in item and email_id is None) or happened is None:
        return MALFORMED
    if not isinstance(address, str) or not address.strip():
        return MALFORMED
    if name in UNTRACKED:
        return UNTRACKED_TYPE
    if name not in OUTCOMES:
        return UNKNOWN_TYPE
    outcome, at_fault = OUTCOMES[name], False
    if name == "bounce":
        outcome, at_fault = BOUNCE_TYPES.get(
            str(item.get("type", "bounce")), BOUNCE_TYPES["bounce"]
        )
    elif name == "spamreport":
        at_fault = True
    elif name == "dropped":
        at_fault = DROP_REASONS.get(clean(item.get("reason")).strip(), False)
    message_id = item.get("sg_message_id")
    return DeliveryEvent(
        email_id=email_id,
        address=clean(address),
        outcome=outcome,
        happened=happened,
        reason=clean(item.get("reason") or item.get("response"))[:REASON_LIMIT],
        message_id=clean(message_id) or None,
        address_at_fault=at_fault,
    )


def clean(value: Any) -> str:
    """Text as PostgreSQL can store it: a receiving mail server's answer is anyone's text,
    and NUL (which PostgreSQL refuses) or a lone surrogate (which UTF-8 cannot encode) must
    not cost the batch. Anything not text is no text."""
    if not isinstance(value, str):
        return ""
    return value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


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
