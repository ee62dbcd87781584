"""The outbox on the real PostgreSQL and Redis, sending to the local SendGrid: one send
per email, whatever runs twice; nothing sent to an address with nobody to send it to."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.utils import timezone

from authentication.models import User
from emails import outbox
from emails.models import Email
from remosphere import broker
from standins.sendgrid import Answer
from tests.support import services
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-and-unusual-passphrase"
QUEUE = "remosphere"
Status = Email.Status


@pytest.fixture
def user() -> User:
    return User.objects.create_user("ada@example.com")


@pytest.fixture
def email(user) -> Email:
    return Email.objects.create(kind=Email.Kind.VERIFICATION, address=user.email)


def deliver(email: Email) -> outbox.Delivery:
    return outbox.email_deliver(email_id=email.pk)


def status_of(email: Email) -> str:
    email.refresh_from_db()
    return email.status


# --- delivering ------------------------------------------------------------------------


def test_delivering_sends_the_verification_link(email, fake_sendgrid, settings):
    settings.EMAIL_VERIFICATION_URL = "https://app.example.com/verify"
    deliver(email)
    assert "https://app.example.com/verify?token=" in fake_sendgrid.requests[0].text


def test_delivering_marks_the_email_sent(email, fake_sendgrid):
    deliver(email)
    assert status_of(email) == Status.SENT


def test_delivering_a_sent_email_again_sends_nothing(email, fake_sendgrid):
    deliver(email)
    deliver(email)
    assert len(fake_sendgrid.requests) == 1


def test_delivering_a_row_that_does_not_exist_does_nothing(fake_sendgrid):
    assert outbox.email_deliver(email_id=123456).outcome == "nothing-to-send"


def test_delivering_to_a_user_verified_meanwhile_skips_the_email(email, fake_sendgrid):
    User.objects.filter(email=email.address).update(email_verified_at=timezone.now())
    deliver(email)
    assert (status_of(email), fake_sendgrid.requests) == (Status.SKIPPED, [])


def test_an_email_to_an_address_without_an_account_is_skipped_unsent(fake_sendgrid):
    email = Email.objects.create(kind=Email.Kind.VERIFICATION, address="nobody@example.com")
    assert (deliver(email).outcome, status_of(email), fake_sendgrid.requests) == (
        "skipped",
        Status.SKIPPED,
        [],
    )


def test_each_delivery_attempt_is_counted_on_the_row(email, fake_sendgrid):
    fake_sendgrid.answer_next(Answer(500))
    deliver(email)
    Email.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
    deliver(email)
    email.refresh_from_db()
    assert (email.attempts, email.status) == (2, Status.SENT)


def test_an_email_another_worker_is_sending_is_not_sent_again(email, fake_sendgrid):
    claimed_until = timezone.now() + timedelta(seconds=60)
    Email.objects.filter(pk=email.pk).update(status=Status.SENDING, claimed_until=claimed_until)
    delivery = deliver(email)
    assert (delivery.outcome, fake_sendgrid.requests) == ("busy", [])


def test_an_email_whose_claim_expired_is_taken_over_and_sent(email, fake_sendgrid):
    expired = timezone.now() - timedelta(seconds=1)
    Email.objects.filter(pk=email.pk).update(status=Status.SENDING, claimed_until=expired)
    deliver(email)
    assert (status_of(email), len(fake_sendgrid.requests)) == (Status.SENT, 1)


def test_a_retry_that_comes_early_waits_for_the_due_time(email, fake_sendgrid):
    due = timezone.now() + timedelta(seconds=30)
    Email.objects.filter(pk=email.pk).update(next_attempt_at=due)
    delivery = deliver(email)
    assert (delivery.outcome, 28 < delivery.retry_in <= 30) == ("busy", True)


def test_a_sendgrid_500_leaves_the_email_pending_for_a_later_attempt(email, fake_sendgrid):
    fake_sendgrid.answer_next(Answer(500, {"errors": [{"message": "try later"}]}))
    delivery = deliver(email)
    assert (delivery.outcome, status_of(email), email.last_error) == (
        "retry",
        Status.PENDING,
        "SendGrid answered 500: try later",
    )


def test_a_sendgrid_400_marks_the_email_failed_with_sendgrids_reason(email, fake_sendgrid):
    fake_sendgrid.answer_next(Answer(400, {"errors": [{"message": "invalid to address"}]}))
    deliver(email)
    assert (status_of(email), email.last_error) == (
        Status.FAILED,
        "SendGrid refused the email (400): invalid to address",
    )


def test_the_last_attempt_failing_marks_the_email_failed(email, fake_sendgrid):
    Email.objects.filter(pk=email.pk).update(attempts=outbox.MAX_ATTEMPTS - 1)
    fake_sendgrid.answer_next(Answer(503))
    deliver(email)
    assert status_of(email) == Status.FAILED


# --- queueing --------------------------------------------------------------------------


def queue(address: str = "ada@example.com") -> None:
    outbox.email_queue(kind=Email.Kind.VERIFICATION, address=address)


def test_queueing_twice_keeps_one_open_email(user, redis_client):
    queue()
    queue()
    assert Email.objects.filter(status=Status.PENDING).count() == 1


def test_queueing_after_a_sent_email_opens_a_new_one(email, fake_sendgrid, redis_client):
    deliver(email)
    queue()
    assert sorted(Email.objects.values_list("status", flat=True)) == [
        "pending",
        "sent",
    ]


# --- the sweep -------------------------------------------------------------------------


def overdue(email: Email, seconds: int) -> None:
    Email.objects.filter(pk=email.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=seconds)
    )


def test_the_sweep_enqueues_an_email_overdue_past_its_threshold(email, redis_client):
    overdue(email, 600)
    outbox.emails_sweep(stale_after=300)
    assert redis_client.llen(QUEUE) == 1


def test_the_sweep_leaves_an_email_whose_task_may_still_be_queued(email, redis_client):
    overdue(email, 10)
    outbox.emails_sweep(stale_after=300)
    assert redis_client.llen(QUEUE) == 0


def test_the_sweep_enqueues_an_email_whose_worker_died_while_sending(email, redis_client):
    Email.objects.filter(pk=email.pk).update(
        status=Status.SENDING, claimed_until=timezone.now() - timedelta(seconds=1)
    )
    outbox.emails_sweep(stale_after=300)
    assert redis_client.llen(QUEUE) == 1


def test_the_sweep_leaves_sent_and_failed_emails(user, redis_client):
    long_ago = timezone.now() - timedelta(days=1)
    for status in (Status.SENT, Status.FAILED, Status.SKIPPED):
        Email.objects.create(
            kind=Email.Kind.VERIFICATION,
            address=user.email,
            status=status,
            next_attempt_at=long_ago,
        )
    outbox.emails_sweep(stale_after=300)
    assert redis_client.llen(QUEUE) == 0


# --- the retry schedule ----------------------------------------------------------------


def test_backoff_grows_exponentially_within_jitter(settings):
    settings.EMAIL_RETRY_BASE_SECONDS = 10
    assert all(40 <= outbox.retry_countdown(4) <= 80 for _ in range(50))


def test_backoff_is_capped(settings):
    settings.EMAIL_RETRY_BASE_SECONDS = 10
    assert outbox.retry_countdown(30) <= settings.EMAIL_RETRY_MAX_SECONDS


def test_retry_after_is_a_floor(settings):
    settings.EMAIL_RETRY_BASE_SECONDS = 1
    assert outbox.retry_countdown(1, retry_after=30) == 30


def test_cap_stays_below_the_broker_visibility_timeout(settings):
    assert (
        settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
        > settings.EMAIL_RETRY_MAX_SECONDS
    )


# --- every kind through the same outbox --------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "verified", "outcome"),
    [
        (Email.Kind.VERIFICATION, False, "sent"),
        (Email.Kind.VERIFICATION, True, "skipped"),
        (Email.Kind.PASSWORD_RESET, False, "sent"),
        (Email.Kind.PASSWORD_RESET, True, "sent"),
        (Email.Kind.ACCOUNT_EXISTS, False, "skipped"),
        (Email.Kind.ACCOUNT_EXISTS, True, "sent"),
    ],
)
def test_who_gets_each_kind(kind, verified, outcome, fake_sendgrid):
    User.objects.create_user(
        "ada@example.com", email_verified_at=timezone.now() if verified else None
    )
    email = Email.objects.create(kind=kind, address="ada@example.com")
    assert deliver(email).outcome == outcome


@pytest.mark.parametrize("kind", [Email.Kind.PASSWORD_RESET, Email.Kind.ACCOUNT_EXISTS])
def test_no_kind_is_sent_to_an_address_without_an_account(kind, fake_sendgrid):
    email = Email.objects.create(kind=kind, address="nobody@example.com")
    assert (deliver(email).outcome, fake_sendgrid.requests) == ("skipped", [])


def test_a_reset_email_carries_a_link_to_the_reset_page(fake_sendgrid, settings):
    settings.PASSWORD_RESET_URL = "https://app.example.com/reset-password"
    User.objects.create_user("ada@example.com")
    deliver(Email.objects.create(kind=Email.Kind.PASSWORD_RESET, address="ada@example.com"))
    assert "https://app.example.com/reset-password?token=" in fake_sendgrid.requests[0].text


def test_an_open_email_of_another_kind_does_not_hold_back_a_new_one(user, redis_client):
    queue()
    outbox.email_queue(kind=Email.Kind.PASSWORD_RESET, address="ada@example.com")
    assert sorted(Email.objects.values_list("kind", flat=True)) == [
        "password_reset",
        "verification",
    ]


# --- bounded without Celery's time limits (threads pool) ----------------------------------


def test_a_claim_that_came_back_too_late_to_send_safely_gives_the_row_back_unsent(
    email, fake_sendgrid, monkeypatch
):
    from servicespec import timeouts

    monkeypatch.setattr(timeouts, "send_deadline", lambda sendgrid_timeout: -1)
    delivery = deliver(email)
    assert (delivery.outcome, status_of(email), fake_sendgrid.requests) == (
        "retry",
        Status.PENDING,
        [],
    )


# --- a send SendGrid accepted is never sent again (issue 12) ---------------------------------


def test_an_accepted_send_is_noted_in_redis_before_its_row_is_marked(email, fake_sendgrid):
    from django.core.cache import cache

    deliver(email)
    assert (status_of(email), cache.get(outbox._accepted_key(email.pk)) is not None) == (
        Status.SENT,
        True,
    )


def test_a_row_whose_send_was_accepted_but_not_recorded_is_recorded_not_sent(
    email, fake_sendgrid, redis_client
):
    from django.core.cache import cache

    # An earlier attempt: SendGrid accepted, PostgreSQL did not take the record, and the
    # claim ran out (its worker died, or gave up waiting for the database).
    Email.objects.filter(pk=email.pk).update(
        status=Status.SENDING, attempts=1, claimed_until=timezone.now() - timedelta(seconds=1)
    )
    accepted_at = timezone.now() - timedelta(minutes=3)
    cache.set(outbox._accepted_key(email.pk), accepted_at.isoformat(), timeout=60)

    delivery = deliver(email)
    email.refresh_from_db()
    assert (delivery.outcome, email.status, email.sent_at, fake_sendgrid.requests) == (
        "sent",
        Status.SENT,
        accepted_at,
        [],
    )


def test_the_never_send_twice_note_is_written_through_a_half_open_episode(settings):
    """The cache's pooled connection to Redis goes quiet (no FIN, no RST); the note that
    SendGrid accepted an email is still written, on a fresh connection, and read back."""
    parts = urlsplit(services.REDIS_URL)
    proxy = TcpProxy(parts.hostname, parts.port)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{proxy.port}{parts.path}",
            "OPTIONS": broker.CACHE_OPTIONS,
        }
    }
    try:
        cache.set("warm", "the pool holds a connection now")
        proxy.silence()  # that connection goes quiet; new ones pass
        email = Email.objects.create(kind=Email.Kind.VERIFICATION, address="ada@example.com")
        sent_at = timezone.now()
        noted = outbox._note_accepted(email, sent_at, seconds=60)
        assert (noted, cache.get(outbox._accepted_key(email.pk))) == (True, sent_at.isoformat())
    finally:
        proxy.close()
