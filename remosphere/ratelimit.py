"""Sliding-window rate limits counted atomically in Django's cache (Redis in production).

One counter per (scope, who, window): ``cache.add`` creates it with an expiry,
``cache.incr`` counts (Redis ``INCR``), so sixteen simultaneous requests get sixteen
different counts and exactly ``limit`` of them pass, on any number of web instances. The
previous window's count, weighted by how much of it still overlaps the last ``window``
seconds, is added in (the sliding-window counter), so a client cannot spend a whole limit
at the end of one window and another at the start of the next. A refusal says how long
until one more attempt would pass (the ``Retry-After``).

If the cache cannot be reached the request is let through and the failure logged:
refusing sign-ups during a Redis outage would lose exactly the sign-ups the outbox keeps.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from servicespec.envspec import parse_rate

logger = logging.getLogger(__name__)

KEY_PREFIX = "ratelimit"


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds until the window ends, when refused


def hit(scope: str, who: str, rate: str) -> Verdict:
    """Count one attempt of ``who`` in ``scope`` against ``rate`` (``"10/minute"``)."""
    limit, window = parse_rate(rate)
    now = time.time()
    index, into = divmod(now, window)
    # Hashed: an email address or client address never appears as a cache key.
    digest = hashlib.sha256(who.encode()).hexdigest()[:32]
    key = f"{KEY_PREFIX}:{scope}:{digest}:{int(index)}"
    try:
        cache.add(key, 0, timeout=2 * window + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # it expired between add and incr: count afresh
            cache.add(key, 0, timeout=2 * window + 1)
            count = cache.incr(key)
        previous = cache.get(f"{KEY_PREFIX}:{scope}:{digest}:{int(index) - 1}") or 0
    except (redis.RedisError, OSError) as error:
        logger.warning(
            "rate limit %s not checked: cache unreachable (%s)", scope, type(error).__name__
        )
        return Verdict(True)
    overlap = 1 - into / window  # the share of the previous window still in the last `window`
    if previous * overlap + count <= limit:
        return Verdict(True)
    return Verdict(False, retry_after=_wait(limit, window, into, count, previous))


def _wait(limit: int, window: int, into: float, count: int, previous: int) -> int:
    """Seconds until one more attempt would pass, counts staying as they are."""
    if count >= limit:  # this window is spent: wait for it to slide out far enough
        # next window: count * (1 - f) + 1 <= limit  =>  f >= 1 - (limit - 1) / count
        needed = 1 - (limit - 1) / count
        seconds = (window - into) + needed * window
    else:  # the previous window's weight must fade: previous * (1 - f) + count + 1 <= limit
        needed = 1 - (limit - count - 1) / previous
        seconds = (needed - into / window) * window
    return max(1, math.ceil(seconds))


def client_address(request: HttpRequest) -> str:
    """Who a request comes from, for rate limits: the address the proxies in front of the
    web saw (the ``NUM_PROXIES``-th from the end of ``X-Forwarded-For``, as REST
    framework reads it), an IPv6 address widened to its ``THROTTLE_IPV6_PREFIX`` network."""
    meta = request.META
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    address = meta.get("REMOTE_ADDR", "")
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES")
    if forwarded and proxies:
        hops = [hop.strip() for hop in forwarded.split(",")]
        address = hops[-min(proxies, len(hops))]
    return _network(address)


def _network(address: str) -> str:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        if parsed.ipv4_mapped:
            return str(parsed.ipv4_mapped)
        prefix = settings.THROTTLE_IPV6_PREFIX
        return str(ipaddress.ip_network(f"{parsed}/{prefix}", strict=False))
    return str(parsed)
