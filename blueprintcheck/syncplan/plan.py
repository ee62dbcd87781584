"""The sync plan: what merging a blueprint will make Render do, from the blueprint before
and after (M codes for what destroys, fails or costs).

Render matches a blueprint's resources to the ones it runs **by name, within their scope**
(the top level, or one environment of a project): a resource under a new name is a new
resource, and one the blueprint no longer lists is left running, no longer managed, and
still billed (render.com/docs/infrastructure-as-code, "Renaming and removing
resources"). Every claim about Render below names its source; docs/VALIDATOR.md lists
them under each code.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from blueprintcheck import model, plans
from blueprintcheck.loader import Document
from blueprintcheck.problems import Path, Problem, Severity, sort_key
from blueprintcheck.rules import RULES
from blueprintcheck.syncplan import prices

E, W = Severity.ERROR, Severity.WARNING
STATEFUL_TYPES = ("postgres", "keyvalue")  # and any service with a disk
# What Render cannot change on a resource it runs (Render's Blueprint guidance,
# render-oss/skills render-blueprints, and render.com/docs/regions: a service stays in the
# region it was created in).
IMMUTABLE = {
    "service": ("type", "runtime", "region"),
    "database": ("databaseName", "user", "region", "postgresMajorVersion"),
}
OPEN_TO_ALL = ("0.0.0.0/0", "::/0")


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass
class ResourcePlan:
    action: str  # create | change | unmanaged
    kind: str  # service | database | group
    type: str
    name: str
    scope: str
    fields: list[FieldChange] = field(default_factory=list)
    env_added: list[str] = field(default_factory=list)
    env_removed: list[str] = field(default_factory=list)
    env_changed: list[str] = field(default_factory=list)
    monthly_before: int | None = None
    monthly_after: int | None = None

    @property
    def changed(self) -> bool:
        return bool(self.fields or self.env_added or self.env_removed or self.env_changed)


@dataclass
class SyncPlan:
    against: str  # where the blueprint before was read
    existed: bool  # False: no blueprint there, so everything is created
    resources: list[ResourcePlan]
    problems: list[Problem]
    monthly_before: int = 0  # dollars a month, every resource with a known price
    monthly_after: int = 0
    unpriced: list[str] = field(default_factory=list)  # resources whose price is not known

    def of(self, action: str) -> list[ResourcePlan]:
        return [r for r in self.resources if r.action == action]

    def monthly(self) -> tuple[int, int, list[str]]:
        """Dollars a month before and after, and the resources whose price is not known."""
        return self.monthly_before, self.monthly_after, self.unpriced


# --- matching ------------------------------------------------------------------------------


def _resources(document: Document) -> dict[tuple[str, str, str], model.Resource]:
    found: dict[tuple[str, str, str], model.Resource] = {}
    for scope in model.scopes(document.data):
        for resource in (*scope.services, *scope.databases, *scope.groups):
            found.setdefault((scope.label, resource.kind, resource.name), resource)
    return found


def sync_plan(before: Document | None, after: Document, against: str) -> SyncPlan:
    old = _resources(before) if before is not None else {}
    new = _resources(after)
    plan = SyncPlan(against, before is not None, [], [])
    problems: list[Problem] = []
    renamed = _renames(old, new)
    for key, resource in new.items():
        previous = old.get(key)
        entry = _entry("create" if previous is None else "change", resource)
        entry.monthly_after = _price(resource)
        if previous is not None:
            entry.monthly_before = _price(previous)
            entry.fields = list(_field_changes(previous.data, resource.data))
            entry.env_added, entry.env_removed, entry.env_changed = _env_changes(previous, resource)
            problems += _change_problems(after, previous, resource, entry)
        elif key in renamed:
            was = renamed[key]
            problems.append(
                _problem(after, "M001", (*resource.path, "name"), _renamed(was, resource))
            )
        problems += [
            _problem(after, "M011", path, f'"{resource.name}" gets a new `sync: false` variable, '
                     f"{name}: Render's dashboard asks for its value when the blueprint syncs, "
                     "and the deploy waits until someone types it")
            for name, path in _new_sync_false(previous, resource)
        ]  # fmt: skip
        if entry.action == "create" or entry.changed or _price_changed(entry):
            plan.resources.append(entry)
    paired = set(renamed.values())
    for key, resource in old.items():
        if key in new:
            continue
        entry = _entry("unmanaged", resource)
        entry.monthly_before = _price(resource)
        plan.resources.append(entry)
        if resource in paired:
            continue
        billed = f" (${entry.monthly_before} a month)" if entry.monthly_before else ""
        problems.append(
            _problem(after, "M002", _container(resource.path),
                     f'{resource.type} "{resource.name}" ({resource.scope}) is no longer in the '
                     "blueprint: the sync leaves it running, no longer managed by the "
                     f"blueprint, and still billed{billed}; delete it in the dashboard if it "
                     "is not needed (Render deletes nothing a blueprint drops)")
        )  # fmt: skip
    plan.problems = sorted(problems, key=sort_key)
    plan.monthly_before, unknown_before = _bill(old.values())
    plan.monthly_after, unknown_after = _bill(new.values())
    plan.unpriced = sorted(set(unknown_before) | set(unknown_after))
    return plan


def _bill(resources: Iterable[model.Resource]) -> tuple[int, list[str]]:
    total, unknown = 0, []
    for resource in resources:
        price = _price(resource)
        if price is None:
            unknown.append(resource.name)
        else:
            total += price
    return total, unknown


def _entry(action: str, resource: model.Resource) -> ResourcePlan:
    return ResourcePlan(action, resource.kind, resource.type, resource.name, resource.scope)


def _container(path: Path) -> Path:
    """A dropped resource's list in the blueprint after (``services``...)."""
    return path[:-1]


