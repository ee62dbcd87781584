"""This project's JSON Schema of the Render Blueprint spec, built from Render's own.

Every field, every value list and every required list comes from Render's official
schema, vendored in ``blueprintcheck/data/`` and read through ``official.py``: when Render
adds a field or a plan, replacing that file is the whole update. What differs from the
official schema is the structure, on purpose, so that a problem is reported where it is
and in words a person can act on:

- a service is checked against its kind, chosen by ``type`` (and ``runtime: static``)
  with if/then, rather than "not valid under any of the given schemas";
- a variable has one shape, the union of Render's four (``value``, ``fromDatabase``,
  ``fromService``, ``fromGroup``): which sources it combines is R008/R009's to say, and the
  property a reference names is R004's, against what its target offers;
- deprecated spellings Render still syncs (``env``, ``type: redis``, ``autoDeploy``...)
  are accepted here and reported as warnings by ``checks/deprecations.py``;
- every mapping is closed to keys Render does not document there (the official schema
  leaves a few open: ``fromService``, ``ipAllowList`` entries, headers, routes), since a
  key Render ignores is a typo that silently does nothing;
- a YAML integer ``postgresMajorVersion: 16`` is accepted like the string ``"16"``;
- rules that deserve a message a schema cannot give are checks: the shutdown delay's
  range (P002), Key Value's ``ipAllowList`` (P004), what a service linked to a build
  source may not set (P019) and a build source's Docker-only fields (P020).

Anything else in Render's schema that this module does not know how to translate stops
the validator with a message naming it (``SchemaChange``), so a new construct in Render's
next schema is noticed by the tests, never silently dropped.
"""

from __future__ import annotations

import difflib
from functools import cache
from typing import TYPE_CHECKING, Any

from blueprintcheck import official, plans
from blueprintcheck.fastschema import compile_schema
from blueprintcheck.loader import Document
from blueprintcheck.problems import Problem, Severity

if TYPE_CHECKING:
    import jsonschema

STRING = {"type": "string"}
INTEGER = {"type": "integer"}
# Keys only a static site takes; elsewhere P015 says so (not S001's list of every key).
STATIC_SITE_FIELDS = ("routes", "headers", "staticPublishPath")
ANNOTATIONS = {"description", "default", "deprecated", "format", "title", "$id", "$schema"}
# Definitions whose allOf/if conditions are checks here, with the code that states them.
CONDITIONS_AS_CHECKS = {"serverService": "P019", "buildSourceGit": "P020"}


class SchemaChange(official.InstallationError):
    """Render's schema uses something this module does not translate."""


# Marks a mapping Render's schema leaves open, closed here: a key Render does not document
# there is a likely typo that silently does nothing, but Render accepts the file, so it is
# a warning (S001's severity), not an error. (An unknown keyword: jsonschema ignores it.)
OPEN_IN_RENDER = "x-open-in-render"


def _shape(schema: Any, where: str) -> dict:
    """One of Render's sub-schemas in the validator's dialect: ``$ref`` followed,
    annotations dropped, ``const`` as a one-value ``enum``, mappings closed."""
    schema = official.resolve(schema)
    if not isinstance(schema, dict):
        raise SchemaChange(
            f"Render's schema has {schema!r} at {where}; the validator reads mappings"
        )
    shaped: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ANNOTATIONS:
            continue
        if key == "const":
            shaped["enum"] = [value]
        elif key in ("type", "enum", "minimum", "maximum", "required"):
            shaped[key] = value
        elif key == "additionalProperties" and value is False:
            shaped[key] = False
        elif key == "properties":
            shaped[key] = {k: _shape(v, f"{where}.{k}") for k, v in value.items()}
        elif key == "items":
            shaped[key] = _shape(value, f"{where}[]")
        elif key == "anyOf" and all(set(b) == {"type"} for b in value):
            shaped["type"] = [b["type"] for b in value]  # string or number
        elif key in ("anyOf", "oneOf") and all(set(b) == {"required"} for b in value):
            shaped[key] = value  # "needs paths or ignoredPaths", "exactly one of git, image"
        elif key == "allOf" and where in CONDITIONS_AS_CHECKS:
            continue
        else:
            raise SchemaChange(
                f"Render's schema uses `{key}` at {where}, which blueprintcheck/schema.py does "
                "not translate: translate it there, or state it as a check"
            )
    if "properties" in shaped:
        shaped.setdefault("type", "object")
        if shaped.get("additionalProperties") is not False:
            shaped[OPEN_IN_RENDER] = True
        shaped["additionalProperties"] = False
    return shaped


