"""Go's time parsing and printing, as far as Terraform's functions use it.

``yamldecode`` turns four Go layouts into RFC 3339 strings, and ``formatdate``, ``timeadd`` and
``timecmp`` read RFC 3339 with Go's ``time.Parse``. Python's datetime parses neither the same
way (Go takes one-digit months, ``,5`` fractions and ``+24:00`` offsets, and has a year 0), so
this is Go's parser for exactly the layout elements those layouts use, and its printer.

A time is ``(seconds since 0001-01-01 UTC, nanoseconds, offset in seconds)``: arithmetic is on
the absolute instant, fields are read in the offset the text gave, as Go does.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from driftwatch.errors import DriftwatchError

# Layout elements: "Y" four-digit year, "M"/"D"/"h"/"m"/"s" one or two digits, "MM"/"DD"/"mm"/
# "ss" exactly two, "f" an optional fraction, "Z" "Z" or ±hh:mm; anything else is literal.
_YAML_LAYOUTS = (
    ("Y", "-", "M", "-", "D", "T", "h", ":", "m", ":", "s", "f", "Z"),  # 2006-1-2T15:4:5.999999999Z07:00
    ("Y", "-", "M", "-", "D", "t", "h", ":", "m", ":", "s", "f", "Z"),
    ("Y", "-", "M", "-", "D", " ", "h", ":", "m", ":", "s", "f"),  # 2006-1-2 15:4:5.999999999
    ("Y", "-", "M", "-", "D"),  # 2006-1-2
)
_RFC3339 = ("Y", "-", "MM", "-", "DD", "T", "h", ":", "mm", ":", "ss", "Z")  # 2006-01-02T15:04:05Z07:00
_NAMES = {"Y": "year", "MM": "month", "DD": "day of month", "h": "hour", "mm": "minute", "ss": "second"}

_DAYS_BEFORE_MONTH = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365)
MONTHS: tuple[str, ...] = ("January", "February", "March", "April", "May", "June")
MONTHS += ("July", "August", "September", "October", "November", "December")
WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


class TimeError(DriftwatchError, ValueError):
    """Text that is not a time of the layout, with cty's wording where it has one."""


