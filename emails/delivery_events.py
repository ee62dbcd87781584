"""What became of the emails the provider accepted: delivery events, applied to the outbox
rows they are about. The provider's own words are translated before they get here
(``emails.sendgrid.events``).

An event is applied only when its row exists and its address and message id agree with
the row, so an event about another sender's email (another project on the same account, a
staging deployment whose ids overlap) changes nothing.

The provider retries a batch for up to 24 hours, and its event ids are not stable across
retries, so an event is deduplicated by what it means for the row: the row's outcome only
moves forward (``RANK``): ``deferred``, then ``delivered``, then a bounce, a drop or a spam
report. The same event twice, or an old one arriving after a newer one (``delivered``
after ``bounced``), changes nothing. A batch is applied in one ``UPDATE`` that compares
ranks in the statement, so two web instances applying the same batch at once agree, one
``INSERT`` of what was reported (``DeliveryReport``: the figures of a window count what
happened in it) and one of the suppressions: a few statements whatever the batch's size.

An address that hard-bounced, that an email was dropped to because of the address itself,
or whose owner reported spam, is suppressed (``emails.suppressions``).

Items that are not delivery news (opens, clicks...), of types not known, about rows that
do not exist or about other senders' emails, and items that are not events at all are
counted and skipped; the webhook answers 2xx all the same (a refused batch would only be
sent again).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace

from django.db import DataError, IntegrityError, connection, transaction

from emails import suppressions
from emails.models import DeliveryReport, Email
from emails.outcomes import (
    APPLIED,
    FOREIGN,
    NO_SUCH_EMAIL,
    RESULTS,
    UNCHANGED,
    UNSTORABLE,
    DeliveryEvent,
    Outcome,
)
from remosphere.addresses import normalize_email

logger = logging.getLogger(__name__)

# How far along an outcome is: news only moves a row to a higher rank. The three endings
# share one: the first reported stands.
RANK = {
    Outcome.NONE: 0,
    Outcome.DEFERRED: 1,
    Outcome.DELIVERED: 2,
    Outcome.BOUNCED: 3,
    Outcome.BLOCKED: 3,
    Outcome.DROPPED: 3,
    Outcome.SPAM_REPORT: 3,
}
# The outcomes that suppress the address, when the address itself is at fault.
SUPPRESSES = {
    Outcome.BOUNCED: suppressions.Reason.BOUNCED,
    Outcome.DROPPED: suppressions.Reason.DROPPED,
    Outcome.SPAM_REPORT: suppressions.Reason.SPAM_REPORT,
}


def events_apply(events: Iterable[DeliveryEvent | str]) -> Counter[str]:
    """Apply a batch of translated events (a string: an item skipped, and why); how many
    items came to each result. The batch is applied in a few set-based statements
    (``_apply_together``); if the database refuses something in it (an event's text, say),
    the events are applied again one at a time, each in a savepoint, so that one is counted
    ``unstorable`` and skipped and the rest are applied: a refused batch would only come
    back, and fail again, for a day. A database that does not answer raises."""
    tally: Counter[str] = Counter({result: 0 for result in RESULTS})
    translated = []
    for event in events:
        if isinstance(event, str):
            tally[event] += 1
        else:
            translated.append(event)
    if not translated:
        return tally
    try:
        with transaction.atomic():
            tally.update(_apply_together(translated))
    except STORAGE_ERRORS as error:
        logger.warning(
            "a batch of %d delivery events was refused together (%s); applying them one "
            "at a time", len(translated), type(error).__name__,
        )  # fmt: skip
        tally.update(_apply_one_by_one(translated))
    return tally


STORAGE_ERRORS = (DataError, IntegrityError, UnicodeError)


def _apply_one_by_one(events: list[DeliveryEvent]) -> Counter[str]:
    tally: Counter[str] = Counter()
    for event in events:
        try:
            with transaction.atomic():  # one event's failure leaves the others' writes alone
                tally.update(_apply_together([event]))
        except STORAGE_ERRORS as error:
            logger.warning(
                "a delivery event for email %s was not stored (%s); the rest of the batch is "
                "applied", event.email_id, type(error).__name__,
            )  # fmt: skip
            tally[UNSTORABLE] += 1
    return tally


@dataclass(frozen=True)
class _Row:
    id: int
    address: str
    message_id: str
    outcome: str


def _apply_together(events: list[DeliveryEvent]) -> Counter[str]:
    """Match each event to its row, then move every row to its batch's furthest outcome,
    record each (row, outcome) reported, and suppress the addresses at fault: one statement
    each, whatever the batch's size."""
    tally: Counter[str] = Counter()
    matched: list[tuple[DeliveryEvent, _Row]] = []
    for event, row in zip(events, _rows_of(events), strict=True):
        if isinstance(row, str):
            tally[row] += 1
        else:
            matched.append((replace(event, email_id=row.id), row))
    if not matched:
        return tally
    furthest: dict[int, DeliveryEvent] = {}
    for event, row in matched:  # in the batch's order: the first of the highest rank stands
        best = furthest.get(row.id)
        if best is None or RANK[event.outcome] > RANK[best.outcome]:
            furthest[row.id] = event
    moved = _move(list(furthest.values()))
    _record_reports([event for event, _ in matched])
    suppressions.suppressions_add(
        [
            suppressions.Suppressing(
                row.address, SUPPRESSES[event.outcome], event.reason, row.id, event.happened
            )
            for event, row in matched
            if event.address_at_fault and event.outcome in SUPPRESSES
        ]
    )
    # Counted as if applied one by one, in the batch's order: news that moved its row on.
    reached = {row.id: RANK[Outcome(row.outcome)] for _, row in matched}
    for event, row in matched:
        forward = row.id in moved and RANK[event.outcome] > reached[row.id]
        reached[row.id] = max(reached[row.id], RANK[event.outcome])
        tally[APPLIED if forward else UNCHANGED] += 1
    return tally


def _rows_of(events: list[DeliveryEvent]) -> list[_Row | str]:
    """Each event's row, or why it has none (``NO_SUCH_EMAIL``, ``FOREIGN``): two queries
    for the batch. An event that does not name its email (a delayed bounce without the
    custom arguments) is about the last email sent to its address before it happened."""
    fields = ("pk", "address", "message_id", "outcome")
    named = {e.email_id for e in events if e.email_id is not None}
    by_id = {
        values[0]: _Row(*values)
        for values in Email.objects.filter(pk__in=named).values_list(*fields)
    }
    unnamed = {normalize_email(e.address) for e in events if e.email_id is None}
    sent_to: dict[str, list[tuple[object, _Row]]] = {}
    for *values, sent_at in (
        Email.objects.filter(address__in=unnamed, sent_at__isnull=False)
        .order_by("-sent_at")
        .values_list(*fields, "sent_at")
    ):
        sent_to.setdefault(values[1], []).append((sent_at, _Row(*values)))
    found: list[_Row | str] = []
    for event in events:
        if event.email_id is None:
            last = next(
                (row for at, row in sent_to.get(normalize_email(event.address), ())
                 if at <= event.happened),
                None,
            )  # fmt: skip
            found.append(last if last is not None else FOREIGN)  # nothing of ours went there
            continue
        row = by_id.get(event.email_id)
        if row is None:
            found.append(NO_SUCH_EMAIL)
        elif _agrees(event, row):
            found.append(row)
        else:
            found.append(FOREIGN)
    return found


def _agrees(event: DeliveryEvent, row: _Row) -> bool:
    """A provider's id for an event begins with the id it answered the send with; an event
    without one (a delayed bounce) is matched by the row's id and the address alone."""
    if normalize_email(event.address) != normalize_email(row.address):
        return False
    return not (
        row.message_id and event.message_id is not None
        and not event.message_id.startswith(row.message_id)
    )  # fmt: skip


def _rank_of_column(column: str) -> str:
    cases = " ".join(f"WHEN '{outcome.value}' THEN {rank}" for outcome, rank in RANK.items())
    return f"(CASE {column} {cases} ELSE 0 END)"


def _move(events: list[DeliveryEvent]) -> set[int]:
    """One ``UPDATE``: each row to its event's outcome where that is further than the row's
    (decided in the statement, so two web instances applying one batch agree); the ids of
    the rows that moved."""
    table = connection.ops.quote_name(Email._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} AS e
            SET outcome = v.outcome, outcome_at = v.happened, outcome_reason = v.reason
            FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[], %s::text[], %s::int[])
                 AS v(id, outcome, happened, reason, rank)
            WHERE e.id = v.id AND {_rank_of_column("e.outcome")} < v.rank
            RETURNING e.id
            """,  # noqa: S608  # nosec B608: the table's name and the ranks are this module's own
            [
                [e.email_id for e in events],
                [str(e.outcome) for e in events],
                [e.happened for e in events],
                [e.reason for e in events],
                [RANK[e.outcome] for e in events],
            ],
        )
        return {row[0] for row in cursor.fetchall()}


def _record_reports(events: list[DeliveryEvent]) -> None:
    """One ``INSERT``: a report per (email, outcome) not reported yet, at the first time
    the batch gives it."""
    first: dict[tuple[int, str], DeliveryEvent] = {}
    for event in events:
        key = (event.email_id or 0, str(event.outcome))
        if key not in first or event.happened < first[key].happened:
            first[key] = event
    table = connection.ops.quote_name(DeliveryReport._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (email_id, outcome, happened)
            SELECT * FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[])
            ON CONFLICT (email_id, outcome) DO NOTHING
            """,  # noqa: S608  # nosec B608: the table's name is the model's own
            [
                [email_id for email_id, _ in first],
                [outcome for _, outcome in first],
                [event.happened for event in first.values()],
            ],
        )
