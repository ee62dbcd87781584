"""``python scripts/blueprint_up.py [render.yaml]``: rehearse a blueprint on this machine.

Before anything starts: the validator's verdict (a blueprint it rejects never starts),
the resources read, the env file read and every ``sync: false`` value found in it, and
the cron jobs named by ``--cron-now``. Then one run at a time on this machine.

Exit status: 0 after a stop that was asked for (Ctrl-C, SIGTERM); 1 when something is
wrong (the message says what, and nothing is left running); 2 for a usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import re
import secrets
import shutil
import signal
import subprocess  # nosec B404
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from blueprintcheck import check, official
from blueprintcheck.problems import Severity
from blueprintcheck.report import Report, text
from blueprintcheck.variables import EnvFileError, parse_dotenv
from blueprintup import standins
from blueprintup import topology as topology_
from blueprintup.errors import Interrupted, RehearsalError
from blueprintup.launchers import Image, Processes
from blueprintup.output import Console
from blueprintup.rehearsal import HealthPolicy, Rehearsal, Settings
from blueprintup.state import GeneratedValues
from blueprintup.stores import DEFAULT_POSTGRES_URL, PostgresServer
from blueprintup.variables import Platform, Resolver
from stack import containers, netns, ownership, proctree

EXIT_STOPPED, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# One per machine, whatever TMPDIR says: the ports and the database names are the
# machine's. Opened with O_NOFOLLOW, so a link planted there is refused, not followed.
LOCK = Path("/tmp/blueprint-up.lock")  # noqa: S108  # nosec B108
HOST_CA = "/etc/ssl/certs/ca-certificates.crt"  # Debian's bundle, where Debian's images read it
RUN_PREFIX = "blueprint-up-"  # a run's temporary directory: blueprint-up-<run>-<random>


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="blueprint_up.py",
        description="Start what Render would start from a blueprint, on this machine: its "
        "Key Value instances as redis-server, its databases on the local PostgreSQL, its "
        "services and cron jobs, every variable resolved as Render resolves it. Ctrl-C "
        "stops everything and removes what it made.",
    )
    p.add_argument("blueprint", nargs="?", default="render.yaml", help="default: render.yaml")
    p.add_argument(
        "--env-file",
        metavar="FILE",
        help="NAME=value lines: the sync: false values Render's dashboard asks for; a name "
        "the blueprint declares nowhere is given to every service",
    )
    p.add_argument(
        "--processes",
        action="store_true",
        help="run Docker services as processes of the checkout (fast, no image) instead of "
        "from the image their Dockerfile builds",
    )
    p.add_argument(
        "--health-checks",
        type=_health_policy,
        default=HealthPolicy(),
        metavar="EVERY,OUT,RESTART",
        help="seconds between a live instance's health checks, of failing ones before it "
        "leaves the edge's rotation, and before it is restarted (default Render's: 5,15,60)",
    )
    p.add_argument(
        "--regenerate",
        action="store_true",
        help="make new generateValue values (they are kept between runs, as Render keeps "
        "them between deploys)",
    )
    p.add_argument(
        "--standins",
        action="store_true",
        help="run local stand-ins of SendGrid's and Render's APIs and point the services at "
        "them (without it, they start only where the env file points SENDGRID_API_HOST or "
        "RENDER_API_URL at http://127.0.0.1:<port>)",
    )
    p.add_argument(
        "--port",
        type=int,
        default=10000,
        help="the web service's public URL, on 127.0.0.1 (default 10000; 0: any free port)",
    )
    p.add_argument(
        "--cron-now",
        action="append",
        default=[],
        metavar="NAME",
        help="run this cron job once as soon as everything is live (repeatable)",
    )
    p.add_argument("--environment", metavar="NAME", help="with projects: the environment to run")
    p.add_argument(
        "--postgres-url",
        default=os.environ.get("BLUEPRINT_UP_POSTGRES_URL", ""),
        help="a superuser's URL on a PostgreSQL server of yours to create the databases on "
        "(default: $BLUEPRINT_UP_POSTGRES_URL, else a cluster of the run's own, which asks "
        "every user for its password as Render's do)",
    )
    p.add_argument(
        "--build-arg",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a build argument for the image (repeatable), e.g. a base image of your own",
    )
    p.add_argument(
        "--image",
        metavar="NAME",
        help="run the Docker services from this image (in buildah's storage) instead of "
        "building one: the image CI built from the same Dockerfile",
    )
    p.add_argument(
        "--build-volume",
        action="append",
        default=[],
        metavar="SRC:DST[:ro]",
        help="a host path mounted into the build's RUN steps (repeatable), e.g. a CA bundle "
        "a TLS-inspecting proxy needs; it is not part of the image",
    )
    p.add_argument(
        "--host-ca",
        action="store_true",
        help=f"mount this machine's CA bundle ({HOST_CA}) into the build's RUN steps, for "
        "pip behind a TLS-inspecting proxy (not part of the image)",
    )
    p.add_argument(
        "--storage-driver",
        default=os.environ.get("STORAGE_DRIVER") or None,
        metavar="DRIVER",
        help="buildah's storage driver for the image, e.g. vfs where overlay cannot mount "
        "(default: $STORAGE_DRIVER, else buildah's configuration)",
    )
    p.add_argument(
        "--start-timeout",
        type=float,
        default=180.0,
        metavar="SECONDS",
        help="how long a service may take to become live (default 180)",
    )
    p.add_argument(
        "--generic",
        action="store_true",
        help="validate with Render's own rules only, not this project's contract",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    console = Console()
    try:
        topology, resolver = prepare(args, console)
        with single_run():
            _clear_stale_runs(console, args.postgres_url, args.storage_driver)
            return rehearse(args, topology, resolver, console)
    except RehearsalError as error:
        _fail(str(error))
        return EXIT_FAILED


def prepare(args: argparse.Namespace, console: Console) -> tuple[topology_.Topology, Resolver]:
    """Everything that can be refused before anything starts."""
    if args.processes and args.image:
        raise RehearsalError("--image and --processes: choose one (the image, or the checkout)")
    path = Path(args.blueprint)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise RehearsalError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        result = check(raw, file=path.name, repo=path.resolve().parent, generic=args.generic)
    except official.InstallationError as error:
        raise RehearsalError(str(error)) from None
    errors = [p for p in result.problems if p.severity == Severity.ERROR]
    if errors or result.document is None:
        report = text(Report(result.problems, errors))
        raise RehearsalError(f"the validator rejects {path}; nothing was started:\n{report}")
    topology = topology_.read(result.document, environment=args.environment)
    for skipped in topology.skipped:
        console.status(f"not rehearsed: {skipped.name}: {skipped.reason}")
    crons = [s.name for s in topology.crons]
    for name in args.cron_now:
        if name not in crons:
            known = ", ".join(crons) or "none"
            raise RehearsalError(f"--cron-now {name}: no such cron job (cron jobs: {known})")
    resolver = Resolver(topology, _env_file(args.env_file), _platform(path.resolve().parent))
    resolver.generated = GeneratedValues(path, regenerate=args.regenerate)
    missing = resolver.missing()
    if missing:
        lines = "\n".join(f"  {owner}: {', '.join(keys)}" for owner, keys in missing.items())
        raise RehearsalError(
            f"{path.name} declares these variables with sync: false; Render's dashboard asks "
            "for their values. Give them in an env file (--env-file FILE, NAME=value lines; "
            f"NAME= for a value left empty). Nothing was started.\n{lines}"
        )
    undeclared = resolver.undeclared()
    if undeclared:
        console.status(
            f"declared nowhere in {path.name}, so given to every service (as if set on each "
            f"service's page of the dashboard): {', '.join(undeclared)}"
        )
    return topology, resolver


def rehearse(
    args: argparse.Namespace, topology: topology_.Topology, resolver: Resolver, console: Console
) -> int:
    run = secrets.token_hex(3)
    root = Path(args.blueprint).resolve().parent
    cancel = threading.Event()
    run_dir = Path(tempfile.mkdtemp(prefix=f"{RUN_PREFIX}{run}-"))
    ownership.keep_ledger(run_dir, storage_driver=None if args.processes else args.storage_driver)
    launcher: Processes | Image = Processes(root, console, cancel, run_dir / "tmp")
    if not args.processes:
        try:
            launcher = Image(
                root, console, run_dir, run, list(args.build_arg), _build_volumes(args),
                args.storage_driver, cancel, args.image,
            )  # fmt: skip
        except RehearsalError:
            shutil.rmtree(run_dir, ignore_errors=True)
            raise
    reaper = ownership.start_reaper(run_dir, run)
    stand_ins: list[standins.LocalServer] = []
    settings = Settings(
        args.port, args.postgres_url, args.start_timeout, tuple(args.cron_now), args.health_checks
    )
    rehearsal = Rehearsal(topology, resolver, launcher, console, settings, run_dir, run, cancel)

    def request_stop(signum: int, _frame: object) -> None:
        if not rehearsal.stop_requested.is_set():
            console.status(f"{signal.Signals(signum).name}: stopping")
        rehearsal.stop_requested.set()

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    code = EXIT_STOPPED
    try:
        stand_ins = standins.start(
            resolver.env_file, console, run_dir, forced=args.standins,
            instances=lambda name: getattr(topology.service(name), "instances", 1),
            scale=rehearsal.request_scale, run_cron=rehearsal.request_cron_run,
        )  # fmt: skip
        rehearsal.start()
        if rehearsal.failed:
            console.status(
                f"everything else is live; the deploy of {', '.join(rehearsal.failed)} "
                "failed (above); Ctrl-C stops it all"
            )
            code = EXIT_FAILED
        else:
            console.status("everything is live; Ctrl-C stops it all")
        rehearsal.watch()
    except Interrupted:
        pass
    except RehearsalError as error:
        _fail(str(error))
        code = EXIT_FAILED
    finally:
        _keep_generated(resolver, console)
        for server in stand_ins:
            server.stop()
        rehearsal.stop()
        for number, handler in previous.items():
            signal.signal(number, handler)
    reaper.stdin.close()  # the run's directory is gone: the reaper has nothing to do
    reaper.wait()
    console.status("stopped; every process, database and Redis of this run is gone")
    if rehearsal.failed:
        console.status(f"the deploy of {', '.join(rehearsal.failed)} failed: exit status 1")
    return code


@contextmanager
def single_run(lock: Path = LOCK) -> Iterator[None]:
    """One rehearsal at a time on this machine: they would share ports and databases."""
    try:
        descriptor = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as error:
        raise RehearsalError(
            f"cannot open {lock}, which keeps to one rehearsal per machine ({error.strerror}); "
            "it may belong to another user's rehearsal: remove it if none runs"
        ) from None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 32, 0).decode(errors="replace").strip() or "?"
            raise RehearsalError(
                f"another blueprint_up is running (pid {holder}); stop it first (Ctrl-C "
                f"where it runs, or kill -TERM {holder})"
            ) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _clear_stale_runs(console: Console, postgres_url: str, storage_driver: str | None) -> None:
    """What a rehearsal killed outright (SIGKILL, a crash) left: the processes of the
    sessions its ledger records, its containers and images (named for its run), the
    processes still running in its directory, then the directory. Only this machine's lock
    holder runs, so any rehearsal directory there is now is stale."""
    for directory in Path(tempfile.gettempdir()).glob(f"{RUN_PREFIX}*"):
        if not directory.is_dir() or directory.is_symlink():
            continue
        run = directory.name.removeprefix(RUN_PREFIX).split("-", 1)[0]
        removed = ownership.clear_run(directory, run)
        server = postgres_url or DEFAULT_POSTGRES_URL  # a cluster of its own went with it
        dropped = PostgresServer(server, console, run=run).drop_left_by(run)
        if dropped:
            removed.append(f"{dropped} database(s) and user(s)")
        for pid in proctree.tree(1):
            with contextlib.suppress(OSError):
                if Path(os.readlink(f"/proc/{pid}/cwd")).is_relative_to(directory):
                    os.kill(pid, signal.SIGKILL)
        shutil.rmtree(directory, ignore_errors=True)
        what = f" ({', '.join(removed)} with it)" if removed else ""
        console.status(f"removed {directory}{what}, left by a rehearsal that was killed")
    _clear_stale_containers(console, storage_driver)
    namespaces, bridges = netns.left_behind()
    if namespaces or bridges:
        for bridge in bridges:
            netns.remove([], bridge)
        netns.remove(namespaces, None)
        console.status(
            f"removed the network ({', '.join([*bridges, *namespaces])}) of a rehearsal that "
            "was killed"
        )


def _clear_stale_containers(console: Console, storage_driver: str | None) -> None:
    """Containers and images of rehearsals (named ``blueprint-up-<run>-``) whose run's
    record went with its directory: with one rehearsal on a machine at a time, any there
    now were left by one that was killed."""
    if not containers.Buildah.available():
        return
    try:
        removed = containers.Buildah(storage_driver).remove_marked(RUN_PREFIX)
    except RehearsalError:
        return  # buildah's storage may be another's, or not set up: nothing of ours there
    if removed:
        console.status(
            f"removed {removed} container(s) and image(s) of a rehearsal that was killed"
        )


def _build_volumes(args: argparse.Namespace) -> list[str]:
    volumes = list(args.build_volume)
    if args.host_ca:
        if not Path(HOST_CA).is_file():
            raise RehearsalError(f"--host-ca: there is no CA bundle at {HOST_CA} on this machine")
        volumes.append(f"{HOST_CA}:{HOST_CA}:ro")
    return volumes


def _health_policy(text: str) -> HealthPolicy:
    try:
        every, out, restart = (float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            "expected three numbers of seconds, such as 5,15,60"
        ) from None
    if not 0 < every <= out <= restart:
        raise argparse.ArgumentTypeError("expected 0 < EVERY <= OUT <= RESTART")
    return HealthPolicy(every, out, restart)


def _keep_generated(resolver: Resolver, console: Console) -> None:
    if isinstance(resolver.generated, GeneratedValues) and resolver.generated:
        try:
            resolver.generated.save()
        except OSError as error:
            console.status(
                f"the generated values could not be kept for the next run ({error.strerror}): "
                f"{resolver.generated.path}; the next run makes new ones"
            )


def _env_file(name: str | None) -> dict[str, str]:
    if name is None:
        return {}
    try:
        return dict(parse_dotenv(Path(name).read_text(), name).values)
    except OSError as error:
        raise RehearsalError(f"cannot read the env file {name}: {error.strerror}") from None
    except (UnicodeDecodeError, EnvFileError) as error:
        raise RehearsalError(f"the env file {name}: {error}") from None


def _platform(root: Path) -> Platform:
    binary = shutil.which("git")

    def git(*arguments: str) -> str | None:
        if binary is None:
            return None
        try:
            result = subprocess.run(  # nosec B603
                [binary, "-C", str(root), *arguments], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return result.stdout.strip() or None if result.returncode == 0 else None

    origin = git("config", "--get", "remote.origin.url") or ""
    slug = re.search(r"[:/]([^/:]+/[^/]+?)(?:\.git)?$", origin)
    return Platform(
        commit=git("rev-parse", "HEAD"),
        branch=git("rev-parse", "--abbrev-ref", "HEAD"),
        repo_slug=slug.group(1) if slug else None,
    )


def _fail(message: str) -> None:
    print(f"blueprint_up: {message}", file=sys.stderr, flush=True)