def _stateful(resource: model.Resource) -> bool:
    return resource.type in STATEFUL_TYPES or isinstance(resource.data.get("disk"), dict)


def _renames(
    old: dict[tuple[str, str, str], model.Resource],
    new: dict[tuple[str, str, str], model.Resource],
) -> dict[tuple[str, str, str], model.Resource]:
    """New stateful resources that take the place of dropped ones of the same type in the
    same scope (in order): a rename, which Render reads as a new resource."""
    gone: dict[tuple[str, str], list[model.Resource]] = {}
    for key, resource in old.items():
        if key not in new and _stateful(resource):
            gone.setdefault((resource.scope, resource.type), []).append(resource)
    found = {}
    for key, resource in new.items():
        if key not in old and _stateful(resource):
            candidates = gone.get((resource.scope, resource.type))
            if candidates:
                found[key] = candidates.pop(0)
    return found


def _renamed(was: model.Resource, now: model.Resource) -> str:
    what = {"postgres": "database", "keyvalue": "Key Value instance"}.get(
        now.type, f"{now.type} service with a disk"
    )
    return (
        f'"{was.name}" is renamed "{now.name}": Render matches resources by name, so the sync '
        f'creates a new, empty {what} "{now.name}" and leaves "{was.name}" running, no longer '
        "managed and still billed, and every fromDatabase/fromService now reaches the empty "
        f'one. Keep the name "{was.name}", or move the data first (restore a backup into the '
        "new one) and then delete the old one in the dashboard"
    )


# --- fields ---------------------------------------------------------------------------------

_NOT_FIELDS = ("name", "envVars")


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(data, dict):
        return {prefix: data}
    found: dict[str, Any] = {}
    for key, value in data.items():
        if not prefix and key in _NOT_FIELDS:
            continue
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            found.update(_flat(value, path))
        else:
            found[path] = value
    return found


def _field_changes(old: dict, new: dict) -> Iterator[FieldChange]:
    before, after = _flat(old), _flat(new)
    for name in sorted(before.keys() | after.keys()):
        if before.get(name, ABSENT) != after.get(name, ABSENT):
            yield FieldChange(name, before.get(name, ABSENT), after.get(name, ABSENT))


class _Absent:
    def __repr__(self) -> str:
        return "(absent)"


ABSENT: Any = _Absent()  # a field one side of a change does not have


# --- variables (names only, never values) ---------------------------------------------------


def _env_sources(resource: model.Resource) -> dict[str, tuple[str, str]]:
    """Each variable the resource declares itself: where its value comes from, and a token
    that changes when the value does (the value's hash is never kept: only equality)."""
    found = {}
    for _, entry in resource.env_entries():
        if "fromGroup" in entry:
            found[f"(group {entry['fromGroup']})"] = ("group", str(entry["fromGroup"]))
            continue
        key = entry.get("key")
        if not isinstance(key, str):
            continue
        source = next((s for s in ("value", "generateValue", "sync", "fromDatabase",
                                   "fromService") if s in entry), "?")  # fmt: skip
        found[key] = (source, repr(entry.get(source)))
    return found


