"""Registration to verified login, across real processes: the web over HTTP, a Celery
worker consuming from Redis, SendGrid's API served locally."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from stack.http import call
from standins.sendgrid import Answer
from tests.conftest import SENDGRID_TEST_KEY
from tests.support import services
from tests.support.settle import settled

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-and-unusual-passphrase"


def register(live_server, email: str) -> None:
    reply = call(
        "POST", f"{live_server.url}/api/auth/register", {"email": email, "password": PASSWORD}
    )
    assert reply.status == 201, reply.json


def link_in(text: str) -> str:
    match = re.search(r"https?://\S+", text)
    assert match, f"no link in the email:\n{text}"
    return match.group(0)


def confirm(live_server, link: str, password: str = PASSWORD):
    """What the page the link opens does: POST the link's token with the password."""
    token = parse_qs(urlsplit(link).query)["token"][0]
    return call(
        "POST",
        f"{live_server.url}/api/auth/verify-email",
        {"token": token, "password": password},
    )


def test_registration_sends_one_email_whose_link_verifies_the_account(
    live_server, fake_sendgrid, start_worker
):
    start_worker()
    register(live_server, "ada@example.com")

    [request] = fake_sendgrid.wait_for(1)
    verified = confirm(live_server, link_in(request.text))
    login = call(
        "POST",
        f"{live_server.url}/api/auth/login",
        {"email": "ada@example.com", "password": PASSWORD},
    )

    assert (request.to, verified.status, login.status) == ("ada@example.com", 200, 200)


def test_sendgrid_request_carries_the_api_key_as_bearer_token(
    live_server, fake_sendgrid, start_worker
):
    start_worker()
    register(live_server, "key@example.com")

    [request] = fake_sendgrid.wait_for(1)

    assert request.authorization == f"Bearer {SENDGRID_TEST_KEY}"


def test_logged_in_user_sees_their_verified_account(live_server, fake_sendgrid, start_worker):
    start_worker()
    register(live_server, "grace@example.com")
    [request] = fake_sendgrid.wait_for(1)
    confirm(live_server, link_in(request.text))
    token = call(
        "POST",
        f"{live_server.url}/api/auth/login",
        {"email": "grace@example.com", "password": PASSWORD},
    ).json["token"]

    me = call("GET", f"{live_server.url}/api/auth/me", token=token)

    assert me.json["email_verified"] is True


def test_worker_retries_a_sendgrid_500_until_delivered(live_server, fake_sendgrid, start_worker):
    fake_sendgrid.answer_next(Answer(500, {"errors": [{"message": "internal error"}]}))
    start_worker()
    register(live_server, "retry500@example.com")

    requests = fake_sendgrid.wait_for(2)

    assert [r.answered for r in requests] == [500, 202]


def test_worker_waits_for_retry_after_on_a_sendgrid_429(live_server, fake_sendgrid, start_worker):
    fake_sendgrid.answer_next(
        Answer(429, {"errors": [{"message": "too many requests"}]}, headers={"Retry-After": "3"})
    )
    worker = start_worker()
    register(live_server, "retry429@example.com")

    fake_sendgrid.wait_for(2)

    assert re.search(r"attempt 2 in (3\.\d|[4-9]\.\d)s", worker.log), worker.log


def test_worker_does_not_retry_a_sendgrid_400(live_server, fake_sendgrid, start_worker):
    fake_sendgrid.answer_next(
        Answer(
            400,
            {
                "errors": [
                    {"message": "The from address does not match a verified Sender Identity."}
                ]
            },
        )
    )
    start_worker()
    register(live_server, "refused@example.com")
    fake_sendgrid.wait_for(1)

    settled(services.REDIS_URL)  # a retry would be waiting in the broker now

    assert len(fake_sendgrid.requests) == 1


def test_worker_logs_sendgrid_error_text_without_the_api_key(
    live_server, fake_sendgrid, start_worker
):
    fake_sendgrid.answer_next(Answer(403, {"errors": [{"message": "access forbidden"}]}))
    worker = start_worker()
    register(live_server, "forbidden@example.com")
    fake_sendgrid.wait_for(1)
    worker.stop()

    assert ("access forbidden" in worker.log, SENDGRID_TEST_KEY in worker.log) == (True, False)


def test_a_running_worker_shows_in_readyz_through_its_heartbeat(live_server, start_worker):
    start_worker(RENDER_INSTANCE_ID="heartbeat-test")

    ready = call("GET", f"{live_server.url}/readyz")

    assert any(name.startswith("heartbeat-test@") for name in ready.json["workers"])
