"""The outbox and the suppressions moved from the authentication app to the emails app
with their data: a database built at the schema from before the move, filled with rows
in every state, keeps every row, index and constraint through the migration, and the
pipeline still sends the pending email."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from emails import outbox
from emails.models import Email, Suppression

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_THE_MOVE = [("authentication", "0007_delivery_outcomes_and_suppressions"), ("emails", None)]
TABLES = {
    "authentication_email": {
        "one_open_email_per_address_and_kind",
        "open_emails",
        "emails_by_address",
        "emails_by_sent_at",
        "failed_emails",
        "emails_by_outcome_at",
    },
    "authentication_suppression": {"one_active_suppression_per_address"},
}
ADDRESS = "ada@example.com"


def migrate(targets: list[tuple[str, str | None]]):
    """Migrate the test database to ``targets``; the apps (historical models) there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


def latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def named_constraints(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, table))


@pytest.fixture
def old_database():
    """The test database at the schema from before the move, then back at the latest."""
    old = migrate(BEFORE_THE_MOVE)
    yield old
    migrate(latest())


def fill(old) -> dict[str, int]:
    """Rows in every state and outcome, and suppressions active and lifted, written with
    the models as they were."""
    OldUser = old.get_model("authentication", "User")
    OldEmail = old.get_model("authentication", "Email")
    OldSuppression = old.get_model("authentication", "Suppression")
    now = timezone.now()
    OldUser.objects.create(email=ADDRESS, password="!", is_active=True)
    ids = {}
    for status in ("pending", "sending", "sent", "failed", "skipped", "suppressed"):
        ids[status] = OldEmail.objects.create(
            kind="password_reset",
            address=ADDRESS if status == "pending" else f"{status}@example.com",
            status=status,
            attempts=0 if status == "pending" else 2,
            next_attempt_at=now - timedelta(seconds=1),
            claimed_until=now + timedelta(minutes=1) if status == "sending" else None,
            sent_at=now if status == "sent" else None,
            failed_at=now if status == "failed" else None,
            last_error="SendGrid refused it" if status == "failed" else "",
        ).pk
    for outcome in ("deferred", "delivered", "bounced", "dropped", "spam_report"):
        ids[outcome] = OldEmail.objects.create(
            kind="verification",
            address=f"{outcome}@example.com",
            status="sent",
            sent_at=now,
            message_id=f"msg-{outcome}",
            outcome=outcome,
            outcome_at=now,
            outcome_reason=f"said: {outcome}",
        ).pk
    OldSuppression.objects.create(
        address="bounced@example.com", reason="bounced", detail="550", email_id=ids["bounced"]
    )
    OldSuppression.objects.create(
        address="dropped@example.com", reason="dropped", lifted_at=now, lifted_by="admin: ops"
    )
    return ids


def rows(table: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} ORDER BY id")  # noqa: S608 - our own tables
        return cursor.fetchall()


def test_every_row_index_and_constraint_survives_the_move(old_database):
    fill(old_database)
    before = {table: rows(table) for table in TABLES}
    constraints_before = {table: named_constraints(table) for table in TABLES}

    migrate(latest())

    assert (
        {table: rows(table) for table in TABLES},
        {table: named_constraints(table) >= TABLES[table] for table in TABLES},
        {table: named_constraints(table) for table in TABLES},
        Email.objects.count(),
        Suppression.objects.filter(lifted_at__isnull=True).count(),
    ) == (before, dict.fromkeys(TABLES, True), constraints_before, 11, 1)


def test_the_moved_constraints_still_hold(old_database):
    fill(old_database)
    migrate(latest())
    with pytest.raises(IntegrityError), transaction.atomic():  # a second open email
        Email.objects.create(kind="password_reset", address=ADDRESS)
    with pytest.raises(IntegrityError), transaction.atomic():  # a second active one
        Suppression.objects.create(address="bounced@example.com", reason="bounced")


def test_the_admin_and_permissions_follow_the_models_to_the_emails_app(old_database):
    ContentType.objects.get_or_create(app_label="authentication", model="email")
    ContentType.objects.get_or_create(app_label="authentication", model="suppression")
    migrate(latest())
    assert sorted(
        ContentType.objects.filter(model__in=("email", "suppression")).values_list(
            "app_label", "model"
        )
    ) == [("emails", "email"), ("emails", "suppression")]


def test_the_pipeline_sends_the_pending_email_after_the_move(old_database, fake_sendgrid):
    ids = fill(old_database)
    migrate(latest())

    delivery = outbox.email_deliver(email_id=ids["pending"])

    pending = Email.objects.get(pk=ids["pending"])
    assert (str(delivery), pending.status, len(fake_sendgrid.requests)) == (
        "password_reset email sent",
        Email.Status.SENT,
        1,
    )
