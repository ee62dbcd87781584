"""References between resources, and how variables are declared (R codes)."""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterator

from blueprintcheck import model, official
from blueprintcheck.loader import Document
from blueprintcheck.rules import Finding, Severity, rule

E, W = Severity.ERROR, Severity.WARNING

# What ``property`` may name, by the referenced service's type (Render's Blueprint spec):
# a service that listens offers its address on the private network, Key Value also its
# URL, and every service its slug. The names themselves are the official schema's
# (``serviceEnvVarProperty``); a property it adds fails a test until it is placed here.
LISTENING = {"host", "port", "hostport"}
SERVICE_PROPERTIES = {
    "web": LISTENING,
    "pserv": LISTENING,
    "keyvalue": {*LISTENING, "connectionString"},
}
EVERY_SERVICE = {"slug"}
POOLED = "connectionPoolString"  # only a database with `connectionPool: pgbouncer` has one


def service_properties(service_type: str) -> set[str]:
    offered = SERVICE_PROPERTIES.get(service_type, set()) | EVERY_SERVICE
    return offered & set(official.enum("serviceEnvVarProperty"))


def database_properties(database: model.Resource | None) -> set[str]:
    offered = set(official.enum("databaseEnvVarProperty"))
    if database is not None and database.data.get("connectionPool") != "pgbouncer":
        offered.discard(POOLED)
    return offered


def _references(
    document: Document, key: str
) -> Iterator[tuple[model.Scope, model.Resource, tuple, dict]]:
    """(scope, owner, path of the reference, the reference) for each ``key`` reference."""
    for scope, owner in model.all_resources(document.data):
        for path, entry in owner.env_entries():
            reference = entry.get(key)
            if key == "fromGroup" and isinstance(reference, str):
                yield scope, owner, (*path, key), {"name": reference}
            elif isinstance(reference, dict) and isinstance(reference.get("name"), str):
                yield scope, owner, (*path, key), reference


def _elsewhere(document: Document, kind: str, name: str) -> str | None:
    return next((s.label for s in model.scopes(document.data) if s.find(kind, name)), None)


def _missing(document: Document, scope: model.Scope, kind: str, name: str) -> tuple[str, bool]:
    """The message for a target that is not in ``scope``, and whether it exists elsewhere."""
    other = _elsewhere(document, kind, name)
    if other:
        return (
            f'{kind} "{name}" is defined in {other}, not in {scope.label}; Render resolves '
            "references only within one scope",
            True,
        )
    names = [
        r.name
        for r in {"service": scope.services, "database": scope.databases, "group": scope.groups}[
            kind
        ]
    ]
    close = difflib.get_close_matches(name, names, n=1)
    hint = (
        f'; did you mean "{close[0]}"?'
        if close
        else (f" (defined: {', '.join(sorted(names))})" if names else "")
    )
    return f'no {kind} named "{name}" in {scope.label}{hint}', False


@rule(
    "R001",
    "unknown-service",
    E,
    "`fromService` names a service that is not defined.",
    "Fix the name, or define the service.",
)
def unknown_service(document: Document) -> Iterator[Finding]:
    yield from _unknown(document, "fromService", "service")


@rule(
    "R002",
    "wrong-scope",
    E,
    "A reference names a resource defined in another scope "
    "(the top level, or another project environment). Render resolves references only "
    "within one scope.",
    "Move the resource, or the service that refers to it, into the same scope.",
)
def wrong_scope(document: Document) -> Iterator[Finding]:
    for key, kind in (
        ("fromService", "service"),
        ("fromDatabase", "database"),
        ("fromGroup", "group"),
    ):
        for scope, _, path, ref in _references(document, key):
            if not scope.find(kind, ref["name"]):
                message, elsewhere = _missing(document, scope, kind, ref["name"])
                if elsewhere:
                    yield Finding(path if key == "fromGroup" else (*path, "name"), message)


@rule(
    "R003",
    "unknown-env-var-key",
    E,
    "`fromService.envVarKey` names a variable the target service does not declare.",
    "Declare the variable on the target service (directly or "
    "through a group it reads), or fix the key.",
)
def unknown_env_var_key(document: Document) -> Iterator[Finding]:
    for scope, _, path, ref in _references(document, "fromService"):
        target = scope.find("service", ref["name"])
        key = ref.get("envVarKey")
        if target and isinstance(key, str) and key not in declared_keys(scope, target):
            yield Finding(
                (*path, "envVarKey"), f'service "{target.name}" declares no variable "{key}"'
            )


