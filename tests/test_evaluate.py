"""The expression evaluator: Terraform's semantics over python-hcl2's typed tree.

Expected values are Terraform's (as `terraform console` prints them), so a case that fails
here is a place where driftwatch would disagree with `terraform plan`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hcl2.api import parses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftwatch.spec import Unknown
from driftwatch.terraform.evaluate import MAX_DEPTH, EvaluationError, Scope, evaluate, evaluate_text
from driftwatch.terraform.functions import FUNCTIONS, is_set

U = Unknown("var.u has no value")


def other_resource(reference: str) -> Unknown:
    """The reason for an attribute of a resource driftwatch does not evaluate."""
    return Unknown(
        f"{reference} is a resource attribute driftwatch does not evaluate"
        " (Terraform keeps it in its state; a new one is known only after apply)"
    )


def data_source(reference: str) -> Unknown:
    """The reason for a data source's attribute driftwatch does not work out."""
    return Unknown(f"{reference} is read by a data source when Terraform plans, which driftwatch does not do")


ARN = other_resource("aws_kms_key.k.arn")


class LazyLocals(Mapping[str, Any]):
    """A lazy ``local`` like modules.py's: each value is evaluated on first access."""

    def __init__(self, expressions: dict[str, str]):
        self.expressions = expressions
        self.evaluated: list[str] = []

    def __getitem__(self, name: str) -> Any:
        if name not in self.expressions:
            raise KeyError(name)
        self.evaluated.append(name)
        return evaluate_text(self.expressions[name], scope())

    def __iter__(self) -> Iterator[str]:
        return iter(self.expressions)

    def __len__(self) -> int:
        return len(self.expressions)


LOCALS = LazyLocals({"env": '"prod"', "name": '"app-${local.env}"', "broken": "var.m.nope"})


def scope(**extra: Any) -> Scope:
    names: dict[str, Any] = {
        "var": {
            "n": 5,
            "s": "hello",
            "b": True,
            "u": U,
            "nothing": None,
            "l": ["a", "b", "c"],
            "m": {"k": "v", "z": "last", "a": "first"},
            "objs": [{"name": "x", "tags": {"env": "dev"}}, {"name": "y", "tags": {"env": "prd"}}],
            "obj": {"name": "solo"},
            "partial": {"known": "yes", "unknown": U},
        },
        "local": LOCALS,
        "module": {
            "label": {"id": "acme-prod-app", "tags": {"Name": "acme"}},
            "counted": [{"arn": "arn:0"}, {"arn": "arn:1"}],
            "each": {"a": {"arn": "arn:a"}},
        },
        "terraform": {"workspace": "default"},
        "path": {"module": "modules/table", "root": ".", "cwd": "."},
    }
    names.update(extra)
    return Scope(names, "main.tf")


def ev(text: str, **extra: Any) -> Any:
    return evaluate_text(text, scope(**extra))


