"""An image build that fails for a reason of this machine says the one thing to run:
offline, the command that makes a local base and the flags that use it; behind a
TLS-inspecting proxy, --host-ca."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from blueprintup.cli import HOST_CA, _build_volumes, parser
from blueprintup.launchers import _build_advice
from stack.image import BASE_IMAGE

ROOT = Path(__file__).resolve().parents[2]
PULL_FAILED = [
    "STEP 1/12: FROM python:3.11-slim-bookworm AS build",
    'Resolving "python" using unqualified-search registries',
    "Error: creating build container: initializing source docker://python:3.11-slim-bookworm: "
    'pinging container registry registry-1.docker.io: Get "https://registry-1.docker.io/v2/": '
    "dial tcp: lookup registry-1.docker.io: no such host",
]
TLS_FAILED = [
    "Could not fetch URL https://pypi.org/simple/django/: There was a problem confirming the "
    "ssl certificate: HTTPSConnectionPool(host='pypi.org', port=443): Max retries exceeded "
    "(Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED]')))",
]


def test_a_base_that_cannot_be_pulled_names_the_command_and_the_dockerfiles_argument():
    advice = _build_advice(PULL_FAILED, ROOT / "Dockerfile")
    assert (
        "python -m stack.image base" in advice,
        f"--storage-driver vfs --build-arg PYTHON_IMAGE={BASE_IMAGE}" in advice,
    ) == (True, True), advice


def test_tls_to_the_package_index_names_host_ca():
    assert "--host-ca" in _build_advice(TLS_FAILED, ROOT / "Dockerfile")


def test_a_failure_of_the_dockerfiles_own_says_nothing_more():
    assert _build_advice(["RUN false", "Error: building at STEP 3: exit status 1"], ROOT) == ""


def test_host_ca_mounts_this_machines_bundle_into_the_build():
    args = parser().parse_args(["render.yaml", "--host-ca", "--build-volume", "/a:/b:ro"])
    assert _build_volumes(args) == ["/a:/b:ro", f"{HOST_CA}:{HOST_CA}:ro"]


def test_the_base_command_says_how_it_is_used():
    wrong = subprocess.run([sys.executable, "-m", "stack.image", "nope"], cwd=ROOT,
                           capture_output=True, text=True)  # fmt: skip
    assert (wrong.returncode, "usage: python -m stack.image base" in wrong.stderr) == (2, True)
