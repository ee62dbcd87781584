"""`make run`'s script brings up web + worker on defaults, and a registration produces a
verification email a person can open."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from servicespec import envspec
from stack.http import call
from stack.ports import free as free_port

ROOT = Path(__file__).resolve().parents[2]


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def local_stack(tmp_path: Path):
    """scripts/run_local.py with no configuration at all, its data in a temporary dir."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in envspec.BY_NAME}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(PORT=str(port), LOCAL_DATA_DIR=str(tmp_path / "data"))
    log = (tmp_path / "run.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "scripts/run_local.py"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(f"{base}/healthz"), 60, "the local web")
        yield base, tmp_path / "data" / "mail"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(30)
        log.close()
        print((tmp_path / "run.log").read_text())


def _answers(url: str) -> bool:
    try:
        return call("GET", url).status == 200
    except OSError:
        return False


def test_local_registration_writes_an_email_whose_link_opens_the_confirm_page(local_stack):
    base, mail_dir = local_stack
    password = "a-long-and-unusual-passphrase"
    call("POST", f"{base}/api/auth/register", {"email": "local@example.com", "password": password})
    email = wait_until(lambda: list(mail_dir.glob("*.log")), 60, "the email file")[0].read_text()
    link = next(word for word in email.split() if "verify-email?token=" in word)
    token = parse_qs(urlsplit(link).query)["token"][0]

    page = call("GET", link.replace("localhost", "127.0.0.1"))
    confirmed = call(
        "POST", f"{base}/api/auth/verify-email", {"token": token, "password": password}
    )

    assert (page.status, "Confirm your email address" in page.json, confirmed.status) == (
        200,
        True,
        200,
    )


def test_the_local_worker_shows_in_readyz(local_stack):
    base, _ = local_stack
    workers = wait_until(lambda: call("GET", f"{base}/readyz").json["workers"], 30, "a worker")
    assert workers[0].startswith("local@")


def test_local_rate_limits_are_relaxed_and_said_to_be(local_stack, tmp_path):
    base, _ = local_stack
    answers = [
        call(
            "POST", f"{base}/api/auth/register", {"email": f"try{n}@example.com", "password": "x"}
        ).status
        for n in range(12)  # production allows 10 an hour, counting failed ones
    ]
    said = (
        "relaxed for trying things locally (register 1000/hour"
        in (tmp_path / "run.log").read_text()
    )
    assert (answers, said) == ([400] * 12, True)
