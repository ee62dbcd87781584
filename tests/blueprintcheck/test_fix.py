"""``--fix`` rewrites deprecated spellings in place, touching nothing else: on small
examples, through the command line, and on every real-world blueprint of the corpus."""

from __future__ import annotations

import re
import subprocess
import sys
from copy import deepcopy

import jsonschema
import pytest
import yaml

from blueprintcheck import official as blueprint_schema
from blueprintcheck import validate
from blueprintcheck.fix import fix_text
from tests.blueprintcheck.conftest import ROOT

DEPRECATED = re.compile(
    r"\b(env|autoDeploy|type|previewsEnabled|previewsExpireAfterDays|pullRequestPreviewsEnabled"
    r"|previewPlan|plan)\b"
)
# Render's 2026 names of its legacy instance types, by plan list: the same CPU and memory
# (render.com/pricing), written out here apart from blueprintcheck/plans.py.
NEW_NAMES = {
    "server": {"starter": "0.5c-512mb", "standard": "1c-2g", "pro": "2c-4g", "pro plus": "4c-8g",
               "pro max": "4c-16g", "pro ultra": "8c-32g"},
    "keyvalue": {"starter": "256mb", "standard": "1g", "pro": "5g", "pro plus": "10g",
                 "pro max": "20g", "pro ultra": "40g"},
}  # fmt: skip


def run_cli(*args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "validate_blueprint.py"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


# --- each rewrite, and only it ------------------------------------------------------------

BEFORE = """\
# Our services  (a comment the fix keeps)
previewsEnabled: true   # previews for every PR
services:
  - type: web
    name: 'api'          # quoted, and stays quoted
    env: docker
    autoDeploy: false
    pullRequestPreviewsEnabled: true
    previewPlan: starter
    envVars:
      - key: REDIS_URL
        fromService: {type: redis, name: cache, property: connectionString}
  - type: "redis"
    name: cache
    ipAllowList: []
"""

AFTER = """\
# Our services  (a comment the fix keeps)
previews:   # previews for every PR
  generation: automatic
services:
  - type: web
    name: 'api'          # quoted, and stays quoted
    runtime: docker
    autoDeployTrigger: "off"
    previews:
      generation: automatic
      plan: 0.5c-512mb
    envVars:
      - key: REDIS_URL
        fromService: {type: keyvalue, name: cache, property: connectionString}
  - type: "keyvalue"
    name: cache
    ipAllowList: []
"""


def test_each_deprecated_spelling_is_rewritten_and_every_other_byte_kept():
    result = fix_text(BEFORE)
    assert (result.text, len(result.changes), result.skipped) == (AFTER, 7, [])


def test_a_fixed_file_has_nothing_left_to_fix():
    assert fix_text(AFTER).changes == [] and fix_text(AFTER).text == AFTER


def test_four_space_indentation_is_kept_in_a_new_block():
    text = (
        "services:\n    -   type: web\n        name: api\n        runtime: node\n"
        "        pullRequestPreviewsEnabled: false\n        startCommand: npm start\n"
    )
    assert fix_text(text).text.splitlines()[4:6] == [
        "        previews:",
        '            generation: "off"',
    ]


def test_an_old_preview_key_beside_a_previews_block_goes_into_it():
    text = (
        "previewsEnabled: true\npreviews:\n  expireAfterDays: 3\n"
        "services:\n  - type: web\n    name: api\n    runtime: node\n"
        "    previewPlan: starter  # small\n    previews:\n      generation: automatic\n"
    )
    result = fix_text(text)
    assert result.text == (
        "previews:\n  generation: automatic\n  expireAfterDays: 3\n"
        "services:\n  - type: web\n    name: api\n    runtime: node\n"
        "    previews:\n      plan: 0.5c-512mb\n      generation: automatic\n"
    ), result.text
    assert validate(result.text.encode(), file="render.yaml", generic=True) == []


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("services:\n  - type: web\n    name: a\n    env: node\n    runtime: python\n",
         "runtime is also set"),
        ("services:\n  - type: web\n    name: a\n    runtime: node\n    autoDeploy: yes-please\n",
         "not true or false"),
        ("previewsEnabled: true\npreviews:\n  generation: manual\nservices: []\n",
         "previews.generation is set already"),
        ("previewsEnabled: true\npreviews: {expireAfterDays: 3}\nservices: []\n",
         "not written as a block"),
    ],
)  # fmt: skip
def test_what_has_no_single_correct_rewrite_is_left_and_said(text, why):
    result = fix_text(text)
    assert (result.text, [why in s.after for s in result.skipped]) == (text, [True])


# --- the command line -------------------------------------------------------------------


def test_fix_writes_the_file_says_what_changed_and_validates_the_result(tmp_path):
    blueprint = tmp_path / "render.yaml"
    blueprint.write_text(BEFORE.replace("previewsEnabled: true   # previews for every PR\n", ""))
    result = run_cli(str(blueprint), "--generic", "--fix")
    fixed = blueprint.read_text()
    assert (
        result.returncode,
        "render.yaml:5: fixed env: docker -> runtime: docker" in result.stderr,
        "runtime: docker" in fixed,
        " D00" in result.stdout,
    ) == (0, True, True, False), result.stdout + result.stderr


def test_fix_writes_nothing_when_nothing_needs_fixing(tmp_path):
    blueprint = tmp_path / "render.yaml"
    blueprint.write_text(AFTER)
    before = blueprint.stat().st_mtime_ns
    result = run_cli(str(blueprint), "--generic", "--fix")
    assert (result.returncode, blueprint.stat().st_mtime_ns, "nothing to fix" in result.stderr) == (
        0,
        before,
        True,
    )


