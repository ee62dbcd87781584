"""Render's rules that a schema cannot say (P codes)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from blueprintcheck import model
from blueprintcheck.loader import Document
from blueprintcheck.rules import Finding, Severity, rule
from servicespec import timeouts

E, W = Severity.ERROR, Severity.WARNING
SHUTDOWN_DELAY_RANGE = (1, timeouts.RENDER_MAX_SHUTDOWN_DELAY)
FREE_PLAN_TYPES = {"web", "keyvalue", "postgres"}
# A cron job's plan list has no `free`: the schema says so (S003), with the list it takes.
SCHEMA_SAYS_FREE = {"cron"}
PRIVATE_PROPERTIES = {"host", "port", "hostport", "connectionString", "connectionPoolString"}


def _services(document: Document) -> Iterator[model.Resource]:
    for _, resource in model.all_resources(document.data):
        if resource.kind == "service":
            yield resource


@rule(
    "P001",
    "health-check-not-web",
    E,
    "`healthCheckPath` on a service that is not a web "
    "service. Render health-checks web services only.",
    "Remove it; for a worker, see docs/DEPLOY.md (heartbeat) for another way to show it is alive.",
)
def health_check_not_web(document: Document) -> Iterator[Finding]:
    for service in _services(document):
        if "healthCheckPath" in service.data and service.type != "web":
            yield Finding(
                (*service.path, "healthCheckPath"),
                "healthCheckPath only applies to "
                f'web services; "{service.name}" is a {service.type} service',
                True,
            )


@rule(
    "P002",
    "shutdown-delay-range",
    E,
    "`maxShutdownDelaySeconds` is outside Render's range (1 to 300 seconds).",
    "Use a value from 1 to 300.",
)
def shutdown_delay_range(document: Document) -> Iterator[Finding]:
    low, high = SHUTDOWN_DELAY_RANGE
    for service in _services(document):
        delay = service.data.get("maxShutdownDelaySeconds")
        if isinstance(delay, int) and not isinstance(delay, bool) and not low <= delay <= high:
            yield Finding(
                (*service.path, "maxShutdownDelaySeconds"),
                f"maxShutdownDelaySeconds is {delay}; Render allows {low} to {high}",
            )


@rule(
    "P003",
    "invalid-scaling",
    E,
    "Autoscaling with `minInstances` above `maxInstances`, "
    "without a target (`targetCPUPercent` or `targetMemoryPercent`), or beside "
    "`numInstances`.",
    "Give min <= max and at least one target; drop numInstances.",
)
def invalid_scaling(document: Document) -> Iterator[Finding]:
    for service in _services(document):
        scaling = service.data.get("scaling")
        if not isinstance(scaling, dict):
            continue
        path = (*service.path, "scaling")
        low, high = scaling.get("minInstances"), scaling.get("maxInstances")
        if isinstance(low, int) and isinstance(high, int) and low > high:
            yield Finding(
                (*path, "minInstances"), f"minInstances ({low}) is above maxInstances ({high})"
            )
        if not ({"targetCPUPercent", "targetMemoryPercent"} & set(scaling)):
            yield Finding(path, "scaling needs targetCPUPercent or targetMemoryPercent")
        if "numInstances" in service.data:
            yield Finding(
                (*service.path, "numInstances"),
                "numInstances is ignored when scaling is set; remove one of them",
                True,
                Severity.WARNING,
            )


@rule(
    "P004",
    "key-value-without-ip-allow-list",
    E,
    "A Key Value has no `ipAllowList`; Render requires one.",
    "Add `ipAllowList: []` to allow only the private network (or list the "
    "sources allowed from outside).",
)
def key_value_without_ip_allow_list(document: Document) -> Iterator[Finding]:
    for service in _services(document):
        if service.type == "keyvalue" and "ipAllowList" not in service.data:
            yield Finding(
                service.path,
                f'Key Value "{service.name}" needs an ipAllowList; '
                "`ipAllowList: []` keeps it private",
            )


@rule(
    "P005",
    "resource-in-several-scopes",
    E,
    "A resource name is defined in more than one "
    "scope (the top level and an environment, or two environments).",
    "Define each resource once; a copy per environment needs its own name.",
)
def resource_in_several_scopes(document: Document) -> Iterator[Finding]:
    seen: dict[tuple[str, str], list[model.Resource]] = defaultdict(list)
    for _, resource in model.all_resources(document.data):
        seen[(resource.kind, resource.name)].append(resource)
    for (kind, name), resources in seen.items():
        scopes = {r.scope for r in resources}
        if len(scopes) > 1:
            for resource in resources[1:]:
                if resource.scope != resources[0].scope:
                    yield Finding(
                        (*resource.path, "name"),
                        f'{kind} "{name}" is also defined in {resources[0].scope}',
                    )


@rule(
    "P006",
    "free-plan-not-allowed",
    E,
    "`plan: free` on a resource type that has no free "
    "instance type (only web services, Key Value and PostgreSQL do).",
    "Use `starter` or a larger plan.",
)
def free_plan_not_allowed(document: Document) -> Iterator[Finding]:
    for _, resource in model.all_resources(document.data):
        if (
            resource.plan == "free"
            and resource.kind != "group"
            and resource.type not in FREE_PLAN_TYPES | SCHEMA_SAYS_FREE
        ):
            yield Finding(
                (*resource.path, "plan"),
                f'{resource.type} service "{resource.name}" cannot use the free plan',
            )


@rule(
    "P007",
    "pre-deploy-on-free-plan",
    E,
    "`preDeployCommand` on a free instance: Render "
    "runs pre-deploy commands only on paid instance types, so it never runs.",
    "Use a paid plan, or run the command at start (this project: MIGRATE_ON_START=true).",
)
def pre_deploy_on_free_plan(document: Document) -> Iterator[Finding]:
    for service in _services(document):
        if "preDeployCommand" in service.data and service.plan == "free":
            yield Finding(
                (*service.path, "preDeployCommand"),
                "preDeployCommand never runs on the free plan",
                True,
            )


@rule(
    "P008",
    "ip-allow-list-enterprise",
    W,
    "`ipAllowList` on a web or private service: available on Enterprise workspaces only.",
    "Remove it unless your workspace is Enterprise.",
)
def ip_allow_list_enterprise(document: Document) -> Iterator[Finding]:
    for service in _services(document):
        # Only where Render knows the type: an unknown one (valkey) is S003's to say.
        if "ipAllowList" in service.data and service.type in ("web", "pserv"):
            yield Finding(
                (*service.path, "ipAllowList"),
                f"ipAllowList on a {service.type} service needs an Enterprise workspace",
                True,
            )


@rule(
    "P009",
    "cross-region-private-network",
    E,
    "A service reaches another resource over "
    "the private network (host, port, connectionString) in a different region; Render's "
    "private network does not cross regions.",
    "Put both in the same `region:` (the default is oregon).",
)
def cross_region_private_network(document: Document) -> Iterator[Finding]:
    for scope, owner in model.all_resources(document.data):
        if owner.kind != "service":
            continue
        for path, entry in owner.env_entries():
            for key, kind in (("fromService", "service"), ("fromDatabase", "database")):
                ref = entry.get(key)
                prop = ref.get("property") if isinstance(ref, dict) else None
                if not isinstance(prop, str) or prop not in PRIVATE_PROPERTIES:
                    continue
                target = scope.find(kind, ref.get("name"))
                if target and target.region != owner.region:
                    yield Finding(
                        (*path, key),
                        f'"{owner.name}" ({owner.region}) reaches '
                        f'"{target.name}" ({target.region}) over the private network, '
                        "which works only within one region",
                    )
