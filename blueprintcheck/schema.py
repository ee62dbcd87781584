"""This project's JSON Schema of the Render Blueprint spec, and its problems.

Written from Render's Blueprint YAML reference (render.com/docs/blueprint-spec): every
resource type, databases, environment groups, previews, projects and environments. It
differs from Render's published schema on purpose in three ways:

- service objects are chosen by their ``type`` (and ``runtime: static``) with if/then, so
  a mistake inside a service is reported there, not as "services is not allowed";
- deprecated spellings (``env``, ``type: redis``, ``autoDeploy``, ``previewsEnabled``...)
  are accepted here and reported as warnings by ``checks/deprecations.py``;
- rules that deserve a better message than a schema can give (shutdown delay range,
  Key Value ``ipAllowList``, scaling bounds, one value source per variable) are checks.
"""

from __future__ import annotations

import difflib
from functools import cache
from typing import TYPE_CHECKING, Any

from blueprintcheck.fastschema import compile_schema
from blueprintcheck.loader import Document
from blueprintcheck.problems import Problem

if TYPE_CHECKING:
    import jsonschema

REGIONS = ["oregon", "ohio", "virginia", "frankfurt", "singapore"]
RUNTIMES = ["docker", "elixir", "go", "image", "node", "python", "ruby", "rust", "static"]
PLANS = [
    "free", "starter", "standard", "pro", "pro plus", "pro max", "pro ultra",
    "basic-256mb", "basic-1gb", "basic-4gb",
    "pro-4gb", "pro-8gb", "pro-16gb", "pro-32gb", "pro-64gb", "pro-128gb", "pro-192gb",
    "pro-256gb", "pro-384gb", "pro-512gb",
    "accelerated-16gb", "accelerated-32gb", "accelerated-64gb", "accelerated-128gb",
    "accelerated-256gb", "accelerated-384gb", "accelerated-512gb", "accelerated-768gb",
    "accelerated-1024gb",
]  # fmt: skip
SERVICE_TYPES = ["web", "worker", "pserv", "cron", "keyvalue", "redis"]
REFERENCE_TYPES = ["web", "worker", "pserv", "cron", "static", "keyvalue", "redis"]
EVICTION_POLICIES = [
    "allkeys-lru", "volatile-lru", "allkeys-lfu", "volatile-lfu", "allkeys-random",
    "volatile-random", "volatile-ttl", "noeviction",
]  # fmt: skip
PREVIEW_GENERATION = ["automatic", "manual", "off"]
# Keys only a static site takes; elsewhere P015 says so (not S001's list of every key).
STATIC_SITE_FIELDS = ("routes", "headers", "staticPublishPath")
POSTGRES_VERSIONS = [str(v) for v in range(10, 19)]

STRING = {"type": "string"}
BOOLEAN = {"type": "boolean"}
INTEGER = {"type": "integer"}
STRINGS = {"type": "array", "items": STRING}
SCALAR = {"type": ["string", "number"]}  # a YAML true/false must be quoted


def _object(properties: dict, required: tuple[str, ...] = (), **extra: Any) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
        **extra,
    }


IP_ALLOW_LIST = {
    "type": "array",
    "items": _object({"source": STRING, "description": STRING}, ("source",)),
}
BUILD_FILTER = _object({"paths": STRINGS, "ignoredPaths": STRINGS})
REGISTRY_CREDENTIAL = _object(
    {"fromRegistryCreds": _object({"name": STRING}, ("name",))}, ("fromRegistryCreds",)
)
IMAGE = _object({"url": STRING, "creds": REGISTRY_CREDENTIAL}, ("url",))
DISK = _object(
    {"name": STRING, "mountPath": STRING, "sizeGB": {"type": "integer", "minimum": 1}},
    ("name", "mountPath"),
)

# One permissive shape for every variable: which value sources are combined, and whether
# a key is present, are reference checks (R008, R009) with messages a schema cannot give.
ENV_VAR = _object(
    {
        "key": STRING,
        "value": SCALAR,
        "generateValue": BOOLEAN,
        "sync": BOOLEAN,
        "previewValue": SCALAR,
        "fromGroup": STRING,
        "fromDatabase": _object({"name": STRING, "property": STRING}, ("name", "property")),
        "fromService": _object(
            {
                "name": STRING,
                "type": {"enum": REFERENCE_TYPES},
                "property": STRING,
                "envVarKey": STRING,
            },
            ("name", "type"),
        ),
    }
)
ENV_VARS = {"type": "array", "items": ENV_VAR}

