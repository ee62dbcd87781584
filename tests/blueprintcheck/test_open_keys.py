"""An unknown key where Render's own schema leaves the mapping open is a likely typo Render
accepts and ignores: a warning (S001), so a correct deploy is not blocked. Where Render's
schema is closed, it stays an error."""

from __future__ import annotations

import pytest

from blueprintcheck import validate
from blueprintcheck.problems import Severity

WEB = "services:\n  - type: web\n    name: w\n    runtime: python\n    startCommand: x\n"
STATIC = "services:\n  - type: web\n    name: s\n    runtime: static\n    staticPublishPath: ./d\n"
OPEN = {
    "a static site's header": STATIC
    + "    headers:\n      - path: /*\n        name: X-A\n        value: b\n        extra: 1\n",
    "a route": STATIC
    + "    routes:\n      - type: rewrite\n        source: /a\n        destination: /b\n"
    "        extra: 1\n",
    "an ipAllowList entry": "services:\n  - type: keyvalue\n    name: k\n    ipAllowList:\n"
    "      - source: 10.0.0.0/8\n        description: x\n        extra: 1\n",
    "scaling": WEB + "    scaling:\n      minInstances: 1\n      maxInstances: 2\n"
    "      targetCPUPercent: 60\n      extra: 1\n",
    "a fromService": WEB + "    envVars:\n      - key: A\n        fromService:\n"
    "          type: web\n          name: w\n          property: host\n          extra: 1\n",
}


def s001(text: str) -> list[tuple[Severity, bool]]:
    return [
        (p.severity, "Render accepts and ignores it" in p.message)
        for p in validate(text, generic=True)
        if p.code == "S001"
    ]


@pytest.mark.parametrize("text", OPEN.values(), ids=OPEN.keys())
def test_an_extra_key_where_renders_schema_is_open_is_a_warning(text):
    assert s001(text) == [(Severity.WARNING, True)]


def test_a_typo_where_renders_schema_is_closed_stays_an_error():
    assert s001(WEB.replace("startCommand", "startComand")) == [(Severity.ERROR, False)]


def test_type_valkey_says_keyvalue_and_nothing_else():
    text = "services:\n  - type: valkey\n    name: cache\n    ipAllowList: []\n"
    found = [(p.code, p.message.split("; ")[-1]) for p in validate(text, generic=True)]
    assert found == [("S003", "Render's Key Value (it runs Valkey) is `type: keyvalue`")]
