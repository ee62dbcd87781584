"""How a service's commands run here: from the image built from its Dockerfile (as on
Render), or, with ``--processes``, as processes of the checkout (fast, no image).

A launcher builds what a service needs once (``prepare``), then starts processes
(``spawn``): the service's instances, its pre-deploy command, its cron runs. Every process
is started through ``ownership.popen``: in a session of its own, so the terminal's Ctrl-C
reaches the rehearsal only, which then stops each service the way Render does, and killed
with the rehearsal if it dies.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import signal
import subprocess  # nosec B404
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from blueprintup.errors import Interrupted, RehearsalError
from blueprintup.output import Console, Pump
from blueprintup.topology import Service
from stack import containers, ownership, processes, proctree
from stack.image import BASE_IMAGE
from stack.netns import exec_in

# What a process on Render also has besides the blueprint's variables; nothing else of the
# shell that runs the rehearsal leaks into a service.
INHERITED = ("HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER")
SHELL = "/bin/bash" if Path("/bin/bash").exists() else "/bin/sh"
_INSTRUCTION = re.compile(r"^\s*(CMD|ENTRYPOINT)\s+(\[.*\])\s*$", re.IGNORECASE)


@dataclass
class Launched:
    """One process of a service and what its output said."""

    process: subprocess.Popen
    pump: Pump
    main_pid: int | None  # the process a stop signal goes to (the container's main one)

    def poll(self) -> int | None:
        return self.process.poll()

    def terminate(self) -> None:
        """SIGTERM to the main process, as Render sends it to the container's."""
        for pid in (self.main_pid, self.process.pid):
            if pid is not None:
                try:
                    os.kill(pid, signal.SIGTERM)
                    return
                except ProcessLookupError:
                    continue

    def kill(self) -> None:
        proctree.kill_tree(self.process.pid)
        self.process.wait()
        self.end()

    def end(self) -> None:
        """After the main process: what it left running goes, as with a container's
        end (every process was started in the session, and group, of the first)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.pump.join()


def wait(
    process: subprocess.Popen,
    cancel: threading.Event,
    end: Callable[[subprocess.Popen], None] | None = None,
) -> int:
    """Wait for ``process`` to end; a stop requested meanwhile ends it, with ``end`` if
    given, else at once."""
    while True:
        try:
            return process.wait(0.2)
        except subprocess.TimeoutExpired:
            if cancel.is_set():
                if end is not None:
                    end(process)
                else:
                    proctree.kill_tree(process.pid)
                    process.wait()
                raise Interrupted from None


def shell(command: str) -> list[str]:
    """A blueprint command Render runs through a shell (build, pre-deploy, start)."""
    return [SHELL, "-c", command]


def docker_command(service: Service, root: Path) -> list[str]:
    """What starts a Docker service: its ``dockerCommand`` (split as arguments, not run by
    a shell), else the Dockerfile's own ENTRYPOINT and CMD in exec form."""
    if service.command:
        return shlex.split(service.command)
    entrypoint: list[str] = []
    command: list[str] = []
    dockerfile = root / service.dockerfile
    for line in dockerfile.read_text(errors="replace").splitlines() if dockerfile.exists() else ():
        match = _INSTRUCTION.match(line)
        if match:
            try:
                words = [str(word) for word in json.loads(match.group(2))]
            except ValueError:
                continue
            if match.group(1).upper() == "CMD":
                command = words
            else:
                entrypoint = words
    if not (entrypoint or command):
        raise RehearsalError(
            f"{service.name}: no dockerCommand, and {service.dockerfile} has no CMD or "
            'ENTRYPOINT in exec form (["..."]) to start it with'
        )
    return [*entrypoint, *command]


