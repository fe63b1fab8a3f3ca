"""yamldecode and csvdecode without Terraform: the bounds a hostile YAML document meets, and
tables declared from a ``for_each`` over decoded data.

The values themselves are compared with ``terraform console`` in test_differential_console.py;
here is what the console cannot show: a "billion laughs" alias bomb, nesting and size limits
refused while the document is read (not after building the value), and the whole path from a
``for_each = yamldecode(...)`` to the tables driftwatch watches.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from driftwatch.spec import Unknown
from driftwatch.terraform import limits, yaml_decode
from driftwatch.terraform.evaluate import Scope, evaluate_text
from driftwatch.terraform.modules import TargetDeclarations, TargetInput, declare_target
from driftwatch.terraform.parse import ParseCache


def _evaluate(expression: str, **values: Any) -> Any:
    return evaluate_text(expression, Scope({"local": values}, "main.tf"))


def _laughs(levels: int, width: int = 9) -> str:
    """The billion-laughs document: each level repeats the previous one ``width`` times."""
    lines = ['l0: &l0 "lol"']
    for level in range(1, levels + 1):
        items = ", ".join([f"*l{level - 1}"] * width)
        lines.append(f"l{level}: &l{level} [{items}]")
    return "\n".join(lines) + "\n"


# --- bounds ----------------------------------------------------------------------------------


def test_an_alias_bomb_is_refused_while_it_is_read() -> None:
    """Nine levels of nine aliases are 387 million strings once expanded; the decoder counts
    each alias as a copy of its anchor and stops past MAX_VALUE_ELEMENTS, without building
    the value."""
    document = _laughs(9)
    assert len(document) < 1_000
    with pytest.raises(limits.ValueTooLarge, match="elements"):
        yaml_decode.decode(document)


def test_an_alias_bomb_is_unknown_at_its_line_even_under_try() -> None:
    """terraform 1.11.4 runs out of memory on it (no value, no fallback either): the bound is
    driftwatch's, so try() does not take it for an error (its fallback was chosen)."""
    value = _evaluate("yamldecode(local.doc)", doc=_laughs(9))
    assert isinstance(value, Unknown) and "more than 100,000 elements" in value.reason
    tried = _evaluate('try(yamldecode(local.doc), "refused")', doc=_laughs(9))
    assert isinstance(tried, Unknown) and "more than 100,000 elements" in tried.reason


def test_aliases_under_the_limit_are_values() -> None:
    """Four levels (9**4 = 6,561 strings) are an ordinary value: aliases repeat their anchor."""
    decoded = yaml_decode.decode(_laughs(4))
    assert len(decoded["l4"]) == 9 and decoded["l4"][0] == decoded["l3"]
    assert sum(len(inner) for middle in decoded["l4"] for inner in middle) == 9**3
    decoded["l4"][0][0][0][0] = "changed"  # each alias has its own copy
    assert decoded["l3"][0][0][0] == "lol"


def test_aliased_strings_count_their_characters() -> None:
    """A long string repeated by aliases is as large as its copies."""
    text = "x" * 200_000
    document = f"a: &a {text}\nb: [*a, *a, *a, *a, *a, *a]\n"
    with pytest.raises(limits.ValueTooLarge, match="characters"):
        yaml_decode.decode(document)


def test_deep_nesting_is_refused_before_the_end_of_the_document() -> None:
    """100,000 nested flow sequences: refused at the 101st level (the events are read lazily)."""
    document = "[" * 100_000 + "]" * 100_000
    with pytest.raises(limits.ValueTooLarge, match="nested deeper than 100"):
        yaml_decode.decode(document)


def test_nesting_to_the_limit_is_a_value() -> None:
    document = "[" * limits.MAX_VALUE_DEPTH + "]" * limits.MAX_VALUE_DEPTH
    value = yaml_decode.decode(document)
    for _ in range(limits.MAX_VALUE_DEPTH - 1):
        (value,) = value
    assert value == []


def test_a_huge_document_spends_the_evaluation_budget() -> None:
    """Reading a large document is work charged against the step budget, so a repository of
    many large documents ends in a bounded, reported error rather than minutes of CPU."""
    document = "\n".join(f"k{i}: v{i}" for i in range(60_000))
    with limits.budget(5_000), pytest.raises(limits.BudgetExceeded):
        yaml_decode.decode(document)
    assert len(yaml_decode.decode(document)) == 60_000  # without a budget it is a value


def test_a_self_referencing_anchor_is_an_error() -> None:
    with pytest.raises(yaml_decode.YamlError, match="inside its own definition"):
        yaml_decode.decode("a: &a [1, *a]")


