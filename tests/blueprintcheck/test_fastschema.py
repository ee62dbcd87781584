"""The quick yes/no schema check agrees with jsonschema, whatever the document: real
blueprints, every fixture, and documents generated from the schema's own words."""

from __future__ import annotations

import copy
import itertools

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from blueprintcheck.fastschema import compile_schema
from blueprintcheck.schema import schema, validator
from tests.blueprintcheck.conftest import FIXTURES, ROOT

SCHEMA = schema()
FAST = compile_schema(SCHEMA)


def jsonschema_says_valid(document) -> bool:
    return not any(validator().iter_errors(document))


def words(schema, keys: set, values: set) -> None:
    """Every property name and enum value the schema mentions."""
    if isinstance(schema, dict):
        keys.update(schema.get("properties", {}))
        values.update(v for v in schema.get("enum", []) if isinstance(v, str | int))
        for value in schema.values():
            words(value, keys, values)
    elif isinstance(schema, list):
        for value in schema:
            words(value, keys, values)


KEYS, VALUES = set(), set()
words(SCHEMA, KEYS, VALUES)
SCALARS = (
    st.none() | st.booleans() | st.integers(-3, 400) | st.floats(allow_nan=False, width=32)
    | st.sampled_from(sorted(VALUES, key=str)) | st.text(max_size=5)
)  # fmt: skip
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(sorted(KEYS)) | st.text(max_size=3), inner, max_size=6)
    ),
    max_leaves=30,
)
# What replaces one value of a real blueprint: small, so that drawing it stays cheap.
REPLACEMENTS = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=2)
        | st.dictionaries(st.sampled_from(sorted(KEYS)), inner, max_size=3)
    ),
    max_leaves=6,
)


def parsed(paths) -> list:
    documents = []
    for path in paths:
        try:
            documents.append(yaml.safe_load(path.read_text()))
        except yaml.YAMLError:  # the Y fixtures: nothing for a schema to judge
            continue
    return documents


SAMPLES = [
    d
    for d in parsed([*sorted(FIXTURES.glob("*.yaml")), ROOT / "render.yaml"])
    if isinstance(d, dict) and d
]


# Blueprints of the 2026-10 spec: build sources (oneOf), build filters (anyOf), workflows.
CURRENT = parsed(sorted((FIXTURES.parent / "current").glob("*.yaml")))


def test_it_agrees_on_every_fixture_and_this_project_s_blueprint():
    assert [FAST(d) for d in SAMPLES] == [jsonschema_says_valid(d) for d in SAMPLES]


def test_it_agrees_on_every_blueprint_of_the_current_spec():
    assert [FAST(d) for d in CURRENT] == [jsonschema_says_valid(d) for d in CURRENT]


def test_it_agrees_on_every_real_world_blueprint(reference_dir):
    documents = parsed(sorted((reference_dir / "blueprints").glob("*.y*ml")))
    assert [FAST(d) for d in documents] == [jsonschema_says_valid(d) for d in documents]


@settings(max_examples=400, deadline=None)
@given(DOCUMENTS)
def test_it_agrees_on_generated_documents(document):
    assert FAST(document) == jsonschema_says_valid(document)


def paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*prefix, index))


# Values where JSON Schema's rules are easy to get wrong: true is not 1, 1.0 is an
# integer, a string "1" is not a number, null, a list, a mapping with an unknown key.
TRICKY = [True, 1.0, 1.5, "1", None, [0], {"x": 1}]


def test_it_agrees_on_every_value_of_every_fixture_replaced_by_each_tricky_value():
    disagreements = []
    for sample in SAMPLES[:-1]:  # the fixtures: small, so jsonschema judges each quickly
        where_all = list(itertools.islice(paths(sample), 1, 300))
        if len(where_all) == 299:
            continue  # Y005's alias bomb: what it expands to is the point, not its values
        for where in where_all:
            for value in TRICKY:
                document = copy.deepcopy(sample)
                parent = document
                for step in where[:-1]:
                    parent = parent[step]
                parent[where[-1]] = value
                if FAST(document) != jsonschema_says_valid(document):
                    disagreements.append((where, value))
    assert disagreements == []


def test_a_keyword_it_does_not_know_is_refused_when_compiled():
    import pytest

    with pytest.raises(ValueError, match="pattern"):
        compile_schema({"type": "string", "pattern": "^a"})