def _env_changes(old: model.Resource, new: model.Resource) -> tuple[list, list, list]:
    before, after = _env_sources(old), _env_sources(new)
    added = sorted(after.keys() - before.keys())
    removed = sorted(before.keys() - after.keys())
    changed = sorted(k for k in before.keys() & after.keys() if before[k] != after[k])
    return added, removed, changed


def _new_sync_false(old: model.Resource | None, new: model.Resource) -> Iterator[tuple[str, Path]]:
    had = _env_sources(old) if old is not None else {}
    for path, entry in new.env_entries():
        key = entry.get("key")
        new_sync = isinstance(key, str) and had.get(key, ("",))[0] != "sync"
        if entry.get("sync") is False and new_sync:
            yield str(key), (*path, "sync")


# --- what a change does -------------------------------------------------------------------


def _change_problems(
    after: Document, old: model.Resource, new: model.Resource, entry: ResourcePlan
) -> list[Problem]:
    found = []
    fields = {c.field: c for c in entry.fields}
    for name in IMMUTABLE.get(new.kind, ()):
        change = _runtime_change(old, new) if name == "runtime" else fields.get(name)
        if change is not None and change.old is not ABSENT:
            found.append(
                _problem(
                    after,
                    "M003",
                    (*new.path, name),
                    (
                        f'{name} of "{new.name}" changes from {change.old!r} to {change.new!r}: '
                        f"Render cannot change it on an existing {new.kind}, so the sync fails. "
                        f"Keep {change.old!r}, or create a new {new.kind} under a new name and "
                        "move to it"
                    ),
                )
            )
    found += _disk_problems(after, old, new)
    found += _replica_problems(after, old, new)
    found += _filter_problems(after, old, new)
    found += _allow_list_problems(after, old, new)
    if _plan_of(old) != _plan_of(new):
        delta = ""
        if entry.monthly_before is not None and entry.monthly_after is not None:
            step = entry.monthly_after - entry.monthly_before
            delta = f" ({'+' if step >= 0 else '-'}${abs(step)} a month, {prices.SOURCE})"
        found.append(
            _problem(
                after,
                "M009",
                (*new.path, "plan"),
                (
                    f'"{new.name}" moves from plan {_plan_of(old)!r} to '
                    f"{_plan_of(new)!r}{delta}: the sync changes its instance type, "
                    "restarting it"
                ),
            )
        )
    found += [
        _problem(after, "M010", (*new.path, "envVars"), (
            f'"{new.name}" no longer declares {name}: from its next deploy the variable is '
            "gone, and code that reads it without a default fails; keep it until nothing "
            "reads it"))
        for name in entry.env_removed
        if not name.startswith("(group ")
    ]  # fmt: skip
    return found


def _runtime_change(old: model.Resource, new: model.Resource) -> FieldChange | None:
    before = old.data.get("runtime", old.data.get("env", ABSENT))
    after = new.data.get("runtime", new.data.get("env", ABSENT))
    return FieldChange("runtime", before, after) if before != after else None


def _disk_problems(after: Document, old: model.Resource, new: model.Resource) -> list[Problem]:
    disk_before, disk_after = old.data.get("disk"), new.data.get("disk")
    if not isinstance(disk_before, dict):
        return []
    if not isinstance(disk_after, dict):
        return [
            _problem(
                after,
                "M005",
                new.path,
                (
                    f'"{new.name}" loses its disk "{disk_before.get("name")}": the sync '
                    "removes the disk and every file on it. Copy what it holds elsewhere "
                    "first, or keep the disk"
                ),
            )
        ]
    size_before, size_after = disk_before.get("sizeGB"), disk_after.get("sizeGB")
    if isinstance(size_before, int) and isinstance(size_after, int) and size_after < size_before:
        return [
            _problem(
                after,
                "M004",
                (*new.path, "disk", "sizeGB"),
                (
                    f'the disk of "{new.name}" shrinks from {size_before} to {size_after} '
                    "GB: Render can grow a disk, never shrink it, so the sync fails. Keep "
                    f"{size_before} GB, or move the data to a new service with a smaller disk"
                ),
            )
        ]
    return []


