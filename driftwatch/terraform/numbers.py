"""Terraform's numbers (cty's): binary floating point with a 512-bit mantissa and no practical
exponent limit, printed as the shortest decimal that reads back as the same number.

Terraform parses ``0.1`` as the 512-bit float nearest to 0.1 and prints ``10 / 3`` with 155
significant digits (``3.33...332``); ``1e400`` is a number like any other and a 400-digit
integer divided by 7 is a value, never an overflow. Python's float (53 bits, 1e308 at most)
gets all of these wrong, so numbers here are:

* ``int`` for integral values (exact; rounded to 512 significant bits when longer, as cty
  rounds them), and
* :class:`Num`, a ``float`` subclass for the others: the float is the nearest double, for
  code outside the evaluator; ``exact`` is the value Terraform holds (a ``Fraction`` with a
  power-of-two denominator) and ``prec`` its precision in bits (512, or 53 for a value that
  Terraform computes with Go's float64, such as ``pow``).

Arithmetic is exact on ``Fraction`` and then rounded to nearest-even at the operands' larger
precision, which is what Go's ``big.Float`` does. Magnitudes are bounded (``MAX_BITS``): a
chain of locals squaring a number would otherwise grow without end; Terraform has no such
limit, driftwatch refuses such a number (an error, hence an Unknown naming the line).
"""

from __future__ import annotations

import functools
import math
import re
from decimal import Decimal
from fractions import Fraction
from typing import Any

from driftwatch.errors import DriftwatchError
from driftwatch.terraform import limits

PRECISION = 512  # bits of mantissa of a number Terraform parses or computes
FLOAT_PRECISION = 53  # a number from Go's float64 (pow, and the like)
MAX_BITS = 16_384  # magnitude limit, |x| < 2**16384 (~1e4932), and 2**-16384 for tiny values
# Characters of a literal: Python's int() parses at most 4,300 digits. A longer literal is past
# MAX_BITS unless it is mostly zeros after a point (0.000…1), which no configuration writes.
_MAX_DIGITS = 4_300
# A number as text, as Terraform converts a string to a number (ASCII digits only; no inf/nan).
NUMBER_TEXT = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?", re.ASCII)


class NumberError(DriftwatchError, ValueError):
    """A number beyond driftwatch's magnitude limit (MAX_BITS), or not a number at all."""


class NumberLimit(NumberError):
    """A number beyond driftwatch's magnitude limit (MAX_BITS), which Terraform's 512-bit
    floats hold: driftwatch's bound, not a Terraform error (functions.FunctionLimit)."""


class Num(float):
    """A non-integral Terraform number: a float (nearest double) carrying the exact value."""

    __slots__ = ("exact", "prec")
    exact: Fraction
    prec: int

    def __new__(cls, exact: Fraction, prec: int = PRECISION) -> Num:
        self = super().__new__(cls, _to_float(exact))
        self.exact = exact
        self.prec = prec
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (Num, (self.exact, self.prec))

    def __repr__(self) -> str:
        return f"Num({format_number(self)})"

    def __hash__(self) -> int:
        return float.__hash__(self)

    def __eq__(self, other: object) -> bool:
        """Exact against Terraform's numbers; against a plain float (an AWS value, a test's
        literal), as the nearest double, so that a declared 0.1 is never drift from AWS's 0.1."""
        if isinstance(other, Num) or (isinstance(other, int) and not isinstance(other, bool)):
            return exact(other) == self.exact
        if isinstance(other, float):
            return float(self) == other
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __lt__(self, other: float) -> bool:
        return self.exact < exact(other)

    def __le__(self, other: float) -> bool:
        return self.exact <= exact(other)

    def __gt__(self, other: float) -> bool:
        return self.exact > exact(other)

    def __ge__(self, other: float) -> bool:
        return self.exact >= exact(other)


def _to_float(value: Fraction) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def exact(value: int | float) -> Fraction:
    """The exact value of a number (a float is taken as the double it is)."""
    if isinstance(value, Num):
        return value.exact
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NumberError("number is out of range")
        return Fraction(value)
    return Fraction(value)


def precision(value: int | float) -> int:
    if isinstance(value, Num):
        return value.prec
    if isinstance(value, float):
        return FLOAT_PRECISION
    return PRECISION


