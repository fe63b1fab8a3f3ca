"""Type constraints: Terraform's conversions, including optional() object attributes."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from terraform_support import REQUIRES_TERRAFORM_CLI, terraform, write_cli_config

from driftwatch.spec import Unknown
from driftwatch.terraform.parse import body_items, file_blocks, parse_text
from driftwatch.terraform.types import (
    ANY,
    InvalidTypeConstraint,
    TypeConversionError,
    TypeSpec,
    convert,
    parse_type,
)


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
        # a collection of `any` holds one type: cty unifies the elements (terraform 1.11.4
        # console, eleventh survey); before, the numbers and bools were kept
        (
            "map(any)",
            {"users": {"x": 1, "y": True}, "audit": {"x": "s", "y": "no"}},
            {"users": {"x": "1", "y": "true"}, "audit": {"x": "s", "y": "no"}},
        ),
        ("map(any)", {"users": {"k": "id", "ttl": "exp"}, "audit": {"k": "id"}}, None),
        ("map(any)", {"users": ["a", 1], "audit": []}, {"users": ["a", "1"], "audit": []}),
        ("list(any)", [{"n": 1}, {"n": "2"}], [{"n": "1"}, {"n": "2"}]),
        ("set(any)", [1, "a", True], ["1", "a", "true"]),
        ("any", {"users": {"x": 1}, "audit": {"y": "s"}}, None),
        # an `any` deeper in the element type is one type too, across the whole collection
        # (terraform 1.11.4 console): each map of a list(map(any)) alone would keep its bool
        (
            "list(map(any))",
            [{"name": "a", "pitr": True, "read": 5}, {"pitr": True}],
            [{"name": "a", "pitr": "true", "read": "5"}, {"pitr": "true"}],
        ),
        ("map(list(any))", {"a": [1, "x"], "b": [True]}, {"a": ["1", "x"], "b": ["true"]}),
        ("list(object({ a = any }))", [{"a": 1}, {"a": "x"}], [{"a": "1"}, {"a": "x"}]),
        (
            "map(map(any))",
            {"u": {"a": {"p": 1}}, "v": {"b": {"q": "x"}}},
            {"u": {"a": {"p": "1"}}, "v": {"b": {"q": "x"}}},
        ),
        ("list(list(any))", [[1, 2], ["a"]], [["1", "2"], ["a"]]),
        ("list(list(any))", [[1, 2], []], None),
        ("map(map(any))", {"u": {"a": 1}, "v": {}}, None),
        ("tuple([map(any), map(any)])", [{"a": 1}, {"a": "x"}], None),  # a tuple's are its own
        ("object({ a = map(any), b = map(any) })", {"a": {"x": 1}, "b": {"x": "s"}}, None),
    ],
)
def test_conversion_follows_terraform(type_text: str, value: Any, expected: Any) -> None:
    """``expected`` None: the value is unchanged (a null converts to null, checked above)."""
    assert convert(value, type_of(type_text)) == (value if expected is None else expected)


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
        # objects of other attributes become maps, whose values here have no common type
        (
            "map(any)",
            {"a": {"x": 1, "y": [1]}, "b": {"x": 2}},
            "all map elements must have the same type",
        ),
        ("list(any)", [1, {"a": 1}], "all list elements must have the same type"),
        # an `any` deeper in the element type: the elements have no common type (terraform
        # 1.11.4: "cannot find a common base type for all elements")
        ("list(map(any))", [{"a": 1}, {"c": True}], "cannot find a common base type"),
        ("map(list(any))", {"a": [1, 2], "b": [True]}, "cannot find a common base type"),
        ("map(object({ a = any, b = number }))", {"k": {"a": 1, "b": 1}, "l": {"a": True, "b": 2}}, "base"),
        ("set(map(any))", [{"a": 1}, {"a": "1"}], "element types must all match for conversion to set"),
        ("list(list(any))", [[1, 2], [True]], "cannot find a common base type"),
    ],
)
def test_values_that_do_not_fit_are_errors(type_text: str, value: Any, message: str) -> None:
    with pytest.raises(TypeConversionError, match=message):
        convert(value, type_of(type_text))


# A literal null (tfvars, a root variable's default) has no type: beside a list or an object in a
# collection of `any`, cty converts nothing and needs one type already. terraform 1.11.4 console
# of `jsonencode(var.x)` with the value in terraform.tfvars; None: refused ("Invalid value for
# input variable": "all list elements must have the same type", "attribute types must all match
# for conversion to map", "element types must all match for conversion to list").
UNTYPED_NULLS = [
    ("list(any)", [{"a": 1}, None], None),
    ("list(any)", [None, [1]], None),
    ("set(any)", [{"a": 1}, None], None),
    ("list(any)", [{"a": 1}, {"a": 1}, None], None),
    ("list(any)", [{"a": [1]}, {"a": None}], None),
    ("list(any)", [{"a": 1, "b": None}, {"a": 2, "b": [1]}], None),
    ("map(any)", {"u": {"h": "id", "ttl": None}, "a": {"h": "id", "ttl": {"enabled": True}}}, None),
    ("map(any)", {"u": {"h": "id", "gsis": None}, "a": {"h": "id", "gsis": [{"name": "g"}]}}, None),
    ("map(any)", {"a": {"x": 1}, "b": None, "c": {"x": "s"}}, None),
    ("map(any)", {"a": [1], "b": None, "c": [2, 3]}, None),
    ("map(any)", {"u": {"x": [1], "y": 1}, "a": {"x": None, "z": 2}}, None),
    # kept as written: one type beside the null (x stays a number), or no list or object
    ("map(any)", {"a": {"x": 1, "y": "s"}, "b": None}, {"a": {"x": 1, "y": "s"}, "b": None}),
    ("map(any)", {"a": {"x": 1}, "b": None, "c": {"x": 2}}, {"a": {"x": 1}, "b": None, "c": {"x": 2}}),
    ("list(any)", [1, "x", None, True], ["1", "x", None, "true"]),
    (
        "list(any)",
        [{"a": None, "b": [1]}, {"a": None, "b": [2]}],
        [{"a": None, "b": [1]}, {"a": None, "b": [2]}],
    ),
    (
        "map(any)",
        {"a": {"x": None, "y": [1]}, "b": {"x": "s", "y": [2]}},
        {"a": {"x": None, "y": [1]}, "b": {"x": "s", "y": [2]}},
    ),
    (
        "map(any)",
        {"u": {"h": "id", "ttl": None, "gsis": []}, "a": {"h": "id", "ttl": "exp", "gsis": [{"n": "g"}]}},
        {"u": {"h": "id", "ttl": None, "gsis": []}, "a": {"h": "id", "ttl": "exp", "gsis": [{"n": "g"}]}},
    ),
    ("list(map(any))", [{"a": 1}, None, {"b": "x"}], [{"a": "1"}, None, {"b": "x"}]),
]


@pytest.mark.parametrize(("type_text", "value", "expected"), UNTYPED_NULLS)
def test_literal_nulls_beside_lists_or_objects_convert_as_terraform_converts_them(
    type_text: str, value: Any, expected: Any
) -> None:
    """driftwatch unified around the null (``ttl = null`` beside ``ttl = {...}``) and read a
    variable Terraform refuses."""
    if expected is None:
        with pytest.raises(TypeConversionError, match="must have the same type"):
            convert(value, type_of(type_text), literal=True)
    else:
        assert convert(value, type_of(type_text), literal=True) == expected


def test_unknown_passes_through_any_type() -> None:
    unknown = Unknown("var.x has no value")
    assert convert(unknown, type_of("number")) is unknown
    assert convert({"a": unknown}, type_of("map(string)")) == {"a": unknown}


# Type constraints Terraform 1.11.4 refuses (`terraform validate`: "Invalid type specification",
# "Invalid quoted type constraints", "Invalid legacy variable type hint"), with a phrase of its
# message; test_refused_type_constraints_are_terraforms asks terraform itself.
REFUSED_TYPES = {
    '"string"': "quoted type constraint",
    '"list"': "quoted type constraint",
    '"any"': "quoted type constraint",
    "<<EOT\nstring\nEOT": "quoted type constraint",
    "strng": "'strng' is not a valid type specification",
    "null": "either a primitive type keyword",
    "set": "set type constructor requires one argument",
    "object": "object type constructor requires one argument",
    "tuple": "tuple type constructor requires a list",
    "tuple(string)": "tuple type constructor requires a list",
    "list(string, number)": "list type constructor requires one argument",
    "list()": "list type constructor requires one argument",
    "list(strng)": "'strng' is not a valid type specification",
    "optional(string)": "valid only as a modifier for object type attributes",
    "map(optional(string))": "valid only as a modifier for object type attributes",
    "object({ b = list })": "list type constructor requires one argument",
    "foo(string)": "'foo' is not a valid type constructor",
    "1": "either a primitive type keyword",
    # Parentheses anywhere in a type: read through before (as `string`, `number`...).
    "(string)": "either a primitive type keyword",
    "(list(string))": "either a primitive type keyword",
    "list((string))": "either a primitive type keyword",
    "tuple(([string]))": "either a primitive type keyword",
    "object({ x = (number) })": "either a primitive type keyword",
    "object({ x = optional((number)) })": "either a primitive type keyword",
}
# Accepted by Terraform: bare `list` / `map` are its legacy list(any) / map(any), at top level.
ACCEPTED_TYPES = {
    "list": TypeSpec("list", element=ANY),
    "map": TypeSpec("map", element=ANY),
    "any": ANY,
    "list(any)": TypeSpec("list", element=ANY),
    "set(string)": TypeSpec("set", element=TypeSpec("string")),
    "tuple([string, bool])": TypeSpec("tuple", elements=(TypeSpec("string"), TypeSpec("bool"))),
    # A default is an expression, where parentheses are fine.
    "object({ x = optional(number, (1)) })": TypeSpec(
        "object", attributes={"x": (TypeSpec("number"), True, 1)}
    ),
}


@pytest.mark.parametrize(("type_text", "words"), REFUSED_TYPES.items(), ids=list(REFUSED_TYPES))
def test_a_type_terraform_refuses_is_refused_in_its_words(type_text: str, words: str) -> None:
    """Read as ``any`` before: a root with ``type = "string"`` (Terraform 0.11's form) was
    watched, though terraform plan refuses the whole configuration."""
    with pytest.raises(InvalidTypeConstraint, match=re.escape(words)):
        type_of(type_text)


@pytest.mark.parametrize(("type_text", "expected"), ACCEPTED_TYPES.items(), ids=list(ACCEPTED_TYPES))
def test_types_terraform_accepts_are_read(type_text: str, expected: TypeSpec) -> None:
    assert type_of(type_text) == expected


def test_a_refused_type_is_a_target_error_at_its_line_and_leaves_the_variable_unknown(tmp_path: Path) -> None:
    """terraform plan stops at the type, so no value of the variable is Terraform's: the
    target error names the file and line, and what reads the variable is Unknown, never a
    value converted by a rule Terraform never applies."""
    from driftwatch.terraform.modules import declare_target
    from driftwatch.terraform.target import TargetInput

    (tmp_path / "main.tf").write_text(
        'variable "env" {\n  default = "prod"\n  type    = "string"\n}\n'
        'resource "aws_dynamodb_table" "t" {\n  name     = "t-${var.env}"\n  hash_key = "id"\n'
        '  attribute {\n    name = "id"\n    type = "S"\n  }\n}\n'
    )
    result = declare_target(TargetInput(name="prod", repo=tmp_path, root=tmp_path))
    (error,) = result.errors
    assert (error.file, error.line) == ("main.tf", 3)
    assert "quoted type constraint" in error.message and "Terraform refuses" in error.message
    (table,) = result.tables
    assert isinstance(table.spec.name, Unknown) and "var.env" in table.spec.name.reason


@REQUIRES_TERRAFORM_CLI
def test_refused_type_constraints_are_terraforms(tmp_path: Path) -> None:
    """One `terraform validate` of every case: each refused type is an error at its line, and
    the accepted ones are not (validate needs no provider for variables)."""
    cases = [*REFUSED_TYPES, *ACCEPTED_TYPES]
    text, lines = "", {}
    for number, type_text in enumerate(cases):
        lines[text.count("\n") + 2] = type_text
        text += f'variable "v{number}" {{\n  type = {type_text}\n}}\n'
    (tmp_path / "main.tf").write_text(text)
    write_cli_config(tmp_path)
    result = terraform(tmp_path, "validate", "-json", "-no-color", ok=(0, 1))
    refused = {
        lines[d["range"]["start"]["line"]]
        for d in json.loads(result.stdout)["diagnostics"]
        if d["severity"] == "error"
    }
    assert refused == set(REFUSED_TYPES)
