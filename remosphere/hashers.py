"""How passwords are hashed: Argon2id at OWASP's minimum, a bounded number at a time.

OWASP's Password Storage Cheat Sheet puts Argon2id first, at a minimum of 19 MiB of
memory, 2 passes and 1 lane; that is what ``Argon2idPasswordHasher`` uses (Django's
``Argon2PasswordHasher``, on argon2-cffi, with those parameters). Django's PBKDF2 stays
second in ``PASSWORD_HASHERS``: a stored PBKDF2 hash still verifies, and is re-hashed with
Argon2id when its owner next logs in (docs/SECURITY.md, "Password hashing").

Each hash holds its 19 MiB while it runs, and a web process runs as many requests at once
as it has threads; ``PASSWORD_HASHES_AT_ONCE`` bounds how many hash at the same time in one
process (the others wait their turn, briefly: one hash is about 25 ms of CPU), so the memory
hashing can take is known: processes x that bound x 19 MiB. On Render's 0.5 CPU instance
more hashes at once would not finish sooner anyway; the CPU is the limit.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher

MEMORY_KIB = 19 * 1024  # OWASP's minimum for Argon2id: 19 MiB...
PASSES = 2  # ...two passes over it...
LANES = 1  # ...one lane


@cache
def _slots(size: int) -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(size)


@contextmanager
def _hashing() -> Iterator[None]:
    """One of the process's ``PASSWORD_HASHES_AT_ONCE`` slots for one hash."""
    with _slots(settings.PASSWORD_HASHES_AT_ONCE):
        yield


class Argon2idPasswordHasher(Argon2PasswordHasher):
    """Argon2id (argon2-cffi's default variant) with OWASP's minimum parameters. Its hashes
    are Django's ``argon2$argon2id$v=19$m=19456,t=2,p=1$...``: Django's own Argon2 hasher
    reads them too, and a hash made with other parameters is re-made on its next login
    (``must_update``)."""

    time_cost = PASSES
    memory_cost = MEMORY_KIB
    parallelism = LANES

    def encode(self, password: str, salt: str) -> str:
        with _hashing():
            return super().encode(password, salt)

    def verify(self, password: str, encoded: str) -> bool:
        with _hashing():
            return super().verify(password, encoded)
