"""Terraform's JSON syntax (``*.tf.json``) translated into the blocks the evaluator reads (no I/O).

A ``.tf.json`` file declares exactly what a ``.tf`` file can (Terraform's "JSON Configuration
Syntax", HCL's JSON specification), so it is translated into the same ``Block`` /
``Attribute`` / expression-node representation that driftwatch.terraform.parse makes of HCL,
and the whole evaluator reads it unchanged. The mapping is Terraform's:

* the root object's properties are top-level block types; each block label is one level of
  object (``"resource": {"aws_dynamodb_table": {"orders": {...}}}``), and at any level an array
  stands for several blocks; ``null`` is no block;
* in a block body, a property is a nested block when the block's schema says so (the block
  types of ``aws_dynamodb_table``, of the scaling resources, of the ``aws`` provider; the
  meta blocks ``lifecycle``, ``dynamic``, ``provisioner``, ``connection``), else an argument;
  ``"//"`` properties are comments; an argument set twice is an error;
* an argument's value is an expression: a string is a string template (``"${var.x}"`` is the
  value of ``var.x`` itself, as in native syntax), numbers, booleans and null are themselves,
  arrays are tuples and objects are objects whose keys are templates too;
* arguments Terraform evaluates without a context read strings literally (``"${x}"`` stays
  ``${x}``): a variable's ``default``, ``description``, ``sensitive``, ``nullable``; a module's
  ``source`` and ``version``; a provider's ``alias``; an output's ``description``;
* arguments Terraform reads as references or keywords take the string as native syntax:
  ``depends_on``, a resource's ``provider``, a module's ``providers``, ``lifecycle``'s
  ``ignore_changes`` and ``replace_triggered_by``, ``dynamic``'s ``iterator``, a variable's
  ``type`` (``"list(string)"``).

A ``.tf.json`` file is input like any other: its size and token count are bounded before it is
read (the same per-file limits as HCL), its nesting is bounded (``MAX_JSON_DEPTH``), and
anything malformed -- invalid JSON, a root that is not an object, a repeated argument, a
template that does not parse -- is an ``HclSyntaxError`` naming the file, line and column.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from driftwatch.terraform import heredoc, numbers, strip_markers
from driftwatch.terraform.parse import Attribute, Block, Content, HclSyntaxError, Literal, parse_text

MAX_JSON_DEPTH = 100  # nesting of objects and arrays in one file (limits.MAX_VALUE_DEPTH)
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_KEYWORDS = {"true": True, "false": False, "null": None}
_COMMENT = "//"

# --- JSON with positions ---------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Node:
    """A JSON value and where it starts. ``value``: an object's (key, key position, value)
    triples in order (repeated keys kept: they may be blocks), an array's nodes, a string, a
    number's text, True/False/None."""

    kind: str  # object, array, string, number, literal
    value: Any
    pos: int


