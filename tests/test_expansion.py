"""``count`` and ``for_each`` make the instances Terraform makes, and a value Terraform refuses
makes the module call or resource *not evaluated* with the reason: never zero instances (tables
silently not watched), never a count truncated or a list Terraform would reject.

The same cases are checked against ``terraform plan`` (built-in ``terraform_data`` resources:
no provider, no init; two plans of a fraction of a second), where terraform is installed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.terraform_support import REQUIRES_TERRAFORM_CLI, terraform
from tests.test_modules import CHILD, declare, write_tree

# (argument, expression, instance keys Terraform creates, or a word of the reason it refuses)
ACCEPTED: list[tuple[str, str, list[object]]] = [
    ("count", '"3"', [0, 1, 2]),  # cty converts a string holding a number
    ("count", '"2.0"', [0, 1]),
    ("count", '"1e1"', list(range(10))),
    ("count", "2.0", [0, 1]),
    ("count", "0", []),
    ("count", "sensitive(2)", [0, 1]),
    ("for_each", 'toset(["b", "a", "a"])', ["a", "b"]),
    ("for_each", "{ x = 1, y = null }", ["x", "y"]),  # a map may hold nulls
    ("for_each", '{ x = 1, y = "s" }', ["x", "y"]),  # an object
    ("for_each", '{ x = sensitive("v") }', ["x"]),  # sensitive values inside a map are fine
    ("for_each", "{}", []),
    ("for_each", "toset([])", []),
    # a conditional between a set and a tuple is a set whichever branch is taken (Terraform
    # unifies the two results); met in a public module (eighth survey, count_gsi_insights)
    ("for_each", 'false ? toset(["a"]) : []', []),
    ("for_each", 'true ? [] : toset(["a"])', []),
    ("for_each", 'false ? toset(["a"]) : ["c", "b", "c"]', ["b", "c"]),
]
REFUSED: list[tuple[str, str, str]] = [
    ("count", "2.5", "whole number"),  # never truncated to 2
    ("count", '"2.5"', "whole number"),
    ("count", "-1", "greater than or equal to zero"),
    ("count", "null", "null"),
    ("count", '"abc"', "a number is required"),
    ("count", '" 2"', "a number is required"),
    ("count", "true", "a number is required"),
    ("count", "[1]", "a number is required"),
    ("for_each", '["a", "b"]', "toset()"),  # a list, even of strings
    ("for_each", 'toset(["a", null])', "must not contain null"),
    ("for_each", "toset([1, 2])", "sets of strings"),
    ("for_each", "null", "null"),
    ("for_each", '"a"', "map or a set of strings"),
]


def _key(argument: str, key: object) -> str:
    return f"[{key}]" if argument == "count" else f'["{key}"]'


def test_count_and_for_each_make_terraforms_instances_or_are_not_evaluated(tmp_path: Path) -> None:
    calls = []
    for i, (argument, expression, _) in enumerate([*ACCEPTED, *REFUSED]):
        name = "count.index" if argument == "count" else "each.key"
        calls.append(
            f'module "m{i}" {{\n  source = "../modules/table"\n  {argument} = {expression}\n'
            f'  name = "m{i}-${{{name}}}"\n}}\n'
        )
    # A resource is expanded by the same rules: one accepted, one refused.
    calls.append('resource "aws_dynamodb_table" "r_ok" {\n  count = "2"\n  name = "r${count.index}"\n}\n')
    calls.append('resource "aws_dynamodb_table" "r_bad" {\n  for_each = ["a"]\n  name = each.key\n}\n')
    write_tree(tmp_path, {**CHILD, "root/main.tf": "".join(calls)})
    result = declare(tmp_path)

    made = {t.address for t in result.tables}
    for i, (argument, expression, keys) in enumerate(ACCEPTED):
        expected = {f"module.m{i}{_key(argument, k)}.aws_dynamodb_table.t" for k in keys}
        assert {a for a in made if a.startswith(f"module.m{i}[")} == expected, expression
    assert {a for a in made if a.startswith("aws_dynamodb_table.r_ok")} == {
        "aws_dynamodb_table.r_ok[0]",
        "aws_dynamodb_table.r_ok[1]",
    }

    skipped = {item.address: item.reason for item in result.not_evaluated}
    errors = " | ".join(e.message for e in result.errors)
    for i, (argument, expression, word) in enumerate(REFUSED, start=len(ACCEPTED)):
        address = f"module.m{i}"
        assert not any(a.startswith(f"{address}[") for a in made), expression
        assert word in skipped.get(address, ""), (expression, skipped.get(address))
        assert f"{argument} of {address} is invalid" in errors, expression
    assert "toset()" in skipped.get("aws_dynamodb_table.r_bad", "")
    assert not any("r_bad" in a for a in made)


@REQUIRES_TERRAFORM_CLI
def test_terraform_plan_agrees_on_every_case(tmp_path: Path) -> None:
    """What the cases above say Terraform does, measured: the accepted ones create exactly the
    listed instances, each refused one is an error at its own line."""
    good, bad = tmp_path / "good", tmp_path / "bad"
    for folder, cases in ((good, ACCEPTED), (bad, REFUSED)):
        folder.mkdir()
        (folder / "cli.tfrc").write_text("")
        lines = [f'resource "terraform_data" "r{i}" {{ {a} = {e} }}' for i, (a, e, _) in enumerate(cases)]
        (folder / "main.tf").write_text("\n".join(lines) + "\n")

    planned = terraform(good, "plan", "-no-color", "-input=false").stdout
    created = set(re.findall(r"# (terraform_data\.\S+) will be created", planned))
    expected = {f"terraform_data.r{i}{_key(a, k)}" for i, (a, _, keys) in enumerate(ACCEPTED) for k in keys}
    assert created == expected

    refused = terraform(bad, "plan", "-no-color", "-input=false", ok=(1,)).stderr
    failing_lines = {int(n) for n in re.findall(r"on main\.tf line (\d+)", refused)}
    assert failing_lines == set(range(1, len(REFUSED) + 1))


@pytest.mark.parametrize("value", [2.5, -1, None, True, "x"])
def test_count_instances_refuses_what_terraform_refuses(value: object) -> None:
    from driftwatch.terraform.expansion import ExpansionError, count_instances

    with pytest.raises(ExpansionError):
        count_instances(value)


# A for_each key as Terraform writes it in an instance address (its ``toHCLQuotedString``),
# as terraform 1.11.4 wrote them in its state: HCL escapes for quote, backslash, \n \r \t,
# ``${``/``%{`` doubled, \uXXXX / \UXXXXXXXX for what Go's unicode.IsPrint refuses (controls,
# format characters, spaces other than " ", private use), everything else as it is.
QUOTED_KEYS: list[tuple[str, str]] = [
    ("", '""'),
    ('q"x', '"q\\"x"'),
    ("b\\s", '"b\\\\s"'),
    ("n\nl", '"n\\nl"'),
    ("cr\rx", '"cr\\rx"'),
    ("t\tb", '"t\\tb"'),
    ("d${x}", '"d$${x}"'),
    ("p%{x}", '"p%%{x}"'),
    ("d$", '"d$"'),
    ("p%", '"p%"'),
    ("a.b", '"a.b"'),
    ("sp ace", '"sp ace"'),
    ("ü", '"ü"'),
    ("e\U0001f600", '"e\U0001f600"'),
    ("comb\u0301", '"comb\u0301"'),
    ("c\u0001c", '"c\\u0001c"'),
    ("del\u007f", '"del\\u007f"'),
    ("nb\u00a0sp", '"nb\\u00a0sp"'),
    ("soft\u00ad", '"soft\\u00ad"'),
    ("zw\u200bsp", '"zw\\u200bsp"'),
    ("lsep\u2028", '"lsep\\u2028"'),
    ("ideo\u3000sp", '"ideo\\u3000sp"'),
    ("pu\ue000", '"pu\\ue000"'),
    ("tg\U000e0001", '"tg\\U000e0001"'),
]


@pytest.mark.parametrize(("key", "quoted"), QUOTED_KEYS)
def test_a_for_each_key_is_quoted_in_the_address_as_terraform_quotes_it(key: str, quoted: str) -> None:
    from driftwatch.terraform.expansion import instance_key

    assert instance_key(key) == f"[{quoted}]"


def test_a_table_keyed_with_a_quote_has_terraforms_address(tmp_path: Path) -> None:
    """Before, ``module.m["q"x"]``: the table was watched under an address that is not the
    state's (history, ``pending`` and a reader matching addresses all missed it)."""
    root = (
        'module "m" {\n  source = "../modules/table"\n  for_each = toset(["q\\"x", "n\\nl"])\n'
        '  name = "m-${md5(each.key)}"\n}\n'
        'resource "aws_dynamodb_table" "r" {\n  for_each = { "b\\\\s" = 1 }\n  name = "r"\n}\n'
    )
    write_tree(tmp_path, {**CHILD, "root/main.tf": root})
    assert {t.address for t in declare(tmp_path).tables} == {
        'module.m["q\\"x"].aws_dynamodb_table.t',
        'module.m["n\\nl"].aws_dynamodb_table.t',
        'aws_dynamodb_table.r["b\\\\s"]',
    }


@REQUIRES_TERRAFORM_CLI
def test_terraform_quotes_for_each_keys_in_addresses_as_recorded(tmp_path: Path) -> None:
    """QUOTED_KEYS measured: ``terraform plan`` of ``terraform_data`` (no provider, no init)
    over the same keys gives exactly these addresses."""
    import json

    (tmp_path / "cli.tfrc").write_text("")
    written = (json.dumps(key, ensure_ascii=False) for key, _ in QUOTED_KEYS)
    keys = ", ".join(text.replace("${", "$${").replace("%{", "%%{") for text in written)
    (tmp_path / "main.tf").write_text(f'resource "terraform_data" "k" {{\n  for_each = toset([{keys}])\n}}\n')
    terraform(tmp_path, "plan", "-out=plan.bin", "-no-color", "-input=false")
    shown = json.loads(terraform(tmp_path, "show", "-json", "plan.bin").stdout)
    assert {rc["address"] for rc in shown["resource_changes"]} == {
        f"terraform_data.k[{quoted}]" for _, quoted in QUOTED_KEYS
    }
