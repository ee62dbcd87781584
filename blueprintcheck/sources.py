"""Why each error is an error: the Render source that rejects the file (or fails the deploy)
for every error code, shown beside it in docs/VALIDATOR.md. A finding that Render would
accept, and that only deserves attention, is a warning instead (``--strict`` fails on it).

Render's sources are its official Blueprint JSON Schema (vendored: ``data/``, "the
schema" below), its docs at render.com/docs, and its own list of Blueprint mistakes
(render-oss/skills, ``skills/render-blueprints/references/common-mistakes.md``). The
project's contract (C codes) and the environment check (E codes) are this project's: the
deploy would start a service that cannot do its job, or stop at its entrypoint.
"""

from __future__ import annotations

SCHEMA = "Render's official Blueprint JSON Schema (render.com/schema/render.yaml.json)"
SPEC = "render.com/docs/blueprint-spec"
CONTRACT = "this project's contract, not Render's rule"

SOURCES: dict[str, str] = {
    # YAML: nothing Render can read
    "Y001": f"Render parses the file as YAML before anything else ({SPEC}); a file that does "
    "not parse fails the sync",
    "Y002": "the YAML specification (1.2, 3.2.1.1: the keys of a mapping are unique); Render's "
    "parser refuses a key set twice",
    "Y003": f"{SCHEMA}: the document is an object",
    "Y004": f"{SCHEMA}: the document is an object; an empty file is none",
    "Y005": "the validator's own guard against alias expansion (a 'billion laughs' file): no "
    "Render limit is documented, and no blueprint comes near this one",
    # the official schema
    "S001": f"{SCHEMA}: `additionalProperties: false` where it is an error (elsewhere the "
    "schema leaves the mapping open and S001 is a warning)",
    "S002": f"{SCHEMA}: each field's `type`",
    "S003": f"{SCHEMA}: each field's `enum`, `pattern` and bounds (plans, regions, runtimes...)",
    "S004": f"{SCHEMA}: each kind's `required` list (`runtime` included: `env`, its old "
    "name, no longer stands in)",
    "S005": f"{SCHEMA}: its other keywords (`oneOf`, `if`/`then`, `not`...)",
    # references between resources
    "R001": f"{SPEC}#environment-variables: `fromService` names a service of the blueprint; "
    "a sync fails on one it cannot find",
    "R002": f"{SPEC} (projects and environments): a reference resolves within its own scope",
    "R003": f"{SPEC}#environment-variables: `envVarKey` copies a variable the target declares",
    "R004": f"{SCHEMA} (`envVarFromService`, `envVarFromDatabase`: the properties each offers) "
    f"and {SPEC}#environment-variables",
    "R005": f"{SPEC}#environment-variables: `fromService.type` is the target's type",
    "R006": f"{SPEC}: a resource's name is unique among resources of its kind in a scope",
    "R007": f"{SPEC}#environment-variables: a service has one value per key",
    "R008": f"{SCHEMA}: an `envVar` requires `key` (unless it is a `fromGroup`)",
    "R009": f"{SCHEMA}: an `envVar` is one of its four shapes (`value`, `generateValue`, "
    "`sync: false`, a reference), never two",
    "R010": f"{SPEC}#environment-groups: groups cannot hold `sync: false` or references",
    "R011": f"{SPEC}#environment-variables: `fromDatabase` names a database of the blueprint",
    "R012": f"{CONTRACT} outside --generic: every group its services read is declared in the "
    f"blueprint; Render syncs a group made in the dashboard ({SPEC}#environment-groups)",
    "R013": f"{SCHEMA} (`buildSource`) and {SPEC}: a service's build source is defined",
    # Render's rules beyond the schema's types
    "P001": f"{SCHEMA}: only a web service has `healthCheckPath`; render.com/docs/health-checks",
    "P002": f"{SCHEMA}: `maxShutdownDelaySeconds` from 1 to 300; render.com/docs/deploys",
    "P003": "render.com/docs/scaling: autoscaling needs `minInstances` <= `maxInstances` and "
    "a CPU or memory target",
    "P004": f"{SCHEMA}: a Key Value requires `ipAllowList`; render.com/docs/key-value",
    "P005": "Render's Blueprint mistakes, 5 (render-oss/skills: the same resource in several "
    "scopes collides by name)",
    "P006": f"{SCHEMA}: the plan lists (`cronPlan`, `postgresPlan`...) have no `free` where "
    "Render offers none; render.com/pricing",
    "P007": "render.com/docs/deploys#pre-deploy-command: paid instance types only",
    "P009": "render.com/docs/private-network: the private network joins services of one "
    "region only; the connection the variable describes would never open",
    "P010": f"{SCHEMA}: a service pulls an `image` or builds from the repository, not both",
    "P011": "render.com/docs/health-checks: `healthCheckPath` is a path on the service, "
    "starting with /",
    "P012": "render.com/docs/disks: a service with a disk runs one instance, on a paid type",
    "P013": "render.com/docs/postgresql-refresh: storage is 1 GB or a multiple of 5 GB",
    "P014": "render.com/docs/postgresql-read-replicas: Basic-1gb and up, and not on legacy "
    "instance types",
    "P015": f"{SCHEMA}: `routes`, `headers` and `staticPublishPath` belong to static sites",
    "P016": "render.com/docs/cronjobs: `schedule` is a five-field cron expression",
    "P018": f"{SCHEMA}: a workflow requires `buildCommand`",
    "P019": f"{SCHEMA} (`serverService`: with `buildSource`, the build source owns `runtime`, "
    "`repo`, `branch`, the build and the previews)",
    "P020": f"{SCHEMA} (`buildSource`): `baseDir`, `dockerfilePath` and `registryCredential` "
    "belong to Docker builds",
    "P021": "render.com/docs/maintenance-mode: web services on paid instance types",
    "P024": f"{SCHEMA}: an `ipAllowList` source is an IP address or a CIDR block",
    "P025": f"{SCHEMA}: `postgresMajorVersion` is a string",
    # the sync plan (--against)
    "M001": "render.com/docs/infrastructure-as-code (Render matches a blueprint's resources by "
    "name: a new name is a new resource, and the old one is left running, unmanaged)",
    "M003": "Render's Blueprint guidance (render-oss/skills, render-blueprints: a service's "
    "type and runtime, a database's name, databaseName, user, region and "
    "postgresMajorVersion cannot change after creation); render.com/docs/regions",
    "M004": "render.com/docs/disks: a disk's size can be increased, not decreased",
    "M005": "render.com/docs/disks: a disk's data lives only on it; removing the disk deletes it",
    # this project's contract
    "C000": f"{CONTRACT}: without the web, the worker and the sweep, emails are never sent "
    "(docs/DEPLOY.md)",
    "C001": f"{CONTRACT}: one image for every service (docs/DEPLOY.md)",
    "C002": f"{CONTRACT}: a link the worker signs must verify on the web (docs/DEPLOY.md)",
    "C003": f"{CONTRACT}: a shutdown inside its budget sends nothing twice "
    "(servicespec/timeouts.py, docs/RELIABILITY.md)",
    "C004": f"{CONTRACT}: the entrypoint stops at start-up without it (servicespec/envspec.py)",
    "C005": f"{CONTRACT}: a secret in the repository is public to everyone with it",
    "C006": f"{CONTRACT}: a broker that evicts loses queued emails; render.com/docs/key-value "
    "(the maxmemory policies)",
    "C007": f"{CONTRACT}: the command fails at start-up without its script",
    "C008": f"{CONTRACT}: Render fails every deploy whose health check never passes "
    "(render.com/docs/health-checks)",
    "C009": f"{CONTRACT}: every instance would run the schedule (docs/OPERATIONS.md)",
    "C010": f"{CONTRACT}: migrations run exactly once per deploy (docs/DEPLOY.md)",
    "C011": f"{CONTRACT}: more connections than the plan allows fail at the peak "
    "(render.com/docs/postgresql-connections, servicespec/dbbudget.py)",
    "C012": f"{CONTRACT}: the Render API key can change any service (docs/SECURITY.md)",
    "C013": f"{CONTRACT}: Render's own autoscaling overrides the autoscaler's count "
    "(render.com/docs/scaling)",
    "C014": f"{CONTRACT}: every deploy would reset the worker outside the autoscaler's range",
    # the environment and the validator
    "E001": f"{CONTRACT}: the entrypoint refuses to start without it (servicespec/envspec.py)",
    "E002": f"{CONTRACT}: the entrypoint refuses to start with it (servicespec/envspec.py)",
    "X001": "none: a bug in the validator, to report",
}
