"""``--fix``: rewrite the deprecated spellings that have exactly one correct replacement.

ruamel.yaml's round-trip parser says where each key and value is; the rewrite then edits
only those characters (a key renamed, a value replaced, one line turned into a small
block), so comments, key order, quoting, indentation and every other byte stay as they
were. A full re-dump would re-indent and re-wrap what it did not understand.

    env: docker                   -> runtime: docker
    autoDeploy: true / false      -> autoDeployTrigger: commit / off
    type: redis (and fromService) -> type: keyvalue
    previewsEnabled: true / false -> previews: {generation: automatic / off}
    previewsExpireAfterDays: N    -> previews: {expireAfterDays: N}
    a service's pullRequestPreviewsEnabled / previewPlan -> previews: {generation / plan}
    a legacy plan name (plan, previewPlan, previews.plan) -> its 2026 name (starter -> 0.5c-512mb)

Where the replacement is not certain (``runtime`` set to something else beside ``env``,
a ``previews`` block already there, a value that is not a boolean), nothing is rewritten
and ``skipped`` says why. ruamel.yaml is imported only here (``pip install ruamel.yaml``).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml as pyyaml

from blueprintcheck import plans

INSTALL_HINT = "--fix needs ruamel.yaml: pip install ruamel.yaml"


class FixError(Exception):
    """The file cannot be fixed (it does not parse, or ruamel.yaml is missing)."""


@dataclass(frozen=True)
class Change:
    line: int  # 1-based
    before: str
    after: str


@dataclass
class Result:
    text: str
    changes: list[Change] = field(default_factory=list)
    skipped: list[Change] = field(default_factory=list)  # after: why not


@dataclass(frozen=True)
class _Edit:
    line: int  # 0-based
    start: int  # column where the replaced text starts
    end: int | None  # column where it ends; None: to the end of the line (a whole entry)
    new: str


def fix_text(text: str) -> Result:
    """The rewritten text and what changed; ``FixError`` if ``text`` does not parse."""
    try:
        from ruamel.yaml import YAML
        from ruamel.yaml.error import YAMLError
    except ImportError:
        raise FixError(INSTALL_HINT) from None
    try:
        data = YAML(typ="rt").load(text)
    except YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise FixError(f"it does not parse as YAML{where}, so nothing was written") from None
    if not isinstance(data, dict):
        return Result(text)
    rewriter = _Rewriter(text.splitlines(keepends=True))
    rewriter.root(data)
    if not rewriter.edits:
        return Result(text, skipped=rewriter.skipped)
    fixed = rewriter.apply()
    try:
        pyyaml.safe_load(io.StringIO(fixed))
    except pyyaml.YAMLError:  # a layout this rewrite does not handle: leave the file alone
        return Result(text, skipped=[Change(c.line, c.before, "the rewrite would not parse")
                                     for c in rewriter.changes])  # fmt: skip
    by_line = sorted(rewriter.changes, key=lambda change: change.line)
    return Result(fixed, by_line, rewriter.skipped)


class _Rewriter:
    def __init__(self, lines: list[str]):
        self.lines = lines
        self.edits: list[_Edit] = []
        self.changes: list[Change] = []
        self.skipped: list[Change] = []

    # --- where deprecated spellings live ------------------------------------------------

    def root(self, data: Any) -> None:
        self.previews_block(
            data,
            {"previewsEnabled": "generation", "previewsExpireAfterDays": "expireAfterDays"},
        )
        for container in self._containers(data):
            for service in _maps(container.get("services")):
                merged = _merged_keys(service)
                for key, line in merged.items():
                    self.skipped.append(
                        Change(
                            line + 1,
                            _said_value(key, service[key]),
                            "not rewritten: it comes through a merge key (<<); change it at "
                            f"line {line + 1}, where it is written",
                        )
                    )
                try:
                    self.service(service)
                except (KeyError, AttributeError, TypeError):
                    # ruamel keeps no position for a key it merged or aliased in: what of
                    # this service could be placed is rewritten, the rest is said above.
                    if not merged:
                        line = service.lc.line if hasattr(service, "lc") else 0
                        self.skipped.append(
                            Change(line + 1, "a service", "not rewritten: part of it comes "
                                   "through an alias; change it where it is written")
                        )  # fmt: skip

    def _containers(self, data: Any) -> Iterator[Any]:
        yield data
        if _is_map(data.get("ungrouped")):
            yield data["ungrouped"]
        for project in _maps(data.get("projects")):
            yield from _maps(project.get("environments"))

    def service(self, service: Any) -> None:
        if "env" in service:
            runtime = service.get("runtime")
            if runtime is None:
                self.rename(service, "env", "runtime")
            elif runtime == service["env"]:
                self.delete(service, "env", "runtime says the same")
            else:
                self.skip(service, "env", f"runtime is also set, to {runtime!r}")
        if "autoDeploy" in service:
            value = service["autoDeploy"]
            if "autoDeployTrigger" in service:
                self.skip(service, "autoDeploy", "autoDeployTrigger is also set")
            elif isinstance(value, bool):
                trigger = "commit" if value else _scalar("off")
                self.rename(service, "autoDeploy", "autoDeployTrigger", trigger)
            else:
                self.skip(service, "autoDeploy", "its value is not true or false")
        if service.get("type") == "redis":
            self.replace_value(service, "type", "keyvalue")
        for entry in _maps(service.get("envVars")):
            source = entry.get("fromService")
            if _is_map(source) and source.get("type") == "redis":
                self.replace_value(source, "type", "keyvalue")
        is_key_value = service.get("type") in ("keyvalue", "redis")
        kind = plans.KIND_OF.get(str(service.get("type")))
        # A service's previewPlan moves into previews (below), renamed there; Key Value keeps it.
        in_place = [(service, "plan"), (service.get("previews"), "plan")]
        in_place += [(service, "previewPlan")] if is_key_value else []
        for mapping, key in in_place:
            if _is_map(mapping) and key in mapping and self.renamed(kind, mapping[key]):
                self.replace_value(mapping, key, self.renamed(kind, mapping[key]))
        self.previews_block(
            service,
            {"pullRequestPreviewsEnabled": "generation"}
            | ({} if is_key_value else {"previewPlan": "plan"}),
            plan_kind=kind,
        )

    @staticmethod
    def renamed(kind: str | None, plan: Any) -> str | None:
        return plans.replacement(kind, plan) if kind and isinstance(plan, str) else None

    def previews_block(
        self, mapping: Any, moved: dict[str, str], plan_kind: str | None = None
    ) -> None:
        """The old keys in ``mapping`` become one ``previews:`` block where the first was
        (a legacy plan name moved into it takes its new name)."""
        present = [key for key in moved if key in mapping]
        if not present:
            return
        if "previews" in mapping:
            self._merge_into_previews(mapping, present, moved, plan_kind)
            return
        entries = []
        for key in present:
            value = self._modern(mapping, key, moved[key], plan_kind)
            if value is None:
                return
            entries.append((moved[key], value))
        first, rest = present[0], present[1:]
        line, column = mapping.lc.key(first)
        if not self._whole_entry(mapping, first) or not all(
            self._whole_entry(mapping, key) and not self._first_in_item(mapping, key)
            for key in rest
        ):
            for key in present:
                self.skip(mapping, key, "not on a line of its own")
            return
        indent = " " * (column + self._step(mapping))
        block = "previews:" + self._comment(line) + "\n"
        block += "".join(f"{indent}{name}: {_scalar(value)}\n" for name, value in entries)
        self.edits.append(_Edit(line, column, None, block))
        for key in rest:
            self.edits.append(_Edit(mapping.lc.key(key)[0], 0, None, ""))
        after = "previews: " + ", ".join(f"{name}: {_scalar(value)}" for name, value in entries)
        for key in present:
            self.changes.append(Change(mapping.lc.key(key)[0] + 1, _said(mapping, key), after))

    def _modern(self, mapping: Any, key: str, name: str, plan_kind: str | None) -> Any:
        """An old key's value as ``previews.<name>`` takes it; ``None`` (said) if it cannot."""
        value = mapping[key]
        if name == "generation":
            if not isinstance(value, bool):
                self.skip(mapping, key, "its value is not true or false")
                return None
            return "automatic" if value else "off"
        if name == "plan":
            return self.renamed(plan_kind, value) or value
        return value

    def _merge_into_previews(
        self, mapping: Any, present: list[str], moved: dict[str, str], plan_kind: str | None
    ) -> None:
        """The old keys go into the ``previews`` block already there, as its first entries."""
        previews = mapping["previews"]
        opening = mapping.lc.key("previews")[0]
        if (
            not _is_map(previews)
            or not previews
            or "previews" in _merged_keys(mapping)
            or (previews.lc.key(next(iter(previews)))[0] == opening)
        ):
            for key in present:
                self.skip(mapping, key, "the previews block is not written as a block: move it "
                          "into it by hand")  # fmt: skip
            return
        indent = " " * previews.lc.key(next(iter(previews)))[1]
        inserted = ""
        for key in present:
            name = moved[key]
            if name in previews:
                self.skip(mapping, key, f"previews.{name} is set already: remove {key}")
                continue
            if not self._whole_entry(mapping, key) or self._first_in_item(mapping, key):
                self.skip(mapping, key, "not on a line of its own")
                continue
            value = self._modern(mapping, key, name, plan_kind)
            if value is None:
                continue
            inserted += f"{indent}{name}: {_scalar(value)}\n"
            self.edits.append(_Edit(mapping.lc.key(key)[0], 0, None, ""))
            self.changes.append(
                Change(mapping.lc.key(key)[0] + 1, _said(mapping, key),
                       f"previews: {name}: {_scalar(value)} (into the block at line {opening + 1})")
            )  # fmt: skip
        if inserted:
            own = self.lines[opening]
            self.edits.append(_Edit(opening, 0, None, own + ("" if own.endswith("\n") else "\n")
                                    + inserted))  # fmt: skip

    # --- edits ------------------------------------------------------------------------

    def rename(self, mapping: Any, old: str, new: str, value: str | None = None) -> None:
        line, column = mapping.lc.key(old)
        match = re.compile(rf"(['\"]?){re.escape(old)}\1").match(self.lines[line], column)
        if not match:
            self.skip(mapping, old, "its key is not written plainly")
            return
        self.edits.append(_Edit(line, column, match.end(), new))
        after = f"{new}: {_scalar(mapping[old]) if value is None else value}"
        if value is not None and not self._replace_token(mapping, old, value):
            self.edits.pop()
            self.skip(mapping, old, "its value is not written plainly")
            return
        self.changes.append(Change(line + 1, _said(mapping, old), after))

    def replace_value(self, mapping: Any, key: str, value: str) -> None:
        if self._replace_token(mapping, key, value):
            line = mapping.lc.value(key)[0]
            self.changes.append(Change(line + 1, _said(mapping, key), f"{key}: {value}"))
        else:
            self.skip(mapping, key, "its value is not written plainly")

    def delete(self, mapping: Any, key: str, why: str) -> None:
        line, _ = mapping.lc.key(key)
        if not self._whole_entry(mapping, key) or self._first_in_item(mapping, key):
            self.skip(mapping, key, "not on a line of its own")
            return
        self.edits.append(_Edit(line, 0, None, ""))
        self.changes.append(Change(line + 1, _said(mapping, key), f"(removed: {why})"))

    def skip(self, mapping: Any, key: str, why: str) -> None:
        self.skipped.append(Change(mapping.lc.key(key)[0] + 1, _said(mapping, key), why))

    def _replace_token(self, mapping: Any, key: str, value: str) -> bool:
        line, column = mapping.lc.value(key)
        old = mapping[key]
        spelled = {True: "true|True|TRUE", False: "false|False|FALSE"}.get(old, re.escape(str(old)))
        match = re.compile(rf"(['\"]?)(?:{spelled})\1(?=\s|,|}}|$)").match(self.lines[line], column)
        if not match:
            return False
        quote = match.group(1)
        self.edits.append(_Edit(line, column, match.end(), f"{quote}{value}{quote}"))
        return True

    def apply(self) -> str:
        lines = list(self.lines)
        # Bottom to top, right to left: an edit never moves the position of the next one.
        for edit in sorted(self.edits, key=lambda e: (e.line, e.start), reverse=True):
            text = lines[edit.line]
            if edit.end is None:
                ending = "" if edit.new.endswith("\n") or not edit.new else "\n"
                lines[edit.line] = text[: edit.start] + edit.new + ending if edit.new else ""
            else:
                lines[edit.line] = text[: edit.start] + edit.new + text[edit.end :]
        return "".join(lines)

    # --- layout -----------------------------------------------------------------------

    def _whole_entry(self, mapping: Any, key: str) -> bool:
        """The entry is ``key: scalar`` alone on its line (block style)."""
        line, column = mapping.lc.key(key)
        value_line, _ = mapping.lc.value(key)
        before = self.lines[line][:column]
        return value_line == line and before.strip() in ("", "-") and not _is_map(mapping[key])

    def _first_in_item(self, mapping: Any, key: str) -> bool:
        line, column = mapping.lc.key(key)
        return self.lines[line][:column].strip() == "-"

    def _comment(self, line: int) -> str:
        """The line's trailing comment, with the spaces before it."""
        match = re.search(r"\s+#[^'\"]*$", self.lines[line].rstrip("\n"))
        return match.group(0) if match else ""

    def _step(self, mapping: Any) -> int:
        """How far this file indents a nested mapping: as the mapping's own nested blocks
        do, else as the file's blocks mostly do (2 when it shows nothing)."""
        for key, value in mapping.items():
            if _is_map(value) and value:
                nested = value.lc.key(next(iter(value)))
                if nested[0] != mapping.lc.key(key)[0]:
                    return max(1, nested[1] - mapping.lc.key(key)[1])
        steps: dict[int, int] = {}
        for opening, following in zip(self.lines, self.lines[1:], strict=False):
            if re.search(r":\s*(#.*)?$", opening.rstrip()) and following.strip():
                step = _indent(following) - _indent(opening)
                if step > 0:
                    steps[step] = steps.get(step, 0) + 1
        return max(steps, key=steps.__getitem__) if steps else 2


