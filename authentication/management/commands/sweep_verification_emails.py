"""``python manage.py sweep_verification_emails``: the outbox's safety net, run by the
sweep cron job (render.yaml, docker/sweep-entrypoint.sh) every few minutes."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from authentication import emails


class Command(BaseCommand):
    help = (
        "Enqueue verification emails that no task is looking after "
        "(the broker was down, a worker died)."
    )

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
            count = emails.verification_emails_sweep(stale_after=stale_after)
        except Exception as error:  # the broker is down: fail the run, say why, no traceback
            raise CommandError(
                f"could not enqueue to the broker ({type(error).__name__}); the emails stay "
                "pending for the next run. Check REDIS_URL and the Key Value's status."
            ) from None
        self.stdout.write(f"{count} verification email(s) enqueued")
