"""Django's error views, in the API's JSON error shape for paths under ``/api/`` and as
Django's own pages elsewhere."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from remosphere.exceptions import error_body


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("Not found.", "not_found"), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body("Something went wrong on our side; try again.", "server_error"),
            status=500,
        )
    return defaults.server_error(request)
