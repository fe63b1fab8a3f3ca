"""Terraform's functions that read or write text formats: ``yamldecode``, ``csvdecode``,
``urlencode``, the ``text*base64`` and ``base64sha*`` encodings, ``basename``/``dirname``
and ``indent``.

Configuration-driven repositories declare their tables in YAML or CSV and name things after
paths, so these must give Terraform's exact values: each follows the Go code Terraform 1.11
runs (go-cty-yaml, encoding/csv, net/url, path/filepath), checked against ``terraform
console`` in tests/test_differential_console.py. Where the exact output is another library's
(the gzip bytes of ``base64gzip``, the layout of ``yamlencode``), the function is registered
returning Unknown with the reason, never an approximation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import posixpath
import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

from driftwatch.spec import Unknown
from driftwatch.terraform import limits
from driftwatch.terraform.functions import (
    FUNCTIONS,
    UNKNOWN_POLICY,
    FunctionError,
    abspath,
    check_text,
    register,
    to_int,
    to_string,
)


@register("yamldecode")
def yamldecode(text: Any) -> Any:
    # Imported on first use: PyYAML and the decoder cost the evaluation worker's start about
    # 20 ms, which every one-shot scan pays, and few configurations call yamldecode.
    from driftwatch.terraform import yaml_decode

    try:
        return yaml_decode.decode(to_string(text))
    except yaml_decode.YamlError as error:
        raise FunctionError(str(error)) from None


# --- CSV -------------------------------------------------------------------------------------


@register("csvdecode")
def csvdecode(text: Any) -> list[dict[str, str]]:
    """go-cty's csvdecode: the first record names the columns, every value is a string, and
    every record must have as many fields as the header (Go's encoding/csv, RFC 4180)."""
    value = to_string(text)
    limits.charge_size(len(value))
    records = _csv_records(value)
    header = next(records, None)
    if header is None:
        raise FunctionError("missing header line")
    if len(set(header)) != len(header):
        duplicate = next(name for name in header if header.count(name) > 1)
        raise FunctionError(f'duplicate column name "{duplicate}"')
    rows: list[dict[str, str]] = []
    for line, fields in enumerate(records, start=2):
        if len(fields) != len(header):
            raise FunctionError(f"CSV parse error on line {line}: wrong number of fields")
        rows.append(dict(zip(header, fields, strict=True)))
        limits.charge()
    return rows


def _csv_lines(text: str) -> list[str]:
    """Go's csv readLine: lines cut after each "\\n" (a lone "\\r" is data), "\\r\\n" made
    "\\n", and a "\\r" ending the input dropped."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1].removesuffix("\r"))
    return [line[:-2] + "\n" if line.endswith("\r\n") else line for line in lines]


def _csv_records(text: str) -> Iterator[list[str]]:
    """Go's csv.Reader.Read, record by record (quoted fields may span lines)."""
    lines = _csv_lines(text)
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if line in ("", "\n"):
            continue  # Go skips empty lines
        fields: list[str] = []
        more = True
        while more:
            if not line.startswith('"'):
                comma = line.find(",")
                field = line[:comma] if comma >= 0 else line.removesuffix("\n")
                if '"' in field:
                    raise FunctionError(f'CSV parse error on line {index}: bare " in non-quoted-field')
                fields.append(field)
                more, line = comma >= 0, line[comma + 1 :]
                continue
            field, line, index, more = _quoted(line[1:], lines, index)
            fields.append(field)
        yield fields


_QUOTE_ERROR = 'CSV parse error on line {line}: extraneous or missing " in quoted-field'


def _quoted(line: str, lines: list[str], index: int) -> tuple[str, str, int, bool]:
    """A quoted field from just after its opening quote: (field, rest of the line, index of
    the next line, whether another field follows)."""
    buffer: list[str] = []
    while True:
        quote = line.find('"')
        if quote >= 0:
            buffer.append(line[:quote])
            line = line[quote + 1 :]
            if line.startswith('"'):
                buffer.append('"')
                line = line[1:]
            elif line.startswith(","):
                return "".join(buffer), line[1:], index, True
            elif line in ("", "\n"):
                return "".join(buffer), "", index, False
            else:
                raise FunctionError(_QUOTE_ERROR.format(line=index))
        elif line:
            buffer.append(line)
            line = lines[index] if index < len(lines) else ""
            index += 1
        else:
            raise FunctionError(_QUOTE_ERROR.format(line=index))


# --- encodings -------------------------------------------------------------------------------


@register("urlencode")
def urlencode(text: Any) -> str:
    """Go's url.QueryEscape: letters, digits and ``-_.~`` stay, a space is ``+``, the rest is
    ``%XX`` per UTF-8 byte."""
    return urllib.parse.quote_plus(to_string(text), safe="")


@register("base64sha256")
def base64sha256(text: Any) -> str:
    return base64.b64encode(hashlib.sha256(to_string(text).encode()).digest()).decode()


@register("base64sha512")
def base64sha512(text: Any) -> str:
    return base64.b64encode(hashlib.sha512(to_string(text).encode()).digest()).decode()


# IANA names (lower case) of the encodings whose bytes Python and Go's x/text agree on; others
# are Unknown rather than guessed (x/text knows dozens, with its own aliases and error rules).
_ENCODINGS = {
    "utf-8": ("utf-8", "UTF-8"),
    "csutf8": ("utf-8", "UTF-8"),
    "utf-16le": ("utf-16-le", "UTF-16LE"),
    "csutf16le": ("utf-16-le", "UTF-16LE"),
    "utf-16be": ("utf-16-be", "UTF-16BE"),
    "csutf16be": ("utf-16-be", "UTF-16BE"),
}


def _encoding(name: Any, function: str) -> tuple[str, str] | Unknown:
    text = to_string(name)
    found = _ENCODINGS.get(text.lower())
    if found is None:
        return Unknown(f"{function}(): the encoding {text!r} is not evaluated by driftwatch")
    return found


@register("textencodebase64")
def textencodebase64(text: Any, encoding: Any) -> Any:
    found = _encoding(encoding, "textencodebase64")
    if isinstance(found, Unknown):
        return found
    return base64.b64encode(to_string(text).encode(found[0])).decode()


@register("textdecodebase64")
def textdecodebase64(source: Any, encoding: Any) -> Any:
    found = _encoding(encoding, "textdecodebase64")
    if isinstance(found, Unknown):
        return found
    data = _go_base64(to_string(source))
    decoded = data.decode(found[0], errors="replace")
    if "\ufffd" in decoded:
        raise FunctionError(f"the given string contains symbols that are not defined for {found[1]}")
    return decoded


def _go_base64(text: str) -> bytes:
    """Go's base64.StdEncoding.DecodeString: padding required; "\\r" and "\\n" are ignored."""
    try:
        return base64.b64decode(re.sub("[\r\n]", "", text), validate=True)
    except (binascii.Error, ValueError):
        raise FunctionError("the given value has an invalid base64 symbol") from None


# --- paths and layout ------------------------------------------------------------------------


def _clean(path: str) -> str:
    """Go's filepath.Clean on Linux."""
    if not path:
        return "."
    return posixpath.normpath(re.sub("/+", "/", path))


@register("basename")
def basename(path: Any) -> str:
    """Go's filepath.Base: the last element, trailing slashes ignored; "" is "." and "/" is "/"."""
    text = to_string(path)
    if not text:
        return "."
    text = text.rstrip("/")
    if not text:
        return "/"
    return text[text.rfind("/") + 1 :]


def basename_of_abspath(path: Any) -> Any:
    """``basename(abspath(path))``. The directory Terraform ran in only prefixes a relative path,
    so the last element of the path cleaned (Go's filepath.Clean) is the result wherever it ran
    (``basename(abspath(path.module))`` is the module's directory name). A path that cleans to
    "." or to ".." elements only names that directory, or one above it: Unknown, as abspath."""
    text = to_string(path)
    if text.startswith("/"):
        return basename(abspath(text))
    last = _clean(text).rsplit("/", 1)[-1]
    return abspath(text) if last in (".", "..") else last


@register("dirname")
def dirname(path: Any) -> str:
    """Go's filepath.Dir: everything before the last slash, cleaned."""
    text = to_string(path)
    return _clean(text[: text.rfind("/") + 1])


@register("indent")
def indent(spaces: Any, text: Any) -> str:
    count, value = to_int(spaces), to_string(text)
    if count < 0:
        raise FunctionError("negative Repeat count")
    lines = value.count("\n")
    check_text(len(value) + lines * count)
    return value.replace("\n", "\n" + " " * count)


# --- not evaluated ---------------------------------------------------------------------------

_NOT_EXACT = {
    "yamlencode": "its layout (quoting, line breaks) is go-cty-yaml's emitter's, not reproduced here",
    "base64gzip": "the compressed bytes are those of Go's gzip writer, not reproduced here",
}
for _name, _why in _NOT_EXACT.items():
    FUNCTIONS[_name] = (lambda reason: lambda *_arguments: Unknown(reason))(f"{_name}(): {_why}")
    UNKNOWN_POLICY[_name] = "any"
