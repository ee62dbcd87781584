"""docs/VALIDATOR.md is generated: every code documented, and the page is current."""

from blueprintcheck import docs
from blueprintcheck.rules import RULES


def test_validator_md_is_current():
    assert docs.current() == docs.render(), "run: python -m blueprintcheck.docs --write"


def test_every_code_has_a_section():
    text = docs.DOC.read_text()
    assert [c for c, r in RULES.items() if f"### {c} {r.name}" not in text] == []
