"""Sending one email through the SendGrid SDK, against the local SendGrid server."""

from __future__ import annotations

import pytest

from emails import sending
from standins.sendgrid import Answer
from tests.conftest import SENDGRID_TEST_KEY


def send() -> None:
    sending.send_email(to="ada@example.com", subject="Hello", text="Hi Ada", html="<p>Hi Ada</p>")


def test_sends_a_text_part_and_an_html_part(fake_sendgrid):
    send()
    assert [(c["type"], c["value"]) for c in fake_sendgrid.requests[0].body["content"]] == [
        ("text/plain", "Hi Ada"),
        ("text/html", "<p>Hi Ada</p>"),
    ]


def test_sends_through_the_configured_host(fake_sendgrid):
    send()
    assert fake_sendgrid.requests[0].to == "ada@example.com"


def test_sends_from_the_default_from_email(fake_sendgrid, settings):
    settings.DEFAULT_FROM_EMAIL = "team@example.com"
    send()
    assert fake_sendgrid.requests[0].body["from"]["email"] == "team@example.com"


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_rate_limits_are_transient(fake_sendgrid, status):
    fake_sendgrid.answer_next(Answer(status, {"errors": [{"message": "try later"}]}))
    with pytest.raises(sending.TransientEmailError, match="try later"):
        send()


def test_retry_after_is_read_from_a_429(fake_sendgrid):
    fake_sendgrid.answer_next(Answer(429, headers={"Retry-After": "7"}))
    with pytest.raises(sending.TransientEmailError) as raised:
        send()
    assert raised.value.retry_after == 7


@pytest.mark.parametrize("status", [400, 401, 403, 413])
def test_other_client_errors_are_permanent(fake_sendgrid, status):
    fake_sendgrid.answer_next(Answer(status, {"errors": [{"message": "refused"}]}))
    with pytest.raises(sending.PermanentEmailError, match=f"\\({status}\\): refused"):
        send()


def test_a_timeout_is_transient(fake_sendgrid, settings):
    settings.SENDGRID_TIMEOUT = 1
    fake_sendgrid.answer_next(Answer(delay=2))
    with pytest.raises(sending.TransientEmailError, match=r"unreachable.*no answer within 1s"):
        send()


def test_a_refused_connection_is_transient(fake_sendgrid, settings):
    settings.SENDGRID_API_HOST = "http://127.0.0.1:9"
    with pytest.raises(sending.TransientEmailError, match="unreachable") as raised:
        send()
    assert "could not connect" in str(raised.value)
    assert "no answer within" not in str(raised.value)  # refused at once, not a timeout


def test_the_api_key_is_redacted_from_error_text(fake_sendgrid):
    fake_sendgrid.answer_next(
        Answer(400, {"errors": [{"message": f"bad key {SENDGRID_TEST_KEY}"}]})
    )
    with pytest.raises(sending.PermanentEmailError) as raised:
        send()
    assert SENDGRID_TEST_KEY not in str(raised.value)


def test_the_http_librarys_exception_is_not_chained(fake_sendgrid, settings):
    settings.SENDGRID_API_HOST = "http://127.0.0.1:9"
    with pytest.raises(sending.TransientEmailError) as raised:
        send()
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_an_answer_slower_than_the_timeout_is_transient(fake_sendgrid, settings):
    settings.SENDGRID_TIMEOUT = 1
    fake_sendgrid.answer_next(Answer(202, delay=3))
    with pytest.raises(sending.TransientEmailError, match="no answer within 1s"):
        send()


def test_sends_reuse_one_kept_alive_connection(fake_sendgrid):
    send()
    send()
    first, second = fake_sendgrid.requests
    assert first.client_port == second.client_port


def test_without_a_key_locally_the_email_is_written_to_a_file(settings, tmp_path):
    settings.SENDGRID_API_KEY = None
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path
    send()
    assert "Hi Ada" in next(tmp_path.iterdir()).read_text()


def test_without_a_key_in_production_sending_is_refused(settings):
    settings.SENDGRID_API_KEY = None
    settings.PRODUCTION = True
    with pytest.raises(sending.PermanentEmailError, match="SENDGRID_API_KEY is not set"):
        send()
