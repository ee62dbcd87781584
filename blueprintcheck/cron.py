"""Cron schedules as Render's cron jobs take them: one grammar, for the validator and the
rehearsal alike.

Render documents a cron job's ``schedule`` as "a cron expression", evaluated in UTC, and
shows five-field ones with steps, ranges and day names (``*/10 * * * *``, ``0 12 * * *``,
``*/60 * * * MON-FRI``; render.com/docs/cronjobs). That is the grammar here: minute, hour,
day of month, month, day of week; each ``*``, a number or a name, a range, a list, a step.
What some schedulers add (``L``, ``W``, ``#``, ``?``, ``@daily``) is not in Render's
documentation and is refused, by the validator and the rehearsal alike.

- ``reason(text)``: why an expression is outside the grammar, naming the field (scheduling
  libraries do not say which field is wrong, and how);
- ``times(text, start)``: when it fires, from cronsim (the parser healthchecks.io runs in
  production: small, no dependencies, Debian cron's semantics);
- ``never_runs(text)``: why a well-formed expression never fires (``0 0 30 2 *``: no
  February has a 30th), as cronsim finds it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from cronsim import CronSim, CronSimError


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


def never_runs(expression: str) -> str | None:
    """Why an expression of the grammar never fires; ``None`` if it does."""
    if reason(expression) is not None:
        return None
    try:
        CronSim(expression, datetime(2000, 1, 1))
    except CronSimError as error:
        if "day-of-month" in str(error).lower():
            return "no month it names has that day, so it never runs"
        return f"it never runs ({error})"
    return None


def times(expression: str, start: datetime) -> Iterator[datetime]:
    """The times ``expression`` fires after ``start`` (aware, in UTC); ``CronError`` for an
    expression the validator refuses or that never fires."""
    why = reason(expression) or never_runs(expression)
    if why:
        raise CronError(why)
    return CronSim(expression, start)
