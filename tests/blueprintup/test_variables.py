"""Every variable resolved as Render resolves it: values, generated values shared through a
group, groups under the service's own entries, databases' and services' properties,
another service's variable, sync: false from the env file, and what Render sets itself."""

from __future__ import annotations

import base64
import textwrap

import pytest

from blueprintcheck.loader import load
from blueprintup import topology
from blueprintup.errors import RehearsalError
from blueprintup.variables import DatabaseAccess, Endpoint, Platform, Resolver

BLUEPRINT = """
envVarGroups:
  - name: shared
    envVars:
      - key: SECRET_KEY
        generateValue: true
      - key: LOG_LEVEL
        value: INFO
      - key: SHARED_TOKEN
        sync: false
services:
  - type: web
    name: api
    runtime: python
    plan: pro
    buildCommand: pip install -r requirements.txt
    startCommand: gunicorn app:app
    envVars:
      - fromGroup: shared
      - key: LOG_LEVEL
        value: DEBUG
      - key: WORKERS
        value: 4
      - key: DEBUG
        value: false
      - key: OWN_SECRET
        generateValue: true
      - key: DATABASE_URL
        fromDatabase: {name: db, property: connectionString}
      - key: DB_PASSWORD
        fromDatabase: {name: db, property: password}
      - key: REDIS_URL
        fromService: {type: keyvalue, name: cache, property: connectionString}
      - key: REDIS_HOSTPORT
        fromService: {type: keyvalue, name: cache, property: hostport}
      - key: API_KEY
        sync: false
  - type: worker
    name: jobs
    runtime: python
    buildCommand: pip install -r requirements.txt
    startCommand: celery -A app worker
    envVars:
      - fromGroup: shared
      - key: OWN_SECRET
        generateValue: true
      - key: API_HOST
        fromService: {type: web, name: api, property: host}
      - key: API_PORT
        fromService: {type: web, name: api, property: port}
      - key: API_WORKERS
        fromService: {type: web, name: api, envVarKey: WORKERS}
      - key: API_SLUG
        fromService: {type: web, name: api, property: slug}
  - type: keyvalue
    name: cache
    ipAllowList: []
databases:
  - name: db
    databaseName: app
    user: app_user
"""


@pytest.fixture
def resolver() -> Resolver:
    document = load(textwrap.dedent(BLUEPRINT))
    resolver = Resolver(
        topology.read(document),
        {"API_KEY": "the-key", "SHARED_TOKEN": "shared", "EXTRA": "added"},
        Platform(commit="abc123", branch="main", repo_slug="owner/repo"),
    )
    resolver.key_values["cache"] = Endpoint("127.0.0.1", 6390)
    resolver.databases["db"] = DatabaseAccess("127.0.0.1", 5432, "app_user", "p@ss", "app")
    resolver.listeners["api"] = Endpoint("127.0.0.1", 8101, scheme="http")
    resolver.externals["api"] = Endpoint("127.0.0.1", 10000, scheme="http")
    return resolver


def environment(resolver: Resolver, name: str, port: int | None = None) -> dict[str, str]:
    service = resolver.topology.service(name)
    assert service is not None
    return resolver.environment(service, instance_id=f"srv-x-{name}", port=port)


def test_plain_values_become_text_and_the_services_own_entry_wins_over_its_group(resolver):
    api = environment(resolver, "api", 8101)
    assert (api["LOG_LEVEL"], api["WORKERS"], api["DEBUG"]) == ("DEBUG", "4", "false")
    assert environment(resolver, "jobs")["LOG_LEVEL"] == "INFO"


def test_a_generated_value_is_256_random_bits_shared_through_a_group_and_stable(resolver):
    api, jobs = environment(resolver, "api", 8101), environment(resolver, "jobs")
    assert len(base64.b64decode(api["SECRET_KEY"])) == 32
    assert api["SECRET_KEY"] == jobs["SECRET_KEY"] == environment(resolver, "jobs")["SECRET_KEY"]
    assert api["OWN_SECRET"] != jobs["OWN_SECRET"]  # a service's own entry: its own value


