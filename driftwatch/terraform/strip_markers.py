"""Template strip markers (``${~ x ~}``) in quoted strings, which python-hcl2 cannot parse.

HCL lets an interpolation in a quoted string carry strip markers: ``"t-${~ var.env ~}-orders"``.
A ``~`` after ``${`` removes the whitespace at the end of the literal text just before it, a
``~`` before ``}`` the whitespace at the start of the literal text just after it, once, when
the template is parsed (hclsyntax's ``parseTemplateParts``): only the one adjacent literal
token, and only if it is a literal (a neighbouring ``${ }`` or ``%{ }`` is never touched).
Whitespace is Go's ``unicode.IsSpace``, applied to the literal's value, so escaped ``\\n``,
``\\t``, ``\\u00a0`` count and ``\\u001c`` does not. python-hcl2's grammar has no ``~`` after
``${`` in a quoted string: without this module the whole file was a parse error.

``prepare`` rewrites the source before python-hcl2 sees it: each such ``~`` becomes a space,
so that every line, every column and every other character stays where it was (errors and
reported lines are unchanged), and the markers are remembered by the position of their ``${``.
``apply`` then trims the adjacent literal parts of the parsed tree, as HCL does at parse time.
Trimming the tree rather than the source never has to write a literal ``$`` next to a
``${`` (which would read back as the ``$${`` escape). Every remembered marker must be found
on an interpolation of the tree at the same position, or the file is an error: a string
python-hcl2 still reads differently from Terraform fails loudly instead of keeping a marker's
whitespace.

The same pass finds the ``$${`` / ``%%{`` escapes python-hcl2 would misread: its escape token
runs to the next ``}`` anywhere in the file, where Terraform's is the three characters and the
string goes on. Those (only those) are written ``\\u0024{`` / ``\\u0025{``, the same text in
Terraform's reading, before python-hcl2 sees the file. And a heredoc's closing line with blanks
after the marker (``EOT  ``), which Terraform accepts and python-hcl2 reads past, loses those
blanks (``_heredoc_end``).

The same pass finds the interpolations (and ``if`` / ``for`` directive headers) with a newline
or a comment at their top level, outside brackets: Terraform ignores newlines there and reads
comments (``"${\n  var.prefix\n}-orders"``), python-hcl2 only inside brackets (it made the
whole file a parse error). Their expression is put in parentheses (``_wrap``): the same value
and type, every line where it was.

A file that needs none of this is returned as it is (the same string): nothing changes for
it. The scan is one pass with an explicit stack (no recursion), so its cost is linear in the
file's size whatever the nesting (two passes when something is rewritten); a file without
``${~``, ``~}``, ``$${``, ``%%{`` or an interpolation that may span lines (``_MAY_SPAN``) is
not scanned at all. Comments, heredocs (their bodies are templates read later, by
driftwatch.terraform.heredoc) and ``%{ }`` directives (python-hcl2 reads their markers) are
left alone, but quoted strings nested in a directive or interpolation are scanned too.

A directive's markers (``%{~ if x ~}``, ``%{~ endfor }``) follow the same rule, which
``apply_directives`` applies to the parsed tree: the one literal part beside the directive,
once, at parse time. Rendering them (trimming whatever text an iteration or branch put next to
them) gave other values: ``"a%{ if false ~}  b %{ endif }  c"`` is ``a  c``, not ``ac``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from driftwatch.errors import DriftwatchError

# Go's unicode.IsSpace (Unicode White_Space): what HCL's TrimLeftFunc/TrimRightFunc remove.
# Not Python's str.isspace, which also counts U+001C..U+001F.
GO_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)


_GO_SPACE_CHARS = "".join(sorted(GO_SPACE))


def rstrip_space(text: str) -> str:
    """``text`` without trailing whitespace, as Go's ``strings.TrimRightFunc(s, unicode.IsSpace)``."""
    end = len(text)
    while end and text[end - 1] in GO_SPACE:
        end -= 1
    return text[:end]


