"""Every endpoint fuzzed from the project's own OpenAPI document (GET /api/schema/), valid
and invalid inputs alike: no request makes the API answer 5xx.

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
from django.test import override_settings
from schemathesis.checks import not_a_server_error
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
def test_no_input_makes_an_endpoint_answer_5xx(case):
    # The fuzzer registers many accounts; the cost of hashing their passwords is not what
    # is under test here.
    with (
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
        connections_kept_open(),
    ):
        case.call_and_validate(checks=[not_a_server_error])


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
