"""Which instances ``count`` and ``for_each`` make, by Terraform's rules (measured with
terraform 1.11 plan; the same for resources and module calls).

A value Terraform refuses is an ``ExpansionError`` with Terraform's reason, so the caller
reports the block as not evaluated: never zero instances (tables silently not watched), and
never instances Terraform would not create.

``count``: a number, or a string cty converts to one (``"3"`` is 3, ``"1e1"`` is 10, ``" 2"``
and ``"abc"`` are refused); then it must be whole (``2.0`` is 2; ``2.5`` and ``"2.5"`` are
refused, never truncated) and not negative. null and bools are refused. A sensitive count is
accepted.

``for_each``: a map or object (any values, null ones included), or a set of strings (``toset``
has already merged duplicates). Refused: a list or tuple (even of strings: ``toset()`` it), a
string, null, a set holding null or non-strings. Terraform also refuses a sensitive value;
driftwatch's ``sensitive()`` keeps no mark, so that one is not detected here.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from driftwatch.errors import DriftwatchError
from driftwatch.spec import PartlyListed, Unknown
from driftwatch.terraform.functions import FunctionError, TfSet, to_int, type_name


class ExpansionError(DriftwatchError):
    """Terraform refuses this count or for_each value (the message says why, in its words)."""


def count_instances(value: Any) -> int:
    """How many instances ``count = value`` makes; ``value`` is known (not ``Unknown``)."""
    if value is None:
        raise ExpansionError("the count value is null; a whole number is required")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ExpansionError(f"a number is required, got {type_name(value)}")
    try:
        count = to_int(value)
    except FunctionError as error:
        raise ExpansionError(f"unsuitable count: {error}") from None
    if count < 0:
        raise ExpansionError(f"unsuitable count {count}: it must be greater than or equal to zero")
    return count


def for_each_items(value: Any) -> list[tuple[Any, Any]] | Unknown:
    """(each.key, each.value) pairs of ``for_each = value``; Unknown if an element is unknown."""
    if value is None:
        raise ExpansionError("the for_each value is null; a map or a set of strings is required")
    if isinstance(value, PartlyListed):  # one resource instance, a data source: every attribute
        return value.unlisted()
    if isinstance(value, Mapping):
        return list(value.items())
    if isinstance(value, TfSet):
        unknown = next((e for e in value if isinstance(e, Unknown)), None)
        if unknown is not None:
            return Unknown(f"a for_each element is unknown: {unknown.reason}")
        if any(element is None for element in value):
            raise ExpansionError("for_each sets must not contain null values")
        wrong = next((e for e in value if not isinstance(e, str)), None)
        if wrong is not None:
            raise ExpansionError(
                f"for_each supports maps and sets of strings, but this set holds {type_name(wrong)}s"
            )
        return [(element, element) for element in value]
    hint = ": convert it with toset()" if isinstance(value, (list, tuple)) else ""
    raise ExpansionError(
        f"for_each must be a map or a set of strings, and this is a {type_name(value)}{hint}"
    )


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"', "\\": "\\\\"}


def instance_key(key: str) -> str:
    """``["key"]`` of a for_each instance address, quoted exactly as Terraform quotes it
    (``addrs.StringKey.String``, its ``toHCLQuotedString``), so that an address equals the
    state's: ``["q\\"x"]``, ``["d$${x}"]``, ``["nb\\u00a0sp"]``.

    A character Go's ``unicode.IsPrint`` refuses is written as ``\\u`` and four hex digits
    (``\\u200b``), past U+FFFF as ``\\U`` and eight (``\\U000e0001``): printable means a
    letter, mark, number, punctuation or symbol, or the ASCII space.
    Python's Unicode tables may be older than Go's; a character assigned only in the newer ones
    is escaped here and not by Terraform (never met in a table key).
    """
    out = ['["']
    for i, char in enumerate(key):
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char in "$%":
            out.append(char * 2 if key[i + 1 : i + 2] == "{" else char)
        elif char == " " or unicodedata.category(char)[0] in "LMNPS":
            out.append(char)
        else:
            code = ord(char)
            out.append(f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    out.append('"]')
    return "".join(out)
