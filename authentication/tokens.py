"""The signed tokens that emails carry.

A token is ``django.core.signing`` data (salted per purpose, timestamped) holding the
user's id and a digest of the account state the token is bound to. When that state
changes, every earlier token stops matching. A bad, expired, replayed or foreign token
gets the same answer (``None``), so the answer tells an attacker nothing about which
check failed.

- ``VERIFICATION`` is bound to the address only: it proves that whoever holds it reads
  that inbox, nothing more. Confirming also needs a registration's password
  (``services.user_verify_email``), so a link opened by a mail scanner, or clicked twice,
  changes nothing and can say "already verified".
- ``PASSWORD_RESET`` is bound to the address and the password hash: setting a new
  password spends it, and so does any other password change made meanwhile.

Web and worker must share ``SECRET_KEY``: the worker signs, the web checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from authentication.models import User


@dataclass(frozen=True)
class Purpose:
    salt: str
    state: Callable[[User], str]


VERIFICATION = Purpose("authentication.email-verification", lambda user: user.email)
PASSWORD_RESET = Purpose(
    "authentication.password-reset", lambda user: f"{user.email}|{user.password}"
)


def token_make(purpose: Purpose, user: User) -> str:
    return signing.dumps({"u": user.pk, "s": _digest(purpose, user)}, salt=purpose.salt)


def token_user(purpose: Purpose, token: str, *, max_age: int) -> User | None:
    """The user a valid token was made for, or ``None`` for any invalid token."""
    try:
        data = signing.loads(token, salt=purpose.salt, max_age=max_age)
        user = User.objects.get(pk=int(data["u"]))
        state = str(data["s"])
    except (signing.BadSignature, User.DoesNotExist, KeyError, TypeError, ValueError):
        return None
    return user if constant_time_compare(state, _digest(purpose, user)) else None


def _digest(purpose: Purpose, user: User) -> str:
    value = f"{user.pk}|{purpose.state(user)}"
    return salted_hmac(purpose.salt, value, algorithm="sha256").hexdigest()[:32]
