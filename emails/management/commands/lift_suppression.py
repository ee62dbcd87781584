"""``python manage.py lift_suppression ADDRESS``: send emails to a suppressed address again
(its owner fixed their mailbox, a spam report was a mistake). ``--list`` shows the
suppressed addresses. The admin's "lift" action does the same."""

from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from emails import suppressions
from emails.models import Suppression


class Command(BaseCommand):
    help = "Lift the suppression of an address (it bounced, was dropped or reported spam)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("address", nargs="?", help="the suppressed email address")
        parser.add_argument(
            "--list", dest="show", action="store_true", help="list the suppressed addresses"
        )
        parser.add_argument(
            "--by", default="", help="who lifts it, for the record (default: this shell's user)"
        )

    def handle(self, *args, address: str | None, show: bool, by: str, **options) -> None:
        try:
            if show:
                self.list_active()
                return
            if not address:
                raise CommandError("give the address to lift, or --list")
            lifted = suppressions.suppression_lift(
                address=address, by=by or f"manage.py: {getpass.getuser()}"
            )
        except DatabaseError as error:
            raise CommandError(
                f"PostgreSQL is unreachable ({type(error).__name__}); check DATABASE_URL"
            ) from None
        if lifted is None:
            raise CommandError("that address is not suppressed (--list shows those that are)")
        self.stdout.write(
            f"lifted: {lifted.address} (suppressed {lifted.created_at:%Y-%m-%d %H:%M} UTC, "
            f"{lifted.reason}); emails to it are sent again"
        )

    def list_active(self) -> None:
        active = Suppression.objects.filter(lifted_at__isnull=True).order_by("address")
        for suppression in active:
            self.stdout.write(
                f"{suppression.address}\t{suppression.reason}\t"
                f"{suppression.created_at:%Y-%m-%d %H:%M}\t{suppression.detail[:120]}"
            )
        self.stdout.write(f"{active.count()} address(es) suppressed")