COMMON = {
    "type": {"enum": SERVICE_TYPES},
    "name": STRING,
    "region": {"enum": REGIONS},
    "plan": {"enum": PLANS},
    "runtime": {"enum": RUNTIMES},
    "env": {"enum": RUNTIMES},  # deprecated spelling of runtime (D002)
    "repo": STRING,
    "branch": STRING,
    "rootDir": STRING,
    "envVars": ENV_VARS,
    "buildFilter": BUILD_FILTER,
    "autoDeploy": BOOLEAN,  # deprecated (D003)
    "autoDeployTrigger": {"enum": ["off", "commit", "checksPass"]},
}
BUILD = {
    "buildCommand": STRING,
    "startCommand": STRING,
    "dockerCommand": STRING,
    "dockerContext": STRING,
    "dockerfilePath": STRING,
    "registryCredential": REGISTRY_CREDENTIAL,
    "image": IMAGE,
}
SERVICE_PREVIEWS = _object(
    {
        "generation": {"enum": PREVIEW_GENERATION},
        "plan": {"enum": PLANS},
        "numInstances": {"type": "integer", "minimum": 1},
    }
)
SCALING = _object(
    {
        "minInstances": {"type": "integer", "minimum": 1},
        "maxInstances": {"type": "integer", "minimum": 1},
        "targetMemoryPercent": {"type": "integer", "minimum": 1, "maximum": 90},
        "targetCPUPercent": {"type": "integer", "minimum": 1, "maximum": 90},
    }
)
NEEDS_RUNTIME = {"if": {"not": {"required": ["env"]}}, "then": {"required": ["runtime"]}}

SERVER_SERVICE = _object(
    {
        **COMMON,
        **BUILD,
        "numInstances": {"type": "integer", "minimum": 1},
        "healthCheckPath": STRING,
        "scaling": SCALING,
        "preDeployCommand": STRING,
        "initialDeployHook": STRING,
        "domain": STRING,
        "domains": STRINGS,
        "disk": DISK,
        "previews": SERVICE_PREVIEWS,
        "pullRequestPreviewsEnabled": BOOLEAN,  # deprecated (D004)
        "previewPlan": {"enum": PLANS},  # deprecated (D004)
        "maxShutdownDelaySeconds": INTEGER,  # range: P002
        "ipAllowList": IP_ALLOW_LIST,
        "renderSubdomainPolicy": {"enum": ["enabled", "disabled"]},
    },
    ("type", "name"),
    **NEEDS_RUNTIME,
)

STATIC_SERVICE = _object(
    {
        **{k: v for k, v in COMMON.items() if k not in ("region", "plan")},
        "buildCommand": STRING,
        "staticPublishPath": STRING,
        "previews": _object({"generation": {"enum": PREVIEW_GENERATION}}),
        "pullRequestPreviewsEnabled": BOOLEAN,
        "headers": {
            "type": "array",
            "items": _object(
                {"path": STRING, "name": STRING, "value": STRING}, ("path", "name", "value")
            ),
        },
        "routes": {
            "type": "array",
            "items": _object(
                {
                    "type": {"enum": ["redirect", "rewrite"]},
                    "source": STRING,
                    "destination": STRING,
                },
                ("type", "source", "destination"),
            ),
        },
        "domain": STRING,
        "domains": STRINGS,
        "ipAllowList": IP_ALLOW_LIST,
        "renderSubdomainPolicy": {"enum": ["enabled", "disabled"]},
    },
    ("type", "name"),
)

CRON_SERVICE = _object(
    {**COMMON, **BUILD, "schedule": STRING}, ("type", "name", "schedule"), **NEEDS_RUNTIME
)

KEY_VALUE = _object(
    {
        "type": {"enum": SERVICE_TYPES},
        "name": STRING,
        "region": {"enum": REGIONS},
        "plan": {"enum": PLANS},
        "previewPlan": {"enum": PLANS},
        "ipAllowList": IP_ALLOW_LIST,  # required: P004
        "maxmemoryPolicy": {"enum": EVICTION_POLICIES},
    },
    ("type", "name"),
)


def _when(condition: dict, then: dict) -> dict:
    return {"if": condition, "then": then}


def _is(field: str, *values: str) -> dict:
    return {"properties": {field: {"enum": list(values)}}, "required": [field]}


def _is_static() -> dict:
    return {
        "allOf": [_is("type", "web"), {"anyOf": [_is("runtime", "static"), _is("env", "static")]}]
    }


SERVICE = {
    "type": "object",
    "required": ["type", "name"],
    "properties": {"type": {"enum": SERVICE_TYPES}, "name": STRING},
    "allOf": [
        _when(_is_static(), STATIC_SERVICE),
        _when(
            {"allOf": [_is("type", "web", "worker", "pserv"), {"not": _is_static()}]},
            SERVER_SERVICE,
        ),
        _when(_is("type", "cron"), CRON_SERVICE),
        _when(_is("type", "keyvalue", "redis"), KEY_VALUE),
    ],
}

