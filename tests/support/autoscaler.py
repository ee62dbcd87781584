"""The autoscaler cron job's environment for the tests, pointed at the Render stand-in."""

from __future__ import annotations

import secrets

from standins.render_api import FakeRender


def autoscaler_env(render: FakeRender, **settings: str) -> dict[str, str]:
    """The autoscaler cron job's environment as Render gives it (production mode), on the
    tests' PostgreSQL database and Redis, its API calls going to ``render``; ``settings``
    (``AUTOSCALE_*``) on top. Call it inside a test that has the database."""
    from django.db import connection

    from tests.support import services

    return {
        "PATH": "/usr/bin:/bin",
        "RENDER": "true",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": services.database_url(connection.settings_dict["NAME"]),
        "REDIS_URL": services.REDIS_URL,
        "RENDER_API_KEY": render.api_key,
        "RENDER_API_URL": render.url,
        **settings,
    }
