"""When a cron job runs: its schedule in UTC, as on Render, read by the validator's own
grammar (``blueprintcheck.cron``: what the validator accepts is what runs here)."""

from __future__ import annotations

from datetime import UTC, datetime

from blueprintcheck import cron
from blueprintup.errors import RehearsalError


class Schedule:
    """A schedule that never fires (``0 0 30 2 *``, a validator warning) has no ``next_at``
    and is never due."""

    def __init__(self, name: str, expression: str, now: datetime | None = None):
        self.name, self.expression = name, expression
        self.never = cron.never_runs(expression)
        self.next_at: datetime | None = None
        if self.never:
            return
        try:
            self._times = cron.times(expression, (now or _utc_now()).replace(microsecond=0))
        except cron.CronError as error:
            raise RehearsalError(f"{name}: schedule {expression!r}: {error}") from None
        self.next_at = next(self._times)

    def due(self, now: datetime | None = None) -> bool:
        """Whether a run is due; each due time is reported once (the next one follows)."""
        now = now or _utc_now()
        if self.next_at is None or now < self.next_at:
            return False
        while self.next_at <= now:
            self.next_at = next(self._times)
        return True


def _utc_now() -> datetime:
    return datetime.now(UTC)
