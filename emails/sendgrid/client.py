"""SendGrid's v3 mail send: the payload and the one HTTP request.

``POST /v3/mail/send`` is one JSON request. Its body is built by SendGrid's own library
(``sendgrid.helpers.mail``), carrying the outbox row's id in ``custom_args`` and the
email's kind as its category, so every delivery event SendGrid reports later names the row
it is about (``emails.sendgrid.events``). The request goes through one urllib3
``PoolManager`` per process (thread-safe), so the worker's threads reuse kept-alive
connections instead of a new TCP and TLS handshake per email, and each request is bounded
by ``SENDGRID_TIMEOUT`` in total (connect and read together). (The library's own client
builds a new urllib opener and connection for every send, with no timeout, and logs its
request headers, key included, at DEBUG.) SendGrid's ``X-Message-Id`` from the 202 is
returned, for the row to keep.

429, 5xx, timeouts and connection errors are ``TransientEmailError``; any other refusal is
``PermanentEmailError`` (``emails.sending``). Their messages carry SendGrid's own error
text, never the API key, and never chain urllib3's exception.
"""

from __future__ import annotations

import json
import logging
import threading
from email.utils import parsedate_to_datetime
from functools import cache

import urllib3
from django.conf import settings
from django.utils import timezone
from sendgrid.helpers.mail import Category, CustomArg, Mail

from emails.sending import PermanentEmailError, TransientEmailError
from servicespec.sendgrid import EMAIL_ID_ARG

logger = logging.getLogger(__name__)

SEND_PATH = "/v3/mail/send"
MESSAGE_ID_HEADER = "X-Message-Id"
_lock = threading.Lock()


def payload(
    *,
    to: str,
    subject: str,
    text: str,
    html: str,
    email_id: int | None = None,
    category: str | None = None,
) -> dict:
    """The v3 mail/send body, built by SendGrid's library: one recipient, a text part then
    an HTML part (SendGrid requires text/plain first), the row's id and the email's kind."""
    mail = Mail(
        from_email=settings.DEFAULT_FROM_EMAIL,
        to_emails=to,
        subject=subject,
        plain_text_content=text,
        html_content=html,
    )
    if email_id is not None:
        mail.custom_arg = CustomArg(EMAIL_ID_ARG, str(email_id))
    if category:
        mail.category = Category(category)
    return mail.get()


def send(payload: dict) -> str | None:
    """POST one payload; SendGrid's message id."""
    body = json.dumps(payload)
    try:
        response = _pool().request(
            "POST",
            settings.SENDGRID_API_HOST.rstrip("/") + SEND_PATH,
            body=body.encode(),
            headers={
                "Authorization": f"Bearer {settings.SENDGRID_API_KEY}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
            timeout=urllib3.Timeout(total=settings.SENDGRID_TIMEOUT),
            retries=False,  # the outbox retries, with backoff; a retry here would hide it
            redirect=False,
        )
    except urllib3.exceptions.HTTPError as error:
        raise TransientEmailError(f"SendGrid unreachable ({_network_reason(error)})") from None
    status = response.status
    if 200 <= status < 300:
        return response.headers.get(MESSAGE_ID_HEADER) or None
    reason = _redact(_error_text(response.data))
    if status == 429 or status >= 500:
        raise TransientEmailError(
            f"SendGrid answered {status}: {reason}",
            retry_after=_retry_after(response.headers),
        )
    raise PermanentEmailError(f"SendGrid refused the email ({status}): {reason}")


@cache
def _pool_for(host: str, size: int) -> urllib3.PoolManager:
    # block=True: a thread waits for a free connection rather than opening one more than
    # the pool keeps (each worker thread sends at most one email at a time anyway).
    return urllib3.PoolManager(num_pools=2, maxsize=size, block=True)


def _pool() -> urllib3.PoolManager:
    with _lock:
        return _pool_for(settings.SENDGRID_API_HOST, settings.CELERY_WORKER_CONCURRENCY)


def _network_reason(error: Exception) -> str:
    """What went wrong on the way, without urllib3's text (it can hold the URL)."""
    cause = getattr(error, "reason", None) or error
    name = type(cause).__name__
    # urllib3 makes a refused connection a kind of ConnectTimeoutError: say which it was.
    if isinstance(cause, urllib3.exceptions.NewConnectionError):
        return f"{name}: could not connect"
    if isinstance(cause, urllib3.exceptions.TimeoutError | TimeoutError):
        return f"{name}: no answer within {settings.SENDGRID_TIMEOUT}s"
    return name


def _error_text(body: bytes | str | None) -> str:
    """SendGrid's error messages (``{"errors": [{"message": ...}]}``), else the raw body."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    body = (body or "").strip()
    try:
        errors = json.loads(body)["errors"]
        messages = [str(e.get("message", "")) for e in errors if isinstance(e, dict)]
        return "; ".join(m for m in messages if m) or body[:500]
    except (ValueError, KeyError, TypeError):
        return body[:500] or "no error text"


def _retry_after(headers: object) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    if not value:
        return None
    value = str(value).strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - timezone.now()).total_seconds())
    except (TypeError, ValueError):
        return None


def _redact(text: str) -> str:
    key = settings.SENDGRID_API_KEY
    return text.replace(key, "<SENDGRID_API_KEY>") if key else text
