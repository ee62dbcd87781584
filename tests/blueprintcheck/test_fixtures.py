"""One small broken blueprint per problem code: the code and the line expected."""

from __future__ import annotations

import pytest

from blueprintcheck import validate
from blueprintcheck.rules import RULES
from tests.blueprintcheck.conftest import ROOT, expectation, fixture_files


def problems_of(path):
    code, _ = expectation(path)
    return validate(path.read_bytes(), file=path.name, repo=ROOT, generic=not code.startswith("C"))


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: p.stem)
def test_fixture_reports_its_code_at_its_line(path):
    code, line = expectation(path)
    assert [(p.code, p.line) for p in problems_of(path)] == [(code, line)]


def test_every_code_has_a_fixture():
    # X001 is a validator bug (no input should cause it); E codes are about an environment;
    # M codes compare two blueprints (a pair each: test_syncplan.py).
    covered = {path.stem for path in fixture_files()}
    sync_plan = {code for code in RULES if code.startswith("M")}
    assert set(RULES) - covered - sync_plan == {"X001", "E001", "E002"}


def test_every_fixture_is_named_after_its_code():
    assert all(expectation(path)[0] == path.stem for path in fixture_files())
