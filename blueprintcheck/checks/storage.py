"""Disks and database storage (P codes): a disk pins a service to one instance, database
disk sizes, read replicas.

Sources: render.com/docs/disks ("a service with a disk can't scale to multiple
instances"; disks on paid instance types only), the official Blueprint schema's
`diskSizeGB` ("either 1 or a multiple of 5"), render.com/docs/postgresql-read-replicas
(at least 10 GB of storage, Basic-1gb or higher, or Standard or higher for a legacy
instance type; up to five replicas).
"""

from __future__ import annotations

from collections.abc import Iterator

from blueprintcheck import model
from blueprintcheck.loader import Document
from blueprintcheck.rules import Finding, Severity, rule
from servicespec import dbbudget

E = Severity.ERROR
MAX_READ_REPLICAS = 5
READ_REPLICA_MIN_DISK_GB = 10
# Read replicas need 1 GB of memory or more (Basic-1gb and up); among the legacy types,
# Standard and up.
READ_REPLICA_MIN_MEMORY_GB = 1
LEGACY_TOO_SMALL = {"free", "starter"}


def too_small_for_replicas(plan: str | None) -> bool:
    if plan is None:
        return False
    memory = dbbudget.memory_gb(plan)
    return plan in LEGACY_TOO_SMALL or (memory is not None and memory < READ_REPLICA_MIN_MEMORY_GB)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@rule(
    "P012",
    "disk-on-several-instances",
    E,
    "A service with a `disk` has `scaling` or `numInstances` above 1, or a free instance "
    "type. A disk belongs to one instance: Render cannot scale a service that has one, and "
    "disks need a paid instance type.",
    "Keep one instance (drop `scaling`, `numInstances: 1`) and a paid plan, or move the data "
    "off the disk (PostgreSQL, Key Value, object storage) to scale.",
)
def disk_on_several_instances(document: Document) -> Iterator[Finding]:
    for service in model.services(document.data):
        if "disk" not in service.data:
            continue
        instances = service.data.get("numInstances")
        if _is_int(instances) and instances > 1:
            yield Finding(
                (*service.path, "numInstances"),
                f'"{service.name}" has a disk, so it runs on one instance, not {instances}',
            )
        if "scaling" in service.data:
            yield Finding(
                (*service.path, "scaling"),
                f'"{service.name}" has a disk, so Render cannot scale it to more instances',
                True,
            )
        if service.plan == "free":
            yield Finding(
                (*service.path, "disk"),
                f'"{service.name}" is on the free plan; disks need a paid instance type',
                True,
            )


@rule(
    "P013",
    "database-disk-size",
    E,
    "A database's `diskSizeGB` (or `previewDiskSizeGB`) is neither 1 nor a multiple of 5.",
    "Round it up to the next multiple of 5.",
)
def database_disk_size(document: Document) -> Iterator[Finding]:
    for database in model.databases(document.data):
        for key in ("diskSizeGB", "previewDiskSizeGB"):
            size = database.data.get(key)
            if _is_int(size) and size > 1 and size % 5:
                yield Finding(
                    (*database.path, key),
                    f"{key} is {size}; Render takes 1 or a multiple of 5 (such as "
                    f"{size + 5 - size % 5})",
                )


@rule(
    "P014",
    "read-replica-requirements",
    E,
    "`readReplicas` on a database that cannot have them (an instance type below Basic-1gb, "
    "or below Standard for a legacy type; under 10 GB of storage), more than five of them, "
    "or two with one name.",
    "Use `plan: basic-1gb` or larger and `diskSizeGB: 10` or more; at most five replicas, "
    "each named once.",
)
def read_replica_requirements(document: Document) -> Iterator[Finding]:
    for database in model.databases(document.data):
        replicas = database.data.get("readReplicas")
        if not isinstance(replicas, list) or not replicas:
            continue
        path = (*database.path, "readReplicas")
        if too_small_for_replicas(database.plan):
            yield Finding(
                path,
                f'database "{database.name}" is on plan {database.plan}; read replicas need '
                "basic-1gb or larger",
                True,
            )
        size = database.data.get("diskSizeGB")
        if _is_int(size) and size < READ_REPLICA_MIN_DISK_GB:
            yield Finding(
                path,
                f'database "{database.name}" has {size} GB; read replicas need at least '
                f"{READ_REPLICA_MIN_DISK_GB} GB (diskSizeGB)",
                True,
            )
        if len(replicas) > MAX_READ_REPLICAS:
            yield Finding(
                (*path, MAX_READ_REPLICAS),
                f"{len(replicas)} read replicas; Render allows up to {MAX_READ_REPLICAS}",
            )
        seen: set[str] = set()
        for index, replica in enumerate(replicas):
            name = replica.get("name") if isinstance(replica, dict) else None
            if isinstance(name, str) and name in seen:
                yield Finding(
                    (*path, index, "name"),
                    f'two read replicas are named "{name}"; each needs its own name',
                )
            elif isinstance(name, str):
                seen.add(name)
