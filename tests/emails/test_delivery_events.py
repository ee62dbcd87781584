"""What SendGrid reports about a sent email, applied to its outbox row: correlated by the
row's id, its message id and its address; only ever moving forward; the same news twice
or late news changing nothing; bad addresses suppressed, and a suppressed address never
sent to again, whatever kind of email, until an operator lifts it."""

from __future__ import annotations

import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from authentication.models import User
from emails import delivery_events, outbox, suppressions
from emails.models import DeliveryReport, Email, Suppression
from emails.outcomes import DeliveryEvent
from emails.sendgrid import events as sendgrid_events
from standins.sendgrid_events import event

pytestmark = pytest.mark.django_db

Outcome, Status = Email.Outcome, Email.Status
ADDRESS = "ada@example.com"


@pytest.fixture
def sent(fake_sendgrid) -> Email:
    """A verification email the worker sent: the row knows SendGrid's message id."""
    User.objects.create_user(ADDRESS)
    email = Email.objects.create(kind=Email.Kind.VERIFICATION, address=ADDRESS)
    outbox.email_deliver(email_id=email.pk)
    email.refresh_from_db()
    return email


def about(row: Email, kind: str, *, at: float | None = None, **overrides) -> dict:
    found = event(
        kind,
        email=row.address,
        email_id=row.pk,
        message_id=row.message_id,
        category=row.kind,
        at=at,
    )
    return {**found, **overrides}


def outcome_of(email: Email) -> tuple[str, str]:
    email.refresh_from_db()
    return email.outcome, email.outcome_reason


def apply(*events) -> dict:
    return {
        k: v
        for k, v in delivery_events.events_apply(
            sendgrid_events.translate(e) for e in events
        ).items()
        if v
    }


# --- correlation -----------------------------------------------------------------------


def test_a_send_carries_the_row_id_and_its_kind_and_the_row_keeps_the_message_id(
    sent, fake_sendgrid
):
    [request] = fake_sendgrid.requests
    assert (
        request.body["custom_args"],
        request.body["categories"],
        sent.message_id,
    ) == ({"remosphere_email_id": str(sent.pk)}, ["verification"], request.message_id)


def test_delivered_is_recorded_with_sendgrid_s_time(sent):
    at = time.time() - 30
    assert apply(about(sent, "delivered", at=at)) == {"applied": 1}
    sent.refresh_from_db()
    assert (sent.outcome, int(sent.outcome_at.timestamp())) == (Outcome.DELIVERED, int(at))


# --- forward only, whatever the order and however often ----------------------------------


def test_deferred_then_delivered_moves_forward(sent):
    apply(about(sent, "deferred"))
    apply(about(sent, "delivered"))
    assert outcome_of(sent)[0] == Outcome.DELIVERED


def test_delivered_after_bounced_stays_bounced(sent):
    apply(about(sent, "bounce"))
    assert (apply(about(sent, "delivered")), outcome_of(sent)[0]) == (
        {"unchanged": 1},
        Outcome.BOUNCED,
    )


def test_deferred_after_delivered_changes_nothing(sent):
    apply(about(sent, "delivered"))
    assert (apply(about(sent, "deferred")), outcome_of(sent)[0]) == (
        {"unchanged": 1},
        Outcome.DELIVERED,
    )


def test_a_retried_batch_with_new_event_ids_changes_nothing(sent):
    """SendGrid's event ids are not stable across its retries: what an event means for the
    row is what makes it a duplicate."""
    first = about(sent, "bounce", reason="550 first")
    retried = {**first, "sg_event_id": "a-different-id", "reason": "550 retried"}
    apply(first)
    assert (apply(retried), outcome_of(sent)) == (
        {"unchanged": 1},
        (Outcome.BOUNCED, "550 first"),
    )


def test_a_spam_report_after_delivery_is_recorded_and_suppresses(sent):
    apply(about(sent, "delivered"), about(sent, "spamreport"))
    assert (outcome_of(sent)[0], suppressions.suppression_of(ADDRESS).reason) == (
        Outcome.SPAM_REPORT,
        "spam_report",
    )


