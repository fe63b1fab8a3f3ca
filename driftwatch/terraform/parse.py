"""Parsing of Terraform files with python-hcl2 into its typed tree, cached by content hash.

The typed tree (not ``hcl2.loads``' dict) is kept because it carries line numbers and the
expression structure the evaluator walks; the dict API flattens expressions into strings.

Parsing is the dominant cost of a scan (about 30 ms per 300-line file), so trees are cached
by the SHA-256 of the file's bytes: a daemon rescanning an unchanged checkout parses nothing,
and a one-file change re-parses one file.

A scanned repository may be hostile, and python-hcl2's cost is steep: about 1 KB of memory
and 30 us per token at peak, and a kept tree holds ~90 bytes per byte of source. So each file
is bounded twice before it is parsed -- by size (``max_file_bytes``, checked with ``stat``)
and by an approximate token count (``max_file_tokens``, one regex pass) -- and the cache is
bounded by the tokens it holds, not only by its number of entries: a daemon following a busy
git history must not keep every old version of every file.

The cache also carries the memo of whole targets' declarations (``declarations``, see
driftwatch.terraform.memo), so that whoever keeps a cache between scans (the daemon) keeps
that too, through the same ``declare(targets, cache)`` call.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import re
import stat
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftwatch.errors import DriftwatchError
from driftwatch.terraform import numbers, strip_markers
from driftwatch.terraform.memo import DEFAULT_MAX_TARGETS, DeclarationMemo

if TYPE_CHECKING:
    from lark.exceptions import UnexpectedInput

# python-hcl2 and lark are imported where a file is parsed, not here: a one-shot CLI process
# only needs this module's types and limits (the evaluation worker parses), and those two
# packages are a tenth of its start-up.

DEFAULT_MAX_FILE_BYTES = 2 * 1024 * 1024
# ~100k tokens is ~350 KB of typical HCL (~10,000 lines); parsing it peaks at ~200 MB and a few
# seconds even when hostile. A flat list of 1M numbers (2 MB) would take 85 s and 2 GB.
DEFAULT_MAX_FILE_TOKENS = 100_000
# What the cache may hold in all (about 300 bytes of tree per token): many checkouts' worth.
DEFAULT_MAX_CACHED_TOKENS = 2_000_000
# Words, numbers and each punctuation character: never fewer than python-hcl2's tokens.
_TOKEN = re.compile(r"\w+|[^\w\s]")
_BYTES_PER_TOKEN = 4
_MAX_QUOTED = 60  # characters of offending source text quoted in an error message
# python-hcl2's transformer recurses once per nesting level; give it room, but bounded.
_PARSE_RECURSION_LIMIT = 20_000


class HclSyntaxError(DriftwatchError):
    """A file that cannot be read or parsed; names the file and, where known, line and column."""

    def __init__(self, file: str, message: str, line: int | None = None, column: int | None = None):
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        where = file if line is None else f"{file}:{line}" + (f":{column}" if column else "")
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class ParsedFile:
    """One parsed ``.tf`` or ``.tf.json`` file: ``rel`` is its path relative to the repository root
    (for reports)."""

    path: Path
    rel: str
    tree: Any  # hcl2.rules.base.StartRule; None for a .tf.json file (its blocks are translated)
    tokens: int = 0  # approximate token count (see count_tokens): what the tree costs in memory
    # The file's top-level blocks, cached with the tree: every instance of a module reads them.
    blocks: tuple[Block, ...] | None = None


def _shorten(text: str, limit: int = 300) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _quote(text: str) -> str:
    """Source text in a message, quoted and cut: a hostile token may be megabytes long."""
    return repr(_shorten(text, _MAX_QUOTED))


# lark's terminal names (python-hcl2's grammar) in the words a person reads. Keywords
# (``for``, ``if``, ``null``...) are also names, so they are folded into "a name".
_TOKEN_WORDS = {
    "EQ": "`=`",
    "LBRACE": "a block `{`",
    "RBRACE": "`}`",
    "LSQB": "`[`",
    "RSQB": "`]`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "COMMA": "`,`",
    "COLON": "`:`",
    "DOT": "`.`",
    "QMARK": "`?`",
    "FOR_OBJECT_ARROW": "`=>`",
    "ELLIPSIS": "`...`",
    "NAME": "a name",
    "DBLQUOTE": "a string",
    "INT_LITERAL": "a number",
    "FLOAT_LITERAL": "a number",
    "HEREDOC_TEMPLATE": "a heredoc",
    "HEREDOC_TEMPLATE_TRIM": "a heredoc",
    "NL_OR_COMMENT": "a new line",
    "$END": "the end of the file",
    "INTERP_START": "`${`",
    "DIRECTIVE_START": "`%{`",
}
_KEYWORDS = {"IF", "IN", "FOR", "FOR_EACH", "ELSE", "ENDIF", "ENDFOR", "NULL", "TRUE", "FALSE"}
# What can start an expression: expecting most of these means "expected a value".
_VALUE_START = {"DBLQUOTE", "INT_LITERAL", "FLOAT_LITERAL", "LSQB", "LBRACE", "NAME", "LPAR", "MINUS", "NOT"}
_STRING_INSIDE = {"STRING_CHARS", "INTERP_START", "DIRECTIVE_START"}


def _expected_words(expected: set[str]) -> str:
    """``{"EQ", "LBRACE", "NAME", "IF", ...}`` -> "`=` or a block `{`"."""
    if len(_VALUE_START & expected) >= 6:
        return "a value (a string, number, name, list `[` or object `{`)"
    if "EQ" in expected and "LBRACE" in expected:
        return "`=` or a block `{`"
    words: list[str] = []
    for name in sorted(expected):
        word = _TOKEN_WORDS.get("NAME" if name in _KEYWORDS else name)
        if word and word not in words:
            words.append(word)
    if not words:
        return ""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _describe_token(token: Any) -> str:
    if token.type == "$END":
        return "end of file"
    if not str(token).strip() or (
        token.type == "NL_OR_COMMENT" and not str(token).lstrip().startswith(("#", "//", "/*"))
    ):
        return "end of line"
    first = _shorten(str(token).strip().split("\n")[0], _MAX_QUOTED)
    return f"`{first}`" if first.isprintable() and "`" not in first else repr(first)


def _unclosed_string(text: str, line: int) -> int | None:
    """The column of the quote that opens a string left open on ``line``, if there is one."""
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        return None
    inside, start, escaped = False, None, False
    for column, char in enumerate(lines[line - 1], 1):
        if escaped:
            escaped = False
        elif char == "\\" and inside:
            escaped = True
        elif char == '"':
            inside, start = not inside, column
    return start if inside else None


def _describe_syntax_error(error: UnexpectedInput, text: str = "") -> tuple[str, int | None, int | None]:
    """A parse error in a person's words, and the line and column it is at.

    lark names terminals of the grammar (``DBLQUOTE``, ``FLOAT_LITERAL``); those are translated,
    and the two commonest mistakes get their own words: an unclosed string (pointing at its
    opening quote) and an unclosed block (pointing at the end of the file).
    """
    from lark.exceptions import UnexpectedCharacters, UnexpectedToken

    line, column = error.line if error.line and error.line > 0 else None, error.column or None
    if isinstance(error, UnexpectedToken):
        expected = set(error.expected)
        token_type = error.token.type
        if expected & _STRING_INSIDE and "DBLQUOTE" in expected and line is not None:
            start = _unclosed_string(text, line)
            if start is not None:
                return "unclosed string (a quoted string must end on the line it starts)", line, start
        if token_type == "$END":
            if error.token.line is None or not isinstance(error.token.line, int):
                line = text.count("\n") + 1 if text else line
                column = None
            wanted = _expected_words(expected)
            return (
                "unexpected end of file: an unclosed block, bracket or string"
                + (f"; expected {wanted}" if wanted else ""),
                line,
                column,
            )
        if token_type == "RBRACE" and expected <= {"$END", "NL_OR_COMMENT"}:
            return "unexpected `}`: there is no open block to close here", line, column
        wanted = _expected_words(expected)
        message = f"unexpected {_describe_token(error.token)}"
        return message + (f"; expected {wanted}" if wanted else ""), line, column
    if isinstance(error, UnexpectedCharacters):
        char = error.char
        shown = f"`{char}`" if char.isprintable() and char != "`" else repr(char)
        wanted = _expected_words(set(error.allowed or ()))
        return f"unexpected character {shown}" + (f"; expected {wanted}" if wanted else ""), line, column
    return "syntax error", line, column


def count_tokens(text: str, limit: int | None = None) -> tuple[int, int | None]:
    """What parsing ``text`` costs, in tokens, and the line where it passes ``limit`` (if it does;
    counting stops there). Linear and allocation-free: ~0.1 s for 2 MB.

    An upper estimate of python-hcl2's tokens, and never less than a quarter of the length: the
    lexer's regexes cost ~200 bytes per character of one long string or comment-free word.
    """
    if limit is not None and len(text) > _BYTES_PER_TOKEN * limit:
        return len(text) // _BYTES_PER_TOKEN, text.count("\n", 0, _BYTES_PER_TOKEN * limit) + 1
    count = 0
    for match in _TOKEN.finditer(text):
        count += 1
        if limit is not None and count > limit:
            return count, text.count("\n", 0, match.start()) + 1
    return max(count, len(text) // _BYTES_PER_TOKEN), None


def _deepest_line(text: str) -> int | None:
    """The line where bracket nesting first reaches its maximum (for "too deep" messages)."""
    depth = deepest = 0
    line = 1
    where: int | None = None
    for match in re.finditer(r"[\[({\])}\n]", text):
        char = match.group()
        if char == "\n":
            line += 1
        elif char in "[({":
            depth += 1
            if depth > deepest:
                deepest, where = depth, line
        else:
            depth = max(0, depth - 1)
    return where


def _too_deep(text: str, file: str) -> HclSyntaxError:
    message = "nesting too deep to parse (brackets, calls or operators)"
    return HclSyntaxError(file, message, _deepest_line(text))


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Python's cyclic collector off for the duration of one parse (or one target's evaluation).

    lark allocates hundreds of thousands of tracked objects per thousand lines, and every one
    of them counts towards the next collection: with the collector on, about a third of a
    parse is spent in collections that find nothing to free (the new tree is all reachable),
    and between parses a full collection walks every cached tree (python-hcl2's trees are
    cycles: each node links its parent), ~0.5 s for a 2,000-file repository. Reference counting
    still frees everything that is not a cycle, the work is bounded by the per-file limits and
    the evaluation budget, and whatever cycles it leaves are collected normally afterwards.
    Whoever found the collector enabled turns it back on, so concurrent parses never leave it
    off, and a caller that had switched it off keeps it off.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse_text(text: str, file: str) -> Any:
    """Parse HCL text into python-hcl2's typed tree, turning every failure into HclSyntaxError.

    Strip markers in quoted strings' interpolations (``"a ${~ x ~} b"``), which python-hcl2's
    grammar lacks, are read by driftwatch.terraform.strip_markers around the parse; a text
    without any reaches python-hcl2 as it is."""
    with cyclic_gc_paused():  # the first call also imports python-hcl2 and lark: no collections
        from lark.exceptions import UnexpectedInput, VisitError

        old_limit = sys.getrecursionlimit()
        try:
            sys.setrecursionlimit(max(old_limit, _PARSE_RECURSION_LIMIT))
            # hclsyntax skips one UTF-8 byte order mark at the start of a file (a Windows
            # editor's); a second one, or one further on, is its "Invalid character".
            text = text.removeprefix("\ufeff")
            # A trailing newline avoids python-hcl2's error on a final line without one.
            tree, source = strip_markers.parse_source(text if text.endswith("\n") else text + "\n")
            _check_block_bodies(tree, source, file)
            return tree
        except HclSyntaxError:
            raise
        except strip_markers.StripMarkerError as error:
            raise HclSyntaxError(file, strip_markers.MISREAD, error.line, error.column) from None
        except UnexpectedInput as error:
            message, line, column = _describe_syntax_error(error, text)
            raise HclSyntaxError(file, message, line, column) from None
        except RecursionError:
            raise _too_deep(text, file) from None
        except VisitError as error:  # lark wraps what python-hcl2's transformer raised
            if isinstance(error.orig_exc, RecursionError):
                raise _too_deep(text, file) from None
            raise HclSyntaxError(file, f"cannot parse: {_shorten(str(error.orig_exc))}") from None
        except Exception as error:  # python-hcl2 raises plain exceptions for some semantic errors
            raise HclSyntaxError(file, f"cannot parse: {_shorten(str(error))}") from None
        finally:
            sys.setrecursionlimit(old_limit)


def read_text(path: Path, rel: str, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> tuple[str, bytes]:
    """The file's text and raw bytes; a clear error for unreadable, oversized or non-UTF-8 files."""
    try:
        data = read_regular(path, rel, max_bytes)
    except OSError as error:
        raise HclSyntaxError(rel, f"cannot read: {error.strerror or error}") from None
    return decode_text(data, rel)