class _Scanner:
    """A strict JSON parser (RFC 8259, as HCL's JSON parser) that keeps positions and bounds
    nesting; errors are HclSyntaxError with the line and column."""

    def __init__(self, text: str, file: str):
        self.text = text
        self.file = file
        self.newlines = [m.start() for m in re.finditer("\n", text)]

    def where(self, pos: int) -> tuple[int, int]:
        line = bisect.bisect_left(self.newlines, pos)
        start = self.newlines[line - 1] + 1 if line else 0
        return line + 1, pos - start + 1

    def line(self, pos: int) -> int:
        return self.where(pos)[0]

    def fail(self, message: str, pos: int) -> HclSyntaxError:
        line, column = self.where(min(pos, len(self.text)))
        return HclSyntaxError(self.file, message, line, column)

    def document(self) -> Node:
        node = self.value(self.skip(0), 0)
        end = self.skip(self._end)
        if end != len(self.text):
            raise self.fail("extra data after the JSON value", end)
        return node

    def skip(self, pos: int) -> int:
        match = _WHITESPACE.match(self.text, pos)
        return match.end() if match else pos

    def value(self, pos: int, depth: int) -> Node:
        text = self.text
        if depth > MAX_JSON_DEPTH:
            raise self.fail(f"JSON nested deeper than {MAX_JSON_DEPTH} levels (driftwatch's limit)", pos)
        if pos >= len(text):
            raise self.fail("unexpected end of file: expected a JSON value", pos)
        char = text[pos]
        if char == "{":
            return self.object(pos, depth)
        if char == "[":
            return self.array(pos, depth)
        if char == '"':
            string, self._end = self.string(pos)
            return Node("string", string, pos)
        for word, value in _KEYWORDS.items():
            if text.startswith(word, pos):
                self._end = pos + len(word)
                return Node("literal", value, pos)
        match = _NUMBER.match(text, pos)
        if match:
            self._end = match.end()
            return Node("number", match.group(), pos)
        raise self.fail(f"unexpected character {text[pos]!r}: expected a JSON value", pos)

    def string(self, pos: int) -> tuple[str, int]:
        try:
            return json.decoder.scanstring(self.text, pos + 1, True)  # type: ignore[attr-defined,no-any-return]
        except json.JSONDecodeError as error:
            raise self.fail(error.msg.lower(), error.pos) from None

    def object(self, start: int, depth: int) -> Node:
        text = self.text
        pairs: list[tuple[str, int, Node]] = []
        pos = self.skip(start + 1)
        if text.startswith("}", pos):
            self._end = pos + 1
            return Node("object", pairs, start)
        while True:
            if not text.startswith('"', pos):
                raise self.fail("expected a property name in double quotes", pos)
            key, pos = self.string(pos)
            key_pos = pos
            pos = self.skip(pos)
            if not text.startswith(":", pos):
                raise self.fail("expected ':' after a property name", pos)
            value = self.value(self.skip(pos + 1), depth + 1)
            pairs.append((key, key_pos, value))
            pos = self.skip(self._end)
            if text.startswith(",", pos):
                pos = self.skip(pos + 1)
                continue
            if text.startswith("}", pos):
                self._end = pos + 1
                return Node("object", pairs, start)
            raise self.fail("expected ',' or '}' in an object", pos)

    def array(self, start: int, depth: int) -> Node:
        text = self.text
        items: list[Node] = []
        pos = self.skip(start + 1)
        if text.startswith("]", pos):
            self._end = pos + 1
            return Node("array", items, start)
        while True:
            items.append(self.value(pos, depth + 1))
            pos = self.skip(self._end)
            if text.startswith(",", pos):
                pos = self.skip(pos + 1)
                continue
            if text.startswith("]", pos):
                self._end = pos + 1
                return Node("array", items, start)
            raise self.fail("expected ',' or ']' in an array", pos)

    _end: int = 0


# --- the schema: which properties are blocks, and how arguments are read ----------------------

# Nested block types by resource type (hashicorp/aws 5.100's schema, with 6.x's additions): a
# property of these names is a block, every other property an argument.
_Schema = Mapping[str, "_Schema"]
_EMPTY: _Schema = {}
_GSI: _Schema = {"on_demand_throughput": _EMPTY, "warm_throughput": _EMPTY}
RESOURCE_BLOCKS: dict[str, _Schema] = {
    "aws_dynamodb_table": {
        "attribute": _EMPTY,
        "global_secondary_index": _GSI,
        "local_secondary_index": _EMPTY,
        "import_table": {"input_format_options": {"csv": _EMPTY}, "s3_bucket_source": _EMPTY},
        "on_demand_throughput": _EMPTY,
        "warm_throughput": _EMPTY,
        "point_in_time_recovery": _EMPTY,
        "replica": _EMPTY,
        "server_side_encryption": _EMPTY,
        "timeouts": _EMPTY,
        "ttl": _EMPTY,
        "global_table_witness": _EMPTY,
    },
    "aws_appautoscaling_target": {"suspended_state": _EMPTY},
    "aws_appautoscaling_policy": {
        "step_scaling_policy_configuration": {"step_adjustment": _EMPTY},
        "target_tracking_scaling_policy_configuration": {
            "customized_metric_specification": {
                "dimensions": _EMPTY,
                "metrics": {"metric_stat": {"metric": {"dimensions": _EMPTY}}},
            },
            "predefined_metric_specification": _EMPTY,
        },
    },
}
PROVIDER_BLOCKS: dict[str, _Schema] = {
    "aws": {
        "assume_role": _EMPTY,
        "assume_role_with_web_identity": _EMPTY,
        "default_tags": _EMPTY,
        "endpoints": _EMPTY,
        "ignore_tags": _EMPTY,
    }
}