# --- suppression -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "overrides", "suppressed"),
    [
        ("bounce", {}, "bounced"),
        ("blocked", {}, None),  # a block is the receiving server's policy, not the address
        ("dropped", {"reason": "Invalid"}, "dropped"),
        ("dropped", {"reason": "Bounced Address"}, "dropped"),
        ("dropped", {"reason": "Spam Reporting Address"}, "dropped"),
        ("dropped", {"reason": "Unsubscribed Address"}, None),
        # the sender's own fault: it must never suppress every recipient as "Invalid" does
        ("dropped", {"reason": "Invalid SMTPAPI header"}, None),
        ("dropped", {"reason": "Spam Content (if spam checker app enabled)"}, None),
        ("dropped", {"reason": "Recipient List over Package Quota"}, None),
        ("dropped", {"reason": "Invalid, they say"}, None),  # unknown: recorded, never suppresses
        ("deferred", {}, None),
        ("delivered", {}, None),
    ],
    ids=["hard-bounce", "blocked", "invalid", "bounced-before", "spam-reported-before",
         "unsubscribed", "smtpapi-header", "spam-content", "quota", "unknown-reason",
         "deferred", "delivered"],
)  # fmt: skip
def test_what_suppresses_an_address(sent, kind, overrides, suppressed):
    apply(about(sent, kind, **overrides))
    found = suppressions.suppression_of(ADDRESS)
    assert (found.reason if found else None) == suppressed


@pytest.mark.parametrize("kind", [Email.Kind.VERIFICATION, Email.Kind.PASSWORD_RESET])
def test_a_suppressed_address_gets_no_email_of_any_kind(sent, fake_sendgrid, kind):
    apply(about(sent, "bounce"))
    User.objects.filter(email=ADDRESS).update(email_verified_at=timezone.now())
    later = Email.objects.create(kind=kind, address=ADDRESS)
    delivery = outbox.email_deliver(email_id=later.pk)
    later.refresh_from_db()
    assert (delivery.outcome, later.status, later.last_error.startswith("suppressed: it bounced"),
            len(fake_sendgrid.requests)) == ("suppressed", Status.SUPPRESSED, True, 1)  # fmt: skip


def test_a_lifted_suppression_lets_the_next_email_go(sent, fake_sendgrid):
    apply(about(sent, "bounce"))
    suppressions.suppression_lift(address=ADDRESS, by="test")
    later = Email.objects.create(kind=Email.Kind.VERIFICATION, address=ADDRESS)
    outbox.email_deliver(email_id=later.pk)
    assert (len(fake_sendgrid.requests), Suppression.objects.get().lifted_by) == (2, "test")


def test_an_old_bounce_arriving_after_the_lift_does_not_suppress_again(sent):
    bounce = about(sent, "bounce", at=time.time() - 600)
    apply(bounce)
    suppressions.suppression_lift(address=ADDRESS, by="test")
    apply({**bounce, "sg_event_id": "retried"})
    assert suppressions.suppression_of(ADDRESS) is None


def test_a_new_bounce_after_the_lift_suppresses_again(sent, fake_sendgrid):
    apply(about(sent, "bounce", at=time.time() - 600))
    suppressions.suppression_lift(address=ADDRESS, by="test")
    later = Email.objects.create(kind=Email.Kind.VERIFICATION, address=ADDRESS)
    outbox.email_deliver(email_id=later.pk)
    later.refresh_from_db()
    apply(about(later, "bounce"))
    assert Suppression.objects.filter(address=ADDRESS).count() == 2


def test_the_command_lifts_a_suppression_and_lists_them(sent):
    apply(about(sent, "bounce"))
    listed = StringIO()
    call_command("lift_suppression", "--list", stdout=listed)
    out = StringIO()
    call_command("lift_suppression", "ADA@example.com", "--by", "support", stdout=out)
    assert (ADDRESS in listed.getvalue(), "lifted: ada@example.com" in out.getvalue(),
            suppressions.suppression_of(ADDRESS)) == (True, True, None)  # fmt: skip


