"""Spellings Render still syncs but has replaced (D codes, warnings; errors with --strict)."""

from __future__ import annotations

from collections.abc import Iterator

from blueprintcheck import model, plans
from blueprintcheck.loader import Document
from blueprintcheck.rules import Finding, Severity, rule

W = Severity.WARNING


@rule(
    "D001",
    "type-redis",
    W,
    "`type: redis` is the old name of Key Value.",
    "Write `type: keyvalue` (also in `fromService.type`).",
)
def type_redis(document: Document) -> Iterator[Finding]:
    for _, resource in model.all_resources(document.data):
        if resource.kind == "service" and resource.data.get("type") == "redis":
            yield Finding(
                (*resource.path, "type"), "`type: redis` is deprecated; use `type: keyvalue`"
            )
        for path, entry in resource.env_entries():
            ref = entry.get("fromService")
            if isinstance(ref, dict) and ref.get("type") == "redis":
                yield Finding(
                    (*path, "fromService", "type"),
                    "`type: redis` is deprecated; use `type: keyvalue`",
                )


@rule(
    "D002",
    "env-for-runtime",
    W,
    "`env:` is the old name of `runtime:`.",
    "Rename `env:` to `runtime:` (same values).",
)
def env_for_runtime(document: Document) -> Iterator[Finding]:
    for _, resource in model.all_resources(document.data):
        if resource.kind == "service" and "env" in resource.data:
            if "runtime" in resource.data:
                said = "`env:` is deprecated, and runtime is also set: remove env"
            else:  # the schema's S004 says runtime is missing: this says what to write
                said = (
                    "`env:` is deprecated and no longer stands in for `runtime`, which "
                    f"Render requires: write `runtime: {resource.data['env']}`"
                )
            yield Finding((*resource.path, "env"), said, True)


@rule(
    "D003",
    "auto-deploy",
    W,
    "`autoDeploy` is replaced by `autoDeployTrigger`.",
    "`autoDeploy: true` becomes `autoDeployTrigger: commit`, `false` becomes `off`.",
)
def auto_deploy(document: Document) -> Iterator[Finding]:
    for _, resource in model.all_resources(document.data):
        if resource.kind == "service" and "autoDeploy" in resource.data:
            modern = "commit" if resource.data["autoDeploy"] is True else "off"
            yield Finding(
                (*resource.path, "autoDeploy"),
                f"`autoDeploy` is deprecated; use `autoDeployTrigger: {modern}`",
                True,
            )


@rule(
    "D004",
    "old-previews",
    W,
    "Old preview settings: `previewsEnabled`, "
    "`previewsExpireAfterDays`, `pullRequestPreviewsEnabled`, a service's `previewPlan`.",
    "Use `previews.generation`, `previews.expireAfterDays` and a service's `previews.plan`.",
)
def old_previews(document: Document) -> Iterator[Finding]:
    modern = {
        "previewsEnabled": "previews.generation: automatic (or manual/off)",
        "previewsExpireAfterDays": "previews.expireAfterDays",
    }
    for key, replacement in modern.items():
        if key in document.data:
            yield Finding((key,), f"`{key}` is deprecated; use `{replacement}`", True)
    for _, resource in model.all_resources(document.data):
        if resource.kind != "service":
            continue
        if "pullRequestPreviewsEnabled" in resource.data:
            yield Finding(
                (*resource.path, "pullRequestPreviewsEnabled"),
                "`pullRequestPreviewsEnabled` is deprecated; use `previews.generation`",
                True,
            )
        if "previewPlan" in resource.data and resource.type != "keyvalue":
            yield Finding(
                (*resource.path, "previewPlan"),
                "`previewPlan` is deprecated; use `previews.plan`",
                True,
            )


def _plan_fields(resource: model.Resource) -> Iterator[tuple[tuple, object]]:
    for key in ("plan", "previewPlan"):
        if key in resource.data:
            yield (*resource.path, key), resource.data[key]
    previews = resource.data.get("previews")
    if isinstance(previews, dict) and "plan" in previews:
        yield (*resource.path, "previews", "plan"), previews["plan"]


@rule(
    "D005",
    "legacy-plan-name",
    W,
    "A legacy instance type (`starter`, `standard`, `pro`, `pro plus`, `pro max`, "
    "`pro ultra`). Render renamed its compute plans in 2026 after what they are "
    "(`0.5c-512mb`, `1c-2g`...; Key Value by memory: `256mb`, `1g`...); the old names still "
    "sync. PostgreSQL's legacy types have no one-to-one successor.",
    "Write the new name the message gives (`--fix` does it); for PostgreSQL, choose a "
    "current plan (`basic-*`, `pro-*`, `accelerated-*`, or `0.1c-256mb` and up).",
)
def legacy_plan_name(document: Document) -> Iterator[Finding]:
    for _, resource in model.all_resources(document.data):
        kind = plans.KIND_OF.get(resource.type)
        if kind is None:
            continue
        for path, plan in _plan_fields(resource):
            if not isinstance(plan, str) or not plans.is_legacy(kind, plan):
                continue
            new = plans.replacement(kind, plan)
            if new:
                message = f'"{plan}" is a legacy plan name; Render now calls it "{new}"'
            else:
                message = (
                    f'"{plan}" is a legacy PostgreSQL instance type; choose a current plan '
                    "(basic-*, pro-*, accelerated-*, or 0.1c-256mb and up)"
                )
                message += _mixed_families(resource, path[-1])
            yield Finding(path, message)


def _mixed_families(database: model.Resource, key: str) -> str:
    """Render's guidance (Blueprint mistakes, 6): a database's `plan` and `previewPlan` in
    one family, legacy or current, or its preview databases may fail to deploy."""
    other = {"plan": "previewPlan", "previewPlan": "plan"}.get(key)
    value = database.data.get(other) if other else None
    if not isinstance(value, str) or value in plans.LEGACY_POSTGRES:
        return ""
    return (
        f"; with {other} {value!r}, a current plan, the two are of different families and "
        "preview databases may fail to deploy"
    )
