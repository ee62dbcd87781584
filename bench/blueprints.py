"""Generated blueprints of any size for the validator benchmark: valid for the validator
(--generic), before and after it learnt the 2026-10 spec, and for Render's official schema,
so each does its whole job on them. Services and Key Value take their default plan: a
legacy name would be a warning now, a 2026 name an error before."""

from __future__ import annotations

import yaml


def blueprint(services: int, *, plan: str | None = None) -> str:
    """``services`` services: one Key Value, the rest web services that each reference it,
    the database, a group and the previous service (references for the validator to
    resolve); ``plan``: every web service's (else the default)."""
    web = []
    for index in range(services - 1):
        env = [
            {"fromGroup": "shared"},
            {"key": "PORT_HINT", "value": str(8000 + index)},
            {"key": "DATABASE_URL", "fromDatabase": {"name": "db", "property": "connectionString"}},
            {"key": "REDIS_URL",
             "fromService": {"type": "keyvalue", "name": "kv", "property": "connectionString"}},
        ]  # fmt: skip
        if index:
            env.append(
                {"key": "UPSTREAM_HOST",
                 "fromService": {"type": "web", "name": f"web-{index - 1}", "property": "host"}}
            )  # fmt: skip
        web.append({
            "type": "web", "name": f"web-{index}", "runtime": "python",
            "region": "frankfurt", "buildCommand": "pip install -r requirements.txt",
            "startCommand": "gunicorn app:app", "healthCheckPath": "/healthz", "envVars": env,
        } | ({"plan": plan} if plan else {}))  # fmt: skip
    keyvalue = {"type": "keyvalue", "name": "kv", "region": "frankfurt",
                "maxmemoryPolicy": "noeviction", "ipAllowList": []}  # fmt: skip
    document = {
        "envVarGroups": [{"name": "shared", "envVars": [{"key": "LOG_LEVEL", "value": "INFO"}]}],
        "services": [*web, keyvalue],
        "databases": [{"name": "db", "plan": "basic-256mb", "region": "frankfurt"}],
    }
    return yaml.safe_dump(document, sort_keys=False)
