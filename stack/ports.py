"""Ports on this machine: one nobody listens on, and whether a given one is taken."""

from __future__ import annotations

import ipaddress
import socket
import sys
from pathlib import Path

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


def listening_addresses(port: int) -> set[str]:
    """The addresses a socket of this machine listens on at ``port`` (``0.0.0.0``, ``::``,
    ``127.0.0.1``...), from the kernel's tables."""
    found = set()
    for table, width in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 16)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, _, hex_port = fields[1].partition(":")
            if fields[3] == _LISTEN and int(hex_port, 16) == port:
                found.add(_address(bytes.fromhex(address), width))
    return found


_LISTEN = "0A"


def _address(raw: bytes, width: int) -> str:
    # the kernel prints each 32-bit word of the address in the host's byte order
    if sys.byteorder == "little":
        raw = b"".join(raw[i : i + 4][::-1] for i in range(0, width, 4))
    return str(ipaddress.ip_address(raw))
