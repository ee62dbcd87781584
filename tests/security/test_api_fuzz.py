"""Every endpoint fuzzed from the project's own OpenAPI document (GET /api/schema/), valid
and invalid inputs alike: no request makes the API answer 5xx, and every answer is one the
document describes (its status code, content type, headers and body schema), so the
document is true to the API.

Bounded by API_FUZZ_EXAMPLES (default 30) examples per operation and mode, so it stays a
few seconds in the test command; raise it for a longer hunt.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "30"))


def _schema() -> schemathesis.schemas.BaseSchema:
    from remosphere.wsgi import application

    loaded = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    loaded.config.generation.update(modes=list(GenerationMode), max_examples=EXAMPLES)
    return loaded


schema = _schema()


@pytest.mark.django_db
@schema.parametrize()
def test_every_answer_is_documented_and_none_is_5xx(case):
    with connections_kept_open():
        case.call_and_validate(
            checks=[
                not_a_server_error,
                status_code_conformance,
                content_type_conformance,
                response_headers_conformance,
                response_schema_conformance,
            ]
        )


@contextlib.contextmanager
def connections_kept_open() -> Iterator[None]:
    """What Django's test client does: a request must not close the database connection
    that holds the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