def error_reason(value: Any) -> str:
    assert isinstance(value, Unknown), value
    assert value.reason.startswith("main.tf:"), value.reason
    return value.reason


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # literals: one number type, integral values come back as int
        ("1", 1),
        ("1.5", 1.5),
        ("1.0", 1),
        ("1e3", 1000),
        ("-3", -3),
        ("true", True),
        ("null", None),
        ("[]", []),
        ('{a = 1, "b c" = 2, 3 = "x"}', {"a": 1, "b c": 2, "3": "x"}),
        ("{(var.s) = 1, var.l[0] = 2}", {"hello": 1, "a": 2}),
        # arithmetic and comparison, with Terraform's string-to-number conversion
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("7 / 2", 3.5),
        ("6 / 3", 2),
        ("7 % 3", 1),
        ("-7 % 3", -1),
        ('"5" + 1', 6),
        ("2 - 5", -3),
        ("0.1 + 0.2 > 0.3", False),  # 512-bit numbers: terraform console says false
        ('"10" > 9', True),
        ("3 <= 3", True),
        ("-var.n", -5),
        # equality is type-strict
        ('"5" == 5', False),
        ("1 == 1.0", True),
        ('[1, "a"] == [1, "a"]', True),
        ("{a = 1} == {a = 1}", True),
        ("null == null", True),
        ("var.nothing == null", True),
        ('"a" != "b"', True),
        ('true == "true"', False),
        # logic
        ("true && false", False),
        ("false || true", True),
        ("!false", True),
        ('"true" && true', True),
        # conditionals, with Terraform's type unification of the two branches
        ('true ? "a" : "b"', "a"),
        ('false ? 5 : "none"', "none"),
        ('true ? 5 : "none"', "5"),
        ("1 > 2 ? [1] : []", []),
        ('var.nothing == null ? "default" : var.nothing', "default"),
        # references
        ("var.n", 5),
        ('var.m["k"]', "v"),
        ("var.m.k", "v"),
        ("var.l[0]", "a"),
        ("var.l.1", "b"),
        ('var.l["2"]', "c"),
        ("var.objs[1].tags.env", "prd"),
        ("local.name", "app-prod"),
        ("module.label.id", "acme-prod-app"),
        ("module.counted[1].arn", "arn:1"),
        ('module.each["a"].arn', "arn:a"),
        ("terraform.workspace", "default"),
        ("path.module", "modules/table"),
        ("each.key", "k1"),
        ("count.index", 2),
        # splats: null is [], a single value is [value]
        ("var.objs[*].name", ["x", "y"]),
        ("var.objs.*.name", ["x", "y"]),
        ("var.objs[*].tags.env", ["dev", "prd"]),
        ("var.obj[*].name", ["solo"]),
        ("var.nothing[*]", []),
        ("length(var.objs[*])", 2),
        ("var.objs.*.name[0]", "x"),
        # for expressions: maps iterate in key order
        ("[for s in var.l : upper(s)]", ["A", "B", "C"]),
        ('[for i, s in var.l : "${i}=${s}"]', ["0=a", "1=b", "2=c"]),
        ("[for k, v in var.m : k]", ["a", "k", "z"]),
        ("[for v in var.m : v]", ["first", "v", "last"]),
        ('[for s in var.l : s if s != "b"]', ["a", "c"]),
        ("{for s in var.l : s => upper(s)}", {"a": "A", "b": "B", "c": "C"}),
        ('{for k, v in var.m : v => k if k != "z"}', {"first": "a", "v": "k"}),
        ('{for s in ["a", "bb", "cc"] : length(s) => s...}', {"1": ["a"], "2": ["bb", "cc"]}),
        ("{for o in var.objs : o.name => o.tags}", {"x": {"env": "dev"}, "y": {"env": "prd"}}),
        ("[for x in var.nothing[*] : x]", []),
    ],
)
def test_expressions(expression: str, expected: Any) -> None:
    result = ev(expression, each={"key": "k1", "value": "v1"}, count={"index": 2})
    assert result == expected
    # a non-integral number is a numbers.Num: a float carrying Terraform's 512-bit value
    assert type(result) is type(expected) or (type(expected) is float and isinstance(result, float))


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (r'"a\nb\t\"q\" \\ \u00e9"', 'a\nb\t"q" \\ é'),
        ('"$${not} %%{directive}"', "${not} %{directive}"),
        (
            '"n=${1.5} b=${true} i=${var.n} f=${10 / 4} big=${1e20}"',
            "n=1.5 b=true i=5 f=2.5 big=100000000000000000000",
        ),
        # A template that is only an interpolation is the value itself, not a string.
        ('"${var.l}"', ["a", "b", "c"]),
        ('"${var.n}"', 5),
        ('"x%{ if var.b }yes%{ else }no%{ endif }"', "xyes"),
        ('"x%{ if !var.b }yes%{ else }no%{ endif }"', "xno"),
        ('"%{ if false }never%{ endif }"', ""),
        ('"%{ for s in var.l }${s},%{ endfor }"', "a,b,c,"),
        ('"%{ for k, v in var.m }${k}=${v};%{ endfor }"', "a=first;k=v;z=last;"),
        ('"%{ for s in var.l ~}\n  ${s}\n%{~ endfor }"', "abc"),
        ('"a   %{~ if true ~}   b   %{~ endif ~}   c"', "abc"),
        ('"%{ if var.s == "hello" }match%{ endif }"', "match"),
        ('"${upper("a")}-${var.m["k"]}"', "A-v"),
    ],
)
def test_string_templates(expression: str, expected: Any) -> None:
    assert ev(expression) == expected


