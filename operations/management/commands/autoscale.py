"""``python manage.py autoscale``: one autoscaling decision for the worker (run every
minute by the autoscaler cron job, docker/autoscale-entrypoint.sh). docs/SCALING.md."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from operations.autoscaler import AutoscaleError, autoscale_once
from remosphere import cron_runs


class Command(BaseCommand):
    help = "Scale the worker on its queue's latency, through Render's API: one decision."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            default=None,
            help="log the decision without acting on it (default: AUTOSCALE_DRY_RUN)",
        )

    def handle(self, *args, dry_run: bool | None, **options) -> None:
        try:
            outcome = autoscale_once(dry_run=dry_run)  # logs its line: figures and reason
        except AutoscaleError as error:
            cron_runs.record(cron_runs.AUTOSCALE, ok=False, summary=str(error))
            raise CommandError(f"autoscale: {error}") from None
        cron_runs.record(cron_runs.AUTOSCALE, ok=True, summary=outcome.decision.reason)
