"""A blueprint, running: its datastores, then its services in order, each the way Render
deploys it, watched until it is asked to stop, then stopped the way Render stops it and
removed.

- Key Value instances and databases first (``blueprintup.stores``).
- Each service: its build (the image, or a native runtime's ``buildCommand``), its
  ``preDeployCommand`` (a failure fails that service's deploy, as on Render), then
  ``numInstances`` instances. A web service is live once every instance answers its
  ``healthCheckPath`` (2xx or 3xx; without one, once its port takes connections), and is
  reached through its edge (``blueprintup.edge``); a private service likewise, without an
  edge; a worker once its instances have kept running through the start-up grace. A
  service that exits while starting, or is not live in time, fails its deploy: it does
  not run, the others do (``failed`` names it).
- Once live, an instance that exits is replaced by a new one, as Render does.
- Cron jobs run on their schedule (UTC), one run at a time: a run that comes due while
  the last one still runs starts when it ends, as on Render.
- Stopping: SIGTERM to every instance and run, SIGKILL to what is still running after its
  service's ``maxShutdownDelaySeconds``, then the datastores and everything made for the
  run are removed.
"""

from __future__ import annotations

import http.client
import secrets
import shutil
import socket
import subprocess  # nosec B404
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from blueprintup.edge import Edge
from blueprintup.errors import DeployFailed, Interrupted, RehearsalError
from blueprintup.launchers import Image, Launched, Processes, shell
from blueprintup.output import Console
from blueprintup.schedule import Schedule
from blueprintup.stores import PostgresServer, RedisInstance
from blueprintup.topology import DEFAULT_PORT, Service, Topology
from blueprintup.variables import Endpoint, Resolver
from stack import netns, ownership, ports
from stack.netns import Network, Place
from stack.ports import HOST
from stack.postgres_cluster import PostgresCluster

LOOPBACK = {"127.0.0.1", "::1"}

STARTUP_GRACE = 5.0  # a worker that keeps running this long has started
TICK = 0.25
RESTART_BACKOFF_MAX = 30.0
CRON_MAX_RUN = 12 * 3600  # Render stops a cron run after 12 hours (render.com/docs/cronjobs)


@dataclass
class Instance:
    service: Service
    id: str  # RENDER_INSTANCE_ID
    port: int | None
    launched: Launched
    started: float
    live: bool = False
    replaced: bool = False  # it exited; another instance takes (or will take) its place
    crashes: int = 0  # instances of this slot that exited soon after starting, in a row
    next_check: float = 0.0  # when its next health check is due, once live
    failing_since: float | None = None  # its health checks fail since then
    out_of_rotation: bool = False  # the edge sends it nothing until it answers again
    place: Place | None = None  # a network of its own (its namespace and address)

    @property
    def host(self) -> str:
        """Where it listens: its own address, or this machine's loopback."""
        return self.place.address if self.place is not None else HOST

    @property
    def label(self) -> str:
        return f"{self.service.name} {self.id.rsplit('-', 1)[-1]}"


@dataclass(frozen=True)
class HealthPolicy:
    """Render's, for a running web or private service (render.com/docs/health-checks): a
    check every few seconds, failed by anything but 2xx/3xx or no answer within 5 s; an
    instance failing every check for 15 s gets no more traffic, one failing for 60 s is
    restarted."""

    every: float = 5.0
    out_of_rotation_after: float = 15.0
    restart_after: float = 60.0


@dataclass
class Settings:
    edge_port: int = 10000
    postgres_url: str = ""  # empty: a PostgreSQL cluster of the run's own
    start_timeout: float = 180.0
    cron_now: tuple[str, ...] = ()
    health: HealthPolicy = HealthPolicy()