HEREDOCS = [
    ("<<EOT\nhello\n  world\nEOT\n", "hello\n  world\n"),
    ("<<-EOT\n    hello\n      world\n    EOT\n", "hello\n  world\n"),
    # literal quotes and backslashes are not escapes in a heredoc; interpolation still works
    ('<<-EOT\n    say "${var.s}" \\n ${upper("x")}\n  EOT\n', 'say "hello" \\n X\n'),
    ("<<EOT\n%{ for s in var.l }${s}\n%{ endfor ~}\nEOT\n", "a\nb\nc\n"),
    ("<<EOT\n$${literal}\nEOT\n", "${literal}\n"),
    ('<<EOT\n{"key": "${var.m.k}"}\nEOT\n', '{"key": "v"}\n'),
    ("<<EOT\nEOT\n", ""),
    # <<- with ~ (values from Terraform 1.11): HCL strips first, then removes the indentation of
    # the tokens that still start a line; a line whose newline was eaten keeps its indentation.
    ("<<-EOT\n    %{ for k in var.l ~}\n    ${k};\n    %{ endfor ~}\n  EOT\n", "    a;\n    b;\n    c;\n"),
    # a line-start token stripped to nothing counts as zero indentation: nothing is removed
    ('<<-EOT\n    a\n    ${~ "b"}\n    c\n    EOT\n', "    a\nb\n    c\n"),
    ("<<-EOT\n  %{~ if true ~}\n  x\n  %{~ endif ~}\n  EOT\n", "  x\n"),
    # whitespace-only lines do not count, and keep what is beyond the margin
    ("<<-EOT\n    a\n  \n\n      b\n    EOT\n", "a\n  \n\n  b\n"),
]


@pytest.mark.parametrize(("expression", "expected"), HEREDOCS)
def test_heredocs(expression: str, expected: str) -> None:
    assert ev(expression) == expected


def test_heredoc_errors_point_at_the_line_inside_the_heredoc() -> None:
    tree = parses("a = 1\nb = <<EOT\nfirst\n${var.nope}\nEOT\n")
    attribute = [c for c in tree.body.children if type(c).__name__ == "AttributeRule"][1]
    assert evaluate(attribute.expression, scope()) == Unknown("main.tf:4: var.nope is not declared")


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (
            "aws_kms_key.main.arn",
            other_resource("aws_kms_key.main.arn"),
        ),
        (
            "aws_kms_key.main[0].arn",
            other_resource("aws_kms_key.main[0].arn"),
        ),
        (
            "aws_kms_key.main",
            Unknown(
                "aws_kms_key.main is another resource as a whole, which driftwatch does not evaluate"
                " (Terraform keeps it in its state; a new one is known only after apply)"
            ),
        ),
        (
            "data.aws_caller_identity.current.account_id",
            data_source("data.aws_caller_identity.current.account_id"),
        ),
        (
            '"arn:${data.aws_partition.current.partition}:x"',
            data_source("data.aws_partition.current.partition"),
        ),
        (
            "upper(aws_s3_bucket.b.id)",
            other_resource("aws_s3_bucket.b.id"),
        ),
    ],
)
def test_references_outside_the_configuration_are_unknown_with_the_whole_reference(
    expression: str, expected: Unknown
) -> None:
    assert ev(expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("var.u", U),
        ("var.u + 1", U),
        ("1 + var.u", U),
        ("-var.u", U),
        ("!var.u", U),
        ("var.u == 1", U),
        ("var.u.attr", U),
        ("var.u[0]", U),
        ("var.l[var.u]", U),
        ("var.u[*].x", U),
        ('"x-${var.u}"', U),
        ('"%{ if var.u }a%{ endif }"', U),
        ("[for x in var.u : x]", U),
        ("[for x in var.l : x if var.u]", U),
        ("{for x in var.l : var.u => x}", U),
        ("{(var.u) = 1}", U),
        # partially-known values survive inside collections
        ("[1, var.u]", [1, U]),
        ("{a = var.u, b = 2}", {"a": U, "b": 2}),
        ("[for x in [1, var.u] : x]", [1, U]),
        ("var.partial.known", "yes"),
        ("merge(var.partial, {extra = 1})", {"known": "yes", "unknown": U, "extra": 1}),
        # decided regardless of the unknown side
        ("false && var.u", False),
        ("var.u && false", False),
        ("true || var.u", True),
        ("var.u || true", True),
        ("var.u && true", U),
        ("var.u ? 1 : 1", 1),
        ("var.u ? (var.u ? 1 : 1) : 1", 1),
        ('var.u ? 1 : "1"', U),
        ('var.u ? "a" : "b"', U),
        ("var.u ? 1 : var.nope", U),
        ("[var.u] == [1, 2]", False),
        ("var.partial == null", False),
    ],
)
def test_unknown_propagation(expression: str, expected: Any) -> None:
    assert ev(expression) == expected


