"""A network of its own for each instance, as Render gives one: a bridge for the run, and
a network namespace per instance on it (iproute2's ``ip``), where the instance listens on
``PORT`` 10000 on every address of its own and nothing but this machine reaches it.

The host side of the bridge (the gateway, ``.1`` of a private /24 no route of this machine
uses) is where an instance reaches what runs on this machine: the run's Redis and
PostgreSQL listen there too. Root only (creating namespaces needs it); ``unavailable``
says why not, and the rehearsal then shares this machine's network, as it says.
"""

from __future__ import annotations

import ipaddress
import os
import random
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from blueprintup.errors import RehearsalError

NETNS_PREFIX = "blueprint-up-"


def unavailable() -> str | None:
    """Why this machine cannot give instances networks of their own; ``None`` if it can."""
    if os.geteuid() != 0:
        return "creating network namespaces needs root"
    if shutil.which("ip") is None:
        return "iproute2's ip is not installed (Debian/Ubuntu: apt-get install iproute2)"
    return None


@dataclass(frozen=True)
class Place:
    """Where one instance listens: its namespace and address (``None``: this machine's)."""

    netns: str
    address: str


class Network:
    def __init__(self, run: str, record: Callable[[str, list[str]], None] | None = None):
        """``record``: told the bridge and the namespaces before each is made (the run's
        ledger: a killed run's reaper removes them)."""
        self.run, self.record = run, record
        self.bridge = f"bpu{run}"
        self.gateway = ""
        self._subnet: ipaddress.IPv4Network | None = None
        self._next = 2
        self.namespaces: list[str] = []

    @property
    def subnet(self) -> str:
        return str(self._subnet)

    def start(self) -> Network:
        self._subnet = _free_subnet()
        self.gateway = str(self._subnet.network_address + 1)
        self._recorded()
        _ip("link", "add", self.bridge, "type", "bridge")
        _ip("addr", "add", f"{self.gateway}/{self._subnet.prefixlen}", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        return self

    def attach(self) -> Place:
        """A new namespace on the bridge, with its address, loopback up and a route out."""
        if self._subnet is None:
            raise RehearsalError("the run's network is not started")
        number = self._next
        self._next += 1
        if number >= self._subnet.num_addresses - 1:
            raise RehearsalError("more instances than the run's network has addresses (253)")
        netns, veth = f"{NETNS_PREFIX}{self.run}-{number}", f"bpv{self.run}{number}"
        address = str(self._subnet.network_address + number)
        self.namespaces.append(netns)
        self._recorded()
        _ip("netns", "add", netns)
        _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns)
        _ip("link", "set", veth, "master", self.bridge, "up")
        _ip("-n", netns, "addr", "add", f"{address}/{self._subnet.prefixlen}", "dev", "eth0")
        _ip("-n", netns, "link", "set", "eth0", "up")
        _ip("-n", netns, "link", "set", "lo", "up")
        _ip("-n", netns, "route", "add", "default", "via", self.gateway)
        return Place(netns, address)

    def _recorded(self) -> None:
        if self.record is not None:
            self.record(self.bridge, list(self.namespaces))

    def close(self) -> None:
        """Every namespace (its end of each veth pair goes with it), then the bridge."""
        remove(self.namespaces, self.bridge)
        self.namespaces = []


def remove(namespaces: list[str], bridge: str | None) -> None:
    """Delete what a run made, whatever is left of it (a killed run's reaper calls this)."""
    for netns in namespaces:
        subprocess.run(["ip", "netns", "del", netns], capture_output=True, check=False)
    if bridge:
        subprocess.run(["ip", "link", "del", bridge], capture_output=True, check=False)


def left_behind() -> tuple[list[str], list[str]]:
    """Namespaces and bridges of rehearsals, by their names' prefixes: with one rehearsal
    on a machine at a time, any found when one starts were left by one that was killed
    (and whose directory, with its record, went too)."""
    if unavailable() is not None:
        return [], []
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False)
    links = subprocess.run(["ip", "-o", "link", "show", "type", "bridge"], capture_output=True,
                           text=True, check=False)  # fmt: skip
    namespaces = [line.split()[0] for line in listed.stdout.splitlines() if line.strip()]
    bridges = [line.split(":")[1].strip() for line in links.stdout.splitlines() if ":" in line]
    return (
        [n for n in namespaces if n.startswith(NETNS_PREFIX)],
        [b for b in bridges if b.startswith("bpu")],
    )


def exec_in(netns: str, argv: list[str]) -> list[str]:
    """``argv`` run inside ``netns``."""
    return ["ip", "netns", "exec", netns, *argv]


def _free_subnet() -> ipaddress.IPv4Network:
    """A /24 of 10.213.0.0/16 that no address or route of this machine overlaps."""
    used = subprocess.run(["ip", "-4", "route", "show", "table", "all"], capture_output=True,
                          text=True, check=False).stdout  # fmt: skip
    taken = []
    for word in used.split():
        try:
            taken.append(ipaddress.ip_network(word, strict=False))
        except ValueError:
            continue
    candidates = list(ipaddress.ip_network("10.213.0.0/16").subnets(new_prefix=24))
    random.shuffle(candidates)  # nosec B311: two runs on one machine are unlikely to meet
    for subnet in candidates:
        if not any(subnet.overlaps(other) for other in taken if other.prefixlen > 0):
            return subnet
    raise RehearsalError("no free private /24 in 10.213.0.0/16 for the run's network")


def _ip(*arguments: str) -> None:
    result = subprocess.run(["ip", *arguments], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RehearsalError(f"ip {' '.join(arguments)} failed: {result.stderr.strip()[-500:]}")
