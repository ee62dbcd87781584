"""The project's own render.yaml, rehearsed: scripts/blueprint_up.py starts what Render would
(Redis for the Key Value, a database and user for PostgreSQL, the web behind an edge, the
worker, both cron jobs), with SendGrid and Render's API pointed at local fakes through the
env file. A registration through the web's URL is emailed by the worker, SendGrid's
signed events reach the web through the edge, both cron jobs run on demand, and Ctrl-C
leaves no process, database, user or directory behind; as processes of the checkout (from
the image, with the docs' own env file: test_first_rehearsal.py). Then a small Dockerfile
built and run, and the network a rehearsal gives its instances."""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import struct
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from stack import image, netns, proctree
from stack.containers import Buildah
from stack.http import call
from standins.render_api import FakeRender
from standins.sendgrid import FakeSendGrid, Reporting
from standins.sendgrid_events import EventSigner
from tests.support import services
from tests.support.blueprint_up import (
    BlueprintUp,
    _running,
    containers_and_images_of_rehearsals,
    leftovers,
    networks_of_rehearsals,
    what_the_next_run_removed,
)

pytestmark = [pytest.mark.integration]

SENDGRID_KEY = "SG.rehearsal-key-never-logged"
RENDER_KEY = "rnd_rehearsal_key_never_logged"
ADDRESS = "rehearsal@example.com"


@pytest.fixture
def fakes() -> Iterator[tuple[FakeSendGrid, FakeRender]]:
    sendgrid = FakeSendGrid(api_key=SENDGRID_KEY).start()
    render = FakeRender(RENDER_KEY, name="remosphere-worker").start()
    yield sendgrid, render
    sendgrid.stop()
    render.stop()


@pytest.fixture
def env_file(tmp_path, fakes) -> tuple[Path, EventSigner]:
    """What a person types into Render's dashboard for the sync: false variables, and
    where SendGrid and Render's API are (declared nowhere in render.yaml)."""
    sendgrid, render = fakes
    signer = EventSigner()
    path = tmp_path / "rehearsal.env"
    path.write_text(
        "\n".join(
            [
                "CORS_ALLOWED_ORIGINS=https://app.example.com",
                f"SENDGRID_WEBHOOK_PUBLIC_KEY={signer.public_key}",
                f"SENDGRID_API_KEY={SENDGRID_KEY}",
                "DEFAULT_FROM_EMAIL=no-reply@example.com",
                "EMAIL_VERIFICATION_URL=https://app.example.com/verify-email",
                "PASSWORD_RESET_URL=https://app.example.com/reset-password",
                f"RENDER_API_KEY={RENDER_KEY}",
                f"SENDGRID_API_HOST={sendgrid.host}",
                f"RENDER_API_URL={render.url}",
                "",
            ]
        )
    )
    return path, signer


def rehearse(tmp_path: Path, env_file: Path, *mode: str) -> BlueprintUp:
    return BlueprintUp(
        "render.yaml", "--env-file", str(env_file), "--port", "0",
        "--postgres-url", services.database_url("postgres"),
        "--cron-now", "remosphere-sweep", "--cron-now", "remosphere-autoscaler", *mode,
        log=tmp_path / "blueprint-up.log", tmpdir=tmp_path / "tmp",
    )  # fmt: skip


def outcome_in_the_rehearsals_database(address: str) -> tuple[str, str] | None:
    with psycopg.connect(services.database_url("remosphere")) as connection:
        row = connection.execute(
            "SELECT status, outcome FROM authentication_email WHERE address = %s", (address,)
        ).fetchone()
    return (row[0], row[1]) if row else None


