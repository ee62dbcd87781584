from django.apps import AppConfig


class EmailsConfig(AppConfig):
    """Every email end to end: the outbox, sending through SendGrid, what became of each
    email (the Event Webhook), suppressed addresses, the sweep."""

    name = "emails"
    verbose_name = "Emails"
