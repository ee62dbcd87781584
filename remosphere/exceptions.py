"""Expected failures and how the API shows them.

Services raise ``ApplicationError`` (or Django's ``ValidationError`` for per-field
problems); the REST framework exception handler turns both into JSON responses, so a
view never builds an error response by hand.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)

UNAVAILABLE = "The service is briefly unavailable; try again in a moment."


class ApplicationError(Exception):
    """An expected failure with a stable ``code`` the frontend can branch on."""

    def __init__(self, message: str, *, code: str, status_code: int = status.HTTP_400_BAD_REQUEST):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status_code = status_code


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response({"detail": exc.message, "code": exc.code}, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_validation_detail(exc))
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": "The request body is too large.", "code": "too_large"},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, DatabaseError):
        # PostgreSQL unreachable (a restart, a failover): tell the client to retry, and
        # nothing else; the log says which error it was.
        logger.error("database error answering %s: %s", _path(context), type(exc).__name__)
        return Response(
            {"detail": UNAVAILABLE, "code": "unavailable"},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    return drf_exception_handler(exc, context)


def _path(context: dict[str, Any]) -> str:
    request = context.get("request")
    return getattr(request, "path", "a request")


def _validation_detail(error: DjangoValidationError) -> dict[str, list[str]] | list[str]:
    if hasattr(error, "error_dict"):
        return {
            field: [str(m) for e in errors for m in e.messages]
            for field, errors in error.error_dict.items()
        }
    return {"non_field_errors": list(error.messages)}
