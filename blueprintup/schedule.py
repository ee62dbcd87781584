"""When a cron job runs: its five-field schedule, in UTC as on Render, read by cronsim
(the parser healthchecks.io runs in production: small, no dependencies, Debian cron's
semantics), and Render's rule of one run at a time."""

from __future__ import annotations

from datetime import UTC, datetime

from cronsim import CronSim, CronSimError

from blueprintup.errors import RehearsalError


class Schedule:
    def __init__(self, name: str, expression: str, now: datetime | None = None):
        self.name, self.expression = name, expression
        try:
            self._times = CronSim(expression, (now or _utc_now()).replace(microsecond=0))
        except CronSimError as error:
            raise RehearsalError(f"{name}: schedule {expression!r}: {error}") from None
        self.next_at = next(self._times)

    def due(self, now: datetime | None = None) -> bool:
        """Whether a run is due; each due time is reported once (the next one follows)."""
        now = now or _utc_now()
        if now < self.next_at:
            return False
        while self.next_at <= now:
            self.next_at = next(self._times)
        return True


def _utc_now() -> datetime:
    return datetime.now(UTC)
