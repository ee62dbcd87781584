"""Helpers for the validator's tests: fixtures named after codes, the reference corpus."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from blueprintcheck import docs

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
EXPECT = re.compile(r"^# expect: (?P<code>[A-Z]\d{3}) line (?P<line>\d+|-)$")


def fixture_files() -> list[Path]:
    return sorted(FIXTURES.glob("[A-Z][0-9][0-9][0-9].yaml"))


def expectation(path: Path) -> tuple[str, int | None]:
    match = EXPECT.match(path.read_text().splitlines()[0])
    assert match, f"{path.name} must start with '# expect: CODE line N'"
    line = match["line"]
    return match["code"], None if line == "-" else int(line)


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    directory = docs.reference_dir()
    if not (directory / "blueprints").is_dir():
        pytest.skip(
            f"the real-world blueprints are not at {directory}/blueprints (set "
            "BLUEPRINT_REFERENCE_DIR; .ci/run requires them)"
        )
    return directory
