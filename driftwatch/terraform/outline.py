"""The top-level blocks of a Terraform file, read lexically: types, labels, lines, and a module
call's literal ``source``.

The repository survey (``driftwatch.terraform.roots``) asks, for every directory of the
repository, whether it declares DynamoDB tables and which local modules it calls. Parsing every
file of a monorepo with python-hcl2 costs ~5 ms per KB on every scan, for directories nobody
asked driftwatch to watch. This reader costs one pass over the text: it skips comments, quoted
strings (with their ``${ }`` / ``%{ }`` templates, nested to any depth without recursion) and
heredocs, counts brackets, and keeps what stands at depth 0 (a block's header) and at depth 1
(a ``source = "..."`` argument). It never raises: text that is not HCL yields whatever blocks
it seems to hold, and the survey's answer is advice ("no target evaluates this directory"),
never drift.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass

from driftwatch.errors import DriftwatchError

# What the scanner stops at in code: comments, strings, heredocs, brackets, words, '='.
_CODE = re.compile(
    r"""(?P<comment>\#[^\n]*|//[^\n]*|/\*.*?(?:\*/|\Z))
      |(?P<heredoc><<-?(?P<marker>[A-Za-z_][\w-]*)[ \t]*\r?\n)
      |(?P<quote>")
      |(?P<open>[{\[(])
      |(?P<close>[}\])])
      |(?P<word>[A-Za-z_][\w-]*)
      |(?P<equals>=(?![=>]))
      |(?P<newline>\n)
    """,
    re.DOTALL | re.VERBOSE,
)
# A heredoc's closing line: the marker alone on it, with blanks around it.
_MARKER_LINE = re.compile(r"[ \t]*([A-Za-z_][\w-]*)[ \t]*\r?$", re.MULTILINE)
# In a quoted string: an escape, its end, a template's start ($${ and %%{ are literal).
_STRING = re.compile(r'\\.|"|\$\$\{|%%\{|[$%]\{|\n', re.DOTALL)


@dataclass(frozen=True)
class BlockHeader:
    """One top-level block: ``resource "aws_dynamodb_table" "t" {`` is ``("resource",
    ("aws_dynamodb_table", "t"), line)``; ``source`` is a module block's literal source."""

    kind: str
    labels: tuple[str, ...]
    line: int
    source: str | None = None


def outline(text: str) -> list[BlockHeader]:
    """The top-level blocks of an HCL file (native syntax)."""
    blocks: list[BlockHeader] = []
    header: list[str | tuple[str]] = []  # words, and strings as 1-tuples, since the last block
    header_line = 0
    depth = 0  # brackets of the file's own code (not inside a template)
    # Frames below the file's code: for each open string, the depth of the template's code
    # inside it (-1 while in the string's text).
    templates: list[int] = []
    current: BlockHeader | None = None  # the block at depth 1 being read
    argument: list[object] = []  # `source`, `=` at depth 1 of a module block
    string_start: int | None = None  # where the file-level string being read began
    line = 1
    position = 0
    length = len(text)
    while position < length:
        if templates and templates[-1] < 0:  # in a quoted string's text
            found = _STRING.search(text, position)
            if found is None:
                return blocks
            token = found.group()
            position = found.end()
            if token == '"' or token == "\n":  # its end (a newline ends a broken string)
                if token == "\n":
                    line += 1
                templates.pop()
                if not templates and string_start is not None:
                    literal = text[string_start : found.start()]
                    if depth == 0 and header:
                        header.append((literal,))
                    elif (
                        depth == 1
                        and current is not None
                        and argument == ["source", "="]
                        and current.source is None
                    ):
                        current = dataclasses.replace(current, source=literal)
                    string_start = None
                if not templates:
                    argument.clear()
            elif token in ("${", "%{"):
                templates[-1] = 0
                string_start = None  # not a literal
            else:
                line += token.count("\n")
            continue
        found = _CODE.search(text, position)
        if found is None:
            return blocks
        line += text.count("\n", position, found.start())
        position = found.end()
        kind = found.lastgroup
        if templates:  # code inside a template
            if kind == "open":
                templates[-1] += 1
            elif kind == "close":
                if templates[-1] == 0:
                    templates[-1] = -1  # back to the string's text
                else:
                    templates[-1] -= 1
            elif kind == "quote":
                templates.append(-1)
            elif kind == "heredoc":
                position, line = _skip_heredoc(text, found, line)
            else:
                line += found.group().count("\n")
            continue
        if kind == "comment":
            line += found.group().count("\n")
        elif kind == "heredoc":
            position, line = _skip_heredoc(text, found, line)
            header.clear()
            argument.clear()
        elif kind == "quote":
            templates.append(-1)
            string_start = position
            if depth == 0 and not header:
                header_line = line
        elif kind == "word":
            if depth == 0:
                if not header:
                    header_line = line
                header.append(found.group())
            elif depth == 1 and current is not None:
                argument[:] = [found.group()]
        elif kind == "equals":
            if depth == 1 and argument == ["source"]:
                argument.append("=")
            else:
                argument.clear()
            if depth == 0:
                header.clear()
        elif kind == "open":
            if depth == 0 and found.group() == "{" and header and isinstance(header[0], str):
                labels = tuple(item[0] if isinstance(item, tuple) else item for item in header[1:])
                current = BlockHeader(header[0], labels, header_line)
            header.clear()
            argument.clear()
            depth += 1
        elif kind == "close":
            depth = max(depth - 1, 0)
            argument.clear()
            if depth == 0 and current is not None:
                blocks.append(current)
                current = None
        elif kind == "newline":
            line += 1
            argument.clear()
            if depth == 0:
                header.clear()
    if current is not None:  # an unclosed block still tells what it is
        blocks.append(current)
    return blocks


def _skip_heredoc(text: str, found: re.Match[str], line: int) -> tuple[int, int]:
    """The position after a heredoc's closing marker line, and the line number there. One
    precompiled pattern finds each candidate line (a regex compiled per marker cost ~2 s per MB
    of distinct markers, a hostile file's minutes per scan): linear in the heredoc's length."""
    marker = found.group("marker")
    line += 1
    position = found.end()
    while True:
        candidate = text.find(marker, position)
        if candidate < 0:
            return len(text), line + text.count("\n", found.end())
        end = _MARKER_LINE.match(text, text.rfind("\n", 0, candidate) + 1)
        if end is not None and end.group(1) == marker:
            return end.end(), line + text.count("\n", found.end(), end.end())
        # not this line: the next one (each line is looked at once, however often it holds it)
        next_line = text.find("\n", candidate)
        if next_line < 0:
            return len(text), line + text.count("\n", found.end())
        position = next_line + 1


class JsonTooDeep(DriftwatchError):
    """A ``.tf.json`` file nested too deeply for the outline to read (see outline_json)."""


# Deeper than this, the outline does not read a ``.tf.json`` file. A fixed bound, well under what
# Python's ``json`` reads at the default recursion limit: the interpreter's limit is one number
# for the whole process, which another thread may raise for a while (the HCL parser does), so
# a file just past it was read or not depending on what else ran.
MAX_JSON_DEPTH = 500
# A string, or one left open (to the end of the text): every match from a quote succeeds on its
# first try, so the substitution is one pass. A pattern that could fail there was tried again
# from every later quote, quadratic in a file of escaped quotes.
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\[\s\S])*(?:"|\\?\Z)')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def json_deeper_than(text: str, limit: int) -> bool:
    """Whether the JSON text nests arrays and objects more than ``limit`` deep (strings skipped;
    on invalid JSON the answer is a guess, and ``json`` refuses the text anyway)."""
    depth = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def outline_json(text: str) -> list[BlockHeader]:
    """The same for a ``.tf.json`` file (Terraform's JSON syntax: a block type maps to an object
    of labels, or to a list of such objects). Invalid JSON declares nothing (Terraform refuses
    the directory); JSON nested deeper than MAX_JSON_DEPTH raises JsonTooDeep: it is valid to
    Terraform, whose reader has no depth limit, and may declare tables."""
    if json_deeper_than(text, MAX_JSON_DEPTH):
        raise JsonTooDeep("JSON nested too deeply to outline")
    try:
        document = json.loads(text)
    except ValueError:
        return []
    except RecursionError:
        raise JsonTooDeep("JSON nested too deeply to outline") from None
    if not isinstance(document, dict):
        return []
    blocks: list[BlockHeader] = []
    for kind in ("resource", "module"):
        depth = 2 if kind == "resource" else 1
        lines = _KeyLines(text)
        for labels, body in _labelled(document.get(kind), depth):
            source = body.get("source") if kind == "module" and isinstance(body, dict) else None
            literal = source if isinstance(source, str) else None
            blocks.append(BlockHeader(kind, labels, lines.line_of(labels[-1]), literal))
    return blocks


def _labelled(value: object, depth: int) -> list[tuple[tuple[str, ...], object]]:
    items = value if isinstance(value, list) else [value]
    found: list[tuple[tuple[str, ...], object]] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        for key, body in item.items():
            if depth == 1:
                for one in body if isinstance(body, list) else [body]:
                    found.append(((key,), one))
            else:
                found.extend(((key, *labels), inner) for labels, inner in _labelled(body, depth - 1))
    return found


# A JSON string (with ``:`` after it when it is an object's key), or a run of anything else.
_JSON_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"([ \t\r\n]*:)?|[^"]+', re.DOTALL)


class _KeyLines:
    """The lines of one block type's labels in a ``.tf.json`` file, read forward once: the
    labels come in the document's order (``json.loads`` keeps it), so each is the first key
    after the previous one that decodes to it. Searching each from the file's start (and
    counting its newlines from there) was quadratic: 90 s for a 2 MB file of 80,000 tables, on
    every scan. A label not found there (a key repeated, which JSON keeps the last of) is line
    1, and so are the labels after it: searching each to the end would be quadratic again."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = _JSON_TOKEN.finditer(text)  # the text is valid JSON: tokens stay in step
        self.position = 0
        self.line = 1
        self.lost = False

    def line_of(self, label: str) -> int:
        if self.lost:
            return 1
        for token in self.tokens:
            raw = token.group(1)
            if raw is None or token.group(2) is None:
                continue  # not a key
            if _decoded(raw) == label:
                self.line += self.text.count("\n", self.position, token.start())
                self.position = token.start()
                return self.line
        self.lost = True
        return 1


def _decoded(raw: str) -> str | None:
    """A JSON string's text (``\\u0061`` is ``a``), None where it does not decode."""
    if "\\" not in raw:
        return raw
    try:
        decoded = json.loads(f'"{raw}"')
    except ValueError:
        return None
    return decoded if isinstance(decoded, str) else None