def make(value: Fraction | int, prec: int = PRECISION) -> int | Num:
    """``value`` rounded to ``prec`` bits (nearest, ties to even): an int if integral."""
    if isinstance(value, int):
        return _round_int(value, prec)
    if value.denominator == 1:
        return _round_int(value.numerator, prec)
    numerator, denominator = abs(value.numerator), value.denominator
    shift = prec - (numerator.bit_length() - denominator.bit_length())
    mantissa, remainder, shift = _scaled(numerator, denominator, shift, prec)
    twice = 2 * remainder
    scale = denominator if shift >= 0 else denominator << -shift
    if twice > scale or (twice == scale and mantissa & 1):
        mantissa += 1
    if value < 0:
        mantissa = -mantissa
    if shift <= 0:
        return _bounded(mantissa << -shift)
    rounded = Fraction(mantissa, 1 << shift)
    if rounded.denominator == 1:
        return _bounded(rounded.numerator)
    if shift > MAX_BITS:
        raise NumberLimit("number is too close to zero for driftwatch (under 2^-16384)")
    return Num(rounded, prec)


def _scaled(numerator: int, denominator: int, shift: int, prec: int) -> tuple[int, int, int]:
    """Mantissa (``prec`` bits, truncated) and remainder of numerator/denominator * 2**shift."""
    while True:
        if shift >= 0:
            mantissa, remainder = divmod(numerator << shift, denominator)
        else:
            mantissa, remainder = divmod(numerator, denominator << -shift)
        bits = mantissa.bit_length()
        if bits > prec:
            shift -= bits - prec
        elif bits < prec:
            shift += prec - bits
        else:
            return mantissa, remainder, shift


def _round_int(value: int, prec: int) -> int:
    bits = value.bit_length()
    if bits <= prec:
        return value
    drop = bits - prec
    magnitude = abs(value)
    mantissa, remainder = magnitude >> drop, magnitude & ((1 << drop) - 1)
    half = 1 << (drop - 1)
    if remainder > half or (remainder == half and mantissa & 1):
        mantissa += 1
    return _bounded((mantissa << drop) * (-1 if value < 0 else 1))


def _bounded(value: int) -> int:
    if value.bit_length() > MAX_BITS:
        raise NumberLimit("number is too large for driftwatch (over 2^16384, about 1e4932)")
    return value


@functools.lru_cache(maxsize=4096)
def parse(text: str) -> int | Num:
    """A decimal literal (``5``, ``0.1``, ``1e400``) as Terraform parses it: rounded to 512 bits.
    The caller has checked the syntax.

    Remembered (the values are immutable): a literal is parsed again each time its expression
    is evaluated, and ``Fraction("1e4900")`` costs ~90 us, twenty times the evaluation step it
    is charged as, so a loop over ``1e4900 + k`` spent a table's budget in 8 s, and eight such
    tables a target's whole ``parse.max_seconds``."""
    if len(text) > _MAX_DIGITS:  # int() refuses it with a bare ValueError; past MAX_BITS anyway
        raise NumberLimit(f"number is too large for driftwatch ({len(text):,} characters)")
    if text.isascii() and text.lstrip("+-").isdigit():  # the common case, without Fraction's parser
        return _round_int(int(text), PRECISION)
    mantissa, _, exponent = text.lower().partition("e")
    if exponent and abs(int(exponent)) > MAX_BITS // 3 + len(mantissa):
        raise NumberLimit("number is out of driftwatch's range (exponent over 5,000)")
    return make(Fraction(text))


def from_float(value: float) -> int | Num:
    """A Go float64 result (math.Pow and the like) as cty holds it: exact, 53-bit precision.

    An integral one of more than 53 bits stays a 53-bit ``Num``: Terraform prints it as the
    shortest decimal at that precision (``pow(2, 70)`` is ``1180591620717411300000``), while
    arithmetic on it is exact at 512 bits (``pow(2, 70) + 0`` is ``…303424``)."""
    if not math.isfinite(value):
        raise NumberError("number is out of range")
    if value.is_integer() and abs(value) < 2**FLOAT_PRECISION:
        return int(value)
    return Num(Fraction(value), FLOAT_PRECISION)


# --- arithmetic --------------------------------------------------------------------------------


def _result_precision(left: int | float, right: int | float) -> int:
    return max(precision(left), precision(right))


def add(left: int | float, right: int | float) -> int | Num:
    if type(left) is int and type(right) is int:
        return _round_int(left + right, PRECISION)
    return make(exact(left) + exact(right), _result_precision(left, right))