def lstrip_space(text: str) -> str:
    """``text`` without leading whitespace, as Go's ``strings.TrimLeftFunc(s, unicode.IsSpace)``."""
    start = 0
    while start < len(text) and text[start] in GO_SPACE:
        start += 1
    return text[start:]


@dataclass
class Marker:
    """The strip markers of one interpolation: ``open`` (``${~``), and where the ``~`` of a
    closing ``~}`` is (line, column), if it has one."""

    open: bool
    close: tuple[int, int] | None = None


# (line, column) of an interpolation's ``$`` (1-based, as lark counts) -> its markers.
Markers = dict[tuple[int, int], Marker]

_TOP, _INTERP, _DIRECTIVE, _STRING = range(4)
_EXPRESSION_STOP = re.compile(r'[#/"<{}]')
# In an interpolation or directive: also brackets (a newline inside one is python-hcl2's to read)
# and the newlines at its top level, which python-hcl2 cannot read there.
_SEQUENCE_STOP = re.compile(r'[#/"<{}()\[\]\n]')
# A ``${`` or ``%{`` whose content, before its first ``}``, has a newline, a comment, a nested
# brace or a quoted string: only then can its top level hold a newline or a comment. One search,
# linear (each one stops at the next ``{`` at the latest).
_MAY_SPAN = re.compile(r'[$%]\{[^}\n#/{"]*[\n#/{"]')
_STRING_STOP = re.compile(r'[\\"$%]')
# python-hcl2's heredoc: <<ID or <<-ID at the end of its line, closed by a line that is ID.
_HEREDOC_OPEN = re.compile(r"<<-?([A-Za-z][\w.-]*)\r?\n")
# A line that may close it: the marker between blanks (checked again with Go's whitespace).
_HEREDOC_CLOSE = re.compile(r"^[^\S\n]*([A-Za-z][\w.-]*)[^\S\n]*$", re.M)
# A line that may close a heredoc with blanks after its marker (a ``\r`` alone is CRLF's).
_CLOSE_WITH_BLANKS = re.compile(r"^[^\S\n]*[A-Za-z][\w.-]*(?:[^\S\r\n][^\S\n]*|\r[^\S\n]+)$", re.M)


@dataclass
class _Frame:
    kind: int
    depth: int = 0  # braces opened inside an interpolation or directive
    start: tuple[int, int] | None = None  # an interpolation's position
    content: int = 0  # where an interpolation's expression starts (after ``${`` or ``${~``)
    spans: bool = False  # a newline or a comment at its top level (outside brackets)


class _Lines:
    """Line and column of increasing positions, in time linear in the text (a position's column
    is never found by searching back from it: a 1 MB line would make that quadratic)."""

    def __init__(self, text: str):
        self.text = text
        self.line = 1
        self.line_start = 0
        self.counted = 0

    def at(self, pos: int) -> tuple[int, int]:
        newlines = self.text.count("\n", self.counted, pos)
        if newlines:
            self.line += newlines
            self.line_start = self.text.rfind("\n", self.counted, pos) + 1
        self.counted = pos
        return self.line, pos - self.line_start + 1


def prepare(text: str) -> tuple[str, Markers]:
    """``text`` with the ``~`` of each interpolation strip marker in a quoted string replaced
    by a space, and those markers by position; each ``$${`` / ``%%{`` escape python-hcl2 would
    misread written as ``\\u0024{`` / ``\\u0025{`` (see ``_misread_escape``); each interpolation
    or directive expression with a newline or a comment at its top level put in parentheses
    (see ``_wrap``). ``text`` itself when it has none of these."""
    if (
        "${~" not in text
        and "~}" not in text
        and "$${" not in text
        and "%%{" not in text
        and _MAY_SPAN.search(text) is None
        and ("<<" not in text or _CLOSE_WITH_BLANKS.search(text) is None)
    ):
        return text, {}
    blanks, markers, edits = _scan(text)
    if edits:
        # Rewritten, some lines are longer: scan again, so that the markers' positions are
        # those python-hcl2 reports (a syntax error later on such a line is off by the
        # characters added before it; lines never move).
        text = _rewrite(text, edits)
        blanks, markers, _ = _scan(text)
    if not blanks:
        return text, {}
    pieces: list[str] = []
    previous = 0
    for blank in blanks:
        pieces.append(text[previous:blank])
        pieces.append(" ")
        previous = blank + 1
    pieces.append(text[previous:])
    return "".join(pieces), markers


