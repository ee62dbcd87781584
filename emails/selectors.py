"""The outbox in figures, read from PostgreSQL for ``/metrics`` and ``doctor``: emails by
kind and status, retries, how long the oldest unsent email has waited, the failures of
the last hour with their reasons, and what SendGrid reported in the last hour (delivered,
bounced, dropped...; ``emails.delivery_events``) with the bounce rate. Each query
is served by an index or a grouping of the table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, F, Min, Sum, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from emails.models import DeliveryReport, Email, Suppression

# The vocabulary of what these selectors answer, for their readers.
Kind, Status, Outcome = Email.Kind, Email.Status, Email.Outcome

# The email task's name, as workers register it: the one it had when the authentication app
# held email, since messages already waiting in a broker carry it.
SEND_EMAIL_TASK = "authentication.send_email"

RECENT = timedelta(hours=1)
REASONS = 5  # the most frequent failure reasons shown


@dataclass(frozen=True)
class OutboxSummary:
    rows: dict[tuple[str, str], int]  # (kind, status) -> emails
    retries: dict[str, int]  # kind -> attempts beyond each email's first
    oldest_open_age: float | None  # seconds the oldest pending or sending email has waited
    failed_recently: int  # emails that failed in the last hour
    reasons: list[tuple[str, int]]  # their reasons, most frequent first
    outcomes_recently: dict[str, int]  # outcome -> emails it happened to in the last hour
    sent_recently: int  # emails SendGrid accepted in the last hour
    suppressed_addresses: int  # addresses no email is sent to

    @property
    def bounce_rate(self) -> float | None:
        """Bounced among delivered and bounced, of the last hour's reports; ``None`` without
        any (SendGrid's own definition of the rate mailbox providers watch)."""
        bounced = self.outcomes_recently.get(Email.Outcome.BOUNCED, 0)
        reported = bounced + self.outcomes_recently.get(Email.Outcome.DELIVERED, 0)
        return bounced / reported if reported else None

    def count(self, *, status: str | None = None, kind: str | None = None) -> int:
        return sum(
            n
            for (k, s), n in self.rows.items()
            if (status is None or s == status) and (kind is None or k == kind)
        )


def outbox_summary() -> OutboxSummary:
    """Raises ``django.db.DatabaseError`` when PostgreSQL cannot be read."""
    now = timezone.now()
    rows, retries = {}, {}
    grouped = Email.objects.order_by().values("kind", "status")
    for row in grouped.annotate(n=Count("id"), retries=Sum(Greatest(F("attempts") - 1, Value(0)))):
        rows[(row["kind"], row["status"])] = row["n"]
        retries[row["kind"]] = retries.get(row["kind"], 0) + (row["retries"] or 0)
    oldest = Email.objects.filter(status__in=Email.OPEN).aggregate(at=Min("created_at"))["at"]
    failed = Email.objects.filter(status=Email.Status.FAILED, failed_at__gte=now - RECENT)
    reasons = list(
        failed.order_by()
        .values_list("last_error")
        .annotate(n=Count("id"))
        .order_by("-n", "last_error")
    )
    # What happened in the window, each email once per outcome: an email delivered, then
    # reported as spam, counts among both (its row keeps only the spam report).
    outcomes = (
        DeliveryReport.objects.filter(happened__gte=now - RECENT)
        .order_by()
        .values_list("outcome")
        .annotate(n=Count("id"))
    )
    return OutboxSummary(
        rows=rows,
        retries=retries,
        oldest_open_age=(now - oldest).total_seconds() if oldest else None,
        failed_recently=sum(n for _, n in reasons),
        reasons=[(reason[:200], n) for reason, n in reasons[:REASONS]],
        outcomes_recently=dict(outcomes),
        sent_recently=Email.objects.filter(sent_at__gte=now - RECENT).count(),
        suppressed_addresses=Suppression.objects.filter(lifted_at__isnull=True).count(),
    )


def emails_sent_since(moment: datetime) -> int:
    """How many emails SendGrid accepted after ``moment`` (served by an index)."""
    return Email.objects.filter(sent_at__gt=moment).count()