def _kind(name: str, *, required: tuple[str, ...] | None = None, **fields: Any) -> dict:
    """A definition of Render's schema, its own fields replaced by ``fields`` where given
    (a value of ``None`` adds nothing, any other value adds or replaces a field)."""
    definition = official.definition(name)
    shaped = _shape({k: v for k, v in definition.items() if k != "properties"}, name)
    properties = {
        key: fields[key] if key in fields else _shape(value, f"{name}.{key}")
        for key, value in definition.get("properties", {}).items()
    }
    properties.update({k: v for k, v in fields.items() if k not in properties and v is not None})
    if definition.get("additionalProperties") is not False:
        shaped[OPEN_IN_RENDER] = True
    shaped.update(type="object", properties=properties, additionalProperties=False)
    if required is not None:
        shaped["required"] = list(required)
    return shaped


def _when(condition: dict, then: dict) -> dict:
    return {"if": condition, "then": then}


def _is(field: str, *values: Any) -> dict:
    return {"properties": {field: {"enum": list(values)}}, "required": [field]}


def _runtime(values: list[Any]) -> dict:
    """``runtime`` is one of ``values``, or its deprecated spelling ``env`` is."""
    return {"anyOf": [_is("runtime", *values), _is("env", *values)]}


def _needs_runtime(unless: str) -> dict:
    """``runtime`` is required unless ``unless`` is set. ``env``, its old name, is no
    excuse: Render's schema requires ``runtime`` whatever else is there (D002: rename)."""
    return _when({"not": {"required": [unless]}}, {"required": ["runtime"]})


def _env_var() -> dict:
    """One shape for every variable: the union of the fields of Render's four."""
    properties: dict[str, Any] = {}
    for branch in official.definition("envVar")["anyOf"]:
        name = branch["$ref"].rsplit("/", 1)[-1]
        for key, value in official.definition(name).get("properties", {}).items():
            properties.setdefault(key, _shape(value, f"{name}.{key}"))
    for reference in ("fromDatabase", "fromService"):
        properties[reference]["properties"]["property"] = STRING  # R004: what the target offers
    return {"type": "object", "properties": properties, "additionalProperties": False}


def _service_kinds(env_vars: dict) -> list[tuple[dict, dict]]:
    """(when a service is of this kind, what the kind allows) for every kind of service in
    Render's schema. A kind whose ``runtime`` is fixed (a static site) is told apart by it;
    the others sharing its ``type`` are the rest of that type."""
    runtimes = official.values(official.definition("runtime"))
    names = official.service_definitions()
    types = {n: official.values(official.properties(n)["type"]) for n in names}
    fixed = {
        n: official.values(official.properties(n)["runtime"])
        for n in names
        if "const" in official.properties(n).get("runtime", {})
    }
    kinds = []
    for name in names:
        fields = official.properties(name)
        condition = _is("type", *types[name])
        if name in fixed:
            condition = {"allOf": [condition, _runtime(fixed[name])]}
        else:
            sharing = [
                {"allOf": [_is("type", *types[o]), _runtime(fixed[o])]}
                for o in fixed
                if set(types[o]) & set(types[name])
            ]
            if sharing:
                condition = {"allOf": [condition, {"not": {"anyOf": sharing}}]}
        old_spellings = "autoDeploy" in fields  # a kind older than 2026: it had `env:`
        required = [k for k in official.required(name) if k not in ("runtime", "ipAllowList")]
        shape = _kind(
            name,
            required=tuple(required),
            envVars=env_vars if "envVars" in fields else None,
            maxShutdownDelaySeconds=INTEGER if "maxShutdownDelaySeconds" in fields else None,
            env={"enum": runtimes} if old_spellings and "runtime" in fields else None,
        )
        if "buildSource" in fields:
            shape.update(_needs_runtime("buildSource"))
        elif "runtime" in official.required(name):
            shape["required"].append("runtime")
        kinds.append((condition, shape))
    return kinds


