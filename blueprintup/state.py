"""What a rehearsal keeps between runs, as Render keeps it between deploys: the values
``generateValue`` made. Render generates each once, when the Blueprint first creates the
variable, so sessions, signed links and tokens survive a redeploy; a rehearsal that made
new ones every run would log everyone out at every run.

Kept outside the repository, per blueprint, in ``$XDG_STATE_HOME/blueprint-up/``
(``~/.local/state`` by default): the directory mode 0700, the file 0600, written whole
(a temporary file, then a rename). Never printed. ``--regenerate`` starts afresh.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "blueprint-up"


class GeneratedValues(dict):
    """The blueprint's generated values, by slot (``service|group/name/KEY``); ``save``
    writes them back."""

    def __init__(self, blueprint: Path, *, regenerate: bool = False):
        super().__init__()
        digest = hashlib.sha256(str(blueprint.resolve()).encode()).hexdigest()[:16]
        self.path = state_dir() / f"generated-{digest}.json"
        if not regenerate:
            with contextlib.suppress(OSError, ValueError):
                self.update(json.loads(self.path.read_text()))

    def save(self) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            json.dump(dict(self), file)
        temporary.replace(self.path)