# Terraform (1.6+) refines the unknown result of most functions as "not null", so comparing it
# with null is decided at plan time. Each row was printed by `terraform console` 1.11.4 with
# aws_kms_key.k.arn unknown (a resource not applied). mineiros-io/terraform-aws-dynamodb writes
# `enabled = length(var.kms_key_arn) != null ? true : false` in its server_side_encryption
# block: driftwatch left SSE unresolved where terraform plan knows it is on.
@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("length(aws_kms_key.k.arn) != null", True),
        ("length(aws_kms_key.k.arn) == null", False),
        ('length(aws_kms_key.k.arn) != null ? "on" : "off"', "on"),
        ("null != upper(aws_kms_key.k.arn)", True),
        ("lower(aws_kms_key.k.arn) == null", False),
        ("trimspace(aws_kms_key.k.arn) != null", True),
        ('join(",", [aws_kms_key.k.arn]) != null', True),
        ('replace(aws_kms_key.k.arn, "a", "b") != null', True),
        ('coalesce(aws_kms_key.k.arn, "x") != null', True),
        ("nonsensitive(sensitive(length(aws_kms_key.k.arn))) != null", True),
        # Not refined: Terraform prints "(known after apply)" for each of these.
        ("aws_kms_key.k.arn == null", ARN),
        ('format("%s", aws_kms_key.k.arn) != null', ARN),
        ('lookup({a = aws_kms_key.k.arn}, "a", null) != null', ARN),
        ("tostring(aws_kms_key.k.arn) != null", ARN),
        ('"${aws_kms_key.k.arn}" != null', ARN),
        ("try(length(aws_kms_key.k.arn), 0) != null", ARN),
        ("can(length(aws_kms_key.k.arn)) != null", ARN),
        ("length(aws_kms_key.k.arn) > 0", ARN),
        ('aws_kms_key.k.arn != ""', ARN),
        # The refinement is the function's own: an unknown it only passes on may stand for null.
        ('(upper(aws_kms_key.k.arn) == "A" ? null : "b") != null', ARN),
        ("lookup({a = null}, upper(aws_kms_key.k.arn), null) != null", ARN),
        ("{a = null}[upper(aws_kms_key.k.arn)] != null", ARN),
        ("element([null], length(aws_kms_key.k.arn)) != null", ARN),
    ],
)
def test_a_function_result_terraform_knows_is_not_null_compares_with_null(
    expression: str, expected: Any
) -> None:
    assert ev(expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('try(var.m.nope, "fallback")', "fallback"),
        ('try(var.m.k, "fallback")', "v"),
        ('try(var.l[10], var.m.nope, "third")', "third"),
        ('try(tonumber("x"), 0)', 0),
        # A local that failed is already Unknown (with its error) by the time try() sees it.
        ('try(local.broken, "fallback")', Unknown('main.tf:1: var.m has no attribute "nope"')),
        ("try(var.u, 1)", U),
        ("try(var.partial, {})", U),
        (
            'try(aws_kms_key.k.arn, "none")',
            other_resource("aws_kms_key.k.arn"),
        ),
        ("can(var.m.nope)", False),
        ("can(var.m.k)", True),
        ("can(1 / 0)", False),
        ('can(regex("^[a-z]+$", var.s))', True),
        ('can(regex("^[0-9]+$", var.s))', False),
        ("can(var.u)", U),
        ("try(can(var.nothing.x) ? 1 : 2, 3)", 2),
        ('"${try(var.obj.missing, "d")}-x"', "d-x"),
    ],
)
def test_try_and_can(expression: str, expected: Any) -> None:
    assert ev(expression) == expected


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("var.nope", "var.nope is not declared"),
        ("local.nope", "local.nope is not declared"),
        ("var.m.nope", 'var.m has no attribute "nope"'),
        ('var.m["nope"]', 'var.m has no key "nope"'),
        ("var.l[3]", "index 3 is out of range"),
        ("var.l[-1]", "out of range"),
        ('var.l["x"]', "invalid index"),
        ("var.nothing.x", "is null"),
        ("var.nothing[0]", "is null"),
        ("var.l.name", "is a list"),
        ("var.s.x", "is a string"),
        ("var.s[0]", "cannot be indexed"),
        ("1 / 0", "division by zero"),
        ("5 % 0", "division by zero"),
        ('"a" * 2', "a number is required"),
        ("true + 1", "a number is required"),
        ("1 && true", "a bool is required"),
        ("null ? 1 : 2", "condition is null"),
        ('"x${var.nothing}"', "cannot include a null value"),
        ('"x${var.l}"', "cannot include a list value"),
        ("{(null) = 1}", "object key must be a string"),
        ('{for s in ["a", "a"] : s => 1}', 'duplicate key "a"'),
        ("[for x in 5 : x]", "cannot iterate over a number"),
        ("[for x in null : x]", "null"),
        ("undeclared_name", 'unknown name "undeclared_name"'),
        ("each.value", '"each" is not available here'),
        ('upper("a", "b")', "wrong number of arguments"),
        ("try(var.nope, var.m.nope)", "no argument could be evaluated"),
        ("can(1, 2)", "exactly one argument"),
        ("concat(var.s...)", "must be a list"),
    ],
)
def test_errors_become_unknown_with_file_and_line(expression: str, fragment: str) -> None:
    result = evaluate_text(
        expression, Scope({k: v for k, v in scope().names.items() if k != "each"}, "main.tf")
    )
    reason = error_reason(result)
    assert reason.startswith("main.tf:1: ")
    assert fragment in reason


