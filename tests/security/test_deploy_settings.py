"""Production settings: Django's deploy checklist passes, with a key shaped like the one
Render generates, and Render's plain-HTTP health check is not redirected."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.test import Client

ROOT = Path(__file__).resolve().parents[2]


def test_check_deploy_gives_no_warnings_in_production():
    env = {
        "PATH": os.environ["PATH"],
        "RENDER": "true",
        # What Render's generateValue gives: 256 random bits, base64 (44 characters).
        "SECRET_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "DATABASE_URL": "postgresql://remosphere@127.0.0.1:5432/remosphere",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "RENDER_EXTERNAL_HOSTNAME": "remosphere-web.onrender.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert (result.returncode, result.stdout.strip()) == (
        0,
        "System check identified no issues (0 silenced).",
    ), result.stderr


def test_health_checks_answer_plain_http_while_the_api_redirects_to_https(settings):
    settings.SECURE_SSL_REDIRECT = True  # as in production; the exemptions are the real ones
    client = Client()
    assert (client.get("/healthz").status_code, client.get("/api/auth/me").status_code) == (
        200,
        301,
    )