def _replica_names(resource: model.Resource) -> list[str]:
    replicas = resource.data.get("readReplicas")
    return (
        [r.get("name") for r in replicas if isinstance(r, dict)]
        if isinstance(replicas, list)
        else []
    )


def _replica_problems(after: Document, old: model.Resource, new: model.Resource) -> list[Problem]:
    if "readReplicas" not in new.data:  # left out: the sync leaves the replicas alone
        return []
    lost = [n for n in _replica_names(old) if n not in _replica_names(new)]
    if not lost:
        return []
    return [
        _problem(
            after,
            "M006",
            (*new.path, "readReplicas"),
            (
                f"the sync deletes the read replica(s) {', '.join(map(repr, lost))} of "
                f'"{new.name}" (the list is authoritative: a replica it does not name is '
                "removed, a renamed one is removed and made again); list them to keep them, "
                "or leave readReplicas out"
            ),
        )
    ]


def _filter_problems(after: Document, old: model.Resource, new: model.Resource) -> list[Problem]:
    before, now = old.data.get("buildFilter"), new.data.get("buildFilter")
    if not isinstance(before, dict):
        return []
    now = now if isinstance(now, dict) else {}
    found = []
    for key in ("paths", "ignoredPaths"):
        if before.get(key) and not now.get(key):
            at = (*new.path, "buildFilter") if "buildFilter" in new.data else new.path
            found.append(
                _problem(
                    after,
                    "M007",
                    at,
                    (
                        f'the sync clears the build filter\'s {key} of "{new.name}" (a sync '
                        "replaces both lists, and a missing one becomes empty): builds start "
                        f"on commits it ignored. Write {key} in full again"
                    ),
                )
            )
    return found


def _allow_list_problems(
    after: Document, old: model.Resource, new: model.Resource
) -> list[Problem]:
    def sources(resource: model.Resource) -> set[str] | None:
        entries = resource.data.get("ipAllowList")
        if not isinstance(entries, list):
            return None
        return {str(e.get("source")) for e in entries if isinstance(e, dict)}

    before, now = sources(old), sources(new)
    if before is None:
        return []
    opened = (now or set()) & (set(OPEN_TO_ALL) - before)
    # A database without a list is open to every address (render.com/docs/postgresql).
    dropped = now is None and new.kind == "database"
    if not opened and not dropped:
        return []
    return [
        _problem(
            after,
            "M008",
            (*new.path, "ipAllowList"),
            (
                f'"{new.name}" opens to every address (0.0.0.0/0): the sync lets any '
                "address on the internet connect (with its credentials). List the addresses "
                "that need it, or `[]` for the private network only"
            ),
        )
    ]


# --- prices ---------------------------------------------------------------------------------


def _plan_kind(resource: model.Resource) -> str | None:
    if resource.type in ("web", "pserv", "worker"):
        return "serverPlan"
    return {"keyvalue": "keyValuePlan", "postgres": "postgresPlan"}.get(resource.type)


def _plan_of(resource: model.Resource) -> str:
    """Its plan by its current name (a legacy name through its rename; none: the default)."""
    kind = _plan_kind(resource) or ""
    plan = resource.data.get("plan")
    if not (isinstance(plan, str) and plan):
        plan = prices.DEFAULTS.get(kind, plans.DEFAULT_COMPUTE_PLAN)
    return plans.replacement(kind, plan) or plan


def _instances(resource: model.Resource) -> int:
    scaling = resource.data.get("scaling")
    if isinstance(scaling, dict) and isinstance(scaling.get("minInstances"), int):
        return max(1, scaling["minInstances"])
    count = resource.data.get("numInstances")
    return count if isinstance(count, int) and count >= 1 else 1


def _price(resource: model.Resource) -> int | None:
    kind = _plan_kind(resource)
    if kind is None:
        return 0  # cron jobs (billed by the second they run), static sites, groups
    return prices.monthly(kind, resource.data.get("plan"), _instances(resource))


def _price_changed(entry: ResourcePlan) -> bool:
    return entry.monthly_before != entry.monthly_after


def _problem(document: Document, code: str, path: Path, message: str) -> Problem:
    line, column = document.position(path, at_key=True)
    return Problem(code, message, path, RULES[code].severity, line, column, document.file,
                   at_key=True)  # fmt: skip
