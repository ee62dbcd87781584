"""The rehearsal's own PostgreSQL cluster: every user needs its password, and nothing of it
is left once stopped."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import psycopg
import pytest

from blueprintup.errors import RehearsalError
from stack import postgres
from stack.postgres_cluster import PostgresCluster

pytestmark = pytest.mark.integration


# As root the cluster runs as the postgres user, which must reach its directory: pytest's
# own are private.
TMP = Path(tempfile.gettempdir())


@pytest.fixture(scope="module")
def cluster():
    made = PostgresCluster(TMP, "test-cluster-")
    made.start()
    yield made
    made.stop()


def url(cluster: PostgresCluster, user: str, password: str) -> str:
    return f"postgresql://{user}:{password}@127.0.0.1:{cluster.port}/postgres"


def test_a_user_connects_with_its_password_and_is_refused_with_another(cluster):
    with psycopg.connect(cluster.admin_url, autocommit=True) as admin:
        postgres.create_user(admin, "app", "right-password")
    with psycopg.connect(url(cluster, "app", "right-password")) as connection:
        assert connection.execute("SELECT current_user").fetchone() == ("app",)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(url(cluster, "app", "wrong-password"))
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(url(cluster, "postgres", "not-the-superusers"))


def test_it_listens_on_loopback_only(cluster):
    with psycopg.connect(cluster.admin_url) as connection:
        listening = connection.execute("SHOW listen_addresses").fetchone()
    assert listening == ("127.0.0.1",)


def test_stopped_it_leaves_no_process_and_no_directory():
    made = PostgresCluster(TMP, "test-cluster-")
    made.start()
    directory, process = made.directory, made.process
    made.stop()
    assert (process.poll() is not None, directory.exists()) == (True, False)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs the cluster as another user")
def test_as_root_a_directory_postgres_cannot_reach_is_a_clear_error(tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    with pytest.raises(RehearsalError, match="set TMPDIR to a directory every user can pass"):
        PostgresCluster(private, "test-cluster-").start()
    assert list(private.iterdir()) == []