def test_the_command_says_so_when_the_address_is_not_suppressed(db):
    with pytest.raises(CommandError, match="not suppressed"):
        call_command("lift_suppression", "nobody@example.com")


def test_the_admin_action_lifts_the_selected_suppressions(sent, admin_client):
    apply(about(sent, "bounce"))
    suppression = Suppression.objects.get()
    response = admin_client.post(
        "/admin/emails/suppression/",
        {"action": "lift", "_selected_action": [suppression.pk]},
        follow=True,
    )
    suppression.refresh_from_db()
    assert (response.status_code, suppression.lifted_at is not None,
            suppression.lifted_by.startswith("admin: ")) == (200, True, True)  # fmt: skip


def test_the_admin_lists_and_filters_the_outbox_by_outcome(sent, admin_client):
    apply(about(sent, "bounce"))
    bounced = admin_client.get("/admin/emails/email/", {"outcome": "bounced"})
    delivered = admin_client.get("/admin/emails/email/", {"outcome": "delivered"})
    assert (ADDRESS in bounced.content.decode(), ADDRESS in delivered.content.decode()) == (
        True,
        False,
    )


# --- what is counted and skipped -----------------------------------------------------------


def test_other_events_are_counted_and_skipped_never_raised(sent):
    foreign = event("delivered", email=ADDRESS, email_id=sent.pk, message_id="someoneElses")
    no_arg = {k: v for k, v in about(sent, "delivered").items() if k != "remosphere_email_id"}
    tally = apply(
        about(sent, "open"),
        about(sent, "processed"),
        about(sent, "something_new"),
        about(sent, "delivered", remosphere_email_id="999999"),
        foreign,
        no_arg,
        about(sent, "delivered", email="mallory@example.com"),
        "not an event",
        [1, 2],
        None,
        {"event": 7},
        about(sent, "delivered", remosphere_email_id=True),
        about(sent, "delivered", remosphere_email_id="-3"),
        about(sent, "delivered", remosphere_email_id="1e9"),
        about(sent, "delivered", remosphere_email_id="9" * 40),
        about(sent, "delivered", timestamp="yesterday"),
        about(sent, "delivered", timestamp=1e30),
        about(sent, "delivered", email=["a@example.com"]),
    )
    assert (tally, outcome_of(sent)[0]) == (
        {
            "untracked": 2,
            "unknown_type": 1,
            "no_such_email": 1,
            "foreign": 3,
            "malformed": 11,
        },
        Outcome.NONE,
    )


def test_the_outbox_and_suppressions_old_admin_addresses_lead_to_their_new_ones(admin_client):
    """They were the authentication app's pages before email had an app of its own."""
    answers = [
        admin_client.get("/admin/authentication/email/", {"outcome": "bounced"}),
        admin_client.get("/admin/authentication/suppression/7/change/"),
    ]
    assert [(a.status_code, a["Location"]) for a in answers] == [
        (301, "/admin/emails/email/?outcome=bounced"),
        (301, "/admin/emails/suppression/7/change/"),
    ]


# --- blocks, delayed bounces ---------------------------------------------------------------


def test_a_block_is_its_own_outcome_not_a_bounce(sent):
    apply(about(sent, "blocked"))
    assert outcome_of(sent) == (Outcome.BLOCKED, "550 blocked by policy")


def test_a_delayed_bounce_without_a_message_id_is_applied_by_the_row_id_and_address(sent):
    delayed = about(sent, "bounce")
    del delayed["sg_message_id"]
    suppressed = suppressions.suppression_of
    assert (apply(delayed), outcome_of(sent)[0], suppressed(ADDRESS) is not None) == (
        {"applied": 1}, Outcome.BOUNCED, True,
    )  # fmt: skip