# What a file tracked by Git LFS holds in a checkout made without LFS (git-sync's default):
# git-lfs's pointer, a few lines under 1,024 bytes that always start so (the LFS spec).
_LFS_POINTER = b"version https://git-lfs.github.com/spec/v1\n"
LFS_POINTER_REASON = (
    "is a Git LFS pointer, not the file's content: the checkout was made without Git LFS "
    "(git lfs pull, or LFS in the sync), and Terraform, run with it, reads the content"
)


def is_lfs_pointer(data: bytes) -> bool:
    """Whether ``data`` is a Git LFS pointer file rather than the content it stands for."""
    return len(data) < 1024 and data.startswith(_LFS_POINTER)


def decode_text(data: bytes, rel: str) -> tuple[str, bytes]:
    """The text of a file's bytes (and the bytes); a clear error for non-UTF-8 content and for
    a Git LFS pointer (a parse error at its line 1 gave no clue of what the file was)."""
    if is_lfs_pointer(data):
        raise HclSyntaxError(rel, f"the file {LFS_POINTER_REASON}", 1)
    try:
        return data.decode("utf-8"), data
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise HclSyntaxError(rel, "not valid UTF-8", line) from None


def read_regular(path: Path, rel: str, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``. Opened without blocking and checked
    on the open descriptor: a FIFO named ``x.tf`` would block a plain open (or read) forever,
    and a device would never end."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            kind = (
                "a FIFO"
                if stat.S_ISFIFO(status.st_mode)
                else "a directory"
                if stat.S_ISDIR(status.st_mode)
                else "a device or socket"
            )
            raise HclSyntaxError(rel, f"not a regular file ({kind}); not read")
        if status.st_size > max_bytes:
            raise HclSyntaxError(rel, f"file is {status.st_size} bytes, over the {max_bytes}-byte limit")
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, 1024 * 1024):
            size += len(chunk)
            if size > max_bytes:  # it grew after the check
                raise HclSyntaxError(rel, f"file is over the {max_bytes}-byte limit")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def parse_json(text: str, rel: str) -> Any:
    """A ``.tfvars.json`` file's content; JSON errors name the file and line like HCL ones.

    Numbers are read as Terraform reads them (numbers.parse: a 5,000-digit integer or 1e999999
    is an error of this file, not a ValueError or an infinity that lost the whole target), and
    a repeated key is an error, as in Terraform (HCL's JSON: duplicate argument)."""
    try:
        return json.loads(
            text, parse_int=_json_number, parse_float=_json_number, object_pairs_hook=unique_keys
        )
    except json.JSONDecodeError as error:
        raise HclSyntaxError(rel, error.msg, error.lineno, error.colno) from None
    except RecursionError:
        raise _too_deep(text, rel) from None
    except ValueError as error:  # from numbers.parse or _unique_keys: no position is known
        raise HclSyntaxError(rel, str(error), None, None) from None


