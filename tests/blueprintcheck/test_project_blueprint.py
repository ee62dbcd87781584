"""The project's own render.yaml has no problem at all, contract included."""

from blueprintcheck import validate
from tests.blueprintcheck.conftest import ROOT


def test_own_blueprint_has_no_problem():
    assert validate((ROOT / "render.yaml").read_bytes(), repo=ROOT) == []


def test_minimal_project_fixture_base_has_no_problem():
    base = ROOT / "tests" / "blueprintcheck" / "fixtures" / "_project_base.yaml"
    assert validate(base.read_bytes(), repo=ROOT) == []


def test_a_nested_mistake_is_reported_where_it_is():
    text = "services:\n  - type: web\n    name: api\n    runtime: python\n    plann: starter\n"
    [problem] = validate(text, generic=True)
    assert (problem.code, problem.line, problem.path) == ("S001", 5, ("services", 0, "plann"))
