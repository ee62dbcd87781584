"""The Celery application; ``celery -A remosphere worker`` finds it here.

Configuration comes from Django settings (``CELERY_*``), which read the env spec.
"""

import os

from celery import Celery

from remosphere.heartbeat import Heartbeat

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "remosphere.settings")

app = Celery("remosphere")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.steps["worker"].add(Heartbeat)
