"""The RemoSphere Django project.

The Celery app (``remosphere/celery.py``) is loaded from here on first use rather than
at import, so ``remosphere.envspec`` stays importable without Celery and Django (the
blueprint validator imports it). Tasks bind to the app explicitly, and
``celery -A remosphere`` finds ``remosphere.celery.app`` by itself.
"""

from typing import Any

__all__ = ("celery_app",)


def __getattr__(name: str) -> Any:
    if name == "celery_app":
        from remosphere.celery import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
