"""``python manage.py sweep_emails``: the outbox's safety net, run by the sweep cron job
(render.yaml, docker/sweep-entrypoint.sh) every few minutes. It also drops API tokens
past their expiry, which nothing else would delete."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import timezone
from knox.models import AuthToken

from emails import outbox
from remosphere import cron_runs


class Command(BaseCommand):
    help = "Enqueue emails that no task is looking after (the broker was down, a worker died)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--stale-after",
            type=int,
            default=settings.EMAIL_SWEEP_AFTER_SECONDS,
            help="seconds past its due time before a pending email is enqueued again "
            "(default EMAIL_SWEEP_AFTER_SECONDS: %(default)s)",
        )

    def handle(self, *args, stale_after: int, **options) -> None:
        try:
            summary = self.sweep(stale_after)
        except CommandError as error:
            cron_runs.record(cron_runs.SWEEP, ok=False, summary=str(error))
            raise
        cron_runs.record(cron_runs.SWEEP, ok=True, summary=summary)
        self.stdout.write(summary)

    def sweep(self, stale_after: int) -> str:
        try:
            count = outbox.emails_sweep(stale_after=stale_after)
            expired, _ = AuthToken.objects.filter(expiry__lt=timezone.now()).delete()
        except DatabaseError as error:  # fail the run, say which service, no traceback
            raise CommandError(
                f"could not read the outbox from PostgreSQL ({type(error).__name__}); "
                "the emails stay in the outbox for the next run. Check DATABASE_URL and the "
                "database's status."
            ) from None
        except Exception as error:  # the broker: kombu and redis raise their own types
            raise CommandError(
                f"could not enqueue to the broker ({type(error).__name__}); the emails stay "
                "pending for the next run. Check REDIS_URL and the Key Value's status."
            ) from None
        return f"{count} email(s) enqueued, {expired} expired API token(s) dropped"
