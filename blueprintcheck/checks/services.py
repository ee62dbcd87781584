"""What one service's kind allows (P codes): an image or a build, a health check path, the
fields only static sites take, their routes, a workflow's build, maintenance mode and the
onrender.com subdomain.

Sources: render.com/docs/blueprint-spec (service fields, static site fields),
render.com/docs/deploying-an-image, render.com/docs/health-checks,
render.com/docs/redirects-rewrites, render.com/docs/workflows (a workflow service is built
from its repository with a build command, then its start command runs the task runner),
render.com/docs/maintenance-mode (web services on a paid instance type), and the official
schema's ``maintenanceMode`` ("requires a paid web service instance"; ``uri``: an absolute
URL) and ``renderSubdomainPolicy`` ("only applies to web services and static sites").
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from blueprintcheck import model, plans
from blueprintcheck.loader import Document
from blueprintcheck.rules import Finding, Severity, rule
from blueprintcheck.schema import STATIC_SITE_FIELDS

E, W = Severity.ERROR, Severity.WARNING
BUILD_FIELDS = ("dockerfilePath", "dockerContext", "buildCommand")


def _runtime(service: model.Resource) -> object:
    return service.data.get("runtime", service.data.get("env"))


@rule(
    "P010",
    "image-with-build",
    E,
    "A service both pulls a prebuilt `image` and builds from the repository "
    "(`dockerfilePath`, `dockerContext`, `buildCommand`), or its "
    "`runtime` does not match: Render deploys one or the other.",
    "A prebuilt image: `runtime: image` and `image.url`, no build fields. A build from the "
    "repository: remove `image`.",
)
def image_with_build(document: Document) -> Iterator[Finding]:
    for service in model.services(document.data):
        runtime = _runtime(service)
        if "image" not in service.data:
            if runtime == "image":
                yield Finding(
                    (*service.path, "runtime"),
                    f'"{service.name}" has `runtime: image` but no `image` to pull; '
                    "add `image: {url: ...}` or choose the runtime it is built with",
                )
            continue
        for field in BUILD_FIELDS:
            if field in service.data:
                yield Finding(
                    (*service.path, field),
                    f'"{service.name}" pulls a prebuilt image, so `{field}` does nothing: '
                    "Render deploys either an image or a build of the repository",
                    True,
                )
        if runtime is not None and runtime != "image":
            key = "runtime" if "runtime" in service.data else "env"
            yield Finding(
                (*service.path, key),
                f'"{service.name}" pulls a prebuilt image, so its runtime is `image`, '
                f"not `{runtime}`",
            )


@rule(
    "P011",
    "relative-health-check-path",
    E,
    "`healthCheckPath` does not start with `/`: Render requests it as a path on the "
    "service's own host.",
    "Write the path from the root, such as `/healthz`.",
)
def relative_health_check_path(document: Document) -> Iterator[Finding]:
    for service in model.services(document.data):
        path = service.data.get("healthCheckPath")
        if isinstance(path, str) and not path.startswith("/"):
            yield Finding(
                (*service.path, "healthCheckPath"),
                f"healthCheckPath {path!r} must start with /: write {'/' + path.lstrip('./')!r}",
            )


@rule(
    "P015",
    "static-site-field-elsewhere",
    E,
    "`runtime: static`, `routes`, `headers` or `staticPublishPath` on a service that is "
    "not a static site. Only a `type: web` service with `runtime: static` is one.",
    "For a static site, write `type: web` and `runtime: static`; otherwise remove the "
    "static site's fields (a server sets its own headers and redirects).",
)
def static_site_field_elsewhere(document: Document) -> Iterator[Finding]:
    for service in model.services(document.data):
        if service.type == "static":
            continue
        if _runtime(service) == "static":
            key = "runtime" if "runtime" in service.data else "env"
            yield Finding(
                (*service.path, key),
                f'"{service.name}" is a {service.type} service; only `type: web` can be a '
                "static site (`runtime: static`)",
            )
        for field in STATIC_SITE_FIELDS:
            if field in service.data:
                yield Finding(
                    (*service.path, field),
                    f'`{field}` is a static site\'s; "{service.name}" is a {service.type} service',
                    True,
                )


@rule(
    "P017",
    "duplicate-route",
    W,
    "A static site lists two routes for the same `source`. Render applies the first "
    "route that matches, so the second never applies.",
    "Keep one route per source (the first one listed is the one in effect).",
)
def duplicate_route(document: Document) -> Iterator[Finding]:
    for service in model.services(document.data):
        routes = service.data.get("routes")
        if service.type != "static" or not isinstance(routes, list):
            continue
        first: dict[str, int] = {}
        for index, route in enumerate(routes):
            source = route.get("source") if isinstance(route, dict) else None
            if not isinstance(source, str):
                continue
            if source in first:
                yield Finding(
                    (*service.path, "routes", index, "source"),
                    f"routes[{first[source]}] already matches {source!r}; this route never applies",
                )
            else:
                first[source] = index


@rule(
    "P018",
    "workflow-without-build-command",
    E,
    "A workflow (`type: workflow`) has no `buildCommand`. A workflow runs on a native runtime "
    "(node or python) and is built from its repository like any native service: without a "
    "build command nothing installs its dependencies, and Render refuses it.",
    "Add the command that installs the workflow's dependencies, such as "
    "`pip install -r requirements.txt` or `npm ci`.",
)
def workflow_without_build_command(document: Document) -> Iterator[Finding]:
    for service in model.services(document.data):
        if service.type == "workflow" and "buildCommand" not in service.data:
            yield Finding(
                service.path,
                f'workflow "{service.name}" has no buildCommand; add the command that installs '
                "its dependencies (pip install -r requirements.txt, npm ci...)",
            )


@rule(
    "P021",
    "maintenance-mode",
    E,
    "`maintenanceMode` on a service that is not a web service, or on a free web service "
    "(Render serves a maintenance page for paid web services only), or a `uri` that is not "
    "an absolute http(s) URL.",
    "Keep `maintenanceMode` on a paid web service; give `uri` as https://... or leave it out "
    "for Render's own page.",
)
def maintenance_mode(document: Document) -> Iterator[Finding]:
    for service in model.services(document.data):
        mode = service.data.get("maintenanceMode")
        if mode is None:
            continue
        path = (*service.path, "maintenanceMode")
        if service.type != "web":
            yield Finding(
                path,
                f'maintenanceMode applies to web services; "{service.name}" is a '
                f"{service.type} service",
                True,
            )
        elif service.plan == plans.FREE:
            yield Finding(
                path,
                f'"{service.name}" is on the free plan; maintenance mode needs a paid '
                "instance type",
                True,
            )
        uri = mode.get("uri") if isinstance(mode, dict) else None
        if isinstance(uri, str):
            parts = urlsplit(uri)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                yield Finding(
                    (*path, "uri"),
                    f'maintenanceMode.uri "{uri}" must be an absolute URL (https://...)',
                )


@rule(
    "P022",
    "render-subdomain-policy",
    W,
    "`renderSubdomainPolicy: disabled` on a service with no custom domain in the blueprint "
    "(`domain`, `domains`): nothing reaches it until one is added (Render accepts the file; "
    "custom domains are often added in the dashboard). On a worker or private service it "
    "does nothing: only web services and static sites have an onrender.com subdomain.",
    "Add the custom domain the service is reached at, or keep the subdomain enabled.",
)
def render_subdomain_policy(document: Document) -> Iterator[Finding]:
    for service in model.services(document.data):
        policy = service.data.get("renderSubdomainPolicy")
        if policy is None:
            continue
        path = (*service.path, "renderSubdomainPolicy")
        if service.type not in ("web", "static"):
            yield Finding(
                path,
                f'"{service.name}" is a {service.type} service, which has no onrender.com '
                "subdomain: renderSubdomainPolicy does nothing here",
                True,
                Severity.WARNING,
            )
        elif policy == "disabled" and not (
            service.data.get("domain") or service.data.get("domains")
        ):
            yield Finding(
                path,
                f'"{service.name}" disables its onrender.com subdomain and the blueprint gives '
                "it no custom domain: nothing reaches it until one is added in the dashboard",
            )
