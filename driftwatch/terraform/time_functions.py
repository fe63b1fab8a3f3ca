"""Terraform's functions on timestamps given as text: ``formatdate``, ``timeadd``, ``timecmp``.

They are pure (only ``timestamp()`` and ``plantimestamp()`` read the clock, and stay Unknown):
a table tagged ``formatdate("YYYY-MM", "2024-01-15T00:00:00Z")`` has one exact tag value.
Parsing is Go's time.Parse of RFC 3339 (gotime.py), formatting is go-cty's formatdate.
"""

from __future__ import annotations

import re
from typing import Any

from driftwatch.terraform import gotime
from driftwatch.terraform.functions import FunctionError, check_text, register, to_string


def _timestamp(text: Any) -> gotime.Time:
    try:
        return gotime.parse_rfc3339(to_string(text))
    except gotime.TimeError as error:
        raise FunctionError(str(error)) from None


@register("timeadd")
def timeadd(timestamp: Any, duration: Any) -> str:
    time = _timestamp(timestamp)
    try:
        nanos = gotime.parse_duration(to_string(duration))
    except gotime.TimeError as error:
        raise FunctionError(str(error)) from None
    return gotime.format_rfc3339(time.add(nanos))


@register("timecmp")
def timecmp(first: Any, second: Any) -> int:
    left, right = _timestamp(first).instant(), _timestamp(second).instant()
    return (left > right) - (left < right)


# A format is quoted literals ('...', with '' for a quote), runs of one letter, and the rest.
_TOKENS = re.compile(r"''|'(?:[^']|'')*'?|([A-Za-z])\1*|[^'A-Za-z]+")


@register("formatdate")
def formatdate(spec: Any, timestamp: Any) -> str:
    """go-cty's formatdate: YYYY, MM, DD, EEE, hh, mm, ss, ZZZZZ and the like; 'quoted' text
    verbatim; any other letter is an error."""
    template = to_string(spec)
    time = _timestamp(timestamp)
    result: list[str] = []
    for match in _TOKENS.finditer(template):
        token = match.group(0)
        if token[0] == "'":
            if len(token) == 1 or token[-1] != "'":
                raise FunctionError("unterminated literal '")
            result.append("'" if token == "''" else token[1:-1].replace("''", "'"))
        elif token[0].isalpha():
            result.append(_verb(token, time))
        else:
            result.append(token)
    text = "".join(result)
    check_text(len(text))
    return text


def _verb(token: str, time: gotime.Time) -> str:
    year, month, day, hour, minute, second, weekday = time.fields()
    offset = time.offset
    letter, size = token[0], len(token)
    numbers = {"D": day, "h": hour, "H": (hour % 12) or 12, "m": minute, "s": second}
    if letter == "Y" and size in (2, 4):
        return f"{year % 100:02d}" if size == 2 else f"{year:04d}"
    if letter == "M" and size <= 4:
        return (str(month), f"{month:02d}", gotime.MONTHS[month - 1][:3], gotime.MONTHS[month - 1])[size - 1]
    if letter in numbers and size <= 2:
        return f"{numbers[letter]:0{size}d}"
    if letter == "E" and size in (3, 4):
        name = gotime.WEEKDAYS[weekday]
        return name[:3] if size == 3 else name
    if letter in "Aa" and size == 2:
        marker = "AM" if hour < 12 else "PM"
        return marker if letter == "A" else marker.lower()
    if letter == "Z" and size in (1, 3, 4, 5):
        if size == 1:
            return gotime.format_offset(offset)
        if size == 3 and offset == 0:
            return "UTC"
        return gotime.format_offset(offset, colon=size == 5, z=False)
    raise FunctionError(f'invalid date format verb "{token}"')