# A rewrite of the source: at this position, remove this many characters and write this text.
_Edit = tuple[int, int, str]


# After ``$${`` or ``%%{``: the first character where python-hcl2's escape token (``$${``, then
# anything but ``}``, then ``}``) and Terraform's reading (a literal ``${``, then the string goes
# on) can part.
_ESCAPE_END = re.compile(r'[}"\\\n]|[$%]\{')


def _misread_escape(text: str, pos: int) -> bool:
    """Whether python-hcl2 reads the ``$${`` / ``%%{`` escape at ``pos`` differently from
    Terraform. Its token runs to the next ``}`` wherever that is: across the string's closing
    quote and the next lines (``a = "$${ b"`` swallowed the next argument), over an interpolation
    (``"$${ ${x}"`` kept ``${x}`` as text), and with escapes left unread (``\\"`` stayed two
    characters). Only a ``}`` met before any of those is read alike; no ``}`` at all is a parse
    error python-hcl2 makes and Terraform does not. The search stops at the first candidate, so
    scanning a file's escapes is linear in its size."""
    found = _ESCAPE_END.search(text, pos + 3)
    return found is None or found.group() != "}"


def _escape_edit(text: str, pos: int) -> _Edit:
    """The escape at ``pos`` written as ``\\u0024{`` / ``\\u0025{``: the same literal ``${`` /
    ``%{`` in Terraform's reading, which python-hcl2 reads as plain text."""
    return pos, 3, "\\u0024{" if text[pos] == "$" else "\\u0025{"


def _rewrite(text: str, edits: list[_Edit]) -> str:
    """``text`` with ``edits`` done (they never overlap; a stable sort keeps an insertion
    before the edit recorded after it at the same position)."""
    pieces: list[str] = []
    previous = 0
    for pos, removed, written in sorted(edits, key=lambda edit: edit[0]):
        pieces.append(text[previous:pos])
        pieces.append(written)
        previous = pos + removed
    pieces.append(text[previous:])
    return "".join(pieces)


def _scan(text: str) -> tuple[list[int], Markers, list[_Edit]]:
    """One pass over ``text``: the positions of the strip markers' ``~`` in quoted strings, the
    markers by their interpolation's position, and the edits python-hcl2 needs (the escapes it
    would misread, the parentheses around expressions with a top-level newline or comment)."""
    blanks: list[int] = []
    edits: list[_Edit] = []
    markers: Markers = {}
    lines = _Lines(text)
    stack = [_Frame(_TOP)]
    pos, size = 0, len(text)
    while pos < size:
        frame = stack[-1]
        if frame.kind == _STRING:
            match = _STRING_STOP.search(text, pos)
            if match is None:
                break
            pos = match.start()
            char = text[pos]
            if char == "\\":
                pos += 2
            elif char == '"':
                stack.pop()
                pos += 1
            elif text.startswith(("$${", "%%{"), pos):
                if _misread_escape(text, pos):
                    edits.append(_escape_edit(text, pos))
                pos += 3
            elif text.startswith("${", pos):
                start = lines.at(pos)
                opened = text.startswith("${~", pos)
                if opened:
                    blanks.append(pos + 2)
                    markers[start] = Marker(open=True)
                pos += 3 if opened else 2
                stack.append(_Frame(_INTERP, start=start, content=pos))
            elif text.startswith("%{", pos):
                pos += 3 if text.startswith("%{~", pos) else 2
                stack.append(_Frame(_DIRECTIVE, content=pos))
            else:
                pos += 1
            continue
        match = (_EXPRESSION_STOP if frame.kind == _TOP else _SEQUENCE_STOP).search(text, pos)
        if match is None:
            break
        pos = match.start()
        char = text[pos]
        comment = comment_end(text, pos) if char in "#/" else None
        if comment is not None:
            frame.spans = frame.spans or not frame.depth
            pos = comment
        elif char == "\n":
            frame.spans = frame.spans or not frame.depth
            pos += 1
        elif char == "/":
            pos += 1
        elif char == '"':
            stack.append(_Frame(_STRING))
            pos += 1
        elif char == "<":
            pos, trailing = _heredoc_end(text, pos)
            if trailing is not None:
                edits.append((trailing[0], trailing[1] - trailing[0], ""))
        elif char in "{([":
            frame.depth += 1
            pos += 1
        elif frame.kind == _TOP or frame.depth or char != "}":  # closing a block or a bracket
            frame.depth = max(0, frame.depth - 1)
            pos += 1
        else:  # "}" closing an interpolation or a directive
            close = pos - 1 if pos - 1 >= frame.content and text[pos - 1] == "~" else pos
            if frame.kind == _INTERP and close < pos:
                blanks.append(close)
                assert frame.start is not None
                marker = markers.setdefault(frame.start, Marker(open=False))
                marker.close = lines.at(close)
            if frame.spans:
                edits.extend(_wrap(text, frame, close))
            stack.pop()
            pos += 1
    return blanks, markers, edits


