"""Expected failures and how the API shows them.

Services raise ``ApplicationError`` (or Django's ``ValidationError`` for per-field
problems); the REST framework exception handler turns both into JSON responses, so a
view never builds an error response by hand.

Every error body has one shape: ``{"detail": "...", "code": "..."}``, plus
``"fields": {"name": ["message", ...]}`` when the input was invalid (code ``invalid``).
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
INVALID = "Some fields are invalid; see fields."


class ApplicationError(Exception):
    """An expected failure with a stable ``code`` the frontend can branch on."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status_code: int = status.HTTP_400_BAD_REQUEST,
        retry_after: int | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status_code = status_code
        self.retry_after = retry_after


class TooManyAttempts(ApplicationError):
    def __init__(self, retry_after: int):
        super().__init__(
            f"Too many attempts; try again in {retry_after} seconds.",
            code="throttled",
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            retry_after=retry_after,
        )


def error_body(detail: str, code: str) -> dict[str, str]:
    return {"detail": detail, "code": code}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        return Response(error_body(exc.message, exc.code), status=exc.status_code, headers=headers)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_validation_detail(exc))
    if isinstance(exc, RequestDataTooBig):
        return Response(
            error_body("The request body is too large.", "too_large"),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, DatabaseError):
        # PostgreSQL unreachable (a restart, a failover): tell the client to retry, and
        # nothing else; the log says which error it was.
        logger.error("database error answering %s: %s", _path(context), type(exc).__name__)
        return Response(
            error_body(UNAVAILABLE, "unavailable"),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {**error_body(INVALID, "invalid"), "fields": _fields(exc.detail)}
    elif isinstance(exc, exceptions.APIException):
        code = exc.get_codes()
        response.data = error_body(str(exc.detail), code if isinstance(code, str) else "error")
    return response


def _fields(detail: Any) -> dict[str, list[str]]:
    """REST framework's validation detail as ``{field: [messages]}``."""
    if not isinstance(detail, dict):
        detail = {"non_field_errors": detail}
    return {
        str(field): [str(m) for m in (messages if isinstance(messages, list) else [messages])]
        for field, messages in detail.items()
    }


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
