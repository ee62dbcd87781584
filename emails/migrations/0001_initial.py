"""The outbox (``Email``) and ``Suppression`` move here from the authentication app.

The tables stay as they are, with their names, rows, indexes and constraints: this
migration only tells Django's state that the models are this app's now
(``SeparateDatabaseAndState`` with no database operation), and points their content types
(the admin's log, permissions) at this app. authentication's 0008 removes them from its
own state after this has run.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

MOVED = ("email", "suppression")


def content_types_to_emails(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    ContentType.objects.using(db).filter(app_label="emails", model__in=MOVED).delete()
    ContentType.objects.using(db).filter(app_label="authentication", model__in=MOVED).update(
        app_label="emails"
    )


def content_types_to_authentication(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    ContentType.objects.using(db).filter(app_label="emails", model__in=MOVED).update(
        app_label="authentication"
    )


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("authentication", "0007_delivery_outcomes_and_suppressions"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Email',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('verification', 'Verification'), ('password_reset', 'Password Reset'), ('account_exists', 'Account Exists')], max_length=32)),
                        ('address', models.EmailField(max_length=254)),
                        ('status', models.CharField(choices=[('pending', 'Pending'), ('sending', 'Sending'), ('sent', 'Sent'), ('failed', 'Failed'), ('skipped', 'Skipped'), ('suppressed', 'Suppressed')], default='pending', max_length=16)),
                        ('attempts', models.PositiveIntegerField(default=0)),
                        ('next_attempt_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('claimed_until', models.DateTimeField(blank=True, null=True)),
                        ('sent_at', models.DateTimeField(blank=True, null=True)),
                        ('failed_at', models.DateTimeField(blank=True, null=True)),
                        ('last_error', models.TextField(blank=True)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('message_id', models.CharField(blank=True, db_default='', max_length=100)),
                        ('outcome', models.CharField(blank=True, choices=[('', 'not reported'), ('deferred', 'Deferred'), ('delivered', 'Delivered'), ('bounced', 'Bounced'), ('dropped', 'Dropped'), ('spam_report', 'Spam Report')], db_default='', max_length=16)),
                        ('outcome_at', models.DateTimeField(blank=True, null=True)),
                        ('outcome_reason', models.TextField(blank=True, db_default='')),
                    ],
                    options={
                        'db_table': 'authentication_email',
                        'ordering': ('id',),
                        'indexes': [models.Index(condition=models.Q(('status__in', ('pending', 'sending'))), fields=['status', 'next_attempt_at'], name='open_emails'), models.Index(fields=['address'], name='emails_by_address'), models.Index(fields=['sent_at'], name='emails_by_sent_at'), models.Index(condition=models.Q(('status', 'failed')), fields=['failed_at'], name='failed_emails'), models.Index(condition=models.Q(('outcome', ''), _negated=True), fields=['outcome_at'], name='emails_by_outcome_at')],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('status__in', ('pending', 'sending'))), fields=('address', 'kind'), name='one_open_email_per_address_and_kind')],
                    },
                ),
                migrations.CreateModel(
                    name='Suppression',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('address', models.EmailField(max_length=254)),
                        ('reason', models.CharField(choices=[('bounced', 'Bounced'), ('dropped', 'Dropped'), ('spam_report', 'Spam Report')], max_length=16)),
                        ('detail', models.TextField(blank=True)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('lifted_at', models.DateTimeField(blank=True, null=True)),
                        ('lifted_by', models.CharField(blank=True, max_length=254)),
                        ('email', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='emails.email')),
                    ],
                    options={
                        'db_table': 'authentication_suppression',
                        'ordering': ('-created_at', '-id'),
                        'constraints': [models.UniqueConstraint(condition=models.Q(('lifted_at__isnull', True)), fields=('address',), name='one_active_suppression_per_address')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_to_emails, content_types_to_authentication),
    ]
