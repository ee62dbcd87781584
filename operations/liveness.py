"""Worker liveness, which Render cannot check for a background worker: which worker
nodes are alive, and which of them are consuming their queue.

- **Alive**: each node writes a heartbeat record every few seconds that expires after
  three of them; it vanishes soon after the node stops or hangs.
- **Consuming**: a node counts as consuming only if it has taken a message from its queue
  recently (within ``WorkerState.window``), or started that recently. The heartbeat
  record says when it last took one (Celery's ``task_received``, in the node). So that an
  idle node still takes messages, a node that has taken nothing for
  ``WORKER_PROBE_SECONDS`` publishes a probe (``operations.probe``, a task that does
  nothing) when the queue is empty. Redis hands a list's messages to its waiting clients
  first come, first served, so idle healthy nodes take the probes in turn, and a node
  whose consumer stopped (``celery control cancel_consumer``, or the known failure after
  a Redis restart where the process answers ``ping`` but takes nothing) goes stale while
  the others stay fresh. A probe goes only into an empty queue, so probes never pile up
  when nobody consumes; a waiting email is the probe then.

Where: in Redis (``remosphere:worker-heartbeat:<node>``, with an expiry) when the broker
is Redis; locally, with the file-system broker, as files under
``LOCAL_DATA_DIR/heartbeats/`` whose age is their expiry. Locally there are no probes and
consumption is not judged (``consuming`` is ``None``).

``/readyz``, ``/metrics``, ``doctor`` and the autoscaler read ``worker_states``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import redis
from celery import bootsteps, signals
from celery.worker import state as worker_state
from django.conf import settings
from kombu.exceptions import KombuError

from operations import queues, stall
from remosphere import broker
from servicespec import timeouts

logger = logging.getLogger(__name__)

KEY_PREFIX = "remosphere:worker-heartbeat:"
INTERVAL = timeouts.HEARTBEAT_SECONDS  # seconds between heartbeats, at most
BEATS_TO_EXPIRE = 3
PROBES_TO_GO_STALE = timeouts.PROBES_TO_GO_STALE
PROBE_TASK = "operations.probe"


@dataclass(frozen=True)
class WorkerState:
    """One worker node, as its last heartbeat described it."""

    node: str
    beat_at: float
    started_at: float | None = None
    consumed_at: float | None = None  # when it last took a message from its queue
    probe_every: float | None = None  # None: consumption is not judged (local)
    every: float = INTERVAL  # seconds between its heartbeats

    @property
    def window(self) -> float | None:
        """How long a consuming node can go without taking a message: a few probes'
        worth, plus a heartbeat (the record is that old at worst)."""
        if self.probe_every is None:
            return None
        return PROBES_TO_GO_STALE * self.probe_every + self.every

    def consuming(self, now: float | None = None) -> bool | None:
        """Whether it took a message from its queue recently; ``None`` when not judged."""
        if self.window is None:
            return None
        now = time.time() if now is None else now
        last = max(self.consumed_at or 0.0, self.started_at or 0.0)
        return now - last <= self.window

    def idle_for(self, now: float | None = None) -> float | None:
        """Seconds since it last took a message (or started)."""
        last = max(self.consumed_at or 0.0, self.started_at or 0.0)
        if not last:
            return None
        return max(0.0, (time.time() if now is None else now) - last)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, node: str, raw: bytes | str) -> WorkerState:
        try:
            data = json.loads(raw)
            if isinstance(data, dict):
                fields = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
                return cls(**{**fields, "node": node})
            return cls(node, float(data))  # an older worker's record: a timestamp
        except (ValueError, TypeError):
            return cls(node, 0.0)


class RedisHeartbeats:
    def __init__(self, client: redis.Redis):
        self.client = client

    def beat(self, state: WorkerState, ttl: float) -> None:
        self.client.set(KEY_PREFIX + state.node, state.to_json(), ex=max(1, round(ttl)))

    def remove(self, node: str) -> None:
        self.client.delete(KEY_PREFIX + node)

    def states(self) -> list[WorkerState]:
        keys = sorted(self.client.scan_iter(f"{KEY_PREFIX}*"))
        if not keys:
            return []
        prefix = len(KEY_PREFIX)
        values = self.client.mget(keys)
        return [
            WorkerState.from_json(key.decode()[prefix:], value)
            for key, value in zip(keys, values, strict=True)
            if value is not None  # expired between SCAN and MGET
        ]

    def close(self) -> None:
        self.client.close()


class FileHeartbeats:
    def __init__(self, folder: Path):
        self.folder = folder

    def beat(self, state: WorkerState, ttl: float) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / state.node).write_text(state.to_json())

    def remove(self, node: str) -> None:
        (self.folder / node).unlink(missing_ok=True)

    def states(self) -> list[WorkerState]:
        if not self.folder.is_dir():
            return []
        states = []
        for path in sorted(self.folder.iterdir()):
            with contextlib.suppress(OSError):  # removed meanwhile
                state = WorkerState.from_json(path.name, path.read_text())
                if path.stat().st_mtime >= time.time() - BEATS_TO_EXPIRE * state.every:
                    states.append(state)
        return states

    def close(self) -> None:
        pass


def heartbeats(client: redis.Redis | None = None) -> RedisHeartbeats | FileHeartbeats:
    """Where this deployment keeps heartbeats (``client``: a Redis client to reuse)."""
    if settings.REDIS_URL:
        return RedisHeartbeats(client or broker.redis_client())
    return FileHeartbeats(settings.LOCAL_DATA_DIR / "heartbeats")


def worker_states(client: redis.Redis | None = None) -> list[WorkerState]:
    """Every worker node whose heartbeat has not expired."""
    return heartbeats(client).states()


def live_workers(client: redis.Redis | None = None) -> list[str]:
    """Names of the worker nodes whose heartbeat has not expired."""
    return [state.node for state in worker_states(client)]


class QuietProbes(logging.Filter):
    """Drops Celery's "received" and "succeeded" lines for probes: an idle worker takes
    one every ``WORKER_PROBE_SECONDS``, and saying so would bury the lines that matter."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Celery logs them with the task's context as the format's arguments; this filter
        # must run before one that formats the record (remosphere.celery installs it first).
        args = record.args
        return not (isinstance(args, dict) and args.get("name") == PROBE_TASK)


