"""Registrations keep their own passwords until the email is confirmed (account
pre-hijacking), and one outbox holds every kind of email, addressed by address.

Existing data: an unverified account's password becomes its one registration (the account
keeps no usable password until it is confirmed); open verification emails move to the new
outbox, finished ones too (for the record).
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.contrib.auth.hashers import is_password_usable, make_password
from django.db import migrations, models


def forwards(apps, schema_editor):
    User = apps.get_model("authentication", "User")
    Registration = apps.get_model("authentication", "Registration")
    VerificationEmail = apps.get_model("authentication", "VerificationEmail")
    Email = apps.get_model("authentication", "Email")
    for user in User.objects.filter(email_verified_at__isnull=True).iterator():
        if is_password_usable(user.password):
            Registration.objects.create(user=user, password=user.password)
            user.password = make_password(None)
            user.save(update_fields=["password"])
    for old in VerificationEmail.objects.select_related("user").iterator():
        Email.objects.create(
            kind="verification",
            address=old.user.email,
            status=old.status,
            attempts=old.attempts,
            next_attempt_at=old.next_attempt_at,
            claimed_until=old.claimed_until,
            sent_at=old.sent_at,
            last_error=old.last_error,
            created_at=old.created_at,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("authentication", "0002_verification_email_outbox"),
    ]

    operations = [
        migrations.CreateModel(
            name="Registration",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("password", models.CharField(max_length=128)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="registrations",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={"ordering": ("-created_at", "-id")},
        ),
        migrations.CreateModel(
            name="Email",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=[("verification", "Verification")], max_length=32)),
                ("address", models.EmailField(max_length=254)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("sending", "Sending"),
                            ("sent", "Sent"),
                            ("failed", "Failed"),
                            ("skipped", "Skipped"),
                        ],
                        default="pending",
                        max_length=16,
                    ),
                ),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("next_attempt_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("claimed_until", models.DateTimeField(blank=True, null=True)),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                ("last_error", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "ordering": ("id",),
                "indexes": [
                    models.Index(
                        condition=models.Q(("status__in", ("pending", "sending"))),
                        fields=["status", "next_attempt_at"],
                        name="open_emails",
                    ),
                    models.Index(fields=["address"], name="emails_by_address"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("status__in", ("pending", "sending"))),
                        fields=("address", "kind"),
                        name="one_open_email_per_address_and_kind",
                    )
                ],
            },
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.DeleteModel(name="VerificationEmail"),
    ]
