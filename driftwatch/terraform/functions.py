"""The Terraform built-in functions driftwatch evaluates, and the value conversions they share.

Values are plain Python: ``str``, ``int``/``float`` (numbers; integral results are ``int``, the
others ``numbers.Num``, a float carrying cty's 512-bit value; arithmetic is in numbers.py),
``bool``, ``None`` (null), ``list`` (lists, tuples and sets alike) and ``dict`` (maps and
objects). Sets are lists kept sorted and unique, so that two sets built in different orders
compare equal, which is what matters for drift.

A function signals a Terraform error by raising ``FunctionError``; the evaluator turns it into
an error at the call site (which ``try``/``can`` observe). Unknown arguments are handled by the
evaluator before a function runs, according to ``UNKNOWN_POLICY``: by default any Unknown
anywhere inside the arguments makes the result Unknown, because most functions cannot say
anything about a value they cannot see. Functions listed there look inside their arguments
themselves so that partially-known values (a tag map with one unknown tag) survive.

Functions whose result depends on something outside the configuration (clocks, randomness),
or that driftwatch does not reproduce exactly, are registered too, returning ``Unknown`` with
the reason, so that the report says why rather than "unknown function". The functions that
read files are evaluated by driftwatch.terraform.file_functions when the expression's Scope
has a module's file reader; what is registered here is their value without one.

The text formats (yamldecode, csvdecode...), the timestamp functions and the cidr functions
live in their own modules (text_functions, time_functions, cidr_functions), which register
into FUNCTIONS when this module is imported.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import inspect
import itertools
import json
import math
import posixpath
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Context, Decimal
from fractions import Fraction
from typing import Any

import re2
import regex as graphemes

from driftwatch.errors import DriftwatchError
from driftwatch.spec import PartlyListed, Unknown, first_unknown
from driftwatch.terraform import limits, numbers
from driftwatch.terraform.parse import unique_keys
from driftwatch.terraform.types import string_bool


class FunctionError(DriftwatchError):
    """A Terraform function error (bad argument type or value); becomes an evaluation error."""


class FunctionLimit(FunctionError):
    """One of driftwatch's own bounds (a result's size, a format width, an exponent), where
    Terraform computes the value: the result is Unknown, which try() and can() cannot observe
    (taking the bound for a Terraform error chose try()'s fallback, a value Terraform never
    makes)."""


FUNCTIONS: dict[str, Callable[..., Any]] = {}

# name -> "nested": top-level Unknown arguments give Unknown, but Unknowns inside collections
# are passed through; "any": the function receives Unknown arguments as they are.
UNKNOWN_POLICY: dict[str, str] = {}

# Guards against configurations (or fuzzers) that would build huge values.
MAX_COLLECTION = 100_000
MAX_FORMAT_WIDTH = 10_000
MAX_RANGE = 1024
MAX_TEXT = limits.MAX_VALUE_CHARS  # characters of a string result
MAX_COMPARED = 2_000  # elements of a set of collections (deduplicated by pairwise comparison)


def _register(name: str, unknown: str = "none") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(function: Callable[..., Any]) -> Callable[..., Any]:
        FUNCTIONS[name] = function
        if unknown != "none":
            UNKNOWN_POLICY[name] = unknown
        return function

    return decorator


register = _register  # for the modules that add functions (text_functions, time_functions)


# --- type helpers --------------------------------------------------------------------------


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class TfSet(list[Any]):
    """A Terraform set: a list kept sorted and unique, marked so that iterating it binds the
    element (not a position) as the key, and so that it is never indexed, as in Terraform."""

    __slots__ = ()


def is_list(value: object) -> bool:
    return isinstance(value, (list, tuple))


def is_set(value: object) -> bool:
    return isinstance(value, TfSet)


def type_name(value: object) -> str:
    """Terraform's words for a value's type, for error messages users will recognise."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if is_set(value):
        return "set"
    if is_list(value):
        return "list"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, Unknown):
        return "unknown"
    return type(value).__name__


def normalize_number(value: float | int) -> int | float:
    """Terraform has one number type; integral values are returned as ``int`` so they print as 5."""
    if isinstance(value, numbers.Num):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FunctionError("number is out of range")
        # Only where the float is exact: int(1e100) would print digits nobody wrote.
        if value.is_integer() and abs(value) <= 2**53:
            return int(value)
    return value


def to_number(value: Any) -> int | float:
    """Terraform's string-to-number conversion: "5" is 5, "five" is an error, bools never convert."""
    if is_number(value):
        return normalize_number(value)
    if isinstance(value, str) and numbers.NUMBER_TEXT.fullmatch(value):
        try:
            return numbers.parse(value)
        except numbers.NumberLimit as error:
            raise FunctionLimit(str(error)) from None
        except numbers.NumberError as error:
            raise FunctionError(str(error)) from None
    if value is None:
        raise FunctionError("a number is required, got null")
    raise FunctionError(f"a number is required, got {type_name(value)} {_short(value)}")


def to_int(value: Any) -> int:
    number = to_number(value)
    if isinstance(number, numbers.Num) and number.exact.denominator == 1:
        return int(number.exact)
    if not isinstance(number, int):
        raise FunctionError(f"a whole number is required, got {format_number(number)}")
    return number


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    converted = string_bool(value)
    if converted is not None:
        return converted
    if value is None:
        raise FunctionError("a bool is required, got null")
    raise FunctionError(f"a bool is required, got {type_name(value)} {_short(value)}")


def arithmetic(operator: str, left: int | float, right: int | float) -> int | float:
    """cty's arithmetic: exact or at 512 bits (numbers.py), so a 400-digit integer divided by 7
    is a value. Terraform's ``1 / 0`` is infinity, which no attribute accepts: an error here."""
    try:
        if operator in ("/", "%") and numbers.compare(right, 0) == 0:
            raise FunctionError("division by zero")
        return _ARITHMETIC[operator](left, right)
    except numbers.NumberLimit as error:
        raise FunctionLimit(str(error)) from None
    except numbers.NumberError as error:
        raise FunctionError(str(error)) from None


_ARITHMETIC: dict[str, Callable[[int | float, int | float], int | float]] = {
    "+": numbers.add,
    "-": numbers.subtract,
    "*": numbers.multiply,
    "/": numbers.divide,
    "%": numbers.modulo,
}


