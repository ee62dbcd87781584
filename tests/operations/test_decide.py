"""The autoscaler's decision, over a table of situations (a pure function: no Redis, no
Render)."""

from __future__ import annotations

import pytest

from operations.autoscaler import Decision, Memory, Observation, Policy, decide

POLICY = Policy(target=30, minimum=1, maximum=6, down_cooldown=600, startup_grace=180)
NOW = 10_000.0


def seen(depth=0, latency=None, instances=1, live=None, rate=50.0) -> Observation:
    return Observation(depth, latency, instances, instances if live is None else live, rate)


@pytest.mark.parametrize(
    ("observation", "memory", "instances", "reason"),
    [
        # over the target: enough to drain the backlog in about the target time
        (seen(3000, 45, 1), Memory(), 2, "3000 waiting, 2 instance(s)"),
        (seen(6000, 120, 1), Memory(), 4, "6000 waiting, 4 instance(s)"),
        # a deep queue: several at once, capped at the maximum
        (seen(90000, 600, 2), Memory(), 6, "60 instance(s)"),
        # a shallow backlog over the target still gets one more
        (seen(10, 40, 2), Memory(), 3, "latency 40.0s over the target 30s"),
        # at the maximum already
        (seen(90000, 600, 6), Memory(), 6, "already at the maximum of 6"),
        # instances asked for a moment ago are still starting: wait for them
        (seen(3000, 60, 3, live=1), Memory(last_scale_up=NOW - 30), 3, "waiting for 2 instance"),
        # ...but not forever
        (seen(6000, 60, 3, live=1), Memory(last_scale_up=NOW - 600), 4, "over the target"),
        # no publish time on the oldest message: latency estimated from depth and rate
        (seen(4000, None, 1), Memory(), 3, "latency ~80.0s"),
        # under the target: the cool-down starts, nothing changes yet
        (seen(10, 5, 3), Memory(), 3, "600s of cool-down left"),
        (seen(0, None, 3), Memory(below_target_since=NOW - 200), 3, "400s of cool-down left"),
        # ...and after it, one step down, not more
        (seen(0, None, 5), Memory(below_target_since=NOW - 601), 4, "one fewer"),
        # never below the minimum, never above the maximum
        (seen(0, None, 1), Memory(below_target_since=NOW - 9999), 1, "latency under the target"),
        (seen(0, None, 0), Memory(), 1, "below the minimum of 1"),
        (seen(0, None, 9), Memory(), 6, "above the maximum of 6"),
    ],
)
def test_the_decision(observation, memory, instances, reason):
    decision = decide(observation, POLICY, memory, NOW)
    assert (decision.instances, reason in decision.reason) == (instances, True), decision.reason


def test_the_cool_down_restarts_after_each_step_down():
    decision = decide(seen(0, None, 5), POLICY, Memory(below_target_since=NOW - 700), NOW)
    assert decision == Decision(4, decision.reason, NOW)


def test_going_over_the_target_forgets_the_cool_down():
    decision = decide(seen(3000, 45, 2), POLICY, Memory(below_target_since=NOW - 500), NOW)
    assert decision.below_target_since is None


@pytest.mark.parametrize("depth", [0, 1, 10, 1000, 10**6])
@pytest.mark.parametrize("instances", [0, 1, 3, 6, 50])
def test_never_outside_the_range(depth, instances):
    latency = None if depth == 0 else depth / 10
    decision = decide(seen(depth, latency, instances), POLICY, Memory(), NOW)
    assert POLICY.minimum <= decision.instances <= POLICY.maximum