def the_deployed_shape_works(up: BlueprintUp, fakes, signer: EventSigner, timeout: float):
    sendgrid, render = fakes
    url = up.wait_for(r"==> remosphere-web is live at (http://\S+)", timeout=timeout).group(1)
    up.wait_for(r"==> everything is live", timeout=120)
    up.wait_for(r"==> remosphere-kv is available at redis://127\.0\.0\.1:\d+ "
                r"\(maxmemory-policy noeviction, persistence journal-snapshot\)")  # fmt: skip
    sendgrid.report_events(Reporting(f"{url}/webhooks/sendgrid", signer))

    answer = call("POST", f"{url}/api/auth/register",
                  {"email": ADDRESS, "password": "a-long-and-unusual-passphrase"})  # fmt: skip
    assert answer.status == 201, answer.body
    [request] = sendgrid.wait_for(1, timeout=60)
    assert request.to == ADDRESS
    # SendGrid's signed batch reached the web through the edge (production mode redirects
    # plain HTTP; the edge says it was HTTPS, as Render's does), and was recorded.
    sendgrid.wait_for_reports(1, timeout=60)
    assert outcome_in_the_rehearsals_database(ADDRESS) == ("sent", "delivered")

    up.wait_for(r"==> remosphere-sweep \w+: run ended with exit 0")
    up.wait_for(r"==> remosphere-autoscaler \w+: run ended with exit 0")
    assert any("/services" in path for _, path, _ in render.requests)

    family = up.family()
    assert up.interrupt() == 0, up.output[-4000:]
    assert "==> stopped; every process, database and Redis of this run is gone" in up.output
    assert leftovers(family) == []
    assert up.tmpdir is not None and list(up.tmpdir.iterdir()) == []  # nor a temporary file
    for secret in (SENDGRID_KEY, RENDER_KEY):
        assert secret not in up.output


@pytest.mark.xdist_group("image")  # every rehearsal on one worker: see test_bad_input
def test_the_blueprint_rehearsed_as_processes(tmp_path, fakes, env_file):
    path, signer = env_file
    up = rehearse(tmp_path, path, "--processes")
    try:
        the_deployed_shape_works(up, fakes, signer, timeout=120)
        assert "pre-deploy | " in up.output  # migrations ran as the preDeployCommand
    finally:
        up.kill()


# A TCPServer, not an HTTPServer: HTTPServer looks its own name up in DNS as it binds, and
# an instance's network reaches no resolver (docs/BLUEPRINT_UP.md).
SERVER = """
import json, os
from http.server import BaseHTTPRequestHandler
from socketserver import TCPServer

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        seen = {
            "proto": self.headers.get("X-Forwarded-Proto"),
            "for": self.headers.get("X-Forwarded-For"),
            "greeting": os.environ.get("GREETING"),
            "render": os.environ.get("RENDER"),
            "type": os.environ.get("RENDER_SERVICE_TYPE"),
            "port": os.environ.get("PORT"),
            "uid": os.getuid(),
        }
        body = json.dumps(seen).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

TCPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()
"""
DOCKERFILE = """
ARG BASE
FROM ${BASE}
COPY server.py /srv/server.py
USER 10001:10001
CMD ["python3", "/srv/server.py"]
"""
BLUEPRINT = """
services:
  - type: web
    name: echo
    runtime: docker
    dockerfilePath: ./Dockerfile
    dockerContext: .
    preDeployCommand: python3 -c "import os; print('pre-deploy as', os.getuid())"
    healthCheckPath: /health
    envVars:
      - key: GREETING
        value: hello
"""


def echo_rehearsal(tmp_path: Path, dockerfile: str = DOCKERFILE, **options) -> BlueprintUp:
    """The small Dockerfile above (or ``dockerfile``), built and rehearsed from its image."""
    image.ensure_base_image()
    files = {"server.py": SERVER, "Dockerfile": dockerfile, "render.yaml": BLUEPRINT}
    tmp_path.mkdir(exist_ok=True)
    for name, text in files.items():
        (tmp_path / name).write_text(text.lstrip())
    return BlueprintUp(
        str(tmp_path / "render.yaml"), "--generic", "--port", "0", "--storage-driver", "vfs",
        "--build-arg", f"BASE={image.BASE_IMAGE}",
        "--postgres-url", services.database_url("postgres"),
        log=tmp_path / "blueprint-up.log", **options,
    )  # fmt: skip


