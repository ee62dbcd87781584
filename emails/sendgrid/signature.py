"""Is a request to the Event Webhook SendGrid's, and fresh?

SendGrid signs each batch with ECDSA (P-256, SHA-256) over the timestamp header followed by
the raw body, and sends the signature and the timestamp in two headers. The signature is
checked by SendGrid's own library (``sendgrid.helpers.eventwebhook``, on ``cryptography``),
with the verification key from ``SENDGRID_WEBHOOK_PUBLIC_KEY``.

The signature alone would let anyone who captured a request post it again, any time; the
timestamp it covers is therefore held to a window (``MAX_AGE`` back, ``MAX_AHEAD`` ahead
for clock drift), as SendGrid's documentation advises and the usual Django package does
not. A request replayed within the window only repeats events, which change nothing the
second time (``emails.delivery_events``).
"""

from __future__ import annotations

import binascii
from enum import Enum
from functools import cache

from sendgrid.helpers.eventwebhook import EventWebhook

from servicespec.sendgrid import SIGNATURE_HEADER, TIMESTAMP_HEADER

# SendGrid retries a batch the web did not take for up to 24 hours; a retry may carry the
# timestamp it was first signed with. Applying events is idempotent and only moves a row
# forward, so a batch posted again within the day changes nothing; refusing it would lose
# every event of a web outage longer than the window (docs/SECURITY.md).
MAX_AGE = 24 * 3600 + 300  # seconds a signed batch stays acceptable: SendGrid's retries
MAX_AHEAD = 60  # seconds a timestamp may be ahead of this machine's clock


class Verdict(Enum):
    GENUINE = "genuine"
    UNSIGNED = "unsigned"  # a header is missing: 401
    FORGED = "forged"  # the signature does not match the body and timestamp: 403
    STALE = "stale"  # signed, but outside the window: 403

    @property
    def detail(self) -> str:
        return {
            Verdict.GENUINE: "",
            Verdict.UNSIGNED: f"send the {SIGNATURE_HEADER} and {TIMESTAMP_HEADER} headers",
            Verdict.FORGED: "the signature does not match this body and timestamp",
            Verdict.STALE: f"the timestamp is more than {MAX_AGE} s old (or ahead of time): "
            "a replayed request is refused",
        }[self]


@cache
def _verifier(public_key: str) -> EventWebhook:
    return EventWebhook(public_key)


def verify(
    body: bytes, *, signature: str | None, timestamp: str | None, public_key: str, now: float
) -> Verdict:
    if not signature or not timestamp:
        return Verdict.UNSIGNED
    try:
        payload = body.decode("utf-8")
        moment = int(timestamp)
    except (UnicodeDecodeError, ValueError):
        return Verdict.FORGED  # no body or timestamp SendGrid signs looks like this
    try:
        genuine = _verifier(public_key).verify_signature(payload, signature, timestamp)
    except (ValueError, TypeError, binascii.Error):  # a signature that is not base64 DER
        genuine = False
    if not genuine:
        return Verdict.FORGED
    if now - moment > MAX_AGE or moment - now > MAX_AHEAD:
        return Verdict.STALE
    return Verdict.GENUINE
