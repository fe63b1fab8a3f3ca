"""Terraform's ``yamldecode``, as go-cty-yaml (the library Terraform 1.11 uses) decodes YAML.

Configuration-driven repositories keep their tables in YAML (``for_each =
yamldecode(...)``), so every scalar must come out exactly as Terraform reads it; a table keyed
by ``yes`` is named ``true`` in Terraform, and so it must be here. The rules, all checked
against ``terraform console`` (tests/test_differential_console.py):

* Untagged plain scalars resolve YAML 1.1-style: ``y``/``yes``/``on``/``true`` (three
  capitalisations each) are true, their opposites false; ````, ``~``, ``null`` are null;
  ``.inf`` is infinity and ``.nan`` an error; ``0x1F``/``0o17`` and decimal integers (``017`` is
  17) are numbers, signed only when decimal; floats as in YAML 1.2 (``1.``, ``.5``, ``1e3``);
  ``2001-12-14`` and three other Go time layouts become RFC 3339 strings; anything else
  (``1_000``, ``0b101``, ``+inf``) is a string.
* Quoted scalars without a tag are verbatim strings; block scalars (``|``, ``>``) without a tag
  are resolved as plain ones and then made strings (``yes`` is "true", ``~`` stays null).
  A ``!!str``/``!!int``/``!!float``/``!!bool``/``!!null``/``!!timestamp``/``!!binary`` tag
  converts as go-cty-yaml converts it (a quoted scalar stays a string even then); any other
  tag is an error.
* Mappings are objects, sequences tuples. A key is a scalar converted to a string (``1.0`` is
  ``"1"``); a null or collection key is an error; a repeated key keeps its last value.
* ``<<`` with no tag (quoted or not) merges a mapping in place: its keys overwrite the keys
  before it and are overwritten by those after it. Merging a sequence is an error.
* Aliases repeat their anchor's value; an alias inside its own anchor is an error.
* Exactly one document; empty input (or only comments) is an error, as is ``%YAML`` other than
  1.1.

The input is untrusted: aliases make a small document a huge value (a "billion laughs"), so
the value is counted as if every alias were copied and refused (``ValueTooLarge``, as every
other value limit) past ``limits.MAX_VALUE_ELEMENTS`` elements, ``MAX_VALUE_CHARS``
characters or ``MAX_VALUE_DEPTH`` levels, while it is being read. Parsing uses PyYAML's
libyaml event parser, which builds nothing and runs no constructors.

Infinity has no place in a table's settings and no driftwatch number holds it: a ``.inf`` value
is Unknown with the reason (a ``.inf`` key is the string ``+Inf``, as in Terraform).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import yaml

from driftwatch.errors import DriftwatchError
from driftwatch.spec import Unknown
from driftwatch.terraform import gotime, limits, numbers

_STR = "tag:yaml.org,2002:str"
_BINARY = "tag:yaml.org,2002:binary"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_NULL = "tag:yaml.org,2002:null"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
# libyaml's parser (go-cty-yaml's is a port of it). PyYAML's Python port, where libyaml is absent,
# differs only on lone surrogate escapes and tabs in timestamps (it accepts both).
# Only its events are used: nothing is constructed.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SCALAR_TAGS = frozenset((_STR, _BINARY, _BOOL, _INT, _FLOAT, _NULL, _TIMESTAMP))


class YamlError(DriftwatchError, ValueError):
    """The YAML is invalid, or something go-cty-yaml refuses; a Terraform function error."""


class _Infinity:
    """cty's infinity, while decoding: a key becomes "+Inf"/"-Inf", a value Unknown."""

    def __init__(self, negative: bool) -> None:
        self.negative = negative


_POS_INF, _NEG_INF = _Infinity(False), _Infinity(True)

