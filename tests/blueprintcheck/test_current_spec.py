"""Blueprints written the way Render's current docs write them (the 2026-10 spec): every
new field and value, valid and invalid. The validator finds exactly the problems each file
expects, and agrees with Render's official schema wherever the schema can tell: a file
the schema refuses is refused, and a valid file gets no problem but the warnings it
lists (a hazard Render accepts, such as a build filter with one list)."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from blueprintcheck import official, validate
from tests.blueprintcheck.conftest import ROOT

CURRENT = Path(__file__).parent / "current"
EXPECT = re.compile(r"^# expect: (?:valid|(?P<code>[A-Z]\d{3}) line (?P<line>\d+))$")
OFFICIAL = re.compile(r"^# official: (valid|invalid)$")


def files() -> list[Path]:
    return sorted(CURRENT.glob("*.yaml"))


def expected(path: Path) -> tuple[list[tuple[str, int]], bool]:
    lines = path.read_text().splitlines()
    problems = [(m["code"], int(m["line"])) for m in map(EXPECT.match, lines) if m and m["code"]]
    [official_valid] = [m.group(1) == "valid" for m in map(OFFICIAL.match, lines) if m]
    return problems, official_valid


def officially_valid(path: Path) -> bool:
    schema = jsonschema.Draft202012Validator(official.document())
    return not any(schema.iter_errors(yaml.safe_load(path.read_text())))


@pytest.mark.parametrize("path", files(), ids=lambda p: p.stem)
def test_the_validator_finds_exactly_what_the_file_expects(path):
    problems = validate(path.read_bytes(), file=path.name, repo=ROOT, generic=True)
    assert sorted((p.code, p.line) for p in problems) == sorted(expected(path)[0]), [
        f"{p.code} {p.line}: {p.message}" for p in problems
    ]


@pytest.mark.parametrize("path", files(), ids=lambda p: p.stem)
def test_render_s_official_schema_judges_the_file_as_it_says(path):
    assert officially_valid(path) == expected(path)[1]


def test_what_the_official_schema_refuses_the_validator_refuses_with_an_error():
    missed = [
        p.name
        for p in files()
        if not officially_valid(p)
        and not any(
            problem.severity == "error"
            for problem in validate(p.read_bytes(), file=p.name, repo=ROOT, generic=True)
        )
    ]
    assert missed == []


def test_the_set_covers_valid_and_invalid_files_of_every_new_feature():
    names = " ".join(p.stem for p in files())
    features = ["compute-plans", "workflow", "build-source", "connection-pool", "key-value",
                "maintenance-mode", "static-site", "cron", "projects", "read-replica",
                "build-filter", "persistence-mode", "subdomain", "mixed-plan-names"]  # fmt: skip
    valid = sum(p.stem.startswith("valid-") for p in files())
    invalid = sum(p.stem.startswith("invalid-") for p in files())
    assert ([f for f in features if f not in names], valid >= 12, invalid >= 20) == (
        [],
        True,
        True,
    )


def test_a_database_whose_plans_are_of_two_families_is_told_its_previews_may_fail():
    path = CURRENT / "valid-postgres-preview-plan-of-another-family.yaml"
    [problem] = validate(path.read_bytes(), file=path.name, repo=ROOT, generic=True)
    assert "different families and preview databases may fail" in problem.message