def format_number(value: int | float) -> str:
    """Numbers as Terraform prints them: 5 not 5.0, 0.1 not 1e-01, no exponent for large values."""
    value = normalize_number(value)
    if isinstance(value, (int, numbers.Num)):
        return numbers.format_number(value)
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def to_string(value: Any) -> str:
    """The primitive-to-string conversion of templates and ``tostring``; null is an error."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if is_number(value):
        return format_number(value)
    if value is None:
        raise FunctionError("a string is required, got null")
    raise FunctionError(f"a string is required, got {type_name(value)}")


def _short(value: Any) -> str:
    """A value in an error message, cut to 40 characters."""
    if isinstance(value, Unknown):
        text = str(value)
    elif is_number(value):
        text = format_number(value)  # json.dumps (str) refuses an int of over 4,300 digits
    else:
        try:
            text = json.dumps(value, default=str)
        except ValueError:  # such an int inside a collection
            text = f"a {type_name(value)}"
    return text if len(text) <= 40 else text[:37] + "..."


def _list(value: Any, what: str = "argument") -> list[Any]:
    if is_list(value):
        return list(value)
    raise FunctionError(f"{what} must be a list, got {type_name(value)}")


def _map(value: Any, what: str = "argument") -> Mapping[str, Any]:
    if isinstance(value, Mapping):
        return value
    raise FunctionError(f"{what} must be a map or object, got {type_name(value)}")


def _check_size(items: list[Any]) -> list[Any]:
    if len(items) > MAX_COLLECTION:
        raise FunctionLimit(f"result has more than {MAX_COLLECTION} elements")
    return items


def _check_text(length: int) -> None:
    """Refuse a string result longer than MAX_TEXT -- before building it, where possible."""
    if length > MAX_TEXT:
        raise FunctionLimit(f"result would have more than {MAX_TEXT:,} characters")


check_text = _check_text


def _primitive(value: Any) -> bool:
    """A value compared by hashing (with its type name: 1 == 1.0, true != 1), never pairwise."""
    return value is None or isinstance(value, (str, bool, int, float))


def _unique(items: Iterable[Any]) -> list[Any]:
    """``items`` without repeats (Terraform equality), first occurrence kept, in order.

    Hashing for primitives (linear); pairwise comparison only among collections and Unknowns,
    of which there may be at most MAX_COMPARED (a hostile set must not take hours).
    """
    result: list[Any] = []
    seen: set[tuple[str, Any]] = set()
    others: list[Any] = []
    for item in items:
        if _primitive(item):
            key = (type_name(item), item)  # 1 == 1.0 (same hash); true != 1 (other type)
            if key not in seen:
                seen.add(key)
                result.append(item)
            continue
        if any(values_equal(item, other) is True for other in others):
            continue
        if len(others) >= MAX_COMPARED:
            raise FunctionLimit(f"more than {MAX_COMPARED} distinct collections to compare")
        others.append(item)
        result.append(item)
    return result


def values_equal(left: Any, right: Any) -> bool | Unknown:
    """Terraform's type-strict ``==``: "5" == 5 is false, 1 == 1.0 is true; Unknown if undecidable.

    An Unknown known not to be null (``Unknown.not_null``) is decided against null: unequal.
    """
    limits.charge()  # comparisons walk values: one step each, against the evaluation budget
    if isinstance(left, Unknown):
        return False if right is None and left.not_null else left
    if isinstance(right, Unknown):
        return False if left is None and right.not_null else right
    if is_number(left) and is_number(right):
        return bool(left == right)
    if type_name(left) != type_name(right):
        return False
    if is_list(left):
        if len(left) != len(right):
            return False
        return _all_equal(zip(left, right, strict=True))
    if isinstance(left, Mapping):
        for side in (left, right):
            if isinstance(side, PartlyListed):  # its unlisted attributes may differ
                return side.unlisted()
        if set(left) != set(right):
            return False
        return _all_equal((left[key], right[key]) for key in left)
    return bool(left == right)


def _all_equal(pairs: Iterable[tuple[Any, Any]]) -> bool | Unknown:
    pending: Unknown | None = None
    for left, right in pairs:
        equal = values_equal(left, right)
        if equal is False:
            return False
        if isinstance(equal, Unknown) and pending is None:
            pending = equal
    return pending if pending is not None else True


def unify(values: list[Any], what: str) -> list[Any]:
    """Convert primitive elements to one type as Terraform does for lists, sets and maps.

    A mix of strings with numbers or bools becomes all strings; numbers with bools cannot be
    unified. Nulls and Unknowns are left alone; collections are not converted.
    """
    kinds = {type_name(v) for v in values if v is not None and not isinstance(v, Unknown)}
    if len(kinds) <= 1:
        return values
    if kinds <= {"string", "number", "bool"}:
        if "string" not in kinds:
            raise FunctionError(f"{what}: all elements must have the same type, got number and bool")
        return [v if v is None or isinstance(v, Unknown) else to_string(v) for v in values]
    if kinds & {"string", "number", "bool"}:
        raise FunctionError(f"{what}: all elements must have the same type, got {', '.join(sorted(kinds))}")
    return values


def _set_of(values: list[Any], what: str) -> TfSet:
    """A Terraform set as a sorted list of unique elements (strings lexically, numbers numerically)."""
    unique = _unique(unify(values, what))
    try:
        return TfSet(sorted(unique, key=_sort_key))
    except TypeError:
        return TfSet(unique)


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, value)
    if is_number(value):
        return (2, value)
    if isinstance(value, str):
        return (3, value)
    try:
        return (4, json.dumps(value, sort_keys=True, default=str))
    except ValueError:  # an int of over 4,300 digits, which str() refuses; _json prints it
        return (4, _json(value))


# --- collections -----------------------------------------------------------------------------


@_register("length", unknown="nested")
def length(value: Any) -> int:
    if isinstance(value, str):
        return len(_graphemes(value))
    if is_list(value) or isinstance(value, Mapping):
        return len(value)
    raise FunctionError(f"cannot take the length of {type_name(value)}")


@_register("merge", unknown="nested")
def merge(*maps: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for index, item in enumerate(maps):
        if item is None:
            continue
        result.update(_map(item, f"argument {index + 1}"))
    return result


@_register("concat", unknown="nested")
def concat(*lists: Any) -> list[Any]:
    if not lists:
        raise FunctionError("concat() needs at least one argument")
    result: list[Any] = []
    for index, item in enumerate(lists):
        result.extend(_list(item, f"argument {index + 1}"))
    return _check_size(result)


@_register("lookup", unknown="nested")
def lookup(mapping: Any, key: Any, *default: Any) -> Any:
    if len(default) > 1:
        raise FunctionError("lookup() takes 2 or 3 arguments")
    found = _map(mapping, "first argument")
    name = to_string(key)
    if name in found:
        return found[name]
    if default:
        return default[0]
    raise FunctionError(f'the map has no key "{name}" and no default was given')


@_register("coalesce", unknown="any")
def coalesce(*values: Any) -> Any:
    if not values:
        raise FunctionError("coalesce() needs at least one argument")
    for value in values:
        if isinstance(value, Unknown):
            return value
        if value is not None and value != "":
            candidates = [v for v in values if not isinstance(v, Unknown)]
            if isinstance(value, (bool, int, float)) and any(isinstance(v, str) for v in candidates):
                return to_string(value)
            return value
    raise FunctionError("no non-null, non-empty-string arguments")


@_register("coalescelist", unknown="any")
def coalescelist(*lists: Any) -> Any:
    if not lists:
        raise FunctionError("coalescelist() needs at least one argument")
    for item in lists:
        if isinstance(item, Unknown):
            return item
        if item is not None and len(_list(item)) > 0:
            return list(item)
    raise FunctionError("no non-empty list arguments")


@_register("compact")
def compact(values: Any) -> list[Any]:
    return [to_string(v) for v in _list(values) if v is not None and v != ""]


@_register("distinct")
def distinct(values: Any) -> list[Any]:
    return _unique(_list(values))


@_register("flatten")
def flatten(values: Any) -> list[Any]:
    result: list[Any] = []
    stack: list[Iterable[Any]] = [iter(_list(values))]
    while stack:
        for item in stack[-1]:
            if is_list(item):
                stack.append(iter(item))
                break
            result.append(item)
        else:
            stack.pop()
    return _check_size(result)


@_register("keys", unknown="nested")
def keys(mapping: Any) -> list[str]:
    return sorted(_map(mapping))


@_register("values", unknown="nested")
def values(mapping: Any) -> list[Any]:
    found = _map(mapping)
    return [found[key] for key in sorted(found)]


@_register("contains", unknown="nested")
def contains(collection: Any, value: Any) -> bool | Unknown:
    if isinstance(value, Unknown):
        return value
    pending: Unknown | None = None
    for item in _list(collection):
        equal = values_equal(item, value)
        if equal is True:
            return True
        if isinstance(equal, Unknown):
            pending = pending or equal
    return pending if pending is not None else False


@_register("element", unknown="nested")
def element(values: Any, index: Any) -> Any:
    items = _list(values)
    position = to_int(index)
    if not items:
        raise FunctionError("cannot use an empty list")
    if position < 0:
        raise FunctionError("the index must not be negative")
    return items[position % len(items)]


@_register("index")
def index(values: Any, value: Any) -> int:
    for position, item in enumerate(_list(values)):
        if values_equal(item, value) is True:
            return position
    raise FunctionError("the value is not in the list")


@_register("zipmap", unknown="nested")
def zipmap(keys_: Any, values_: Any) -> dict[str, Any]:
    names = _list(keys_, "keys")
    items = _list(values_, "values")
    if len(names) != len(items):
        raise FunctionError(f"{len(names)} keys but {len(items)} values")
    for name in names:
        if isinstance(name, Unknown):
            raise _UnknownResult(name)
    return {to_string(name): item for name, item in zip(names, items, strict=True)}


class _UnknownResult(Exception):
    """Raised inside a partially-Unknown-aware function when the result turns out Unknown."""

    def __init__(self, unknown: Unknown):
        super().__init__(unknown.reason)
        self.unknown = unknown


@_register("reverse", unknown="nested")
def reverse(values: Any) -> list[Any]:
    return list(reversed(_list(values)))


@_register("slice", unknown="nested")
def slice_(values: Any, start: Any, end: Any) -> list[Any]:
    items = _list(values)
    first, last = to_int(start), to_int(end)
    if first < 0 or last > len(items) or first > last:
        raise FunctionError(f"slice({first}, {last}) is out of range for a list of length {len(items)}")
    return items[first:last]


@_register("one", unknown="nested")
def one(values: Any) -> Any:
    items = _list(values)
    if len(items) > 1:
        raise FunctionError(f"must be a list of zero or one elements, got {len(items)}")
    return items[0] if items else None


@_register("chunklist", unknown="nested")
def chunklist(values: Any, size: Any) -> list[list[Any]]:
    items = _list(values)
    step = to_int(size)
    if step < 0:
        raise FunctionError("the size argument must be positive")
    if step == 0:
        return [items]
    return [items[i : i + step] for i in range(0, len(items), step)]


@_register("sort")
def sort(values: Any) -> list[str]:
    return sorted(to_string(v) for v in _list(values))


@_register("tolist", unknown="nested")
def tolist(value: Any) -> Any:
    if value is None:
        return None
    return list(unify(_list(value), "tolist()"))


@_register("toset")
def toset(value: Any) -> Any:
    if value is None:
        return None
    return _set_of(_list(value), "toset()")


@_register("tomap", unknown="nested")
def tomap(value: Any) -> Any:
    if value is None:
        return None
    found = _map(value)
    names = list(found)
    return dict(zip(names, unify([found[n] for n in names], "tomap()"), strict=True))


@_register("setunion")
def setunion(*sets: Any) -> list[Any]:
    return _set_of([item for s in sets for item in _list(s)], "setunion()")


@_register("setproduct")
def setproduct(*collections: Any) -> list[Any]:
    """Every combination of one element of each argument; a set when any argument is a set."""
    if len(collections) < 2:
        raise FunctionError("setproduct() needs at least two arguments")
    lists = [_list(c, "setproduct() argument") for c in collections]
    if math.prod(len(items) for items in lists) > MAX_COLLECTION:
        raise FunctionLimit(f"setproduct() would have more than {MAX_COLLECTION} elements")
    product = [list(combination) for combination in itertools.product(*lists)]
    return _set_of(product, "setproduct()") if any(is_set(c) for c in collections) else product


@_register("setintersection")
def setintersection(first: Any, *others: Any) -> list[Any]:
    result = _set_of(_list(first), "setintersection()")
    for other in others:
        found = _equal_to_one_of(_list(other))
        result = TfSet(v for v in result if found(v))
    return result


@_register("setsubtract")
def setsubtract(first: Any, second: Any) -> list[Any]:
    found = _equal_to_one_of(_list(second))
    return TfSet(v for v in _set_of(_list(first), "setsubtract()") if not found(v))


def _equal_to_one_of(items: list[Any]) -> Callable[[Any], bool]:
    """Whether a value is equal (``values_equal`` is True) to one of ``items``: primitives by
    hashing, as ``_unique`` keys them, so two sets of strings take linear time (compared pair
    by pair, two sets of 50,000 took 126 s; of 600, a table's whole budget); collections and
    Unknowns pair by pair. A primitive never equals a collection, nor an Unknown (that is not
    True)."""
    keys = {(type_name(item), item) for item in items if _primitive(item)}
    others = [item for item in items if not _primitive(item)]

    def found(value: Any) -> bool:
        if _primitive(value):
            return (type_name(value), value) in keys
        return any(values_equal(value, other) is True for other in others)

    return found


@_register("transpose")
def transpose(mapping: Any) -> dict[str, list[str]]:
    """A map of lists of strings turned inside out: each string becomes a key listing the keys
    that held it (keys in lexical order, as Terraform iterates a map)."""
    found = _map(mapping)
    result: dict[str, list[str]] = {}
    for key in sorted(found):
        items = found[key]
        if items is None or not is_list(items):
            raise FunctionError("input must be a map of lists of strings")
        for item in items:
            if item is None:
                raise FunctionError("input must be a map of lists of strings")
            if is_list(item) or isinstance(item, Mapping):
                raise FunctionError("input must be a map of lists of strings")
            result.setdefault(to_string(item), []).append(key)
    return result


@_register("matchkeys")
def matchkeys(values_: Any, keys_: Any, searchset: Any) -> list[Any]:
    """The elements of ``values`` whose key (same position in ``keys``) is in ``searchset``;
    keys and searchset are first converted to one type, as Terraform does."""
    items, names, wanted = _list(values_, "values"), _list(keys_, "keys"), _list(searchset, "searchset")
    items = unify(items, "matchkeys() values")
    converted = unify(names + wanted, "matchkeys(): keys and searchset must be of the same type")
    names, wanted = converted[: len(names)], converted[len(names) :]
    if len(items) != len(names):
        raise FunctionError("length of keys and values should be equal")
    if not wanted:
        return []
    pairs = zip(items, names, strict=True)
    return [item for item, name in pairs if any(values_equal(name, w) is True for w in wanted)]


@_register("alltrue")
def alltrue(values: Any) -> bool:
    return all(to_bool(v) for v in _list(values))


@_register("anytrue")
def anytrue(values: Any) -> bool:
    return any(to_bool(v) for v in _list(values))


@_register("range")
def range_(*arguments: Any) -> list[int | float]:
    if not 1 <= len(arguments) <= 3:
        raise FunctionError("range() takes 1 to 3 arguments")
    numbers = [to_number(a) for a in arguments]
    start, limit = (0, numbers[0]) if len(numbers) == 1 else (numbers[0], numbers[1])
    step = numbers[2] if len(numbers) == 3 else (1 if limit >= start else -1)
    if step == 0:
        raise FunctionError("step must not be zero")
    if (step > 0 and limit < start) or (step < 0 and limit > start):
        raise FunctionError("step has the wrong sign for the given start and limit")
    count = math.ceil((limit - start) / step)
    if count > MAX_RANGE:
        raise FunctionError(f"more than {MAX_RANGE} values requested")
    return [normalize_number(start + i * step) for i in range(count)]


# --- numbers ---------------------------------------------------------------------------------


def _numbers(arguments: tuple[Any, ...], name: str) -> list[int | float]:
    if not arguments:
        raise FunctionError(f"{name}() needs at least one argument")
    return [to_number(a) for a in arguments]


@_register("min")
def min_(*numbers: Any) -> int | float:
    return min(_numbers(numbers, "min"))


@_register("max")
def max_(*numbers: Any) -> int | float:
    return max(_numbers(numbers, "max"))


@_register("sum")
def sum_(values: Any) -> int | float:
    items = _list(values)
    if not items:
        raise FunctionError("cannot sum an empty list")
    total: int | float = to_number(items[0])  # cty: the first, then each added to it
    for item in items[1:]:
        total = arithmetic("+", total, to_number(item))
    return total


@_register("abs")
def abs_(number: Any) -> int | float:
    value = to_number(number)
    return numbers.negate(value) if numbers.compare(value, 0) < 0 else value


@_register("ceil")
def ceil(number: Any) -> int | float:
    value = to_number(number)
    return value if _integral(value) else math.ceil(numbers.exact(value))


@_register("floor")
def floor(number: Any) -> int | float:
    value = to_number(number)
    return value if _integral(value) else math.floor(numbers.exact(value))


def _integral(value: int | float) -> bool:
    """A whole number, kept as it is by floor and ceil (a 53-bit pow() result keeps its
    precision, so its digits print as Terraform prints them)."""
    return isinstance(value, int) or numbers.exact(value).denominator == 1


@_register("signum")
def signum(number: Any) -> int:
    value = to_int(number)  # Terraform's signum takes whole numbers only
    return (value > 0) - (value < 0)


@_register("pow")
def pow_(base: Any, exponent: Any) -> int | float:
    left, right = to_number(base), to_number(exponent)
    if abs(right) > 1024:
        raise FunctionLimit("exponent is too large")
    try:
        return numbers.from_float(_go_pow(float(left), float(right)))
    except (OverflowError, numbers.NumberError, ZeroDivisionError) as error:
        raise FunctionError(str(error)) from None


def _go_pow(x: float, y: float) -> float:
    """Go's math.Pow, step for step (cty's pow calls it): an integral power is built by
    squaring the mantissa, which rounds otherwise than the C library's pow (``pow(10, 23)``
    is 1e23 in Go, ``1.0000000000000001e23`` in Python). A fractional power's part goes through
    exp and log as in Go; NaN results are Terraform's errors."""
    if y == 0 or x == 1:
        return 1.0
    if y == 1:
        return x
    if math.isnan(x) or math.isnan(y):
        raise FunctionError("the result is not a number")
    if x == 0:
        odd = _is_odd_int(y) and math.copysign(1, x) < 0
        if y < 0:  # Go: an infinity, which no attribute accepts (as 1 / 0, refused)
            raise FunctionError("0.0 cannot be raised to a negative power")
        return x if odd else 0.0
    if math.isinf(y) or math.isinf(x):
        raise FunctionError("number is out of range")
    if y == 0.5:
        return math.sqrt(x)
    if y == -0.5:
        return 1 / math.sqrt(x)
    fraction, whole = math.modf(abs(y))
    if fraction != 0 and x < 0:
        raise FunctionError("the result is not a number")
    a1, ae = 1.0, 0
    if fraction != 0:
        if fraction > 0.5:
            fraction -= 1
            whole += 1
        a1 = _go_exp(fraction * _go_log(x))
    x1, xe = math.frexp(x)
    i = int(whole)
    while i != 0:
        if xe < -(1 << 12) or xe > (1 << 12):
            ae += xe  # catastrophic overflow: ldexp decides
            break
        if i & 1 == 1:
            a1 *= x1
            ae += xe
        x1 *= x1
        xe <<= 1
        if x1 < 0.5:
            x1 += x1
            xe -= 1
        i >>= 1
    if y < 0:
        a1 = 1 / a1
        ae = -ae
    return math.ldexp(a1, ae)