# What comes before a directive's expression: its keyword (and a for's names and ``in``), with
# the whitespace and comments between them.
_DIRECTIVE_GAP = re.compile(r"(?:[ \t\r\n]+|#[^\n]*\n?|//[^\n]*\n?|/\*.*?\*/)*", re.S)
_DIRECTIVE_WORD = re.compile(r"[A-Za-z_][\w-]*|,")


def _wrap(text: str, frame: _Frame, close: int) -> list[_Edit]:
    """The edits putting the expression of an interpolation or an ``if`` / ``for`` directive
    that has a newline or a comment at its top level in parentheses: python-hcl2 reads those
    only inside brackets, Terraform anywhere in ``${ }`` / ``%{ }`` (newlines are ignored
    there). The parentheses change neither the value nor its type (``"${\n5\n}"`` is the
    number 5), and every line stays where it was. A directive's keyword (and a ``for``'s names
    and ``in``) is written again before the ``(`` and blanked where it was, so that the newlines
    and comments around it land inside the parentheses. ``else``, ``endif`` and ``endfor`` have
    no expression to hold them: those are left to python-hcl2's error."""
    if frame.kind == _INTERP:
        return [(frame.content, 0, "("), (close, 0, ")")]
    words: list[tuple[int, str]] = []  # (position, text) of the keyword, names and ``in``
    pos = frame.content
    while len(words) < 5 and not _intro([name for _, name in words]):
        pos = _DIRECTIVE_GAP.match(text, pos, close).end()  # type: ignore[union-attr]  # matches ""
        word = _DIRECTIVE_WORD.match(text, pos, close)
        if word is None:
            return []
        words.append((pos, word.group()))
        pos = word.end()
    names = [name for _, name in words]
    if not _intro(names):
        return []  # not an if or a for (else, endif, endfor, or an error python-hcl2 reports)
    edits: list[_Edit] = [(frame.content, 0, " ".join(names).replace(" ,", ",") + " (")]
    edits += [(start, len(name), " " * len(name)) for start, name in words]
    return [*edits, (close, 0, ")")]


_KEYWORDS = frozenset({"if", "for", "in"})


def _intro(names: list[str]) -> bool:
    """Whether ``names`` are a whole directive introduction: ``if``, ``for k in`` or
    ``for k, v in``."""
    if names == ["if"]:
        return True
    if len(names) == 3:
        identifiers, commas = [names[1]], []
    elif len(names) == 5:
        identifiers, commas = [names[1], names[3]], [names[2]]
    else:
        return False
    return (
        names[0] == "for"
        and names[-1] == "in"
        and commas in ([], [","])
        and all(name not in _KEYWORDS and name != "," for name in identifiers)
    )


