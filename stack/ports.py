"""Ports on this machine: one nobody listens on, and whether a given one is taken."""

from __future__ import annotations

import socket

from blueprintup.errors import RehearsalError

HOST = "127.0.0.1"


def free() -> int:
    """A port no one listens on now (the kernel's choice)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def claim(port: int, what: str) -> None:
    """Stop with a clear message if ``port`` is taken: ``what`` says who wanted it."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            raise RehearsalError(
                f"port {port} ({what}) is in use by another program: stop it, or choose "
                "another port"
            ) from None
