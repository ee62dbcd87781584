"""What a rehearsal reads from a blueprint: Render's defaults applied, services in the order
to start them, and everything it cannot run named with the reason, never dropped in
silence; on this project's blueprint and on every real-world one."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from blueprintcheck import docs
from blueprintcheck.loader import LoadError, load
from blueprintup import topology
from blueprintup.errors import RehearsalError
from blueprintup.variables import DatabaseAccess, Endpoint, Resolver

ROOT = Path(__file__).resolve().parents[2]


def read(text: str, **options) -> topology.Topology:
    return topology.read(load(textwrap.dedent(text)), **options)


def test_the_projects_blueprint():
    project = topology.read(load((ROOT / "render.yaml").read_text()))
    assert [(s.name, s.type, s.instances) for s in project.services] == [
        ("remosphere-web", "web", 1),
        ("remosphere-worker", "worker", 1),
        ("remosphere-sweep", "cron", 1),
        ("remosphere-autoscaler", "cron", 1),
    ]
    [key_value] = project.key_values
    assert (key_value.policy, key_value.persistence, key_value.memory_mb) == (
        "noeviction", "journal-snapshot", 256,
    )  # fmt: skip
    [database] = project.databases
    assert (database.database, database.user, database.major_version) == (
        "remosphere", "remosphere", "17",
    )  # fmt: skip
    web = project.service("remosphere-web")
    assert web is not None
    assert (web.command, web.pre_deploy, web.health_path, web.shutdown_delay) == (
        "./docker/web-entrypoint.sh", "python manage.py migrate --noinput", "/readyz", 40,
    )  # fmt: skip
    assert project.skipped == []


def test_what_cannot_run_here_is_named_with_the_reason():
    found = read(
        """
        previews:
          generation: automatic
        services:
          - type: web
            name: site
            runtime: static
            buildCommand: npm run build
            staticPublishPath: dist
          - type: worker
            name: prebuilt
            runtime: image
            image:
              url: ghcr.io/owner/private:1
              creds: {fromRegistryCreds: {name: ghcr}}
          - type: web
            name: files
            runtime: python
            startCommand: run
            disk: {name: data, mountPath: /var/data}
          - type: workflow
            name: flows
            runtime: python
            buildCommand: pip install .
            startCommand: run
        """
    )
    reasons = {skipped.name: skipped.reason for skipped in found.skipped}
    assert set(reasons) == {"site", "prebuilt", "files", "flows", "previews"}
    assert "static site" in reasons["site"]
    assert "private" in reasons["prebuilt"] and "ghcr.io/owner/private:1" in reasons["prebuilt"]
    assert "/var/data" in reasons["files"]
    assert "workflow" in reasons["flows"]
    assert found.services == []


def test_a_service_starts_after_the_services_it_reads_and_defaults_apply():
    found = read(
        """
        services:
          - type: web
            name: front
            runtime: node
            startCommand: npm start
            envVars:
              - key: API
                fromService: {type: pserv, name: api, property: hostport}
          - type: pserv
            name: api
            runtime: python
            startCommand: run
            scaling: {minInstances: 2, maxInstances: 4, targetCPUPercent: 60}
          - type: keyvalue
            name: cache
            plan: free
            ipAllowList: []
        """
    )
    assert [s.name for s in found.services] == ["api", "front"]
    api = found.service("api")
    assert api is not None and api.instances == 2 and api.shutdown_delay == 30
    [cache] = found.key_values
    assert (cache.policy, cache.persistence, cache.memory_mb) == ("allkeys-lru", "off", 25)


def test_projects_are_rehearsed_one_environment_at_a_time():
    text = """
        projects:
          - name: shop
            environments:
              - name: staging
                services:
                  - type: worker
                    name: jobs
                    runtime: python
                    startCommand: run
        """
    with pytest.raises(RehearsalError, match="--environment NAME \\(staging\\)"):
        read(text)
    assert [s.name for s in read(text, environment="staging").services] == ["jobs"]
    with pytest.raises(RehearsalError, match="no environment named 'prod'"):
        read(text, environment="prod")


def test_every_real_world_blueprint_is_read_and_resolved_or_refused_clearly():
    directory = docs.reference_dir() / "blueprints"
    if not directory.is_dir():
        pytest.skip(f"the real-world blueprints are not at {directory}")
    read_count = 0
    for path in sorted(directory.glob("*.y*ml")):
        try:
            document = load(path.read_text(), path.name)
        except LoadError:
            continue  # not a blueprint: the validator says so before a rehearsal
        try:
            found = topology.read(document)
        except RehearsalError as error:
            assert "--environment" in str(error), path.name
            continue
        resolver = Resolver(found, {})
        for key_value in found.key_values:
            resolver.key_values[key_value.name] = Endpoint("127.0.0.1", 6390)
        for database in found.databases:
            resolver.databases[database.name] = DatabaseAccess(
                "127.0.0.1", 5432, database.user, "pw", database.database
            )
        for service in found.services:
            if service.listens:
                resolver.listeners[service.name] = Endpoint("127.0.0.1", 8000, scheme="http")
        asked = [key for keys in resolver.missing().values() for key in keys]
        resolver.env_file = dict.fromkeys(asked, "")
        for service in found.services:
            try:
                environment = resolver.environment(service, instance_id="i", port=None)
            except RehearsalError as error:
                assert str(error), path.name  # a reference to something not rehearsed
                continue
            assert environment["RENDER_SERVICE_NAME"] == service.name, path.name
        read_count += 1
    assert read_count >= 90
