"""The blueprint's outside APIs, standing in on this machine: SendGrid's v3 mail send and
Render's API as the autoscaler calls it (the project's ``standins``).

They start when the env file points ``SENDGRID_API_HOST`` or ``RENDER_API_URL`` at a port of
this machine that nothing listens on (``http://127.0.0.1:<port>``, as docs/BLUEPRINT_UP.md's
example does), on that port; or with ``--standins`` for both, on free ports (the services
are pointed at them). Something already listening there (a stand-in of your own) is used.
Every message the worker sends is kept in the run's directory and printed as one line
(recipient, subject, its first link: open it to confirm the address); every scale call
the autoscaler makes is printed.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, MutableMapping
from pathlib import Path
from urllib.parse import urlsplit

from blueprintup.errors import RehearsalError
from blueprintup.output import Console
from standins.local_api import LocalServer
from standins.render_api import FakeRender
from standins.sendgrid import FakeSendGrid, Request

LOOPBACK = ("127.0.0.1", "localhost")
DEFAULT_WORKER_NAME = "remosphere-worker"  # AUTOSCALE_SERVICE_NAME's default


def start(
    env: MutableMapping[str, str],
    console: Console,
    run_dir: Path,
    *,
    forced: bool,
    instances: Callable[[str], int] = lambda _name: 1,
    scale: Callable[[str, int], None] | None = None,
    run_cron: Callable[[str], bool] | None = None,
) -> list[LocalServer]:
    """Start the stand-ins ``env`` points at (all of them when ``forced``), and point
    ``env`` at them; the servers, to stop at the end. Render's starts from the scaled
    service's ``instances`` and passes each scale call to ``scale``."""
    started: list[LocalServer] = []
    port = _local_port(env.get("SENDGRID_API_HOST"))
    if forced or port is not None:
        outbox = run_dir / "sendgrid"

        def said(request: Request) -> None:
            console.status(f"sendgrid (stand-in): {request.summary()}")

        sendgrid = _serve(
            "SENDGRID_API_HOST", port,
            lambda p: FakeSendGrid(env.get("SENDGRID_API_KEY", ""), port=p, outbox=outbox,
                                   on_message=said),
        )  # fmt: skip
        env["SENDGRID_API_HOST"] = sendgrid.host
        started.append(sendgrid)
        console.status(
            f"SendGrid's API stands in at {sendgrid.host}; every message is kept in {outbox}"
        )
    port = _local_port(env.get("RENDER_API_URL"))
    if forced or port is not None:
        name = env.get("AUTOSCALE_SERVICE_NAME") or DEFAULT_WORKER_NAME

        def scaled(count: int) -> None:
            console.status(f"render api (stand-in): scale {name} to {count} instance(s)")
            if scale is not None:
                scale(name, count)

        render = _serve(
            "RENDER_API_URL", port,
            lambda p: FakeRender(env.get("RENDER_API_KEY", ""), name=name, on_scale=scaled,
                                 instances=instances(name), on_cron_run=run_cron, port=p),
        )  # fmt: skip
        env["RENDER_API_URL"] = render.url
        started.append(render)
        console.status(
            f"Render's API stands in at {render.url} (a cron job's run, as the dashboard's "
            f"Trigger Run: POST {render.url}/cron-jobs/<name>/runs)"
        )
    return started


def _local_port(url: str | None) -> int | None:
    """The port of an http:// URL on this machine; ``None`` for anything else."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK:
        return None
    port = parts.port or 80
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return port  # nothing answers there: the stand-in's port
    return None  # something serves it already


def _serve(variable: str, port: int | None, make) -> FakeSendGrid | FakeRender:
    try:
        return make(port or 0).start()
    except OSError as error:
        raise RehearsalError(
            f"{variable} points at port {port} on this machine, where the stand-in cannot "
            f"listen ({error.strerror}): free the port, or point {variable} elsewhere"
        ) from None