_LOG2E = 1.4426950408889634073599246810018920
_LN2_UPPER = 0.69314718055966295651160180568695068359375
_LN2_LOWER = 0.28235290563031577122588448175013436025525412068e-12
_EXP_TERMS = (
    2.4801587301587301587e-5,
    1.9841269841269841270e-4,
    1.3888888888888888889e-3,
    8.3333333333333333333e-3,
    4.1666666666666666667e-2,
    1.6666666666666666667e-1,
    0.5,
    1.0,
)


def _go_exp(x: float) -> float:
    """Go's math.Exp as Terraform's linux/amd64 build runs it: exp_amd64.s (Shibata's method)
    on its FMA path, taken on every x86-64 CPU with AVX2 and FMA (2013 on). The C library's
    exp differs from it in the last digit for about one fractional power in eight
    (``pow(1.5, 2.5)``), and Terraform prints every digit. Only called from ``_go_pow`` with a
    finite argument under 710 in magnitude (a fraction of at most 1/2 times a float's log)."""
    if x > 7.09782712893384e02:
        return math.inf
    exponent = round(_LOG2E * x)  # CVTSD2SL: to nearest, ties to even
    whole = float(exponent)
    reduced = _fma(-_LN2_UPPER, whole, x)
    reduced = _fma(-_LN2_LOWER, whole, reduced) * 0.0625
    series = _EXP_TERMS[0]
    for term in _EXP_TERMS[1:]:
        series = _fma(series, reduced, term)
    reduced *= series
    for _ in range(3):  # (e^(r/16) - 1) squared up to e^r - 1, the last step fused with + 1
        reduced *= reduced + 2.0
    result = _fma(reduced + 2.0, reduced, 1.0)
    biased = exponent + 0x3FF
    if biased <= 0:
        return 0.0  # Go's assembly flushes to zero
    if biased >= 0x7FF:
        return math.inf
    return result * math.ldexp(1.0, exponent)