def comment_end(text: str, pos: int) -> int | None:
    """Past the comment (``#``, ``//`` to the end of its line, ``/* */``) that starts at ``pos``
    of an expression; None if none starts there. A ``}`` or ``"`` in a comment of an
    interpolation neither closes it nor opens a string, in Terraform."""
    if text.startswith(("#", "//"), pos):
        end = text.find("\n", pos)
        return len(text) if end < 0 else end + 1
    if text.startswith("/*", pos):
        end = text.find("*/", pos + 2)
        return len(text) if end < 0 else end + 2
    return None


def _heredoc_end(text: str, pos: int) -> tuple[int, tuple[int, int] | None]:
    """Past the heredoc that starts at ``pos`` (its closing line and newline included):
    ``pos + 1`` if no heredoc starts there, the end of the text if it is never closed. With it,
    the span of blanks after the marker on the closing line, if any (a CRLF's ``\r`` alone is
    none).

    Terraform ends a heredoc at the first line that is its marker once Go's whitespace is
    trimmed from both ends (``EOT  ``, ``\\tEOT\\t``, ``EOT\\u00a0`` all close it). python-hcl2
    allows blanks before the marker only: at ``EOT  `` it read on, to the next line that is
    ``EOT`` -- the next heredoc's end, usually -- and the arguments between became the text of
    the first (a silently wrong value, arguments lost). Those blanks are removed before it
    parses; the line stays a line."""
    opener = _HEREDOC_OPEN.match(text, pos)
    if opener is None:
        return pos + 1, None
    for line in _HEREDOC_CLOSE.finditer(text, opener.end()):
        if line.group(1) == opener.group(1) and line.group().strip(_GO_SPACE_CHARS) == line.group(1):
            blanks = text[line.end(1) : line.end()]
            trailing = (line.end(1), line.end()) if blanks not in ("", "\r") else None
            # Its final newline too: python-hcl2's heredoc token has it (it is no newline
            # between the tokens of an interpolation holding the heredoc).
            return (line.end() + 1 if text.startswith("\n", line.end()) else line.end()), trailing
    return len(text), None


def apply(tree: Any, markers: Markers) -> tuple[int, int] | None:
    """Trim the literal parts next to the marked interpolations of ``tree`` (python-hcl2's tree
    of the prepared text), in place. Returns the position of a marker that is not on an
    interpolation of the tree (None: all were applied); the tree is then not to be used."""
    if not markers:
        return None
    from hcl2.rules.strings import InterpolationRule, StringPartRule

    pending = dict(markers)
    for _node, children in _walk(tree):
        for index, child in enumerate(children):
            if child is None:
                continue
            content = child.content if isinstance(child, StringPartRule) else child
            if not isinstance(content, InterpolationRule):
                continue
            meta: Any = getattr(content, "_meta", None)
            key = (getattr(meta, "line", None), getattr(meta, "column", None))
            marker = pending.get(key)  # type: ignore[arg-type]  # None when lark has no position
            if marker is None:
                continue
            if marker.close is not None:
                end = (getattr(meta, "end_line", None), (getattr(meta, "end_column", None) or 0) - 2)
                if end != marker.close:
                    return marker.close
            del pending[key]  # type: ignore[arg-type]
            if marker.open and index > 0:
                _trim(children[index - 1], right=True)
            if marker.close is not None and index + 1 < len(children):
                _trim(children[index + 1], right=False)
    return min(pending) if pending else None


def _walk(tree: Any) -> Iterator[tuple[Any, list[Any]]]:
    """Every node of python-hcl2's tree that has children, with them; without recursion, so
    that no nesting depth can overflow the stack."""
    stack = [tree]
    while stack:
        node = stack.pop()
        children = getattr(node, "children", None)
        if isinstance(children, list):
            yield node, children
            stack.extend(child for child in children if child is not None)


def has_directive_markers(text: str) -> bool:
    """Whether ``text`` may hold a ``%{ }`` directive with a ``~`` (one ``in`` test each: a file
    without both is never walked by ``apply_directives``)."""
    return "%{" in text and "~" in text