def test_a_delayed_bounce_without_custom_args_goes_to_the_last_email_sent_before_it(
    sent, fake_sendgrid
):
    later = Email.objects.create(kind=Email.Kind.PASSWORD_RESET, address=ADDRESS)
    outbox.email_deliver(email_id=later.pk)
    later.refresh_from_db()
    bounce = about(later, "bounce", at=time.time() + 60)  # it comes back a minute later
    delayed = {k: v for k, v in bounce.items() if k != "remosphere_email_id"}
    delayed["sg_message_id"] = ""
    stranger = {**delayed, "email": "nobody-we-wrote-to@example.com"}
    tally = apply(delayed, stranger)
    assert (tally, outcome_of(later)[0], outcome_of(sent)[0]) == (
        {"applied": 1, "foreign": 1}, Outcome.BOUNCED, Outcome.NONE,
    )  # fmt: skip


# --- hostile text from a receiving mail server ------------------------------------------


@pytest.mark.parametrize(
    "said",
    ["550 no such user\x00 here", "550 \ud800 lone surrogate", "550 " + "x" * 100_000],
    ids=["nul", "lone-surrogate", "100k"],
)
def test_hostile_text_is_stored_clean_and_never_costs_the_batch(sent, fake_sendgrid, said):
    other = Email.objects.create(kind=Email.Kind.PASSWORD_RESET, address="grace@example.com")
    outbox.email_deliver(email_id=other.pk)
    other.refresh_from_db()
    tally = apply(about(sent, "bounce", reason=said), about(other, "delivered"))
    stored = outcome_of(sent)[1]
    assert (
        tally,
        "\x00" in stored,
        len(stored) <= 1000,
        stored.encode("utf-8").decode("utf-8") == stored,
        outcome_of(other)[0],
    ) == ({"applied": 2}, False, True, True, Outcome.DELIVERED)


# --- a batch, applied together ------------------------------------------------------------


def sent_to(address: str) -> Email:
    email = Email.objects.create(kind=Email.Kind.PASSWORD_RESET, address=address)
    outbox.email_deliver(email_id=email.pk)
    email.refresh_from_db()
    return email


def test_a_batch_moves_each_row_to_its_furthest_news_and_counts_every_event(sent, fake_sendgrid):
    other = sent_to("grace@example.com")
    tally = apply(
        about(sent, "deferred"), about(sent, "delivered"), about(sent, "deferred"),
        about(other, "delivered"), about(other, "bounce"),
    )  # fmt: skip
    reports = sorted(DeliveryReport.objects.values_list("email_id", "outcome"))
    assert (tally, outcome_of(sent)[0], outcome_of(other)[0], reports) == (
        {"applied": 4, "unchanged": 1},
        Outcome.DELIVERED,
        Outcome.BOUNCED,
        sorted([(sent.pk, "deferred"), (sent.pk, "delivered"),
                (other.pk, "delivered"), (other.pk, "bounced")]),
    )  # fmt: skip


def test_an_event_the_database_refuses_is_skipped_and_the_rest_applied(sent, fake_sendgrid):
    """Text the translation did not clean (a NUL, which PostgreSQL refuses): the batch is
    applied again one event at a time, and only that one is lost."""
    other = sent_to("grace@example.com")
    now = timezone.now()
    tally = delivery_events.events_apply([
        DeliveryEvent(sent.pk, sent.address, Outcome.BOUNCED, now, "bad\x00text", None, True),
        DeliveryEvent(other.pk, other.address, Outcome.DELIVERED, now, "250 OK", None, False),
    ])  # fmt: skip
    assert (
        {k: v for k, v in tally.items() if v},
        outcome_of(sent)[0],
        outcome_of(other)[0],
        suppressions.suppression_of(sent.address),
    ) == ({"unstorable": 1, "applied": 1}, Outcome.NONE, Outcome.DELIVERED, None)


def test_one_batch_suppresses_each_address_once(sent, fake_sendgrid):
    tally = apply(about(sent, "bounce"), about(sent, "spamreport"), about(sent, "bounce"))
    active = Suppression.objects.filter(address=sent.address, lifted_at__isnull=True)
    assert (tally, list(active.values_list("reason", flat=True))) == (
        {"applied": 1, "unchanged": 2}, ["bounced"],
    )  # fmt: skip