# How an argument's string is read (default: a template).
LITERAL, TEMPLATE, REFERENCE, REFERENCES, REFERENCE_MAP = "literal", "template", "ref", "refs", "refmap"
_MODES: dict[str, dict[str, str]] = {
    "resource": {"provider": REFERENCE, "depends_on": REFERENCES},
    "module": {"source": LITERAL, "version": LITERAL, "providers": REFERENCE_MAP, "depends_on": REFERENCES},
    "variable": {
        "type": REFERENCE,
        "default": LITERAL,
        "description": LITERAL,
        "sensitive": LITERAL,
        "nullable": LITERAL,
        "ephemeral": LITERAL,
    },
    "output": {"description": LITERAL, "sensitive": LITERAL, "ephemeral": LITERAL, "depends_on": REFERENCES},
    "provider": {"alias": LITERAL, "version": LITERAL},
    "lifecycle": {
        "ignore_changes": REFERENCES,
        "replace_triggered_by": REFERENCES,
        "create_before_destroy": LITERAL,
        "prevent_destroy": LITERAL,
    },
    "dynamic": {"iterator": REFERENCE},
}
# Top-level block types: number of labels and how their body is read. Others (moved, import,
# check, removed, ...) are kept as empty blocks: nothing in them changes a table.
_TOP: dict[str, int] = {
    "resource": 2,
    "data": 2,
    "ephemeral": 2,
    "module": 1,
    "variable": 1,
    "output": 1,
    "provider": 1,
    "check": 1,
    "locals": 0,
    "terraform": 0,
    "moved": 0,
    "import": 0,
    "removed": 0,
}
_READ = frozenset({"resource", "data", "module", "variable", "output", "provider", "locals"})
_RESOURCE_META_BLOCKS = {"lifecycle": 0, "connection": 0, "provisioner": 1, "dynamic": 1}


@dataclass(frozen=True)
class _Kind:
    """How a body is read: its argument modes, its nested block types (with their own kinds),
    and whether every property is an argument (locals, module)."""

    modes: Mapping[str, str]
    blocks: Mapping[str, tuple[int, _Kind]]
    labels: int = 0


def _nested_kind(schema: _Schema) -> _Kind:
    """A nested block of a resource or provider: its own nested blocks, and ``dynamic``."""
    blocks: dict[str, tuple[int, _Kind]] = {name: (0, _nested_kind(inner)) for name, inner in schema.items()}
    blocks["dynamic"] = (1, _dynamic_kind(schema))
    return _Kind({}, blocks)


def _dynamic_kind(schema: _Schema) -> _Kind:
    """``dynamic "<type>"``: for_each, iterator, labels, and a ``content`` block whose schema is
    the generated type's (resolved when the label is known, see _Translator.block)."""
    return _Kind(_MODES["dynamic"], {"content": (0, _Kind({}, {}))})


_LIFECYCLE = _Kind(_MODES["lifecycle"], {})
_OPAQUE = _Kind({}, {})