def _fma(a: float, b: float, c: float) -> float:
    """``a * b + c`` rounded once (the FMA instruction): exact in fractions, then the float
    nearest to it (an int division, correctly rounded)."""
    return float(Fraction(a) * Fraction(b) + Fraction(c))


def _is_odd_int(y: float) -> bool:
    fraction, whole = math.modf(y)
    return fraction == 0 and abs(whole) < 2**53 and int(whole) % 2 == 1


_LN2_HI, _LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10
_LOG_TERMS = (
    6.666666666666735130e-01,
    3.999999999940941908e-01,
    2.857142874366239149e-01,
    2.222219843214978396e-01,
    1.818357216161805012e-01,
    1.531383769920937332e-01,
    1.479819860511658591e-01,
)


def _go_log(x: float) -> float:
    """Go's math.Log (FreeBSD's algorithm), step for step: the C library's log differs from
    it in the last digit for some inputs (log(7, 3)), and Terraform prints every digit."""
    if math.isnan(x) or x == math.inf:
        return x
    if x < 0:
        return math.nan
    if x == 0:
        return -math.inf
    f1, ki = math.frexp(x)
    if f1 < math.sqrt(2) / 2:
        f1 *= 2
        ki -= 1
    f = f1 - 1
    k = float(ki)
    l1, l2, l3, l4, l5, l6, l7 = _LOG_TERMS
    s = f / (2 + f)
    s2 = s * s
    s4 = s2 * s2
    t1 = s2 * (l1 + s4 * (l3 + s4 * (l5 + s4 * l7)))
    t2 = s4 * (l2 + s4 * (l4 + s4 * l6))
    r = t1 + t2
    hfsq = 0.5 * f * f
    return k * _LN2_HI - ((hfsq - (s * (hfsq + r) + k * _LN2_LO)) - f)


def _float64(value: Any) -> float:
    """A number as Go's big.Float.Float64 gives it: the nearest double, infinite past 2^1024."""
    number = to_number(value)
    return float(number) if abs(number) < 2**1024 else math.copysign(math.inf, number)


@_register("log")
def log(number: Any, base: Any) -> int | float:
    """cty's log: math.Log(number) / math.Log(base) in float64. Terraform's infinite results
    (log(0, 10), log(10, 1)) are errors here, as 1 / 0 is: no attribute takes infinity."""
    numerator, denominator = _go_log(_float64(number)), _go_log(_float64(base))
    if not (math.isfinite(numerator) and math.isfinite(denominator)) or denominator == 0:
        raise FunctionError("the logarithm is not a finite number")
    return numbers.from_float(numerator / denominator)


@_register("parseint")
def parseint(text: Any, base: Any) -> int:
    radix = to_int(base)
    if not 2 <= radix <= 62:
        raise FunctionError("base must be between 2 and 62")
    try:
        return int(to_string(text), radix)
    except ValueError:
        raise FunctionError(f"cannot parse {text!r} as a base {radix} integer") from None


