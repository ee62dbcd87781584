"""What an email says, built when the worker sends it.

The outbox (``emails.outbox``) stores only a kind and an address; when a worker delivers a
row it asks here for the account the email is for (``None``: nobody to send it to, the row
is skipped) and for the message itself, with a fresh link. What each kind says comes from
the app that registered it (``emails.kinds``); each kind has one template pair here,
``emails/<kind>.txt`` and ``emails/<kind>.html``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string

from emails.kinds import kind_of


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str


def recipient(kind: str, address: str) -> Any | None:
    """The account a ``kind`` email to ``address`` is for, if it should still be sent.
    (A raw query: the worker runs it for every email, and the ORM's query building was
    a tenth of a send's CPU.)"""
    user_model = get_user_model()
    query = (
        f"SELECT * FROM {user_model._meta.db_table} "  # noqa: S608  # nosec B608
        f"WHERE {user_model.get_email_field_name()} = %s AND is_active LIMIT 1"
    )
    user = next(iter(user_model.objects.raw(query, [address])), None)
    return user if user is not None and wanted(kind, user) else None


def wanted(kind: str, user: Any) -> bool:
    """Whether ``user``'s account should still get a ``kind`` email."""
    return kind_of(kind).wanted(user)


def message(kind: str, user: Any) -> Message:
    """The email of ``kind`` for ``user``, with a fresh link."""
    of = kind_of(kind)
    context = {
        "product_name": settings.PRODUCT_NAME,
        "app_url": settings.APP_URL,
        "address": getattr(user, user.get_email_field_name()),
        "link": of.link(user),
        "valid_for": for_people(of.valid_for()),
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
