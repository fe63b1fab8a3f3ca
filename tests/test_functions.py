"""Terraform built-in functions, checked against the results Terraform documents for them.

Each case is written as HCL and evaluated end to end, so argument conversion and the Unknown
policy of the evaluator are exercised along with the function itself.
"""

from __future__ import annotations

from typing import Any

import pytest

from driftwatch.spec import Unknown
from driftwatch.terraform.evaluate import Scope, evaluate_text
from driftwatch.terraform.functions import FUNCTIONS, TfSet, format_number, to_string, values_equal

U = Unknown("var.u has no value")
SCOPE = Scope({"var": {"u": U, "l": [12, 54, 3], "m": {"a": 1}}}, "fn.tf")


def ev(text: str) -> Any:
    return evaluate_text(text, SCOPE)


def is_error(value: Any, *fragments: str) -> bool:
    """An evaluation error: Unknown whose reason carries the file:line and the given words."""
    return (
        isinstance(value, Unknown)
        and value.reason.startswith("fn.tf:1: ")
        and all(f in value.reason for f in fragments)
    )


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # collections
        ('merge({a = "b", c = "d"}, {e = "f", c = "z"})', {"a": "b", "c": "z", "e": "f"}),
        ("merge({a = 1}, null)", {"a": 1}),
        ("merge()", {}),
        ('concat(["a", ""], ["b", "c"])', ["a", "", "b", "c"]),
        ('lookup({a = "ay", b = "bee"}, "a", "what?")', "ay"),
        ('lookup({a = "ay", b = "bee"}, "c", "what?")', "what?"),
        ('coalesce("a", "b")', "a"),
        ('coalesce("", "b")', "b"),
        ("coalesce(1, 2)", 1),
        ('coalesce(null, "x")', "x"),
        ('coalesce(1, "a")', "1"),
        ('coalescelist(["a", "b"], ["c", "d"])', ["a", "b"]),
        ('coalescelist([], ["c", "d"])', ["c", "d"]),
        ('compact(["a", "", "b", null, "c"])', ["a", "b", "c"]),
        ('distinct(["a", "b", "a", "c", "d", "b"])', ["a", "b", "c", "d"]),
        ('flatten([["a", "b"], [], ["c"]])', ["a", "b", "c"]),
        ('flatten([[["a", "b"], []], ["c"]])', ["a", "b", "c"]),
        ("keys({d = 3, a = 1, c = 2})", ["a", "c", "d"]),
        ("values({d = 3, a = 1, c = 2})", [1, 2, 3]),
        ('contains(["a", "b", "c"], "a")', True),
        ('contains(["a", "b", "c"], "d")', False),
        ('contains([1], "1")', False),
        ('element(["a", "b", "c"], 1)', "b"),
        ('element(["a", "b", "c"], 3)', "a"),
        ('zipmap(["a", "b"], [1, 2])', {"a": 1, "b": 2}),
        ('index(["a", "b", "c"], "b")', 1),
        ("reverse([1, 2, 3])", [3, 2, 1]),
        ('sort(["e", "d", "a", "x"])', ["a", "d", "e", "x"]),
        ('slice(["a", "b", "c", "d"], 1, 3)', ["b", "c"]),
        ("one([])", None),
        ('one(["a"])', "a"),
        ('chunklist(["a", "b", "c", "d", "e"], 2)', [["a", "b"], ["c", "d"], ["e"]]),
        ('length("hello")', 5),
        ("length([1, 2])", 2),
        ("length({a = 1})", 1),
        ("range(3)", [0, 1, 2]),
        ("range(1, 4)", [1, 2, 3]),
        ("range(1, 8, 2)", [1, 3, 5, 7]),
        ("range(4, 1)", [4, 3, 2]),
        ("range(0, 1, 0.25)", [0, 0.25, 0.5, 0.75]),
        ('alltrue(["true", true])', True),
        ("alltrue([true, false])", False),
        ("anytrue([])", False),
        ('setunion(["a", "b"], ["b", "c"], ["d"])', ["a", "b", "c", "d"]),
        ('setintersection(["a", "b"], ["b", "c"], ["b", "d"])', ["b"]),
        ('setsubtract(["a", "b", "c"], ["a", "c"])', ["b"]),
        ('setproduct(["a"], [1, 2])', [["a", 1], ["a", 2]]),
        ('setproduct(toset(["b", "a"]), ["x"])', [["a", "x"], ["b", "x"]]),
        # conversions
        ('tolist(["a", "b"])', ["a", "b"]),
        ('tolist([1, "a"])', ["1", "a"]),
        ('toset(["c", "b", "b"])', ["b", "c"]),
        ("toset([3, 1, 2, 1])", [1, 2, 3]),
        ('tomap({a = 1, b = "x"})', {"a": "1", "b": "x"}),
        ("tostring(5)", "5"),
        ("tostring(true)", "true"),
        ("tostring(null)", None),
        ('tonumber("1.5")', 1.5),
        ('tonumber("5")', 5),
        ("tonumber(null)", None),
        ('tobool("true")', True),
        ("tobool(null)", None),
        ('sensitive("x")', "x"),
        # strings
        ('join(", ", ["foo", "bar", "baz"])', "foo, bar, baz"),
        ('join(",", ["a"], ["b", 1])', "a,b,1"),
        ('split(",", "foo,bar,baz")', ["foo", "bar", "baz"]),
        ('split(",", "foo")', ["foo"]),
        ('split(",", "")', [""]),
        ('lower("HELLO")', "hello"),
        ('upper("hello")', "HELLO"),
        ('title("hello world")', "Hello World"),
        ('title("hello-wORLD")', "Hello-WORLD"),
        # Go's per-rune (simple) case mappings, as terraform console gives them (ninth survey)
        ('lower("İSTANBUL")', "istanbul"),
        ('upper("ǆ ᾳ ﬀ straße")', "Ǆ ᾼ ﬀ STRAßE"),
        ('title("ǆemal ßa ᾳb")', "ǅemal ßa ᾼb"),
        # Go's strings.Title separators: only spaces among non-ASCII runes
        ('title("a\\u2013b c·d e\'f é-é")', "A\u2013b C·d E'F É-É"),
        ('replace("1 + 2 + 3", "+", "-")', "1 - 2 - 3"),
        ('replace("hello world", "/w.*d/", "everybody")', "hello everybody"),
        (r'replace("a-b", "/(\\w)-(\\w)/", "$2-$1")', "b-a"),
        (r'replace("k=v", "/(?P<key>\\w+)=(?P<val>\\w+)/", "$${val}=$${key}")', "v=k"),
        ('substr("hello world", 1, 4)', "ello"),
        ('substr("hello", -3, -1)', "llo"),
        ('substr("hello", 1, 100)', "ello"),
        (r'trimspace("  hello\n\n")', "hello"),
        ('trim("?!hello?!", "!?")', "hello"),
        ('trimprefix("helloworld", "hello")', "world"),
        ('trimprefix("helloworld", "cat")', "helloworld"),
        ('trimsuffix("helloworld", "world")', "hello"),
        ('startswith("hello world", "hello")', True),
        ('endswith("hello world", "hello")', False),
        ('strrev("hello")', "olleh"),
        (r'chomp("hello\n\n")', "hello"),
        ('regex("[a-z]+", "53453453.345345aaabbbccc23454")', "aaabbbccc"),
        (r'regex("(\\d\\d\\d\\d)-(\\d\\d)-(\\d\\d)", "2019-02-01")', ["2019", "02", "01"]),
        ('regex("^(?:(?P<scheme>[^:/?#]+):)?", "https://example.com")', {"scheme": "https"}),
        ('regexall("[a-z]+", "1234abcd5678efgh9")', ["abcd", "efgh"]),
        ('length(regexall("[a-z]+", "1234"))', 0),
        # \B between the bytes of one character: Go never looks there (terraform console 1.11.4)
        (r'length(regexall("\\B", " é😀éa\néa€ba"))', 6),
        (r'replace("€ 😀\n-ab😀a", "/\\B/", "-")', "-€- -😀-\n--a-b😀a"),
        # format
        ('format("Hello, %s!", "Ander")', "Hello, Ander!"),
        ('format("There are %d lights", 4)', "There are 4 lights"),
        ('format("%#v", {a = 1})', '{"a":1}'),
        ('format("%#v", "hello")', '"hello"'),
        ('format("%v|%v|%v", 1.5, true, null)', "1.5|true|null"),
        ('format("%.2f", 3.14159)', "3.14"),
        ('format("%5s|%-5s|", "a", "b")', "    a|b    |"),
        ('format("%03d|%+d|%x|%X|%b|%o", 7, 5, 255, 255, 5, 8)', "007|+5|ff|FF|101|10"),
        ('format("%t %%", true)', "true %"),
        (r'format("%q", "a\"b")', '"a\\"b"'),
        ('format("%[2]s %[1]s", "a", "b")', "b a"),
        ('format("%.3s", "abcdef")', "abc"),
        ('formatlist("Hello, %s!", ["Valentina", "Ander"])', ["Hello, Valentina!", "Hello, Ander!"]),
        (
            'formatlist("%s, %s!", "Salutations", ["Valentina", "Ander"])',
            ["Salutations, Valentina!", "Salutations, Ander!"],
        ),
        # encoding
        ('jsonencode({"hello" = "world"})', '{"hello":"world"}'),
        (
            'jsonencode({b = [1, 2.5, true, null], a = "<&>"})',
            '{"a":"\\u003c\\u0026\\u003e","b":[1,2.5,true,null]}',
        ),
        (r'jsondecode("{\"hello\": \"world\"}")', {"hello": "world"}),
        ('jsondecode("1.0")', 1),
        ('jsondecode("true")', True),
        ('md5("hello")', "5d41402abc4b2a76b9719d911017c592"),
        ('base64encode("Hello World")', "SGVsbG8gV29ybGQ="),
        ('base64decode("SGVsbG8gV29ybGQ=")', "Hello World"),
        # numbers
        ("min(12, 54, 3)", 3),
        ("max(12, 54, 3)", 54),
        ("max(var.l...)", 54),
        ("abs(-12.4)", 12.4),
        ("ceil(5.1)", 6),
        ("ceil(5)", 5),
        ("floor(4.9)", 4),
        ("floor(-4.1)", -5),
        ("sum([10, 13, 6, 4.5])", 33.5),
        ("signum(-3)", -1),
        ("pow(2, 10)", 1024),
        ('parseint("ff", 16)', 255),
    ],
)
def test_documented_results(expression: str, expected: Any) -> None:
    result = ev(expression)
    assert result == expected
    # a set is a TfSet (a list that iterates by element); a list or tuple is a plain list
    sets = ("toset", "setunion", "setintersection", "setsubtract", "setproduct(toset")
    is_set = expression.startswith(sets)
    expected_type = TfSet if is_set else type(expected)
    # a non-integral number is a numbers.Num: a float carrying Terraform's 512-bit value
    assert type(result) is expected_type or (expected_type is float and isinstance(result, float))


