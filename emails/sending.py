"""Sending one email, whatever the provider: through SendGrid when a key is configured
(``emails.sendgrid``), otherwise through Django's mail backend (local development writes
files under LOCAL_DATA_DIR/mail/).

Failures come out as one of two exceptions, so the outbox decides retries without knowing
the provider: ``TransientEmailError`` (try again later) and ``PermanentEmailError``
(retrying cannot help). Their messages never carry a secret.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives


class TransientEmailError(Exception):
    """The email could not be sent now; sending it later may work."""

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PermanentEmailError(Exception):
    """The email provider refused the email; the same request will fail again."""


def send_email(
    *,
    to: str,
    subject: str,
    text: str,
    html: str,
    email_id: int | None = None,
    category: str | None = None,
) -> str | None:
    """Send one email with a plain-text and an HTML part; SendGrid's message id (``None``
    without SendGrid, or if SendGrid gave none)."""
    if settings.SENDGRID_API_KEY:
        from emails.sendgrid import client

        body = client.payload(
            to=to, subject=subject, text=text, html=html, email_id=email_id, category=category
        )
        return client.send(body)
    if settings.PRODUCTION:
        raise PermanentEmailError("SENDGRID_API_KEY is not set; the worker cannot send email")
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    message.send()
    return None