def test_databases_and_key_values_give_their_properties(resolver):
    api = environment(resolver, "api", 8101)
    assert api["DATABASE_URL"] == "postgresql://app_user:p%40ss@127.0.0.1:5432/app"
    assert api["DB_PASSWORD"] == "p@ss"
    assert (api["REDIS_URL"], api["REDIS_HOSTPORT"]) == ("redis://127.0.0.1:6390", "127.0.0.1:6390")


def test_a_service_reads_another_services_address_and_variables(resolver):
    jobs = environment(resolver, "jobs")
    assert (jobs["API_HOST"], jobs["API_PORT"]) == ("127.0.0.1", "8101")
    assert (jobs["API_WORKERS"], jobs["API_SLUG"]) == ("4", "api")


def test_sync_false_values_come_from_the_env_file_and_undeclared_ones_go_everywhere(resolver):
    api, jobs = environment(resolver, "api", 8101), environment(resolver, "jobs")
    assert (api["API_KEY"], api["SHARED_TOKEN"], jobs["SHARED_TOKEN"]) == (
        "the-key", "shared", "shared",
    )  # fmt: skip
    assert "API_KEY" not in jobs  # only the service that declares it gets it
    assert api["EXTRA"] == jobs["EXTRA"] == "added"
    assert resolver.undeclared() == ["EXTRA"]


def test_render_sets_its_own_variables(resolver):
    api, jobs = environment(resolver, "api", 8101), environment(resolver, "jobs")
    assert api["RENDER"] == "true" and api["IS_PULL_REQUEST"] == "false"
    types = (api["RENDER_SERVICE_TYPE"], jobs["RENDER_SERVICE_TYPE"])
    assert (api["RENDER_SERVICE_NAME"], *types) == ("api", "web", "worker")
    assert api["RENDER_SERVICE_ID"].startswith("srv-") and api["RENDER_INSTANCE_ID"] == "srv-x-api"
    assert (api["PORT"], api["RENDER_EXTERNAL_HOSTNAME"], api["RENDER_EXTERNAL_URL"]) == (
        "8101", "127.0.0.1", "http://127.0.0.1:10000",
    )  # fmt: skip
    assert (api["RENDER_GIT_COMMIT"], api["RENDER_GIT_BRANCH"]) == ("abc123", "main")
    assert "PORT" not in jobs and "RENDER_EXTERNAL_URL" not in jobs
    # the rehearsal's own: a listening instance binds loopback only (the edge is the way in)
    assert (api["WEB_BIND_HOST"], "WEB_BIND_HOST" in jobs) == ("127.0.0.1", False)
    # from the plan: pro (2 CPU, renamed 2c-4g) and, where none is named, starter's half
    assert (api["RENDER_CPU_COUNT"], jobs["RENDER_CPU_COUNT"]) == ("2", "0.5")


def test_missing_sync_values_are_listed_by_service_and_group(resolver):
    resolver.env_file = {}
    assert resolver.missing() == {"api": ["API_KEY"], "env group shared": ["SHARED_TOKEN"]}
    resolver.env_file = {"API_KEY": "", "SHARED_TOKEN": ""}  # left empty on purpose
    assert resolver.missing() == {}


def test_a_circle_of_env_var_key_references_is_an_error_not_a_hang():
    document = load(
        textwrap.dedent(
            """
            services:
              - type: worker
                name: a
                runtime: python
                startCommand: run
                envVars:
                  - key: X
                    fromService: {type: worker, name: b, envVarKey: Y}
              - type: worker
                name: b
                runtime: python
                startCommand: run
                envVars:
                  - key: Y
                    fromService: {type: worker, name: a, envVarKey: X}
            """
        )
    )
    resolver = Resolver(topology.read(document), {})
    service = resolver.topology.service("a")
    assert service is not None
    with pytest.raises(RehearsalError, match=r"circle: a\.X -> b\.Y -> a\.X"):
        resolver.environment(service, instance_id="i", port=None)


def test_a_service_may_read_another_of_its_own_variables():
    document = load(
        textwrap.dedent(
            """
            services:
              - type: worker
                name: a
                runtime: python
                startCommand: run
                envVars:
                  - key: X
                    fromService: {type: worker, name: a, envVarKey: Y}
                  - key: Y
                    value: why
            """
        )
    )
    resolver = Resolver(topology.read(document), {})
    service = resolver.topology.service("a")
    assert service is not None
    assert resolver.environment(service, instance_id="i", port=None)["X"] == "why"
