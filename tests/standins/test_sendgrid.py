"""The SendGrid stand-in a rehearsal runs, driven by the worker's own SendGrid client: a
202 with an X-Message-Id, every message kept as JSON, one line per message (recipient,
subject, the first link), and a wrong key refused as SendGrid refuses it."""

from __future__ import annotations

import json

import pytest

from emails.sendgrid import client
from emails.sending import PermanentEmailError
from standins.sendgrid import FakeSendGrid

KEY = "SG.stand-in-key"


@pytest.fixture
def sendgrid(tmp_path, settings):
    lines: list[str] = []
    server = FakeSendGrid(
        KEY, outbox=tmp_path / "outbox", on_message=lambda r: lines.append(r.summary())
    ).start()
    settings.SENDGRID_API_KEY, settings.SENDGRID_API_HOST = KEY, server.host
    yield server, lines, tmp_path / "outbox"
    server.stop()


def payload(**overrides) -> dict:
    fields = {
        "to": "ada@example.com",
        "subject": "Confirm your email address",
        "text": "Open https://app.example.com/verify?token=abc to confirm.\nThen log in.",
        "html": "<p>Open the link</p>",
        "email_id": 7,
        "category": "verification",
    }
    return client.payload(**{**fields, **overrides})


def test_a_message_is_accepted_kept_and_said_in_one_line(sendgrid):
    _, lines, outbox = sendgrid
    message_id = client.send(payload())
    [kept] = list(outbox.iterdir())
    assert (
        message_id.startswith("fakeMsg"),
        json.loads(kept.read_text())["custom_args"],
        lines,
    ) == (
        True,
        {"remosphere_email_id": "7"},
        ["to ada@example.com: 'Confirm your email address' "
         "https://app.example.com/verify?token=abc"],
    )  # fmt: skip


def test_a_wrong_key_is_refused_and_nothing_is_kept(sendgrid, settings):
    _, lines, outbox = sendgrid
    settings.SENDGRID_API_KEY = "SG.another"
    with pytest.raises(PermanentEmailError, match="401"):
        client.send(payload())
    assert (lines, outbox.exists()) == ([], False)


def test_it_listens_on_the_port_it_is_given(tmp_path):
    first = FakeSendGrid(KEY).start()
    port = int(first.host.rsplit(":", 1)[1])
    first.stop()
    second = FakeSendGrid(KEY, port=port).start()
    try:
        assert second.host.endswith(f":{port}")
    finally:
        second.stop()