def apply_directives(tree: Any) -> None:
    """Trim the literal parts next to the ``~`` markers of the ``%{ }`` directives in the quoted
    strings of ``tree``, in place, as hclsyntax's ``parseTemplateParts`` does at parse time:
    ``%{~`` trims the end of the one part just before the directive, ``~}`` the start of the one
    just after it, only if that part is literal (never across another ``${ }`` or ``%{ }``), and
    once: a ``for`` body is trimmed before it is repeated, a branch whether or not it is taken.
    python-hcl2 nests an ``if``'s or ``for``'s parts in one rule; they are walked in source
    order, as HCL's flat token list. The markers stay in the tree but are done with: evaluation
    ignores them. Iterative (no recursion), whatever the nesting."""
    from hcl2.rules.directives import TemplateForRule, TemplateIfRule
    from hcl2.rules.strings import InterpolationRule, StringPartRule, StringRule

    for node, _children in _walk(tree):
        if not isinstance(node, StringRule):
            continue
        flat: list[Any] = []  # the string's parts in source order, directives' own parts spread
        pending = [iter(node.string_parts)]
        while pending:
            part = next(pending[-1], None)
            if part is None:
                pending.pop()
                continue
            content = part.content if isinstance(part, StringPartRule) else part
            if isinstance(content, (TemplateIfRule, TemplateForRule)):
                pending.append(iter(content.children))
            else:
                flat.append(part)
        for index, part in enumerate(flat):
            content = part.content if isinstance(part, StringPartRule) else part
            if isinstance(content, InterpolationRule) or not hasattr(content, "strip_open"):
                continue  # a literal, or an interpolation (its markers are ``apply``'s)
            if content.strip_open and index > 0:
                _trim(flat[index - 1], right=True)
            if content.strip_close and index + 1 < len(flat):
                _trim(flat[index + 1], right=False)


def _trim(part: Any, right: bool) -> None:
    """Strip the whitespace at one end of a literal part's value (nothing if it is not literal)."""
    token: Any = getattr(part, "content", None)
    lark_name = getattr(token, "lark_name", None)
    if lark_name is None or lark_name() != "STRING_CHARS":
        return
    token.set_value(trim_source(str(token.value), right))


# One character of a quoted string's source: an escape sequence or a plain character.
_SOURCE_CHAR = re.compile(r"\\(?:u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)|.", re.S)


def trim_source(source: str, right: bool) -> str:
    """A quoted string's literal source text with the whitespace its *value* has at one end
    removed: escapes are read as python-hcl2 reads them (``\\n`` is a newline, ``\\\\n`` is not)."""
    from hcl2.utils import process_escape_sequences

    def space(unit: str) -> bool:
        if unit[0] != "\\":
            return unit in GO_SPACE
        value = process_escape_sequences(unit)
        return len(value) == 1 and value in GO_SPACE

    if right:
        end = 0  # after the last character that is not whitespace (read forwards: escapes)
        for unit in _SOURCE_CHAR.finditer(source):
            if not space(unit.group()):
                end = unit.end()
        return source[:end]
    for unit in _SOURCE_CHAR.finditer(source):
        if not space(unit.group()):
            return source[unit.start() :]
    return ""


class StripMarkerError(DriftwatchError):
    """A strip marker python-hcl2's tree does not have where the source has it."""

    def __init__(self, line: int, column: int):
        super().__init__(MISREAD)
        self.line = line
        self.column = column


MISREAD = (
    "cannot read the `~` strip marker here: the string around it is parsed differently from "
    "Terraform (an earlier `$${` or `%%{` escape in it?)"
)


def parse_source(text: str) -> tuple[Any, str]:
    """python-hcl2's ``parses`` of ``text`` read as Terraform reads it (prepare, then apply and
    apply_directives), with the text python-hcl2 was given: the tree's positions are in it.
    StripMarkerError if a marker cannot be read; python-hcl2's own errors pass through."""
    from hcl2.api import parses as hcl2_parses

    prepared, markers = prepare(text)
    tree = hcl2_parses(prepared)
    misread = apply(tree, markers)
    if misread is not None:
        raise StripMarkerError(*misread)
    if has_directive_markers(text):
        apply_directives(tree)
    return tree, prepared


def parses(text: str) -> Any:
    """``parse_source``'s tree, for texts parsed on their own (a heredoc's template)."""
    return parse_source(text)[0]
