"""Nothing crashes the validator: generated YAML, and mutations of the real render.yaml."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blueprintcheck import cli, validate
from blueprintcheck.rules import RULES
from tests.blueprintcheck.conftest import ROOT

BLUEPRINT = yaml.safe_load((ROOT / "render.yaml").read_text())
KEYS = [
    "services",
    "databases",
    "envVarGroups",
    "projects",
    "environments",
    "type",
    "name",
    "runtime",
    "env",
    "plan",
    "region",
    "envVars",
    "key",
    "value",
    "fromService",
    "fromDatabase",
    "fromGroup",
    "property",
    "envVarKey",
    "sync",
    "generateValue",
    "ipAllowList",
    "scaling",
    "minInstances",
    "maxInstances",
    "numInstances",
    "maxShutdownDelaySeconds",
    "healthCheckPath",
    "dockerCommand",
    "preDeployCommand",
    "maxmemoryPolicy",
    "previews",
    "autoDeploy",
    "ungrouped",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 500),
    st.floats(allow_nan=True),
    st.sampled_from(
        [
            "web",
            "worker",
            "keyvalue",
            "redis",
            "free",
            "docker",
            "remosphere-kv",
            "remosphere-db",
            "",
            "SECRET_KEY",
        ]
    ),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), inner, max_size=5),
    ),
    max_leaves=30,
)

FUZZ = settings(
    max_examples=int(__import__("os").environ.get("FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def assert_clean(problems) -> None:
    assert [p for p in problems if p.code not in RULES or p.code == "X001"] == []


@FUZZ
@given(values)
def test_any_yaml_value_gets_problems_not_a_crash(value):
    assert_clean(validate(yaml.safe_dump(value), repo=ROOT))


@FUZZ
@given(st.text(max_size=300))
def test_any_text_gets_problems_not_a_crash(text):
    assert_clean(validate(text, repo=ROOT))


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _paths(child, (*prefix, index))


PATHS = [p for p in _paths(BLUEPRINT) if p]


def _mutate(path, replacement):
    import copy

    data = copy.deepcopy(BLUEPRINT)
    node = data
    for part in path[:-1]:
        node = node[part]
    if replacement == "delete":
        del node[path[-1]]
    else:
        node[path[-1]] = replacement
    return data


@FUZZ
@given(st.sampled_from(PATHS), st.one_of(st.just("delete"), values))
def test_mutations_of_the_real_blueprint_get_problems_not_a_crash(path, replacement):
    assert_clean(validate(yaml.safe_dump(_mutate(path, replacement)), repo=ROOT))


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=200))
def test_the_command_line_never_raises_on_any_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "render.yaml"
    path.write_bytes(data)
    assert cli.main([str(path), "--format", "json"]) in (0, 1)


def worker_with(**changes) -> str:
    blueprint = yaml.safe_load((ROOT / "render.yaml").read_text())
    [worker] = [s for s in blueprint["services"] if s["type"] == "worker"]
    worker.update(changes)
    return yaml.safe_dump(blueprint)


def test_a_docker_context_the_os_refuses_gives_a_missing_script_not_a_crash():
    # C001 too: a context of its own means an image of its own.
    problems = validate(worker_with(dockerContext="x" * 5000), repo=ROOT)
    assert sorted(p.code for p in problems) == ["C001", "C007"]


def test_an_absolute_script_path_inside_the_image_is_not_looked_up_in_the_repo():
    problems = validate(worker_with(dockerCommand="/app/docker/worker-entrypoint.sh"), repo=ROOT)
    assert problems == []


@pytest.mark.parametrize("odd", [True, 7, "text", None, [], {}, [1, "x", None]])
@pytest.mark.parametrize(
    "key", ["envVars", "ipAllowList", "buildFilter", "previews", "branch", "readReplicas"]
)
def test_the_newest_checks_take_any_type_where_a_value_belongs(key, odd):
    service = {"type": "web", "name": "api", "runtime": "python", "startCommand": "x", key: odd}
    database = {"name": "db", "plan": "free", key: odd}
    document = {"services": [service], "databases": [database], "previews": {"generation": odd}}
    codes = [p.code for p in validate(yaml.safe_dump(document), generic=True)]
    assert "X001" not in codes, codes
