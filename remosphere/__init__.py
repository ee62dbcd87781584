"""The RemoSphere Django project: the composition root (settings, URLs, the Celery app,
WSGI) and the primitives every app uses.

The Celery app is loaded with Django, as Celery's guide does it, so that the apps'
``shared_task``s bind to it.
"""

from remosphere.celery import app as celery_app

__all__ = ("celery_app",)