_COMPOSED_KEYS = {"type", "description", "properties", "required", "allOf", "$ref", "title",
                  "unevaluatedProperties", "$schema", "$id", "definitions"}  # fmt: skip


def _composed(schema: dict, where: str, resources: dict, **fields: Any) -> dict:
    """A mapping Render composes with ``allOf`` from ``resources`` and fields of its own
    (the top level, ``ungrouped``, an environment), as one closed mapping."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for part in [schema, *schema.get("allOf", [])]:
        if set(part) - _COMPOSED_KEYS:
            raise SchemaChange(
                f"Render's schema uses {sorted(set(part) - _COMPOSED_KEYS)} at {where}, which "
                "blueprintcheck/schema.py does not translate"
            )
        if part.get("$ref", "").endswith("/resources"):
            properties.update(resources)
            continue
        for key, value in part.get("properties", {}).items():
            properties[key] = fields[key] if key in fields else _shape(value, f"{where}.{key}")
        required += part.get("required", [])
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _array(item: dict) -> dict:
    return {"type": "array", "items": item}


@cache
def schema() -> dict[str, Any]:
    """The validator's schema, built from Render's once per process."""
    env_vars = _array(_env_var())
    kinds = _service_kinds(env_vars)
    types: list[str] = []
    for condition, _ in kinds:
        types += [t for t in _types_of(condition) if t not in types]
    service = {
        "type": "object",
        "required": ["type", "name"],
        "properties": {"type": {"enum": types}, "name": STRING},
        "allOf": [_when(condition, shape) for condition, shape in kinds],
    }
    versions = official.values(official.properties("database")["postgresMajorVersion"])
    database = _kind(
        "database",
        postgresMajorVersion={
            "type": ["string", "integer"],
            "enum": [*versions, *map(int, versions)],
        },
    )
    items = {"services": service, "databases": database,
             "envVarGroups": _kind("envVarGroup", envVars=env_vars)}  # fmt: skip
    unknown = set(official.properties("resources")) - set(items)
    if unknown:
        raise SchemaChange(f"Render's schema has new resources {sorted(unknown)}: add them here")
    resources = {key: _array(items[key]) for key in official.properties("resources")}
    build_sources = _array(_kind("buildSource", git=_kind("buildSourceGit", envVars=env_vars)))
    environment = _composed(official.definition("environment"), "environment", resources)
    root = official.document()
    ungrouped = official.root_properties()["ungrouped"]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Render Blueprint ({official.VERSION}), as checked by blueprintcheck",
        **_composed(
            root,
            "the top level",
            resources,
            buildSources=build_sources,
            projects=_array(
                _kind("project", environments=_array(environment), buildSources=build_sources)
            ),
            ungrouped=_composed(ungrouped, "ungrouped", resources, buildSources=build_sources),
        ),
    }


def _types_of(condition: dict) -> list[str]:
    """The service types a dispatch condition names first."""
    if "allOf" in condition:
        return _types_of(condition["allOf"][0])
    return list(condition["properties"]["type"]["enum"])


def service_types() -> list[str]:
    """Every ``type`` a service may have, the deprecated ``redis`` included."""
    return list(schema()["properties"]["services"]["items"]["properties"]["type"]["enum"])


@cache
def _is_valid() -> Any:
    return compile_schema(schema())


@cache
def validator() -> jsonschema.Draft202012Validator:
    """jsonschema, imported only to say what is wrong: its import costs more than the rest
    of a check of a small blueprint, and most blueprints checked are valid."""
    import jsonschema

    return jsonschema.Draft202012Validator(schema())


def check_schema(document: Document) -> list[Problem]:
    if _is_valid()(document.data):
        return []
    problems = []
    for error in validator().iter_errors(document.data):
        problems.extend(_translate(error, document))
    return problems


def _translate(error: jsonschema.ValidationError, document: Document) -> list[Problem]:
    path = tuple(error.absolute_path)
    where = _describe(path, error.instance if error.validator == "additionalProperties" else None)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        problems = []
        unexpected = set(error.instance) - set(allowed)
        if len(path) >= 2 and path[-2] == "services":
            unexpected -= set(STATIC_SITE_FIELDS)
        for key in sorted(unexpected, key=str):
            line, column = document.position((*path, key), at_key=True)
            open_in_render = bool(error.schema.get(OPEN_IN_RENDER))
            ignored = " (Render accepts and ignores it: a likely typo)" if open_in_render else ""
            problems.append(
                Problem(
                    "S001",
                    f'unexpected key "{key}" in {where}{ignored}; {_suggest(str(key), allowed)}',
                    path=(*path, key),
                    severity=Severity.WARNING if open_in_render else Severity.ERROR,
                    line=line,
                    column=column,
                    at_key=True,
                )
            )
        return problems
    line, column = document.position(path)

    def problem(code: str, message: str) -> list[Problem]:
        return [Problem(code, message, path=path, line=line, column=column)]

    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return problem("S004", f'missing required key "{missing}" in {where}')
    if error.validator in ("anyOf", "oneOf") and _only_required(error.validator_value):
        names = [b["required"][0] for b in error.validator_value]
        given = [n for n in names if isinstance(error.instance, dict) and n in error.instance]
        if len(given) > 1:
            return problem("S005", f"{where} sets {_either(given, 'and')}; keep exactly one")
        one = "exactly one of" if error.validator == "oneOf" else "one of"
        return problem("S004", f"{where} needs {one} {_either(names, 'or')}")
    if error.validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return problem(
            "S002",
            f"{where} must be {_article(expected)}, not "
            f"{_type_name(error.instance)} {_quote(error.instance)}",
        )
    if error.validator in ("enum", "const"):
        allowed = error.validator_value if error.validator == "enum" else [error.validator_value]
        allowed = [str(a) for a in ([a for a in allowed if isinstance(a, str)] or allowed)]
        kind = next((k for k in plans.KINDS if allowed == plans.plans(k)), None)
        owners = plans.owners(str(error.instance)) if kind else []
        if kind and owners:  # a plan of another resource: say whose, not "did you mean"
            return problem(
                "S003",
                f"{where} {_quote(error.instance)} is a plan for {_join(owners, 'and')}, not for "
                f"{plans.KINDS[kind]}; expected one of: {_join(allowed, 'or', quote=True)}",
            )
        said = _suggest(str(error.instance), allowed)
        if str(error.instance).lower() == "valkey" and "keyvalue" in allowed:
            said = "Render's Key Value (it runs Valkey) is `type: keyvalue`"
        return problem("S003", f"invalid {where} {_quote(error.instance)}; {said}")
    return problem("S005", f"{where}: {error.message}")


def _only_required(branches: Any) -> bool:
    return isinstance(branches, list) and all(
        isinstance(b, dict) and set(b) == {"required"} and len(b["required"]) == 1 for b in branches
    )


def _either(names: list[str], word: str) -> str:
    return _join(names, word, quote=True)


def _join(names: list[str], word: str, *, quote: bool = False) -> str:
    said = [f'"{n}"' if quote else n for n in names]
    return said[0] if len(said) == 1 else f"{', '.join(said[:-1])} {word} {said[-1]}"


def _describe(path: tuple, mapping: Any = None) -> str:
    """How a message names the place: its path, and a service's type where it helps."""
    from blueprintcheck.problems import format_path

    if not path:
        return "the top level"
    kind = mapping.get("type") if isinstance(mapping, dict) and len(path) >= 2 else None
    if path[-2:-1] == ("services",) and isinstance(kind, str):
        return f"`{format_path(path)}` (a {kind} service)"
    return f"`{format_path(path)}`"


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
