"""``Email`` and ``Suppression`` belong to the emails app now (emails/migrations/0001):
removed from this app's state only; their tables stay, with every row."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("authentication", "0007_delivery_outcomes_and_suppressions"),
        ("emails", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="suppression", name="email"),
                migrations.DeleteModel(name="Email"),
                migrations.DeleteModel(name="Suppression"),
            ],
            database_operations=[],
        ),
    ]
