"""``python manage.py doctor``: what is wrong with this deployment, one line per finding
(✓, ✗ and the fix, ? when it cannot be told), or ``--format json``. Exits 1 when anything
is wrong. Run it from any service's shell on Render, or locally. docs/OPERATIONS.md."""

from __future__ import annotations

import json
import logging
import sys

from django.core.management.base import BaseCommand

from operations import doctor
from servicespec import envspec


class Command(BaseCommand):
    help = "Check everything the email pipeline needs, and say what to fix."
    requires_system_checks: tuple = ()  # it reports what is wrong, whatever is wrong
    requires_migrations_checks = False

    def add_arguments(self, parser) -> None:
        parser.add_argument("--format", choices=("text", "json"), default="text")
        parser.add_argument(
            "--process",
            choices=envspec.PROCESSES,
            help="whose variables to check (default: from Render's RENDER_SERVICE_TYPE; "
            "elsewhere, those every process needs)",
        )

    def handle(self, *args, format: str, process: str | None, **options) -> None:
        _logs_to_stderr()
        process = process or doctor.default_process()
        findings = doctor.examine(process)
        if format == "json":
            self.stdout.write(json.dumps(doctor.as_json(findings, process), indent=2))
        else:
            self.stdout.write(doctor.as_text(findings))
        if any(finding.status == doctor.FAIL for finding in findings):
            raise SystemExit(1)


def _logs_to_stderr() -> None:
    """The report is stdout (JSON a script may read); what libraries log meanwhile (a
    connection pool's retries, say) goes to stderr instead of into it."""
    for logger in (logging.getLogger(), logging.getLogger("django")):
        for handler in logger.handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stdout:
                handler.setStream(sys.stderr)