def test_error_lines_come_from_the_parsed_file() -> None:
    tree = parses("a = 1\n\nb = {\n  x = 1\n  y = var.m.nope\n}\n")
    attribute = [c for c in tree.body.children if type(c).__name__ == "AttributeRule"][1]
    assert evaluate(attribute.expression, scope()) == Unknown('main.tf:5: var.m has no attribute "nope"')


def test_error_without_a_file_names_the_line() -> None:
    assert evaluate_text("1 / 0", Scope({})) == Unknown("line 1: operator /: division by zero")


def test_locals_are_only_evaluated_when_referenced() -> None:
    lazy = LazyLocals({"used": "1", "unused": "var.m.nope"})
    assert ev("local.used + 1", local=lazy) == 2
    assert lazy.evaluated == ["used"]


def test_a_local_evaluating_to_unknown_propagates() -> None:
    lazy = LazyLocals({"arn": "aws_kms_key.k.arn"})
    assert ev('"${local.arn}/x"', local=lazy) == Unknown(other_resource("aws_kms_key.k.arn").reason)


def test_whole_lazy_mappings_become_plain_dicts() -> None:
    lazy = LazyLocals({"a": "1", "b": '"x"'})
    result = ev("local", local=lazy)
    assert result == {"a": 1, "b": "x"}
    assert type(result) is dict


def test_scope_child_adds_names_without_changing_the_parent() -> None:
    parent = Scope({"var": {"a": 1}}, "f.tf")
    child = parent.child(each={"key": "k", "value": 2})
    assert evaluate_text("var.a + each.value", child) == 3
    assert child.file == "f.tf"
    assert "each" not in parent.names


def test_evaluate_takes_an_attribute_expression_from_a_parsed_file() -> None:
    tree = parses('name = "${var.s}-${terraform.workspace}"\n')
    attribute = tree.body.children[0]
    assert evaluate(attribute.expression, scope()) == "hello-default"


@pytest.mark.parametrize("text", ["1 +", "{a = }", '"unterminated'])
def test_unparseable_text_is_unknown(text: str) -> None:
    result = ev(text)
    assert isinstance(result, Unknown)
    assert "cannot parse" in result.reason