class Time(NamedTuple):
    seconds: int  # since 0001-01-01T00:00:00Z
    nanos: int
    offset: int  # seconds east of UTC

    def fields(self) -> tuple[int, int, int, int, int, int, int]:
        """(year, month, day, hour, minute, second, weekday 0=Sunday) in the time's own offset."""
        local = self.seconds + self.offset
        days, rest = divmod(local, 86_400)
        year, month, day = _civil(days)
        return year, month, day, rest // 3600, rest // 60 % 60, rest % 60, (days + 1) % 7

    def add(self, nanos: int) -> Time:
        total = self.nanos + nanos
        return Time(self.seconds + total // 1_000_000_000, total % 1_000_000_000, self.offset)

    def instant(self) -> tuple[int, int]:
        return self.seconds, self.nanos


def is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_in(month: int, year: int) -> int:
    if month == 2 and is_leap(year):
        return 29
    return _DAYS_BEFORE_MONTH[month] - _DAYS_BEFORE_MONTH[month - 1]


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 0001-01-01 (proleptic Gregorian, with a year 0 as Go has)."""
    y = year - 1
    days = y * 365 + y // 4 - y // 100 + y // 400
    days += _DAYS_BEFORE_MONTH[month - 1] + (1 if month > 2 and is_leap(year) else 0)
    return days + day - 1


def _civil(days: int) -> tuple[int, int, int]:
    """The (year, month, day) ``days`` after 0001-01-01."""
    cycles, days = divmod(days, 146_097)  # 400-year cycles
    centuries = min(days // 36_524, 3)
    days -= centuries * 36_524
    groups = days // 1_461  # 4-year groups
    days -= groups * 1_461
    years = min(days // 365, 3)
    days -= years * 365
    year = 1 + 400 * cycles + 100 * centuries + 4 * groups + years
    month = 1
    while days >= _days_in(month, year):
        days -= _days_in(month, year)
        month += 1
    return year, month, days + 1


def _number(value: str, fixed: bool) -> tuple[int, str] | None:
    """Go's getnum: one or two digits (exactly two when ``fixed``)."""
    if not value[:1].isdigit() or not value[:1].isascii():
        return None
    if len(value) < 2 or not ("0" <= value[1] <= "9"):
        return None if fixed else (int(value[0]), value[1:])
    return int(value[:2]), value[2:]


def _fraction(value: str) -> tuple[int, str]:
    """An optional ``.123``/``,123`` fraction: (nanoseconds, rest)."""
    if len(value) < 2 or value[0] not in ".," or not ("0" <= value[1] <= "9"):
        return 0, value
    end = 1
    while end < len(value) and "0" <= value[end] <= "9":
        end += 1
    return int(value[1:end][:9].ljust(9, "0")), value[end:]


def _zone(value: str) -> tuple[int, str] | None:
    """Go's Z07:00: "Z", or a sign and hh:mm (hours to 24, minutes to 60, as Go allows)."""
    if value[:1] == "Z":
        return 0, value[1:]
    if len(value) < 6 or value[3] != ":" or value[0] not in "+-":
        return None
    hours, minutes = _number(value[1:3], True), _number(value[4:6], True)
    if hours is None or minutes is None or hours[0] > 24 or minutes[0] > 60:
        return None
    offset = (hours[0] * 60 + minutes[0]) * 60
    return (-offset if value[0] == "-" else offset), value[6:]


def _parse(layout: tuple[str, ...], value: str) -> Time:
    """Go's time.Parse for a layout of the elements above; TimeError names what failed."""
    year = month = day = 1
    hour = minute = second = nanos = offset = 0
    for position, element in enumerate(layout):
        if element == "Y":
            if len(value) < 4 or not value[:4].isascii() or not value[:4].isdigit():
                raise TimeError(_error(element, value))
            year, value = int(value[:4]), value[4:]
        elif element in ("M", "MM", "D", "DD", "h", "m", "mm", "s", "ss"):
            got = _number(value, len(element) == 2)
            if got is None:
                raise TimeError(_error(element, value))
            number, value = got
            limit = {"M": 12, "MM": 12, "h": 23, "m": 59, "mm": 59, "s": 59, "ss": 59}.get(element, 99)
            if number > limit or (element[0] == "M" and number == 0):
                raise TimeError(f"not a valid RFC3339 timestamp: {_NAMES.get(element, element)} out of range")
            if element[0] == "M":
                month = number
            elif element[0] == "D":
                day = number
            elif element == "h":
                hour = number
            elif element[0] == "m":
                minute = number
            else:
                second = number
                if "f" not in layout[position + 1 :]:
                    nanos, value = _fraction(value)  # Go takes a fraction the layout lacks
        elif element == "f":
            nanos, value = _fraction(value)
        elif element == "Z":
            zone = _zone(value)
            if zone is None:
                raise TimeError(_error(element, value))
            offset, value = zone
        elif element == " ":
            if value[:1] not in ("", " "):
                raise TimeError(_error(element, value))
            value = value.lstrip(" ")
        elif value[:1] != element:
            raise TimeError(_error(element, value))
        else:
            value = value[1:]
    if value:
        raise TimeError(f'not a valid RFC3339 timestamp: extra text: "{value}"')
    if day < 1 or day > _days_in(month, year):
        raise TimeError("not a valid RFC3339 timestamp: day out of range")
    local = _days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
    return Time(local - offset, nanos, offset)


def _error(element: str, value: str) -> str:
    """cty's wording of a Go parse error for RFC 3339."""
    if element == "T":
        return "not a valid RFC3339 timestamp: missing required time introducer 'T'"
    if element in (":", "-"):
        if not value:
            return f'not a valid RFC3339 timestamp: end of string where "{element}" is expected'
        return f'not a valid RFC3339 timestamp: found "{value}" where "{element}" is expected'
    what = "UTC offset" if element == "Z" else _NAMES.get(element, "timestamp segment")
    if not value:
        return f"not a valid RFC3339 timestamp: end of string before {what}"
    return f'not a valid RFC3339 timestamp: cannot use "{value}" as {what}'


_RFC3339_TEXT = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"(Z|[-+][0-9]{2}:[0-9]{2})",
    re.ASCII,
)


def parse_rfc3339(text: str) -> Time:
    """Go's time.Parse(time.RFC3339, text), which formatdate, timeadd and timecmp use: strictly
    two-digit fields, a "." fraction, "Z" or an offset to 23:59 (terraform console refuses
    ``T7:00:00Z``, ``,5`` and ``+24:00``, which Go's general layout parser would take)."""
    match = _RFC3339_TEXT.fullmatch(text)
    if match is None:
        _parse(_RFC3339, text)  # raises with the wording of the part that fails
        raise TimeError("not a valid RFC3339 timestamp")
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    fraction, zone = match.group(7), match.group(8)
    offset = 0
    if zone != "Z":
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 23 or minutes > 59:
            raise TimeError("not a valid RFC3339 timestamp: UTC offset out of range")
        offset = (hours * 60 + minutes) * 60 * (-1 if zone[0] == "-" else 1)
    if not 1 <= month <= 12 or not 1 <= day <= _days_in(month, year):
        raise TimeError(
            "not a valid RFC3339 timestamp: day out of range"
            if 1 <= month <= 12
            else "not a valid RFC3339 timestamp: month out of range"
        )
    if hour > 23 or minute > 59 or second > 59:
        raise TimeError("not a valid RFC3339 timestamp: time out of range")
    nanos = int(fraction[1:10].ljust(9, "0")) if fraction else 0
    local = _days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
    return Time(local - offset, nanos, offset)