def subtract(left: int | float, right: int | float) -> int | Num:
    if type(left) is int and type(right) is int:
        return _round_int(left - right, PRECISION)
    return make(exact(left) - exact(right), _result_precision(left, right))


def multiply(left: int | float, right: int | float) -> int | Num:
    if type(left) is int and type(right) is int:
        if left.bit_length() + right.bit_length() > MAX_BITS + PRECISION:
            raise NumberLimit("number is too large for driftwatch (over 2^16384, about 1e4932)")
        return _round_int(left * right, PRECISION)
    product_bits = _magnitude_bits(left) + _magnitude_bits(right)
    if product_bits > MAX_BITS + PRECISION:
        raise NumberLimit("number is too large for driftwatch (over 2^16384, about 1e4932)")
    return make(exact(left) * exact(right), _result_precision(left, right))


def _magnitude_bits(value: int | float) -> int:
    fraction = exact(value)
    return fraction.numerator.bit_length() - fraction.denominator.bit_length()


def divide(left: int | float, right: int | float) -> int | Num:
    """Raises ZeroDivisionError for a zero divisor (Terraform yields infinity; see the docs)."""
    if type(left) is int and type(right) is int and right != 0 and left % right == 0:
        return _round_int(left // right, PRECISION)
    return make(exact(left) / exact(right), _result_precision(left, right))


def modulo(left: int | float, right: int | float) -> int | Num:
    """cty's modulo: the remainder of the quotient truncated toward zero (sign of the left)."""
    dividend, divisor = exact(left), exact(right)
    if divisor == 0:
        raise ZeroDivisionError("division by zero")
    quotient = math.trunc(dividend / divisor)
    return make(dividend - divisor * quotient, _result_precision(left, right))


def negate(value: int | float) -> int | Num:
    if type(value) is int:
        return -value
    if isinstance(value, Num):
        return Num(-value.exact, value.prec)  # exact, and big.Float's Neg keeps the precision
    return make(-exact(value), precision(value))


def compare(left: int | float, right: int | float) -> int:
    a, b = exact(left), exact(right)
    return (a > b) - (a < b)


# --- printing ----------------------------------------------------------------------------------


def format_number(value: int | float) -> str:
    """The shortest decimal that reads back as ``value`` at its precision, without an exponent
    (Go's ``big.Float.Text('f', -1)``, which Terraform uses to print and stringify numbers).
    An integer of no more bits than its precision is its digits; a larger one at 53 bits (a
    ``pow()`` result such as 2^70) is the shortest: ``1180591620717411300000``."""
    negative, digits, point = shortest_digits(value)
    return ("-" if negative else "") + _fixed(digits, point)


def format_g(value: int | float, upper: bool = False) -> str:
    """Go's ``big.Float.Text('g', -1)``: the shortest digits, with an exponent when it is under
    -4 or 6 and over (``1e+06``, ``1.180591620717411303424e+21``, ``0.0001``, ``1e-05``). What
    Terraform's ``format()`` gives for ``%v`` of a number and for ``%g`` without a precision."""
    negative, digits, point = shortest_digits(value)
    sign = "-" if negative else ""
    exponent = point - 1
    if digits and (exponent < -4 or exponent >= 6):
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        letter = "E" if upper else "e"
        return f"{sign}{mantissa}{letter}{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    return sign + _fixed(digits, point)


def shortest_digits(value: int | float) -> tuple[bool, str, int]:
    """(negative, digits, point): ``value`` is ±0.digits * 10^point, the digits (no trailing
    zeros) the shortest that read back as ``value`` at its precision (math/big's
    ``roundShortest``)."""
    prec = PRECISION if type(value) is int or isinstance(value, int) else precision(value)
    fraction = Fraction(value) if isinstance(value, int) else exact(value)
    if fraction.denominator == 1 and fraction.numerator.bit_length() <= prec:
        # every digit is needed below the precision's ulp; only trailing zeros go
        text = digits(abs(fraction.numerator)) if fraction.numerator else ""
        return fraction < 0, text.rstrip("0"), len(text)
    return _shortest(fraction, prec)


def _shortest(value: Fraction, prec: int) -> tuple[bool, str, int]:
    """Go's strconv-style shortest decimal (math/big's ``shortest``), as shortest_digits gives."""
    if value == 0:
        return False, "", 0
    negative = value < 0
    value = abs(value)
    numerator, denominator = value.numerator, value.denominator
    # value = mantissa * 2**exponent with mantissa odd: the trailing zero bits dropped at once
    # (one bit a turn was quadratic: 1e4900 has ~15,800 of them, 6 ms a number printed)
    zeros = (numerator & -numerator).bit_length() - 1
    exponent = zeros - (denominator.bit_length() - 1)
    mantissa = numerator >> zeros
    # The lowest bit of mant is half an ulp at `prec` bits.
    shift = prec + 1 - mantissa.bit_length()
    mant = mantissa << shift if shift >= 0 else mantissa >> -shift
    exponent -= shift
    digits, point = _decimal(mantissa, exponent + shift)
    lower, _ = _decimal(mant - 1, exponent)
    upper, _ = _decimal(mant + 1, exponent)
    inclusive = mant & 2 == 0
    shortest, point = _shorten(digits, point, lower, upper, inclusive)
    return negative, shortest, point


def digits(value: int) -> str:
    """``str(value)`` for any integer in range: Python's ``str(int)`` refuses more than 4,300
    digits (sys.int_info.str_digits_check_threshold, a guard for untrusted *parsing*), but a
    number under MAX_BITS has up to 4,933 digits and an exact fraction near 2^-16384 up to
    ~11,500 -- printing them is work bounded by MAX_BITS, so Decimal does it."""
    if -(10**18) < value < 10**18:
        return str(value)
    return str(decimal(value))


def decimal(value: int) -> Decimal:
    """``Decimal(value)``, its cost charged to the evaluation budget.

    The conversion takes time quadratic in the length: ~0.5 ms for 4,900 digits, ~1.5 ms for
    11,500, where an evaluation step is ~4 us. Charged as a few steps, printing such numbers
    in a loop spent a table's budget in ~15 s and a target's in ~150 s, past
    ``parse.max_seconds``: the whole target was lost instead of the table."""
    kilobits = value.bit_length() >> 10
    if kilobits > 1:
        limits.charge(kilobits * kilobits // 2)
    return Decimal(value)


def _decimal(mantissa: int, exponent: int) -> tuple[str, int]:
    """Exact decimal digits (no trailing zeros) and the point position: 0.digits * 10**point."""
    if mantissa == 0:
        return "", 0
    if exponent >= 0:
        text = digits(mantissa << exponent)
        point = len(text)
    else:
        text = digits(mantissa * 5**-exponent)
        point = len(text) + exponent
    stripped = text.rstrip("0")
    return stripped, point


def _shorten(digits: str, point: int, lower: str, upper: str, inclusive: bool) -> tuple[str, int]:
    """math/big's walk: digit by digit (by position, as Go does) until ``digits`` stands apart
    from both bounds, then round there."""
    for i, digit in enumerate(digits):
        low = lower[i] if i < len(lower) else "0"
        up = upper[i] if i < len(upper) else "0"
        okdown = low != digit or (inclusive and i + 1 == len(lower))
        okup = digit != up and (inclusive or int(digit) + 1 < int(up) or i + 1 < len(upper))
        if okdown and okup:
            return _round_half_even(digits, point, i + 1)
        if okdown:
            return _round_down(digits, point, i + 1)
        if okup:
            return _round_up(digits, point, i + 1)
    return digits, point


def _round_half_even(digits: str, point: int, n: int) -> tuple[str, int]:
    if n >= len(digits):
        return digits, point
    if digits[n] == "5" and n + 1 == len(digits):
        up = n > 0 and int(digits[n - 1]) % 2 == 1
    else:
        up = digits[n] >= "5"
    return _round_up(digits, point, n) if up else _round_down(digits, point, n)


def _round_down(digits: str, point: int, n: int) -> tuple[str, int]:
    return digits[:n].rstrip("0"), point


def _round_up(digits: str, point: int, n: int) -> tuple[str, int]:
    if n >= len(digits):
        return digits, point
    head = digits[:n].rstrip("9")
    if not head:
        return "1", point + 1
    return head[:-1] + str(int(head[-1]) + 1), point


def _fixed(digits: str, point: int) -> str:
    if not digits:
        return "0"
    if point <= 0:
        return "0." + "0" * -point + digits
    if point >= len(digits):
        return digits + "0" * (point - len(digits))
    return digits[:point] + "." + digits[point:]