def _body_kind(block_type: str, labels: tuple[str, ...]) -> _Kind | None:
    """How the body of a top-level block is read (None: kept as an empty block)."""
    if block_type not in _READ:
        return None
    if block_type in ("resource", "data"):
        schema = RESOURCE_BLOCKS.get(labels[0], _EMPTY) if labels else _EMPTY
        nested = _nested_kind(schema)
        blocks = dict(nested.blocks)
        blocks.update({"lifecycle": (0, _LIFECYCLE), "connection": (0, _OPAQUE), "provisioner": (1, _OPAQUE)})
        return _Kind(_MODES["resource"], blocks)
    if block_type == "provider":
        nested = _nested_kind(PROVIDER_BLOCKS.get(labels[0], _EMPTY) if labels else _EMPTY)
        return _Kind(_MODES["provider"], nested.blocks)
    if block_type == "variable":
        return _Kind(_MODES["variable"], {"validation": (0, _OPAQUE)})
    if block_type == "output":
        return _Kind(_MODES["output"], {"precondition": (0, _OPAQUE)})
    return _Kind(_MODES.get(block_type, {}), {})


def _schema_of(kind: _Kind, block_type: str) -> _Kind:
    """The kind of the blocks a ``dynamic "<block_type>"`` generates, within ``kind``."""
    found = kind.blocks.get(block_type)
    return found[1] if found is not None else _OPAQUE


# --- translation -------------------------------------------------------------------------------


def translate(text: str, file: str) -> tuple[Block, ...]:
    """The top-level blocks of a ``.tf.json`` file's text; HclSyntaxError when it is not valid
    JSON, not an object, or not a configuration Terraform reads."""
    scanner = _Scanner(text, file)  # a leading BOM too is refused, as Terraform refuses it
    root = scanner.document()
    if root.kind != "object":
        raise scanner.fail("a .tf.json file must hold a JSON object (Terraform's JSON syntax)", root.pos)
    return tuple(_Translator(scanner).top(root))


_Found = tuple[tuple[str, ...], int, Node]  # a block's labels, where it starts, its body


