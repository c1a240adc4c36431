"""A strict, safe YAML reader for files that coordinators edit by hand.

PyYAML's safe loader still accepts anchors and aliases (alias bombs), silently keeps the
last of two duplicate keys, and follows YAML 1.1, where `nee`-like words (`no`, `off`,
`yes`) become booleans and `12:30` becomes 750. Here those are refused or kept as text,
and every mapping and list remembers the line it came from so errors can name it.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import re
from collections.abc import Hashable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, NodeEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

#: Largest knowledge file read; a bigger one is refused before parsing.
MAX_FILE_BYTES = 2 * 1024 * 1024


class YamlProblem(Exception):
    """A file could not be read; `line` is 1-based (0 when unknown)."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.message = message


class LineDict(dict[str, Any]):
    """A mapping that remembers its own line and the line of each key."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A list that remembers its own line and the line of each item."""

    line: int = 0
    item_lines: list[int]

    def line_at(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


def _mark(event: object) -> yaml.Mark | None:
    """Where an event starts, as the Mark `MarkedYAMLError` takes (libyaml's has the same
    fields)."""
    mark = getattr(event, "start_mark", None)
    return cast("yaml.Mark | None", mark)


def line_of(value: object, default: int = 0) -> int:
    """The 1-based line a mapping or list started on, or `default`."""
    return int(getattr(value, "line", default))


_CParser: Any
try:
    _CParser = importlib.import_module("yaml._yaml").CParser
except (ImportError, AttributeError):  # pragma: no cover - PyYAML built without libyaml
    _CParser = None


class _PyParser(Reader, Scanner, Parser):
    """PyYAML's own reading, scanning and parsing in Python: used when libyaml is missing."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)


# Base classes chosen at run time. libyaml's parser has the same interface as the Python
# one, and its type hints are the complete ones: the type checker sees those.
if TYPE_CHECKING:
    from yaml._yaml import CParser as _ParserBase
else:
    _ParserBase = _CParser or _PyParser


class _FastBase(Composer, _ParserBase, SafeConstructor, Resolver):
    """libyaml scans and parses (most of the work, in C); composing and constructing stay
    in Python, in `_StrictLoader` below, where anchors, tags and duplicate keys are refused
    with their line. Without libyaml, PyYAML's own parser does the same, slower."""

    def __init__(self, stream: str) -> None:
        _ParserBase.__init__(self, stream)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)


class _StrictLoader(_FastBase):
    """Safe loader without aliases, anchors, custom tags, duplicate keys or 1.1 traps."""

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            raise yaml.MarkedYAMLError(
                problem="aliases (*name) are not allowed; write the value out in full",
                problem_mark=_mark(event),
            )
        if isinstance(event, NodeEvent) and event.anchor is not None:
            raise yaml.MarkedYAMLError(
                problem="anchors (&name) are not allowed; write the value out in full",
                problem_mark=_mark(event),
            )
        tag = getattr(event, "tag", None)
        if tag not in (None, "!"):
            raise yaml.MarkedYAMLError(
                problem=f"tags such as {tag!r} are not allowed; remove it",
                problem_mark=_mark(event),
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        result = LineDict()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise yaml.MarkedYAMLError(
                    problem="a key must be a plain word", problem_mark=key_node.start_mark
                )
            key = str(key_node.value)
            if key == "<<":
                raise yaml.MarkedYAMLError(
                    problem="merge keys (<<) are not allowed", problem_mark=key_node.start_mark
                )
            if key in result:
                first = result.key_lines[key]
                raise yaml.MarkedYAMLError(
                    problem=f"the key {key!r} appears twice in this block (first on line {first})",
                    problem_mark=key_node.start_mark,
                )
            result[key] = self.construct_object(value_node, deep=True)
            result.key_lines[key] = key_node.start_mark.line + 1
        # A LineDict, whose keys are all str; the base class promises any hashable keys.
        return cast("dict[Hashable, Any]", result)

    def construct_sequence(self, node: SequenceNode, deep: bool = False) -> LineList:
        result = LineList(self.construct_object(child, deep=True) for child in node.value)
        result.line = node.start_mark.line + 1
        result.item_lines = [child.start_mark.line + 1 for child in node.value]
        return result


# Resolvers: start from none, then allow only what a coordinator means literally.
_StrictLoader.yaml_implicit_resolvers = {}
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf")
)
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
)
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|)$"), ["~", "n", ""]
)
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:timestamp",
    re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
    list("0123456789"),
)


def _construct_date(loader: _StrictLoader, node: Node) -> _dt.date:
    value = str(node.value)
    try:
        return _dt.date.fromisoformat(value)
    except ValueError:
        raise yaml.MarkedYAMLError(
            problem=f"{value!r} is not a real date (write YYYY-MM-DD)",
            problem_mark=node.start_mark,
        ) from None


# What `add_constructor` does, written out: a copy of the safe constructors with three
# replaced (its type hints accept only PyYAML's own loader classes).
_StrictLoader.yaml_constructors = {
    **SafeConstructor.yaml_constructors,
    "tag:yaml.org,2002:timestamp": _construct_date,
    "tag:yaml.org,2002:map": _StrictLoader.construct_mapping,
    "tag:yaml.org,2002:seq": _StrictLoader.construct_sequence,
}


class _Unusual(Exception):
    """The fast reader met something only the strict reader explains well."""


_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_DATE = "tag:yaml.org,2002:timestamp"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"

