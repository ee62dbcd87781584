"""A navigable view of a loaded blueprint: scopes, resources and their variables.

Render resolves references only inside one scope: the top level (with ``ungrouped``), or
one ``projects[].environments[]`` entry.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from blueprintcheck.problems import Path

DEFAULT_REGION = "oregon"


@dataclass(frozen=True)
class Resource:
    kind: str  # "service" | "database" | "group" | "build source"
    name: str
    path: Path
    data: dict = field(hash=False, compare=False)
    scope: str = "the top level"

    @property
    def type(self) -> str:
        """Service type as references name it: web, worker, pserv, cron, static, keyvalue;
        "postgres" for databases and "group" for environment groups."""
        if self.kind == "database":
            return "postgres"
        if self.kind == "group":
            return "group"
        kind = str(self.data.get("type", ""))
        if kind == "redis":
            return "keyvalue"
        if kind == "web" and "static" in (self.data.get("runtime"), self.data.get("env")):
            return "static"
        return kind

    @property
    def region(self) -> str:
        return str(self.data.get("region") or DEFAULT_REGION)

    @property
    def plan(self) -> str | None:
        plan = self.data.get("plan")
        return str(plan) if plan is not None else None

    def env_entries(self) -> Iterator[tuple[Path, dict]]:
        entries = self.data.get("envVars")
        if isinstance(entries, list):
            for index, entry in enumerate(entries):
                if isinstance(entry, dict):
                    yield (*self.path, "envVars", index), entry


@dataclass
class Scope:
    label: str
    services: list[Resource] = field(default_factory=list)
    databases: list[Resource] = field(default_factory=list)
    groups: list[Resource] = field(default_factory=list)

    _index: dict[str, dict[str, Resource]] = field(default_factory=dict, repr=False)

    def find(self, kind: str, name: Any) -> Resource | None:
        """The first resource of ``kind`` named ``name`` (an index: references are many)."""
        if kind not in self._index:
            pool = {"service": self.services, "database": self.databases, "group": self.groups}
            index: dict[str, Resource] = {}
            for resource in pool[kind]:
                index.setdefault(resource.name, resource)
            self._index[kind] = index
        return self._index[kind].get(name) if isinstance(name, str) else None


_last: tuple[dict, list[Scope]] | None = None


def scopes(data: dict) -> list[Scope]:
    """The scopes of ``data``, remembered for the document being checked: every check
    walks the same resources, and a blueprint of 1,000 services is worth reading once."""
    global _last
    if _last is None or _last[0] is not data:
        _last = (data, _read_scopes(data))
    return _last[1]


def _read_scopes(data: dict) -> list[Scope]:
    root = Scope("the top level")
    _collect(root, data, ())
    ungrouped = data.get("ungrouped")
    if isinstance(ungrouped, dict):
        _collect(root, ungrouped, ("ungrouped",))
    result = [root]
    for p, project in _items(data.get("projects")):
        for e, environment in _items(project.get("environments")):
            label = f"environment {environment.get('name')!r} of project {project.get('name')!r}"
            scope = Scope(label)
            _collect(scope, environment, ("projects", p, "environments", e))
            result.append(scope)
    return result


def _items(value: Any) -> Iterator[tuple[int, dict]]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield index, item


def _collect(scope: Scope, container: dict, prefix: Path) -> None:
    for key, kind, pool in (
        ("services", "service", scope.services),
        ("databases", "database", scope.databases),
        ("envVarGroups", "group", scope.groups),
    ):
        for index, item in _items(container.get(key)):
            if isinstance(item.get("name"), str):
                pool.append(Resource(kind, item["name"], (*prefix, key, index), item, scope.label))


def all_resources(data: dict) -> Iterator[tuple[Scope, Resource]]:
    for scope in scopes(data):
        for resource in (*scope.services, *scope.databases, *scope.groups):
            yield scope, resource


def services(data: dict) -> Iterator[Resource]:
    """Every service of every scope."""
    for _, resource in all_resources(data):
        if resource.kind == "service":
            yield resource


def databases(data: dict) -> Iterator[Resource]:
    """Every database of every scope."""
    for _, resource in all_resources(data):
        if resource.kind == "database":
            yield resource


def value_sources(entry: dict) -> list[str]:
    """The value sources one env entry names (Render allows exactly one)."""
    sources = [
        s
        for s in ("value", "generateValue", "fromService", "fromDatabase", "fromGroup")
        if s in entry and not (s == "generateValue" and entry[s] is False)
    ]
    if entry.get("sync") is False:
        sources.append("sync: false")
    return sources


def build_sources(data: dict) -> list[Resource]:
    """Every build source: the top level's, ``ungrouped``'s and each project's. Their names
    are unique in the workspace, so a service may use any of them."""
    containers: list[tuple[Path, Any]] = [((), data), (("ungrouped",), data.get("ungrouped"))]
    containers += [(("projects", p), project) for p, project in _items(data.get("projects"))]
    found = []
    for prefix, container in containers:
        if isinstance(container, dict):
            for index, item in _items(container.get("buildSources")):
                if isinstance(item.get("name"), str):
                    path = (*prefix, "buildSources", index)
                    found.append(Resource("build source", item["name"], path, item))
    return found