_WORDS: dict[str, Any] = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), None),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), _POS_INF),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), _NEG_INF),
}
_BOOL_WORDS = {word for word, value in _WORDS.items() if isinstance(value, bool)}
# The first character decides what a plain scalar may be (go-cty-yaml's resolve table).
_HINTS = {**dict.fromkeys("+-", "S"), **dict.fromkeys("0123456789", "D"), **dict.fromkeys("yYnNtTfFoO~", "M")}
_HINTS["."] = "."
# YAML 1.2's integers (no "_", signs on decimals only) and floats, as go-cty-yaml matches them.
_INTEGER = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", re.ASCII)
_FLOAT_TEXT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?", re.ASCII)
# Go's big.Float.Parse in base 10: a decimal mantissa and a decimal (e) or binary (p) exponent.
_BIG_FLOAT = re.compile(r"([-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?:([eEpP])([-+]?[0-9]+))?", re.ASCII)
# Go's strconv.ParseInt/ParseUint with base 0 (the "_" are already removed).
_GO_INT = re.compile(r"([-+]?)(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[1-9][0-9]*|0)", re.ASCII)


def decode(text: str) -> Any:
    """The value of a one-document YAML text, as Terraform's yamldecode gives it."""
    limits.charge_size(len(text))
    try:
        return _Decoder(yaml.parse(text or "\n", Loader=_LOADER)).document()
    except yaml.YAMLError as error:
        message = " ".join(str(error).split())
        if "maximum nesting depth" in message:
            # libyaml (PyYAML 6.0.3 and later with it) refuses deep flow nesting while it scans
            # ahead, before the decoder has counted 100 levels: the same limit, said the same way.
            raise limits.ValueTooLarge(
                f"value is nested deeper than {limits.MAX_VALUE_DEPTH} levels"
            ) from None
        raise YamlError(message) from None


@dataclass
class _Collection:
    """A mapping or sequence being read: its value so far and what it counts."""

    value: dict[str, Any] | list[Any]
    anchor: str | None
    size: int = 1
    chars: int = 0
    key: str | None = None  # a mapping's key waiting for its value
    merge: bool = False  # ... or a "<<" waiting for the mapping to merge


