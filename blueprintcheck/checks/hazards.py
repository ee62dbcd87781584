"""What a sync would do that a blueprint's author rarely means (warnings, P codes), each
reported at the key that causes it with what the sync does and the fix. Sources: Render's
Blueprint specification (render.com/docs/blueprint-spec: a sync replaces a list it is
given, whole; `fromDatabase` and `fromService` keep credentials out of the file) and its
guidance on Blueprint mistakes (render-oss/skills, render-blueprints)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from blueprintcheck import model
from blueprintcheck.loader import Document
from blueprintcheck.rules import Finding, Severity, rule

W = Severity.WARNING

# A URL with a password in it: scheme://user:password@host (the user may be empty: Redis).
_URL_WITH_PASSWORD = re.compile(
    r"^(postgres(?:ql)?|rediss?|mysql|amqps?|mongodb(?:\+srv)?)://[^:@/\s]*:[^@/\s]+@", re.I
)
# API keys in formats their issuers document, recognisable on sight.
_API_KEYS = {
    "a SendGrid API key": re.compile(r"^SG\.[\w-]{16,}\.[\w-]{16,}$"),
    "a Render API key": re.compile(r"^rnd_[A-Za-z0-9]{20,}$"),
    "an AWS access key id": re.compile(r"^(AKIA|ASIA)[A-Z0-9]{16}$"),
    "a GitHub token": re.compile(r"^(ghp|gho|ghs|ghu|github_pat)_[A-Za-z0-9_]{20,}$"),
    "a Stripe secret key": re.compile(r"^(sk|rk)_live_[A-Za-z0-9]{16,}$"),
}


@rule(
    "P026",
    "empty-read-replicas",
    W,
    "`readReplicas: []`: a sync deletes every read replica the database has.",
    "Leave `readReplicas` out to keep the replicas as they are, or list the ones to keep.",
)
def empty_read_replicas(document: Document) -> Iterator[Finding]:
    for database in model.databases(document.data):
        if database.data.get("readReplicas") == []:
            yield Finding(
                (*database.path, "readReplicas"),
                f'readReplicas: [] on "{database.name}": the next sync deletes every read '
                "replica it has",
            )


@rule(
    "P027",
    "build-filter-one-list",
    W,
    "A `buildFilter` with `paths` and no `ignoredPaths` (or the reverse): a sync replaces "
    "both lists, so the one left out is cleared.",
    "Give both lists (`ignoredPaths: []` if none), so what the dashboard holds is what the "
    "file says.",
)
def build_filter_one_list(document: Document) -> Iterator[Finding]:
    for service in model.services(document.data):
        build_filter = service.data.get("buildFilter")
        if not isinstance(build_filter, dict):
            continue
        present = [key for key in ("paths", "ignoredPaths") if key in build_filter]
        if len(present) == 1:
            missing = "ignoredPaths" if present == ["paths"] else "paths"
            yield Finding(
                (*service.path, "buildFilter", present[0]),
                f'buildFilter of "{service.name}" gives {present[0]} without {missing}: a '
                f"sync replaces both lists, and clears {missing}",
                True,
            )


def _previews_on(document: Document, service: model.Resource) -> bool:
    top = document.data.get("previews")
    if isinstance(top, dict) and top.get("generation") in ("automatic", "manual"):
        return True
    if document.data.get("previewsEnabled") is True:
        return True
    own = service.data.get("previews")
    if isinstance(own, dict) and own.get("generation") in ("automatic", "manual"):
        return True
    return service.data.get("pullRequestPreviewsEnabled") is True


@rule(
    "P028",
    "branch-with-previews",
    W,
    "A service pins `branch` while pull-request previews are on: each preview deploys "
    "that branch, not the pull request's.",
    "Leave `branch` out (the Blueprint's own branch is used, and a preview's is its pull "
    "request's), or turn previews off for the service.",
)
def branch_with_previews(document: Document) -> Iterator[Finding]:
    for service in model.services(document.data):
        if "branch" in service.data and _previews_on(document, service):
            yield Finding(
                (*service.path, "branch"),
                f'"{service.name}" pins branch {service.data["branch"]!r} while pull-request '
                "previews are on: every preview deploys that branch, not the pull request's",
            )


@rule(
    "P029",
    "secret-in-value",
    W,
    "An environment variable's `value` holds a secret: a connection string with a password, "
    "or an API key in a recognisable format. It is in the repository, and in every clone.",
    "Use `fromDatabase` / `fromService` for connection strings, `sync: false` for keys "
    "(typed into the dashboard once), and rotate the secret that was committed.",
)
def secret_in_value(document: Document) -> Iterator[Finding]:
    for _, resource in model.all_resources(document.data):
        for path, entry in resource.env_entries():
            if not isinstance(entry.get("value"), str):
                continue
            value, key = entry["value"].strip(), entry.get("key", "?")
            what = None
            if _URL_WITH_PASSWORD.match(value):
                what = "a connection string with a password"
            else:
                what = next((name for name, shape in _API_KEYS.items() if shape.match(value)), None)
            if what:  # never the value itself
                yield Finding(
                    (*path, "value"),
                    f"{key} holds {what} in `value`, committed with the blueprint: use "
                    + ("fromDatabase / fromService" if "connection" in what else "sync: false"),
                )