def test_fix_refuses_to_write_a_file_that_does_not_parse(tmp_path):
    blueprint = tmp_path / "render.yaml"
    broken = "services:\n  - type: web\n    env: docker\n   name: [unclosed\n"
    blueprint.write_text(broken)
    result = run_cli(str(blueprint), "--generic", "--fix")
    assert (
        result.returncode,
        blueprint.read_text() == broken,
        "not fixed" in result.stderr,
        "Y001" in result.stdout,
        "Traceback" in result.stderr,
    ) == (1, True, True, True, False)


# --- the real-world corpus --------------------------------------------------------------


def modernized(data: dict) -> dict:
    """What the rewrites should make of parsed data (written independently of fix.py)."""
    data = deepcopy(data)
    previews = {}
    if "previewsEnabled" in data:
        previews["generation"] = "automatic" if data.pop("previewsEnabled") else "off"
    if "previewsExpireAfterDays" in data:
        previews["expireAfterDays"] = data.pop("previewsExpireAfterDays")
    if previews:
        data["previews"] = previews
    containers = [data, data.get("ungrouped") or {}]
    containers += [e for p in data.get("projects") or [] for e in p.get("environments") or []]
    for container in containers:
        for service in container.get("services") or []:
            key_value = service.get("type") in ("keyvalue", "redis")
            names = NEW_NAMES["keyvalue" if key_value else "server"]
            plans = [(service, "plan"), (service, "previewPlan"), (service.get("previews"), "plan")]
            for mapping, key in [(m, k) for m, k in plans if isinstance(m, dict)]:
                if mapping.get(key) in names:
                    mapping[key] = names[mapping[key]]
            if "env" in service:
                service["runtime"] = service.pop("env")
            if "autoDeploy" in service:
                service["autoDeployTrigger"] = "commit" if service.pop("autoDeploy") else "off"
            if service.get("type") == "redis":
                service["type"] = "keyvalue"
            for entry in service.get("envVars") or []:
                if (entry.get("fromService") or {}).get("type") == "redis":
                    entry["fromService"]["type"] = "keyvalue"
            moved = {}
            if "pullRequestPreviewsEnabled" in service:
                enabled = service.pop("pullRequestPreviewsEnabled")
                moved["generation"] = "automatic" if enabled else "off"
            if "previewPlan" in service and service.get("type") != "keyvalue":
                moved["plan"] = service.pop("previewPlan")
            if moved:
                service["previews"] = moved
    return data


def not_kept_in_order(kept: list[str], lines: list[str]) -> list[str]:
    """The lines of ``kept`` that ``lines`` does not hold unchanged, in the same order."""
    missing, rest = [], iter(lines)
    for line in kept:
        if not any(candidate == line for candidate in rest):
            missing.append(line)
            rest = iter(lines)  # report each one, not only the first
    return missing


def corpus(reference_dir):
    return sorted((reference_dir / "blueprints").glob("*.y*ml"))


def test_on_every_real_world_blueprint_fix_is_faithful(reference_dir):
    official = jsonschema.Draft202012Validator(blueprint_schema.document())
    fixed_files, complaints = 0, {}
    for path in corpus(reference_dir):
        text = path.read_text()
        try:
            data = yaml.safe_load(text)
            fixed = fix_text(text)
        except Exception as error:  # a file neither parser reads is skipped
            if not isinstance(error, yaml.YAMLError) and "not parse" not in str(error):
                complaints[path.name] = f"{type(error).__name__}: {error}"
            continue
        if not fixed.changes or not isinstance(data, dict):
            continue
        fixed_files += 1
        after = yaml.safe_load(fixed.text)
        kept = [line for line in text.splitlines() if not DEPRECATED.search(line)]
        problems = {
            "deprecations left": sorted(
                {
                    p.code
                    for p in validate(fixed.text, generic=True)
                    # PostgreSQL's legacy types have no one-to-one successor to write
                    if p.code.startswith("D") and "databases" not in p.path
                }
            ),
            "data": after != modernized(data),
            "lines touched besides the rewrites": not_kept_in_order(kept, fixed.text.splitlines()),
            "official schema refuses it now": (
                not any(official.iter_errors(data)) and any(official.iter_errors(after))
            ),
            "not idempotent": fix_text(fixed.text).changes != [],
        }
        if any(problems.values()):
            complaints[path.name] = {k: v for k, v in problems.items() if v}
    assert (fixed_files > 50, complaints) == (True, {})


MERGED = """x-defaults: &defaults
  plan: starter
  autoDeploy: true
  env: python
"""


def with_merge_keys(text: str) -> str:
    """``text`` with every service merging deprecated spellings from one anchor."""
    merged = re.sub(r"(?m)^(\s*)- type: (\S+)$", r"\1- type: \2\n\1  <<: *defaults", text)
    return MERGED + merged


def test_a_value_that_comes_through_a_merge_key_is_said_at_the_anchors_line_not_raised():
    text = MERGED + "services:\n  - type: worker\n    name: one\n    <<: *defaults\n" \
        "    startCommand: a\n    plan: free\n"  # fmt: skip
    result = fix_text(text)
    assert sorted((c.line, c.after.split(";")[0]) for c in result.skipped) == [
        (3, "not rewritten: it comes through a merge key (<<)"),
        (4, "not rewritten: it comes through a merge key (<<)"),
    ]


def test_fix_never_raises_on_real_world_blueprints_with_merge_keys_added(reference_dir):
    raised = {}
    for path in corpus(reference_dir):
        try:
            fix_text(with_merge_keys(path.read_text()))
        except Exception as error:  # only a FixError (it does not parse) is expected
            if type(error).__name__ != "FixError":
                raised[path.name] = f"{type(error).__name__}: {error}"
    assert raised == {}
