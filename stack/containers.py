"""Images and containers without a Docker daemon: ``buildah`` builds the Dockerfile and runs
commands in working containers (``--isolation chroot``, the host's network, as Render's
instances have their own)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess  # nosec B404
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from blueprintup.errors import RehearsalError
from stack import proctree

BUILDAH = "buildah"
ENV_MOUNT = "/run/blueprint-up.env"
# The command runs after the environment is read from a file mounted into the container
# (never as --env arguments, which every local user could read in the process list).
WITH_ENVIRONMENT = ["/bin/sh", "-c", f'set -a; . {ENV_MOUNT}; set +a; exec "$@"', "blueprint-up"]
# How long buildah has, once asked to stop a build, to remove the build's working containers.
BUILD_STOP_SECONDS = 30.0


class Buildah:
    """buildah's commands, with the storage driver chosen (``--storage-driver``; ``None``:
    buildah's own configuration)."""

    def __init__(self, storage_driver: str | None = None):
        binary = shutil.which(BUILDAH)
        if binary is None:
            raise RehearsalError(
                "buildah is not installed: Debian/Ubuntu: apt-get install buildah (the "
                "package buildah). Or rehearse without the image: --processes"
            )
        self.base = [binary, *(["--storage-driver", storage_driver] if storage_driver else [])]

    def build_command(
        self,
        *,
        context: Path,
        dockerfile: Path,
        tag: str,
        build_args: Sequence[str] = (),
        volumes: Sequence[str] = (),
    ) -> list[str]:
        # --force-rm: a build that fails or is stopped (end_build) removes its working
        # containers too; they are named for the base image, not for the run.
        command = [
            *self.base, "bud", "--isolation", "chroot", "--layers=false", "--force-rm",
            "--file", str(dockerfile), "--tag", tag,
        ]  # fmt: skip
        for argument in build_args:
            command += ["--build-arg", argument]
        for volume in volumes:  # mounted into RUN steps only, never into the image
            command += ["--volume", volume]
        return [*command, str(context)]

    @staticmethod
    def available() -> bool:
        return shutil.which(BUILDAH) is not None

    def remove_marked(self, prefix: str) -> int:
        """Remove every container and image whose name starts with ``prefix`` (a run's
        mark: ``blueprint-up-<run>-``); how many."""
        gone = 0
        for name in self.container_names():
            if name.startswith(prefix):
                self.remove(name)
                gone += 1
        for image in self.image_names():
            if image.rsplit("/", 1)[-1].startswith(prefix):
                self.remove_image(image)
                gone += 1
        return gone

    def container_names(self) -> list[str]:
        return self._listing("containers", "--format", "{{.ContainerName}}")

    def image_names(self) -> list[str]:
        return self._listing("images", "--format", "{{.Name}}")

    def _listing(self, *arguments: str) -> list[str]:
        # buildah locks its storage only around writes: a listing that meets an image or
        # container another process is removing fails ("image not known"). Read again.
        for pause in (0.2, 0.4, 0.8, 1.6):
            try:
                return self._run(*arguments).split()
            except RehearsalError:
                time.sleep(pause)
        return self._run(*arguments).split()

    def require_image(self, image: str) -> None:
        result = subprocess.run(  # nosec B603
            [*self.base, "inspect", "--type", "image", image], capture_output=True, check=False
        )
        if result.returncode != 0:
            raise RehearsalError(
                f"--image {image}: no such image in buildah's storage (built with another "
                "--storage-driver?)"
            )

    def create(self, image: str, name: str) -> str:
        return self._run("from", "--name", name, image).strip()

    def remove(self, container: str) -> None:
        subprocess.run([*self.base, "rm", container], capture_output=True, check=False)  # nosec B603

    def remove_image(self, image: str) -> None:
        subprocess.run(  # nosec B603
            [*self.base, "rmi", "--force", image], capture_output=True, check=False
        )

    def run_command(self, container: str, env_file: Path, argv: Sequence[str]) -> list[str]:
        """``argv`` in ``container``, with the variables of ``env_file`` (``export K='v'``
        lines), as the image's own user, on the host's network."""
        return [
            *self.base, "run", "--isolation", "chroot",
            "--volume", f"{env_file}:{ENV_MOUNT}:ro",
            container, "--", *WITH_ENVIRONMENT, *argv,
        ]  # fmt: skip

    def _run(self, *arguments: str) -> str:
        result = subprocess.run(  # nosec B603
            [*self.base, *arguments], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise RehearsalError(
                f"buildah {arguments[0]} failed ({result.returncode}): "
                f"{result.stderr.strip()[-2000:]}"
            )
        return result.stdout


def end_build(process: subprocess.Popen, grace: float = BUILD_STOP_SECONDS) -> None:
    """Stop a build that ``build_command`` runs as the leader of a session of its own."""
    fail_build(process.pid, lambda: process.poll() is not None, grace)
    for pid in proctree.session(process.pid):  # buildah, if it outlasted ``grace``
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait()


def fail_build(sid: int, ended: Callable[[], bool], grace: float) -> None:
    """Make the build leading session ``sid`` fail, and let buildah end: every ``RUN``
    step it starts is killed, so the build fails and buildah removes its working
    containers (``--force-rm``) before it exits. buildah itself is not signalled: killed,
    it would leave them, and SIGTERM outside a step kills it too. At most ``grace`` s."""
    deadline = time.monotonic() + grace
    while not ended() and time.monotonic() < deadline:
        for pid in proctree.session(sid):
            if pid != sid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)


def main_process(runner: int, timeout: float = 30.0) -> int | None:
    """The process ``buildah run`` (pid ``runner``) started in the container: the one a
    container's stop signal goes to. ``None`` when ``runner`` ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        below = proctree.children()
        pending = list(below.get(runner, []))
        while pending:
            pid = pending.pop()
            parent = proctree.command_line(pid)
            if parent and parent[0].endswith("buildah-chroot-exec"):
                started = below.get(pid, [])
                if started:
                    return started[0]
            pending.extend(below.get(pid, []))
        if not Path(f"/proc/{runner}").exists():
            return None
        time.sleep(0.05)
    return None
