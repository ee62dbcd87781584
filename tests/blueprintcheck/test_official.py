"""Render's official Blueprint schema, vendored in the package: the copy is the pinned one,
the validator's schema has every field, value and required field it has, and what the
validator knows beyond it (plans by resource, properties by service type, connection
limits) covers every value it lists, so a new value fails a test that names it."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys

import jsonschema
import pytest

from blueprintcheck import official, plans, schema, schemadiff
from blueprintcheck.checks import build_sources, references
from servicespec import dbbudget
from tests.blueprintcheck.conftest import ROOT

VENDORED = official.SCHEMA_FILE


def pinned_copy_from_git() -> dict | None:
    """The vendored file as last committed with the pinned digest, if git can tell."""
    log = subprocess.run(
        ["git", "-C", str(ROOT), "log", "--format=%H", "--", str(VENDORED)],
        capture_output=True,
        text=True,
    )
    for commit in log.stdout.split():
        blob = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{commit}:{VENDORED.relative_to(ROOT)}"],
            capture_output=True,
        ).stdout
        if hashlib.sha256(blob).hexdigest() == official.SHA256:
            return json.loads(blob)
    return None


def test_the_vendored_schema_is_the_pinned_copy_or_the_test_names_what_changed():
    digest = hashlib.sha256(VENDORED.read_bytes()).hexdigest()
    if digest != official.SHA256:
        before = pinned_copy_from_git()
        changed = (
            schemadiff.changes(before, json.loads(VENDORED.read_bytes()))
            if before
            else ["(the pinned copy is not in this clone's history)"]
        )
        pytest.fail(
            f"{VENDORED.name} is not Render's schema of {official.VERSION}; if it was replaced "
            "on purpose, follow docs/VALIDATOR.md (Updating Render's schema). What changed:\n"
            + "\n".join(changed)
        )


def test_it_is_byte_for_byte_the_reference_copy_of_2026_10(reference_dir):
    reference = reference_dir / "render-blueprint.schema.2026-10.json"
    if not reference.exists():
        pytest.skip(f"no {reference.name} in the reference data")
    assert VENDORED.read_bytes() == reference.read_bytes()


def test_it_is_a_draft_2020_12_schema_and_the_validator_s_schema_is_one_too():
    jsonschema.Draft202012Validator.check_schema(official.document())
    jsonschema.Draft202012Validator.check_schema(schema.schema())


def service_shapes() -> dict[str, dict]:
    """The validator's shape of each kind of service, by the official definition's name."""
    kinds = schema.schema()["properties"]["services"]["items"]["allOf"]
    return dict(zip(official.service_definitions(), (k["then"] for k in kinds), strict=True))


# What the validator's shapes add to Render's, on purpose (schema.py's docstring says why).
DEPRECATED_FIELD = {"env"}


def test_every_kind_of_service_has_exactly_render_s_fields():
    differences = {}
    for name, shape in service_shapes().items():
        ours, theirs = set(shape["properties"]), set(official.properties(name))
        if ours - theirs - DEPRECATED_FIELD or theirs - ours:
            differences[name] = (sorted(ours - theirs), sorted(theirs - ours))
    assert differences == {}


def test_every_kind_requires_what_render_requires_bar_what_a_check_says_better():
    # ipAllowList: P004 says how to fix it; runtime: required unless `env` or buildSource.
    checked = {"ipAllowList", "runtime"}
    assert {
        name: sorted(set(official.required(name)) - checked - set(shape["required"]))
        for name, shape in service_shapes().items()
    } == {name: [] for name in official.service_definitions()}


def test_every_service_type_render_has_is_dispatched_to_its_kind():
    types = {t for n in official.service_definitions() for t in official.values(
        official.properties(n)["type"])}  # fmt: skip
    assert set(schema.service_types()) == types


@pytest.mark.parametrize("kind", sorted(plans.KINDS))
def test_each_resource_takes_exactly_render_s_plans(kind):
    field = {"serverPlan": ("serverService", "plan"), "cronPlan": ("cronService", "plan"),
             "keyValuePlan": ("redisServer", "plan")}.get(kind)  # fmt: skip
    if field:
        assert service_shapes()[field[0]]["properties"][field[1]]["enum"] == plans.plans(kind)
    else:
        database = schema.schema()["properties"]["databases"]["items"]
        assert database["properties"]["plan"]["enum"] == plans.plans(kind)


def test_every_legacy_name_has_its_new_name_in_the_same_list():
    wrong = [
        (kind, old, new)
        for kind, renamed in plans.RENAMED.items()
        for old, new in renamed.items()
        if old not in plans.plans(kind) or new not in plans.plans(kind)
    ]
    assert wrong == []


def test_every_postgres_plan_has_a_connection_limit_and_read_replicas_know_its_size():
    unknown = [p for p in plans.plans("postgresPlan") if dbbudget.plan_limit(p) is None]
    assert unknown == []


def test_what_each_service_type_offers_a_reference_covers_render_s_list():
    offered = set().union(*(references.service_properties(t) for t in schema.service_types()))
    assert (offered, references.database_properties(None)) == (
        set(official.enum("serviceEnvVarProperty")),
        set(official.enum("databaseEnvVarProperty")),
    )


def test_the_build_source_field_lists_are_read_from_render_s_conditions():
    assert (build_sources.owned_by_build_source(), build_sources.docker_only()) == (
        ("runtime", "repo", "branch", "image", "registryCredential", "buildCommand",
         "buildFilter", "dockerContext", "dockerfilePath", "previews",
         "pullRequestPreviewsEnabled", "previewPlan"),
        ("baseDir", "dockerfilePath", "registryCredential"),
    )  # fmt: skip


def test_a_construct_the_translation_does_not_know_is_named_not_dropped():
    with pytest.raises(schema.SchemaChange, match=r"`pattern` at services\.name"):
        schema._shape({"type": "string", "pattern": "^[a-z]"}, "services.name")


def test_the_diff_names_a_new_plan_and_a_new_field():
    before = official.document()
    after = json.loads(json.dumps(before))
    after["definitions"]["cronPlan"]["enum"].append("12c-24g")
    after["definitions"]["workflowService"]["properties"]["plan"] = {"type": "string"}
    assert schemadiff.changes(before, after) == [
        "definitions.cronPlan enum: + 12c-24g",
        "definitions.workflowService fields: + plan",
        "definitions.workflowService.plan: added",
    ]


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (None, "is missing from this installation"),
        (b"{not json", "is corrupt"),
        (b'{"title": "something else"}', "is not Render's Blueprint schema"),
        (b'{"definitions": {}}', "has no definition"),
    ],
)
def test_an_installation_without_a_usable_schema_exits_2_saying_so(tmp_path, damage, said):
    for package in ("blueprintcheck", "servicespec"):
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "validate_blueprint.py", tmp_path / "scripts")
    data = tmp_path / "blueprintcheck" / "data" / VENDORED.name
    if damage is None:
        data.unlink()
    else:
        data.write_bytes(damage)
    result = subprocess.run(
        [
            sys.executable,
            str(tmp_path / "scripts" / "validate_blueprint.py"),
            str(ROOT / "render.yaml"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert (result.returncode, said in result.stderr, "Traceback" in result.stderr) == (
        2,
        True,
        False,
    ), result.stderr


@pytest.mark.parametrize(
    ("kind", "plan", "cpus"),
    [("serverPlan", "0.5c-512mb", "0.5"), ("serverPlan", "pro plus", "4"),
     ("cronPlan", None, "0.5"), ("serverPlan", "free", "0.1"),
     ("serverPlan", "8c-32g", "8"), ("serverPlan", "no-such-plan", None)],
)  # fmt: skip
def test_the_cpus_of_a_plan_are_what_render_cpu_count_says(kind, plan, cpus):
    assert plans.cpu_count(kind, plan) == cpus


def test_every_current_compute_plan_says_its_cpus():
    for kind in ("serverPlan", "cronPlan"):
        unsaid = [p for p in plans.plans(kind) if plans.cpu_count(kind, p) is None]
        assert unsaid == [], f"{kind}: RENDER_CPU_COUNT unknown for {unsaid}"
