"""Rate limits on register, login and resend: 429 with Retry-After, counted in Redis so
that every web instance shares them. Real Gunicorn processes, the real Redis."""

from __future__ import annotations

import pytest

from tests.support import services
from tests.support.http import call
from tests.support.web import WebProcess

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-and-unusual-passphrase"
BODIES = {
    "register": {"email": "limited@example.com", "password": PASSWORD},
    "login": {"email": "limited@example.com", "password": "wrong-passphrase-here"},
    "resend-verification": {"email": "limited@example.com"},
}


@pytest.fixture
def limited_env(redis_client) -> dict[str, str]:
    """Every limited endpoint at 2 requests a minute, counted in the tests' Redis."""
    from django.db import connection

    return {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": services.database_url(connection.settings_dict["NAME"]),
        "REDIS_URL": services.REDIS_URL,
        **{f"THROTTLE_RATE_{scope}": "2/minute" for scope in ("REGISTER", "LOGIN", "RESEND")},
    }


def post(web: WebProcess, endpoint: str):
    return call("POST", f"{web.url}/api/auth/{endpoint}", BODIES[endpoint])


@pytest.mark.parametrize("endpoint", sorted(BODIES))
def test_a_client_over_the_limit_gets_429_with_retry_after(start_web, limited_env, endpoint):
    web = start_web(limited_env)
    post(web, endpoint)
    post(web, endpoint)
    third = post(web, endpoint)
    assert (third.status, int(third.headers["Retry-After"]) > 0) == (429, True)


def test_the_limit_is_shared_by_every_web_instance(start_web, limited_env):
    first, second = start_web(limited_env), start_web(limited_env)
    post(first, "login")
    post(first, "login")
    assert post(second, "login").status == 429
