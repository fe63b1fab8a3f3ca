"""Terraform's ``fileset(path, pattern)``: the glob of github.com/bmatcuk/doublestar v1.1.5 (the
version Terraform 1.11 vendors) and Terraform's wrapper around it, as pure functions over a
:class:`GlobTree` (the questions the glob asks of the filesystem; driftwatch.terraform.data_files
answers them inside the repository only).

The dialect, as v1.1.5 has it (checked against ``terraform console``; the cases are in
tests/test_fileset.py): ``*`` any run of characters but ``/`` (hidden names included: there is no
dot rule), ``**`` as a whole path component any number of directories (zero too), following
symlinked directories; ``?`` one character; ``[abc]``, ``[a-c]``, ``[^a]`` a class (``!`` is not
a negation); ``{a,b}`` alternatives; ``\\`` escapes the next character. Matching is on the bytes
of names, a character being Go's ``utf8.DecodeRune``; v1.1.5's ``*`` then steps through the rest
of the name by the width of the character it started at, so ``*b.txt`` does not match
``éab.txt`` (Terraform's behaviour, reproduced). Terraform joins ``path`` and ``pattern`` with
Go's ``filepath.Join`` (so ``..`` in the pattern is lexical and a leading ``/`` is dropped),
keeps regular files only (a symlink counts as its target), gives each relative to ``path``
(``filepath.Rel``: ``../a.txt`` when the pattern climbs out) and makes a set of them (NFC
strings). A malformed pattern is an error (``failed to glob pattern "x[": syntax error in
pattern``) only where v1.1.5 reaches the malformed part: after a ``*`` it is swallowed, and in
an empty or missing directory it is never reached. A match that ``stat`` fails on (a dangling
symlink) is an error.

What Terraform's result would depend on beyond the repository is :class:`Refused` (the caller
makes it Unknown): a symlink loop under ``**`` (Terraform lists it until the OS's symlink limit,
40 levels on Linux, 32 on macOS), an error inside a subdirectory (whether v1.1.5 reports it, and
which matches it had found, depends on the order the OS lists directories in), a walk into the
root module's ``.terraform`` when the checkout has none (``terraform init`` makes one before every
plan: Terraform's listing holds it), and the bounds:
at most MAX_ENTRIES directory entries examined and MAX_DEPTH directories deep per call, each
entry one step of the evaluation budget. Never a partial list.
"""

from __future__ import annotations

import os
import posixpath
import unicodedata
from collections.abc import Sequence
from typing import Protocol

from driftwatch.terraform import limits
from driftwatch.terraform.functions import FunctionError

MAX_ENTRIES = 50_000  # directory entries one fileset() call examines
MAX_DEPTH = 64  # directories below the pattern's literal prefix
MAX_WILDCARDS = 64  # * and { in one path component of the pattern (each one level of backtracking)

_SLASH = ord("/")
_BACKSLASH = ord("\\")
_META = b"*?[{\\"
_RUNE_ERROR = 0xFFFD


class BadPattern(Exception):
    """Go's ``path.ErrBadPattern``."""

    def __str__(self) -> str:
        return "syntax error in pattern"


class Refused(Exception):
    """Terraform's result depends on what driftwatch does not look at, or is past a bound."""


class GlobTree(Protocol):
    """The filesystem as the glob asks it, by Terraform path (relative to the root module's
    directory, Go-cleaned). Any answer may raise Refused instead (outside the repository)."""

    def lstat(self, path: str) -> str:
        """Go's ``os.Lstat``: "missing" (any error), "symlink", "dir", "file" or "other"."""
        ...

    def stat(self, path: str) -> str:
        """Go's ``os.Stat``: "file", "dir", "other", or the error: "missing", "loop",
        "not a directory", "error"."""
        ...

    def listdir(self, path: str) -> Sequence[tuple[str, str]] | None:
        """A directory's entries (name, what lstat says of it), sorted; None: it cannot be
        opened."""
        ...

    def identity(self, path: str) -> object:
        """Where a directory really is (symlinks resolved): two paths to one place are equal."""
        ...

    def lacks_init(self, path: str) -> bool:
        """Is ``path`` the root module's directory without the ``.terraform`` that ``terraform
        init`` makes there before any plan (so Terraform's listing has one more entry)?"""
        ...


_STAT_ERRORS = {
    "missing": "no such file or directory",
    "loop": "too many levels of symbolic links",
    "not a directory": "not a directory",
    "error": "cannot be read",
}


# --- the matcher (doublestar v1.1.5's matchComponent), on bytes -------------------------------


