"""What each kind of email says, and to whom: the one place that knows the kinds.

The outbox (``authentication.emails``) stores only a kind and an address; when a worker
delivers a row it asks here for the account the email is for (``None``: nobody to send
it to, the row is skipped) and for the message itself, built at send time so its link is
fresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings

from authentication import tokens
from authentication.models import Email, User

Kind = Email.Kind


@dataclass(frozen=True)
class Message:
    subject: str
    text: str


def recipient(kind: str, address: str) -> User | None:
    """The account a ``kind`` email to ``address`` is for, if it should still be sent."""
    user = User.objects.filter(email=address, is_active=True).first()
    if user is None:
        return None
    if kind == Kind.VERIFICATION:
        return None if user.email_verified else user
    raise ValueError(f"unknown kind of email {kind!r}")


def message(kind: str, user: User) -> Message:
    if kind == Kind.VERIFICATION:
        token = tokens.token_make(tokens.VERIFICATION, user)
        link = f"{settings.EMAIL_VERIFICATION_URL}?{urlencode({'token': token})}"
        return Message(
            subject="Verify your RemoSphere email address",
            text=(
                "Welcome to RemoSphere!\n\n"
                f"Open this link to verify your email address:\n\n{link}\n\n"
                "If you did not create an account, ignore this email.\n"
            ),
        )
    raise ValueError(f"unknown kind of email {kind!r}")
