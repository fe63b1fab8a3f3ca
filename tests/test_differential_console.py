"""driftwatch's evaluator against Terraform itself: every case is evaluated by both, compared
as ``jsonencode`` text (so types, number printing and key order count too).

``terraform console`` evaluates expressions offline with no provider. Each batch is ONE console
call (``jsonencode([...])``, ~0.5 s): every case is wrapped in ``try(jsonencode(e), "ERR")`` so
that an error case (both must refuse) does not fail its batch. Heredocs and multi-line templates
cannot be typed into the console, so they are ``locals`` of a generated root in the console's
directory. Deliberate differences are listed in docs/terraform-parity.md and asserted in
``test_deliberate_unknowns``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from terraform_support import REQUIRES_TERRAFORM_CLI

from driftwatch.spec import Unknown
from driftwatch.terraform.evaluate import Scope, evaluate_text
from driftwatch.terraform.functions import FUNCTIONS

TERRAFORM = shutil.which("terraform")
pytestmark = REQUIRES_TERRAFORM_CLI

# --- cases ------------------------------------------------------------------------------------

# Every pure function driftwatch implements: ordinary, edge (empty, null, unicode, precision) and
# error inputs ("ERR" on both sides).
FUNCTION_CASES: dict[str, list[str]] = {
    "abs": ["abs(-3)", "abs(0)", "abs(-2.5)", "abs(-1e400)", 'abs("x")'],
    "alltrue": ["alltrue([])", 'alltrue([true, "true"])', "alltrue([true, false])", 'alltrue(["x"])'],
    "anytrue": ["anytrue([])", "anytrue([false, true])", "anytrue([false])"],
    "base64encode": ['base64encode("héllo")', 'base64encode("")'],
    "base64decode": ['base64decode("aMOpbGxv")', 'base64decode("!!")'],
    "ceil": ["ceil(1.2)", "ceil(-1.2)", "ceil(5)", 'ceil("x")'],
    "floor": ["floor(-1.5)", "floor(1.9)", "floor(1e400 / 7)"],
    "chomp": ['chomp("a\\n\\n")', 'chomp("a\\r\\n")', 'chomp("")'],
    "chunklist": [
        "chunklist([1, 2, 3, 4, 5], 2)",
        "chunklist([], 3)",
        "chunklist([1, 2], 0)",
        "chunklist([1], -1)",
    ],
    "coalesce": ['coalesce("", "b")', 'coalesce(null, "x")', "coalesce(null, 2)", "coalesce()"],
    "coalescelist": ["coalescelist([], [1, 2])", "coalescelist([3], [1])", "coalescelist([])"],
    "compact": ['compact(["a", "", null, "b"])', "compact([])"],
    "concat": ["concat([1], [2, 3], [])", "concat()", 'concat(["a"], ["b"])'],
    "contains": ['contains(["a", "b"], "b")', 'contains(["a"], "c")', "contains([], 1)"],
    "distinct": ['distinct(["b", "a", "b"])', "distinct([])", "distinct([1, 2, 1])"],
    "element": ['element(["a", "b"], 3)', 'element(["a", "b"], 1)', "element([], 0)"],
    "endswith": ['endswith("hello", "lo")', 'endswith("hello", "")', 'endswith("", "a")'],
    "startswith": ['startswith("hello", "he")', 'startswith("hello", "")', 'startswith("é", "e")'],
    "flatten": ["flatten([[1, [2]], [], 3])", "flatten([])", 'flatten([["a"], [["b"]]])'],
    "format": [
        'format("%5s|%-5s|%q|%03d", "a", "b", "c", 7)',
        'format("%x|%X|%o|%b|%t", 255, 255, 8, 5, true)',
        'format("%v|%v|%v", 1, "a", true)',
        'format("%.2f|%f|%8.3f", 3.14159, 1 / 3, -2.5)',
        'format("%%|%s", "x")',
        'format("%d", 1.5)',
        'format("%s")',
        'format("%c", 233)',
    ],
    "formatlist": [
        'formatlist("%s-%s", ["a", "b"], "x")',
        'formatlist("%s", [])',
        'formatlist("%s-%s", ["a"], ["b", "c"])',
    ],
    "index": ['index(["a", "b"], "b")', 'index([], "a")', 'index(["a"], "z")'],
    "join": ['join(",", ["a", "b"])', 'join(",", [])', 'join("-", ["a"], ["b", "c"])'],
    "jsondecode": [
        'jsondecode("{\\"a\\":[1,2.5,null,true]}")',
        'jsondecode("1e400")',
        'jsondecode("\\"é\\"")',
        'jsondecode("{")',
    ],
    "jsonencode": ['jsonencode({b = 1, a = "<&>"})', "jsonencode(null)", "jsonencode([])", "jsonencode(0.1)"],
    "keys": ["keys({b = 1, a = 2})", "keys({})"],
    "values": ["values({b = 1, a = 2})", "values({})"],
    "length": [
        'length("héllo")',
        "length([])",
        "length({a = 1})",
        'length("e\\u0301")',
        'length("🎉x")',
        "length(5)",
    ],
    "lookup": ['lookup({a = 1}, "b", "d")', 'lookup({a = 1}, "a", 0)', 'lookup({a = 1}, "b")'],
    "lower": ['lower("ÀB")', 'lower("")'],
    "upper": ['upper("straße")', 'upper("abc")'],
    "max": ["max(1, 2.5)", "max(1e400, 2)", "max([3, 1]...)", "max()", 'max("10", 9)'],
    "min": ["min(1, 2.5)", "min(-1e400, 2)", "min()"],
    "md5": ['md5("a")', 'md5("é")'],
    "sha1": ['sha1("a")'],
    "sha256": ['sha256("")'],
    "sha512": ['sha512("a")'],
    "merge": ["merge({a = 1}, {a = 2, b = 3})", "merge()", "merge({a = 1}, null)", 'merge({a = 1}, ["x"])'],
    "one": ["one([])", "one([1])", "one([1, 2])", "one(toset([]))"],
    "parseint": ['parseint("-ff", 16)', 'parseint("z", 36)', 'parseint("12", 1)', 'parseint("12a", 10)'],
    "pow": ["pow(2, 10)", "pow(0, 0)", "pow(2, 0.5)", "pow(2, -1)"],
    "range": [
        "range(3)",
        "range(1, 10, 3)",
        "range(5, 1)",
        "range(0, 1, 0.25)",
        "range(0)",
        "range(1, 2, 0)",
    ],
    "regex": [
        'regex("[a-z]+", "123abc")',
        'regex("(\\\\d+)-(\\\\d+)", "12-34")',
        'regex("(?P<first>x)(?P<second>y)?", "x")',
        'regex("z", "abc")',
        'regex("(a)\\\\1", "aa")',
    ],
    "regexall": ['regexall("a", "banana")', 'regexall("(a)(n)?", "banana")', 'regexall("x*", "ab")'],
    "replace": [
        'replace("hello", "l", "L")',
        'replace("hello", "/l+/", "L")',
        'replace("abc", "/(b)/", "[$1]")',
        'replace("abc", "", "-")',
        'replace("aaa", "/a*/", "x")',
    ],
    "reverse": ["reverse([1, 2, 3])", "reverse([])"],
    "setintersection": ['setintersection(["a", "b"], ["b", "c"])', "setintersection([1], [])"],
    "setsubtract": ['setsubtract(["a", "b"], ["b"])', "setsubtract([], [1])"],
    "setproduct": [
        'setproduct(["a", "b"], ["x", "y"])',
        'setproduct(toset(["b", "a"]), [1, 2])',
        "setproduct([], [1])",
        'setproduct(["a"], [true], [1.5])',
        "setproduct([1])",
        'setproduct("a", ["b"])',
    ],
    "setunion": ['setunion(["b"], ["a", "b"])', "setunion([], [])"],
    "signum": ["signum(-2)", "signum(0)", "signum(3.5)"],
    "slice": ['slice(["a", "b", "c"], 1, 3)', "slice([], 0, 0)", 'slice(["a"], 1, 0)', 'slice(["a"], 0, 2)'],
    "sort": ['sort(["b", "a", "10", "9"])', "sort([])", "sort([3, 1])"],
    "split": ['split(",", "a,,b")', 'split(",", "")', 'split("", "abc")'],
    "strcontains": ['strcontains("abc", "b")', 'strcontains("abc", "")'],
    "strrev": ['strrev("héllo")', 'strrev("e\\u0301x")', 'strrev("")'],
    "substr": [
        'substr("hello", 1, 3)',
        'substr("hello", -3, -1)',
        'substr("héllo", 0, 2)',
        'substr("abc", 5, 1)',
        'substr("abc", -5, 1)',
        'substr("abc", 0, -2)',
        'substr("abc", 1, -1)',
    ],
    "sum": ["sum([1, 2.5])", "sum([])", "sum([0.1, 0.2])", 'sum(["1", 2])'],
    "title": ['title("hello world-foo bar_baz")', 'title("")', 'title("élan vital")'],
    "tobool": ['tobool("true")', 'tobool("yes")', "tobool(null)"],
    "tolist": ['tolist(["a", 1])', "tolist(toset([2, 1]))", "tolist([])"],
    "tomap": ['tomap({a = 1, b = "x"})', "tomap({})"],
    "tonumber": [
        'tonumber("+5")',
        'tonumber(".5")',
        'tonumber("5.")',
        'tonumber("\u0661\u0662")',
        'tonumber("0x10")',
        'tonumber("1e3")',
        'tonumber("-0.5")',
        "tonumber(null)",
        "tonumber(true)",
    ],
    "tostring": ["tostring(true)", "tostring(null)", "tostring(10 / 3)", "tostring([])"],
    "toset": ["toset([2, 1, 2])", 'toset(["b", "a"])', "toset([])"],
    "trim": ['trim("  a  ", " ")', 'trim("?!a!?", "!?")'],
    "trimprefix": ['trimprefix("hello", "he")', 'trimprefix("hello", "x")'],
    "trimsuffix": ['trimsuffix("hello", "lo")', 'trimsuffix("", "x")'],
    "trimspace": ['trimspace("\\n a \\t")', 'trimspace("")'],
    "uuidv5": ['uuidv5("dns", "example.com")', 'uuidv5("url", "https://x")', 'uuidv5("nope", "x")'],
    "zipmap": ['zipmap(["a", "b"], [1, 2])', "zipmap([], [])", 'zipmap(["a"], [])'],
    "sensitive": ['nonsensitive(sensitive("x"))'],
    "nonsensitive": ["nonsensitive(sensitive(1))"],
    "abspath": ['abspath("/a/b/../c")'],
    "pathexpand": ['pathexpand("/abs/x")'],
}

# Functions whose value depends on where or when Terraform runs (or on files): driftwatch says
# Unknown, with the reason, and is not compared.
RUNTIME_DEPENDENT = {
    "timestamp": "timestamp()",
    "plantimestamp": "plantimestamp()",
    "uuid": "uuid()",
    "bcrypt": 'bcrypt("x")',
    "file": 'file("x.txt")',
    "fileexists": 'fileexists("x.txt")',
    "fileset": 'fileset(".", "*")',
    "filebase64": 'filebase64("x")',
    "filemd5": 'filemd5("x")',
    "filesha1": 'filesha1("x")',
    "filesha256": 'filesha256("x")',
    "filesha512": 'filesha512("x")',
    "filebase64sha256": 'filebase64sha256("x")',
    "filebase64sha512": 'filebase64sha512("x")',
    "templatefile": 'templatefile("x.tpl", {})',
    "abspath": 'abspath("relative/dir")',
    "pathexpand": 'pathexpand("~/x")',
}

FORM_CASES: dict[str, list[str]] = {
    "operators and precedence": [
        "1 + 2 * 3 - 4 / 2",
        "(1 + 2) * 3",
        "-2 * -3",
        "5 % 3 * 2",
        "!true || false && true",
        "1 < 2 == true",
        '"5" + 1',
        '1 == "1"',
        "null == null",
        '[1, "a"] == [1, "a"]',
        "{a = 1} == {a = 1}",
        "7 % -3",
        "-7.5 % 2",
        '"a" + 1',
        "true + 1",
    ],
    "conditionals": [
        'true ? 1 : "x"',
        'false ? 1 : "x"',
        "false ? [1] : []",
        "true ? {a = 1} : {a = 2}",
        '"true" ? "y" : "n"',
        "null ? 1 : 2",
        "true ? 8 : false",
        "true ? 1 : [1][5]",
        # the chosen result takes the type both results share (a constant other branch)
        "true ? [1] : {a = 1}",
        "true ? [] : {}",
        'true ? "a" : [1]',
        "true ? 5 : {}",
        'true ? {a = 1} : {b = "x"}',
        'true ? {a = 1, b = "x"} : {}',
        'true ? {a = 1, b = "x"} : {a = 2, b = "y"}',
        "true ? {a = 1, b = [1]} : {}",
        "true ? {a = 1} : {a = true}",
        'true ? [1, "a"] : []',
        "true ? [1, [2]] : []",
        'true ? [1] : ["a"]',
        "true ? [1] : [[1]]",
        "true ? [1] : [true]",
        'true ? [[1]] : [["a"]]',
        'true ? [1, null] : ["a"]',
        'true ? toset([1, 10, 9]) : ["a"]',
        "true ? toset([1]) : {a = 1}",
        'true ? [{a = "x", n = 1}, {a = "y", l = ["q"]}] : []',
        'true ? [{a = "x", n = 1}, {a = "y"}] : []',
        'true ? [{a = "x", n = [1]}, {a = "y", n = [2, 3]}] : []',
        'true ? {a = {x = 1}, b = {y = "s"}} : {}',
        'false ? {} : {a = 1, b = "x"}',
        'true ? -1.5 : "x"',
    ],
    "for": [
        "[for x in [3, 1, 2] : x * 2 if x > 1]",
        '[for i, x in ["a", "b"] : "${i}${x}"]',
        '[for k, v in toset(["b", "a"]) : "${k}${v}"]',
        "{for k, v in {b = 1, a = 2} : v => k}",
        '{for x in ["a", "bb", "c"] : length(x) => x...}',
        "[for k, v in {b = 1, a = 2} : k]",
        '{for i, v in ["x", "y"] : v => i}',
        "[for x in [] : x]",
        '{for x in ["a", "a"] : x => 1}',
        "[for k, v in {z = {n = 1}, y = {n = 2}} : v.n]",
    ],
    "splats": [
        "[{a = 1}, {a = 2}][*].a",
        "[{a = {b = 1}}][*].a.b",
        "[[1, 2], [3]][*][0]",
        "[{a = 1}].*.a",
        "[][*].a",
    ],
    "templates": [
        '"a%{ if true }b%{ else }c%{ endif }"',
        '"%{ for x in ["a", "b"] }${x},%{ endfor }"',
        '"x %{~ if true ~} y %{~ endif ~} z"',
        '"${"a"}-${1 + 1}-${true}"',
        '"$${literal} %%{x}"',
        '"%{ for k, v in {b = 1, a = 2} }${k}=${v};%{ endfor }"',
        '"${[1]}"',
    ],
    "index and attribute access": [
        "{a = {b = [1, 2]}}.a.b[1]",
        '{a = 1}["a"]',
        "[1, 2, 3][1]",
        '["a", "b"]["1"]',
        '{"x y" = 1}["x y"]',
        "[{a = 1}][0].a",
        "{a = 1}.b",
        "[1][5]",
        '"abc"[0]',
        'tolist(toset(["b", "a"]))[0]',
    ],
}

# Heredocs and multi-line templates: locals of a root the console loads.
HEREDOC_LOCALS = {
    "strip": '<<EOT\n%{~ for x in ["a", "b"] ~}\n  ${x}\n%{~ endfor ~}\nEOT',
    "strip_lines": "<<EOT\nx  %{~ if true ~}  \n   y  \n  %{~ endif ~}\n  z\nEOT",
    "strip_end": '<<EOT\n%{ for s in ["a", "b"] }${s}\n%{ endfor ~}\nEOT',
    "heredoc": "<<EOT\n  a\n  b ${1 + 1}\nEOT",
    "indented": "<<-EOT\n    a\n      b\n    EOT",
    "directive_lines": '<<EOT\n%{ for x in ["a", "b"] }\n${x}\n%{ endfor }\nEOT',
    # <<- strips first, then removes the indentation of the tokens that still start a line.
    "indented_strip": "<<-EOT\n  %{~ if true ~}\n  x\n  %{~ endif ~}\n  EOT",
    "indented_for": '<<-EOT\n    %{ for k in ["b", "a"] ~}\n    ${k};\n    %{ endfor ~}\n  EOT',
    "indented_for_both": (
        '<<-EOT\n    %{~ for k in ["a", "b"] ~}\n      ${k}\n    %{~ endfor ~}\n    end\n    EOT'
    ),
    "indented_strip_to_zero": '<<-EOT\n    a\n    ${~ "b"}\n    c\n    EOT',
    "indented_blank_lines": "<<-EOT\n    a\n  \n\n      b\n    EOT",
    "indented_interpolation_first": '<<-EOT\n    ${"x"} a\n  b\n    EOT',
    "indented_tabs": "<<-EOT\n\t\ta\n\t  b\n  EOT",
    "indented_escapes": '<<-EOT\n    $${a} %%{b}\n      ${"c"}\n    EOT',
    "indented_if_else": (
        "<<-EOT\n  %{ if false ~}\n    no\n  %{~ else ~}\n    yes\n  %{~ endif }\n  done\n  EOT"
    ),
}


# --- the two evaluators -----------------------------------------------------------------------


def _wrapped(expression: str) -> str:
    return f'try(jsonencode({expression}), "ERR")'


def _driftwatch(expressions: Sequence[str], local: dict[str, str] | None = None) -> list[object]:
    values: dict[str, object] = {}
    scope = Scope({}, "console.tf")
    for name, text in (local or {}).items():
        values[name] = evaluate_text(text, scope)
    scope = Scope({"local": values}, "console.tf")
    return [evaluate_text(_wrapped(e), scope) for e in expressions]


def _console(
    expressions: Sequence[str], directory: Path, local: dict[str, str] | None = None
) -> list[object]:
    """One ``terraform console`` call for the whole batch."""
    if local:
        body = "".join(f"  {name} = {text}\n" for name, text in local.items())
        (directory / "main.tf").write_text("locals {\n" + body + "}\n", encoding="utf-8")
    (directory / "empty.tfrc").write_text("", encoding="utf-8")
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(directory / "empty.tfrc"), "TF_IN_AUTOMATION": "1"}
    line = "jsonencode([" + ", ".join(_wrapped(e) for e in expressions) + "])\n"
    assert TERRAFORM is not None
    done = subprocess.run(
        [TERRAFORM, "console"], input=line, capture_output=True, text=True, cwd=directory, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    decoded = json.loads(json.loads(done.stdout.strip()))
    assert isinstance(decoded, list) and len(decoded) == len(expressions)
    return decoded


def _compare(expressions: Sequence[str], tmp_path: Path, local: dict[str, str] | None = None) -> None:
    ours = _driftwatch(expressions, local)
    theirs = _console(expressions, tmp_path, local)
    differences = [
        f"{e}\n    terraform:  {t}\n    driftwatch: {o}"
        for e, o, t in zip(expressions, ours, theirs, strict=True)
        if o != t
    ]
    assert not differences, "\n".join(differences)


# --- tests ------------------------------------------------------------------------------------


def test_every_function_is_covered() -> None:
    """A function added to driftwatch must get differential cases (or be runtime-dependent)."""
    covered = set(FUNCTION_CASES) | set(RUNTIME_DEPENDENT)
    assert set(FUNCTIONS) - covered == set()


def test_functions_match_terraform(tmp_path: Path) -> None:
    _compare([case for cases in FUNCTION_CASES.values() for case in cases], tmp_path)


def test_expression_forms_match_terraform(tmp_path: Path) -> None:
    _compare([case for cases in FORM_CASES.values() for case in cases], tmp_path)


def test_heredocs_match_terraform(tmp_path: Path) -> None:
    _compare([f"local.{name}" for name in HEREDOC_LOCALS], tmp_path, HEREDOC_LOCALS)


# Where driftwatch deliberately differs (docs/terraform-parity.md): Unknown or an error where
# Terraform has a value no attribute can hold (infinity) or panics (a negative element index).
DELIBERATE = [
    "1 / 0",  # Terraform: infinity (1 / 0 > 5 is true); no DynamoDB attribute takes it
    "1 % 0",  # Terraform: 1
    'element(["a"], -1)',  # Terraform: "a" for one element, a Go panic for more
]


def test_deliberate_unknowns() -> None:
    """Values that depend on where or when Terraform runs are Unknown with a reason, never a
    guess; so are the deliberate differences above."""
    scope = Scope({"path": {"cwd": Unknown("path.cwd is where Terraform ran")}}, "console.tf")
    for expression in [*RUNTIME_DEPENDENT.values(), "path.cwd", *DELIBERATE]:
        value = evaluate_text(expression, scope)
        assert isinstance(value, Unknown) and value.reason, expression


# --- generated cases --------------------------------------------------------------------------

_LEAVES = st.one_of(
    st.integers(-20, 20).map(str),
    st.sampled_from(["0.5", "1e3", "0.1", "12345678901234567890123", "2.25"]),
    st.sampled_from(['"a"', '"B c"', '""', '"é"', '"10"', '"true"', "true", "false", "null"]),
)


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(
        inner, st.sampled_from(["+", "-", "*", "/", "%", "==", "!=", "<", ">=", "&&", "||"]), inner
    )
    unary_fn = st.sampled_from(
        ["upper", "lower", "length", "tostring", "tonumber", "abs", "floor", "jsonencode"]
    )
    variadic = st.sampled_from(["max", "min", "concat", "coalesce", "merge"])
    # what for and template directives iterate: lists, sets, maps and objects of leaves
    collection = st.one_of(
        st.lists(inner, max_size=3).map(lambda items: f"[{', '.join(items)}]"),
        st.lists(_LEAVES, max_size=3).map(lambda items: f"toset([{', '.join(items)}])"),
        st.lists(inner, max_size=3).map(
            lambda items: "{" + ", ".join(f"k{2 - i} = {v}" for i, v in enumerate(items)) + "}"
        ),
        st.lists(_LEAVES, max_size=3).map(
            lambda items: "tomap({" + ", ".join(f"m{i} = {v}" for i, v in enumerate(items)) + "})"
        ),
    )
    return st.one_of(
        binary.map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
        st.tuples(unary_fn, inner).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(variadic, st.lists(inner, max_size=3)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.lists(inner, max_size=3).map(lambda items: f"[{', '.join(items)}]"),
        st.lists(inner, max_size=2).map(
            lambda items: "{" + ", ".join(f"k{i} = {v}" for i, v in enumerate(items)) + "}"
        ),
        inner.map(lambda e: f'"x${{{e}}}y"'),
        inner.map(lambda e: f"[for v in [{e}, 1] : v]"),
        st.tuples(inner, inner).map(lambda t: f"[{t[0]}, {t[1]}][1]"),
        st.tuples(collection, inner).map(lambda t: f"[for k, v in {t[0]} : [k, v, {t[1]}]]"),
        collection.map(lambda c: f"{{for k, v in {c} : tostring(v) => k...}}"),
        collection.map(lambda c: f"length({c})"),
        st.tuples(inner, inner).map(lambda t: f'"%{{ if {t[0]} }}a%{{~ else ~}} b %{{ endif }}${{{t[1]}}}"'),
        collection.map(lambda c: f'"%{{ for v in {c} ~}} ${{v}} %{{~ endfor }}"'),
        st.lists(inner, min_size=1, max_size=2).map(
            lambda items: f"[{', '.join(f'{{a = {i}}}' for i in items)}][*].a"
        ),
        st.tuples(inner, inner).map(lambda t: f'{{x = {t[0]}, "y" = {t[1]}}}["y"]'),
    )


EXPRESSIONS = st.recursive(_LEAVES, _extend, max_leaves=6)


GENERATED = 250


def _generated() -> list[str]:
    """GENERATED distinct expressions, the same on every run (derandomized hypothesis): the
    examples are collected first so that Terraform evaluates them all in one console call."""
    seen: dict[str, None] = {}

    @settings(max_examples=GENERATED * 2, derandomize=True, deadline=None, database=None)
    @given(EXPRESSIONS)
    def collect(expression: str) -> None:
        seen.setdefault(expression)

    collect()
    return list(seen)[:GENERATED]


def test_generated_expressions_match_terraform(tmp_path: Path) -> None:
    """Expressions from a small grammar, compared in one console call; the batch must be
    varied (mostly values, some errors) to mean something."""
    expressions = _generated()
    assert len(expressions) >= GENERATED // 2
    results = _driftwatch(expressions)
    assert len(set(map(str, results))) > len(results) // 5
    assert 0 < sum(r == "ERR" for r in results) < len(results) // 2
    _compare(expressions, tmp_path)
