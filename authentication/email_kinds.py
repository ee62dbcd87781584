"""What the emails of the account flows say: a link to confirm an address, a link to
reset a password, and "you already have an account". Registered with the email app when
Django starts (``AuthenticationConfig.ready``); the email app sends them.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings

from authentication import tokens
from authentication.models import User
from emails import kinds
from emails.kinds import Kind, KindOf


def _link(purpose: tokens.Purpose, page: Callable[[], str]) -> Callable[[User], str]:
    """The page ``page()`` names, with a fresh ``purpose`` token for the account."""
    return lambda user: f"{page()}?{urlencode({'token': tokens.token_make(purpose, user)})}"


KINDS: dict[str, KindOf] = {
    Kind.VERIFICATION: KindOf(
        subject="Confirm your email address for {product}",
        wanted=lambda user: not user.email_verified,
        link=_link(tokens.VERIFICATION, lambda: settings.EMAIL_VERIFICATION_URL),
        valid_for=lambda: settings.EMAIL_VERIFICATION_MAX_AGE,
    ),
    Kind.PASSWORD_RESET: KindOf(
        subject="Reset your {product} password",
        wanted=lambda user: True,
        link=_link(tokens.PASSWORD_RESET, lambda: settings.PASSWORD_RESET_URL),
        valid_for=lambda: settings.PASSWORD_RESET_MAX_AGE,
    ),
    Kind.ACCOUNT_EXISTS: KindOf(
        subject="You already have a {product} account",
        wanted=lambda user: user.email_verified,
        link=_link(tokens.PASSWORD_RESET, lambda: settings.PASSWORD_RESET_URL),
        valid_for=lambda: settings.PASSWORD_RESET_MAX_AGE,
    ),
}


def register() -> None:
    for kind, of in KINDS.items():
        kinds.register(kind, of)