_YEAR_DASH = re.compile(r"[0-9]{4}-", re.ASCII)


def yaml_timestamp(text: str) -> str | None:
    """go-cty-yaml's timestamp: the first of its layouts that parses, as RFC 3339; else None."""
    if not _YEAR_DASH.match(text):
        return None
    for layout in _YAML_LAYOUTS:
        try:
            return format_rfc3339(_parse(layout, text))
        except TimeError:
            continue
    return None


def format_offset(offset: int, colon: bool = True, z: bool = True) -> str:
    """A UTC offset as Go prints Z07:00 (``z``), -07:00 or -0700."""
    if offset == 0 and z:
        return "Z"
    minutes = offset // 60 if offset >= 0 else -(-offset // 60)
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}{':' if colon else ''}{minutes % 60:02d}"


def format_rfc3339(time: Time) -> str:
    year, month, day, hour, minute, second, _ = time.fields()
    clock = f"{hour:02d}:{minute:02d}:{second:02d}"
    return f"{_year(year)}-{month:02d}-{day:02d}T{clock}{format_offset(time.offset)}"


def _year(year: int) -> str:
    """Go's year in a layout: at least four digits, with a sign when negative."""
    return f"-{-year:04d}" if year < 0 else f"{year:04d}"


# --- durations ---------------------------------------------------------------------------------

_UNITS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,  # micro sign
    "\u03bcs": 1_000,  # Greek mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_MAX = 1 << 63


def parse_duration(text: str) -> int:
    """Go's time.ParseDuration, in nanoseconds: ``1h30m``, ``-1.5h``, ``300ms``."""
    original, rest, negative = text, text, False
    if rest[:1] in ("-", "+"):
        negative, rest = rest[0] == "-", rest[1:]
    if rest == "0":
        return 0
    if not rest:
        raise TimeError(f'time: invalid duration "{original}"')
    total = 0
    while rest:
        if not (rest[0] == "." or "0" <= rest[0] <= "9"):
            raise TimeError(f'time: invalid duration "{original}"')
        digits = _leading(rest, "0123456789")
        whole = 0
        for char in digits:
            if whole > _MAX // 10:
                raise TimeError(f'time: invalid duration "{original}"')
            whole = whole * 10 + int(char)
            if whole > _MAX:
                raise TimeError(f'time: invalid duration "{original}"')
        rest = rest[len(digits) :]
        fraction, scale, post = 0, 1.0, False
        if rest[:1] == ".":
            rest = rest[1:]
            decimals = _leading(rest, "0123456789")
            post = bool(decimals)
            overflow = False
            for char in decimals:
                if overflow or fraction > (_MAX - 1) // 10 or fraction * 10 + int(char) > _MAX:
                    overflow = True
                    continue
                fraction = fraction * 10 + int(char)
                scale *= 10
            rest = rest[len(decimals) :]
        if not digits and not post:
            raise TimeError(f'time: invalid duration "{original}"')
        unit_end = 0
        while unit_end < len(rest) and not (rest[unit_end] == "." or "0" <= rest[unit_end] <= "9"):
            unit_end += 1
        if unit_end == 0:
            raise TimeError(f'time: missing unit in duration "{original}"')
        unit_text, rest = rest[:unit_end], rest[unit_end:]
        unit = _UNITS.get(unit_text)
        if unit is None:
            raise TimeError(f'time: unknown unit "{unit_text}" in duration "{original}"')
        if whole > _MAX // unit:
            raise TimeError(f'time: invalid duration "{original}"')
        whole *= unit
        if fraction > 0:
            whole += int(float(fraction) * (float(unit) / scale))
            if whole > _MAX:
                raise TimeError(f'time: invalid duration "{original}"')
        total += whole
        if total > _MAX:
            raise TimeError(f'time: invalid duration "{original}"')
    if negative:
        return -total
    if total > _MAX - 1:
        raise TimeError(f'time: invalid duration "{original}"')
    return total


def _leading(text: str, allowed: str) -> str:
    end = 0
    while end < len(text) and text[end] in allowed:
        end += 1
    return text[:end]