DATABASE = _object(
    {
        "name": STRING,
        "databaseName": STRING,
        "user": STRING,
        "region": {"enum": REGIONS},
        "plan": {"enum": PLANS},
        "previewPlan": {"enum": PLANS},
        "diskSizeGB": {"type": "integer", "minimum": 1},
        "previewDiskSizeGB": {"type": "integer", "minimum": 1},
        "storageAutoscalingEnabled": BOOLEAN,
        "postgresMajorVersion": {
            "type": ["string", "integer"],
            "enum": [*POSTGRES_VERSIONS, *map(int, POSTGRES_VERSIONS)],
        },
        "highAvailability": _object({"enabled": BOOLEAN}, ("enabled",)),
        "ipAllowList": IP_ALLOW_LIST,
        "readReplicas": {"type": "array", "items": _object({"name": STRING}, ("name",))},
    },
    ("name",),
)

ENV_VAR_GROUP = _object({"name": STRING, "envVars": ENV_VARS}, ("name", "envVars"))

RESOURCES = {
    "services": {"type": "array", "items": SERVICE},
    "databases": {"type": "array", "items": DATABASE},
    "envVarGroups": {"type": "array", "items": ENV_VAR_GROUP},
}

ENVIRONMENT = _object(
    {
        "name": STRING,
        **RESOURCES,
        "networking": _object({"isolation": {"enum": ["enabled", "disabled"]}}),
        "permissions": _object({"protection": {"enum": ["enabled", "disabled"]}}),
    },
    ("name",),
)

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Render Blueprint (render.yaml), as checked by blueprintcheck",
    **_object(
        {
            **RESOURCES,
            "projects": {
                "type": "array",
                "items": _object(
                    {"name": STRING, "environments": {"type": "array", "items": ENVIRONMENT}},
                    ("name", "environments"),
                ),
            },
            "ungrouped": _object(RESOURCES),
            "previews": _object(
                {
                    "generation": {"enum": PREVIEW_GENERATION},
                    "expireAfterDays": {"type": "integer", "minimum": 1},
                }
            ),
            "previewsEnabled": BOOLEAN,  # deprecated (D004)
            "previewsExpireAfterDays": {"type": "integer", "minimum": 1},  # deprecated (D004)
            "version": {"enum": ["1"]},
        }
    ),
}

_VALID = compile_schema(SCHEMA)


@cache
def validator() -> jsonschema.Draft202012Validator:
    """jsonschema, imported only to say what is wrong: its import costs more than the rest
    of a check of a small blueprint, and most blueprints checked are valid."""
    import jsonschema

    return jsonschema.Draft202012Validator(SCHEMA)


def check_schema(document: Document) -> list[Problem]:
    if _VALID(document.data):
        return []
    problems = []
    for error in validator().iter_errors(document.data):
        problems.extend(_translate(error, document))
    return problems


def _translate(error: jsonschema.ValidationError, document: Document) -> list[Problem]:
    path = tuple(error.absolute_path)
    where = _describe(path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        problems = []
        unexpected = set(error.instance) - set(allowed)
        if len(path) >= 2 and path[-2] == "services":
            unexpected -= set(STATIC_SITE_FIELDS)
        for key in sorted(unexpected, key=str):
            line, column = document.position((*path, key), at_key=True)
            problems.append(
                Problem(
                    "S001",
                    f'unexpected key "{key}" in {where}; {_suggest(str(key), allowed)}',
                    path=(*path, key),
                    line=line,
                    column=column,
                    at_key=True,
                )
            )
        return problems
    line, column = document.position(path)
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return [
            Problem(
                "S004",
                f'missing required key "{missing}" in {where}',
                path=path,
                line=line,
                column=column,
            )
        ]
    if error.validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return [
            Problem(
                "S002",
                f"{where} must be {_article(expected)}, not "
                f"{_type_name(error.instance)} {_quote(error.instance)}",
                path=path,
                line=line,
                column=column,
            )
        ]
    if error.validator in ("enum", "const"):
        allowed = error.validator_value if error.validator == "enum" else [error.validator_value]
        allowed = [a for a in allowed if isinstance(a, str)] or allowed
        return [
            Problem(
                "S003",
                f"invalid {where} {_quote(error.instance)}; "
                f"{_suggest(str(error.instance), [str(a) for a in allowed])}",
                path=path,
                line=line,
                column=column,
            )
        ]
    return [Problem("S005", f"{where}: {error.message}", path=path, line=line, column=column)]


def _describe(path: tuple) -> str:
    from blueprintcheck.problems import format_path

    return f"`{format_path(path)}`" if path else "the top level"


def _suggest(value: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(value, allowed, n=1, cutoff=0.6)
    if not close:
        close = [a for a in allowed if a.lower() == value.lower()]
    expected = "expected one of: " + ", ".join(f'"{a}"' for a in allowed)
    if close:
        return f'did you mean "{close[0]}"? ({expected})'
    return expected


def _quote(value: Any) -> str:
    text = str(value)
    return f'"{text[:40]}{"..." if len(text) > 40 else ""}"'


def _type_name(value: Any) -> str:
    return {
        dict: "a mapping",
        list: "a list",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        type(None): "empty",
    }.get(type(value), "a value")


def _article(name: str) -> str:
    return {"object": "a mapping", "array": "a list", "integer": "an integer"}.get(
        name, f"a {name}"
    )