@pytest.mark.parametrize(
    ("expression", "fragments"),
    [
        ('lookup({a = 1}, "c")', ["lookup()", "no key"]),
        ("length(5)", ["length()"]),
        ("element([], 0)", ["element()", "empty list"]),
        ("one([1, 2])", ["one()"]),
        ('tonumber("no")', ["tonumber()", "number is required"]),
        ('tobool("yes")', ["tobool()", "bool is required"]),
        ("tostring([])", ["tostring()", "string is required"]),
        ('format("%s")', ["format()", "not enough arguments"]),
        ('format("%s", "a", "b")', ["format()", "too many arguments"]),
        ('format("%d", 1.5)', ["format()", "whole number"]),
        ('format("%y", 1)', ["unsupported format verb"]),
        ('upper("a", "b")', ["upper()", "wrong number of arguments"]),
        ("upper()", ["upper()", "wrong number of arguments"]),
        ('regex("[", "x")', ["regex()", "invalid regular expression"]),
        ('regex("z", "abc")', ["regex()", "did not match"]),
        ('index(["a"], "b")', ["index()"]),
        ("range(2000)", ["range()", "1024"]),
        ('jsondecode("{")', ["jsondecode()", "invalid JSON"]),
        # Terraform (cty) refuses a repeated key; Python's json kept the last one silently
        (r'jsondecode("{\"a\": 1, \"a\": 2}")', ["jsondecode()", 'duplicate "a" property']),
        ('coalesce(null, "")', ["coalesce()"]),
        ('zipmap(["a"], [])', ["zipmap()"]),
        ('merge({a = 1}, ["x"])', ["merge()", "map or object"]),
        ("tolist([1, true])", ["tolist()", "same type"]),
        ("max()", ["max()"]),
        ("sum([])", ["sum()"]),
        ("abs(var.m...)", ["abs()", "must be a list"]),
    ],
)
def test_function_errors_become_unknown_with_location(expression: str, fragments: list[str]) -> None:
    assert is_error(ev(expression), *fragments), ev(expression)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # Functions that look inside their arguments keep what is known.
        ("length([var.u, 1])", 2),
        ("keys({b = var.u, a = 1})", ["a", "b"]),
        ('lookup({a = var.u, b = 1}, "b")', 1),
        ("element([var.u, 2], 1)", 2),
        ('contains([var.u, "a"], "a")', True),
        ('contains([var.u], "a")', U),
        ('coalesce("a", var.u)', "a"),
        ('coalesce(var.u, "a")', U),
        ("concat([1], [var.u])", [1, U]),
        ("merge({a = 1}, {b = var.u})", {"a": 1, "b": U}),
        ("merge({a = 1}, var.u)", U),
        ("values({a = var.u})", [U]),
        ('zipmap(["k"], [var.u])', {"k": U}),
        ("zipmap([var.u], [1])", U),
        # Everything else is Unknown as soon as any part of an argument is.
        ('join(",", ["a", var.u])', U),
        ("upper(var.u)", U),
        ("jsonencode({a = [var.u]})", U),
        ("toset([var.u])", U),
        ("max(1, var.u)", U),
        ("flatten([[var.u]])", U),
    ],
)
def test_unknown_arguments(expression: str, expected: Any) -> None:
    assert ev(expression) == expected


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        (
            'file("x.json")',
            "file() reads files, which driftwatch does only in the modules of the scanned repository",
        ),
        (
            'templatefile("t.tpl", {})',
            "templatefile() reads files, which driftwatch does only in the modules of the scanned repository",
        ),
        (
            'fileset(".", "*")',
            "fileset() reads files, which driftwatch does only in the modules of the scanned repository",
        ),
        ("timestamp()", "timestamp() depends on the time of the run"),
        ("uuid()", "uuid() returns a new random value on every run"),
        (
            "yamlencode({a = 1})",
            "yamlencode(): its layout (quoting, line breaks) is go-cty-yaml's emitter's, not reproduced here",
        ),
        ('issensitive("x")', "issensitive(): driftwatch does not track which values are sensitive"),
        (
            'textencodebase64("x", "ISO-8859-1")',
            "textencodebase64(): the encoding 'ISO-8859-1' is not evaluated by driftwatch",
        ),
        (  # hashicorp/aws's own are evaluated (tests/test_aws_functions.py), other providers' not
            'provider::time::rfc3339_parse("x")',
            "function provider::time::rfc3339_parse() is not evaluated by driftwatch",
        ),
    ],
)
def test_functions_driftwatch_does_not_evaluate_are_unknown_with_reason(expression: str, reason: str) -> None:
    assert ev(expression) == Unknown(reason)


