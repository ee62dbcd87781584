"""What every page's template may use: the product's name and where people log in."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def product(request: HttpRequest) -> dict[str, str | None]:
    return {"product_name": settings.PRODUCT_NAME, "app_url": settings.APP_URL}
