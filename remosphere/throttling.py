"""Rate limits that every web instance shares, and that never take the site down.

REST framework's scoped throttle counts requests in Django's cache, which is Redis here,
so the limits hold across instances. If Redis cannot be reached the request is let
through (and logged): refusing registrations during a Redis outage would lose exactly the
sign-ups the outbox is there to keep.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import redis
from rest_framework import throttling

if TYPE_CHECKING:  # REST framework's views import this module through its settings
    from rest_framework.request import Request
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)


class ScopedRateThrottle(throttling.ScopedRateThrottle):
    def allow_request(self, request: Request, view: APIView) -> bool:
        try:
            return super().allow_request(request, view)
        except (redis.RedisError, OSError) as error:
            logger.warning(
                "rate limit not checked for %s: cache unreachable (%s)",
                request.path,
                type(error).__name__,
            )
            return True
