"""Terminal-safe text: control characters in repository or AWS values are shown, never obeyed.

A table name, tag value, file name or error message comes from git or from AWS, and either may
be hostile. Written raw to a terminal, an ESC sequence can clear the screen or recolour what
follows, a carriage return can overwrite a line, and a newline can forge a whole report line
("IN_SYNC acme-prod-orders"). Every human-readable renderer (text reports, ``inspect``,
``history``) passes its values through here first, so such characters appear as visible
escapes (``\\x1b``, ``\\n``) instead.

Escaped: the C0 controls and DEL, the C1 controls (U+0080-U+009F, which some terminals treat
as ESC sequences), the Unicode line and paragraph separators, and the bidirectional overrides
and isolates that can reorder what a reader sees ("Trojan Source"). Machine formats (JSON,
SARIF) need none of this: their encoders escape control characters already.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\x1b"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control character replaced by a visible escape."""
    return _UNSAFE.sub(_escape, text) if _UNSAFE.search(text) else text


def escape_controls(value: T) -> T:
    """A copy of ``value`` (a report, a spec, an episode, or any nesting of dataclasses,
    mappings and sequences) with every string made printable; other values are kept as they
    are. Only what needed escaping is copied."""
    return _walk(value)  # type: ignore[no-any-return]


def _walk(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value
    if isinstance(value, str):
        return printable(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in dataclasses.fields(value):
            if not f.init:
                continue
            old = getattr(value, f.name)
            new = _walk(old)
            if new is not old:
                changes[f.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    if isinstance(value, Mapping):
        items = [(_walk(k), _walk(v)) for k, v in value.items()]
        if all(k is k0 and v is v0 for (k, v), (k0, v0) in zip(items, value.items(), strict=True)):
            return value
        return dict(items)
    if isinstance(value, (list, tuple, frozenset, set)):
        walked = [_walk(v) for v in value]
        if all(a is b for a, b in zip(walked, value, strict=True)):
            return value
        if hasattr(value, "_fields"):  # a NamedTuple
            return type(value)(*walked)
        return type(value)(walked)
    return value
