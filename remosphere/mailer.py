"""Sending one email: through SendGrid's v3 API when a key is configured, otherwise
through Django's mail backend (local development writes files under LOCAL_DATA_DIR/mail/).

Failures come out as one of two exceptions so callers decide retries without knowing
SendGrid: ``TransientEmailError`` (429, 5xx, timeouts, connection errors: try again later)
and ``PermanentEmailError`` (any other refusal: retrying cannot help). Their messages
carry SendGrid's own error text, never the API key, and never chain the SDK's exception.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
from email.utils import parsedate_to_datetime
from urllib.error import URLError

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone
from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import Mail

logger = logging.getLogger(__name__)

_NETWORK_ERRORS = (
    URLError,
    TimeoutError,
    socket.timeout,
    ConnectionError,
    http.client.HTTPException,
)


class TransientEmailError(Exception):
    """The email could not be sent now; sending it later may work."""

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PermanentEmailError(Exception):
    """The email provider refused the email; the same request will fail again."""


def send_email(*, to: str, subject: str, text: str, html: str) -> None:
    """Send one email with a plain-text and an HTML part."""
    if settings.SENDGRID_API_KEY:
        _send_with_sendgrid(to=to, subject=subject, text=text, html=html)
    elif settings.PRODUCTION:
        raise PermanentEmailError("SENDGRID_API_KEY is not set; the worker cannot send email")
    else:
        message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
        message.attach_alternative(html, "text/html")
        message.send()


def _send_with_sendgrid(*, to: str, subject: str, text: str, html: str) -> None:
    client = SendGridAPIClient(api_key=settings.SENDGRID_API_KEY, host=settings.SENDGRID_API_HOST)
    client.client.timeout = settings.SENDGRID_TIMEOUT
    message = Mail(
        from_email=settings.DEFAULT_FROM_EMAIL,
        to_emails=to,
        subject=subject,
        plain_text_content=text,
        html_content=html,
    )
    try:
        client.send(message)
    except HTTPError as error:
        reason = _redact(_error_text(error.body))
        if error.status_code == 429 or error.status_code >= 500:
            raise TransientEmailError(
                f"SendGrid answered {error.status_code}: {reason}",
                retry_after=_retry_after(error.headers),
            ) from None
        raise PermanentEmailError(
            f"SendGrid refused the email ({error.status_code}): {reason}"
        ) from None
    except _NETWORK_ERRORS as error:
        raise TransientEmailError(
            f"SendGrid unreachable ({type(error).__name__}: {_redact(str(error))})"
        ) from None


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
