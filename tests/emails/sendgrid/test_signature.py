"""SendGrid's signature, checked with SendGrid's library against real ECDSA P-256 keys:
genuine batches pass; anything altered, signed by another key, unsigned, or outside the
time window does not; nothing raises."""

from __future__ import annotations

import base64
import time

import pytest

from emails.sendgrid import signature as webhook_signature
from emails.sendgrid.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, Verdict
from servicespec import envspec
from standins.sendgrid_events import EventSigner

BODY = b'[{"email":"ada@example.com","event":"delivered","timestamp":1732950000}]\r\n'
SENDGRID = EventSigner()


def verify(body: bytes, headers: dict, *, now: float | None = None, key: str | None = None):
    return webhook_signature.verify(
        body,
        signature=headers.get(SIGNATURE_HEADER),
        timestamp=headers.get(TIMESTAMP_HEADER),
        public_key=key or SENDGRID.public_key,
        now=time.time() if now is None else now,
    )


def test_a_genuine_batch_passes_byte_for_byte():
    assert verify(BODY, SENDGRID.headers(BODY)) is Verdict.GENUINE


@pytest.mark.parametrize(
    "tamper",
    [
        lambda body, h: (body.replace(b"delivered", b"bounce"), h),
        lambda body, h: (body.rstrip(), h),  # one trailing byte less
        lambda body, h: (body, {**h, TIMESTAMP_HEADER: str(int(h[TIMESTAMP_HEADER]) - 1)}),
        lambda body, h: (body, {**h, SIGNATURE_HEADER: "bm90IGEgc2lnbmF0dXJl"}),
        lambda body, h: (body, {**h, SIGNATURE_HEADER: "%%% not base64 %%%"}),
        lambda body, h: (body, {**h, TIMESTAMP_HEADER: "soon"}),
        lambda body, h: (b"\xff\xfe" + body, h),
    ],
    ids=["body", "truncated", "timestamp", "garbage", "not-base64", "not-a-number", "not-utf8"],
)
def test_anything_altered_is_forged(tamper):
    body, headers = tamper(BODY, SENDGRID.headers(BODY))
    assert verify(body, headers) is Verdict.FORGED


def test_a_batch_signed_with_another_key_is_forged():
    assert verify(BODY, EventSigner().headers(BODY)) is Verdict.FORGED


@pytest.mark.parametrize("missing", [SIGNATURE_HEADER, TIMESTAMP_HEADER])
def test_a_missing_header_is_unsigned(missing):
    headers = {k: v for k, v in SENDGRID.headers(BODY).items() if k != missing}
    assert verify(BODY, headers) is Verdict.UNSIGNED


@pytest.mark.parametrize(
    ("offset", "verdict"),
    [
        (-webhook_signature.MAX_AGE - 1, Verdict.STALE),  # captured, replayed later
        (-webhook_signature.MAX_AGE + 5, Verdict.GENUINE),
        (webhook_signature.MAX_AHEAD - 5, Verdict.GENUINE),  # a clock a little ahead
        (webhook_signature.MAX_AHEAD + 5, Verdict.STALE),
    ],
)
def test_only_a_recent_timestamp_is_accepted(offset, verdict):
    now = time.time()
    headers = SENDGRID.headers(BODY, timestamp=int(now + offset))
    assert verify(BODY, headers, now=now) is verdict


def test_the_env_spec_accepts_the_key_as_sendgrid_shows_it_and_as_pem():
    var = envspec.BY_NAME["SENDGRID_WEBHOOK_PUBLIC_KEY"]
    der = base64.b64decode(SENDGRID.public_key)
    pem = (
        "-----BEGIN PUBLIC KEY-----\n"
        + base64.encodebytes(der).decode()
        + "-----END PUBLIC KEY-----"
    )
    assert envspec.parse(var, pem, production=True) == SENDGRID.public_key


@pytest.mark.parametrize(
    "value",
    [
        "not-base64!!",
        base64.b64encode(b"\x30" * 91).decode(),
        # a P-256 key whose point was altered: not on the curve
        base64.b64encode(base64.b64decode(EventSigner().public_key)[:-1] + b"\x00").decode(),
    ],
    ids=["garbage", "not-a-key", "off-the-curve"],
)
def test_the_env_spec_refuses_what_is_not_a_p256_public_key_without_echoing_it(value):
    problems = envspec.check({"SENDGRID_WEBHOOK_PUBLIC_KEY": value}, envspec.WEB, production=False)
    [problem] = problems
    assert (problem.name, value in problem.message) == ("SENDGRID_WEBHOOK_PUBLIC_KEY", False)