def decode_rune(text: bytes, index: int) -> tuple[int, int]:
    """Go's ``utf8.DecodeRuneInString(text[index:])``: (rune, width); an invalid byte is
    (U+FFFD, 1), the end (U+FFFD, 0)."""
    if index >= len(text):
        return _RUNE_ERROR, 0
    lead = text[index]
    if lead < 0x80:
        return lead, 1
    width = 2 if 0xC2 <= lead <= 0xDF else 3 if 0xE0 <= lead <= 0xEF else 4 if 0xF0 <= lead <= 0xF4 else 0
    if width:
        try:  # Python's strict decoder refuses what Go's does: overlongs, surrogates, > U+10FFFF
            decoded = text[index : index + width].decode("utf-8")
        except UnicodeDecodeError:
            decoded = ""
        if len(decoded) == 1:
            return ord(decoded), width
    return _RUNE_ERROR, 1


def index_unescaped(text: bytes, byte: int) -> int:
    """doublestar's indexRuneWithEscaping: the first ``byte`` not right after a backslash."""
    offset = 0
    while True:
        end = text.find(byte, offset)
        if end == -1:
            return -1
        if end > 0 and text[end - 1] == _BACKSLASH:
            offset = end + 1
            continue
        return end


def split_unescaped(text: bytes, separator: int) -> list[bytes]:
    """doublestar's splitPathOnSeparator: split at the separators no backslash escapes; a
    trailing separator gives a last, empty part."""
    if text.count(separator) == 0:
        return [text]
    parts: list[bytes] = []
    start = 0
    empty_end = False
    while start < len(text):
        end = index_unescaped(text[start:], separator)
        if end == -1:
            empty_end = False
            end = len(text)
        else:
            empty_end = True
            end += start
        parts.append(text[start:end])
        start = end + 1
    if empty_end:
        parts.append(b"")
    return parts


def match_component(pattern: bytes, name: bytes) -> bool:
    """doublestar v1.1.5's matchComponent, line for line: does one path component of the pattern
    match a name; BadPattern where the walk reaches a malformed part (one step each call)."""
    limits.charge()
    pattern_len, name_len = len(pattern), len(name)
    if pattern_len == 0 and name_len == 0:
        return True
    if pattern_len == 0:
        return False
    if name_len == 0 and pattern != b"*":
        return False
    p = n = 0
    while p < pattern_len and n < name_len:
        pat_rune, pat_width = decode_rune(pattern, p)
        name_rune, name_width = decode_rune(name, n)
        if pat_rune == _BACKSLASH:
            p += pat_width
            pat_rune, pat_width = decode_rune(pattern, p)
            if pat_rune == _RUNE_ERROR:
                raise BadPattern
            if pat_rune != name_rune:
                return False
            p += pat_width
            n += name_width
        elif pat_rune == ord("*"):
            p += pat_width
            if p >= pattern_len:
                return True
            while n < name_len:  # v1.1.5 steps by the width of the character the star began at
                try:
                    if match_component(pattern[p:], name[n:]):
                        return True
                except BadPattern:  # v1.1.5 ignores the error here
                    pass
                n += name_width
            return False
        elif pat_rune == ord("["):
            p += pat_width
            end_class = index_unescaped(pattern[p:], ord("]"))
            if end_class == -1:
                raise BadPattern
            end_class += p
            if not _in_class(_runes(pattern[p:end_class]), name_rune):
                return False
            p = end_class + 1
            n += name_width
        elif pat_rune == ord("{"):
            p += pat_width
            end_options = index_unescaped(pattern[p:], ord("}"))
            if end_options == -1:
                raise BadPattern
            end_options += p
            options = split_unescaped(pattern[p:end_options], ord(","))
            p = end_options + 1
            return any(match_component(option + pattern[p:], name[n:]) for option in options)
        elif pat_rune == ord("?") or pat_rune == name_rune:
            p += pat_width
            n += name_width
        else:
            return False
    if p >= pattern_len and n >= name_len:
        return True
    rest = pattern[p:]
    return (n >= name_len and rest == b"*") or rest == b"**"


def _runes(text: bytes) -> list[int]:
    """Go's ``[]rune(string)``: an invalid byte is U+FFFD."""
    runes = []
    index = 0
    while index < len(text):
        rune, width = decode_rune(text, index)
        runes.append(rune)
        index += width
    return runes


