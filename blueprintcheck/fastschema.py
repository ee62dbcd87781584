"""A yes/no answer to "does this document follow the schema?", without importing jsonschema.

Most blueprints checked (a pre-commit hook, CI on every push) are valid, and importing
jsonschema costs more than everything else the validator does on a small file. So the
schema is compiled once into nested predicates for the few keywords ``schema.py`` uses,
and jsonschema is imported only when this says no, to say what is wrong and where.

The predicates follow JSON Schema's rules as jsonschema applies them (a keyword ignores
values of other types; ``true`` is not ``1``); ``tests/blueprintcheck/test_fastschema.py``
holds them to jsonschema's verdict on every fixture, the real-world corpus and generated
documents. A keyword the compiler does not know is refused when the schema is compiled,
so the schema cannot grow past what is checked here unnoticed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Predicate = Callable[[Any], bool]
IGNORED = {"$schema", "title", "description"}


def compile_schema(schema: dict, _done: dict[int, Predicate] | None = None) -> Predicate:
    """One predicate for ``schema``; a sub-schema used in several places (the resources of
    the top level, ``ungrouped`` and each environment) is compiled once."""
    done = {} if _done is None else _done
    if id(schema) in done:
        return done[id(schema)]
    checks = [_keyword(name, value, schema, done) for name, value in schema.items()]
    checks = [check for check in checks if check is not None]
    if len(checks) == 1:
        predicate = checks[0]
    else:
        predicate = lambda instance: all(check(instance) for check in checks)  # noqa: E731
    done[id(schema)] = predicate
    return predicate


def _keyword(name: str, value: Any, schema: dict, done: dict) -> Predicate | None:
    def compile_(sub: dict) -> Predicate:
        return compile_schema(sub, done)

    if name in IGNORED or name == "then":  # "then" is compiled with its "if"
        return None
    if name == "type":
        kinds = value if isinstance(value, list) else [value]
        tests = [_TYPES[kind] for kind in kinds]
        return lambda x: any(test(x) for test in tests)
    if name == "enum":
        return lambda x: any(_equal(x, allowed) for allowed in value)
    if name == "minimum":
        return lambda x: not _is_number(x) or x >= value
    if name == "maximum":
        return lambda x: not _is_number(x) or x <= value
    if name == "required":
        return lambda x: not isinstance(x, dict) or all(key in x for key in value)
    if name == "properties":
        compiled = {key: compile_(sub) for key, sub in value.items()}
        return lambda x: (
            not isinstance(x, dict)
            or all(compiled[key](item) for key, item in x.items() if key in compiled)
        )
    if name == "additionalProperties":
        if value is not False:
            raise ValueError("additionalProperties: only false is supported")
        known = set(schema.get("properties", {}))
        return lambda x: not isinstance(x, dict) or all(key in known for key in x)
    if name == "items":
        item = compile_(value)
        return lambda x: not isinstance(x, list) or all(item(element) for element in x)
    if name == "allOf":
        parts = [compile_(sub) for sub in value]
        return lambda x: all(part(x) for part in parts)
    if name == "anyOf":
        parts = [compile_(sub) for sub in value]
        return lambda x: any(part(x) for part in parts)
    if name == "oneOf":
        parts = [compile_(sub) for sub in value]
        return lambda x: sum(part(x) for part in parts) == 1
    if name == "not":
        inner = compile_(value)
        return lambda x: not inner(x)
    if name == "if":
        condition = compile_(value)
        then = compile_(schema.get("then", {}))
        return lambda x: not condition(x) or then(x)
    if name.startswith("x-"):  # an annotation of the validator's own: judges nothing
        return None
    raise ValueError(f"fastschema does not know the keyword {name!r}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, int) and not isinstance(value, bool)


_TYPES: dict[str, Predicate] = {
    "string": lambda x: isinstance(x, str),
    "integer": _is_integer,
    "number": _is_number,
    "boolean": lambda x: isinstance(x, bool),
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "null": lambda x: x is None,
}


def _equal(one: Any, two: Any) -> bool:
    """JSON equality: ``true`` is not ``1``, ``1`` is ``1.0``."""
    if isinstance(one, bool) or isinstance(two, bool):
        return isinstance(one, bool) and isinstance(two, bool) and one == two
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(_equal(one[k], two[k]) for k in one)
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(_equal(a, b) for a, b in zip(one, two, strict=True))
    if _is_number(one) and _is_number(two):
        return one == two
    return type(one) is type(two) and one == two
