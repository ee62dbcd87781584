"""Rate limits: 429 with Retry-After, counted atomically in Redis so that every web
instance shares them, per client address (IPv6 per /64) and per account. Real Gunicorn
processes behind a simulated Render proxy (X-Forwarded-For), the real Redis."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.utils import timezone

from authentication.models import User
from stack.http import call
from stack.web import WebProcess
from tests.support import services

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-and-unusual-passphrase"
BODIES = {
    "register": {"email": "limited@example.com", "password": PASSWORD},
    "login": {"email": "limited@example.com", "password": "wrong-passphrase-here"},
    "resend-verification": {"email": "limited@example.com"},
    "verify-email": {"token": "not-a-token", "password": PASSWORD},
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
        "THROTTLE_RATE_LOGIN_ACCOUNT": "1000/minute",
    }


def post(web: WebProcess, endpoint: str, client: str = "203.0.113.7", body: dict | None = None):
    """A request as Render's proxy forwards it: the client's address last in the header."""
    return call(
        "POST",
        f"{web.url}/api/auth/{endpoint}",
        body or BODIES[endpoint],
        headers={"X-Forwarded-For": client},
    )


@pytest.mark.parametrize("endpoint", sorted(BODIES))
def test_a_client_over_the_limit_gets_429_with_retry_after(start_web, limited_env, endpoint):
    web = start_web(limited_env)
    post(web, endpoint)
    post(web, endpoint)
    third = post(web, endpoint)
    assert (third.status, third.json["code"], int(third.headers["Retry-After"]) > 0) == (
        429,
        "throttled",
        True,
    )


def test_the_limit_is_shared_by_every_web_instance(start_web, limited_env):
    first, second = start_web(limited_env), start_web(limited_env)
    post(first, "login")
    post(first, "login")
    assert post(second, "login").status == 429


def test_simultaneous_requests_never_overshoot_the_limit(start_web, limited_env):
    """Sixteen logins at once from one address against 10/minute: exactly ten are
    answered, six refused (a read-then-write count let 12-16 through)."""
    env = {**limited_env, "THROTTLE_RATE_LOGIN": "10/minute", "WEB_CONCURRENCY": "2"}
    web = start_web(env)
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda _: post(web, "login").status, range(16)))
    assert sorted(statuses) == [400] * 10 + [429] * 6


def test_an_ipv6_client_is_counted_by_its_64_network(start_web, limited_env):
    web = start_web(limited_env)
    post(web, "login", client="2001:db8:1:2::1")
    post(web, "login", client="2001:db8:1:2:aaaa::99")
    same_network = post(web, "login", client="2001:db8:1:2:ffff:ffff:ffff:ffff")
    other_network = post(web, "login", client="2001:db8:1:3::1")
    assert (same_network.status, other_network.status) == (429, 400)


def test_guesses_at_one_account_from_many_addresses_are_limited(start_web, limited_env):
    User.objects.create_user("owner@example.com", PASSWORD, email_verified_at=timezone.now())
    env = {**limited_env, "THROTTLE_RATE_LOGIN_ACCOUNT": "10/5minutes"}
    web = start_web(env)
    wrong = {"email": "owner@example.com", "password": "a-guess-that-is-wrong"}
    guesses = [post(web, "login", client=f"198.51.100.{n}", body=wrong).status for n in range(10)]
    right = post(web, "login", client="198.51.100.200", body={**wrong, "password": PASSWORD})
    # At most two windows: the sliding window lets the guesses slide out, a short lock-out.
    assert (guesses, right.status, 0 < int(right.headers["Retry-After"]) <= 600) == (
        [400] * 10,
        429,
        True,
    )


def test_the_admin_login_is_limited_per_address_across_instances(start_web, limited_env):
    first, second = start_web(limited_env), start_web(limited_env)
    statuses = [admin_login(web, "someone@example.com").status for web in (first, first, second)]
    assert statuses[2] == 429, statuses


def test_the_admin_login_is_limited_per_account(start_web, limited_env):
    env = {
        **limited_env,
        "THROTTLE_RATE_LOGIN": "100/minute",
        "THROTTLE_RATE_LOGIN_ACCOUNT": "3/minute",
    }
    web = start_web(env)
    statuses = [
        admin_login(web, "staff@example.com", client=f"198.51.100.{n}").status for n in range(4)
    ]
    assert statuses == [200, 200, 200, 429]


def admin_login(web: WebProcess, username: str, client: str = "203.0.113.7"):
    """A wrong password on the admin's login form, with its CSRF token, as a browser."""
    import http.cookiejar
    import urllib.parse
    import urllib.request

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    url = f"{web.url}/admin/login/"
    page = opener.open(url).read().decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": csrf, "username": username, "password": "wrong-guess-123"}
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - the test's own server
        url, data=form, headers={"X-Forwarded-For": client, "Referer": url}
    )
    try:
        with opener.open(request) as response:
            return response
    except urllib.error.HTTPError as error:
        return error
