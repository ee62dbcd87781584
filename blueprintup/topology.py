"""What a blueprint asks Render to run, read from the validator's loaded document: the Key
Value instances, the databases and the services, in the order to start them, and what a
rehearsal on one machine cannot run (each named, with the reason).

Render's defaults where the blueprint leaves a field out are applied here, so the rest of
the package reads plain values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from blueprintcheck import model, plans
from blueprintcheck.loader import Document
from blueprintup.errors import RehearsalError
from servicespec.timeouts import RENDER_DEFAULT_SHUTDOWN_DELAY

RUNNABLE = ("web", "pserv", "worker", "cron")
DEFAULT_PORT = 10000  # the PORT Render gives a web service that declares none
DEFAULT_POLICY = "allkeys-lru"  # Render's Key Value maxmemoryPolicy when none is given
FREE_KEY_VALUE_MB = 25
_MEMORY = re.compile(r"^(\d+)(mb|g)$")


@dataclass(frozen=True)
class KeyValue:
    name: str
    policy: str
    persistence: str  # off | snapshot | journal-snapshot
    memory_mb: int | None  # the plan's memory, the instance's maxmemory


@dataclass(frozen=True)
class Database:
    name: str
    database: str  # the PostgreSQL database's own name (databaseName)
    user: str
    major_version: str | None


@dataclass(frozen=True)
class Service:
    name: str
    type: str  # web | pserv | worker | cron
    runtime: str  # docker | python | node | ...
    data: dict = field(hash=False, compare=False, repr=False)

    @property
    def instances(self) -> int:
        scaling = self.data.get("scaling")
        if isinstance(scaling, dict) and isinstance(scaling.get("minInstances"), int):
            return max(1, scaling["minInstances"])
        count = self.data.get("numInstances")
        return count if isinstance(count, int) and count >= 1 else 1

    @property
    def docker(self) -> bool:
        return self.runtime == "docker"

    def _text(self, key: str) -> str | None:
        """A text field, or ``None`` where it is absent or empty."""
        value = self.data.get(key)
        return str(value) if value else None

    @property
    def command(self) -> str | None:
        """What starts it: ``dockerCommand`` (the image's own command when absent) or
        ``startCommand``."""
        return self._text("dockerCommand" if self.docker else "startCommand")

    @property
    def pre_deploy(self) -> str | None:
        return self._text("preDeployCommand")

    @property
    def build_command(self) -> str | None:
        return None if self.docker else self._text("buildCommand")

    @property
    def health_path(self) -> str | None:
        return self._text("healthCheckPath")

    @property
    def schedule(self) -> str | None:
        return self._text("schedule")

    @property
    def shutdown_delay(self) -> int:
        value = self.data.get("maxShutdownDelaySeconds")
        return value if isinstance(value, int) else RENDER_DEFAULT_SHUTDOWN_DELAY

    @property
    def cpu_count(self) -> str | None:
        """The CPUs of its plan, as Render's ``RENDER_CPU_COUNT`` says them."""
        return plans.cpu_count(plans.KIND_OF[self.type], self.data.get("plan"))

    @property
    def listens(self) -> bool:
        return self.type in ("web", "pserv")

    @property
    def root_dir(self) -> str:
        return str(self.data.get("rootDir") or ".")

    @property
    def dockerfile(self) -> str:
        return str(self.data.get("dockerfilePath") or "./Dockerfile")

    @property
    def docker_context(self) -> str:
        return str(self.data.get("dockerContext") or ".")


@dataclass(frozen=True)
class Skipped:
    name: str
    reason: str


@dataclass
class Topology:
    scope: model.Scope
    key_values: list[KeyValue]
    databases: list[Database]
    services: list[Service]  # in the order to start them
    skipped: list[Skipped]

    def service(self, name: str) -> Service | None:
        return next((s for s in self.services if s.name == name), None)

    @property
    def crons(self) -> list[Service]:
        return [s for s in self.services if s.type == "cron"]


def read(document: Document, *, environment: str | None = None) -> Topology:
    """The resources of one scope: the top level, or ``environment`` (a project's
    environment, by name) in a blueprint with projects."""
    scope = _scope(document, environment)
    key_values, databases, services, skipped = [], [], [], []
    for resource in scope.services:
        reason = _unrunnable(resource)
        if reason:
            skipped.append(Skipped(resource.name, reason))
        elif resource.type == "keyvalue":
            key_values.append(_key_value(resource))
        else:
            runtime = str(resource.data.get("runtime") or resource.data.get("env") or "")
            services.append(Service(resource.name, resource.type, runtime, resource.data))
    for resource in scope.databases:
        databases.append(_database(resource))
        skipped.extend(_database_extras(resource))
    skipped.extend(_blueprint_extras(document.data))
    return Topology(scope, key_values, databases, _in_start_order(services, scope), skipped)


def _scope(document: Document, environment: str | None) -> model.Scope:
    scopes = model.scopes(document.data)
    if environment is None:
        root = scopes[0]
        if not (root.services or root.databases) and len(scopes) > 1:
            names = ", ".join(_environment_name(s) for s in scopes[1:])
            raise RehearsalError(
                f"{document.file} declares its resources in projects' environments: choose "
                f"one with --environment NAME ({names})"
            )
        return root
    for scope in scopes[1:]:
        if _environment_name(scope) == environment:
            return scope
    names = ", ".join(_environment_name(s) for s in scopes[1:]) or "none"
    raise RehearsalError(f"no environment named {environment!r} in {document.file} ({names})")


def _environment_name(scope: model.Scope) -> str:
    match = re.match(r"environment '([^']*)'", scope.label)
    return match.group(1) if match else scope.label


def _unrunnable(resource: model.Resource) -> str | None:
    data = resource.data
    if resource.type == "static":
        return "a static site: Render serves its files from its CDN; build it and open them"
    if resource.type == "workflow":
        return "a workflow: its tasks run on Render's workflow platform"
    if resource.type not in (*RUNNABLE, "keyvalue"):
        return f"service type {resource.type!r} cannot be rehearsed"
    if data.get("runtime") == "image" or "image" in data:
        image = data.get("image") if isinstance(data.get("image"), dict) else {}
        private = " (private, with registry credentials)" if image.get("creds") else ""
        return f"a prebuilt image{private}: {image.get('url', '?')} is not pulled"
    if isinstance(data.get("disk"), dict):
        disk = data["disk"]
        return (
            f"it mounts the disk {disk.get('name')!r} at {disk.get('mountPath')!r}, which "
            "a rehearsal does not create"
        )
    return None


def _key_value(resource: model.Resource) -> KeyValue:
    data = resource.data
    plan = resource.plan or "free"
    persistence = data.get("persistenceMode") or ("off" if plan == plans.FREE else "snapshot")
    return KeyValue(
        resource.name,
        str(data.get("maxmemoryPolicy") or DEFAULT_POLICY),
        str(persistence),
        _memory_mb(plan),
    )


def _memory_mb(plan: str) -> int | None:
    if plan == plans.FREE:
        return FREE_KEY_VALUE_MB
    plan = plans.RENAMED["keyValuePlan"].get(plan, plan)
    match = _MEMORY.match(plan)
    if not match:
        return None
    return int(match.group(1)) * (1024 if match.group(2) == "g" else 1)


def _database(resource: model.Resource) -> Database:
    data = resource.data
    slug = re.sub(r"[^a-z0-9_]", "_", resource.name.lower())
    version = data.get("postgresMajorVersion")
    return Database(
        resource.name,
        str(data.get("databaseName") or slug),
        str(data.get("user") or slug),
        str(version) if version is not None else None,
    )


def _database_extras(resource: model.Resource) -> Iterator[Skipped]:
    replicas = resource.data.get("readReplicas")
    if isinstance(replicas, list):
        for replica in replicas:
            if isinstance(replica, dict):
                yield Skipped(
                    str(replica.get("name")), f"a read replica of {resource.name}: not created"
                )


def _blueprint_extras(data: dict[str, Any]) -> Iterator[Skipped]:
    if isinstance(data.get("previews"), dict):
        yield Skipped("previews", "preview environments are made by Render for pull requests")
    for resource in model.services(data):
        previews = resource.data.get("previews")
        if isinstance(previews, dict) and previews.get("generation") not in (None, "off"):
            yield Skipped(f"{resource.name} previews", "preview environments are not rehearsed")


def _in_start_order(services: list[Service], scope: model.Scope) -> list[Service]:
    """Each service after the services it reads (fromService), else in blueprint order."""
    by_name = {s.name: s for s in services}
    ordered: list[Service] = []
    visiting: set[str] = set()

    def visit(service: Service) -> None:
        if service in ordered or service.name in visiting:
            return  # a cycle: the rest of the blueprint's order decides
        visiting.add(service.name)
        for dependency in _dependencies(service, scope):
            if dependency in by_name:
                visit(by_name[dependency])
        ordered.append(service)

    for service in services:
        visit(service)
    return ordered


def _dependencies(service: Service, scope: model.Scope) -> Iterator[str]:
    resource = scope.find("service", service.name)
    for _, entry in resource.env_entries() if resource else ():
        reference = entry.get("fromService")
        if isinstance(reference, dict) and isinstance(reference.get("name"), str):
            yield reference["name"]
