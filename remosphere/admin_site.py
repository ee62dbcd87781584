"""Django's admin site with its login rate-limited like the API's: per client address
(``THROTTLE_RATE_LOGIN``) and per account (``THROTTLE_RATE_LOGIN_ACCOUNT``), counted in
Redis so every web instance shares the counts. Over a limit: 429 with ``Retry-After``.
Where it is served, if at all: ``ADMIN_ENABLED`` and ``ADMIN_PATH``."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from remosphere import ratelimit
from remosphere.addresses import normalize_email


class AdminSite(admin.AdminSite):
    site_header = "RemoSphere administration"
    site_title = "RemoSphere admin"

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if request.method == "POST":
            refused = _over_a_limit(request)
            if refused:
                response = HttpResponse(
                    "Too many login attempts; try again later.\n",
                    status=429,
                    content_type="text/plain; charset=utf-8",
                )
                response["Retry-After"] = str(refused)
                return response
        return super().login(request, extra_context)


def _over_a_limit(request: HttpRequest) -> int:
    """Seconds to wait, or 0 when both limits allow this attempt."""
    verdicts = [
        ratelimit.hit(
            "admin-login",
            ratelimit.client_address(request),
            settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["login"],
        ),
        ratelimit.hit(
            "password-account",
            normalize_email(request.POST.get("username", "")),
            settings.THROTTLE_RATE_LOGIN_ACCOUNT,
        ),
    ]
    return max((v.retry_after for v in verdicts if not v.allowed), default=0)