@pytest.mark.image
@pytest.mark.xdist_group("image")
def test_a_dockerfile_is_built_and_run_behind_an_edge_like_renders(tmp_path):
    up = echo_rehearsal(tmp_path)
    try:
        url = up.wait_for(r"==> echo is live at (http://\S+)", timeout=300).group(1)
        assert "echo pre-deploy | pre-deploy as 10001" in up.output  # in the image, as its user
        answer = call("GET", f"{url}/")
        assert answer.status == 200
        # as root, the instance has a network of its own: Render's PORT, 10000
        port = "10000" if netns.unavailable() is None else answer.json["port"]
        assert answer.json == {
            "proto": "https", "for": "127.0.0.1", "greeting": "hello", "render": "true",
            "type": "web", "port": port, "uid": 10001,
        }  # fmt: skip
        family = up.family()
        assert up.interrupt() == 0
        assert leftovers(family) == []
        assert containers_and_images_of_rehearsals() == []
    finally:
        up.kill()


@pytest.mark.image
@pytest.mark.xdist_group("image")
def test_a_rehearsal_from_the_image_killed_outright_leaves_no_process_container_or_image(
    tmp_path,
):
    """SIGKILL of the rehearsal itself: its processes die with it, and its reaper removes
    its containers and the image it built, found by the run's mark."""
    up = echo_rehearsal(tmp_path, tmpdir=tmp_path / "tmp")
    try:
        up.wait_for(r"==> everything is live", timeout=300)
        family = [pid for pid in up.family() if pid != up.process.pid]
        made = containers_and_images_of_rehearsals()
        os.kill(up.process.pid, signal.SIGKILL)
        up.wait()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
            containers_and_images_of_rehearsals() or any(_running(p) for p in family)
        ):
            time.sleep(0.5)
        assert (
            len(made) >= 2,  # the service's container and the image it built
            containers_and_images_of_rehearsals(),
            [p for p in family if _running(p)],
            networks_of_rehearsals(),  # its instance's namespace and the run's bridge
        ) == (True, [], [], []), up.output[-3000:]
    finally:
        up.kill()


@pytest.mark.image
@pytest.mark.xdist_group("image")
def test_the_next_run_removes_the_containers_image_and_network_a_killed_image_run_left(
    tmp_path,
):
    """Killed with its reaper (as if the machine had stopped them all at once), a run from
    the image leaves its containers, its image and its network; the next run, even as
    processes, removes each by the killed run's record."""
    first = echo_rehearsal(tmp_path / "first", tmpdir=tmp_path / "tmp")
    try:
        first.wait_for(r"==> everything is live", timeout=300)
        for pid in proctree.tree(first.process.pid):
            os.kill(pid, signal.SIGKILL)
        first.wait()
    finally:
        first.kill()
    left = containers_and_images_of_rehearsals()
    networks = networks_of_rehearsals()

    (tmp_path / "second").mkdir()
    (tmp_path / "second" / "render.yaml").write_text(textwrap.dedent("""
        services:
          - type: worker
            name: jobs
            runtime: python
            buildCommand: "true"
            startCommand: "sleep 600"
    """))  # fmt: skip
    second = BlueprintUp(
        str(tmp_path / "second" / "render.yaml"), "--generic", "--processes", "--port", "0",
        "--postgres-url", services.database_url("postgres"),
        log=tmp_path / "second.log", tmpdir=tmp_path / "tmp",
    )  # fmt: skip
    said = what_the_next_run_removed(second)
    assert (
        len(left) >= 2,  # the instance's container and the image
        len(networks) >= 2,  # the instance's namespace and the run's bridge
        "container(s) and image(s)" in said,
        "its network" in said,
        containers_and_images_of_rehearsals(),
        leftovers(),
    ) == (True, True, True, True, [], []), said


SLOW_DOCKERFILE = """
ARG BASE
FROM ${BASE}
RUN echo the step runs && sleep 300
"""