# --- strings ---------------------------------------------------------------------------------


@_register("join")
def join(separator: Any, *lists: Any) -> str:
    if not lists:
        raise FunctionError("join() needs at least one list")
    sep = to_string(separator)
    texts = [to_string(v) for items in lists for v in _list(items)]
    _check_text(sum(map(len, texts)) + len(sep) * max(0, len(texts) - 1))
    return sep.join(texts)


@_register("split")
def split(separator: Any, text: Any) -> list[str]:
    sep, value = to_string(separator), to_string(text)
    if sep == "":
        return list(value)
    return value.split(sep)


@_register("lower")
def lower(text: Any) -> str:
    return "".join(_simple_lower(char) for char in to_string(text))


@_register("upper")
def upper(text: Any) -> str:
    return "".join(_simple_upper(char) for char in to_string(text))


# Go maps case rune by rune with Unicode's simple mappings; Python's str methods use the full
# ones (ß to SS). Where Python's mapping is longer than one character, Go's is the one below,
# or the character itself (upper("ß") is "ß" in Terraform).
_SIMPLE_LOWER = {"\u0130": "i"}  # İ: the one letter whose full lower case is longer


def _simple_lower(char: str) -> str:
    mapped = char.lower()
    return mapped if len(mapped) == 1 else _SIMPLE_LOWER.get(char, char)


def _simple_upper(char: str) -> str:
    """The Greek letters with ypogegrammeni (ᾳ) upper-case to their title-case letter (ᾼ) in Go,
    where Python writes two (capital alpha and iota); ß, ŉ, ﬀ... have no one-letter upper case and stay."""
    mapped = char.upper()
    if len(mapped) == 1:
        return mapped
    titled = char.title()
    return titled if len(titled) == 1 else char


def _simple_title(char: str) -> str:
    """Go's unicode.ToTitle: the title-case letter (ǆ to ǅ), or the letter itself."""
    mapped = char.title()
    return mapped if len(mapped) == 1 else char


def _title_separator(char: str) -> bool:
    """Go's strings.Title separator rule: ASCII letters, digits and _ are not separators, other
    ASCII is; beyond ASCII, letters and decimal digits are not, and only spaces are."""
    if char.isascii():
        return not (char.isalnum() or char == "_")
    category = unicodedata.category(char)
    if category.startswith("L") or category == "Nd":
        return False
    return char.isspace()


def _graphemes(text: str) -> list[str]:
    """User-perceived characters (Unicode extended grapheme clusters), which Terraform's
    length, strrev and substr count: "e" plus a combining accent is one."""
    clusters: list[str] = graphemes.findall(r"\X", text)
    return clusters


@_register("title")
def title(text: Any) -> str:
    """Go's strings.Title (Terraform's): title-case each letter after a separator, leave the rest."""
    result: list[str] = []
    previous = " "
    for char in to_string(text):
        result.append(_simple_title(char) if _title_separator(previous) else char)
        previous = char
    return "".join(result)


@_register("strrev")
def strrev(text: Any) -> str:
    return "".join(reversed(_graphemes(to_string(text))))


@_register("substr")
def substr(text: Any, offset: Any, length_: Any) -> str:
    value = _graphemes(to_string(text))
    start, count = to_int(offset), to_int(length_)
    if start < 0:
        start = max(0, start + len(value))  # Terraform clamps: substr("abc", -5, 1) is "a"
    # any negative length means "to the end" in Terraform (substr("abc", 0, -2) is "abc")
    return "".join(value[start:] if count < 0 else value[start : start + count])


@_register("trimspace")
def trimspace(text: Any) -> str:
    return to_string(text).strip()


@_register("trim")
def trim(text: Any, cutset: Any) -> str:
    return to_string(text).strip(to_string(cutset))


@_register("trimprefix")
def trimprefix(text: Any, prefix: Any) -> str:
    return to_string(text).removeprefix(to_string(prefix))


@_register("trimsuffix")
def trimsuffix(text: Any, suffix: Any) -> str:
    return to_string(text).removesuffix(to_string(suffix))


@_register("chomp")
def chomp(text: Any) -> str:
    return re.sub(r"(\r\n|\n|\r)+\Z", "", to_string(text))


@_register("startswith")
def startswith(text: Any, prefix: Any) -> bool:
    return to_string(text).startswith(to_string(prefix))


@_register("endswith")
def endswith(text: Any, suffix: Any) -> bool:
    return to_string(text).endswith(to_string(suffix))


@_register("strcontains")
def strcontains(text: Any, part: Any) -> bool:
    return to_string(part) in to_string(text)


@_register("replace")
def replace(text: Any, search: Any, replacement: Any) -> str:
    value, pattern, substitute = to_string(text), to_string(search), to_string(replacement)
    limits.charge_size(len(value) + len(pattern))
    if len(pattern) > 1 and pattern.startswith("/") and pattern.endswith("/"):
        return _replace_all(_compile(pattern[1:-1]), value, substitute)
    occurrences = len(value) + 1 if pattern == "" else value.count(pattern)
    _check_text(len(value) + occurrences * max(0, len(substitute) - len(pattern)))
    return value.replace(pattern, substitute)


def _replace_all(compiled: Any, value: str, template: str) -> str:
    """Go's Regexp.ReplaceAllString (Terraform's), which differs from Python's ``sub`` on empty
    matches: no replacement for an empty match right after a previous match."""
    encoded = value.encode()
    out: list[str] = []
    produced = 0
    last_end = 0
    position = 0
    while position <= len(encoded):
        match = _search(compiled, encoded, position)
        if match is None:
            break
        start, end = match.span()
        kept = encoded[last_end:start].decode()
        out.append(kept)
        if end > last_end or start == 0:
            expanded = _expand(match, compiled, template)
            out.append(expanded)
            produced += len(expanded) + len(kept)
            _check_text(produced)
            limits.charge_size(len(expanded))
        last_end = end
        position = _next_character(encoded, position) if position >= end else end
    out.append(encoded[last_end:].decode())
    return "".join(out)


def _matches(compiled: Any, encoded: bytes) -> Iterable[Any]:
    """Go's Regexp.FindAll order: an empty match right after a previous match is skipped.

    The search runs over the text's UTF-8 bytes, converted once by the caller: given a ``str``,
    google-re2's wrapper converts it whole (and counts its characters up to the position) at
    every search, which made a call over many matches quadratic (a million characters: minutes)."""
    position, previous_end = 0, -1
    while position <= len(encoded):
        match = _search(compiled, encoded, position)
        if match is None:
            return
        start, end = match.span()
        accept = not (end == start and start == previous_end)
        position = end if end > start else _next_character(encoded, end)
        previous_end = end
        if accept:
            yield match


def _search(compiled: Any, encoded: bytes, position: int) -> Any:
    """The first match at or after ``position`` that starts between two characters, as Go's
    regexp finds it. RE2 searches bytes, and an empty-width assertion (``\\B``) holds between the
    bytes of one character too, where Go, stepping a character at a time, never looks.

    One evaluation step a search: a call finding 100,000 matches (~5 us each) was charged as
    the length of its text only, so a table's budget bought ~15 s of them and a target's
    more than ``parse.max_seconds``."""
    while True:
        limits.charge()
        match = compiled.search(encoded, position)
        if match is None or match.start() >= len(encoded) or not 0x80 <= encoded[match.start()] < 0xC0:
            return match
        position = match.start() + 1


def _next_character(encoded: bytes, position: int) -> int:
    """The offset after the UTF-8 character at ``position`` (one past the end at the end): an
    empty match moves the search on by one character, as Go's does."""
    if position >= len(encoded):
        return position + 1
    lead = encoded[position]
    return position + (1 if lead < 0xC0 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4)