def quiet_probes(handlers: list[logging.Handler]) -> None:
    for handler in handlers:
        if not any(isinstance(f, QuietProbes) for f in handler.filters):
            handler.addFilter(QuietProbes())


class Heartbeat(bootsteps.StartStopStep):
    """Celery worker bootstep: the heartbeat saying when the node last took a message; the
    probe an idle node publishes; and, from the same figures, the node's own verdict on
    whether it stalled (``operations.stall``).

    The heartbeat runs in a thread of its own, so that a Redis that does not answer never
    blocks the worker's main loop; the main loop's timer only notes that it turns, which
    the heartbeat checks too (a loop that stops turning while Redis answers is hung)."""

    requires = ("celery.worker.components:Timer",)

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.timer_ref = None
        self.store: RedisHeartbeats | FileHeartbeats | None = None
        self.thread: threading.Thread | None = None
        self.stopping = threading.Event()
        self.restarting = False

    def start(self, worker) -> None:
        self.app = worker.app
        self.node = worker.hostname
        self.concurrency = worker.concurrency
        self.store = heartbeats()
        self.watch = stall.Watch(started_at=time.time())
        probing = isinstance(self.store, RedisHeartbeats)
        self.probe_every = float(settings.WORKER_PROBE_SECONDS) if probing else None
        self.every = float(min(INTERVAL, settings.WORKER_PROBE_SECONDS))
        self.bound = float(settings.WORKER_STALL_SECONDS)
        self.turned_at = time.monotonic()
        self.loop_paused = False
        self.unanswered_since: float | None = None  # monotonic: Redis answers nothing since
        signals.task_received.connect(self._received, weak=False)
        self.timer_ref = worker.timer.call_repeatedly(self.every, self._turned, priority=10)
        self.beat()
        self.thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self.thread.start()

    def stop(self, worker) -> None:
        self.stopping.set()
        signals.task_received.disconnect(self._received)
        if self.timer_ref is not None:
            self.timer_ref.cancel()
        if self.thread is not None:
            self.thread.join(timeout=2 * self.every)
        if self.store is not None:
            with contextlib.suppress(redis.RedisError, OSError):
                self.store.remove(self.node)
            self.store.close()

    def _turned(self) -> None:
        # On the main loop: it turns. Nothing else here, never any I/O.
        self.turned_at = time.monotonic()

    def _received(self, **_: object) -> None:
        # This node's consumer took a message from its queue (the only queue it reads).
        self.watch.consumed_at = time.time()

    def _run(self) -> None:
        while not self.stopping.wait(self.every):
            answered = self.beat()
            if self.probe_every is not None and not self.restarting:
                self._judge(answered)

    def state(self, now: float) -> WorkerState:
        return WorkerState(
            self.node,
            now,
            self.watch.started_at,
            self.watch.consumed_at,
            self.probe_every,
            self.every,
        )

    def beat(self) -> bool:
        """Write the heartbeat (and probe, and look at the queue); whether Redis answered."""
        now = time.time()
        state = self.state(now)
        try:
            if self.probe_every is not None:
                self._look_at_the_queue(state, now)
            self.store.beat(state, ttl=BEATS_TO_EXPIRE * self.every)
        except (redis.RedisError, KombuError, OSError) as error:
            self.watch.broker_down = True
            logger.warning("worker heartbeat not written: %s", type(error).__name__)
            return False
        if self.watch.broker_down:  # Redis is back: the stall clock starts again
            self.watch.broker_down, self.watch.broker_back_at = False, now
        return True

    def _judge(self, answered: bool) -> None:
        """Restart the node if it stalled (a warm shutdown) or its loop hung (at once).

        This thread is the watchdog: the main loop may be blocked on the broker in ways no
        retry policy of Celery's bounds (a partition: connects that hang, publishes retried
        without end), and a loop that has not turned for ``WORKER_STALL_SECONDS``, or a
        Redis that has answered none of this thread's beats for as long, ends the process,
        so Render starts a fresh one. An outage shorter than the bound only pauses the loop:
        Celery reconnects within ``CELERY_RECONNECT_MAX_SECONDS``, which the validator keeps
        under the bound (C003)."""
        mono = time.monotonic()
        if answered:
            self.unanswered_since = None
        elif self.unanswered_since is None:
            self.unanswered_since = mono - self.every  # it went quiet after the last beat
        if self.unanswered_since is not None and mono - self.unanswered_since > self.bound:
            # Cut off for longer than the bound, loop turning or not: a fresh process
            # connects anew when the network is back; this one may hold dead connections.
            stall.record(stall.CUT_OFF, self.node)
            stall.hung(self.node, mono - self.unanswered_since, self.bound, broker=False)
        if mono - self.turned_at > 2 * self.every:  # the main loop does not turn
            self.loop_paused = True
            if mono - self.turned_at > self.bound:
                stall.record(stall.MAIN_LOOP if answered else stall.CUT_OFF, self.node)
                stall.hung(self.node, mono - self.turned_at, self.bound, broker=answered)
            return
        if self.loop_paused:  # it turns again (after reconnecting): the clock restarts
            self.loop_paused, self.watch.broker_back_at = False, time.time()
        free_thread = len(worker_state.reserved_requests) < self.concurrency
        now = time.time()
        reason = stall.verdict(self.watch, now=now, free_thread=free_thread, bound=self.bound)
        if reason and answered:
            self.restarting = True
            idle = now - self.watch.since()
            queue = settings.CELERY_TASK_DEFAULT_QUEUE
            line = stall.explain(reason, node=self.node, idle=idle, queue=queue, bound=self.bound)
            logger.error(line)
            stall.record(reason, self.node)
            stall.stop()

    def _look_at_the_queue(self, state: WorkerState, now: float) -> None:
        """Note whether there is something to take; put a probe in an empty queue when the
        node has taken nothing for a probe's interval."""
        [queue] = queues.read(self.store.client)
        if queue.depth:
            self.watch.offered_at = now
        elif state.idle_for(now) >= self.probe_every:
            self.app.send_task(PROBE_TASK, queue=queue.name, retry=False)
            self.watch.offered_at = now
