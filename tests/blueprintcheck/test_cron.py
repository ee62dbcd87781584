"""Cron schedules as Render takes them: five fields, each wrong one named with its reason."""

from __future__ import annotations

import pytest

from blueprintcheck.cron import reason


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