def _in_class(runes: list[int], rune: int) -> bool:
    """The character class ``[...]`` of v1.1.5 (``runes`` between the brackets) against one
    character; BadPattern when empty, with a bare ``-`` or a dangling backslash."""
    if not runes:
        raise BadPattern
    index = 1 if runes[0] == ord("^") else 0
    matched = False
    while index < len(runes):
        low = runes[index]
        if low == ord("-"):
            raise BadPattern
        index += 1
        if low == _BACKSLASH:
            if index >= len(runes):
                raise BadPattern
            low = runes[index]
            index += 1
        high = low
        if index < len(runes) and runes[index] == ord("-"):
            index += 1
            if index >= len(runes):
                raise BadPattern
            high = runes[index]
            if high == ord("-"):
                raise BadPattern
            index += 1
            if high == _BACKSLASH:
                if index >= len(runes):
                    raise BadPattern
                high = runes[index]
                index += 1
        if low <= rune <= high:
            matched = True
    return matched != (runes[0] == ord("^"))


# --- the walk (doublestar v1.1.5's Glob and doGlob) --------------------------------------------


def go_clean(path: str) -> str:
    """Go's ``filepath.Clean`` (on Linux): lexical; ``""`` is ``"."``."""
    if not path:
        return "."
    cleaned = posixpath.normpath(path)
    return cleaned[1:] if cleaned.startswith("//") else cleaned  # Go keeps one leading slash


def go_join(*parts: str) -> str:
    """Go's ``filepath.Join``: the non-empty parts joined by ``/`` and cleaned."""
    kept = [part for part in parts if part]
    return go_clean("/".join(kept)) if kept else ""


class _Walk:
    def __init__(self, tree: GlobTree):
        self.tree = tree
        self.entries = 0
        self.top_error = False  # the first doGlob call's own pattern error: Glob fails, whatever the order
        self.nested_error = False  # an error inside a subdirectory: the result depends on the order

    def glob(self, pattern: str) -> list[str]:
        components = split_unescaped(pattern.encode("utf-8", "surrogatepass"), _SLASH)
        for component in components:
            if component.count(b"*") + component.count(b"{") > MAX_WILDCARDS:
                raise Refused(f"a path component of the pattern has more than {MAX_WILDCARDS} * and {{")
        if components[0] == b"":  # absolute: Terraform's join never makes one of a relative path
            raise Refused("the pattern is an absolute path")
        return self.do_glob(".", components, True, (), 0)[0]

    def do_glob(
        self, basedir: str, components: list[bytes], top: bool, chain: tuple[str, ...], depth: int
    ) -> tuple[list[str], bool]:
        """doGlob: the matches under ``basedir`` and whether it returned an error. ``chain``: the
        directories of the ``**`` being expanded (a directory met twice is a symlink loop)."""
        if depth > MAX_DEPTH:
            raise Refused(f"the walk goes more than {MAX_DEPTH} directories deep (driftwatch's limit)")
        matches: list[str] = []
        literal = 0
        while literal < len(components) and not any(c in _META for c in components[literal]):
            literal += 1
        if literal:
            basedir = go_join(basedir, *(os.fsdecode(c) for c in components[:literal]))
        kind = self.tree.lstat(basedir)
        if kind == "missing":
            return matches, False
        if literal >= len(components):
            return [basedir], False
        if kind == "symlink":
            kind = self.tree.stat(basedir)
        if kind != "dir":
            return matches, False
        files = self.tree.listdir(basedir)
        if files is None:
            return matches, False
        self.entries += len(files)
        if self.entries > MAX_ENTRIES:
            raise Refused(
                f"the walk examines more than {MAX_ENTRIES:,} directory entries (driftwatch's limit)"
            )
        limits.charge(len(files))
        index = literal
        last = index + 1 >= len(components)
        if self._enters_init(basedir, files, components[index], last):
            raise Refused(
                f"the walk would enter {go_join(basedir, '.terraform')!r}, which terraform init makes "
                "before the plan and this checkout does not have: what Terraform lists there is not known"
            )
        error = False
        if components[index] == b"**":
            inner = (*chain, basedir)
            for name, entry in files:
                path = go_join(basedir, name)
                if entry == "symlink":
                    entry = self.tree.stat(path)
                    if entry in _STAT_ERRORS:  # dangling, a loop: skipped
                        continue
                    if entry == "dir":
                        self._no_loop(path, inner)
                if entry == "dir":
                    if last:
                        matches.append(path)
                    found, error = self.do_glob(path, components[index:], False, inner, depth + 1)
                    matches.extend(found)
                    self.nested_error |= error
                elif last:
                    matches.append(path)
            if last:
                return matches, error
            index += 1
            last = index + 1 >= len(components)
        for name, _ in files:
            try:
                matched = match_component(components[index], os.fsencode(name))
            except BadPattern:
                self.top_error |= top
                return matches, True
            error = False
            if matched:
                path = go_join(basedir, name)
                if last:
                    matches.append(path)
                else:
                    found, error = self.do_glob(path, components[index + 1 :], False, (), depth + 1)
                    matches.extend(found)
                    self.nested_error |= error
        return matches, error

    def _enters_init(
        self, basedir: str, files: Sequence[tuple[str, str]], component: bytes, last: bool
    ) -> bool:
        """Would Terraform's walk go into the root's .terraform, which the checkout lacks?"""
        if any(name == ".terraform" for name, _ in files) or not self.tree.lacks_init(basedir):
            return False
        if component == b"**":
            return True
        try:
            return not last and match_component(component, b".terraform")
        except BadPattern:  # met (or not) on a real entry, as Terraform meets it
            return False

    def _no_loop(self, path: str, chain: tuple[str, ...]) -> None:
        """Refuse a symlinked directory that leads back into the ``**`` walking it: Terraform
        would follow it until the operating system's symlink limit."""
        place = self.tree.identity(path)
        if any(self.tree.identity(directory) == place for directory in chain):
            raise Refused(
                f"{path!r} is a symlink loop: Terraform would list it until the operating system's "
                "symlink limit (40 levels on Linux)"
            )


