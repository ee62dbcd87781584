"""What one service's kind allows (P codes): an image or a build, a health check path, the
fields only static sites take, their routes.

Sources: render.com/docs/blueprint-spec (service fields, static site fields),
render.com/docs/deploying-an-image, render.com/docs/health-checks,
render.com/docs/redirects-rewrites.
"""

from __future__ import annotations

from collections.abc import Iterator

from blueprintcheck import model
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
