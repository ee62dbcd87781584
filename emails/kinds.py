"""The kinds of email the product sends, and who says what each one says.

The outbox keeps a kind and an address, nothing more: when a worker sends a row it asks
the row's kind which account the email is for and what its link is, so the link is fresh
and a request for an address with no account costs the web the same as any other. This
app knows the kinds by name (the outbox's choices, the metrics' labels); the app whose
flow causes a kind supplies it when Django starts (``register``, from its ``AppConfig``),
so this app imports none of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models


class Kind(models.TextChoices):
    VERIFICATION = "verification"  # confirm the address of a registration
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a kind of email  # nosec B105
    ACCOUNT_EXISTS = "account_exists"  # someone registered an address that has an account


@dataclass(frozen=True)
class KindOf:
    """What one kind says, and to whom. ``user`` is an instance of the user model."""

    subject: str  # "{product}" is replaced by PRODUCT_NAME
    wanted: Callable[[Any], bool]  # should this account still get it?
    link: Callable[[Any], str]  # the URL its button opens, with a fresh token
    valid_for: Callable[[], int]  # seconds the link works (a setting, read at send time)


_KINDS: dict[str, KindOf] = {}


def register(kind: str, of: KindOf) -> None:
    """Say what emails of ``kind`` say (once per kind, when Django starts)."""
    if kind not in Kind.values:
        raise ValueError(f"unknown kind of email {kind!r}: expected one of {Kind.values}")
    _KINDS[kind] = of


def kind_of(kind: str) -> KindOf:
    try:
        return _KINDS[kind]
    except KeyError:
        raise LookupError(
            f"no app registered what a {kind!r} email says (emails.kinds.register)"
        ) from None