# Variables Render sets on every service (or every web service) by itself; another service
# may read them through envVarKey without the target declaring them.
RENDER_PROVIDED = {
    "RENDER",
    "IS_PULL_REQUEST",
    "PORT",
    "RENDER_CPU_COUNT",
    "RENDER_DISCOVERY_SERVICE",
    "RENDER_EXTERNAL_HOSTNAME",
    "RENDER_EXTERNAL_URL",
    "RENDER_GIT_BRANCH",
    "RENDER_GIT_COMMIT",
    "RENDER_GIT_REPO_SLUG",
    "RENDER_INSTANCE_ID",
    "RENDER_SERVICE_ID",
    "RENDER_SERVICE_NAME",
    "RENDER_SERVICE_TYPE",
    "RENDER_WEB_CONCURRENCY",
}


def declared_keys(scope: model.Scope, service: model.Resource) -> set[str]:
    keys = set(RENDER_PROVIDED)
    for _, entry in service.env_entries():
        if isinstance(entry.get("key"), str):
            keys.add(entry["key"])
        group = scope.find("group", entry.get("fromGroup"))
        if group:
            keys |= {e["key"] for _, e in group.env_entries() if isinstance(e.get("key"), str)}
    return keys


@rule(
    "R004",
    "invalid-property",
    E,
    "`property` is not one the referenced resource offers "
    "(or a `fromService` has neither `property` nor `envVarKey`).",
    "Use a property listed in the message: services offer host, port, hostport (Key Value "
    "also connectionString) and slug; databases host, port, database, user, password, "
    "connectionString, and connectionPoolString when they have `connectionPool: pgbouncer`.",
)
def invalid_property(document: Document) -> Iterator[Finding]:
    for scope, _, path, ref in _references(document, "fromService"):
        has_property, has_key = "property" in ref, "envVarKey" in ref
        if has_property == has_key:
            yield Finding(path, "fromService needs exactly one of `property` and `envVarKey`")
            continue
        target = scope.find("service", ref["name"])
        if has_property and (target or not _known(ref["property"], "serviceEnvVarProperty")):
            allowed = service_properties(target.type) if target else set()
            if not isinstance(ref["property"], str) or ref["property"] not in allowed:
                what = f"a {target.type} service" if target else "a service"
                offered = ", ".join(sorted(allowed or official.enum("serviceEnvVarProperty")))
                yield Finding(
                    (*path, "property"),
                    f'{what} has no property "{ref["property"]}"; it offers: {offered}',
                )
    for scope, _, path, ref in _references(document, "fromDatabase"):
        prop = ref.get("property")
        if "property" not in ref:
            continue
        database = scope.find("database", ref["name"])
        allowed = database_properties(database)
        if prop == POOLED and database is not None and prop not in allowed:
            yield Finding(
                (*path, "property"),
                f'database "{database.name}" has no connection pool, so no {POOLED}: add '
                "`connectionPool: pgbouncer` to it, or use connectionString",
            )
        elif not isinstance(prop, str) or prop not in allowed:
            yield Finding(
                (*path, "property"),
                f'a database has no property "{ref["property"]}"'
                f"; it offers: {', '.join(sorted(allowed))}",
            )


def _known(value: object, definition: str) -> bool:
    return isinstance(value, str) and value in official.enum(definition)


@rule(
    "R005",
    "type-mismatch",
    E,
    "The `type` given in `fromService` is not the target's type.",
    "Write the target's type (keyvalue for Key Value, static for a static site).",
)
def type_mismatch(document: Document) -> Iterator[Finding]:
    for scope, _, path, ref in _references(document, "fromService"):
        target = scope.find("service", ref["name"])
        given = "keyvalue" if ref.get("type") == "redis" else ref.get("type")
        if target and isinstance(given, str) and given != target.type:
            yield Finding(
                (*path, "type"), f'service "{target.name}" is a {target.type} service, not {given}'
            )


@rule(
    "R006",
    "duplicate-name",
    E,
    "Two resources of one kind share a name in one scope (or two build sources share a "
    "name anywhere: their names are unique in the workspace).",
    "Rename one: names must be unique.",
)
def duplicate_name(document: Document) -> Iterator[Finding]:
    for scope in model.scopes(document.data):
        for kind, pool in (
            ("service", scope.services),
            ("database", scope.databases),
            ("group", scope.groups),
        ):
            seen: dict[str, model.Resource] = {}
            for resource in pool:
                if resource.name in seen:
                    yield Finding(
                        (*resource.path, "name"),
                        f'{kind} name "{resource.name}" is already used in {scope.label}',
                    )
                seen.setdefault(resource.name, resource)
    first: dict[str, model.Resource] = {}
    for source in model.build_sources(document.data):
        if source.name in first:
            yield Finding(
                (*source.path, "name"),
                f'build source name "{source.name}" is already used (names are unique in the '
                "workspace)",
            )
        first.setdefault(source.name, source)


