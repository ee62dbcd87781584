"""Request bodies: too large is 413, not JSON is 415, malformed or nested too deeply is 400;
never a 500, never a traceback in the log, whatever the body (fuzzed)."""

from __future__ import annotations

import json
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

ENDPOINTS = ["register", "login", "resend-verification", "verify-email"]


def post(path: str, body: bytes | str, content_type: str = "application/json"):
    return APIClient().post(f"/api/auth/{path}", body, content_type=content_type)


def test_a_body_over_the_limit_answers_413():
    body = '{"email": "a@example.com", "password": "' + "x" * 20_000 + '"}'
    response = post("register", body)
    assert (response.status_code, response.json()["code"]) == (413, "too_large")


def test_a_body_that_is_not_utf8_answers_400():
    response = post("login", b'{"email": "\xff\xfe"}')
    assert (response.status_code, response.json()["code"]) == (400, "parse_error")


def test_a_text_body_answers_415():
    assert post("login", "hello", content_type="text/plain").status_code == 415


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "body",
    [
        "[" * 1000,  # 1 KB: deeper than Python's JSON decoder can recurse
        "[" * 3000 + "]" * 3000,
        '{"email": ' + "[" * 1000 + "]" * 1000 + ', "password": "x"}',
        '{"a":' * 40 + "1" + "}" * 40,  # parses, but deeper than any input of the API
    ],
    ids=["unclosed", "closed", "in-a-field", "parsable-but-deep"],
)
def test_deeply_nested_json_answers_400_with_one_warning_and_no_traceback(endpoint, body, caplog):
    with caplog.at_level(logging.DEBUG):
        response = post(endpoint, body)
    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.levelno >= logging.INFO]
    assert (
        response.status_code,
        response.json()["code"],
        lines,
        [r for r in caplog.records if r.exc_info],
    ) == (
        400,
        "parse_error",
        [
            ("INFO", "request body refused: JSON nested more than 32 levels deep."),
            ("WARNING", f"Bad Request: /api/auth/{endpoint}"),
        ],
        [],
    )


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["email", "password", "token", "x"]) | st.text(max_size=8),
            children,
            max_size=4,
        )
    ),
    max_leaves=30,
)
BODIES = (
    st.binary(max_size=2000)
    | JSON_VALUES.map(lambda value: json.dumps(value).encode())
    | st.integers(1, 4000).map(lambda n: b"[" * n)
    | st.integers(1, 4000).map(lambda n: b'{"email":' * n)
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(endpoint=st.sampled_from(ENDPOINTS), body=BODIES)
def test_no_body_under_the_size_limit_gives_a_5xx_or_a_traceback(endpoint, body, caplog):
    caplog.clear()
    response = post(endpoint, body)
    assert response.status_code < 500
    assert [
        r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR
    ] == []