@pytest.mark.parametrize(
    ("number", "text"),
    [(5, "5"), (5.0, "5"), (1.5, "1.5"), (0.1, "0.1"), (1e20, "100000000000000000000"), (-2.25, "-2.25")],
)
def test_numbers_render_like_terraform(number: float, text: str) -> None:
    assert format_number(number) == text
    assert to_string(number) == text


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ("5", 5, False),
        (1, 1.0, True),
        (True, 1, False),
        ([1, "a"], [1, "a"], True),
        ([1], [1, 2], False),
        ({"a": 1}, {"a": 1}, True),
        ({"a": 1}, {"b": 1}, False),
        ([U, 1], [2, 2], False),
        ([U], [2], U),
        (None, [U], False),
    ],
)
def test_values_equal_is_type_strict_and_three_valued(left: Any, right: Any, expected: Any) -> None:
    assert values_equal(left, right) == expected


def test_registry_covers_the_required_functions() -> None:
    required = [
        *(
            "merge",
            "concat",
            "lookup",
            "coalesce",
            "coalescelist",
            "compact",
            "distinct",
            "flatten",
            "format",
        ),
        *("join", "split", "lower", "upper", "title", "replace", "substr", "trimspace", "trim", "trimprefix"),
        *("trimsuffix", "tolist", "toset", "tomap", "tostring", "tonumber", "tobool", "length", "keys"),
        *("values", "contains", "element", "zipmap", "jsonencode", "min", "max", "abs", "ceil", "floor"),
        *("formatlist", "startswith", "endswith", "reverse", "sort", "slice", "one", "sum", "range", "index"),
        *("alltrue", "anytrue", "setunion", "setintersection", "jsondecode", "regex", "regexall", "strrev"),
        "chunklist",
    ]
    assert [name for name in required if name not in FUNCTIONS] == []


