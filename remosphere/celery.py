"""The Celery application; ``celery -A remosphere worker`` finds it here.

Configuration comes from Django settings (``CELERY_*``), which read the env spec.
"""

import logging
import os

from celery import Celery, signals

from operations import queues
from operations.liveness import Heartbeat, quiet_probes
from remosphere import logredact

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "remosphere.settings")

app = Celery("remosphere")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.steps["worker"].add(Heartbeat)


# Every task message says when it was published: the queue's latency is its oldest
# message's age, what the autoscaler scales on.
signals.before_task_publish.connect(queues.stamp_published_at)


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def _redact_celery_logs(logger: logging.Logger, **_: object) -> None:
    """The worker replaces the root logger's handlers with its own: mask secrets there
    too (remosphere.logredact), and leave out the liveness probes' comings and goings."""
    quiet_probes(logger.handlers)  # first: it reads the record's arguments, unformatted
    logredact.install(logger.handlers)
