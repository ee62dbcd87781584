"""A logging filter that keeps secrets, tokens and passwords out of every log line.

Libraries log what they see: at DEBUG the SendGrid client logs its request headers
(``Authorization: Bearer <key>``) and the whole email, verification link included. This
filter masks, in each record's message and traceback, before any handler writes it:

- the value of every variable the env spec marks secret (and the password inside a
  secret URL), as set in this process's environment;
- credentials after ``Bearer``/``Token``/``Basic``;
- ``token=...`` in URLs and forms, and the values of JSON/dict keys such as
  ``"password"`` or ``"token"``.

It is attached to Django's handlers (settings.LOGGING) and to Celery's
(``remosphere.celery``), so it holds in the web, the worker and the cron jobs.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from servicespec import envspec

MASK = "<redacted>"
MIN_SECRET_LENGTH = 6  # shorter values would mask ordinary words
_PATTERNS = (
    re.compile(r"(?i)(\b(?:bearer|token|basic)\s+)[A-Za-z0-9._~+/=:-]{8,}"),
    re.compile(r"(?i)([?&;]token=)[^&\s\"'<>\\]+"),
    re.compile(
        r"(?i)([\"']?(?:password|passwd|token|api_key|apikey|secret|authorization)[\"']?"
        r"\s*[:=]\s*[\"'])[^\"']+"
    ),
    re.compile(r"()\bSG\.[\w-]{8,}\.[\w-]{8,}"),  # any SendGrid key, configured or not
)


def secret_values(environ: Mapping[str, str]) -> list[str]:
    """The values to mask: secret variables of the env spec, and URL passwords."""
    values = []
    for var in envspec.SPEC:
        raw = environ.get(var.name, "")
        if not var.secret or len(raw) < MIN_SECRET_LENGTH:
            continue
        values.append(raw)
        if var.format == "url":
            try:
                password = urlsplit(raw).password
            except ValueError:
                password = None
            if password and len(password) >= MIN_SECRET_LENGTH:
                values.append(password)
    return sorted(set(values), key=len, reverse=True)  # longest first: a URL before its password


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda match: match.group(1) + MASK, text)
    return text


class RedactFilter(logging.Filter):
    def __init__(self, name: str = "", environ: Mapping[str, str] | None = None):
        super().__init__(name)
        self.secrets = secret_values(os.environ if environ is None else environ)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: leave it for the handler to report
            return True
        record.msg, record.args = redact(message, self.secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


def install(handlers: Iterable[logging.Handler]) -> None:
    """Put a ``RedactFilter`` on each handler that has none (Celery's, say)."""
    for handler in handlers:
        if not any(isinstance(f, RedactFilter) for f in handler.filters):
            handler.addFilter(RedactFilter())