def _json_number(text: str) -> Any:
    try:
        return numbers.parse(text)
    except ValueError as error:  # NumberError, or int()'s limit of 4,300 digits
        shown = text if len(text) <= 40 else f"{text[:20]}...({len(text):,} characters)"
        raise ValueError(f"invalid number {shown}: {error}") from None


def unique_keys(pairs: list[tuple[str, Any]], word: str = "argument") -> dict[str, Any]:
    """A JSON object whose keys are all different (``object_pairs_hook``): Terraform refuses a
    repeated key (HCL's JSON: a duplicate argument; jsondecode: a duplicate property), where
    Python's json keeps the last value, one Terraform would never use."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate {json.dumps(key)} {word} in JSON object")
        result[key] = value
    return result


MEMO_SLOTS_PER_TARGET = 3  # see ParseCache


class ParseCache:
    """Content-addressed cache of parsed trees, bounded (LRU by entries and by tokens held) and
    safe to share across threads. ``max_file_bytes``/``max_file_tokens`` bound one file;
    ``max_targets`` bounds the memo of declarations (0 turns it off): per target it holds up to
    three slots, the work tree's, the previous commit's and (a modified checkout) HEAD's
    declarations for pending applies, so that they never evict each other."""

    def __init__(
        self,
        max_entries: int = 10_000,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        max_file_tokens: int = DEFAULT_MAX_FILE_TOKENS,
        max_cached_tokens: int = DEFAULT_MAX_CACHED_TOKENS,
        max_targets: int = DEFAULT_MAX_TARGETS,
    ):
        self._entries: OrderedDict[str, tuple[Any, int, tuple[Block, ...]]] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries
        self.max_file_bytes = max_file_bytes
        self.max_file_tokens = max_file_tokens
        self.max_cached_tokens = max_cached_tokens
        self.cached_tokens = 0
        self.hits = 0
        self.misses = 0
        self.declarations = DeclarationMemo(max_targets * MEMO_SLOTS_PER_TARGET)

    def parse_file(self, path: Path, rel: str) -> ParsedFile:
        """Read and parse ``path`` within the per-file limits (the walk reads through its
        recording view and calls ``parse_source`` instead)."""
        text, data = read_text(path, rel, self.max_file_bytes)
        return self.parse_source(path, rel, text, hashlib.sha256(data).hexdigest())

    def parse_source(self, path: Path, rel: str, text: str, key: str) -> ParsedFile:
        """Parse ``text`` (the content of ``path``, whose SHA-256 is ``key``) unless cached: for a
        caller that read the file itself, to record what it read."""
        json_syntax = path.name.endswith(".tf.json")  # Terraform's JSON syntax: by the name
        if json_syntax:
            key = f"json:{key}"  # the same bytes read as HCL are another tree
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return ParsedFile(path, rel, *entry)
        tokens, over_at = count_tokens(text, self.max_file_tokens)
        if over_at is not None:
            raise HclSyntaxError(
                rel,
                f"file is too large to parse: more than {self.max_file_tokens} tokens or "
                f"{_BYTES_PER_TOKEN * self.max_file_tokens} bytes (the limit per file)",
                over_at,
            )
        if json_syntax:
            from driftwatch.terraform.tfjson import translate

            with cyclic_gc_paused():
                tree, blocks = None, translate(text, rel)
        else:
            tree = parse_text(text, rel)
            blocks = tuple(body_items(tree.body)[1])
        with self._lock:
            self.misses += 1
            if key not in self._entries:
                self._entries[key] = (tree, tokens, blocks)
                self.cached_tokens += tokens
            while len(self._entries) > 1 and (
                len(self._entries) > self.max_entries or self.cached_tokens > self.max_cached_tokens
            ):
                _, (_, evicted, _) = self._entries.popitem(last=False)
                self.cached_tokens -= evicted
        return ParsedFile(path, rel, tree, tokens, blocks)

    def touch(self, keys: Iterable[str]) -> None:
        """Mark trees as just used, as parsing them again would have: a target whose memoised
        declarations are reused must not see its trees evicted as if they were stale."""
        with self._lock:
            for key in keys:
                for held in (key, f"json:{key}"):  # a .tf.json file's tree is held under json:
                    if held in self._entries:
                        self._entries.move_to_end(held)


# --- accessors over the typed tree, so the walker never touches python-hcl2 internals directly ---


# HCL's rules for block bodies that python-hcl2's grammar does not enforce, with Terraform's
# words (hclsyntax's parser; each case checked with terraform 1.11.4 in tests/test_parse.py).
_SINGLE_LINE = (
    "Invalid single-argument block definition: a single-line block definition must end with a "
    "closing brace immediately after its single argument definition"
)
_SINGLE_LINE_BLOCK = (
    "Argument definition required: a single-line block definition can contain only a single "
    "argument; to define a nested block, place it on a line of its own within its parent block"
)
_NEWLINE_AFTER = {
    "AttributeRule": "Missing newline after argument: an argument definition must end with a newline",
    "BlockRule": "Missing newline after block definition: a block definition must end with a newline",
}


def _check_block_bodies(tree: Any, text: str, file: str) -> None:
    """Refuse what Terraform refuses in a block body, as a syntax error of the file.

    A block whose ``{`` is not followed by a newline (or a line comment) is a single-line block:
    it holds one argument at most, closed on the same line (``attribute { name = "id" type =
    "S" }`` is refused). In any other body each argument and nested block ends with a newline.
    python-hcl2 reads both forms, so driftwatch would evaluate a file Terraform cannot plan.
    Judged on the text between the items (python-hcl2 puts the newline after some expressions
    inside the expression's node, so its newline nodes cannot tell)."""
    from hcl2.rules.base import AttributeRule, BlockRule

    stack = [tree.body]
    while stack:
        body = stack.pop()
        _check_attributes_once(body, file)
        for child in body.children:
            if isinstance(child, BlockRule):
                items = [c for c in child.body.children if isinstance(c, (AttributeRule, BlockRule))]
                _check_body(child, items, text, file)
                stack.append(child.body)


def _check_attributes_once(body: Any, file: str) -> None:
    """An argument set twice in one body (a block's, or a var file's top level) is hclsyntax's
    parse error "Attribute redefined"; python-hcl2 keeps the last, so driftwatch used to
    evaluate ``name = "a"`` then ``name = "b"`` as ``b`` where Terraform plans nothing."""
    from hcl2.rules.base import AttributeRule

    first: dict[str, int] = {}
    for child in body.children:
        if isinstance(child, AttributeRule):
            name = str(child.identifier.token.value)
            if name in first:
                raise HclSyntaxError(
                    file,
                    f'Attribute redefined: the argument "{name}" was already set at line {first[name]}; '
                    "each argument may be set only once",
                    node_line(child) or None,
                )
            first[name] = node_line(child)


def _check_body(block: Any, items: list[Any], text: str, file: str) -> None:
    if not items:
        return
    close = text.rindex("}", block._meta.start_pos, block._meta.end_pos)
    starts = [item._meta.start_pos for item in items]
    opening = text.rindex("{", block._meta.start_pos, starts[0])
    if not _ends_line(text, opening + 1, starts[0]):
        if type(items[0]).__name__ == "BlockRule":
            raise HclSyntaxError(file, _SINGLE_LINE_BLOCK, node_line(block) or None)
        if len(items) > 1 or _ends_line(text, starts[0], close):
            raise HclSyntaxError(file, _SINGLE_LINE, node_line(block) or None)
        return
    for item, following in zip(items, [*starts[1:], close], strict=True):
        if not _ends_line(text, item._meta.start_pos, following):
            line = text.count("\n", 0, following) + 1  # where the next item (or `}`) is
            raise HclSyntaxError(file, _NEWLINE_AFTER[type(item).__name__], line)


def _ends_line(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` ends with a newline before trailing blanks (a ``#`` or ``//``
    comment ends with its newline; a ``/* */`` comment is no newline). Read backwards from
    ``end`` without copying the span: a block's span holds every block nested in it, so copies
    would cost the file's size once per level of nesting."""
    while end > start and text[end - 1] in " \t":
        end -= 1
    return end > start and text[end - 1] == "\n"


def node_line(node: Any) -> int:
    meta = getattr(node, "_meta", None)
    line = getattr(meta, "line", None) if meta is not None else None
    return int(line) if isinstance(line, int) else 0


def label_text(node: Any) -> str:
    """A block label (``"name"`` or a bare identifier) as plain text."""
    from hcl2.rules.literal_rules import IdentifierRule
    from hcl2.rules.strings import StringRule

    if isinstance(node, IdentifierRule):
        return str(node.token.value)
    if isinstance(node, StringRule):
        return "".join(
            str(part.content.value) for part in node.string_parts if hasattr(part.content, "value")
        )
    return str(node)


@dataclass(frozen=True)
class Block:
    """A block of a body: ``type`` (``module``), ``labels`` (``["tables"]``) and its body.

    ``body`` is python-hcl2's body node, or a ``Content`` (a block merged from an override file,
    or translated from Terraform's JSON syntax). ``origin`` is the file the block is written in
    when that is not the file it is listed with: a nested block that an override file put into
    a block of another file (None: the file it is listed with)."""

    type: str
    labels: tuple[str, ...]
    body: Any
    line: int
    origin: str | None = None

    @cached_property
    def items(self) -> tuple[dict[str, Any], list[Block]]:
        """``body_items(self.body)``, kept with the block (and so with the cached tree): a module
        instantiated 200 times reads each of its blocks' attributes 200 times. Not to be mutated.

        A block with an ``origin`` hands it on to what it holds (its attributes and nested
        blocks are written in that file too), lazily: one level per access, never a deep copy."""
        attributes, blocks = body_items(self.body)
        if self.origin is None:
            return attributes, blocks
        return (
            {name: sourced(attribute, self.origin) for name, attribute in attributes.items()},
            [block if block.origin is not None else replace(block, origin=self.origin) for block in blocks],
        )


@dataclass(frozen=True)
class Content:
    """A block body that is not a python-hcl2 node: attributes (name -> attribute) and nested
    blocks, as ``body_items`` gives them. Made by merging override files into a block
    (driftwatch.terraform.override) and by translating ``.tf.json`` files
    (driftwatch.terraform.tfjson), so that the evaluator reads both like any other block."""

    attributes: tuple[tuple[str, Any], ...]
    blocks: tuple[Block, ...]


@dataclass(frozen=True, eq=False)
class Attribute:
    """An attribute that is not python-hcl2's ``AttributeRule`` as it was parsed: one whose value
    is written in another file than the block it is listed in (``origin``, an override file), or
    one translated from JSON. ``expression`` is an expression node the evaluator reads; ``line``
    is where the attribute is written."""

    expression: Any
    line: int
    origin: str | None = None

    @property
    def _meta(self) -> Any:  # what node_line and the evaluator read of a parsed node
        return _Line(self.line)


@dataclass(frozen=True, eq=False)
class Literal:
    """An expression node whose value is known without evaluation: a JSON value Terraform reads
    literally (a ``.tf.json`` number, a string without ``${``, a variable's ``default``). The
    evaluator returns ``value`` as it is (plain values, as a ``.tfvars.json`` file gives them)."""

    value: Any
    line: int

    @property
    def _meta(self) -> Any:
        return _Line(self.line)


@dataclass(frozen=True)
class _Line:
    line: int
    column: int | None = None


def sourced(attribute: Any, origin: str) -> Any:
    """``attribute`` marked as written in ``origin`` (unless it already names its own file)."""
    if getattr(attribute, "origin", None) is not None:
        return attribute
    return Attribute(attribute.expression, node_line(attribute), origin)


def origin_of(node: Any, file: str) -> str:
    """The file an attribute (or nested block) is written in: its own ``origin`` when it has
    one (merged from an override file), else ``file``, the file of the block it is listed in."""
    origin = getattr(node, "origin", None)
    return origin if isinstance(origin, str) else file


def body_items(body: Any) -> tuple[dict[str, Any], list[Block]]:
    """Attributes (name -> expression node) and nested blocks of a body, in source order."""
    from hcl2.rules.base import AttributeRule, BlockRule

    if isinstance(body, Content):
        return dict(body.attributes), list(body.blocks)
    attributes: dict[str, Any] = {}
    blocks: list[Block] = []
    for child in body.children:
        if isinstance(child, AttributeRule):
            attributes[str(child.identifier.token.value)] = child
        elif isinstance(child, BlockRule):
            labels = [label_text(label) for label in child.labels]
            blocks.append(Block(labels[0], tuple(labels[1:]), child.body, node_line(child)))
    return attributes, blocks


def file_blocks(parsed: ParsedFile) -> list[Block]:
    if parsed.blocks is not None:
        return list(parsed.blocks)
    return body_items(parsed.tree.body)[1]