def every_container_and_image() -> list[str]:
    """A build's working containers are named for its base image, not for the run."""
    buildah = Buildah(storage_driver="vfs")
    return sorted(buildah.container_names() + buildah.image_names())


@pytest.mark.image
@pytest.mark.xdist_group("image")
@pytest.mark.parametrize("stop", ["ctrl-c", "sigkill"])
def test_a_rehearsal_stopped_while_the_image_builds_leaves_no_container_or_step(tmp_path, stop):
    before = every_container_and_image()
    up = echo_rehearsal(tmp_path, SLOW_DOCKERFILE, tmpdir=tmp_path / "tmp")
    try:
        up.wait_for(r"echo build \| the step runs", timeout=120)
        family = [pid for pid in up.family() if pid != up.process.pid]
        steps = [p for p in family if "sleep 300" in " ".join(proctree.command_line(p))]
        if stop == "ctrl-c":
            code = up.interrupt()
        else:
            os.kill(up.process.pid, signal.SIGKILL)
            code = up.wait()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
            every_container_and_image() != before or any(_running(p) for p in family)
        ):
            time.sleep(0.5)
        assert (
            code == (0 if stop == "ctrl-c" else -signal.SIGKILL),
            len(steps) >= 1,
            every_container_and_image(),
            leftovers(family),
        ) == (True, True, before, []), up.output[-3000:]
    finally:
        up.kill()


def an_address_of_this_machine_others_reach() -> str:
    """An IPv4 address of one of this machine's interfaces other than loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _, name in socket.if_nameindex():
            try:
                asked = struct.pack("256s", name[:15].encode())
                answer = fcntl.ioctl(probe.fileno(), SIOCGIFADDR, asked)
            except OSError:
                continue  # no IPv4 address on it
            address = socket.inet_ntoa(answer[20:24])
            if not address.startswith("127."):
                return address
    pytest.skip("this machine has no address beyond loopback")


SIOCGIFADDR = 0x8915  # Linux: an interface's IPv4 address
EVERY_ADDRESS = "0.0.0.0"  # noqa: S104 (a server that listens too widely, on purpose)


def reachable(address: str, port: int) -> bool:
    try:
        socket.create_connection((address, port), timeout=3).close()
    except OSError:
        return False
    return True


@pytest.mark.xdist_group("image")
def test_instances_listen_on_loopback_only_and_one_that_listens_wider_is_named(tmp_path):
    """Render's proxy is the only way to an instance there; here the edge is. The rehearsal
    tells a web service to bind loopback (WEB_BIND_HOST) and names one that binds wider."""
    server = "sh -c 'echo port $PORT; exec python3 -m http.server --bind {bind} $PORT'"
    (tmp_path / "render.yaml").write_text(textwrap.dedent(f"""
        services:
          - type: web
            name: closed
            runtime: python
            buildCommand: "true"
            startCommand: {server.format(bind="$WEB_BIND_HOST")}
          - type: web
            name: open
            runtime: python
            buildCommand: "true"
            startCommand: {server.format(bind=EVERY_ADDRESS)}
    """))  # fmt: skip
    outside = an_address_of_this_machine_others_reach()
    up = BlueprintUp(
        str(tmp_path / "render.yaml"), "--generic", "--processes", "--port", "0",
        "--postgres-url", services.database_url("postgres"), log=tmp_path / "up.log",
    )  # fmt: skip
    try:
        up.wait_for(r"==> everything is live", timeout=60)
        closed = int(up.wait_for(r"^closed \w+ +\| port (\d+)$").group(1))
        opened = int(up.wait_for(r"^open \w+ +\| port (\d+)$").group(1))
        assert (
            reachable("127.0.0.1", closed),
            reachable(outside, closed),
            reachable(outside, opened),
            f"open listens on 0.0.0.0 port {opened}: other machines reach it" in up.output,
            "closed listens on" in up.output,
        ) == (True, False, True, True, False), up.output[-3000:]
        assert up.interrupt() == 0
    finally:
        up.kill()