def test_text_with_more_than_one_expression_is_unknown() -> None:
    result = ev("1\nother = 2")
    assert isinstance(result, Unknown)
    assert "not a single expression" in result.reason


# --- depth limit -----------------------------------------------------------------------------


def _parse_deep(source: str) -> Any:
    """python-hcl2's transformer recurses per nesting level, so deep input needs stack to parse."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(20_000)
    try:
        return parses(f"x = {source}\n").body.children[0].expression
    finally:
        sys.setrecursionlimit(old)


@pytest.mark.parametrize(
    "source",
    [
        "abs(" * (MAX_DEPTH + 50) + "1" + ")" * (MAX_DEPTH + 50),
        "(" * (MAX_DEPTH + 50) + "1" + ")" * (MAX_DEPTH + 50),
        "[" * (MAX_DEPTH + 50) + "1" + "]" * (MAX_DEPTH + 50),
        "1" + " + (1" * (MAX_DEPTH + 50) + ")" * (MAX_DEPTH + 50),
    ],
    ids=["calls", "parentheses", "lists", "operators"],
)
def test_nesting_beyond_max_depth_raises_evaluation_error(source: str) -> None:
    expression = _parse_deep(source)
    with pytest.raises(EvaluationError) as raised:
        evaluate(expression, Scope({}, "deep.tf"))
    assert raised.value.line == 1


def test_nesting_within_max_depth_evaluates() -> None:
    depth = MAX_DEPTH - 10
    expression = _parse_deep("abs(" * depth + "-1" + ")" * depth)
    assert evaluate(expression, Scope({})) == 1


def test_depth_is_shared_across_lazily_evaluated_locals() -> None:
    """A long chain of locals is one deep stack; it must stop at the limit, not overflow."""

    class Chain(Mapping[str, Any]):
        def __getitem__(self, name: str) -> Any:
            index = int(name[1:])
            text = "0" if index == 0 else f"local.l{index - 1} + 1"
            return evaluate_text(text, Scope({"local": self}))

        def __iter__(self) -> Iterator[str]:
            return iter(())

        def __len__(self) -> int:
            return 0

    assert evaluate_text("local.l20", Scope({"local": Chain()})) == 20
    with pytest.raises(EvaluationError):
        evaluate_text(f"local.l{MAX_DEPTH * 2}", Scope({"local": Chain()}))


# --- property: anything a user can write evaluates or hits the depth limit --------------------

_NAMES = sorted([*FUNCTIONS, "try", "can", "nosuchfunction"])
_LEAVES = st.one_of(
    st.integers(-5, 5).map(str),
    st.sampled_from(["1.5", "true", "false", "null", '""', '"a"', '"5"', '"a,b"', "[]", "{}"]),
    st.sampled_from(
        ["var.n", "var.s", "var.l", "var.m", "var.u", "var.nothing", "var.objs", "aws_x.y.z", "local.env"]
    ),
)


def _compound(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    operators = ["+", "-", "*", "/", "%", "==", "!=", "<", ">=", "&&", "||"]
    return st.one_of(
        st.tuples(children, st.sampled_from(operators), children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["-", "!"]), children).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(children, children, children).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
        st.lists(children, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(st.tuples(st.sampled_from("abc"), children), max_size=3).map(
            lambda kv: "{" + ", ".join(f"{k} = {v}" for k, v in kv) + "}"
        ),
        st.tuples(st.sampled_from(_NAMES), st.lists(children, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"
        ),
        st.tuples(children, children).map(lambda t: f"{t[0]}[{t[1]}]"),
        st.tuples(children, st.sampled_from(["name", "k", "0"])).map(lambda t: f"({t[0]}).{t[1]}"),
        st.tuples(children, children).map(lambda t: f"[for x in {t[0]} : {t[1]}]"),
        st.tuples(children, children).map(lambda t: f"{{for k, v in {t[0]} : tostring(k) => {t[1]}}}"),
        st.tuples(children, children).map(lambda t: f'"a${{{t[0]}}}b%{{ if {t[1]} }}c%{{ endif }}"'),
        children.map(lambda c: f"({c})[*]"),
    )


EXPRESSIONS = st.recursive(_LEAVES, _compound, max_leaves=12)


def _is_plain(value: Any) -> bool:
    if isinstance(value, (str, int, float, bool, Unknown)) or value is None:
        return True
    if isinstance(value, list):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    return False


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EXPRESSIONS)
def test_any_expression_evaluates_to_a_plain_value_or_unknown(expression: str) -> None:
    try:
        result = ev(expression)
    except EvaluationError:
        return
    assert _is_plain(result), (expression, result)


# --- property: any expression over any values, and any text, is a value, Unknown or the limit --

# Values as tfvars, module inputs and data can hold them, Unknowns anywhere inside.
ANY_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.text(max_size=6)
    | st.builds(Unknown, st.text(min_size=1, max_size=4)),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=3), children, max_size=4)
    ),
    max_leaves=12,
)
_VALUE_LEAVES = st.one_of(
    _LEAVES,
    st.sampled_from(["var.x", "var.y", "var.x[0]", "var.x.a", "var.y[*]", "var.x[*].a", "var.y[var.x]"]),
)
EXPRESSIONS_OVER_VALUES = st.recursive(_VALUE_LEAVES, _compound, max_leaves=10)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EXPRESSIONS_OVER_VALUES, ANY_VALUES, ANY_VALUES)
def test_any_expression_over_any_values_is_a_plain_value_or_unknown(expression: str, x: Any, y: Any) -> None:
    values = {**scope().names["var"], "x": x, "y": y}
    try:
        result = evaluate_text(expression, Scope({**scope().names, "var": values}, "any.tf"))
    except EvaluationError:  # the one documented exception: a hard limit
        return
    assert _is_plain(result), (expression, x, y, result)


_HCL_CHARACTERS = st.sampled_from(
    [*'[]{}()"$%~:?=<>!&|+-*/.,#\\ \n\t0123456789abcxyz_', "${", "%{", "<<EOT\n", "\nEOT\n"]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=40), st.lists(_HCL_CHARACTERS, max_size=40).map("".join)))
def test_any_text_is_a_plain_value_or_unknown(text: str) -> None:
    """What a ``-var`` or ``TF_VAR_`` value may hold: parsed and evaluated without surprises."""
    try:
        result = evaluate_text(text, scope())
    except EvaluationError:
        return
    assert _is_plain(result), (text, result)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # values from Terraform 1.11: the chosen result converted to the type both results share
        ('true ? {a = 1, b = "x"} : {}', {"a": "1", "b": "x"}),
        ('true ? {a = 1, b = "x"} : {a = 2, b = "y"}', {"a": 1, "b": "x"}),
        ('true ? [1, "a"] : []', ["1", "a"]),
        ('true ? [[1]] : [["a"]]', [["1"]]),
        ('true ? [{a = "x", n = 1}, {a = "y"}] : []', [{"a": "x", "n": "1"}, {"a": "y"}]),
        ("true ? [1, 2] : []", [1, 2]),
    ],
)
def test_a_conditional_unifies_its_result_with_a_constant_branch(expression: str, expected: Any) -> None:
    assert ev(expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # terraform console 1.11.4: a set of the set's element type, whichever branch is chosen
        ('false ? toset(["a"]) : []', []),
        ('true ? [] : toset(["a"])', []),
        ('false ? toset(["a"]) : ["c", "b", "c"]', ["b", "c"]),
        ('false ? toset(["a"]) : [1]', ["1"]),
        ('false ? toset([1]) : ["2"]', [2]),
        ('true ? toset(["b", "a"]) : []', ["a", "b"]),
    ],
)
def test_a_conditional_between_a_set_and_a_tuple_is_a_set(expression: str, expected: list[Any]) -> None:
    """``flag ? toset([...]) : []`` is a set either way (a public module's ``for_each``, eighth
    survey): never a tuple, which ``for_each`` would refuse."""
    result = ev(expression)
    assert is_set(result) and list(result) == expected


@pytest.mark.parametrize(
    "expression",
    [
        "true ? [1] : {a = 1}",
        "true ? [] : {}",
        'true ? "a" : [1]',
        "true ? {a = 1, b = [1]} : {}",
        "true ? [1] : [true]",
    ],
)
def test_a_conditional_without_a_common_result_type_is_refused(expression: str) -> None:
    result = ev(expression)
    assert isinstance(result, Unknown) and "inconsistent conditional result types" in result.reason