@pytest.mark.parametrize(
    "document",
    [
        "!!python/object/apply:os.system ['true']",
        "a: !!python/name:os.system",
        "a: !custom x",
        "a: !!set {b: 1}",
    ],
)
def test_no_tag_constructs_anything(document: str) -> None:
    """Only YAML's own scalar and collection tags are understood, as in go-cty-yaml; the
    parser builds no Python objects at all (events only)."""
    with pytest.raises(yaml_decode.YamlError, match="tag"):
        yaml_decode.decode(document)


def test_infinity_is_unknown_with_the_reason() -> None:
    """Terraform has an infinite number; driftwatch's numbers do not, and no table setting
    takes one: Unknown in its place, the rest of the document a value."""
    value = _evaluate('yamldecode("a: .inf\\nb: 1")')
    assert value["b"] == 1
    assert isinstance(value["a"], Unknown) and "infinity" in value["a"].reason
    assert _evaluate('keys(yamldecode(".inf: 1\\n-.inf: 2"))') == ["+Inf", "-Inf"]


# --- tables declared from decoded data -------------------------------------------------------

TABLES_YAML = """\
orders:
  hash_key: id
  billing: PAY_PER_REQUEST
users:
  hash_key: user_id
  billing: PROVISIONED
  read: 5
  write: 0x0A
yes:            # YAML 1.1: this key is "true" in Terraform, so is the table's name
  hash_key: pk
  billing: PAY_PER_REQUEST
"""

ROOT = """\
locals {
  tables = yamldecode(%s)
}

resource "aws_dynamodb_table" "t" {
  for_each       = local.tables
  name           = "app-${each.key}"
  billing_mode   = each.value.billing
  hash_key       = each.value.hash_key
  read_capacity  = try(each.value.read, null)
  write_capacity = try(each.value.write, null)
  attribute {
    name = each.value.hash_key
    type = "S"
  }
}
"""


def _declare(repo: Path, main_tf: str, extra: dict[str, str] | None = None) -> TargetDeclarations:
    (repo / "root").mkdir(parents=True)
    (repo / "root" / "main.tf").write_text(main_tf)
    for name, text in (extra or {}).items():
        (repo / "root" / name).write_text(text)
    target = TargetInput(name="t", repo=repo, root=repo / "root", env={}, region="us-east-1")
    return declare_target(target, ParseCache())


def _tables(result: TargetDeclarations) -> dict[str, Any]:
    return {str(table.spec.name): table.spec for table in result.tables}


def test_for_each_over_yamldecode_declares_every_table(tmp_path: Path) -> None:
    """Before yamldecode was evaluated, ``for_each`` was Unknown: the resource was reported
    not evaluated and none of these tables was watched."""
    heredoc = "<<-EOT\n" + TABLES_YAML + "EOT\n"
    result = _declare(tmp_path, ROOT % heredoc)
    assert result.errors == [] and result.not_evaluated == []
    tables = _tables(result)
    assert sorted(tables) == ["app-orders", "app-true", "app-users"]
    assert tables["app-orders"].billing_mode == "PAY_PER_REQUEST"
    assert tables["app-orders"].hash_key == "id"
    assert tables["app-users"].billing_mode == "PROVISIONED"
    assert (tables["app-users"].read_capacity, tables["app-users"].write_capacity) == (5, 10)
    assert tables["app-true"].hash_key == "pk"
    addresses = sorted(table.address for table in result.tables)
    assert addresses == [
        'aws_dynamodb_table.t["orders"]',
        'aws_dynamodb_table.t["true"]',
        'aws_dynamodb_table.t["users"]',
    ]


def test_for_each_over_csvdecode_declares_every_table(tmp_path: Path) -> None:
    root = """\
locals {
  rows = csvdecode(<<-EOT
    name,key
    orders,id
    "users",user_id
  EOT
  )
}

resource "aws_dynamodb_table" "t" {
  for_each     = { for row in local.rows : row.name => row }
  name         = "${each.key}-${basename("envs/prod")}"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = each.value.key
  attribute {
    name = each.value.key
    type = "S"
  }
}
"""
    result = _declare(tmp_path, root)
    assert result.errors == [] and result.not_evaluated == []
    tables = _tables(result)
    assert sorted(tables) == ["orders-prod", "users-prod"]
    assert tables["users-prod"].hash_key == "user_id"


def test_for_each_over_yamldecode_of_a_file_declares_every_table(tmp_path: Path) -> None:
    """``file()`` reads the YAML in the repository, as Terraform does at plan time: the same
    tables as the heredoc. Before, the resource was not evaluated and none was watched."""
    result = _declare(tmp_path, ROOT % 'file("${path.module}/tables.yaml")', {"tables.yaml": TABLES_YAML})
    assert result.errors == [] and result.not_evaluated == []
    heredoc = _declare(tmp_path / "heredoc", ROOT % ("<<-EOT\n" + TABLES_YAML + "EOT\n"))
    assert _tables(result) == _tables(heredoc) and len(result.tables) == 3