@rule(
    "R007",
    "duplicate-env-key",
    E,
    "One service gets the same variable twice (directly, "
    "or through groups); only one value can win.",
    "Declare each variable once per service.",
)
def duplicate_env_key(document: Document) -> Iterator[Finding]:
    for scope, owner in model.all_resources(document.data):
        if owner.kind == "database":
            continue
        counts: Counter[str] = Counter()
        for path, entry in owner.env_entries():
            keys = [entry["key"]] if isinstance(entry.get("key"), str) else []
            group = scope.find("group", entry.get("fromGroup")) if owner.kind != "group" else None
            if group:
                keys += [e["key"] for _, e in group.env_entries() if isinstance(e.get("key"), str)]
            for key in keys:
                counts[key] += 1
                if counts[key] == 2:
                    via = (
                        f' (through group "{group.name}")'
                        if group and key != entry.get("key")
                        else ""
                    )
                    yield Finding(
                        path,
                        f'variable "{key}" is declared more than once for '
                        f'{owner.kind} "{owner.name}"{via}',
                    )


@rule(
    "R008",
    "missing-env-key",
    E,
    "An environment entry has no `key` (and is not a `fromGroup`).",
    "Add `key: NAME`.",
)
def missing_env_key(document: Document) -> Iterator[Finding]:
    for _, owner in model.all_resources(document.data):
        for path, entry in owner.env_entries():
            if "key" not in entry and "fromGroup" not in entry:
                yield Finding(path, "this variable has no `key`")
            elif "key" in entry and "fromGroup" in entry:
                yield Finding(path, "`fromGroup` brings a whole group and takes no `key`")


@rule(
    "R009",
    "multiple-value-sources",
    E,
    "An environment entry names more than one source "
    "for its value (value, generateValue, sync: false, fromService, fromDatabase).",
    "Keep exactly one source.",
)
def multiple_value_sources(document: Document) -> Iterator[Finding]:
    for _, owner in model.all_resources(document.data):
        for path, entry in owner.env_entries():
            sources = model.value_sources(entry)
            if len(sources) > 1:
                yield Finding(
                    path,
                    f'variable "{entry.get("key", "?")}" has {len(sources)} value '
                    f"sources ({', '.join(sources)}); keep one",
                )


@rule(
    "R010",
    "forbidden-in-group",
    E,
    "An environment group uses what Render forbids in "
    "groups: `sync: false`, `fromService`, `fromDatabase` or `fromGroup`.",
    "Move that variable onto the services that need it.",
)
def forbidden_in_group(document: Document) -> Iterator[Finding]:
    for _, group in model.all_resources(document.data):
        if group.kind != "group":
            continue
        for path, entry in group.env_entries():
            for source in ("fromService", "fromDatabase", "fromGroup"):
                if source in entry:
                    yield Finding(
                        (*path, source),
                        f"`{source}` is not allowed in an environment "
                        "group; declare it on each service instead",
                        at_key=True,
                    )
            if entry.get("sync") is False:
                yield Finding(
                    (*path, "sync"),
                    "`sync: false` is not allowed in an environment "
                    "group; declare the secret on the services that need it",
                    at_key=True,
                )


@rule(
    "R011",
    "unknown-database",
    E,
    "`fromDatabase` names a database that is not defined.",
    "Fix the name, or define the database under `databases:`.",
)
def unknown_database(document: Document) -> Iterator[Finding]:
    yield from _unknown(document, "fromDatabase", "database")


def _unknown(document: Document, key: str, kind: str) -> Iterator[Finding]:
    """``key`` references to a ``kind`` defined nowhere in the blueprint (one defined in
    another scope is R002's)."""
    for scope, _, path, ref in _references(document, key):
        if not scope.find(kind, ref["name"]):
            message, elsewhere = _missing(document, scope, kind, ref["name"])
            if not elsewhere:
                yield Finding((*path, "name"), message)


@rule(
    "R012",
    "unknown-group",
    W,
    "`fromGroup` names an environment group the blueprint does "
    "not define. That works only if a group of that name already exists in the Render "
    "workspace (created in the dashboard); otherwise the sync fails.",
    "Define the group under `envVarGroups:`, or make sure it exists in the workspace.",
    contract_severity=Severity.ERROR,
    contract_reason="this project's contract declares every group its services read in its "
    "own blueprint (--generic allows a group made in the dashboard)",
)
def unknown_group(document: Document) -> Iterator[Finding]:
    for scope, _, path, ref in _references(document, "fromGroup"):
        if not scope.find("group", ref["name"]):
            message, elsewhere = _missing(document, scope, "group", ref["name"])
            if not elsewhere:
                yield Finding(path, f"{message}; it must already exist in the workspace")