def _decoded(found: bytes | None) -> str | None:
    """A group of a match over bytes, as text (None for a group that did not take part)."""
    return None if found is None else found.decode()


def _group_name_length(text: str) -> int:
    """How many leading characters of ``text`` Go's Regexp.Expand reads as a group name:
    letters (Unicode L*), decimal digits (Nd) and ``_``. Not Python's ``\\w``, which also takes
    ``²`` (No) and other alphanumerics Go stops at."""
    length = 0
    for character in text:
        category = unicodedata.category(character)
        if character != "_" and category[0] != "L" and category != "Nd":
            break
        length += 1
    return length


def _group_number(name: str) -> int | None:
    """Go's reading of a group name as a number: ASCII digits only, no leading zero, below
    10^9; else None (the name of a named group: ``$01`` and ``$٣`` name none)."""
    if not (name.isascii() and name.isdigit()) or (name[0] == "0" and len(name) > 1) or len(name) > 9:
        return None
    return int(name)


def _expand(match: Any, compiled: Any, template: str) -> str:
    """Go's Regexp.Expand (what Terraform's ``replace`` does with its template): ``$$`` is
    ``$``; ``$name`` / ``${name}`` is that group (by number or name; an unknown or unmatched
    group is ""); a ``$`` not followed by a name (``$-``, ``${x``) is a literal ``$``."""
    out: list[str] = []
    rest = template
    while True:
        before, dollar, rest = rest.partition("$")
        out.append(before)
        if not dollar:
            return "".join(out)
        if rest.startswith("$"):
            out.append("$")
            rest = rest[1:]
            continue
        brace = rest.startswith("{")
        body = rest[1:] if brace else rest
        length = _group_name_length(body)
        if length == 0 or (brace and body[length : length + 1] != "}"):
            out.append("$")  # malformed: the $ is text, and what follows is read as text
            continue
        name = body[:length]
        rest = body[length + 1 :] if brace else body[length:]
        number = _group_number(name)
        if number is not None:
            found = match.group(number) if number <= compiled.groups else None
        else:
            found = match.group(name) if name in compiled.groupindex else None
        out.append(_decoded(found) or "")


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


@functools.lru_cache(maxsize=256)
def _compile(pattern: str) -> Any:
    """A pattern compiled by RE2, the engine (and syntax) of Terraform's regex functions: matching
    takes linear time whatever the pattern, and what RE2 refuses (backreferences, lookaround)
    is an error here as in Terraform. ``\\C`` (one byte, which can split a character) is RE2's
    and not Go's: Terraform refuses it, and so does driftwatch."""
    if _matches_one_byte(pattern):
        raise FunctionError(f"invalid regular expression {pattern[:80]!r}: invalid escape sequence: \\C")
    try:
        compiled = re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as error:
        raw = error.args[0] if error.args else ""
        detail = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
        raise FunctionError(f"invalid regular expression {pattern[:80]!r}: {detail}") from None
    return compiled


def _matches_one_byte(pattern: str) -> bool:
    """Whether the pattern has RE2's ``\\C`` escape (outside ``\\Q…\\E``, where it is text)."""
    position = 0
    while (position := pattern.find("\\", position)) >= 0:
        escaped = pattern[position + 1 : position + 2]
        if escaped == "C":
            return True
        if escaped == "Q":
            end = pattern.find("\\E", position + 2)
            if end < 0:
                return False
            position = end
        position += 2
    return False


def _match_value(match: Any, compiled: Any) -> Any:
    if compiled.groupindex:
        return {name: _decoded(match.group(name)) for name in compiled.groupindex}
    if compiled.groups:
        return [_decoded(found) for found in match.groups()]
    return _decoded(match.group(0))


def _capture_pattern(pattern: Any) -> Any:
    compiled = _compile(to_string(pattern))
    if compiled.groupindex and len(compiled.groupindex) != compiled.groups:
        raise FunctionError("invalid regexp pattern: cannot mix both named and unnamed capture groups")
    return compiled


@_register("regex")
def regex(pattern: Any, text: Any) -> Any:
    value = to_string(text)
    limits.charge_size(len(value))
    compiled = _capture_pattern(pattern)
    match = _search(compiled, value.encode(), 0)
    if match is None:
        raise FunctionError("pattern did not match any part of the given string")
    return _match_value(match, compiled)


@_register("regexall")
def regexall(pattern: Any, text: Any) -> list[Any]:
    value = to_string(text)
    limits.charge_size(len(value))
    compiled = _capture_pattern(pattern)
    result: list[Any] = []
    for match in _matches(compiled, value.encode()):
        result.append(_match_value(match, compiled))
        _check_size(result)
    return result


# --- format ----------------------------------------------------------------------------------

_VERB = re.compile(r"%(?:\[(\d+)\])?([-+# 0]*)(\d+)?(?:\.(\d*))?(?:\[(\d+)\])?([a-zA-Z%])?")


@_register("format")
def format_(spec: Any, *arguments: Any) -> str:
    template = to_string(spec)
    result: list[str] = []
    size = 0
    position = 0
    used = 0
    cursor = 0

    def emit(text: str) -> None:
        nonlocal size
        size += len(text)
        _check_text(size)  # each verb is at most MAX_FORMAT_WIDTH wide, but a spec has many
        result.append(text)

    for verb in _VERB.finditer(template):
        emit(template[cursor : verb.start()])
        cursor = verb.end()
        explicit = verb.group(1) or verb.group(5)
        flags, width, precision, letter = verb.group(2), verb.group(3), verb.group(4), verb.group(6)
        if letter is None:
            raise FunctionError("unterminated format verb at end of string")
        if letter == "%":
            emit("%")
            continue
        if explicit is not None:
            position = int(explicit) - 1
        if position < 0 or position >= len(arguments):
            raise FunctionError(
                f"not enough arguments for format string (verb %{letter} needs argument {position + 1})"
            )
        emit(_format_one(arguments[position], flags, width, precision, letter))
        position += 1
        used = max(used, position)
    emit(template[cursor:])
    if used < len(arguments) and not any(m.group(1) or m.group(5) for m in _VERB.finditer(template)):
        raise FunctionError(f"too many arguments; only {used} used by format string")
    return "".join(result)


def _format_one(value: Any, flags: str, width: str | None, precision: str | None, letter: str) -> str:
    size = int(width) if width else 0
    digits = int(precision) if precision else None
    if size > MAX_FORMAT_WIDTH or (digits is not None and digits > MAX_FORMAT_WIDTH):
        raise FunctionLimit("format width or precision is too large")
    if letter == "v":
        if "#" not in flags and is_number(value):
            text = numbers.format_g(value)  # cty: Text('g', -1), the precision ignored
            return _pad(text, flags, size)
        text = (
            _json(value) if "#" in flags or is_list(value) or isinstance(value, Mapping) else _default(value)
        )
    elif letter == "s":
        text = to_string(value)
        if digits is not None:
            text = text[:digits]
    elif letter == "q":
        text = json.dumps(to_string(value), ensure_ascii=False)
    elif letter == "t":
        text = "true" if to_bool(value) else "false"
    elif letter in "dboxX":
        return _format_int(to_int(value), flags, size, letter)
    elif letter in "fF":
        return _format_float(_exact_decimal(to_number(value)), flags, size, digits, letter)
    elif letter in "gG" and digits is None:
        return _go_float_flags(numbers.format_g(to_number(value), letter == "G"), flags, size)
    elif letter in "eEgG":
        number = to_number(value)
        as_float = float(number) if abs(number) < 2**1024 else math.inf  # int: float() raises
        if math.isfinite(as_float) and (as_float != 0 or number == 0):
            return _format_float(as_float, flags, size, digits, letter)
        # Beyond a float's range (1e400, 1e-400), Terraform formats the exact number; Decimal does
        # that for %e (its exponent has 3+ digits there, as Go's). %g's shortest form is not done.
        if letter in "gG":
            raise FunctionError(f"%{letter} of a number beyond a float's range is not evaluated here")
        exact = _exact_decimal(number)
        return _format_float(exact, flags, size, 6 if digits is None else digits, letter)
    else:
        raise FunctionError(f"unsupported format verb %{letter}")
    return text.ljust(size) if "-" in flags else text.rjust(size)


