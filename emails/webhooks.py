"""``POST /webhooks/sendgrid``: SendGrid's signed Event Webhook, an adapter like the API's
views. It answers 404 while ``SENDGRID_WEBHOOK_PUBLIC_KEY`` is unset, 413 for a body over
``MAX_BODY_BYTES``, 401 without the signature headers and 403 for a forged or stale
request (``emails.sendgrid.signature``), 400 for a signed body that is not a JSON list,
and otherwise translates the events (``emails.sendgrid.events``), applies them
(``emails.delivery_events``) and answers 200 with what became of them. A bad request
changes nothing; an unreadable database is 503, which SendGrid retries.
"""

from __future__ import annotations

import json
import logging
import time

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from prometheus_client import Counter

from emails import delivery_events
from emails.sendgrid import events as event_names
from emails.sendgrid import signature as webhook_signature
from remosphere import parsers
from servicespec import sendgrid as servicespec_sendgrid

logger = logging.getLogger(__name__)

# Counted in this process and shared by Gunicorn's processes like the web's request
# histogram (``GET /metrics``, operations/metrics.py).
WEBHOOK_EVENTS = Counter(
    "remosphere_sendgrid_events",
    "Items of SendGrid's Event Webhook batches, by what became of them (applied, unchanged, "
    "untracked, unknown_type, no_such_email, foreign, malformed, unstorable; this instance).",
    ["result"],
)

MAX_BODY_BYTES = servicespec_sendgrid.EVENT_BODY_MAX_BYTES
RETRY_AFTER_SECONDS = 60


@csrf_exempt  # no session, no cookie: the signature is the authentication
@require_POST
def sendgrid_events(request: HttpRequest) -> JsonResponse:
    key = settings.SENDGRID_WEBHOOK_PUBLIC_KEY
    if not key:
        return _error(
            404, "not_configured", "delivery events are off: set SENDGRID_WEBHOOK_PUBLIC_KEY"
        )
    body = _body(request)
    if body is None:
        return _error(413, "too_large", f"a batch of events is at most {MAX_BODY_BYTES} bytes")
    verdict = webhook_signature.verify(
        body,
        signature=request.headers.get(webhook_signature.SIGNATURE_HEADER),
        timestamp=request.headers.get(webhook_signature.TIMESTAMP_HEADER),
        public_key=key,
        now=time.time(),
    )
    if verdict is not webhook_signature.Verdict.GENUINE:
        logger.warning("sendgrid events refused: %s", verdict.value)
        if verdict is webhook_signature.Verdict.UNSIGNED:
            response = _error(401, verdict.value, verdict.detail)
            response["WWW-Authenticate"] = 'Signature realm="sendgrid-events"'
            return response
        return _error(403, verdict.value, verdict.detail)
    events = _events(body)
    if events is None:
        return _error(400, "parse_error", "the body is not a JSON list of events")
    try:
        tally = delivery_events.events_apply(event_names.translate(item) for item in events)
    except DatabaseError as error:
        connection.close_if_unusable_or_obsolete()
        logger.warning(
            "sendgrid events not applied: database unreachable (%s)", type(error).__name__
        )
        response = _error(503, "unavailable", "the database is unreachable; send the batch again")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    for result, count in tally.items():
        WEBHOOK_EVENTS.labels(result).inc(count)
    logger.info(
        "sendgrid events: %s", ", ".join(f"{n} {result}" for result, n in tally.items() if n)
    )
    return JsonResponse(dict(tally))


def _body(request: HttpRequest) -> bytes | None:
    """The raw body, as signed (``None`` if it is too large). Read from the stream, not
    ``request.body``: the API's 16 KB limit (DATA_UPLOAD_MAX_MEMORY_SIZE) is not this one."""
    try:
        announced = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        announced = 0
    if announced > MAX_BODY_BYTES:
        return None
    body = request.read(MAX_BODY_BYTES + 1)
    return None if len(body) > MAX_BODY_BYTES else body


def _events(body: bytes) -> list | None:
    try:
        events = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(events, list) or parsers.depth(events) > parsers.MAX_DEPTH:
        return None
    return events


def _error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)
