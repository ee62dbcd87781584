"""Build the real Dockerfile with buildah and run its entrypoints, without a Docker daemon.

The base image is a stand-in for ``python:3.11-slim``: Debian bookworm's Python 3.11 from
``debootstrap``, imported with ``podman import`` and cached in container storage (and as
a tarball under ``CACHE_DIR``) between runs. The Dockerfile gets it through its
``PYTHON_IMAGE`` build argument, exactly as it would get any other base.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from stack import containers, processes, proctree
from stack.containers import Buildah
from stack.processes import ROOT

STORAGE = ["--storage-driver", "vfs"]
BASE_IMAGE = "localhost/remosphere-standin-python:3.11-bookworm"
IMAGE = "localhost/remosphere:test"
# Kept between runs (root-owned, like container storage itself).
CACHE_DIR = Path(
    os.environ.get(
        "REMOSPHERE_IMAGE_CACHE",
        "/var/tmp/remosphere-image-cache",  # noqa: S108  # nosec B108 - a cache, root-owned
    )
)
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
APT_SOURCES = Path("/etc/apt")
# Build time and sizes of this run, printed at the end of the test session.
REPORT: dict[str, float] = {}


def debian_mirror() -> str:
    """The mirror debootstrap fetches from: ``$DEBIAN_MIRROR``, else the one this machine's
    own apt uses for bookworm (deb822 ``.sources`` or one-line ``sources.list``)."""
    if os.environ.get("DEBIAN_MIRROR"):
        return os.environ["DEBIAN_MIRROR"]
    for path in sorted(APT_SOURCES.glob("sources.list.d/*.sources")):
        for stanza in path.read_text().split("\n\n"):
            fields = dict(line.split(":", 1) for line in stanza.splitlines() if ":" in line[:20])
            if "bookworm" in fields.get("Suites", "").split():
                return fields["URIs"].split()[0]
    for path in [APT_SOURCES / "sources.list", *APT_SOURCES.glob("sources.list.d/*.list")]:
        for line in path.read_text().splitlines() if path.exists() else []:
            words = line.split()
            if len(words) >= 3 and words[0] == "deb" and words[2] == "bookworm":
                return words[1]
    raise AssertionError("no Debian bookworm mirror in /etc/apt: set DEBIAN_MIRROR")


def missing_tools() -> list[str]:
    return [tool for tool in ("buildah", "podman", "debootstrap") if shutil.which(tool) is None]


def _run(*command: str, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(command[:4])}... exited {result.returncode}:\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result


def image_exists(name: str) -> bool:
    result = subprocess.run(["podman", *STORAGE, "image", "exists", name], capture_output=True)
    return result.returncode == 0


def ensure_base_image() -> None:
    """The stand-in base: from storage, else from the cached tarball, else debootstrap.
    One process at a time makes it (a test run beside ``make bench``, say)."""
    if image_exists(BASE_IMAGE):
        return
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with (CACHE_DIR / "base.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not image_exists(BASE_IMAGE):  # made by another while this one waited
            _make_base_image()


def _make_base_image() -> None:
    tarball = CACHE_DIR / "standin-python-3.11-bookworm.tar"
    if not tarball.exists():
        rootfs = CACHE_DIR / "rootfs"
        shutil.rmtree(rootfs, ignore_errors=True)
        _run(
            "debootstrap",
            "--variant=minbase",
            "--include=python3,python3-venv,ca-certificates",
            "bookworm",
            str(rootfs),
            debian_mirror(),
        )
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
            shutil.rmtree(rootfs / junk, ignore_errors=True)
        _run("tar", "-C", str(rootfs), "-cf", str(tarball) + ".part", ".")
        os.replace(str(tarball) + ".part", tarball)
        shutil.rmtree(rootfs, ignore_errors=True)
    _run("podman", *STORAGE, "import", "--change", 'CMD ["/bin/bash"]', str(tarball), BASE_IMAGE)


@dataclass(frozen=True)
class Build:
    seconds: float
    size_bytes: int


def build_image() -> Build:
    started = time.monotonic()
    command = Buildah("vfs").build_command(
        context=ROOT,
        dockerfile=ROOT / "Dockerfile",
        tag=IMAGE,
        build_args=[f"PYTHON_IMAGE={BASE_IMAGE}"],
        volumes=[f"{CA_BUNDLE}:{CA_BUNDLE}:ro"],
    )
    _run(*command, cwd=ROOT)
    seconds = time.monotonic() - started
    size = _run("podman", *STORAGE, "image", "inspect", "--format", "{{.Size}}", IMAGE).stdout
    return Build(seconds=seconds, size_bytes=int(size.strip()))


def remove_image() -> None:
    """Remove the test image and whatever earlier builds left untagged (vfs copies every
    layer in full, so they add up); the stand-in base stays for the next run."""
    subprocess.run(["buildah", *STORAGE, "rmi", IMAGE], capture_output=True)
    subprocess.run(["buildah", *STORAGE, "rmi", "--prune"], capture_output=True)


def base_size_bytes() -> int:
    size = _run("podman", *STORAGE, "image", "inspect", "--format", "{{.Size}}", BASE_IMAGE).stdout
    return int(size.strip())


def create_container() -> str:
    return Buildah("vfs").create(IMAGE, f"remosphere-test-{os.getpid()}-{time.monotonic_ns()}")


def remove_container(name: str) -> None:
    Buildah("vfs").remove(name)


def image_config(field: str) -> str:
    return _run(
        "podman", *STORAGE, "image", "inspect", "--format", "{{" + field + "}}", IMAGE
    ).stdout.strip()


class ContainerProcess:
    """An entrypoint run inside the image with ``buildah run`` on the host network.

    ``main_pid`` is the process the entrypoint exec'd (Gunicorn's or Celery's master): the
    process Render would signal as the container's main process.
    """

    def __init__(self, container: str, command: list[str], env: dict[str, str], log: Path):
        self.log_path = log
        self._log = log.open("wb")
        # No --user: the image's own USER applies, as on Render.
        args = ["buildah", *STORAGE, "run", "--isolation", "chroot"]
        for name, value in env.items():
            args += ["--env", f"{name}={value}"]
        self.process = subprocess.Popen(
            [*args, container, "--", *command], stdout=self._log, stderr=subprocess.STDOUT
        )

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def main_pid(self, program: str, timeout: float = 30) -> int:
        """The container's main process, once its entrypoint has exec'd ``program``."""
        deadline = time.monotonic() + timeout
        pid = containers.main_process(self.process.pid, timeout)
        while pid is not None and time.monotonic() < deadline:
            if any(program in part for part in proctree.command_line(pid)[:2]):
                return pid
            time.sleep(0.1)
        if self.process.poll() is not None:
            raise AssertionError(f"the container exited early:\n{self.log}")
        raise AssertionError(f"no {program} process in the container:\n{self.log}")

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout)
        finally:
            self._log.close()

    def stop(self) -> None:
        processes.terminate(self.process)
        if not self._log.closed:
            self._log.close()


def uid_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError(f"no Uid line for {pid}")


USAGE = (
    """usage: python -m stack.image base

Make the local base image the Dockerfile can build on without pulling anything: Debian
bookworm's Python 3.11 from debootstrap, in buildah's vfs storage, as
"""
    + BASE_IMAGE
)


def main(argv: list[str] | None = None) -> int:
    """``python -m stack.image base``: make the stand-in base, and say how to use it."""
    argv = sys.argv[1:] if argv is None else argv
    if argv != ["base"]:
        print(USAGE, file=sys.stderr)
        return 2
    missing = missing_tools()
    if missing:
        print(
            f"needs {', '.join(missing)}: apt-get install -y {' '.join(missing)}", file=sys.stderr
        )
        return 1
    try:
        ensure_base_image()
    except AssertionError as error:
        print(f"the base image could not be made: {error}", file=sys.stderr)
        return 1
    print(
        f"{BASE_IMAGE} is ready. Rehearse from the image with:\n"
        f'  make up ARGS="--env-file rehearsal.env --storage-driver vfs '
        f'--build-arg PYTHON_IMAGE={BASE_IMAGE}"'
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
