"""Type constraints: Terraform's conversions, including optional() object attributes."""

from typing import Any

import pytest

from driftwatch.spec import Unknown
from driftwatch.terraform.parse import body_items, file_blocks, parse_text
from driftwatch.terraform.types import TypeConversionError, convert, parse_type


def type_of(expression: str) -> Any:
    tree = parse_text(f'variable "v" {{\n  type = {expression}\n}}\n', "t.tf")
    attributes, _ = body_items(file_blocks_of(tree)[0].body)

    def literal(node: Any) -> Any:
        from driftwatch.terraform.evaluate import Scope, evaluate

        return evaluate(node, Scope({}))

    return parse_type(attributes["type"].expression, literal)


def file_blocks_of(tree: Any) -> Any:
    from driftwatch.terraform.parse import ParsedFile

    return file_blocks(ParsedFile(path=None, rel="t.tf", tree=tree))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("type_text", "value", "expected"),
    [
        ("string", 5, "5"),
        ("string", True, "true"),
        ("number", "5", 5),
        ("number", "1.5", 1.5),
        ("bool", "true", True),
        ("bool", "1", True),  # terraform console: a bool variable set to "1" is true
        ("bool", "0", False),
        ("list(number)", ["1", 2], [1, 2]),
        ("set(string)", ["b", "a", "b"], ["a", "b"]),
        ("map(string)", {"a": 1}, {"a": "1"}),
        ("any", {"x": [1]}, {"x": [1]}),
        ("string", None, None),
        (
            'object({ hash_key = string, range_key = optional(string, ""), ttl = optional(string) })',
            {"hash_key": "id"},
            {"hash_key": "id", "range_key": "", "ttl": None},
        ),
        (
            "map(object({ n = optional(number, 5) }))",
            {"a": {}, "b": {"n": "7"}},
            {"a": {"n": 5}, "b": {"n": 7}},
        ),
        ("tuple([string, number])", [1, "2"], ["1", 2]),
    ],
)
def test_conversion_follows_terraform(type_text: str, value: Any, expected: Any) -> None:
    assert convert(value, type_of(type_text)) == expected


@pytest.mark.parametrize(
    ("type_text", "value", "message"),
    [
        ("number", "five", "not a number"),
        ("bool", "yes", "not a bool"),
        ("bool", "True", "not a bool"),
        ("bool", "01", "not a bool"),
        ("list(string)", "a", "a list is required"),
        ("object({ a = string })", {}, "attribute 'a' is required"),
        ("map(number)", {"a": "x"}, "not a number"),
        # float() made these infinity, a value no Terraform number has; it crashed later
        # (int(inf): OverflowError) and lost every table of the target
        ("number", "1e400000", "out of driftwatch's range"),
        ("number", "inf", "not a number"),
        ("number", "1" * 5000, "too large"),
    ],
)
def test_values_that_do_not_fit_are_errors(type_text: str, value: Any, message: str) -> None:
    with pytest.raises(TypeConversionError, match=message):
        convert(value, type_of(type_text))


def test_unknown_passes_through_any_type() -> None:
    unknown = Unknown("var.x has no value")
    assert convert(unknown, type_of("number")) is unknown
    assert convert({"a": unknown}, type_of("map(string)")) == {"a": unknown}