class Rehearsal:
    def __init__(
        self,
        topology: Topology,
        resolver: Resolver,
        launcher: Processes | Image,
        console: Console,
        settings: Settings,
        run_dir: Path,
        run: str,
        stop_requested: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        probes: Executor | None = None,
    ):
        """``clock`` and ``sleep`` (seconds), and the launcher (what starts a process), are
        what the unit tests of the supervision replace: no real process, no real wait."""
        self.topology, self.resolver, self.launcher = topology, resolver, launcher
        self.console, self.settings, self.run_dir, self.run = console, settings, run_dir, run
        self.stop_requested = stop_requested or threading.Event()  # Ctrl-C, SIGTERM
        self.clock, self.sleep = clock, sleep
        # Health checks run beside the loop: one that waits 5 s for a stopped instance
        # must not hold the others up.
        self.probes = probes or ThreadPoolExecutor(4, thread_name_prefix="health")
        self._probing: dict[str, Future[bool]] = {}
        self.redis: list[RedisInstance] = []
        self.cluster: PostgresCluster | None = None
        self.postgres = PostgresServer(settings.postgres_url, console, run=run)
        self.instances: dict[str, list[Instance]] = {}
        self.cron_runs: dict[str, Instance] = {}
        self.cron_delayed: set[str] = set()  # due while a run was running: starts after it
        self.failed: dict[str, str] = {}  # service -> why its deploy failed
        self.schedules: dict[str, Schedule] = {}
        self.edges: dict[str, Edge] = {}
        self.ports: dict[str, list[int]] = {}
        self._pending_restarts: list[tuple[float, Instance]] = []
        self._retiring: list[tuple[float, Instance]] = []  # scaled away: SIGTERM sent
        self._scale_requests: dict[str, int] = {}
        self._cron_requests: list[str] = []  # runs asked for through Render's API
        self._scale_lock = threading.Lock()
        self.network: Network | None = None  # image mode, as root: a network per instance
        self.places: dict[str, list[Place]] = {}
        # Every process started for the run, registered the moment it exists: whatever
        # is still running when the run stops is ended, whoever started it.
        self._launched: list[Launched] = []

    # --- start -----------------------------------------------------------------------
    def _start_cluster(self) -> None:
        """As Render's databases are: a server of their own, every user asked for its
        password. Its directory sits beside the run's, named for the run."""
        also_on = (self.network.gateway,) if self.network else ()
        clients = (self.network.subnet,) if self.network else ()
        self.cluster = PostgresCluster(
            self.run_dir.parent, f"{self.run_dir.name}-postgres-", also_on=also_on,
            clients=clients,
        )  # fmt: skip
        self.postgres = PostgresServer(self.cluster.start(), self.console, run=self.run)
        self.console.status(
            f"PostgreSQL: a cluster of the rehearsal's own on {HOST}:{self.cluster.port} "
            "(every user needs its password; --postgres-url for a server of yours)"
        )

    def _start_network(self) -> None:
        """As on Render, each instance of a web or private service from the image gets a
        network of its own: PORT 10000, reached only through the edge (or by the other
        services); the run's datastores listen on its gateway too."""
        if not isinstance(self.launcher, Image) or not any(
            s.listens and s.docker for s in self.topology.services
        ):
            return
        why = netns.unavailable()
        if why is None and self.topology.databases and self.settings.postgres_url:
            why = "--postgres-url names a server its instances could not reach"
        if why:
            self.console.status(
                f"instances share this machine's network, each on a port of its own ({why})"
            )
            return
        ledger = ownership.ledger()
        self.network = Network(self.run, ledger.network if ledger else None).start()
        self.console.status(
            f"a network of the run's own ({self.network.bridge}, gateway "
            f"{self.network.gateway}): each web or private instance listens on it, as on Render"
        )

    def _attach(self) -> Place:
        if self.network is None:
            raise RehearsalError("no network of the run's own to attach an instance to")
        return self.network.attach()

    def start(self) -> None:
        self._start_network()
        gateway = (self.network.gateway,) if self.network else ()
        for key_value in self.topology.key_values:
            store = RedisInstance(key_value, self.run_dir / key_value.name, self.console)
            self.redis.append(store)
            endpoint = store.start(also_on=gateway)
            self.resolver.key_values[key_value.name] = endpoint
            self.console.status(
                f"{key_value.name} is available at {endpoint.connection_string} "
                f"(maxmemory-policy {key_value.policy}, persistence {key_value.persistence})"
            )
        if self.topology.databases and not self.settings.postgres_url:
            self._start_cluster()
        for database in self.topology.databases:
            access = self.postgres.create(database)
            self.resolver.databases[database.name] = access
            self.console.status(
                f"{database.name} is available: database {access.database}, user "
                f"{access.user}, on {access.host}:{access.port}"
            )
        self._place_listeners()
        for service in self.topology.services:
            self._interruptible()
            try:
                self._start_service(service)
            except DeployFailed as error:
                self._deploy_failed(service, str(error))
        for name in self.settings.cron_now:
            if name not in self.failed:
                self.run_cron(self.topology.service(name))  # type: ignore[arg-type]
        if len(self.failed) == len(self.topology.services):
            raise RehearsalError("every service's deploy failed; nothing runs")

    def _deploy_failed(self, service: Service, reason: str) -> None:
        """As on Render: this service's deploy failed, and it does not run; the others do."""
        self.failed[service.name] = reason
        self.schedules.pop(service.name, None)
        for instance in self.instances.pop(service.name, []):
            instance.launched.kill()
            self.launcher.release(service, instance.id)
        edge = self.edges.get(service.name)
        if edge is not None:
            edge.route_to([])
        self.console.status(f"DEPLOY FAILED: {reason}")

    def _place_listeners(self) -> None:
        """Ports for every instance of every listening service, and an edge per web
        service (the first on ``edge_port``), decided before anything starts: the
        environment of one service can name another's."""
        first_web = True
        for service in self.topology.services:
            if not service.listens:
                continue
            declared = self.resolver.declared_port(service)
            if self.network is not None and service.docker:
                port = declared or DEFAULT_PORT
                places = [self._attach() for _ in range(service.instances)]
                self.places[service.name] = places
                self.ports[service.name] = [port] * len(places)
                self.resolver.listeners[service.name] = Endpoint(places[0].address, port, "http")
                self.console.status(
                    f"{service.name}: PORT {port} on a network of each instance's own "
                    f"({', '.join(p.address for p in places)}), as on Render"
                )
                chosen = []
            elif declared is not None and service.instances == 1:
                ports.claim(declared, f"the PORT {service.name} declares")
                chosen = [declared]
            else:
                if declared is not None:
                    self.console.status(
                        f"{service.name}: {service.instances} instances cannot share PORT "
                        f"{declared} on one machine; each listens on a port of its own"
                    )
                chosen = [ports.free() for _ in range(service.instances)]
                if declared is None:
                    self.console.status(
                        f"{service.name}: PORT is {', '.join(map(str, chosen))}, not Render's "
                        f"{DEFAULT_PORT}: Render gives each instance a network of its own; "
                        "here every instance shares this machine's"
                    )
            if chosen:
                self.ports[service.name] = chosen
                self.resolver.listeners[service.name] = Endpoint(HOST, chosen[0], scheme="http")
            if service.type == "web":
                port = self.settings.edge_port if first_web else 0
                if port:
                    ports.claim(port, f"{service.name}'s public URL; choose another with --port")
                edge = Edge(port).start()
                self.edges[service.name] = edge
                self.resolver.externals[service.name] = edge.endpoint
                first_web = False

    def _start_service(self, service: Service) -> None:
        build_env = self._environment(service, "build", None)
        self.launcher.prepare(service, build_env)
        if service.pre_deploy:
            self._pre_deploy(service)
        if service.type == "cron":
            schedule = Schedule(service.name, service.schedule or "")
            self.schedules[service.name] = schedule
            if schedule.next_at is None:
                self.console.status(
                    f"{service.name} is scheduled: {schedule.expression} (UTC), which never "
                    f"runs: {schedule.never} (the validator's P023); --cron-now runs it"
                )
            else:
                self.console.status(
                    f"{service.name} is scheduled: {schedule.expression} (UTC), next run at "
                    f"{schedule.next_at:%Y-%m-%d %H:%M} UTC"
                )
            return
        slots = self.ports.get(service.name) or [None] * service.instances
        places = self.places.get(service.name) or [None] * len(slots)
        self.instances[service.name] = [
            self._spawn(service, port, place=place)
            for port, place in zip(slots, places, strict=True)
        ]
        self._wait_live(service)
        self._route(service)
        if service.name not in self.places:  # on a network of its own, 0.0.0.0 is its own
            self._note_open_listeners(service, slots)
        edge = self.edges.get(service.name)
        count = len(slots)
        where = f" at {edge.endpoint.connection_string}" if edge else ""
        self.console.status(f"{service.name} is live{where} ({count} instance{'s' * (count > 1)})")

    def _note_open_listeners(self, service: Service, slots: list[int | None]) -> None:
        """On Render only its proxy reaches an instance; here one that listens on every
        address of this machine is reached from other machines, past its edge."""
        for port in slots:
            if port is None:
                continue
            exposed = sorted(ports.listening_addresses(port) - LOOPBACK)
            if exposed:
                self.console.status(
                    f"{service.name} listens on {', '.join(exposed)} port {port}: other "
                    "machines reach it past the edge (on Render only its proxy can); a "
                    "rehearsal cannot give it a network of its own, so bind 127.0.0.1 here"
                )

    def _pre_deploy(self, service: Service) -> None:
        self.console.status(f"{service.name}: running the pre-deploy command")
        env = self._environment(service, "pre-deploy", None)
        launched = self._own(self.launcher.spawn(
            service, shell(service.pre_deploy or ""), env,
            prefix=f"{service.name} pre-deploy", slot="pre-deploy",
        ))  # fmt: skip
        try:
            code = self._wait_end(launched)
        finally:
            self.launcher.release(service, "pre-deploy")
        if code != 0:
            raise DeployFailed(
                f"{service.name}: the pre-deploy command exited with {code}; as on Render, "
                "this service's deploy fails (the others go on). Its last lines:\n"
                + "\n".join(launched.pump.tail)
            )

    def _spawn(
        self, service: Service, port: int | None, crashes: int = 0, place: Place | None = None
    ) -> Instance:
        instance_id = f"{self.resolver.service_id(service)}-{secrets.token_hex(3)[:5]}"
        env = self._environment(service, instance_id, port, place)
        prefix = f"{service.name} {instance_id.rsplit('-', 1)[-1]}"
        own_network = {"netns": place.netns} if place is not None else {}
        launched = self._own(
            self.launcher.spawn(
                service, self.launcher.command(service), env, prefix=prefix, slot=instance_id,
                **own_network,
            )
        )  # fmt: skip
        return Instance(
            service, instance_id, port, launched, self.clock(), crashes=crashes, place=place
        )

    def _environment(
        self, service: Service, instance_id: str, port: int | None, place: Place | None = None
    ) -> dict:
        reach = self.network.gateway if place is not None and self.network else None
        return self.resolver.environment(service, instance_id=instance_id, port=port, reach=reach)

    def _wait_live(self, service: Service) -> None:
        deadline = self.clock() + self.settings.start_timeout
        pending = list(self.instances[service.name])
        while pending:
            self._interruptible()
            for instance in list(pending):
                code = instance.launched.poll()
                if code is not None:
                    instance.launched.end()
                    raise DeployFailed(
                        f"{instance.label} exited with {code} while starting; its last lines:\n"
                        + "\n".join(instance.launched.pump.tail)
                    )
                if self._answers(instance):
                    instance.live = True
                    pending.remove(instance)
            if pending and self.clock() > deadline:
                what = _liveness(service)
                raise DeployFailed(
                    f"{service.name} did not become live within {self.settings.start_timeout:.0f}s "
                    f"({what}); its last lines:\n" + "\n".join(pending[0].launched.pump.tail)
                )
            self.sleep(TICK)

    def _answers(self, instance: Instance) -> bool:
        service = instance.service
        if not service.listens:
            return self.clock() - instance.started >= STARTUP_GRACE
        if instance.port is None:
            return False
        if not service.health_path:
            try:
                socket.create_connection((instance.host, instance.port), timeout=1).close()
                return True
            except OSError:
                return False
        connection = http.client.HTTPConnection(instance.host, instance.port, timeout=5)
        try:
            connection.request("GET", service.health_path, headers={"User-Agent": "Render/1.0"})
            return 200 <= connection.getresponse().status < 400
        except OSError:
            return False
        finally:
            connection.close()

    def _route(self, service: Service) -> None:
        edge = self.edges.get(service.name)
        if edge is not None:
            live = [
                (i.host, i.port)
                for i in self.instances[service.name]
                if i.live and i.port and not i.out_of_rotation
            ]
            edge.route_to(live)

    # --- cron jobs ---------------------------------------------------------------------
    def run_cron(self, service: Service) -> None:
        if service.name in self.cron_runs:
            if service.name not in self.cron_delayed:
                self.cron_delayed.add(service.name)
                self.console.status(
                    f"{service.name}: a run is due while the last one still runs; as on "
                    "Render (one run at a time), it starts when that one ends"
                )
            return
        run_id = f"{self.resolver.service_id(service)}-{secrets.token_hex(3)[:5]}"
        env = self._environment(service, run_id, None)
        self.console.status(f"{service.name}: run {run_id.rsplit('-', 1)[-1]} started")
        launched = self._own(self.launcher.spawn(
            service, self.launcher.command(service), env,
            prefix=f"{service.name} {run_id.rsplit('-', 1)[-1]}", slot="runs",
        ))  # fmt: skip
        self.cron_runs[service.name] = Instance(service, run_id, None, launched, self.clock())

    # --- watch -------------------------------------------------------------------------
    def watch(self) -> None:
        """Until stop is requested: replace instances that exit, run cron jobs when due."""
        while not self.stop_requested.wait(TICK):
            self._tend_scaling()
            self._tend_instances()
            self._tend_crons()

    def _tend_instances(self) -> None:
        now = self.clock()
        for instances in self.instances.values():
            for instance in instances:
                if instance.replaced:
                    continue
                code = instance.launched.poll()
                if code is not None:
                    self._replace(instance, code, now)
                elif not instance.live and self._answers(instance):
                    instance.live = True
                    instance.next_check = now + self.settings.health.every
                    self.console.status(f"{instance.label} is live")
                elif instance.live and instance.service.listens:
                    self._check_health(instance, now)
            if instances:
                self._route(instances[0].service)
        for entry in [entry for entry in self._pending_restarts if entry[0] <= now]:
            self._pending_restarts.remove(entry)
            old = entry[1]
            siblings = self.instances[old.service.name]
            siblings[siblings.index(old)] = self._spawn(
                old.service, old.port, old.crashes, old.place
            )

    # --- scaling: Render's API (its stand-in) changes a service's instance count -------
    def request_scale(self, name: str, count: int) -> None:
        """Run ``count`` instances of ``name`` from the next turn of the watch (called from
        the thread of Render's API stand-in, as the autoscaler's scale call arrives)."""
        with self._scale_lock:
            self._scale_requests[name] = count

    def request_cron_run(self, job: str) -> bool:
        """Run the cron job named ``job`` (or of that service id) from the next turn of the
        watch, as Render's Trigger Run does; whether there is such a job."""
        service = next(
            (s for s in self.topology.services if s.type == "cron"
             and job in (s.name, self.resolver.service_id(s))),
            None,
        )  # fmt: skip
        if service is None or service.name in self.failed:
            return False
        with self._scale_lock:
            self._cron_requests.append(service.name)
        return True

    def _tend_scaling(self) -> None:
        now = self.clock()
        with self._scale_lock:
            requests, self._scale_requests = self._scale_requests, {}
            runs, self._cron_requests = self._cron_requests, []
        for name in runs:
            self.console.status(f"{name}: a run triggered through Render's API")
            self.run_cron(self.topology.service(name))  # type: ignore[arg-type]
        for name, count in requests.items():
            service, instances = self.topology.service(name), self.instances.get(name)
            if service is None or instances is None:
                self.console.status(f"scale {name} to {count}: no such service runs here")
                continue
            before = len(instances)
            for _ in range(count - before):
                instances.append(self._spawn_more(service))
            for instance in self._leaving(instances, before - count):
                instances.remove(instance)
                self._pending_restarts = [e for e in self._pending_restarts if e[1] is not instance]
                if not instance.replaced:
                    instance.launched.terminate()
                    self._retiring.append((now + service.shutdown_delay, instance))
            self._route(service)
            if count != before:
                self.console.status(
                    f"{name}: {before} -> {count} instance(s), as Render scales it "
                    f"({'started' if count > before else 'SIGTERM to'} {abs(count - before)})"
                )
        for deadline, instance in list(self._retiring):
            if instance.launched.poll() is not None:
                instance.launched.end()
                self.launcher.release(instance.service, instance.id)
                self._retiring.remove((deadline, instance))
            elif now > deadline:
                instance.launched.kill()
                self.console.status(
                    f"{instance.label} still ran {instance.service.shutdown_delay}s after "
                    "SIGTERM (maxShutdownDelaySeconds): SIGKILL"
                )

    def _spawn_more(self, service: Service) -> Instance:
        """One more instance of a running service (a scale call)."""
        if self.network is not None and service.docker and service.listens:
            port = self.resolver.declared_port(service) or DEFAULT_PORT
            return self._spawn(service, port, place=self._attach())
        return self._spawn(service, ports.free() if service.listens else None)

    @staticmethod
    def _leaving(instances: list[Instance], how_many: int) -> list[Instance]:
        """Which go when a service scales down: any waiting to restart, then the newest."""
        if how_many <= 0:
            return []
        newest_first = list(reversed(instances))  # started later, listed later
        return sorted(newest_first, key=lambda i: (not i.replaced, -i.started))[:how_many]

    def _check_health(self, instance: Instance, now: float) -> None:
        """Render's health checks on a live instance (``HealthPolicy``): out of the edge's
        rotation while it fails them, restarted when it keeps failing."""
        policy = self.settings.health
        probe = self._probing.get(instance.id)
        if probe is not None and probe.done():
            del self._probing[instance.id]
            if probe.result():
                if instance.out_of_rotation:
                    self.console.status(
                        f"{instance.label} answers its health check again: back in rotation"
                    )
                instance.failing_since, instance.out_of_rotation = None, False
            elif instance.failing_since is None:
                instance.failing_since = now
        if instance.id not in self._probing and now >= instance.next_check:
            instance.next_check = now + policy.every
            self._probing[instance.id] = self.probes.submit(self._answers, instance)
        failing = 0.0 if instance.failing_since is None else now - instance.failing_since
        if failing >= policy.restart_after:
            self._probing.pop(instance.id, None)
            instance.launched.kill()
            self._replace(
                instance, -9, now,
                said=f"{instance.label} failed its health checks for {failing:.0f}s: "
                "restarted, as Render restarts it",
            )  # fmt: skip
        elif failing >= policy.out_of_rotation_after and not instance.out_of_rotation:
            instance.out_of_rotation = True
            self.console.status(
                f"{instance.label} failed its health checks for {failing:.0f}s: out of the "
                "edge's rotation, as on Render (restarted if it goes on failing)"
            )

    def _replace(self, instance: Instance, code: int, now: float, said: str = "") -> None:
        """An instance that exited after start-up: a new one takes its place, at once, or
        after a growing pause if they keep exiting soon after starting."""
        instance.launched.end()
        instance.live, instance.replaced = False, True
        soon = now - instance.started < 30
        instance.crashes = instance.crashes + 1 if soon else 0
        delay = min(2.0**instance.crashes, RESTART_BACKOFF_MAX) if soon else 0.0
        self.console.status(
            (said or f"{instance.label} exited with {code}; as Render does, a new instance starts")
            + (f" in {delay:.0f}s" if delay else "")
        )
        self.launcher.release(instance.service, instance.id)
        self._pending_restarts.append((now + delay, instance))

    def _tend_crons(self) -> None:
        for name, run in list(self.cron_runs.items()):
            if run.launched.poll() is None and self.clock() - run.started > CRON_MAX_RUN:
                self.console.status(
                    f"{run.label}: still running after {CRON_MAX_RUN // 3600:.0f} hours, "
                    "Render's limit for one run: stopped"
                )
                run.launched.terminate()
                try:
                    run.launched.process.wait(run.service.shutdown_delay)
                except subprocess.TimeoutExpired:
                    run.launched.kill()
            code = run.launched.poll()
            if code is not None:
                run.launched.end()
                seconds = self.clock() - run.started
                self.console.status(f"{run.label}: run ended with exit {code} after {seconds:.1f}s")
                del self.cron_runs[name]
                if name in self.cron_delayed:
                    self.cron_delayed.discard(name)
                    self.run_cron(run.service)
        for name, schedule in self.schedules.items():
            if schedule.due():
                self.run_cron(self.topology.service(name))  # type: ignore[arg-type]

    # --- stop --------------------------------------------------------------------------
    def stop(self) -> None:
        """Every instance and run gets SIGTERM, then SIGKILL after its service's
        ``maxShutdownDelaySeconds``; then the datastores and what was made go."""
        for edge in self.edges.values():
            edge.route_to([])
        running = [i for group in self.instances.values() for i in group if not i.replaced]
        running += list(self.cron_runs.values())
        if running:
            self.console.status("stopping every service: SIGTERM, as Render sends it")
        now = self.clock()
        for instance in running:
            instance.launched.terminate()
        for instance in running:
            self._wait_stopped(instance, now + instance.service.shutdown_delay)
        for launched in self._launched:  # a pre-deploy command, a run being started...
            if launched.poll() is None:
                launched.kill()
                self.console.status(f"{launched.pump.prefix}: still running at the stop: SIGKILL")
        for edge in self.edges.values():
            edge.stop()
        self.probes.shutdown(wait=False, cancel_futures=True)
        self.launcher.close()
        if self.network is not None:
            self.network.close()
        for store in self.redis:
            store.stop()
        if self.cluster is not None:
            self.cluster.stop()
        else:
            self.postgres.drop_all()
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def _wait_stopped(self, instance: Instance, deadline: float) -> None:
        try:
            code = instance.launched.process.wait(max(0.0, deadline - self.clock()))
        except subprocess.TimeoutExpired:
            instance.launched.kill()
            self.console.status(
                f"{instance.label} still ran {instance.service.shutdown_delay}s after SIGTERM "
                "(maxShutdownDelaySeconds): SIGKILL"
            )
            return
        instance.launched.end()
        self.console.status(f"{instance.label} stopped (exit {code})")

    # --- helpers -----------------------------------------------------------------------
    def _own(self, launched: Launched) -> Launched:
        self._launched = [*(known for known in self._launched if known.poll() is None), launched]
        return launched

    def _wait_end(self, launched: Launched) -> int:
        while True:
            self._interruptible()
            code = launched.poll()
            if code is not None:
                launched.pump.join()
                return code
            self.sleep(TICK)

    def _interruptible(self) -> None:
        if self.stop_requested.is_set():
            raise Interrupted


def _liveness(service: Service) -> str:
    if service.health_path:
        return f"its healthCheckPath {service.health_path} never answered 2xx or 3xx"
    if service.listens:
        return "its port never took a connection"
    return "it did not keep running"
