"""cty numbers: 512-bit precision, no overflow. Expected texts are terraform console's (v1.11)."""

from __future__ import annotations

import pickle

import pytest

from driftwatch.terraform import limits, numbers
from driftwatch.terraform.evaluate import Scope, evaluate_text

BIG = "1" + "0" * 399  # a 400-digit integer
# 1e400 rounded to 512 bits, as "%.3f" prints it exactly (the digits after 1 and 155 zeros)
TAIL_1E400 = (
    "9961909392714510369848888590255962654638822046744815890129033971224177716283245100714073"
    "4114254934770906394233606070503901917153436635415036944339291818644996386419940467994013"
    "482382498698992627077917092011309750377767778231244955945636905091072.000"
)
SCOPE = Scope({"local": {"big": int(BIG)}}, "n.tf")
THIRD = "3." + "3" * 153 + "2"  # 10 / 3 as Terraform prints it


def ev(text: str) -> object:
    return evaluate_text(text, SCOPE)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("tostring(10 / 3)", THIRD),
        ("tostring(0.1)", "0.1"),
        ("tostring(0.1 + 0.2)", "0.3"),
        ("tostring(1e400)", "1" + "0" * 400),
        ("tostring(1e400 + 0.5)", "1" + "0" * 400),
        ("tostring(local.big + 0.5)", BIG),  # 0.5 is below the 512-bit mantissa
        ("tostring(123456789012345678901234567890123456789 * 3)", "370370367037037036703703703670370370367"),
        ("tostring(100000000000000000000000000000000001 - 1)", "100000000000000000000000000000000000"),
        ("tostring(pow(2, 0.5))", "1.4142135623730951"),
        ("tostring(-pow(2, 0.5))", "-1.4142135623730951"),
        ("tostring(2e-5)", "0.00002"),
        ("tostring(1 / 3 * 3)", "1"),
        ("tostring(7.5 % 2)", "1.5"),
        ("tostring(-7 % 3)", "-1"),
        ("tostring(abs(-1e400))", "1" + "0" * 400),
        (
            'tostring(parseint("ffffffffffffffffffffffffffffffff", 16))',
            "340282366920938463463374607431768211455",
        ),
        ('format("%.3f", 1e400)', "1" + "0" * 155 + TAIL_1E400),
        ('format("%f", 1 / 3)', "0.333333"),
        ('format("%d", 1e30)', "1" + "0" * 30),
        ('jsonencode([0.1, 10 / 3, jsondecode("0.1"), 1e400 > 1e399])', f"[0.1,{THIRD},0.1,true]"),
        ("0.1 + 0.2 == 0.3", True),
        ("0.1 == 0.10000000000000001", False),
    ],
)
def test_terraform_numbers(expression: str, expected: object) -> None:
    assert ev(expression) == expected


def test_huge_integer_arithmetic_is_a_value_never_an_overflow() -> None:
    seventh = ev("local.big / 7")
    assert isinstance(seventh, int)  # integral at 512 bits of precision, as in Terraform
    assert numbers.format_number(seventh).startswith("142857142857")
    assert len(numbers.format_number(seventh)) == 399
    assert isinstance(ev("local.big / 7 + 0.5"), int)
    assert ev("floor(local.big / 7)") == ev("local.big / 7")  # integral at this magnitude
    assert ev("tostring(local.big * 3)") == "3" + "0" * 399  # 512 bits, printed shortest


def test_growth_beyond_the_magnitude_limit_is_an_error_not_a_hang() -> None:
    squared = "1e4000 * 1e4000"
    result = ev(squared)
    assert "too large" in str(getattr(result, "reason", ""))


def test_a_literal_of_thousands_of_digits_is_a_number_error_not_a_value_error() -> None:
    """Python's int() refuses more than 4,300 digits with a bare ValueError; a literal that long
    is past driftwatch's range in any case, and said so like every other number out of it."""
    with pytest.raises(numbers.NumberError, match="too large"):
        numbers.parse("1" * 5000)
    assert 10**999 < numbers.parse("9" * 1000) <= 10**1000  # 1,000 digits are still a number


def test_a_num_equals_the_nearest_double_and_pickles() -> None:
    value = numbers.parse("0.1")
    assert isinstance(value, numbers.Num)
    assert value == 0.1 and hash(value) == hash(0.1)  # an AWS 0.1 is not drift
    assert value != numbers.parse("0.10000000000000001")
    assert pickle.loads(pickle.dumps(value)).exact == value.exact


@pytest.mark.parametrize(
    "expression",
    [
        "[for j in range(200) : tostring(1e4900 + j)]",
        "[for j in range(200) : jsonencode(1e4900 + j)]",
        "[for j in range(60) : tostring(1e-4000 * (j + 1))]",
    ],
    ids=["tostring", "jsonencode", "tiny"],
)
def test_printing_huge_numbers_spends_the_budget_as_it_costs(expression: str) -> None:
    """Printing a number of thousands of digits takes time quadratic in its length (1e4900:
    ~0.5 ms, 1e-4000: ~1.5 ms), and was charged as a few evaluation steps (~4 us each): a
    table's budget bought ~15 s of printing and a target's ~150 s, so a handful of such tables
    passed ``parse.max_seconds`` and the whole target was lost, not the tables. Each printing
    is charged as it costs now: a fifth of a table's budget stops a fifth of a loop it used to
    finish within the whole (charged 95 steps a number: 19,000 here; now ~430). Counted, not
    timed."""
    with limits.budget(limits.TABLE_STEPS // 5, "table"), pytest.raises(limits.BudgetExceeded):
        ev(expression)


def test_a_literal_is_parsed_once_however_often_it_is_evaluated() -> None:
    """``Fraction("1e4900")`` costs ~90 us, twenty steps' worth, and was redone at every
    evaluation of the literal: a loop over ``1e4900 + j`` spent a table's budget in 8 s."""
    numbers.parse.cache_clear()
    ev("[for j in range(500) : 1e4900 + j]")
    assert numbers.parse.cache_info().misses <= 2  # "1e4900" and "500"
