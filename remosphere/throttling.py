"""REST framework's throttle, on this project's limiter (``remosphere.ratelimit``).

A view opts in with ``throttle_scope``; the rate is ``DEFAULT_THROTTLE_RATES[scope]``
(the ``THROTTLE_RATE_*`` variables). Counted atomically and shared by every web instance,
per client address (IPv6 by network).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework import throttling

from remosphere import ratelimit

if TYPE_CHECKING:  # REST framework's views import this module through its settings
    from rest_framework.request import Request
    from rest_framework.views import APIView


class ScopedRateThrottle(throttling.BaseThrottle):
    def __init__(self) -> None:
        self._retry_after: int | None = None

    def allow_request(self, request: Request, view: APIView) -> bool:
        scope = getattr(view, "throttle_scope", None)
        if scope is None:
            return True
        rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]
        verdict = ratelimit.hit(scope, ratelimit.client_address(request), rate)
        self._retry_after = verdict.retry_after
        return verdict.allowed

    def wait(self) -> float | None:
        return self._retry_after
