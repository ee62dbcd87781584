"""The limiter on the real Redis (Django's cache): exact counts, a window that slides,
Retry-After that tells the truth, and client addresses as Render's proxy forwards them."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from remosphere import ratelimit


@pytest.fixture
def clock(monkeypatch, redis_client):
    """The limiter's clock, set by the test (seconds since the epoch)."""
    now = {"t": 1_800_000_000.0}  # on a minute boundary
    monkeypatch.setattr(ratelimit.time, "time", lambda: now["t"])
    return now


def hits(n: int, rate: str = "10/minute", who: str = "203.0.113.7") -> list[bool]:
    return [ratelimit.hit("test", who, rate).allowed for _ in range(n)]


def test_exactly_the_limit_passes(clock):
    assert hits(12) == [True] * 10 + [False] * 2


def test_a_burst_at_the_end_of_a_window_is_still_counted_at_the_start_of_the_next(clock):
    clock["t"] += 59
    first = hits(10)
    clock["t"] += 2  # a new fixed window, but only 2 s later
    assert (first, hits(1)) == ([True] * 10, [False])


def test_the_previous_window_fades_as_it_slides_out(clock):
    hits(10)
    clock["t"] += 60 + 30  # half of the last minute overlaps the full window: weight 5
    assert hits(6) == [True] * 5 + [False]


def test_a_refusal_says_when_the_next_attempt_passes(clock):
    hits(10)
    refused = ratelimit.hit("test", "203.0.113.7", "10/minute")
    clock["t"] += refused.retry_after
    assert (refused.allowed, 0 < refused.retry_after <= 120, hits(1)) == (False, True, [True])


def test_counts_are_per_client_and_per_scope(clock):
    hits(10)
    other_client = hits(1, who="203.0.113.8")
    other_scope = ratelimit.hit("another-scope", "203.0.113.7", "10/minute").allowed
    assert (other_client, other_scope) == ([True], True)


def test_an_unreachable_cache_lets_the_request_through(settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }
    verdict = ratelimit.hit("test", "203.0.113.7", "1/minute")
    assert (verdict.allowed, "not checked" in caplog.text) == (True, True)


@pytest.mark.parametrize(
    ("forwarded", "remote", "expected"),
    [
        ("203.0.113.7", "10.0.0.1", "203.0.113.7"),
        ("1.2.3.4, 203.0.113.7", "10.0.0.1", "203.0.113.7"),  # a spoofed first hop
        (None, "198.51.100.2", "198.51.100.2"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "10.0.0.1", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "10.0.0.1", "203.0.113.7"),
        ("not-an-address", "10.0.0.1", "not-an-address"),
    ],
)
def test_the_client_is_the_address_renders_proxy_saw(forwarded, remote, expected):
    meta = {"REMOTE_ADDR": remote}
    if forwarded:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    request = RequestFactory().get("/", **meta)
    assert ratelimit.client_address(request) == expected


def test_the_ipv6_prefix_is_configurable(settings):
    settings.THROTTLE_IPV6_PREFIX = 48
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="2001:db8:1:2::1")
    assert ratelimit.client_address(request) == "2001:db8:1::/48"