def _pad(text: str, flags: str, size: int) -> str:
    """cty's formatPadWidth: to the width with spaces, or zeros with ``0`` (before any sign),
    on the right with ``-``."""
    pad = "0" if "0" in flags else " "
    missing = size - len(text)
    if missing <= 0:
        return text
    return text + pad * missing if "-" in flags else pad * missing + text


def _go_float_flags(text: str, flags: str, size: int) -> str:
    """big.Float's Format of Go's text: the sign (``+`` and space flags), then zeros after the
    sign with ``0``, or spaces (on the right with ``-``) to the width."""
    sign = "-" if text.startswith("-") else "+" if "+" in flags else " " if " " in flags else ""
    body = text.removeprefix("-")
    missing = size - len(sign) - len(body)
    if missing <= 0:
        return sign + body
    if "-" in flags:
        return sign + body + " " * missing
    if "0" in flags:
        return sign + "0" * missing + body
    return " " * missing + sign + body


def _exact_decimal(value: int | float) -> Decimal:
    """The exact decimal value of a number (its denominator is a power of two, so it ends)."""
    fraction = numbers.exact(value)
    twos = fraction.denominator.bit_length() - 1
    scaled = numbers.decimal(fraction.numerator * 5**twos)
    return scaled.scaleb(-twos, Context(prec=scaled.adjusted() + 2))  # its digits, and one more


def _format_float(number: float | Decimal, flags: str, size: int, digits: int | None, letter: str) -> str:
    sign = "+" if "+" in flags else " " if " " in flags else "-"
    align = "<" if "-" in flags else ""
    zero = "0" if "0" in flags and not align else ""
    width = str(size) if size else ""
    if letter in "gG" and digits is None:
        # Go's %g without a precision uses the shortest representation, as Python's repr does.
        return format(number, f"{align}{sign}{zero}{width}")
    if digits is None and letter in "fF":
        digits = 6  # Go's default, which Python's format(Decimal) does not apply
    precision = f".{digits}" if digits is not None else ""
    return format(number, f"{align}{sign}{zero}{width}{precision}{'f' if letter == 'F' else letter}")


def _format_int(number: int, flags: str, size: int, letter: str) -> str:
    sign = "+" if "+" in flags else " " if " " in flags else "-"
    code = {"d": "d", "b": "b", "o": "o", "x": "x", "X": "X"}[letter]
    value: int | Decimal = number
    if code == "d" and number.bit_length() > 64:
        # str(int) refuses over 4,300 digits; a number in range has up to 4,933 (numbers.digits)
        value, code = Decimal(number), "f"
    width = str(size) if size else ""  # Decimal's format refuses a width of 0
    if "-" in flags:
        return format(value, f"<{sign}{width}{code}")
    if "0" in flags:
        return format(value, f"{sign}0{width}{code}")
    return format(value, f">{sign}{width}{code}")


def _default(value: Any) -> str:
    if value is None:
        return "null"
    return to_string(value)


@_register("formatlist")
def formatlist(spec: Any, *arguments: Any) -> list[str]:
    lengths = {len(a) for a in arguments if is_list(a)}
    if len(lengths) > 1:
        raise FunctionError("all list arguments must have the same length")
    count = lengths.pop() if lengths else 1
    result: list[str] = []
    size = 0
    for i in range(count):
        result.append(format_(spec, *[a[i] if is_list(a) else a for a in arguments]))
        size += len(result[-1])
        _check_text(size)
    return result


# --- type conversion -------------------------------------------------------------------------


@_register("tostring")
def tostring(value: Any) -> str | None:
    return None if value is None else to_string(value)


@_register("tonumber")
def tonumber(value: Any) -> int | float | None:
    return None if value is None else to_number(value)


@_register("tobool")
def tobool(value: Any) -> bool | None:
    return None if value is None else to_bool(value)


@_register("sensitive", unknown="nested")
def sensitive(value: Any) -> Any:
    """Sensitivity only hides values in Terraform's output; the value itself is unchanged."""
    return value


FUNCTIONS["nonsensitive"] = sensitive
UNKNOWN_POLICY["nonsensitive"] = "nested"


# --- encoding --------------------------------------------------------------------------------


def _json(value: Any) -> str:
    """jsonencode's exact output: compact, keys sorted, and <, >, & escaped like Go's encoder."""

    def convert(item: Any) -> Any:
        if isinstance(item, Mapping):
            return {str(k): convert(item[k]) for k in item}
        if is_list(item):
            return [convert(v) for v in item]
        if isinstance(item, numbers.Num) or (type(item) is int and item.bit_length() > numbers.PRECISION):
            # json cannot print these as Terraform does; a placeholder takes the exact text.
            exact_texts.append(numbers.format_number(item))
            return f"{marker}{len(exact_texts) - 1}"
        if isinstance(item, float):
            return normalize_number(item)
        return item

    marker, exact_texts = f"\x00{uuid.uuid4().hex}:", list[str]()
    text = json.dumps(convert(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if exact_texts:
        quoted = re.escape(json.dumps(marker)[:-1])
        text = re.sub(quoted + r'(\d+)"', lambda m: exact_texts[int(m.group(1))], text)
    for char, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escaped)
    return text


@_register("jsonencode")
def jsonencode(value: Any) -> str:
    return _json(value)


def nfc(value: Any) -> Any:
    """A string as cty makes every string, NFC: ``"e\u0301"`` built at run time (decoded,
    joined, interpolated) is ``"\u00e9"`` in Terraform. Lists and maps (a decoder's, ``split``'s)
    have their strings normalized, not their keys."""
    if isinstance(value, str):
        if value.isascii() or unicodedata.is_normalized("NFC", value):
            return value
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [nfc(v) for v in value]
    if isinstance(value, dict):
        return {k: nfc(v) for k, v in value.items()}
    return value


# Functions whose list or map results hold strings they made (the others return strings they
# were given, already NFC): their results are normalized whole.
MAKES_STRINGS_IN_COLLECTIONS = frozenset(
    {"jsondecode", "csvdecode", "split", "regex", "regexall", "formatlist"}
)


def _from_json(value: Any) -> Any:
    if isinstance(value, float):
        return normalize_number(value)
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, dict):
        for key in value:
            if nfc(key) != key:  # cty's object type is keyed by the NFC name: Terraform's error
                raise FunctionError(f'unsupported attribute "{key}"')
        return {k: _from_json(v) for k, v in value.items()}
    return value


@_register("jsondecode")
def jsondecode(text: Any) -> Any:
    try:
        decoded = json.loads(
            to_string(text),
            parse_float=numbers.parse,
            parse_int=numbers.parse,
            object_pairs_hook=lambda pairs: unique_keys(pairs, "property"),
        )
        return _from_json(decoded)
    except ValueError as error:
        raise FunctionError(f"invalid JSON: {error}") from None
    except RecursionError:  # Terraform decodes any depth
        raise FunctionLimit("the JSON is nested too deeply for driftwatch to decode") from None


@_register("base64encode")
def base64encode(text: Any) -> str:
    return base64.b64encode(to_string(text).encode()).decode()


@_register("base64decode")
def base64decode(text: Any) -> str:
    try:
        return base64.b64decode(to_string(text), validate=True).decode()
    except (ValueError, UnicodeDecodeError) as error:
        raise FunctionError(f"invalid base64 or not UTF-8: {error}") from None