class _Translator:
    def __init__(self, scanner: _Scanner):
        self.scanner = scanner

    def fail(self, message: str, pos: int) -> HclSyntaxError:
        return self.scanner.fail(message, pos)

    def top(self, root: Node) -> list[Block]:
        blocks: list[Block] = []
        for key, key_pos, value in root.value:
            if key == _COMMENT:
                continue
            labels = _TOP.get(key)
            if labels is None:
                continue  # a block type Terraform 1.11 does not have: nothing driftwatch reads
            for found, at, body in self.unpack(key, value, labels, key_pos):
                kind = _body_kind(key, found)
                content = self.body(body, kind) if kind is not None else Content((), ())
                blocks.append(Block(key, found, content, self.scanner.line(at)))
        return blocks

    def unpack(
        self, block_type: str, node: Node, labels: int, key_pos: int
    ) -> list[tuple[tuple[str, ...], int, Node]]:
        """Block labels peeled off object levels: (labels, where the block starts, body node)."""
        found: list[_Found] = []
        self._unpack(block_type, node, labels, (), key_pos, found)
        return found

    def _unpack(
        self,
        block_type: str,
        node: Node,
        left: int,
        labels: tuple[str, ...],
        at: int,
        found: list[_Found],
    ) -> None:
        if left:
            members = self._members(node, f"the {block_type} block's labels")
            if not members:
                raise self.fail(f"a {block_type} block needs a label: an object property names it", node.pos)
            for key, key_pos, value in members:
                self._unpack(block_type, value, left - 1, (*labels, key), key_pos, found)
            return
        if node.kind == "literal" and node.value is None:
            return
        if node.kind == "object":
            found.append((labels, at, node))
        elif node.kind == "array":
            for item in node.value:
                if item.kind != "object":
                    raise self.fail(f"a {block_type} block must be a JSON object", item.pos)
                found.append((labels, item.pos, item))
        else:
            raise self.fail(f"a {block_type} block must be a JSON object or an array of objects", node.pos)

    def _members(self, node: Node, what: str) -> list[tuple[str, int, Node]]:
        """An object's properties, or those of an array of objects (HCL's collectDeepAttrs)."""
        if node.kind == "literal" and node.value is None:
            return []
        if node.kind == "object":
            return list(node.value)
        if node.kind == "array":
            members: list[tuple[str, int, Node]] = []
            for item in node.value:
                if item.kind != "object":
                    raise self.fail(f"{what} must be JSON objects", item.pos)
                members.extend(item.value)
            return members
        raise self.fail(f"{what} must be a JSON object", node.pos)

    def body(self, node: Node, kind: _Kind) -> Content:
        attributes: dict[str, Any] = {}
        lines: dict[str, int] = {}
        blocks: list[Block] = []
        for key, key_pos, value in self._members(node, "a block body"):
            if key == _COMMENT:
                continue
            nested = kind.blocks.get(key)
            if nested is not None:
                labels, inner = nested
                for found, at, body in self.unpack(key, value, labels, key_pos):
                    if key == "dynamic" and found:
                        inner = _Kind(inner.modes, {"content": (0, _schema_of(kind, found[0]))})
                    blocks.append(Block(key, found, self.body(body, inner), self.scanner.line(at)))
                continue
            line = self.scanner.line(key_pos)
            if key in attributes:
                raise self.fail(f'the argument "{key}" is set twice (first on line {lines[key]})', key_pos)
            lines[key] = line
            attributes[key] = Attribute(self.expression(value, kind.modes.get(key, TEMPLATE), line), line)
        return Content(tuple(attributes.items()), tuple(blocks))

    # --- expressions ---

    def expression(self, node: Node, mode: str, line: int) -> Any:
        if mode == LITERAL:
            return Literal(self.literal(node), line)
        if mode in (REFERENCE, REFERENCES, REFERENCE_MAP) and node.kind in ("string", "array", "object"):
            return self.reference(node, mode, line)
        if not _has_template(node):
            return Literal(self.literal(node), line)
        return self.parsed(_template_value(node, self), node.pos, line)

    def literal(self, node: Node) -> Any:
        """The value of a node read literally (strings as they are)."""
        if node.kind == "number":
            try:
                return numbers.parse(node.value)
            except ValueError as error:
                raise self.fail(f"invalid number: {error}", node.pos) from None
        if node.kind == "array":
            return [self.literal(item) for item in node.value]
        if node.kind == "object":
            result: dict[str, Any] = {}
            for key, key_pos, value in node.value:
                if key in result:
                    raise self.fail(f'duplicate "{key}" in a JSON object', key_pos)
                result[key] = self.literal(value)
            return result
        return node.value

    def reference(self, node: Node, mode: str, line: int) -> Any:
        """Strings Terraform reads as references or keywords, in native syntax."""
        if mode == REFERENCE or node.kind == "string":
            return self.parsed(self._reference_text(node), node.pos, line)
        if node.kind == "array":
            parts = [self._reference_text(item) for item in node.value]
            return self.parsed("[" + ", ".join(parts) + "]", node.pos, line)
        pairs = [
            f"{self._reference_text(Node('string', k, p))} = {self._reference_text(v)}"
            for k, p, v in node.value
        ]
        return self.parsed("{" + ", ".join(pairs) + "}", node.pos, line)

    def _reference_text(self, node: Node) -> str:
        if node.kind != "string":
            raise self.fail("a reference must be a JSON string", node.pos)
        text = str(node.value).strip()
        if not text or "\n" in text or "\r" in text:
            raise self.fail(f"{json.dumps(node.value)[:60]} is not a reference", node.pos)
        self.parsed(text, node.pos, 0)  # each part alone: a part cannot reach into the next
        return text

    def parsed(self, text: str, pos: int, line: int) -> Any:
        """One native-syntax expression, its nodes placed at ``line`` of the JSON file."""
        try:
            tree = parse_text(f"__json = {text}\n", self.scanner.file)
        except HclSyntaxError as error:
            raise self.fail(f"{error.message} (in {_shown(text)})", pos) from None
        from hcl2.rules.base import AttributeRule, BlockRule

        children = [c for c in tree.body.children if isinstance(c, (AttributeRule, BlockRule))]
        if len(children) != 1 or not isinstance(children[0], AttributeRule):
            raise self.fail(f"{_shown(text)} is not one expression", pos)
        expression = children[0].expression
        if line:
            _place(expression, line)
        return expression


def _shown(text: str) -> str:
    return json.dumps(text if len(text) <= 60 else text[:59] + "…")


