"""Load render.yaml into plain Python values, remembering where each one came from.

PyYAML's composer gives nodes with marks; this module builds the values itself so it can
record a 1-based (line, column) for every key and value, refuse duplicate keys (PyYAML
silently keeps the last one), and bound the work an alias bomb would cause.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from blueprintcheck.problems import Path, Problem

try:  # the C composer is several times faster where libyaml is available
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

STR_TAG = "tag:yaml.org,2002:str"
MERGE_TAG = "tag:yaml.org,2002:merge"

MAX_BYTES = 5_000_000
MAX_VALUES = 250_000  # values built, aliases expanded: a bomb stops here, not in memory


class LoadError(Exception):
    """The file cannot be read as a blueprint; ``problems`` say why."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


@dataclass
class Document:
    data: dict[str, Any]
    file: str = "render.yaml"
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def position(self, path: Path, *, at_key: bool = False) -> tuple[int | None, int | None]:
        """The position of ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        while True:
            if at_key and path in self.keys:
                return self.keys[path]
            if path in self.values:
                return self.values[path]
            if path in self.keys:
                return self.keys[path]
            if not path:
                return (None, None)
            path = path[:-1]

    def get(self, path: Path, default: Any = None) -> Any:
        value: Any = self.data
        for part in path:
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                return default
        return value


def load(text: str | bytes, file: str = "render.yaml") -> Document:
    """Parse ``text``; ``LoadError`` carries Y-coded problems when it is not a blueprint."""
    if len(text) > MAX_BYTES:
        raise LoadError(
            [
                Problem(
                    "Y005",
                    f"file is {len(text):,} bytes; the limit is "
                    f"{MAX_BYTES:,} (is this really a blueprint?)",
                    file=file,
                )
            ]
        )
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise LoadError(
                [
                    Problem(
                        "Y001", f"not UTF-8 text ({error.reason} at byte {error.start})", file=file
                    )
                ]
            ) from None
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = " ".join(str(p) for p in (error.context, error.problem) if p)
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise LoadError(
            [Problem("Y001", f"invalid YAML: {message}", line=line, column=column, file=file)]
        ) from None
    except yaml.YAMLError as error:
        raise LoadError([Problem("Y001", f"invalid YAML: {error}", file=file)]) from None
    if node is None or (isinstance(node, yaml.ScalarNode) and node.value == ""):
        raise LoadError(
            [
                Problem(
                    "Y004",
                    "the file is empty; a blueprint needs at least `services:` or `databases:`",
                    file=file,
                )
            ]
        )
    if not isinstance(node, yaml.MappingNode):
        line, column = _mark(node)
        kind = "a list" if isinstance(node, yaml.SequenceNode) else "a single value"
        raise LoadError(
            [
                Problem(
                    "Y003",
                    f"the top level is {kind}; a blueprint is a mapping "
                    "with keys such as `services:`",
                    line=line,
                    column=column,
                    file=file,
                )
            ]
        )
    builder = _Builder(file)
    data = builder.build(node, ())
    if builder.problems:
        raise LoadError(builder.problems)
    return Document(data=data, file=file, values=builder.values, keys=builder.keys)


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Builder:
    def __init__(self, file: str):
        self.file = file
        self.values: dict[Path, tuple[int, int]] = {}
        self.keys: dict[Path, tuple[int, int]] = {}
        self.problems: list[Problem] = []
        self.count = 0
        self.constructor = yaml.SafeLoader("")  # only its scalar resolution is used

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            line, column = _mark(node)
            raise LoadError(
                [
                    Problem(
                        "Y005",
                        f"more than {MAX_VALUES:,} values after expanding "
                        "aliases (an alias bomb?); a blueprint is far smaller",
                        line=line,
                        column=column,
                        file=self.file,
                    )
                ]
            )
        self.values.setdefault(path, _mark(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
        if node.tag == STR_TAG:  # most values: no constructor needed
            return node.value
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as error:
            line, column = _mark(node)
            self.problems.append(
                Problem(
                    "Y001",
                    f"invalid YAML value: {error.problem}",
                    path=path,
                    line=line,
                    column=column,
                    file=self.file,
                )
            )
            return None

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict:
        result: dict[Any, Any] = {}
        for key_node, value_node in self._with_merges(node):
            if not isinstance(key_node, yaml.ScalarNode):
                line, column = _mark(key_node)
                self.problems.append(
                    Problem(
                        "Y001",
                        "a key must be a plain value, not a list or mapping",
                        path=path,
                        line=line,
                        column=column,
                        file=self.file,
                    )
                )
                continue
            key = key_node.value
            if key in result and not getattr(key_node, "_merged", False):
                line, column = _mark(key_node)
                first = self.keys.get((*path, key), (None, None))[0]
                self.problems.append(
                    Problem(
                        "Y002",
                        f'duplicate key "{key}" (first at line {first}); YAML keeps only '
                        "the last one, so the first is silently lost",
                        path=(*path, key),
                        line=line,
                        column=column,
                        file=self.file,
                    )
                )
                continue
            self.keys.setdefault((*path, key), _mark(key_node))
            result[key] = self.build(value_node, (*path, key))
        return result

    def _with_merges(self, node: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node]]:
        """Own pairs first, then pairs merged in with ``<<`` that the node does not set."""
        if not any(key_node.tag == MERGE_TAG for key_node, _ in node.value):
            return node.value  # nearly every mapping
        own, merged = [], []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                sources = (
                    value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                )
                for source in sources:
                    if isinstance(source, yaml.MappingNode):
                        merged.extend(self._with_merges(source))
            else:
                own.append((key_node, value_node))
        names = {k.value for k, _ in own if isinstance(k, yaml.ScalarNode)}
        extra = []
        for key_node, value_node in merged:
            if key_node.value not in names:
                names.add(key_node.value)
                key_node._merged = True  # a merged key may repeat an own one: not a duplicate
                extra.append((key_node, value_node))
        return own + extra
