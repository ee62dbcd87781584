"""Password hashing as the benchmarks measure it: the production hasher's parameters
(Argon2id, ``remosphere/hashers.py``) without its per-process bound, which reads Django's
settings (the benchmarks run outside Django), and the CPU one hash costs."""

from __future__ import annotations

import statistics
import time
from typing import Any

from django.contrib.auth.hashers import Argon2PasswordHasher

from bench.stack import PASSWORD
from remosphere import hashers


class Argon2id(Argon2PasswordHasher):
    time_cost, memory_cost, parallelism = hashers.PASSES, hashers.MEMORY_KIB, hashers.LANES


def hash_ms(hasher: Any, samples: int) -> float:
    """CPU milliseconds one hash costs in this process (the median of ``samples``)."""
    timings = []
    for _ in range(samples):
        started = time.process_time()
        hasher.encode(PASSWORD, hasher.salt())
        timings.append(time.process_time() - started)
    return statistics.median(timings) * 1000