@dataclass
class _Decoder:
    events: Iterator[yaml.Event]
    anchors: dict[str, tuple[Any, int, int]] = field(default_factory=dict)  # value, size, chars
    pending: dict[str, int] = field(default_factory=dict)  # anchors being defined
    total: int = 0  # elements made so far, aliases counted as copies
    chars: int = 0  # characters of the strings made so far, likewise

    def _next(self) -> yaml.Event:
        try:
            return next(self.events)
        except StopIteration:
            raise YamlError("unexpected end of input") from None

    def document(self) -> Any:
        self._next()  # the stream start
        start = self._next()
        if not isinstance(start, yaml.DocumentStartEvent):
            raise YamlError("missing start of document")
        if start.version is not None and start.version != (1, 1):
            raise YamlError("found incompatible YAML document (version 1.1 is required)")
        value = self._value(self._next())
        end = self._next()
        if isinstance(end, yaml.DocumentStartEvent):
            raise YamlError("only a single document is allowed")
        if not isinstance(end, yaml.DocumentEndEvent):
            raise YamlError("unexpected extra content after value")
        if not isinstance(self._next(), yaml.StreamEndEvent):
            raise YamlError("only a single document is allowed")
        return _finish(value)

    def _value(self, event: yaml.Event) -> Any:
        """The value starting at ``event``; collections are read without recursion."""
        stack: list[_Collection] = []
        while True:
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                stack.append(self._open(event))
                if len(stack) > limits.MAX_VALUE_DEPTH:
                    raise limits.ValueTooLarge(f"value is nested deeper than {limits.MAX_VALUE_DEPTH} levels")
                event = self._next()
                if isinstance(stack[-1].value, dict):
                    event = self._key(stack[-1], event)
                continue
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                done = stack.pop()
                value, size, chars = done.value, done.size, done.chars
                if done.anchor is not None:
                    self._complete(done.anchor, value, size, chars)
            else:
                value, size, chars = self._leaf(event)
            if not stack:
                return value
            self._add(stack[-1], value, size, chars)
            event = self._next()
            if isinstance(stack[-1].value, dict):
                event = self._key(stack[-1], event)

    def _open(self, event: yaml.CollectionStartEvent) -> _Collection:
        mapping = isinstance(event, yaml.MappingStartEvent)
        if event.tag is not None and event.tag != (_MAP if mapping else _SEQ):
            raise YamlError(f"can't interpret {'mapping' if mapping else 'sequence'} as {event.tag}")
        if event.anchor is not None:
            self.pending[event.anchor] = self.pending.get(event.anchor, 0) + 1
        self._count(1, 0)
        return _Collection({} if mapping else [], event.anchor)

    def _key(self, mapping: _Collection, event: yaml.Event) -> yaml.Event:
        """Read the key at ``event`` (unless the mapping ends there); the event after it."""
        if isinstance(event, yaml.MappingEndEvent):
            return event
        if isinstance(event, yaml.ScalarEvent) and event.tag is None and event.value == "<<":
            mapping.merge = True
            return self._next()
        if not isinstance(event, yaml.ScalarEvent):
            raise YamlError("only strings are allowed as mapping keys")
        key = _resolve(event)
        if key is None:
            raise YamlError("mapping key cannot be null")
        mapping.key = _key_text(key)
        return self._next()

    def _add(self, parent: _Collection, value: Any, size: int, chars: int) -> None:
        if isinstance(parent.value, list):
            parent.value.append(value)
        elif parent.merge:
            parent.merge = False
            if not isinstance(value, dict):
                raise YamlError(f"cannot merge {_type_name(value)} into mapping")
            parent.value.update(value)  # the merged values were counted with the mapping merged
        else:
            assert parent.key is not None
            parent.value[parent.key] = value
            chars += len(parent.key)
        parent.size += size
        parent.chars += chars

    def _leaf(self, event: yaml.Event) -> tuple[Any, int, int]:
        """A scalar's or an alias's value, with the elements and characters it counts."""
        if isinstance(event, yaml.AliasEvent):
            name = event.anchor
            if name in self.pending:
                raise YamlError(f"cannot refer to anchor {name!r} from inside its own definition")
            if name not in self.anchors:
                raise YamlError(f"reference to undefined anchor {name!r}")
            value, size, chars = self.anchors[name]
            self._count(size, chars)
            return _copy(value), size, chars
        if isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                self.pending[event.anchor] = self.pending.get(event.anchor, 0) + 1
            value = _resolve(event)
            chars = len(value) if isinstance(value, str) else 0
            self._count(1, chars)
            if event.anchor is not None:
                self._complete(event.anchor, value, 1, chars)
            return value, 1, chars
        if isinstance(event, (yaml.DocumentStartEvent, yaml.DocumentEndEvent)):
            raise YamlError("only a single document is allowed")
        raise YamlError(f"expecting a value, found {type(event).__name__}")

    def _complete(self, name: str, value: Any, size: int, chars: int) -> None:
        self.pending[name] -= 1
        if not self.pending[name]:
            del self.pending[name]
        self.anchors[name] = (value, size, chars)

    def _count(self, size: int, chars: int) -> None:
        """Charge and bound the elements made (an alias counts as a copy of its anchor)."""
        before = self.total
        self.total += size
        if self.total > limits.MAX_VALUE_ELEMENTS:
            raise limits.ValueTooLarge(f"value has more than {limits.MAX_VALUE_ELEMENTS:,} elements")
        limits.charge(self.total // 8 - before // 8)
        self.chars += chars
        if self.chars > limits.MAX_VALUE_CHARS:
            raise limits.ValueTooLarge(f"value has more than {limits.MAX_VALUE_CHARS:,} characters")
        limits.charge_size(chars)


def _copy(value: Any) -> Any:
    """An alias's own copy of its anchor's value (bounded: it was counted before)."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _finish(value: Any) -> Any:
    """Infinity, which driftwatch's numbers do not hold, becomes Unknown with the reason."""
    if isinstance(value, _Infinity):
        sign = "-" if value.negative else "+"
        return Unknown(f"yamldecode(): {sign}infinity is not evaluated by driftwatch")
    if isinstance(value, dict):
        return {key: _finish(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finish(item) for item in value]
    return value


def _type_name(value: Any) -> str:
    if value is None:
        return "dynamic"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float, _Infinity)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "tuple" if isinstance(value, list) else "object"


def _key_text(key: Any) -> str:
    """A mapping key as cty converts it to a string."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, _Infinity):
        return "-Inf" if key.negative else "+Inf"
    if isinstance(key, (int, float)):
        return numbers.format_number(key)
    raise YamlError("only strings are allowed as mapping keys")


def _resolve(event: yaml.ScalarEvent) -> Any:
    """A scalar's value, as Terraform gives it: a quoted scalar without a tag is verbatim; a
    block scalar (``|``, ``>``) without a tag is resolved as a plain one and then made a
    string, as cty converts (``yes`` is "true", ``0x10`` is "16", ``~`` stays null)."""
    if event.tag is None and event.style in ("'", '"'):
        return event.value
    value = _resolve_scalar(event.tag, event.value, event.style)
    if event.tag is None and event.style in ("|", ">") and value is not None:
        return _key_text(value)
    return value


def _resolve_scalar(tag: str | None, text: str, style: str | None) -> Any:
    """go-cty-yaml's resolveScalar."""
    if tag is not None and tag not in _SCALAR_TAGS:
        raise YamlError(f"unsupported tag {tag!r}")
    hint = _HINTS.get(text[0], "") if text else "N"
    if hint and tag not in (_STR, _BINARY):
        if style in ("'", '"'):
            return text
        if text in _WORDS:
            return _WORDS[text]
        if tag is None and text in (".nan", ".NaN", ".NAN"):
            raise YamlError("floating point NaN is not supported")
        if hint == ".":
            number = _big_float(text)
            if number is not None:
                return number
        elif hint in "DS":
            if tag in (None, _TIMESTAMP):
                stamp = gotime.yaml_timestamp(text)
                if stamp is not None:
                    return stamp
            if _INTEGER.fullmatch(text):
                tag = _INT
            elif _FLOAT_TEXT.fullmatch(text):
                tag = _FLOAT
    if tag is None:
        return text
    if tag == _STR:
        return text
    if tag == _BINARY:
        try:
            base64.b64decode(re.sub("[\r\n]", "", text), validate=True)
        except (binascii.Error, ValueError):
            raise YamlError(f"cannot parse {text!r} as {tag}: not valid base64") from None
        return text
    if tag == _BOOL:
        if text not in _BOOL_WORDS:
            raise YamlError(f"cannot parse {text!r} as {tag}")
        return _WORDS[text]
    if tag in (_INT, _FLOAT):
        number = _tagged_number(text.replace("_", ""))
        if number is None:
            raise YamlError(f"cannot parse {text!r} as {tag}")
        return number
    if tag == _TIMESTAMP:
        stamp = gotime.yaml_timestamp(text)
        if stamp is None:
            raise YamlError(f"cannot parse {text!r} as {tag}")
        return stamp
    return None  # !!null


def _tagged_number(text: str) -> int | float | _Infinity | None:
    """A !!int or !!float: a decimal (big.Float), else a Go integer literal of at most 64 bits."""
    number = _big_float(text)
    if number is not None:
        return number
    match = _GO_INT.fullmatch(text)
    if match is None:
        return None
    sign, digits = match.groups()
    base = {"x": 16, "o": 8, "b": 2}.get(digits[1:2].lower(), 8 if len(digits) > 1 else 10)
    value = int(digits[2:] if digits[1:2].lower() in ("x", "o", "b") else digits, base)
    value = -value if sign == "-" else value
    if -(2**63) <= value < 2**63 or (not sign and value < 2**64):
        return value
    return None


def _big_float(text: str) -> int | float | _Infinity | None:
    """Go's big.ParseFloat(text, 10, 512): cty.ParseNumberVal. None if it is no number."""
    if text in ("inf", "Inf", "+inf", "+Inf"):
        return _POS_INF
    if text in ("-inf", "-Inf"):
        return _NEG_INF
    match = _BIG_FLOAT.fullmatch(text)
    if match is None:
        return None
    mantissa, letter, exponent = match.groups()
    try:
        if letter is None or letter in "eE":
            return numbers.parse(text)
        power = int(exponent)
        if abs(power) > numbers.MAX_BITS + 4 * len(mantissa):
            raise numbers.NumberError("number is out of driftwatch's range")
        return numbers.make(Fraction(mantissa) * Fraction(2) ** power)
    except numbers.NumberError as error:
        raise YamlError(str(error)) from None
