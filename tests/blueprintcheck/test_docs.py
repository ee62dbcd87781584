"""docs/VALIDATOR.md is generated: every code documented, and the page is current."""

from blueprintcheck import docs
from blueprintcheck.rules import RULES, Severity
from blueprintcheck.sources import SOURCES


def test_validator_md_is_current():
    assert docs.current() == docs.render(), "run: python -m blueprintcheck.docs --write"


def test_every_code_has_a_section():
    text = docs.DOC.read_text()
    assert [c for c, r in RULES.items() if f"### {c} {r.name}" not in text] == []


def test_every_error_names_the_source_that_makes_it_one_and_no_warning_claims_one():
    errors = {
        code for code, rule in RULES.items()
        if Severity.ERROR in (rule.severity, rule.contract_severity)
    }  # fmt: skip
    assert (sorted(errors - set(SOURCES)), sorted(set(SOURCES) - errors)) == ([], [])


def test_every_sync_plan_warning_names_its_render_source():
    warnings = {c for c, r in RULES.items() if c.startswith("M") and r.severity == Severity.WARNING}
    assert set(docs.PLAN_SOURCES) == warnings
