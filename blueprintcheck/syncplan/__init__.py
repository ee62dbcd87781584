"""The sync plan (``--against REF``): what merging a blueprint will make Render do, from
the same file before (another file, or at a git ref) and after. ``source`` reads the
blueprint before, ``plan`` matches the resources as Render does and says what a sync
creates, changes and leaves unmanaged, with an M-coded problem for each change that
destroys, fails or costs; ``report`` renders it (text, JSON, GitHub, Markdown)."""

from __future__ import annotations

from blueprintcheck.rules import Severity, describe

E, W = Severity.ERROR, Severity.WARNING

describe("M001", "stateful-rename", E,
         "A database, a Key Value instance or a service with a disk is renamed. Render "
         "matches resources by name: the sync creates a new, empty one and leaves the old "
         "one running, no longer managed and still billed.",
         "Keep the old name; or move the data into the new one first, then delete the old "
         "one in the dashboard.")  # fmt: skip
describe("M002", "left-unmanaged", W,
         "A resource is no longer in the blueprint. Render deletes nothing a blueprint "
         "drops: it keeps running, no longer managed by the blueprint, and billed.",
         "Delete it in the dashboard once it is not needed, or keep it in the "
         "blueprint.")  # fmt: skip
describe("M003", "immutable-field", E,
         "A field Render cannot change on a resource it runs: a service's `type`, `runtime` "
         "or `region`; a database's `databaseName`, `user`, `region` or "
         "`postgresMajorVersion`. The sync fails.",
         "Keep the old value; or create a new resource under a new name and move to "
         "it.")  # fmt: skip
describe("M004", "disk-shrink", E,
         "A disk's `sizeGB` goes down. Render can grow a disk, never shrink it: the sync "
         "fails.",
         "Keep the size; or move the data to a new service with a smaller disk.")  # fmt: skip
describe("M005", "disk-dropped", E,
         "A service loses its `disk`: the sync removes the disk and every file on it.",
         "Copy what the disk holds elsewhere first, or keep the disk.")  # fmt: skip
describe("M006", "read-replicas-deleted", W,
         "`readReplicas` no longer names a replica it named: the sync deletes it (the list "
         "is authoritative; `[]` deletes them all).",
         "List every replica to keep, or leave `readReplicas` out.")  # fmt: skip
describe("M007", "build-filter-cleared", W,
         "A build filter's `paths` or `ignoredPaths` was set and is now missing or empty: a "
         "sync replaces both lists, so that one is cleared and builds start on commits it "
         "ignored.",
         "Write both lists in full.")  # fmt: skip
describe("M008", "opened-to-everyone", W,
         "An `ipAllowList` gains `0.0.0.0/0` (or `::/0`), or a database loses its list: any "
         "address on the internet can then connect, with the credentials.",
         "List the addresses that need it, or `[]` for the private network only.")  # fmt: skip
describe("M009", "plan-change", W,
         "A resource's plan changes, and with it the monthly price (shown where known) and "
         "its instance: the sync restarts it on the new type.",
         "Check the price and the timing; nothing to change if it is meant.")  # fmt: skip
describe("M010", "variable-removed", W,
         "A service no longer declares a variable it did: from its next deploy the variable "
         "is gone, and code that reads it without a default fails.",
         "Keep the variable until no code reads it.")  # fmt: skip
describe("M011", "new-sync-false", W,
         "A new `sync: false` variable: Render's dashboard asks for its value when the "
         "blueprint syncs, and the deploy waits until someone types it.",
         "Have the value ready for whoever applies the sync (nothing to change if "
         "it is).")  # fmt: skip