#: Anchors (&a), aliases (*a) and tags (!t): candidates for a look at the character before.
_SPECIAL = re.compile(r"[&*!](?=\S)")
#: A bound on nesting depth: the flow brackets plus a line's leading indentation and
#: block indicators ("- ", "? "). A file that may nest deeper goes the strict way:
#: libyaml's composer recurses in C, and 100,000 "[" would crash the process instead of
#: being refused. (Measured: it survives 20,000 levels in a thread with the default stack.)
_FAST_MAX_DEPTH = 1000


if _CParser is not None:

    class _CLoader(_ParserBase, Resolver):
        """libyaml composes the node tree in C; `_build` then checks and converts it."""

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            Resolver.__init__(self)

        def descend_resolver(self, current_node: object, current_index: object) -> None:
            pass  # no path resolvers here: skip the per-node bookkeeping

        def ascend_resolver(self) -> None:
            pass

        def resolve(self, kind: type[Node], value: str, implicit: tuple[bool, bool]) -> str:
            # Resolver.resolve, minus the path resolvers this loader never has: it runs
            # once per scalar and was a fifth of the load time.
            if kind is ScalarNode:
                if implicit[0]:
                    for tag, regexp in _IMPLICIT.get(value[:1], ()):
                        if regexp.match(value):
                            return str(tag)
                return _STR
            return _SEQ if kind is SequenceNode else _MAP

    _IMPLICIT: dict[str, list[tuple[str, re.Pattern[str]]]] = _StrictLoader.yaml_implicit_resolvers


def _has_special(text: str) -> bool:
    """Whether an anchor, alias or tag may be in the text, where YAML would read one:
    such a file goes the strict way, which refuses it with its line."""
    for m in _SPECIAL.finditer(text):
        i = m.start()
        if i == 0 or text[i - 1] in " \t\r\n[{,":
            return True
    return False


def _fast_eligible(text: str) -> bool:
    if _CParser is None or "<<" in text or _has_special(text):
        return False
    flow = text.count("[") + text.count("{")
    if flow >= _FAST_MAX_DEPTH:
        return False
    deep_block = re.compile(rf"^[ ?-]{{{_FAST_MAX_DEPTH - flow - 2},}}", re.MULTILINE)
    return deep_block.search(text) is None


def _build(node: Node, seen: set[int]) -> Any:
    """Plain Python values from a node tree, as `_StrictLoader` would construct them.

    Raises:
        _Unusual: For anything `_StrictLoader` refuses or treats specially, so that it
            can say what and where.
    """
    tag = node.tag
    if isinstance(node, ScalarNode):
        value = node.value
        if tag == _STR:
            return value
        if tag == _INT:
            return int(value)
        if tag == _BOOL:
            return value == "true"
        if tag == _NULL:
            return None
        if tag == _DATE:
            try:
                return _dt.date.fromisoformat(value)
            except ValueError:
                raise _Unusual from None
        raise _Unusual
    if id(node) in seen:  # the same node twice: an alias
        raise _Unusual
    seen.add(id(node))
    if isinstance(node, MappingNode) and tag == _MAP:
        result = LineDict()
        result.line = node.start_mark.line + 1
        key_lines: dict[str, int] = {}
        result.key_lines = key_lines
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag not in (_STR, _INT, _BOOL):
                raise _Unusual
            key = str(key_node.value)
            if key in key_lines or key == "<<":
                raise _Unusual
            result[key] = _build(value_node, seen)
            key_lines[key] = key_node.start_mark.line + 1
        return result
    if isinstance(node, SequenceNode) and tag == _SEQ:
        items = LineList(_build(child, seen) for child in node.value)
        items.line = node.start_mark.line + 1
        items.item_lines = [child.start_mark.line + 1 for child in node.value]
        return items
    raise _Unusual


def _load_fast(text: str) -> Any:
    loader = _CLoader(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    return None if node is None else _build(node, set())


def _load_strict(text: str) -> Any:
    # What yaml.load(text, Loader=_StrictLoader) does (_StrictLoader is a safe loader).
    loader = _StrictLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def load_yaml_text(text: str, path: Path) -> Any:
    """Parse YAML text strictly.

    Raises:
        YamlProblem: With the file, line and a plain explanation.
    """
    if "\t" in text:
        lineno = text[: text.index("\t")].count("\n") + 1
        raise YamlProblem(path, lineno, "a tab character; indent with spaces only")
    if _fast_eligible(text):
        try:
            return _load_fast(text)
        except (_Unusual, yaml.YAMLError, ValueError, RecursionError):
            pass  # the strict reader below finds the problem and names its line
    try:
        return _load_strict(text)
    except RecursionError:
        raise YamlProblem(
            path, 0, "blocks or lists are nested too deeply; this is not a knowledge file"
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        problem = exc.problem or "this is not valid YAML"
        if exc.context and "while" not in exc.context:
            problem = f"{exc.context}: {problem}"
        raise YamlProblem(path, line, problem) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(path, 0, f"this is not valid YAML ({type(exc).__name__})") from None


def load_yaml_file(path: Path) -> Any:
    """Read and parse one YAML file strictly, refusing files that are too large.

    Raises:
        YamlProblem: With the file, line and a plain explanation.
    """
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise YamlProblem(
                path, 0, f"the file is {size} bytes; the limit is {MAX_FILE_BYTES}: split it"
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise YamlProblem(path, 0, f"cannot read the file ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        lineno = raw[: exc.start].count(b"\n") + 1
        raise YamlProblem(path, lineno, "not UTF-8 text; save the file as UTF-8") from None
    return load_yaml_text(text.removeprefix("\ufeff"), path)
