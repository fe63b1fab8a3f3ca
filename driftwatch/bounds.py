"""Every string that leaves a scan is short and encodable.

A scan's report feeds Prometheus labels, the SQLite history, Slack messages and terminal
output. Its strings come from the repository (table names, addresses, file names, values)
and from AWS, both untrusted: a 512 KiB table name would become a 512 KiB label on every
series of that table, and a lone surrogate (``format("%c", 55296)``, a file name with the
byte 0xFF) cannot be encoded as UTF-8, so SQLite and the HTTP endpoint would fail on it.
The declarations are vetted where they are made (driftwatch.terraform.vet, which turns such
values into errors); this is the last line, applied to the whole report: each string is
escaped (``\\udcff``) and cut to MAX_TEXT characters, and nothing else changes.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from typing import Any, Final, TypeVar

MAX_TEXT: Final = 1024  # characters of any string in a report: a label, a history row, a message

V = TypeVar("V")


def is_valid_text(text: str) -> bool:
    """Whether ``text`` encodes as UTF-8 (no lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def safe_text(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` with lone surrogates escaped, cut to ``limit`` characters (saying how long it
    was); ``text`` itself when it needs neither."""
    if len(text) <= limit and is_valid_text(text):
        return text
    if not is_valid_text(text):
        text = text.encode("utf-8", "surrogateescape" if _only_escapes(text) else "backslashreplace").decode(
            "utf-8", "backslashreplace"
        )
    if len(text) > limit:
        suffix = f"… ({len(text):,} characters)"
        text = text[: max(0, limit - len(suffix))] + suffix
    return text


def _only_escapes(text: str) -> bool:
    """Surrogates that stand for undecodable bytes (a file name read with surrogateescape)."""
    return all(not 0xD800 <= ord(c) <= 0xDFFF or 0xDC80 <= ord(c) <= 0xDCFF for c in text)


def bounded(value: V, limit: int = MAX_TEXT) -> V:
    """``value`` with every string in it (dataclass fields, mapping keys and values, sequence
    and set items) made safe by ``safe_text``; the same object where nothing changed."""
    return _bound(value, limit)  # type: ignore[no-any-return]


def _bound(value: Any, limit: int) -> Any:
    if isinstance(value, enum.Enum):
        return value
    if isinstance(value, str):
        return safe_text(value, limit)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for item in dataclasses.fields(value):
            if not item.init:
                continue
            old = getattr(value, item.name)
            new = _bound(old, limit)
            if new is not old:
                changes[item.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    if isinstance(value, Mapping):
        items = [(_bound(k, limit), _bound(v, limit)) for k, v in value.items()]
        if all(k is k0 and v is v0 for (k, v), (k0, v0) in zip(items, value.items(), strict=True)):
            return value
        return dict(items)
    if isinstance(value, (tuple, list, frozenset, set)):
        new_items = [_bound(item, limit) for item in value]
        if all(new is old for new, old in zip(new_items, value, strict=True)):
            return value
        return type(value)(new_items)
    return value
