"""``python manage.py preview_email <kind>``: write both parts of one kind of email, as the
worker would send it, for a person to open (the link in it is a real, signed one for a
sample account that does not exist)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from emails import messages
from emails.kinds import Kind


class Command(BaseCommand):
    help = "Write the text and HTML parts of one kind of email to files, to look at."

    def add_arguments(self, parser) -> None:
        parser.add_argument("kind", choices=sorted(Kind.values), help="the kind of email")
        parser.add_argument(
            "--to",
            type=Path,
            default=settings.LOCAL_DATA_DIR / "preview",
            help="folder to write <kind>.txt and <kind>.html into (default: %(default)s)",
        )
        parser.add_argument("--address", default="you@example.com", help="the sample recipient")

    def handle(self, *args, kind: str, to: Path, address: str, **options) -> None:
        unusable = "!preview"  # a hash no password matches, not a password  # nosec B105
        sample = get_user_model()(pk=0, email=address, password=unusable)
        message = messages.message(kind, sample)
        to.mkdir(parents=True, exist_ok=True)
        text, html = to / f"{kind}.txt", to / f"{kind}.html"
        text.write_text(f"Subject: {message.subject}\n\n{message.text}")
        html.write_text(message.html)
        self.stdout.write(f"{message.subject}\n  {text}\n  {html}")
