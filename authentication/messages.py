"""What each kind of email says, and to whom: the one place that knows the kinds.

The outbox (``authentication.emails``) stores only a kind and an address; when a worker
delivers a row it asks here for the account the email is for (``None``: nobody to send
it to, the row is skipped) and for the message itself, built at send time so its link is
fresh. Each kind has one template pair, ``emails/<kind>.txt`` and ``emails/<kind>.html``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.template.loader import render_to_string

from authentication import tokens
from authentication.models import Email, User

Kind = Email.Kind


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class KindOf:
    """One kind of email: its subject, who may receive it, and where its link goes."""

    subject: str
    wanted: Callable[[User], bool]  # should this account still get it?
    purpose: tokens.Purpose
    url: Callable[[], str]  # the page the link opens (a setting, read at send time)
    max_age: Callable[[], int]  # seconds the link works


KINDS: dict[str, KindOf] = {
    Kind.VERIFICATION: KindOf(
        subject="Confirm your email address for {product}",
        wanted=lambda user: not user.email_verified,
        purpose=tokens.VERIFICATION,
        url=lambda: settings.EMAIL_VERIFICATION_URL,
        max_age=lambda: settings.EMAIL_VERIFICATION_MAX_AGE,
    ),
    Kind.PASSWORD_RESET: KindOf(
        subject="Reset your {product} password",
        wanted=lambda user: True,
        purpose=tokens.PASSWORD_RESET,
        url=lambda: settings.PASSWORD_RESET_URL,
        max_age=lambda: settings.PASSWORD_RESET_MAX_AGE,
    ),
    Kind.ACCOUNT_EXISTS: KindOf(
        subject="You already have a {product} account",
        wanted=lambda user: user.email_verified,
        purpose=tokens.PASSWORD_RESET,
        url=lambda: settings.PASSWORD_RESET_URL,
        max_age=lambda: settings.PASSWORD_RESET_MAX_AGE,
    ),
}


def recipient(kind: str, address: str) -> User | None:
    """The account a ``kind`` email to ``address`` is for, if it should still be sent.
    (A raw query: the worker runs it for every email, and the ORM's query building was
    a tenth of a send's CPU.)"""
    query = f"SELECT * FROM {User._meta.db_table} WHERE email = %s AND is_active LIMIT 1"  # noqa: S608  # nosec B608
    user = next(iter(User.objects.raw(query, [address])), None)
    return user if user is not None and wanted(kind, user) else None


def wanted(kind: str, user: User) -> bool:
    """Whether ``user``'s account should still get a ``kind`` email."""
    return KINDS[kind].wanted(user)


def message(kind: str, user: User) -> Message:
    """The email of ``kind`` for ``user``, with a fresh link."""
    of = KINDS[kind]
    token = tokens.token_make(of.purpose, user)
    context = {
        "product_name": settings.PRODUCT_NAME,
        "app_url": settings.APP_URL,
        "address": user.email,
        "link": f"{of.url()}?{urlencode({'token': token})}",
        "valid_for": for_people(of.max_age()),
    }
    return Message(
        subject=of.subject.format(product=settings.PRODUCT_NAME),
        text=render_to_string(f"emails/{kind}.txt", context).strip() + "\n",
        html=render_to_string(f"emails/{kind}.html", context),
    )


def for_people(seconds: int) -> str:
    """``259200`` -> ``"3 days"``; ``3600`` -> ``"1 hour"``; ``90`` -> ``"1 minute"``."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"
