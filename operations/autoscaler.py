"""Scale the worker on its backlog: one run, one decision (``manage.py autoscale``, run
every minute by the autoscaler cron job).

The signal is the queue's **latency**, how long the oldest waiting email has waited (the
one number a person waiting for an email feels), read from Redis (``operations.queues``).
Sending email is waiting on SendGrid, so the worker's CPU says nothing about its backlog:
scaling on CPU (Render's native autoscaling) would never add an instance while the queue
grows.

- Over the target (``AUTOSCALE_TARGET_LATENCY_SECONDS``): enough instances to drain what
  waits in about the target time at the measured rate per instance (not one at a time),
  at least one more.
- Under the target for the whole cool-down (``AUTOSCALE_DOWN_COOLDOWN_SECONDS``): one
  instance fewer, and the cool-down starts again.
- Always within ``AUTOSCALE_MIN_INSTANCES`` and ``AUTOSCALE_MAX_INSTANCES``.

What it remembers between runs (when the queue went under the target, the last scale-up,
the measured rate) lives in Redis, so a run is stateless and any run can be the next. It
acts through Render's API (``operations.render_api``), makes at most one scale call per
run, never decides on missing data, and refuses to act while Render's own autoscaling is
on for the service (Render ignores ``/scale`` then).
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime

import redis
from django.conf import settings
from django.db import DatabaseError

from emails import selectors
from operations import queues
from operations.liveness import live_workers
from operations.render_api import RenderAPI, RenderAPIError, Service
from remosphere import broker

logger = logging.getLogger(__name__)

STATE_KEY = "remosphere:autoscaler"
STARTUP_GRACE_SECONDS = 180  # new instances this young may still be starting
RATE_WEIGHT = 0.5  # how much one new measurement moves the rate estimate


class AutoscaleError(Exception):
    """No decision could be made, or carried out; the message says what to fix."""


@dataclass(frozen=True)
class Policy:
    target: float
    minimum: int
    maximum: int
    down_cooldown: float
    startup_grace: float = STARTUP_GRACE_SECONDS


@dataclass(frozen=True)
class Observation:
    depth: int
    latency: float | None  # seconds; None when empty or unknown
    instances: int  # what Render runs now
    live: int  # worker nodes whose heartbeat is fresh
    rate: float  # emails per second one instance sends


@dataclass(frozen=True)
class Memory:
    below_target_since: float | None = None
    last_scale_up: float | None = None
    rate: float | None = None  # measured emails/s per instance
    last_run: float | None = None
    last_depth: int = 0
    last_live: int = 0
    last_decision: dict | None = None


@dataclass(frozen=True)
class Decision:
    instances: int
    reason: str
    below_target_since: float | None


def decide(seen: Observation, policy: Policy, memory: Memory, now: float) -> Decision:
    """The instance count for what is seen: pure, so a table of situations tests it."""
    current = seen.instances
    if current < policy.minimum:
        return Decision(policy.minimum, f"below the minimum of {policy.minimum}", None)
    if current > policy.maximum:
        return Decision(policy.maximum, f"above the maximum of {policy.maximum}", None)
    wait, estimated = seen.latency, False
    if wait is None and seen.depth:  # messages without a publish time: estimate it
        wait, estimated = seen.depth / (seen.rate * max(seen.live, 1)), True
    if wait is not None and wait > policy.target:
        approx = "~" if estimated else ""
        about = f"latency {approx}{wait:.1f}s over the target {policy.target:g}s"
        starting = current - seen.live
        last_up = memory.last_scale_up
        recent = last_up is not None and now - last_up < policy.startup_grace
        if starting > 0 and recent:
            return Decision(current, f"{about}; waiting for {starting} instance(s) to start", None)
        needed = math.ceil(seen.depth / (seen.rate * policy.target))
        wanted = min(policy.maximum, max(current + 1, needed))
        if wanted == current:
            return Decision(current, f"{about}, already at the maximum of {policy.maximum}", None)
        return Decision(
            wanted,
            f"{about}: {seen.depth} waiting, {needed} instance(s) at {seen.rate:.0f}/s each "
            f"drain them in about the target",
            None,
        )
    since = memory.below_target_since if memory.below_target_since is not None else now
    calm = now - since
    if current > policy.minimum and calm >= policy.down_cooldown:
        return Decision(
            current - 1,
            f"under the target for {calm:.0f}s (cool-down {policy.down_cooldown:.0f}s): one fewer",
            now,
        )
    left = ""
    if current > policy.minimum:
        left = f"; {policy.down_cooldown - calm:.0f}s of cool-down left"
    return Decision(current, f"latency under the target{left}", since)


@dataclass(frozen=True)
class Outcome:
    before: int
    after: int
    acted: bool
    decision: Decision
    seen: Observation

    def line(self, *, dry_run: bool) -> str:
        s = self.seen
        latency = "none" if s.latency is None else f"{s.latency:.1f}s"
        action = "dry run, not acted" if dry_run else ("scaled" if self.acted else "no change")
        return (
            f"autoscale: latency={latency} depth={s.depth} live={s.live} "
            f"instances={self.before}->{self.after} rate={s.rate:.1f}/s per instance "
            f"({action}): {self.decision.reason}"
        )


def policy_from_settings() -> Policy:
    return Policy(
        target=settings.AUTOSCALE_TARGET_LATENCY_SECONDS,
        minimum=settings.AUTOSCALE_MIN_INSTANCES,
        maximum=settings.AUTOSCALE_MAX_INSTANCES,
        down_cooldown=settings.AUTOSCALE_DOWN_COOLDOWN_SECONDS,
    )


def autoscale_once(*, dry_run: bool | None = None, now: float | None = None) -> Outcome:
    """Read, decide, act: one run. ``AutoscaleError`` when any of it cannot be done."""
    dry_run = settings.AUTOSCALE_DRY_RUN if dry_run is None else dry_run
    now = time.time() if now is None else now
    policy = policy_from_settings()
    if policy.minimum > policy.maximum:
        raise AutoscaleError(
            f"AUTOSCALE_MIN_INSTANCES ({policy.minimum}) is above AUTOSCALE_MAX_INSTANCES "
            f"({policy.maximum})"
        )
    client = broker.redis_client()
    try:
        [queue] = queues.read(client, now=now)
        live = len(live_workers(client))
        memory = load_memory(client)
    except redis.RedisError as error:
        raise AutoscaleError(
            f"Redis unreachable ({type(error).__name__}): no decision without the queue; "
            "check REDIS_URL and the Key Value's status"
        ) from None
    api = RenderAPI(
        settings.RENDER_API_URL, settings.RENDER_API_KEY or "", timeout=settings.RENDER_API_TIMEOUT
    )
    try:
        service = _worker_service(api)
    except RenderAPIError as error:
        raise AutoscaleError(str(error)) from None
    if service.autoscaling:
        raise AutoscaleError(
            f'Render\'s own autoscaling is on for "{service.name}" and Render ignores /scale '
            "while it is: turn it off in the service's Scaling settings (it scales on CPU, "
            "which sending email barely uses), or stop this autoscaler"
        )
    measured = measured_rate(memory, queue.depth, live, now)
    rate = measured or settings.AUTOSCALE_INSTANCE_RATE
    seen = Observation(queue.depth, queue.latency, service.num_instances, live, rate)
    decision = decide(seen, policy, memory, now)
    acted = False
    if decision.instances != service.num_instances and not dry_run:
        try:
            api.scale(service.id, decision.instances)
        except RenderAPIError as error:
            raise AutoscaleError(
                f"the decision ({decision.reason}) was not carried out: {error}"
            ) from None
        acted = True
    scaled_up = acted and decision.instances > service.num_instances
    outcome = Outcome(service.num_instances, decision.instances, acted, decision, seen)
    save_memory(
        client,
        Memory(
            below_target_since=decision.below_target_since,
            last_scale_up=now if scaled_up else memory.last_scale_up,
            rate=measured,
            last_run=now,
            last_depth=queue.depth,
            last_live=live,
            last_decision={
                "at": datetime.fromtimestamp(now, UTC).isoformat(),
                "instances_before": service.num_instances,
                "instances_after": decision.instances,
                "acted": acted,
                "dry_run": dry_run,
                "reason": decision.reason,
            },
        ),
    )
    logger.info(outcome.line(dry_run=dry_run))
    return outcome


def measured_rate(memory: Memory, depth: int, live: int, now: float) -> float | None:
    """Emails per second one instance sends, measured since the last run when the queue
    never emptied meanwhile (so the workers were never idle), blended with the earlier
    estimate; the earlier estimate otherwise."""
    saturated = memory.last_run is not None and memory.last_depth > 0 and depth > 0
    if not saturated or not (memory.last_live or live):
        return memory.rate
    try:
        since = datetime.fromtimestamp(memory.last_run, UTC)
        sent = selectors.emails_sent_since(since)
    except DatabaseError:
        return memory.rate  # an estimate stays an estimate; the decision still has one
    elapsed = now - memory.last_run
    instances = (memory.last_live + live) / 2 or 1
    fresh = sent / elapsed / instances if elapsed > 0 else None
    if not fresh:
        return memory.rate
    return fresh if memory.rate is None else RATE_WEIGHT * fresh + (1 - RATE_WEIGHT) * memory.rate


def _worker_service(api: RenderAPI) -> Service:
    if settings.AUTOSCALE_SERVICE_ID:
        return api.service(settings.AUTOSCALE_SERVICE_ID)
    return api.find_service(settings.AUTOSCALE_SERVICE_NAME)


def load_memory(client: redis.Redis) -> Memory:
    raw = client.get(STATE_KEY)
    if not raw:
        return Memory()
    try:
        return replace(Memory(), **json.loads(raw))
    except (ValueError, TypeError):
        return Memory()  # unreadable (an older layout): start afresh rather than guess


def save_memory(client: redis.Redis, memory: Memory) -> None:
    try:
        client.set(STATE_KEY, json.dumps(asdict(memory)))
    except redis.RedisError as error:
        logger.warning("autoscale: state not saved (%s)", type(error).__name__)
