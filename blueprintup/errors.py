"""How a rehearsal stops early: an error whose message says what is wrong and what to do,
or a request to stop (Ctrl-C, SIGTERM) that came before everything was live."""

from __future__ import annotations


class RehearsalError(Exception):
    """Nothing (more) can start; ``str(error)`` is the message for the person running it,
    which never holds a variable's value."""


class DeployFailed(RehearsalError):
    """One service's deploy failed (its pre-deploy command, or an instance that never
    became live), as on Render: that service does not start; the others do."""


class Interrupted(Exception):
    """Asked to stop before everything was live."""
