"""A tiny JSON-over-HTTP client for tests that talk to a real server."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Reply:
    status: int
    json: Any
    headers: dict[str, str] = field(default_factory=dict)


def call(
    method: str,
    url: str,
    body: Any = None,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
    raw: bytes | None = None,
) -> Reply:
    """``body`` is sent as JSON; ``raw``, instead, as the exact bytes given (a signed body)."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - test URLs
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Token {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        # only the local processes it starts, by the URLs they print (http)
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310  # nosec B310
            return Reply(response.status, _json(response.read()), dict(response.headers))
    except urllib.error.HTTPError as error:
        return Reply(error.code, _json(error.read()), dict(error.headers))


def _json(raw: bytes) -> Any:
    """The body as JSON; a body that is not JSON (an HTML error page) as its text."""
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")
