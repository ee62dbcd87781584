"""Real-world blueprints: every one gets a result, and the validator agrees with Render's
official schema except where docs/VALIDATOR.md says why."""

from __future__ import annotations

import pytest

from blueprintcheck import agreement, validate
from blueprintcheck.docs import AGREEMENT_HEADING, DOC


@pytest.fixture(scope="module")
def verdicts(reference_dir):
    return agreement.verdicts(reference_dir)


def test_every_real_world_blueprint_gets_a_result_without_an_internal_error(reference_dir):
    files = sorted((reference_dir / "blueprints").glob("*.y*ml"))
    internal = [
        f.name
        for f in files
        if any(
            p.code == "X001"
            for p in validate(f.read_bytes(), file=f.name, repo=f.parent, generic=True)
        )
    ]
    assert (len(files) > 100, internal) == (True, [])


def test_every_disagreement_with_the_official_schema_has_a_recorded_reason(verdicts):
    unexplained = [v.file for v in verdicts if "no reason recorded" in v.reason]
    assert unexplained == []


def test_validator_md_lists_exactly_the_disagreements(verdicts):
    section = DOC.read_text().split(AGREEMENT_HEADING, 1)[1]
    listed = {line.split("`")[1] for line in section.splitlines() if line.startswith("| `")}
    assert listed == {v.file for v in verdicts if v.ours != v.official}
