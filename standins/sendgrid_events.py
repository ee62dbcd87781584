"""SendGrid's signed Event Webhook, as the tests send it: a real ECDSA P-256 key pair that
signs a batch exactly as SendGrid does (SHA-256 over the timestamp header then the raw
body; the DER signature in base64), and events in SendGrid's shape (its documented
fields, the send's custom arguments copied in, ``sg_message_id`` extending the
``X-Message-Id`` of the 202). The web verifies them with SendGrid's own library."""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from servicespec.sendgrid import EMAIL_ID_ARG, SIGNATURE_HEADER, TIMESTAMP_HEADER
from stack.http import Reply, call

# What each kind of event adds to the common fields (SendGrid's Event Webhook reference).
DETAILS: dict[str, dict[str, Any]] = {
    "processed": {},
    "delivered": {"response": "250 2.0.0 OK  1732950000 qa1si", "ip": "149.72.1.1", "tls": 1},
    "deferred": {"response": "421 4.7.0 Try again later", "attempt": "1", "ip": "149.72.1.1"},
    "bounce": {
        "type": "bounce",
        "status": "5.1.1",
        "reason": "550 5.1.1 The email account that you tried to reach does not exist",
        "ip": "149.72.1.1",
        "tls": 1,
    },
    "blocked": {"type": "blocked", "status": "4.0.0", "reason": "550 blocked by policy"},
    "dropped": {"reason": "Invalid", "status": "5.0.0"},
    "spamreport": {},
    "open": {"useragent": "Mozilla/5.0", "ip": "203.0.113.7"},
}


class EventSigner:
    """SendGrid's side of the signature: it holds the private key."""

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())

    @property
    def public_key(self) -> str:
        """The verification key, as SendGrid's dashboard shows it (base64 DER, one line)."""
        der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def headers(self, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = self._key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            SIGNATURE_HEADER: base64.b64encode(signature).decode(),
            TIMESTAMP_HEADER: stamp,
            "Content-Type": "application/json",
            "User-Agent": "SendGrid Event API",
        }

    def post(self, url: str, events: list | bytes, *, timestamp: int | None = None) -> Reply:
        body = events if isinstance(events, bytes) else json.dumps(events).encode()
        return call("POST", url, raw=body, headers=self.headers(body, timestamp=timestamp))


def event(
    kind: str,
    *,
    email: str,
    email_id: int | str,
    message_id: str,
    category: str = "verification",
    at: float | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """One event about one sent email, as SendGrid writes it (``blocked`` is a ``bounce``
    of type blocked)."""
    found = {
        "email": email,
        "timestamp": int(time.time() if at is None else at),
        "event": "bounce" if kind == "blocked" else kind,
        "sg_event_id": base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("="),
        "sg_message_id": f"{message_id}.filterdrecv-5b8d96c-1-6749F3A1-2B.0",
        "smtp-id": f"<{message_id}@ismtpd0001p1iad2.sendgrid.net>",
        "category": [category],
        EMAIL_ID_ARG: str(email_id),
        **DETAILS.get(kind, {}),
    }
    found.update(overrides)
    return found
