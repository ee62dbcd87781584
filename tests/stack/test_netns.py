"""A network of the run's own: each namespace gets an address on the run's bridge, a
server there listens on PORT 10000 like every other one (on Render each instance has its
own network), this machine reaches each at its address, and nothing is left after."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from stack import netns

# On the rehearsals' worker: their leftover checks look for networks like these.
pytestmark = [
    pytest.mark.skipif(netns.unavailable() is not None, reason=str(netns.unavailable())),
    pytest.mark.xdist_group("image"),
]


def serve(place: netns.Place) -> subprocess.Popen:
    return subprocess.Popen(
        netns.exec_in(place.netns, [sys.executable, "-m", "http.server", "10000"]),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def answers(address: str, port: int) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection((address, port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def test_two_instances_on_port_10000_each_on_its_own_address_and_nothing_left():
    network = netns.Network("t3st01").start()
    servers = []
    try:
        first, second = network.attach(), network.attach()
        servers = [serve(first), serve(second)]
        reached = (answers(first.address, 10000), answers(second.address, 10000))
    finally:
        for server in servers:
            server.kill()
            server.wait()
        network.close()
    assert (reached, first.address != second.address) == ((True, True), True)
    namespaces, bridges = netns.left_behind()  # a rehearsal elsewhere may have its own
    assert [name for name in (*namespaces, *bridges) if "t3st01" in name] == []


def test_an_instance_reaches_the_run_s_postgresql_at_the_gateway_with_its_password():
    import tempfile
    from pathlib import Path

    import psycopg

    from stack import postgres
    from stack.postgres_cluster import PostgresCluster

    network = netns.Network("t3st02").start()
    cluster = PostgresCluster(Path(tempfile.gettempdir()), "test-netns-cluster-",
                              also_on=(network.gateway,), clients=(network.subnet,))  # fmt: skip
    try:
        place = network.attach()
        cluster.start()
        with psycopg.connect(cluster.admin_url, autocommit=True) as admin:
            postgres.create_user(admin, "app", "its-password")
        probe = (
            "import psycopg, sys; psycopg.connect(host=sys.argv[1], port=int(sys.argv[2]), "
            "user='app', password=sys.argv[3], dbname='postgres', connect_timeout=5).close()"
        )
        command = [sys.executable, "-c", probe, network.gateway, str(cluster.port)]
        answers = [
            subprocess.run(
                netns.exec_in(place.netns, [*command, password]), capture_output=True, text=True
            )
            for password in ("its-password", "not-its-password")
        ]
    finally:
        cluster.stop()
        network.close()
    refused = "password authentication failed" in answers[1].stderr
    assert (answers[0].returncode, answers[1].returncode, refused) == (0, 1, True), answers
