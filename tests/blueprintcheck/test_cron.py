"""Cron schedules as Render takes them: five fields, each wrong one named with its reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blueprintcheck import validate
from blueprintcheck.cron import reason
from blueprintup.errors import RehearsalError
from blueprintup.schedule import Schedule


@pytest.mark.parametrize(
    "schedule",
    ["*/5 * * * *", "0 3 * * MON", "0 0 1 JAN,jul *", "15 9-17/2 * * 1-5", "0 0 * * 7",
     "5/15 * * * *", "0 0 29 2 *", "59 23 31 12 SUN"],
)  # fmt: skip
def test_valid_schedules_pass(schedule):
    assert reason(schedule) is None


@pytest.mark.parametrize(
    ("schedule", "said"),
    [
        ("* * * *", "expected 5 fields"),
        ("0 0 * * * *", "found 6 fields"),
        ("@daily", "macros such as @daily are not accepted"),
        ("60 * * * *", "minute field '60': 60 is outside 0-59"),
        ("0 24 * * *", "hour field '24'"),
        ("0 0 0 * *", "day of month field '0': 0 is outside 1-31"),
        ("0 0 * 13 *", "month field '13'"),
        ("0 0 * * 8", "day of week field '8'"),
        ("0 0 * * FUN", "'FUN' is not a number from 0 to 7 or a name (SUN, MON"),
        ("*/0 * * * *", "the step '0' must be a whole number above 0"),
        ("0 17-9 * * *", "the range 17-9 runs backwards"),
        ("0,,5 * * * *", "an empty item in a list"),
        ("? * * * *", "'?' is not a number"),
    ],
)
def test_each_invalid_schedule_names_its_field_and_reason(schedule, said):
    assert said in (reason(schedule) or "")


# --- one grammar: what the validator accepts is what the rehearsal runs ------------------

TOKENS = st.sampled_from(
    ["*", "0", "1", "5", "7", "12", "15", "23", "29", "30", "31", "59", "60", "MON", "fri",
     "JAN", "feb", "APR", "L", "LW", "5L", "5#2", "?", "W", ""]
)  # fmt: skip
FIELD = st.builds(
    lambda base, end, step: base + (f"-{end}" if end else "") + (f"/{step}" if step else ""),
    TOKENS,
    st.one_of(st.none(), TOKENS),
    st.one_of(st.none(), st.sampled_from(["0", "2", "15", "x"])),
)
EXPRESSION = st.lists(st.lists(FIELD, min_size=1, max_size=2).map(",".join), min_size=4,
                      max_size=6).map(" ".join)  # fmt: skip


def verdicts(expression: str) -> tuple[bool, bool]:
    """(the validator refuses it, the validator warns it never runs)."""
    document = (
        "services:\n  - type: cron\n    name: job\n    runtime: python\n"
        f'    schedule: "{expression}"\n    startCommand: "true"\n'
    )
    codes = {p.code for p in validate(document, generic=True)}
    return "P016" in codes, "P023" in codes


@settings(max_examples=300, deadline=None)
@given(EXPRESSION)
def test_every_schedule_the_validator_accepts_runs_in_the_rehearsal(expression):
    refused, never = verdicts(expression)
    try:
        schedule = Schedule("job", expression, now=datetime(2026, 1, 1, tzinfo=UTC))
    except RehearsalError:
        assert refused, f"the validator accepts {expression!r}, the rehearsal refuses it"
        return
    assert not refused, f"the validator refuses {expression!r}, the rehearsal runs it"
    assert (schedule.next_at is None) == never, expression


@pytest.mark.parametrize(
    ("schedule", "refused", "never"),
    [
        ("0 0 30 2 *", False, True),  # well formed, no such day: a warning, never due
        ("0 0 31 4 *", False, True),
        ("0 0 L * *", True, False),  # extensions Render does not document: refused by both
        ("0 0 LW * *", True, False),
        ("0 0 * * 5L", True, False),
        ("0 0 * * 5#2", True, False),
        ("*/10 * * * MON-FRI", False, False),  # Render's own example
    ],
)
def test_the_cases_that_used_to_disagree(schedule, refused, never):
    assert verdicts(schedule) == (refused, never)
