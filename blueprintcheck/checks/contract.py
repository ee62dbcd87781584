"""This project's contract with its blueprint (C codes; skipped with --generic).

The web, worker and sweep services are found by their start commands
(``docker/web-entrypoint.sh``, ``docker/worker-entrypoint.sh``,
``docker/sweep-entrypoint.sh``); what they need comes
from the env spec (``servicespec/envspec.py``) and the timeout chain from
``servicespec/timeouts.py``: the blueprint is checked against the code, not a second list.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

from blueprintcheck import model
from blueprintcheck.loader import Document
from blueprintcheck.problems import Path
from blueprintcheck.rules import Finding, Severity, rule
from servicespec import endpoints, envspec, timeouts

E, W = Severity.ERROR, Severity.WARNING
ENTRYPOINTS = {
    envspec.WEB: "web-entrypoint.sh",
    envspec.WORKER: "worker-entrypoint.sh",
    envspec.SWEEP: "sweep-entrypoint.sh",
    envspec.AUTOSCALE: "autoscale-entrypoint.sh",
}
ROLE_TYPES = {
    envspec.WEB: "web",
    envspec.WORKER: "worker",
    envspec.SWEEP: "cron",
    envspec.AUTOSCALE: "cron",
}
ROLE_NAMES = {
    envspec.WEB: "web",
    envspec.WORKER: "worker",
    envspec.SWEEP: "sweep cron job",
    envspec.AUTOSCALE: "autoscaler cron job",
}
# Every deployment runs these; the autoscaler is a choice (found by its entrypoint only).
REQUIRED_ROLES = (envspec.WEB, envspec.WORKER, envspec.SWEEP)
SECRET_NAME = re.compile(
    r"(SECRET|PASSWORD|PASSWD|TOKEN|API_KEY|APIKEY|PRIVATE_KEY|CREDENTIAL)", re.IGNORECASE
)
SECRET_SHAPE = re.compile(
    r"^(SG\.[\w-]{10,}|sk_(live|test)_\w+|AKIA[0-9A-Z]{16}|ghp_\w{20,}|"
    r"xox[bap]-[\w-]+|-----BEGIN [A-Z ]*PRIVATE KEY-----)"
)
BEAT = re.compile(r"(^|\s)(beat|-B|--beat)(\s|$)")


def _commands(service: model.Resource) -> list[tuple[str, str]]:
    return [
        (key, service.data[key])
        for key in ("dockerCommand", "startCommand", "preDeployCommand")
        if isinstance(service.data.get(key), str)
    ]


def roles(document: Document) -> dict[str, tuple[model.Scope, model.Resource]]:
    """The project's services by their entrypoints; a required one not found so, by its
    type (a service nobody else took)."""
    found: dict[str, tuple[model.Scope, model.Resource]] = {}
    candidates = [(s, r) for s, r in model.all_resources(document.data) if r.kind == "service"]
    for role, script in ENTRYPOINTS.items():
        for scope, service in candidates:
            starts = [c for k, c in _commands(service) if k != "preDeployCommand"]
            if any(script in command for command in starts):
                found.setdefault(role, (scope, service))
    for role in REQUIRED_ROLES:
        for scope, service in candidates:
            taken = any(service is other for _, other in found.values())
            if role not in found and not taken and service.type == ROLE_TYPES[role]:
                found[role] = (scope, service)
    return found


@dataclass(frozen=True)
class Provided:
    path: Path
    entry: dict
    group: str | None = None


def provided(scope: model.Scope, service: model.Resource) -> dict[str, Provided]:
    """Each variable a service gets, with the entry that gives it (a group's, if so)."""
    result: dict[str, Provided] = {}
    for path, entry in service.env_entries():
        if isinstance(entry.get("key"), str):
            result.setdefault(entry["key"], Provided(path, entry))
        group = scope.find("group", entry.get("fromGroup"))
        if group:
            for group_path, group_entry in group.env_entries():
                if isinstance(group_entry.get("key"), str):
                    result.setdefault(
                        group_entry["key"], Provided(group_path, group_entry, group.name)
                    )
    return result


def _value(document: Document, role: str, name: str) -> Any:
    """The literal value a role's service gives ``name``, else the env spec default."""
    services = roles(document)
    if role in services:
        scope, service = services[role]
        given = provided(scope, service).get(name)
        if given and "value" in given.entry:
            return given.entry["value"]
    return envspec.BY_NAME[name].default


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


@rule(
    "C000",
    "missing-service",
    E,
    "The blueprint lacks the web service, the worker or the sweep cron job of this project.",
    "Declare all three: a web service started by docker/web-entrypoint.sh, a worker "
    "started by docker/worker-entrypoint.sh and a cron job started by "
    "docker/sweep-entrypoint.sh (without it, an email whose task was lost is never sent).",
    generic=False,
)
def missing_service(document: Document, repo: FsPath) -> Iterator[Finding]:
    found = roles(document)
    for role in REQUIRED_ROLES:
        if role not in found:
            yield Finding(
                ("services",),
                f"no {ROLE_NAMES[role]} (started by docker/{ENTRYPOINTS[role]}): this project "
                "runs a web service, a worker and a sweep cron job from one image",
            )


@rule(
    "C001",
    "one-image",
    E,
    "The web, the worker and the sweep are not built from the same Dockerfile "
    "and context, so they would run different images.",
    "Give every service of the project the same `dockerfilePath` and `dockerContext`.",
    generic=False,
)
def one_image(document: Document, repo: FsPath) -> Iterator[Finding]:
    found = roles(document)
    if len(found) < 2:
        return
    [(first_role, (_, first)), *others] = found.items()
    for role, (_, service) in others:
        for key, default in (
            ("runtime", None),
            ("dockerfilePath", "Dockerfile"),
            ("dockerContext", "."),
        ):
            mine, theirs = (_normal(s.data.get(key, default)) for s in (first, service))
            if mine != theirs:
                yield Finding(
                    (*service.path, key) if key in service.data else service.path,
                    f'the {ROLE_NAMES[role]}\'s {key} is "{theirs}", the '
                    f'{ROLE_NAMES[first_role]}\'s is "{mine}"; all must build the same image',
                )


def _normal(value: Any) -> Any:
    if isinstance(value, str):
        return os.path.normpath(value)
    return value


def _source(scope: model.Scope, service: model.Resource, name: str, depth: int = 0) -> Any:
    """What decides the value of ``name`` on ``service``, comparable across services."""
    given = provided(scope, service).get(name)
    if given is None or depth > 5:
        return None
    entry = given.entry
    if given.group:
        return ("group", given.group)
    ref = entry.get("fromService")
    if isinstance(ref, dict) and "envVarKey" in ref:
        target = scope.find("service", ref.get("name"))
        return _source(scope, target, ref["envVarKey"], depth + 1) if target else None
    if isinstance(ref, dict):
        return ("service", ref.get("name"), ref.get("property"))
    ref = entry.get("fromDatabase")
    if isinstance(ref, dict):
        return ("database", ref.get("name"), ref.get("property"))
    if "value" in entry:
        return ("value", str(entry["value"]))
    return ("own", service.name)  # generateValue or sync: false: a value per service


@rule(
    "C002",
    "shared-variable-sources",
    E,
    "A variable the project's services must share (such as "
    "SECRET_KEY: the worker signs the links the web checks) comes from a different source "
    "on each; a `generateValue` or `sync: false` on each service gives each a different "
    "value.",
    "Declare it once: in an envVarGroups group they all read, or on the web with the "
    "others reading it through `fromService` + `envVarKey`.",
    generic=False,
)
def shared_variable_sources(document: Document, repo: FsPath) -> Iterator[Finding]:
    found = roles(document)
    for var in envspec.SPEC:
        if not var.shared:
            continue
        sources = [
            (role, scope, service, _source(scope, service, var.name))
            for role, (scope, service) in found.items()
            if role in var.processes
        ]
        sources = [s for s in sources if s[3] is not None]
        for role, scope, service, source in sources[1:]:
            first_role, _, _, first = sources[0]
            if source != first:
                yield Finding(
                    provided(scope, service)[var.name].path,
                    f"{var.name} must hold the same value on the {ROLE_NAMES[first_role]} and "
                    f"the {ROLE_NAMES[role]}, but each gets its own; declare it once (a shared "
                    "group, or fromService envVarKey)",
                )


@rule(
    "C003",
    "timeout-chain",
    E,
    "The timeouts do not form one chain: the email task budget (SENDGRID_TIMEOUT plus "
    "the database's and the cache's note, each bounded) < worker shutdown budget < worker "
    "maxShutdownDelaySeconds < visibility timeout, and the longest retry wait < visibility "
    "timeout; the liveness window, the worker shutdown budget and Celery's longest wait "
    "between reconnections < WORKER_STALL_SECONDS, the bound within which the worker's "
    "watchdog ends a node cut off from Redis in any way (a partition included); Gunicorn's "
    "graceful timeout < web maxShutdownDelaySeconds (servicespec/timeouts.py).",
    "Raise the later value or lower the earlier one (see docs/RELIABILITY.md).",
    generic=False,
)
def timeout_chain(document: Document, repo: FsPath) -> Iterator[Finding]:
    found = roles(document)
    if envspec.WORKER in found:
        worker = found[envspec.WORKER][1]
        sendgrid_timeout, visibility = (
            _int(_value(document, envspec.WORKER, name))
            for name in ("SENDGRID_TIMEOUT", "CELERY_VISIBILITY_TIMEOUT")
        )
        delay = _int(
            worker.data.get("maxShutdownDelaySeconds", timeouts.RENDER_DEFAULT_SHUTDOWN_DELAY)
        )
        if None not in (sendgrid_timeout, visibility, delay):
            chain = timeouts.worker_chain(
                sendgrid_timeout=sendgrid_timeout,
                max_shutdown_delay=delay,
                visibility_timeout=visibility,
            )
            for message in timeouts.broken_links(chain):
                yield Finding(
                    (*worker.path, "maxShutdownDelaySeconds")
                    if "maxShutdownDelaySeconds" in worker.data
                    else worker.path,
                    message,
                )
            probe, stall = (
                _int(_value(document, envspec.WORKER, name))
                for name in ("WORKER_PROBE_SECONDS", "WORKER_STALL_SECONDS")
            )
            if None not in (probe, stall):
                for chain in timeouts.stall_chains(
                    probe_seconds=probe, stall_seconds=stall, sendgrid_timeout=sendgrid_timeout
                ):
                    for message in timeouts.broken_links(chain):
                        given = provided(*found[envspec.WORKER]).get("WORKER_STALL_SECONDS")
                        yield Finding(given.path if given else worker.path, message)
            if visibility <= timeouts.EMAIL_RETRY_MAX_SECONDS:
                yield Finding(
                    worker.path,
                    f"CELERY_VISIBILITY_TIMEOUT ({visibility}s) must be "
                    f"more than the longest retry wait "
                    f"({timeouts.EMAIL_RETRY_MAX_SECONDS}s)",
                )
    if envspec.WEB in found:
        web = found[envspec.WEB][1]
        graceful = _int(_value(document, envspec.WEB, "GUNICORN_GRACEFUL_TIMEOUT"))
        delay = _int(
            web.data.get("maxShutdownDelaySeconds", timeouts.RENDER_DEFAULT_SHUTDOWN_DELAY)
        )
        if graceful is not None and delay is not None:
            chain = timeouts.web_chain(graceful_timeout=graceful, max_shutdown_delay=delay)
            for message in timeouts.broken_links(chain):
                yield Finding(
                    (*web.path, "maxShutdownDelaySeconds")
                    if "maxShutdownDelaySeconds" in web.data
                    else web.path,
                    message,
                )


@rule(
    "C004",
    "missing-variable",
    E,
    "A variable the env spec requires for the web, the worker "
    "or the sweep in production is not provided to that service.",
    "Declare it on the service: a "
    "value, a group, generateValue, fromService/fromDatabase, or `sync: false` for a secret "
    "filled in the dashboard.",
    generic=False,
)
def missing_variable(document: Document, repo: FsPath) -> Iterator[Finding]:
    for role, (scope, service) in roles(document).items():
        given = provided(scope, service)
        for var in envspec.vars_for(role):
            if var.required and var.name not in given:
                yield Finding(
                    (*service.path, "envVars") if "envVars" in service.data else service.path,
                    f'{role} service "{service.name}" does not get {var.name} ({var.help})',
                )


@rule(
    "C005",
    "literal-secret",
    E,
    "A secret is written in the blueprint as a literal value, "
    "for everyone with the repository to read.",
    "Use `generateValue: true`, `sync: false` "
    "(filled in the dashboard) or a reference; rotate the exposed secret.",
    generic=False,
)
def literal_secret(document: Document, repo: FsPath) -> Iterator[Finding]:
    for _, owner in model.all_resources(document.data):
        for path, entry in owner.env_entries():
            key, value = entry.get("key"), entry.get("value")
            if not isinstance(key, str) or value in (None, "") or isinstance(value, bool):
                continue
            spec = envspec.BY_NAME.get(key)
            by_spec = spec is not None and spec.secret
            by_name = spec is None and SECRET_NAME.search(key) is not None
            by_shape = isinstance(value, str) and SECRET_SHAPE.match(value) is not None
            if by_spec or by_name or by_shape:
                why = (
                    "the env spec marks it secret"
                    if by_spec
                    else "its name says it is a secret"
                    if by_name
                    else "its value looks like a key"
                )
                yield Finding(
                    (*path, "value"),
                    f"{key} has a literal value in the blueprint ({why}); never commit secrets",
                    True,
                )


@rule(
    "C007",
    "missing-script",
    E,
    "A `dockerCommand`, `startCommand` or `preDeployCommand` "
    "runs a script that is not in the repository, or not executable.",
    "Fix the path (relative to the Docker context), commit the script, `chmod +x` it.",
    generic=False,
)
def missing_script(document: Document, repo: FsPath) -> Iterator[Finding]:
    for _, service in model.all_resources(document.data):
        context = service.data.get("dockerContext") or "."
        if service.kind != "service" or not isinstance(context, str):
            continue  # a context that is not a string is a schema problem (S002)
        for key, command in _commands(service):
            try:
                words = shlex.split(command)
            except ValueError:
                yield Finding((*service.path, key), f"{key} is not a valid shell command")
                continue
            for index, word in enumerate(words):
                # An absolute path points inside the image, where the repository can't look.
                if word.startswith("/") or not (
                    word.endswith((".sh", ".py")) or word.startswith("./")
                ):
                    continue
                shown = os.path.normpath(os.path.join(context, word))
                state = _file_state(repo / context / word)
                if state == "missing":
                    yield Finding(
                        (*service.path, key),
                        f'{key} runs "{word}", which is not in the repository (looked for '
                        f"{shown} in {_folder(repo)}; --repo DIR names the repository when the "
                        "blueprint is not at its root)",
                    )
                elif state == "not executable" and index == 0:
                    yield Finding(
                        (*service.path, key),
                        f'{key} runs "{word}", which is not executable: chmod +x {shown}',
                    )


def _folder(repo: FsPath) -> str:
    """The repository as the person typed it: relative to here when inside, else whole."""
    relative = os.path.relpath(repo)
    return str(repo) if relative.startswith("..") else relative


def _file_state(path: FsPath) -> str:
    """ "ok", "missing" or "not executable"; a path the OS refuses (too long, a NUL byte)
    is missing."""
    try:
        if not path.is_file():
            return "missing"
        return "ok" if os.access(path, os.X_OK) else "not executable"
    except (OSError, ValueError):
        return "missing"


@rule(
    "C008",
    "unknown-health-check-path",
    E,
    "The web's `healthCheckPath` is not a URL the "
    "Django app serves, so every deploy would fail its health check.",
    f"Use one of: {', '.join(endpoints.HEALTH_CHECK_PATHS)}.",
    generic=False,
)
def unknown_health_check_path(document: Document, repo: FsPath) -> Iterator[Finding]:
    found = roles(document)
    if envspec.WEB not in found:
        return
    web = found[envspec.WEB][1]
    path = web.data.get("healthCheckPath")
    if path is None:
        yield Finding(
            web.path,
            "the web service has no healthCheckPath; without one Render "
            f"cannot tell a broken deploy (use {endpoints.READYZ})",
            severity=W,
        )
    elif path not in endpoints.HEALTH_CHECK_PATHS:
        yield Finding(
            (*web.path, "healthCheckPath"),
            f'healthCheckPath "{path}" is not served '
            f"by the app; use one of {', '.join(endpoints.HEALTH_CHECK_PATHS)}",
        )


@rule(
    "C009",
    "beat-in-worker",
    E,
    "Celery beat runs inside a worker that can have more than "
    "one instance: every instance would fire every schedule.",
    "Run beat as its own single-instance service (or a Render cron job).",
    generic=False,
)
def beat_in_worker(document: Document, repo: FsPath) -> Iterator[Finding]:
    for _, service in model.all_resources(document.data):
        if service.kind != "service":
            continue
        scaling = service.data.get("scaling")
        instances = service.data.get("numInstances", 1)
        several = isinstance(scaling, dict) or (isinstance(instances, int) and instances > 1)
        for key, command in _commands(service):
            runs_celery = "celery" in command or ENTRYPOINTS[envspec.WORKER] in command
            if several and key != "preDeployCommand" and runs_celery and BEAT.search(command):
                yield Finding(
                    (*service.path, key),
                    f'"{service.name}" runs Celery beat in a '
                    "service that can have several instances",
                )


@rule(
    "C010",
    "migrations-not-once",
    E,
    "Migrations run in no place, or in more than one "
    "(preDeployCommand, MIGRATE_ON_START, a start command).",
    "Run them in exactly one "
    "place: the web's preDeployCommand on paid plans, MIGRATE_ON_START=true on free.",
    generic=False,
)
def migrations_not_once(document: Document, repo: FsPath) -> Iterator[Finding]:
    places: list[tuple[Path, str]] = []
    for scope, service in model.all_resources(document.data):
        if service.kind != "service":
            continue
        for key, command in _commands(service):
            if "migrate" in command and not (key == "preDeployCommand" and service.plan == "free"):
                places.append(((*service.path, key), f'{key} of "{service.name}"'))
        flag = provided(scope, service).get("MIGRATE_ON_START")
        if flag and str(flag.entry.get("value", "")).lower() in ("1", "true", "yes", "on"):
            places.append((flag.path, f'MIGRATE_ON_START on "{service.name}"'))
    found = roles(document)
    if not places and envspec.WEB in found:
        yield Finding(
            found[envspec.WEB][1].path,
            "migrations never run: add preDeployCommand: "
            "python manage.py migrate --noinput (paid plans) or MIGRATE_ON_START=true",
        )
    for path, _ in places[1:]:
        yield Finding(
            path,
            f"migrations run in more than one place: {', '.join(label for _, label in places)}",
        )


# Variables another contract rule already holds to their one service (C012).
SCOPED_ELSEWHERE = {"RENDER_API_KEY"}


@rule(
    "C016",
    "variable-for-another-process",
    W,
    "A service gets a variable the env spec declares for other processes only (such as "
    "SENDGRID_WEBHOOK_PUBLIC_KEY, which only the web reads, on the worker): it does nothing "
    "there, and a secret that is not used is one more place for it to leak from (an error "
    "then).",
    "Remove it from that service (or from the group it reads); declare it on the services "
    "that read it (the table in README.md#environment-variables says which).",
    generic=False,
)
def variable_for_another_process(document: Document, repo: FsPath) -> Iterator[Finding]:
    for role, (scope, service) in roles(document).items():
        for name, given in provided(scope, service).items():
            var = envspec.BY_NAME.get(name)
            if var is None or role in var.processes or name in SCOPED_ELSEWHERE:
                continue
            readers = ", ".join(var.processes)
            via = f' (through group "{given.group}")' if given.group else ""
            yield Finding(
                (*given.path, "key"),
                f'the {ROLE_NAMES[role]} "{service.name}" gets {name}{via}, which only the '
                f"{readers} process reads"
                + ("; a secret belongs only where it is used" if var.secret else ""),
                severity=E if var.secret else W,
            )