@dataclass
class Processes:
    """Commands run from the checkout, with this interpreter's environment first on PATH
    (where the image would have its own). With ``scratch``, each instance's TMPDIR and HOME
    are folders of its own below it (as a container's /tmp and home are its own: Gunicorn
    writes its control socket under HOME), removed with the run whatever the instance left
    there.

    A Docker service has no build here (its image is not built); the one build step a
    Django checkout needs at run time, ``collectstatic`` (the Dockerfile's), runs once per
    Dockerfile when the service's directory has a ``manage.py``."""

    root: Path
    console: Console
    cancel: threading.Event = field(default_factory=threading.Event)
    scratch: Path | None = None
    _collected: set[tuple[str, str]] = field(default_factory=set)

    def prepare(self, service: Service, env: dict[str, str]) -> None:
        if service.build_command:
            self._run_to_end(service, f"{service.name} build", shell(service.build_command), env)
        elif service.docker and (self._directory(service) / "manage.py").exists():
            key = (service.dockerfile, service.docker_context)
            if key not in self._collected:
                self._collected.add(key)
                self._run_to_end(
                    service, f"{service.name} build",
                    [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], env,
                )  # fmt: skip

    def command(self, service: Service) -> list[str]:
        if service.docker:
            return docker_command(service, self.root)
        if not service.command:
            raise RehearsalError(f"{service.name}: no startCommand")
        return shell(service.command)

    def spawn(self, service: Service, argv: list[str], env: dict[str, str], *, prefix: str,
              slot: str) -> Launched:  # fmt: skip
        process = ownership.popen(
            argv,
            cwd=self._directory(service),
            env=self._environment(env, slot),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        return Launched(process, Pump(self.console, prefix, process.stdout), process.pid)

    def release(self, service: Service, slot: str) -> None:
        """Nothing to remove: a process leaves nothing behind."""

    def close(self) -> None:
        """Nothing was built."""

    def _directory(self, service: Service) -> Path:
        directory = service.docker_context if service.docker else service.root_dir
        return (self.root / directory).resolve()

    def _environment(self, env: dict[str, str], slot: str) -> dict[str, str]:
        inherited = {name: os.environ[name] for name in INHERITED if name in os.environ}
        if self.scratch is not None:
            tmp = self.scratch / slot
            (tmp / "home").mkdir(parents=True, exist_ok=True)
            inherited["TMPDIR"], inherited["HOME"] = str(tmp), str(tmp / "home")
        with_path = processes.with_venv_on_path({"PATH": os.environ.get("PATH", os.defpath)})
        return {**inherited, **with_path, **env}

    def _run_to_end(self, service: Service, prefix: str, argv: list[str], env: dict) -> None:
        launched = self.spawn(service, argv, env, prefix=prefix, slot="build")
        code = wait(launched.process, self.cancel)
        launched.pump.join()
        if code != 0:
            raise RehearsalError(
                f"{service.name}: its build failed (exit {code}); its last lines:\n"
                + "\n".join(launched.pump.tail)
            )


@dataclass
class Image:
    """Docker services run from the image their Dockerfile builds, one working container
    per instance (and one for each cron job's runs), removed at the end with the images."""

    root: Path
    console: Console
    run_dir: Path
    run: str
    build_args: list[str] = field(default_factory=list)
    build_volumes: list[str] = field(default_factory=list)
    storage_driver: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    prebuilt: str | None = None  # an image to run instead of building one (--image)
    _images: dict[tuple[str, str], str] = field(default_factory=dict)
    _tags: list[str] = field(default_factory=list)  # every image it builds, to remove
    _containers: dict[tuple[str, str], str] = field(default_factory=dict)
    _native: Processes = field(init=False)

    def __post_init__(self) -> None:
        self._native = Processes(self.root, self.console, self.cancel, self.run_dir / "tmp")
        self._buildah = containers.Buildah(self.storage_driver)
        if self.prebuilt:
            self._buildah.require_image(self.prebuilt)

    def prepare(self, service: Service, env: dict[str, str]) -> None:
        if not service.docker:
            return self._native.prepare(service, env)
        key = (service.dockerfile, service.docker_context)
        if key in self._images:
            return None
        if self.prebuilt:
            self.console.status(f"{service.name}: running the image {self.prebuilt} (--image)")
            self._images[key] = self.prebuilt
            return None
        tag = f"localhost/blueprint-up-{self.run}-{len(self._tags)}:latest"
        self._tags.append(tag)  # before it exists: a build stopped as it ends may tag it
        self.console.status(f"{service.name}: building the image from {service.dockerfile}")
        argv = self._buildah.build_command(
            context=(self.root / service.docker_context).resolve(),
            dockerfile=(self.root / service.dockerfile).resolve(),
            tag=tag,
            build_args=self.build_args,
            volumes=self.build_volumes,
        )
        build = ownership.popen(
            argv, cwd=self.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, build=True
        )
        pump = Pump(self.console, f"{service.name} build", build.stdout)
        code = wait(build, self.cancel, containers.end_build)
        pump.join()
        if code != 0:
            raise RehearsalError(
                f"{service.name}: the image did not build (exit {code}); its last lines:\n"
                + "\n".join(pump.tail)
                + _build_advice(list(pump.tail), self.root / service.dockerfile)
            )
        self._images[key] = tag
        return None

    def command(self, service: Service) -> list[str]:
        if not service.docker:
            return self._native.command(service)
        return docker_command(service, self.root)

    def spawn(self, service: Service, argv: list[str], env: dict[str, str], *, prefix: str,
              slot: str, netns: str | None = None) -> Launched:  # fmt: skip
        """``netns``: the instance's own network namespace (the host's if ``None``)."""
        if not service.docker:
            return self._native.spawn(service, argv, env, prefix=prefix, slot=slot)
        container = self._container(service, slot)
        env_file = self.run_dir / f"{container}.env"
        env_file.write_text(
            "".join(f"export {name}={shlex.quote(value)}\n" for name, value in env.items())
        )
        env_file.chmod(0o644)  # the image's user reads it; run_dir itself is private
        command = self._buildah.run_command(container, env_file, argv)
        process = ownership.popen(
            exec_in(netns, command) if netns else command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        pump = Pump(self.console, prefix, process.stdout)
        return Launched(process, pump, containers.main_process(process.pid))

    def release(self, service: Service, slot: str) -> None:
        container = self._containers.pop((service.name, slot), None)
        if container:
            self._buildah.remove(container)

    def close(self) -> None:
        for container in self._containers.values():
            self._buildah.remove(container)
        self._containers.clear()
        for tag in self._tags:
            self._buildah.remove_image(tag)
        self._tags.clear()
        self._images.clear()

    def _container(self, service: Service, slot: str) -> str:
        key = (service.name, slot)
        if key not in self._containers:
            image = self._images[(service.dockerfile, service.docker_context)]
            name = f"blueprint-up-{self.run}-{service.name}-{slot}"
            self._containers[key] = self._buildah.create(image, name)
        return self._containers[key]


_PULL_FAILED = re.compile(
    r"pinging container registry|initializing source docker://|manifest unknown|"
    r"error creating build container|dial tcp|no such host|network is unreachable",
    re.IGNORECASE,
)
_TLS_FAILED = re.compile(r"CERTIFICATE_VERIFY_FAILED|certificate verify failed|SSLError")
_BASE_ARG = re.compile(r"^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)=", re.MULTILINE)


def _build_advice(tail: list[str], dockerfile: Path) -> str:
    """What to run when a build failed for a reason of this machine, not the Dockerfile's:
    the base image cannot be pulled (offline), or TLS to the package index fails (a
    TLS-inspecting proxy)."""
    said = "\n".join(tail)
    if _TLS_FAILED.search(said):
        return (
            "\nTLS to the package index failed: behind a TLS-inspecting proxy, add --host-ca "
            "(this machine's CA bundle, mounted into the build's RUN steps only)."
        )
    if _PULL_FAILED.search(said):
        text = dockerfile.read_text(errors="replace") if dockerfile.exists() else ""
        found = _BASE_ARG.search(text)
        argument = found.group(1) if found else "<the base image's ARG>"
        return (
            "\nThe base image could not be pulled (offline?). Make a local one from Debian's "
            "packages, then pass it to the build:\n"
            "  python -m stack.image base\n"
            f"  ... --storage-driver vfs --build-arg {argument}={BASE_IMAGE}"
        )
    return ""