def _hash(name: str) -> Callable[[Any], str]:
    def digest(text: Any) -> str:
        return hashlib.new(name, to_string(text).encode()).hexdigest()

    return digest


for _name in ("md5", "sha1", "sha256", "sha512"):
    FUNCTIONS[_name] = _hash(_name)


# --- not evaluated ---------------------------------------------------------------------------


def _unevaluated(reason: str) -> Callable[..., Unknown]:
    def unknown(*_arguments: Any) -> Unknown:
        return Unknown(reason)

    return unknown


_NOT_EVALUATED = {
    # Read by driftwatch.terraform.file_functions when the Scope has a module's file reader (every
    # expression of a scanned module); here, what they are without one (a -var value).
    **dict.fromkeys(
        (
            "file",
            "filebase64",
            "fileexists",
            "filemd5",
            "filesha1",
            "filesha256",
            "filesha512",
            "filebase64sha256",
            "filebase64sha512",
            "templatefile",
            "fileset",
        ),
        "reads files, which driftwatch does only in the modules of the scanned repository",
    ),
    **dict.fromkeys(("timestamp", "plantimestamp"), "depends on the time of the run"),
    **dict.fromkeys(("uuid", "bcrypt"), "returns a new random value on every run"),
}
# Pure in Terraform, but about something driftwatch does not model: Unknown with the reason.
_NOT_MODELLED = {
    "issensitive": "driftwatch does not track which values are sensitive",
    "ephemeralasnull": "driftwatch does not track which values are ephemeral",
    "rsadecrypt": "driftwatch does not decrypt",
    "templatestring": "driftwatch does not evaluate templates held in values",
}
for _name, _why in _NOT_MODELLED.items():
    FUNCTIONS[_name] = _unevaluated(f"{_name}(): {_why}")
    UNKNOWN_POLICY[_name] = "any"


def _removed(name: str, replacement: str) -> Callable[..., Any]:
    def removed(*_arguments: Any) -> Any:
        raise FunctionError(
            f'the "{name}" function was deprecated in Terraform v0.12 and is no longer available; '
            f"use {replacement} instead"
        )

    return removed


FUNCTIONS["list"] = _removed("list", "tolist([ ... ]) syntax to write a literal list")
FUNCTIONS["map"] = _removed("map", "tomap({ ... }) syntax to write a literal map")

# Values that depend on where or when Terraform ran: never guessed, always Unknown with the
# reason. tests/test_run_dependent.py lists them all (with path.cwd and abspath of a relative path).
RUN_DEPENDENT = frozenset((*_NOT_EVALUATED, "abspath", "pathexpand"))
for _name, _why in _NOT_EVALUATED.items():
    FUNCTIONS[_name] = _unevaluated(f"{_name}() {_why}")
    UNKNOWN_POLICY[_name] = "any"


@_register("abspath")
def abspath(path: Any) -> Any:
    """An absolute path is its own (cleaned) value; a relative one depends on the directory
    Terraform ran in, so it is Unknown."""
    text = to_string(path)
    if text.startswith("/"):
        return posixpath.normpath(re.sub("/+", "/", text))
    return Unknown(f"abspath({text!r}) depends on the directory Terraform ran in")


@_register("pathexpand")
def pathexpand(path: Any) -> Any:
    """``~`` is the home directory of whoever ran Terraform: Unknown. Other paths are unchanged."""
    text = to_string(path)
    if text == "~" or text.startswith("~/"):
        return Unknown(f"pathexpand({text!r}) depends on the home directory of whoever ran Terraform")
    return text


_UUID_NAMESPACES = {
    "dns": uuid.NAMESPACE_DNS,
    "url": uuid.NAMESPACE_URL,
    "oid": uuid.NAMESPACE_OID,
    "x500": uuid.NAMESPACE_X500,
}


@_register("uuidv5")
def uuidv5(namespace: Any, name: Any) -> str:
    space = to_string(namespace)
    try:
        known = _UUID_NAMESPACES.get(space) or uuid.UUID(space)
    except ValueError:
        raise FunctionError(f"uuidv5: {space!r} is not a namespace name or a UUID") from None
    return str(uuid.uuid5(known, to_string(name)))


# Functions whose unknown result Terraform refines as "not null" (``length(x) != null`` is true
# while x is unknown), each checked with `terraform console` 1.11.4 on an unknown resource
# attribute (tests/test_evaluate.py::test_a_function_result_terraform_knows_is_not_null_compares_with_null).
# Not refined there, so left out: format, lookup, try, tostring, tonumber, element, one,
# flatten, strcontains, jsondecode, can, and string templates.
REFINED_NOT_NULL = frozenset(
    {
        "abs", "base64encode", "chomp", "coalesce", "endswith", "formatlist", "join",
        "jsonencode", "length", "lower", "max", "md5", "regex", "replace", "sha256", "split",
        "startswith", "substr", "title", "trim", "trimprefix", "trimspace", "trimsuffix", "upper",
    }
)  # fmt: skip


# Functions that return their argument as it is, refinements included.
_KEEPS_REFINEMENT = frozenset({"sensitive", "nonsensitive"})


def call(name: str, arguments: list[Any]) -> Any:
    """Call a registered function, applying its Unknown policy first.

    Raises FunctionError for Terraform errors; an unregistered name is Unknown (not an error:
    the configuration is valid, driftwatch just cannot evaluate it).
    """
    function = FUNCTIONS.get(name)
    if function is None:
        return Unknown(f"function {name}() is not evaluated by driftwatch")
    policy = UNKNOWN_POLICY.get(name, "none")
    if policy != "any":
        unknown = next((a for a in arguments if isinstance(a, Unknown)), None)
        if unknown is None and name == "lookup" and _listed_attribute(arguments):
            return arguments[0][arguments[1]]  # one attribute of it, as each.value.name is
        if unknown is None:  # a resource instance as a whole: its unlisted attributes count too
            unknown = next((a.unlisted() for a in arguments if isinstance(a, PartlyListed)), None)
        if unknown is None and policy == "none":
            unknown = first_unknown(arguments)
        if unknown is not None:
            return _refined(name, unknown)
    try:
        _signature(function).bind(*arguments)
    except TypeError:
        raise FunctionError(f"wrong number of arguments ({len(arguments)})") from None
    try:
        result = function(*arguments)
    except _UnknownResult as raised:
        result = raised.unknown
    return _refined(name, result) if isinstance(result, Unknown) else result


def _refined(name: str, unknown: Unknown) -> Unknown:
    """A function's unknown result, refined as Terraform refines it: not null for the functions
    in REFINED_NOT_NULL, as its argument for ``sensitive``/``nonsensitive``, and otherwise not
    refined at all -- ``lookup(m, upper(x), null)`` returns the key's unknown but may be null."""
    if name in REFINED_NOT_NULL:
        return unknown if unknown.not_null else dataclasses.replace(unknown, not_null=True)
    if name in _KEEPS_REFINEMENT or not unknown.not_null:
        return unknown
    return dataclasses.replace(unknown, not_null=False)


def _listed_attribute(arguments: Sequence[Any]) -> bool:
    """``lookup(each.value, "name", ...)`` over a resource instance (or a data source's result)
    for an attribute it lists: that attribute, known, whatever the default. Any other key
    (``"arn"``) is known only after apply, and the default cannot stand for it."""
    return (
        len(arguments) in (2, 3)
        and isinstance(arguments[0], PartlyListed)
        and isinstance(arguments[0], Mapping)
        and isinstance(arguments[1], str)
        and arguments[1] in list(arguments[0].keys())
    )


@functools.cache
def _signature(function: Callable[..., Any]) -> inspect.Signature:
    return inspect.signature(function)


# The functions of the other modules register themselves when imported; importing them here
# makes FUNCTIONS complete for whoever imports this module.
from driftwatch.terraform import aws_functions, cidr_functions, text_functions, time_functions  # noqa: E402,F401
