"""Every service's environment, resolved as Render resolves it at deploy time.

- ``value``: the string (a number in YAML becomes its text, as on Render);
- ``generateValue``: a random base64-encoded 256-bit value, one per entry: a group's entry
  gives every service that reads the group the same value; made once and kept between
  runs (``blueprintup.state``), as Render keeps it between deploys;
- ``fromGroup``: the group's entries, groups merged in order; the service's own entries win;
- ``fromDatabase``: ``connectionString`` (and ``connectionPoolString``: there is no pooler
  here, so the same), ``host``, ``port``, ``user``, ``password``, ``database``;
- ``fromService``: ``connectionString`` of a Key Value; ``host``, ``port``, ``hostport``
  of a service on the private network; ``slug``; or ``envVarKey``, another service's
  variable as it resolves there;
- ``sync: false``: from the env file (``--env-file``), as typed into Render's dashboard;
- what Render sets itself: ``RENDER``, ``RENDER_SERVICE_ID``, ``RENDER_SERVICE_NAME``,
  ``RENDER_SERVICE_TYPE``, ``RENDER_INSTANCE_ID``, ``IS_PULL_REQUEST``, ``RENDER_GIT_*``,
  ``RENDER_CPU_COUNT`` (from the plan);
  ``PORT`` and ``RENDER_DISCOVERY_SERVICE`` on services that listen;
  ``RENDER_EXTERNAL_HOSTNAME`` and ``RENDER_EXTERNAL_URL`` on web services.

Variables in the env file that the blueprint declares nowhere are given to every service,
as if added on each service's page in the dashboard (``undeclared`` names them).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

from blueprintup.errors import RehearsalError
from blueprintup.topology import Service, Topology
from stack.ports import HOST as LOOPBACK_HOST


@dataclass(frozen=True)
class Endpoint:
    """Where a Key Value instance or a listening service answers on this machine."""

    host: str
    port: int
    scheme: str = "redis"

    @property
    def hostport(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def connection_string(self) -> str:
        return f"{self.scheme}://{self.hostport}"


@dataclass(frozen=True)
class DatabaseAccess:
    host: str
    port: int
    user: str
    password: str
    database: str

    @property
    def connection_string(self) -> str:
        return (
            f"postgresql://{quote(self.user, safe='')}:{quote(self.password, safe='')}"
            f"@{self.host}:{self.port}/{quote(self.database, safe='')}"
        )

    def property(self, name: str) -> str:
        return {
            "connectionString": self.connection_string,
            "connectionPoolString": self.connection_string,
            "host": self.host,
            "port": str(self.port),
            "user": self.user,
            "password": self.password,
            "database": self.database,
        }[name]


@dataclass(frozen=True)
class Platform:
    """What Render knows of the deploy itself: the commit and where it came from."""

    commit: str | None = None
    branch: str | None = None
    repo_slug: str | None = None


@dataclass
class Resolver:
    topology: Topology
    env_file: Mapping[str, str]
    platform: Platform = field(default_factory=Platform)
    key_values: dict[str, Endpoint] = field(default_factory=dict)
    databases: dict[str, DatabaseAccess] = field(default_factory=dict)
    listeners: dict[str, Endpoint] = field(default_factory=dict)  # service -> instance 0
    externals: dict[str, Endpoint] = field(default_factory=dict)  # web service -> its edge
    generated: MutableMapping[str, str] = field(default_factory=dict)  # by slot
    _ids: dict[str, str] = field(default_factory=dict)
    _reach: str | None = None

    # --- what the env file must give, before anything starts -------------------------
    def missing(self) -> dict[str, list[str]]:
        """``sync: false`` variables the env file does not give, by service (a group's
        under ``env group NAME``), the way Render's dashboard asks for them."""
        missing: dict[str, list[str]] = {}
        for owner, entries in self._entry_owners():
            for entry in entries:
                key = entry.get("key")
                wanted = entry.get("sync") is False and isinstance(key, str)
                if wanted and key not in self.env_file and key not in missing.get(owner, []):
                    missing.setdefault(owner, []).append(key)
        return missing

    def undeclared(self) -> list[str]:
        declared = {entry.get("key") for _, entries in self._entry_owners() for entry in entries}
        return sorted(key for key in self.env_file if key not in declared)

    def _entry_owners(self) -> Iterator[tuple[str, list[dict]]]:
        used_groups: list[str] = []
        for service in self.topology.services:
            yield service.name, list(_entries(service.data))
            for entry in _entries(service.data):
                group = entry.get("fromGroup")
                if isinstance(group, str) and group not in used_groups:
                    used_groups.append(group)
        for name in used_groups:
            group = self.topology.scope.find("group", name)
            if group:
                yield f"env group {name}", list(_entries(group.data))

    # --- a service's environment -------------------------------------------------------
    def service_id(self, service: Service) -> str:
        if service.name not in self._ids:
            self._ids[service.name] = f"srv-{secrets.token_hex(10)}"
        return self._ids[service.name]

    def environment(
        self, service: Service, *, instance_id: str, port: int | None, reach: str | None = None
    ) -> dict[str, str]:
        """What one instance of ``service`` sees: Render's own variables, the blueprint's,
        then what the env file adds that the blueprint does not declare. ``reach``: the
        address an instance on a network of its own reaches this machine at (the run's
        gateway), in place of 127.0.0.1 in the addresses of the datastores and services."""
        self._reach = reach
        try:
            environment = self._render_variables(service, instance_id=instance_id, port=port)
            declared = self.declared(service)
        finally:
            self._reach = None
        environment.update(declared)
        for key in self.undeclared():
            environment[key] = self.env_file[key]
        if port is not None and "PORT" not in declared:
            environment["PORT"] = str(port)
        if port is not None and reach is None:  # on its own network it listens as on Render
            for key, value in LOOPBACK_ONLY.items():
                environment.setdefault(key, value)
        return environment

    def _reached(self, found: Any) -> Any:
        """``found`` (an endpoint, a database's access) as the instance being resolved
        reaches it."""
        if self._reach is not None and getattr(found, "host", None) == LOOPBACK_HOST:
            return replace(found, host=self._reach)
        return found

    def declared_port(self, service: Service) -> int | None:
        """The PORT the blueprint gives ``service`` as a plain value, if any."""
        entries = list(_entries(service.data))
        for entry in entries:
            group = self.topology.scope.find("group", entry.get("fromGroup"))
            if group is not None:
                entries = [*_entries(group.data), *entries]  # the service's own come last
        values = [e.get("value") for e in entries if e.get("key") == "PORT" and "value" in e]
        text = _text(values[-1]) if values else ""
        return int(text) if text.isdigit() else None

    def declared(self, service: Service) -> dict[str, str]:
        """The blueprint's variables of ``service``, resolved: its groups', then its own."""
        keys = [key for key, _, _ in self._sources(service)]
        values = {key: self.variable(service, key) for key in dict.fromkeys(keys)}
        return {key: value for key, value in values.items() if value is not None}

    def variable(self, service: Service, key: str, _seen: tuple[str, ...] = ()) -> str | None:
        """One variable of ``service`` as it resolves there (``None``: declared without a
        value, or not declared)."""
        here = f"{service.name}.{key}"
        if here in _seen:
            raise RehearsalError(
                "fromService envVarKey references go round in a circle: "
                + " -> ".join((*_seen, here))
            )
        found = [(entry, owner) for name, entry, owner in self._sources(service) if name == key]
        if not found:
            return None
        entry, owner = found[-1]  # the service's own entry comes after its groups'
        return self._value(entry, owner=owner, seen=(*_seen, here))

    def _sources(self, service: Service) -> Iterator[tuple[str, dict, tuple[str, str]]]:
        """(key, entry, owner) of each variable: the groups' in order, then its own."""
        groups, own = [], []
        for entry in _entries(service.data):
            group_name = entry.get("fromGroup")
            if isinstance(group_name, str):
                group = self.topology.scope.find("group", group_name)
                if group is None:
                    raise RehearsalError(
                        f"{service.name} reads the env group {group_name!r}: not declared"
                    )
                groups += [
                    (e["key"], e, ("group", group_name))
                    for e in _entries(group.data)
                    if isinstance(e.get("key"), str)
                ]
            elif isinstance(entry.get("key"), str):
                own.append((entry["key"], entry, ("service", service.name)))
        yield from groups
        yield from own

    def _value(self, entry: dict, *, owner: tuple[str, str], seen: tuple[str, ...]) -> str | None:
        key = entry["key"]
        if "value" in entry:
            return _text(entry["value"])
        if entry.get("generateValue") is True:
            slot = "/".join((*owner, key))
            if slot not in self.generated:
                self.generated[slot] = base64.b64encode(secrets.token_bytes(32)).decode()
            return self.generated[slot]
        if entry.get("sync") is False:
            return self.env_file.get(key)
        if isinstance(entry.get("fromDatabase"), dict):
            return self._from_database(entry["fromDatabase"], key)
        if isinstance(entry.get("fromService"), dict):
            return self._from_service(entry["fromService"], key, seen)
        return None

    def _from_database(self, reference: dict, key: str) -> str:
        name = str(reference.get("name"))
        access = self.databases.get(name)
        if access is None:
            raise RehearsalError(f"{key}: reads the database {name!r}, {self._absent(name)}")
        return self._reached(access).property(str(reference.get("property")))

    def _from_service(self, reference: dict, key: str, seen: tuple[str, ...]) -> str:
        name = str(reference.get("name"))
        if "envVarKey" in reference:
            target = self.topology.service(name)
            if target is None:
                raise RehearsalError(f"{key}: reads a variable of {name!r}, {self._absent(name)}")
            variable = str(reference["envVarKey"])
            if variable == "RENDER_SERVICE_NAME":
                return target.name
            if variable == "RENDER_SERVICE_ID":
                return self.service_id(target)
            value = self.variable(target, variable, seen)
            if value is None:
                raise RehearsalError(f"{key}: service {name!r} has no value for {variable}")
            return value
        prop = str(reference.get("property"))
        if prop == "slug":
            return name
        endpoint = self._reached(self.key_values.get(name) or self.listeners.get(name))
        if endpoint is None:
            raise RehearsalError(f"{key}: reads the {prop} of {name!r}, {self._absent(name)}")
        return {
            "host": endpoint.host,
            "port": str(endpoint.port),
            "hostport": endpoint.hostport,
            "connectionString": endpoint.connection_string,
        }[prop]

    def _absent(self, name: str) -> str:
        """Why a resource a variable reads has nothing to give here."""
        skipped = next((s for s in self.topology.skipped if s.name == name), None)
        if skipped is not None:
            return f"which is not rehearsed ({skipped.reason})"
        if self.topology.service(name) is not None:
            return "which does not listen on the private network (a worker or cron job)"
        return "which the blueprint does not declare in this scope"

    def _render_variables(
        self, service: Service, *, instance_id: str, port: int | None
    ) -> dict[str, str]:
        variables = {
            "RENDER": "true",
            "IS_PULL_REQUEST": "false",
            "RENDER_SERVICE_ID": self.service_id(service),
            "RENDER_SERVICE_NAME": service.name,
            "RENDER_SERVICE_TYPE": service.type,
            "RENDER_INSTANCE_ID": instance_id,
        }
        for name, value in (
            ("RENDER_GIT_COMMIT", self.platform.commit),
            ("RENDER_GIT_BRANCH", self.platform.branch),
            ("RENDER_GIT_REPO_SLUG", self.platform.repo_slug),
        ):
            if value:
                variables[name] = value
        if service.cpu_count is not None:
            variables["RENDER_CPU_COUNT"] = service.cpu_count
        if service.listens:
            variables["RENDER_DISCOVERY_SERVICE"] = f"{service.name}-discovery"
        external = self.externals.get(service.name)
        if external is not None:
            variables["RENDER_EXTERNAL_HOSTNAME"] = external.host
            variables["RENDER_EXTERNAL_URL"] = external.connection_string
        return variables


# Not Render's, the rehearsal's own: on Render only its proxy reaches an instance, but here
# every instance shares this machine's network, so this project's web entrypoint is told
# to listen on loopback only (servicespec's WEB_BIND_HOST); the edge is the way in. A
# blueprint that declares the variable keeps its value.
LOOPBACK_ONLY = {"WEB_BIND_HOST": "127.0.0.1"}


def _entries(data: dict) -> Iterator[dict]:
    entries = data.get("envVars")
    for entry in entries if isinstance(entries, list) else ():
        if isinstance(entry, dict):
            yield entry


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
