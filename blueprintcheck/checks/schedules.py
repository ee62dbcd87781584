"""Cron jobs' schedules (P codes). Source: render.com/docs/cronjobs (a cron expression,
five fields, in UTC); the grammar is ``blueprintcheck.cron``, which the rehearsal runs too."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from blueprintcheck import cron, model
from blueprintcheck.loader import Document
from blueprintcheck.rules import Finding, Severity, rule


@rule(
    "P016",
    "invalid-cron-schedule",
    Severity.ERROR,
    "A cron job's `schedule` is not a five-field cron expression (minute, hour, day of "
    "month, month, day of week), or a field is out of its range.",
    'Write five fields, such as `"*/5 * * * *"` (every five minutes) or `"0 3 * * MON"` '
    "(Mondays at 03:00 UTC); the message names the field at fault.",
)
def invalid_cron_schedule(document: Document) -> Iterator[Finding]:
    yield from _judged(document, cron.reason)


@rule(
    "P023",
    "cron-schedule-never-runs",
    Severity.WARNING,
    "A cron job's `schedule` is well formed but names a day no month has (the 30th of "
    "February, the 31st of April): the job never runs.",
    "Pick a day every month it names has, or use the last day another way (run daily and "
    "let the command decide).",
)
def cron_schedule_never_runs(document: Document) -> Iterator[Finding]:
    yield from _judged(document, cron.never_runs)


def _judged(document: Document, judge: Callable[[str], str | None]) -> Iterator[Finding]:
    """A finding at each cron job's ``schedule`` that ``judge`` has something to say of."""
    for service in model.services(document.data):
        schedule = service.data.get("schedule")
        if service.type == "cron" and isinstance(schedule, str):
            why = judge(schedule)
            if why:
                yield Finding((*service.path, "schedule"), f"schedule {schedule!r}: {why}")
