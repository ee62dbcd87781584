"""Email verification tokens.

A token is ``django.core.signing`` data (salted, timestamped) holding the user's id and a
digest of the account's state: email, password hash and verification time. The digest
is what makes a token single-use and bound to the account as it was: verifying the
email, changing it or changing the password changes the state, and every earlier token
stops matching. A bad, expired, replayed or foreign token gets the same answer
(``None``), so the answer tells an attacker nothing about which check failed.

Web and worker must share ``SECRET_KEY``: the worker signs, the web checks.
"""

from __future__ import annotations

from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from authentication.models import User

SALT = "authentication.email-verification"


def verification_token_make(user: User) -> str:
    return signing.dumps({"u": user.pk, "s": _state(user)}, salt=SALT, compress=True)


def verification_token_user(token: str, *, max_age: int) -> User | None:
    """The user a valid token was made for, or ``None`` for any invalid token."""
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
        user = User.objects.get(pk=int(data["u"]))
        state = str(data["s"])
    except (signing.BadSignature, User.DoesNotExist, KeyError, TypeError, ValueError):
        return None
    return user if constant_time_compare(state, _state(user)) else None


def _state(user: User) -> str:
    verified = user.email_verified_at.isoformat() if user.email_verified_at else ""
    value = f"{user.pk}|{user.email}|{user.password}|{verified}"
    return salted_hmac(SALT, value, algorithm="sha256").hexdigest()[:32]
