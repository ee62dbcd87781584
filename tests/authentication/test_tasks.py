"""The retry schedule of the email task."""

from authentication.tasks import retry_countdown


def test_backoff_grows_exponentially_within_jitter(settings):
    settings.EMAIL_RETRY_BASE_SECONDS = 10
    assert all(40 <= retry_countdown(3) <= 80 for _ in range(50))


def test_backoff_is_capped(settings):
    settings.EMAIL_RETRY_BASE_SECONDS = 10
    assert retry_countdown(30) <= settings.EMAIL_RETRY_MAX_SECONDS


def test_retry_after_is_a_floor(settings):
    settings.EMAIL_RETRY_BASE_SECONDS = 1
    assert retry_countdown(0, retry_after=30) == 30


def test_cap_stays_below_the_broker_visibility_timeout(settings):
    assert (
        settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
        > settings.EMAIL_RETRY_MAX_SECONDS
    )
