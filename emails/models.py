"""The outbox (``Email``), what SendGrid reported of each email and when
(``DeliveryReport``), and the addresses no email is sent to (``Suppression``).

Both tables were created by the ``authentication`` app, which held email until the email
app had a room of its own; they keep their names (``db_table``), so the move changed no
table, row, index or constraint, and a release still serving during a deploy (Render runs
the pre-deploy migration before switching) reads the same tables (migrations/0001).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from emails.kinds import Kind
from emails.outcomes import Outcome


class Email(models.Model):
    """The outbox: one row per email to send, of any kind.

    Written in the same transaction as whatever asked for it, so an email is never lost
    between the database and the broker: the task delivers it, and the sweep
    (``manage.py sweep_emails``) re-enqueues any row left behind. A row names an address,
    not an account: a request for an address with no account writes the same row, and the
    worker finds nobody to send it to (``skipped``), so the request's timing tells nothing.
    A task claims the row (``sending`` until ``claimed_until``) before calling SendGrid, so
    two tasks for one row never both send; ``sent``, ``failed``, ``skipped`` and
    ``suppressed`` are final.

    What became of a sent email is SendGrid's to tell, later, through its Event Webhook
    (``emails.delivery_events``): ``outcome`` records it, found by ``message_id``
    (SendGrid's ``X-Message-Id``) and the row's id, which every send carries.
    """

    Kind = Kind  # the kinds the product sends (emails.kinds)

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"  # SendGrid refused it, or every attempt failed
        SKIPPED = "skipped"  # nobody to send it to (no such account, or nothing left to do)
        SUPPRESSED = "suppressed"  # the address bounced, was dropped or reported spam before

    Outcome = Outcome  # what the provider reported after accepting it (emails.outcomes)

    OPEN = (Status.PENDING, Status.SENDING)

    kind = models.CharField(max_length=32, choices=Kind.choices)
    address = models.EmailField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Defaults in the database too: the outbox writes its rows with plain SQL (emails.py).
    message_id = models.CharField(max_length=100, blank=True, db_default="")  # X-Message-Id
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True, db_default="")
    outcome_at = models.DateTimeField(null=True, blank=True)  # when SendGrid saw it happen
    outcome_reason = models.TextField(blank=True, db_default="")  # SendGrid's words

    class Meta:
        db_table = "authentication_email"
        ordering = ("id",)
        constraints = (
            models.UniqueConstraint(
                fields=("address", "kind"),
                condition=models.Q(status__in=("pending", "sending")),
                name="one_open_email_per_address_and_kind",
            ),
        )
        indexes = (
            models.Index(
                fields=("status", "next_attempt_at"),
                condition=models.Q(status__in=("pending", "sending")),
                name="open_emails",
            ),
            models.Index(fields=("address",), name="emails_by_address"),
            # the autoscaler's measured rate counts what was sent since its last run
            models.Index(fields=("sent_at",), name="emails_by_sent_at"),
            # doctor and the metrics list the failures of the last hour, with their reasons
            models.Index(
                fields=("failed_at",),
                condition=models.Q(status="failed"),
                name="failed_emails",
            ),
            # doctor and the metrics count the outcomes of the last hour
            models.Index(
                fields=("outcome_at",),
                condition=~models.Q(outcome=""),
                name="emails_by_outcome_at",
            ),
        )

    def __str__(self) -> str:
        return f"{self.kind} email {self.pk} ({self.status})"


class DeliveryReport(models.Model):
    """SendGrid reported this outcome of this email, which happened then: once per email
    and outcome, however often the event comes. The email's row keeps only the furthest
    outcome (an email delivered, then reported as spam, reads ``spam_report``); these keep
    each, so the figures of a window count what happened in it (``emails.selectors``)."""

    email = models.ForeignKey(Email, on_delete=models.CASCADE, related_name="+")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    happened = models.DateTimeField()  # SendGrid's time of the event

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=("email", "outcome"), name="one_report_per_email_and_outcome"
            ),
        )
        indexes = (models.Index(fields=("happened",), name="reports_by_time"),)

    def __str__(self) -> str:
        return f"email {self.email_id} {self.outcome} at {self.happened:%Y-%m-%d %H:%M:%S}"


class Suppression(models.Model):
    """An address no email is sent to: it hard-bounced, SendGrid dropped an email to it as
    invalid, or its owner reported an email as spam (``emails.suppressions``).
    Sending to it again would hurt the sender's reputation with every mailbox provider.
    Lifting it (the admin's action, ``manage.py lift_suppression``) keeps the row, with who
    lifted it and when; the address may be suppressed again later."""

    class Reason(models.TextChoices):
        BOUNCED = "bounced"
        DROPPED = "dropped"
        SPAM_REPORT = "spam_report"

    address = models.EmailField()
    reason = models.CharField(max_length=16, choices=Reason.choices)
    detail = models.TextField(blank=True)  # SendGrid's reason
    email = models.ForeignKey(
        Email, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.CharField(max_length=254, blank=True)

    class Meta:
        db_table = "authentication_suppression"
        ordering = ("-created_at", "-id")
        constraints = (
            models.UniqueConstraint(
                fields=("address",),
                condition=models.Q(lifted_at__isnull=True),
                name="one_active_suppression_per_address",
            ),
        )

    def __str__(self) -> str:
        state = f"lifted {self.lifted_at:%Y-%m-%d}" if self.lifted_at else "active"
        return f"{self.address} ({self.reason}, {state})"