# --- Terraform's fileset ---------------------------------------------------------------------


def go_rel(base: str, target: str) -> str:
    """Go's ``filepath.Rel`` (on Linux), lexical; FunctionError where Go's fails."""
    base, target = go_clean(base), go_clean(target)
    if target == base:
        return "."
    if base == ".":
        base = ""
    if base.startswith("/") != target.startswith("/"):
        raise ValueError(f"Rel: can't make {target} relative to {base}")
    base_parts = base.split("/") if base else []
    target_parts = target.split("/") if target else []
    common = 0
    while (
        common < len(base_parts) and common < len(target_parts) and base_parts[common] == target_parts[common]
    ):
        common += 1
    rest = base_parts[common:]
    if rest and rest[0] == "..":
        raise ValueError(f"Rel: can't make {target} relative to {base}")
    ups = [".."] * len(rest)
    return "/".join(ups + target_parts[common:]) or "."


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def go_quote(text: str) -> str:
    """Go's ``%q`` of a string (``strconv.Quote``), as Terraform names paths in its errors."""
    out = []
    for char in text:
        if char in '\\"':
            out.append("\\" + char)
        elif char in _GO_ESCAPES:
            out.append(_GO_ESCAPES[char])
        elif "\udc80" <= char <= "\udcff":  # a byte that is not UTF-8 (surrogateescape)
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        elif not char.isprintable():
            code = ord(char)
            prefix, width = ("x", 2) if code < 0x80 else ("u", 4) if code < 0x10000 else ("U", 8)
            out.append(f"\\{prefix}{code:0{width}x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def fileset(path: str, pattern: str, tree: GlobTree) -> dict[str, str]:
    """Terraform's ``fileset(path, pattern)`` over ``tree`` (``path`` relative): each file's
    value (relative to ``path``, NFC) -> the Terraform path it was found at. FunctionError for
    Terraform's errors; Refused where driftwatch cannot know Terraform's result."""
    base = go_join(".", path)
    joined = go_join(base, pattern)
    walk = _Walk(tree)
    try:
        matches = walk.glob(joined)
    except RecursionError:
        raise Refused("the pattern nests too deeply") from None
    if walk.top_error:
        raise FunctionError(f"failed to glob pattern {go_quote(joined)}: {BadPattern()}")
    if walk.nested_error:
        raise Refused(
            "a malformed part of the pattern is reached in a subdirectory, where whether Terraform "
            "reports it depends on the order the operating system lists directories in"
        )
    found: dict[str, str] = {}
    failed: str | None = None
    refused: Refused | None = None
    for match in matches:
        try:
            kind = tree.stat(match)
        except Refused as error:
            refused = refused or error
            continue
        if kind in _STAT_ERRORS:
            failed = failed or f"failed to stat {go_quote(match)}: stat {match}: {_STAT_ERRORS[kind]}"
            continue
        if kind != "file":
            continue
        try:
            value = go_rel(base, match)
        except ValueError as error:
            failed = failed or f'failed to trim path of match "": {error}'
            continue
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            refused = refused or Refused(f"the file name {value!r} is not UTF-8")
            continue
        found.setdefault(unicodedata.normalize("NFC", value), match)
    if failed is not None:  # Terraform stats every match: it fails whatever it could see
        raise FunctionError(failed)
    if refused is not None:
        raise refused
    return found