def _has_template(node: Node) -> bool:
    if node.kind == "string":
        return "${" in node.value or "%{" in node.value
    if node.kind == "array":
        return any(_has_template(item) for item in node.value)
    if node.kind == "object":
        return any("${" in k or "%{" in k or _has_template(v) for k, _, v in node.value)
    return False


def _template_value(node: Node, translator: _Translator) -> str:
    """A JSON value read as an expression, written in native syntax: strings become quoted
    templates, objects object constructors with template keys."""
    if node.kind == "string":
        return quoted_template(node.value)
    if node.kind == "number":
        return str(node.value)
    if node.kind == "literal":
        return {True: "true", False: "false", None: "null"}[node.value]
    if node.kind == "array":
        return "[" + ", ".join(_template_value(item, translator) for item in node.value) + "]"
    seen: set[str] = set()
    pairs = []
    for key, key_pos, value in node.value:
        if key in seen:
            raise translator.fail(f'duplicate "{key}" in a JSON object', key_pos)
        seen.add(key)
        pairs.append(f"{quoted_template(key)} = {_template_value(value, translator)}")
    return "{" + ", ".join(pairs) + "}"


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quoted_template(text: str) -> str:
    """A JSON string's template in native syntax: the literal parts escaped as a quoted string
    needs, the ``${...}`` / ``%{...}`` sequences copied as they are (they are native syntax
    already: ``${lookup(var.m, "k")}`` keeps its quotes).

    Terraform parses a JSON string as a template file, one literal token per line, so a ``~``
    strip marker trims one line of its neighbour (``"a \\n  \\n${~ x}"`` keeps ``"a \\n"``):
    the markers are applied here, as for a heredoc (driftwatch.terraform.heredoc)."""
    return heredoc.strip(text, _top_sequence_end, _escape_literal)


def _escape_literal(text: str) -> str:
    out: list[str] = []
    for char in text:
        escaped = _ESCAPES.get(char)
        if escaped is None and (ord(char) < 0x20 or char == "\x7f"):
            escaped = f"\\u{ord(char):04x}"
        out.append(escaped or char)
    return "".join(out)


def _top_sequence_end(text: str, i: int) -> int:
    return _sequence_end(text, i, 0)


def _sequence_end(text: str, i: int, depth: int) -> int:
    """The index after the ``}`` closing a template sequence whose content starts at ``i``
    (nested braces, quoted strings and comments skipped); the end of the text when it is not
    closed."""
    if depth > MAX_JSON_DEPTH:
        return len(text)
    braces = 1
    n = len(text)
    while i < n:
        char = text[i]
        comment = strip_markers.comment_end(text, i) if char in "#/" else None
        if comment is not None:
            i = comment
            continue
        if char == "{":
            braces += 1
        elif char == "}":
            braces -= 1
            if braces == 0:
                return i + 1
        elif char == '"':
            i = _string_end(text, i + 1, depth + 1)
            continue
        i += 1
    return n


def _string_end(text: str, i: int, depth: int) -> int:
    """The index after the ``"`` closing a native quoted string whose content starts at ``i``."""
    n = len(text)
    while i < n:
        if text[i] == "\\":
            i += 2
        elif text[i] == '"':
            return i + 1
        elif text.startswith(("$${", "%%{"), i):
            i += 3
        elif text.startswith(("${", "%{"), i):
            i = _sequence_end(text, i + 2, depth + 1)
        else:
            i += 1
    return n


def _place(expression: Any, line: int) -> None:
    """Every node of a parsed expression at ``line`` of the JSON file (the synthetic parse put
    it at line 1), so that errors and Unknowns name the JSON line."""
    from lark.tree import Meta

    meta = Meta()  # type: ignore[no-untyped-call]
    meta.line = line
    meta.column = 1
    meta.empty = False
    stack = [expression]
    while stack:
        node = stack.pop()
        if hasattr(node, "_meta"):
            node._meta = meta
        children = getattr(node, "children", None)
        if isinstance(children, list):
            stack.extend(child for child in children if child is not None)
