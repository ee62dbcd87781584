"""No log line, at any level, carries the SendGrid key, a token from an email or a
password: a real worker and a real web (Gunicorn through its entrypoint) at
LOG_LEVEL=DEBUG, where the SendGrid client logs its headers and the whole email."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from authentication import services
from stack.http import call
from tests.conftest import SENDGRID_TEST_KEY

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-password-nobody-may-log-42"


def test_debug_logs_of_worker_and_web_hold_no_key_token_or_password(
    fake_sendgrid, start_worker, start_web, worker_env
):
    worker = start_worker(LOG_LEVEL="DEBUG")
    web = start_web({**worker_env, "LOG_LEVEL": "DEBUG"})
    call("POST", f"{web.url}/api/auth/register", {"email": "ada@example.com", "password": PASSWORD})
    [request] = fake_sendgrid.wait_for(1)
    link = re.search(r"https?://\S+", request.text).group(0)
    token = parse_qs(urlsplit(link).query)["token"][0]
    call("GET", f"{web.url}/verify-email?token={token}")  # as a browser opens the link
    verified = call(
        "POST", f"{web.url}/api/auth/verify-email", {"token": token, "password": PASSWORD}
    )
    worker.stop()

    logs = worker.log + web.log
    leaked = [
        name
        for name, secret in [("key", SENDGRID_TEST_KEY), ("token", token), ("password", PASSWORD)]
        if secret in logs
    ]
    assert (verified.status, "DEBUG" in worker.log, leaked) == (200, True, [])


def test_the_redaction_masks_what_the_sendgrid_client_logs_at_debug():
    from remosphere.logredact import redact

    line = (
        "HEADERS: {'Authorization': 'Bearer SG.abcdefgh12.ijklmnop34', 'Accept': '*/*'} "
        'BODY: {"content": [{"value": "Open https://x.example/verify-email?token=eyJ1Ijo.abc:1x"}]}'
    )
    assert redact(line, ["SG.abcdefgh12.ijklmnop34"]) == (
        "HEADERS: {'Authorization': '<redacted>', 'Accept': '*/*'} "
        'BODY: {"content": [{"value": "Open https://x.example/verify-email?token=<redacted>"}]}'
    )


def test_services_never_log_a_password(caplog, redis_client):
    import logging

    with caplog.at_level(logging.DEBUG):
        services.user_register(email="ada@example.com", password=PASSWORD)
    assert PASSWORD not in caplog.text
