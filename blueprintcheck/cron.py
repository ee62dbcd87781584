"""Five-field cron expressions as Render's cron jobs take them (minute hour day-of-month
month day-of-week, in UTC), checked without running them: ``reason(text)`` says what is
wrong, or ``None``.

Written here rather than taken from a library: the validator's only dependencies are PyYAML
and jsonschema (it installs as a pre-commit hook), the grammar is small, and what is needed
is the reason a field is wrong, which scheduling libraries do not give.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names for low, low + 1, ...


MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")  # 0 and 7 are both Sunday
FIELDS = (
    Field("minute", 0, 59),
    Field("hour", 0, 23),
    Field("day of month", 1, 31),
    Field("month", 1, 12, MONTHS),
    Field("day of week", 0, 7, DAYS),
)


class CronError(ValueError):
    pass


def reason(expression: str) -> str | None:
    """Why ``expression`` is not a valid five-field cron expression; ``None`` if it is."""
    fields = expression.split()
    if len(fields) != len(FIELDS):
        shown = f"{len(fields)} field" + ("" if len(fields) == 1 else "s")
        hint = " (macros such as @daily are not accepted)" if expression.startswith("@") else ""
        return (
            f"expected 5 fields (minute hour day-of-month month day-of-week), found {shown}{hint}"
        )
    for text, field in zip(fields, FIELDS, strict=True):
        try:
            for part in text.split(","):
                _check_part(part, field)
        except CronError as error:
            return f"{field.name} field {text!r}: {error}"
    return None


def _check_part(part: str, field: Field) -> None:
    if not part:
        raise CronError("an empty item in a list")
    base, slash, step = part.partition("/")
    if slash and (not step.isdigit() or int(step) == 0):
        raise CronError(f"the step {step!r} must be a whole number above 0")
    if base == "*":
        return
    start, dash, end = base.partition("-")
    low = _value(start, field)
    if dash:
        high = _value(end, field)
        if low > high:
            raise CronError(f"the range {base} runs backwards")
    elif slash:
        return  # "5/15": from 5, every 15


def _value(text: str, field: Field) -> int:
    upper = text.upper()
    if upper in field.names:
        return field.low + field.names.index(upper)
    if not text.isdigit():
        expected = f"a number from {field.low} to {field.high}"
        if field.names:
            expected += f" or a name ({', '.join(dict.fromkeys(field.names))})"
        raise CronError(f"{text!r} is not {expected}")
    value = int(text)
    if not field.low <= value <= field.high:
        raise CronError(f"{value} is outside {field.low}-{field.high}")
    return value
