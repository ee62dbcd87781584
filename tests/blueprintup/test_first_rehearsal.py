"""A newcomer's first rehearsal, following docs/BLUEPRINT_UP.md literally: its env file,
its command; the project's own stand-ins of SendGrid and Render's API start where the env
file points; the verification email appears as a line with its link; the link's token
confirms the address; the account logs in; the autoscaler's run reaches Render's stand-in.
Nothing written but what the docs say."""

from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from celery import Celery
from django.conf import settings

from emails.selectors import SEND_EMAIL_TASK
from operations.queues import PUBLISHED_AT
from stack import image, netns, proctree
from stack.http import call
from tests.support.blueprint_up import BlueprintUp, containers_and_images_of_rehearsals, leftovers

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("image")]

ROOT = Path(__file__).resolve().parents[2]
ADDRESS = "newcomer@example.com"
LATE = "second@example.com"  # registered while the worker is stuck
PASSWORD = "a-long-and-unusual-passphrase"


def the_docs_env_file() -> str:
    """The env file docs/BLUEPRINT_UP.md shows, as written there."""
    docs = (ROOT / "docs" / "BLUEPRINT_UP.md").read_text()
    section = docs.split("## The env file", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


@pytest.fixture
def tmpdir_of_its_own():
    """A TMPDIR as /tmp is, one every user can pass through (as root, the rehearsal's own
    PostgreSQL runs as the postgres user), to see what the rehearsal leaves there."""
    made = Path(tempfile.mkdtemp(prefix="first-rehearsal-"))
    made.chmod(0o711)
    yield made / "tmp"
    shutil.rmtree(made)


def refused(port: int, user: str, password: str) -> bool:
    try:
        psycopg.connect(host="127.0.0.1", port=port, user=user, password=password,
                        dbname=user, connect_timeout=5).close()  # fmt: skip
    except psycopg.OperationalError as error:
        return "password authentication failed" in str(error)
    return False


def a_backlog_scales_the_worker(up: BlueprintUp, url: str) -> None:
    """The worker takes nothing more (stopped, as if stuck) while a message that has
    waited a minute is in its queue; the autoscaler's run, triggered through Render's API
    as from the dashboard, asks Render (the stand-in) for a second instance, the rehearsal
    starts it, and it sends the email that waited."""
    redis_url = re.search(r"remosphere-kv is available at (redis://\S+)", up.output).group(1)
    api = re.search(r"Render's API stands in at (\S+)", up.output).group(1)
    workers = [p for p in up.family() if "celery" in " ".join(proctree.command_line(p))]
    for pid in workers:
        os.kill(pid, signal.SIGSTOP)
    try:
        # Messages a minute old first (the queue's latency is its oldest's age), then a
        # registration. Two: a receive the worker sent before it stopped may still take one.
        sender = Celery(broker=redis_url, set_as_current=False)
        for _ in range(2):
            sender.send_task(SEND_EMAIL_TASK, args=[0], queue=settings.CELERY_TASK_DEFAULT_QUEUE,
                             headers={PUBLISHED_AT: time.time() - 60})  # fmt: skip
        assert call("POST", f"{url}/api/auth/register",
                    {"email": LATE, "password": PASSWORD}).status == 201  # fmt: skip
        triggered = call("POST", f"{api}/cron-jobs/remosphere-autoscaler/runs", {},
                         headers={"Authorization": "Bearer rnd_your-key"})  # fmt: skip
        scaled = up.wait_for(r"render api \(stand-in\): scale remosphere-worker to (\d+)")
        up.wait_for(r"==> remosphere-worker: 1 -> 2 instance\(s\), as Render scales it")
        sent = up.wait_for(rf"==> sendgrid \(stand-in\): to {re.escape(LATE)}:", timeout=60)
    finally:
        for pid in workers:
            os.kill(pid, signal.SIGCONT)
    assert (triggered.status, scaled.group(1), bool(sent)) == (202, "2", True)


@pytest.mark.parametrize(
    "mode",
    [
        pytest.param(["--processes"], id="processes"),
        # the image the docs' --image runs: built once for every image test (conftest)
        pytest.param(["--storage-driver", "vfs", "--image", image.IMAGE], id="image",
                     marks=pytest.mark.image),
    ],
)  # fmt: skip
def test_following_the_docs_ends_in_the_inbox_and_a_login(
    tmp_path, tmpdir_of_its_own, mode, request
):
    if "--image" in mode:
        request.getfixturevalue("built_image")
    env_file = tmp_path / "rehearsal.env"
    env_file.write_text(the_docs_env_file())
    up = BlueprintUp(
        "render.yaml", "--env-file", str(env_file), *mode,
        "--cron-now", "remosphere-autoscaler",
        log=tmp_path / "blueprint-up.log", tmpdir=tmpdir_of_its_own,
    )  # fmt: skip
    try:
        cluster = up.wait_for(r"==> PostgreSQL: a cluster of the rehearsal's own on [\d.]+:(\d+)")
        url = up.wait_for(r"==> remosphere-web is live at (http://\S+)").group(1)
        up.wait_for(r"==> everything is live", timeout=180)
        registered = call("POST", f"{url}/api/auth/register",
                          {"email": ADDRESS, "password": PASSWORD})  # fmt: skip
        line = up.wait_for(
            rf"==> sendgrid \(stand-in\): to {re.escape(ADDRESS)}: '(.+)' (\S+)", timeout=60
        )
        subject, link = line.group(1), line.group(2)
        token = parse_qs(urlsplit(link).query)["token"][0]
        verified = call("POST", f"{url}/api/auth/verify-email",
                        {"token": token, "password": PASSWORD})  # fmt: skip
        login = call("POST", f"{url}/api/auth/login", {"email": ADDRESS, "password": PASSWORD})
        autoscaler = up.wait_for(r"==> remosphere-autoscaler \w+: run ended with exit (\d+)")
        kept = list(tmpdir_of_its_own.glob("blueprint-up-*/sendgrid/*.json"))
        # as on Render, the database's user needs its password: a wrong one is refused
        wrong_password = refused(int(cluster.group(1)), "remosphere", "not-its-password")
        assert (
            registered.status,
            subject.startswith("Confirm your email address"),
            link.startswith("http://localhost:10000/verify-email?token="),
            verified.status,
            login.status,
            autoscaler.group(1),
            len(kept),
            wrong_password,
        ) == (201, True, True, 200, 200, "0", 1, True), up.output[-4000:]
        if "--processes" in mode:  # once is enough: the same code runs in both modes
            a_backlog_scales_the_worker(up, url)
        assert up.interrupt() == 0
    finally:
        up.kill()
    assert "SG.your-key" not in up.output and "rnd_your-key" not in up.output
    # --processes ran what the image's build runs (collectstatic): WhiteNoise finds it
    assert "No directory at" not in up.output
    # no instance listens where other machines reach it past the edge
    assert "other machines reach it past the edge" not in up.output
    if "--image" in mode:
        assert f"remosphere-web: running the image {image.IMAGE} (--image)" in up.output
        if netns.unavailable() is None:  # as root: Render's network, PORT 10000 each
            assert "remosphere-web: PORT 10000 on a network of each instance's own" in up.output
        assert containers_and_images_of_rehearsals() == []
        assert image.image_exists(image.IMAGE)  # --image: not the rehearsal's to remove
    assert leftovers() == []
    assert list(tmpdir_of_its_own.glob("blueprint-up-*")) == []  # the run's, its cluster's
