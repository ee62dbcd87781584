from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Running the service: the queue's backlog, the autoscaler, metrics, doctor."""

    name = "operations"
    verbose_name = "Operations"