def _is_map(value: Any) -> bool:
    return isinstance(value, dict)


def _maps(value: Any) -> Iterator[Any]:
    if isinstance(value, list):
        yield from (item for item in value if _is_map(item))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


# Plain words YAML 1.1 readers (PyYAML among them) take for booleans: written quoted.
_YAML11_BOOLEANS = {"y", "n", "yes", "no", "on", "off", "true", "false"}


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return f'"{text}"' if text.lower() in _YAML11_BOOLEANS else text


def _said(mapping: Any, key: str) -> str:
    return f"{key}: {_scalar(mapping[key])}"


# The keys --fix rewrites; one that a service only merges in (``<<: *anchor``) is reported
# at the anchor's line instead.
REWRITTEN = {
    "env", "autoDeploy", "type", "plan", "previewPlan", "pullRequestPreviewsEnabled",
    "previewsEnabled", "previewsExpireAfterDays",
}  # fmt: skip


def _merged_keys(mapping: Any) -> dict[str, int]:
    """The rewritable keys ``mapping`` only merges in (``<<``), with the 0-based line of
    where each is written."""
    if not hasattr(mapping, "non_merged_items"):
        return {}
    own = {key for key, _ in mapping.non_merged_items()}
    found = {}
    for key in mapping:
        if key in own or key not in REWRITTEN:
            continue
        for source in _merge_sources(mapping):
            if key in source and hasattr(source, "lc"):
                try:
                    found[key] = source.lc.key(key)[0]
                except KeyError:
                    found[key] = source.lc.line
                break
    return found


def _merge_sources(mapping: Any) -> list[Any]:
    """The mappings ``mapping`` merges in: ruamel.yaml keeps them as ``(index, map)``
    pairs in older releases and as a sequence of maps in newer ones."""
    merged = getattr(mapping, "merge", None) or []
    return [item[1] if isinstance(item, tuple) else item for item in merged]


def _said_value(key: str, value: Any) -> str:
    return f"{key}: {value}"