# terraform console (1.11.4) answers for replace()'s template, which follows Go's Regexp.Expand:
# a group name is letters, decimal digits (Unicode Nd) and "_"; it is a number only when it is
# ASCII digits without a leading zero, at most nine of them; a "$" not followed by a name is text.
EXPAND_CASES = [
    ("/(b)/", "[$1]", "a[b]c"),
    ("/(b)/", "[$0]", "a[b]c"),
    ("/(b)/", "[$01]", "a[]c"),
    ("/(b)/", "[$000000001]", "a[]c"),
    ("/(b)/", "[$123456789]", "a[]c"),
    ("/(b)/", "[$1234567890]", "a[]c"),
    ("/(b)/", "[$\u00b2]", "a[$\u00b2]c"),  # superscript two: not a digit for Go, not a name
    ("/(b)/", "[$1\u00b2]", "a[b\u00b2]c"),
    ("/(b)/", "[$\u0663]", "a[]c"),  # Arabic-Indic three: a name, not a number
    ("/(b)/", "[$\u01c5]", "a[]c"),  # a titlecase letter
    ("/(b)/", "[$1x]", "a[]c"),
    ("/(b)/", "[$\u00e9]", "a[]c"),
    ("/(b)/", "[$_]", "a[]c"),
    ("/(b)/", "[$-]", "a[$-]c"),
    ("/(b)/", "[$]", "a[$]c"),
    ("/(b)/", "$", "a$c"),
    ("/(b)/", "[$$1]", "a[$1]c"),
    ("/(b)/", "[$${1]", "a[${1]c"),
    ("/(b)/", "[$${1}1]", "a[b1]c"),
    ("/(b)/", "[$${}]", "a[${}]c"),
    ("/(?P<x>b)/", "[$x]", "a[b]c"),
    ("/(?P<x>b)/", "[$${x}y]", "a[by]c"),
    ("/(?P<x>b)/", "[$xy]", "a[]c"),
]


@pytest.mark.parametrize(("pattern", "template", "expected"), EXPAND_CASES)
def test_replace_expands_its_template_as_terraform_does(pattern: str, template: str, expected: str) -> None:
    """Python's ``\\w`` took ``²`` into a group name and ``int("²")`` failed: the call was an
    error where Terraform gives text; ``$01`` and ``$٣`` were read as group numbers."""
    expression = f'replace("abc", "{pattern}", "{template}")'
    assert evaluate_text(expression, Scope({}, "t.tf")) == expected
