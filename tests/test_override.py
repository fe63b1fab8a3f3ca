"""Terraform's override-file merge rules (driftwatch.terraform.override), without I/O.

Each case parses a primary file and override files from text, merges them, and reads the
merged blocks as the evaluator would (``Block.items``). The rules are Terraform's
(``internal/configs/module_merge.go``, ``module_merge_body.go``); the ones that surprise are
checked against terraform 1.11.4 in tests/test_override_terraform.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from driftwatch.terraform.evaluate import Scope, evaluate
from driftwatch.terraform.modules import reference_list
from driftwatch.terraform.override import OverrideError, is_override_file, merge_overrides
from driftwatch.terraform.parse import Block, body_items, node_line, origin_of, parse_text


def _blocks(text: str, file: str) -> list[Block]:
    return body_items(parse_text(text, file).body)[1]


def _merge(primary: str, *overrides: str) -> tuple[list[tuple[Block, str]], list[OverrideError]]:
    files = [(_blocks(text, f"o{i}_override.tf"), f"o{i}_override.tf") for i, text in enumerate(overrides)]
    return merge_overrides([(b, "main.tf") for b in _blocks(primary, "main.tf")], files)


def _one(merged: list[tuple[Block, str]], kind: str, *labels: str) -> Block:
    (block,) = [b for b, _ in merged if b.type == kind and b.labels == labels]
    return block


def _values(block: Block) -> dict[str, Any]:
    return {name: evaluate(attribute.expression, Scope({})) for name, attribute in block.items[0].items()}


def _nested(block: Block) -> list[tuple[str, tuple[str, ...], dict[str, Any]]]:
    return [(b.type, b.labels, _values(b)) for b in block.items[1]]


TABLE = """
resource "aws_dynamodb_table" "t" {
  name         = "base"
  billing_mode = "PROVISIONED"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
  attribute {
    name = "sk"
    type = "S"
  }
  ttl {
    enabled        = true
    attribute_name = "exp"
  }
  point_in_time_recovery {
    enabled = true
  }
  tags = { Team = "base", Env = "base" }
}
"""


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("override.tf", True),
        ("main_override.tf", True),
        ("override.tf.json", True),
        ("cdk_override.tf.json", True),
        ("_override.tf", True),
        ("overrides.tf", False),
        ("my-override.tf", False),
        ("override.tfvars", False),
        ("override.tf.bak", False),
        ("main.tf", False),
        ("main.tf.json", False),
    ],
)
def test_override_files_are_named_as_terraform_names_them(name: str, expected: bool) -> None:
    assert is_override_file(name) is expected


def test_an_argument_set_in_the_override_replaces_the_base_and_names_the_override_file() -> None:
    merged, errors = _merge(
        TABLE, 'resource "aws_dynamodb_table" "t" {\n  name = "over"\n  table_class = "X"\n}\n'
    )
    assert errors == []
    table = _one(merged, "resource", "aws_dynamodb_table", "t")
    values = _values(table)
    assert values["name"] == "over" and values["table_class"] == "X"
    assert values["hash_key"] == "id" and values["tags"] == {"Team": "base", "Env": "base"}
    attributes = table.items[0]
    assert origin_of(attributes["name"], "main.tf") == "o0_override.tf"
    assert node_line(attributes["name"]) == 2
    assert origin_of(attributes["hash_key"], "main.tf") == "main.tf"
    # The block stays where Terraform reports the resource: the base's file and line.
    assert (table.line, dict((id(b), f) for b, f in merged)[id(table)]) == (2, "main.tf")


def test_a_map_argument_is_replaced_whole_not_merged_key_by_key() -> None:
    merged, _ = _merge(TABLE, 'resource "aws_dynamodb_table" "t" {\n  tags = { Team = "over" }\n}\n')
    assert _values(_one(merged, "resource", "aws_dynamodb_table", "t"))["tags"] == {"Team": "over"}


def test_a_nested_block_type_in_the_override_replaces_every_base_block_of_that_type() -> None:
    """One ``attribute`` block in the override removes both of the base's; ``ttl`` replaced
    by a block without attribute_name has none (nested blocks are not merged deeper)."""
    override = """
resource "aws_dynamodb_table" "t" {
  attribute {
    name = "pk"
    type = "N"
  }
  ttl {
    enabled = false
  }
}
"""
    merged, _ = _merge(TABLE, override)
    table = _one(merged, "resource", "aws_dynamodb_table", "t")
    assert _nested(table) == [
        ("point_in_time_recovery", (), {"enabled": True}),
        ("attribute", (), {"name": "pk", "type": "N"}),
        ("ttl", (), {"enabled": False}),
    ]
    nested = table.items[1]
    assert [origin_of(b, "main.tf") for b in nested] == ["main.tf", "o0_override.tf", "o0_override.tf"]
    # What an override's nested block holds is written in the override file too.
    (enabled,) = nested[2].items[0].values()
    assert origin_of(enabled, "main.tf") == "o0_override.tf"


def test_dynamic_blocks_are_replaced_by_the_type_they_generate() -> None:
    """A static block hides the base's ``dynamic`` of its type and a ``dynamic`` hides the
    base's static blocks of its type; a dynamic block of another type is kept."""
    primary = """
resource "aws_dynamodb_table" "t" {
  dynamic "global_secondary_index" {
    for_each = []
    content {
      name = "a"
    }
  }
  replica {
    region_name = "eu-west-1"
  }
  dynamic "local_secondary_index" {
    for_each = []
    content {
      name = "l"
    }
  }
}
"""
    override = """
resource "aws_dynamodb_table" "t" {
  global_secondary_index {
    name = "static"
  }
  dynamic "replica" {
    for_each = ["us-west-2"]
    content {
      region_name = replica.value
    }
  }
}
"""
    merged, _ = _merge(primary, override)
    kinds = [(b.type, b.labels) for b in _one(merged, "resource", "aws_dynamodb_table", "t").items[1]]
    assert kinds == [
        ("dynamic", ("local_secondary_index",)),
        ("global_secondary_index", ()),
        ("dynamic", ("replica",)),
    ]


@pytest.mark.parametrize(
    ("base", "override", "expected"),
    [
        pytest.param("ignore_changes = [tags]", "ignore_changes = [ttl]", ["ttl"], id="replaced"),
        pytest.param("ignore_changes = [tags]", "ignore_changes = []", ["tags"], id="empty-keeps-base"),
        pytest.param("ignore_changes = all", "ignore_changes = [ttl]", ["all"], id="all-stays-all"),
        pytest.param("ignore_changes = [tags]", "prevent_destroy = true", ["tags"], id="other-argument"),
        pytest.param("", "ignore_changes = [ttl]", ["ttl"], id="no-base-lifecycle"),
    ],
)
def test_lifecycle_merges_argument_by_argument(base: str, override: str, expected: list[str]) -> None:
    primary = f'resource "aws_dynamodb_table" "t" {{\n  name = "n"\n  lifecycle {{\n    {base}\n  }}\n}}\n'
    if not base:
        primary = 'resource "aws_dynamodb_table" "t" {\n  name = "n"\n}\n'
    merged, errors = _merge(
        primary, f'resource "aws_dynamodb_table" "t" {{\n  lifecycle {{\n    {override}\n  }}\n}}\n'
    )
    assert errors == []
    (lifecycle,) = [
        b for b in _one(merged, "resource", "aws_dynamodb_table", "t").items[1] if b.type == "lifecycle"
    ]
    attributes = lifecycle.items[0]
    assert reference_list(attributes["ignore_changes"].expression) == expected
    if "prevent_destroy" in override:
        assert _values(lifecycle)["prevent_destroy"] is True


@pytest.mark.parametrize("kind", ["resource", "module", "output"])
def test_depends_on_in_an_override_is_refused_and_the_rest_merged(kind: str) -> None:
    header = {
        "resource": 'resource "aws_dynamodb_table" "t"',
        "module": 'module "t"',
        "output": 'output "t"',
    }[kind]
    argument = {"resource": "name", "module": "source", "output": "value"}[kind]
    primary = f'{header} {{\n  {argument} = "./base"\n}}\n'
    merged, errors = _merge(primary, f'{header} {{\n  {argument} = "./over"\n  depends_on = [x.y]\n}}\n')
    (error,) = errors
    assert (error.file, error.line) == ("o0_override.tf", 3)
    assert "depends_on" in error.message and "Terraform refuses" in error.message
    block = next(b for b, _ in merged if b.type == kind)
    assert _values(block)[argument] == "./over" and "depends_on" not in block.items[0]


def test_a_module_call_takes_source_version_count_and_inputs_from_the_override() -> None:
    primary = """
module "tables" {
  source    = "./v1"
  version   = "1.0.0"
  count     = 1
  name      = "base"
  providers = { aws = aws.west }
  depends_on = [aws_s3_bucket.b]
}
"""
    override = """
module "tables" {
  source    = "./v2"
  version   = "2.0.0"
  count     = 3
  name      = "over"
  providers = {}
}
"""
    merged, errors = _merge(primary, override)
    assert errors == []  # a base with depends_on may be overridden (terraform 1.11.4)
    module = _one(merged, "module", "tables")
    values = _values(module)
    assert (values["source"], values["version"], values["count"], values["name"]) == (
        "./v2",
        "2.0.0",
        3,
        "over",
    )
    assert origin_of(module.items[0]["providers"], "main.tf") == "main.tf"  # an empty map changes nothing


def test_a_variable_takes_default_type_and_description_only() -> None:
    primary = """
variable "cap" {
  type        = string
  default     = "3"
  description = "base"
  validation {
    condition     = true
    error_message = "base"
  }
}
"""
    override = """
variable "cap" {
  type    = number
  default = 4
  bogus   = 1
  validation {
    condition     = false
    error_message = "over"
  }
}
"""
    merged, _ = _merge(primary, override)
    variable = _one(merged, "variable", "cap")
    values = {k: v for k, v in _values(variable).items() if k != "type"}
    assert values == {"default": 4, "description": "base"}
    assert origin_of(variable.items[0]["type"], "main.tf") == "o0_override.tf"
    assert _nested(variable) == [("validation", (), {"condition": True, "error_message": "base"})]


def test_an_output_takes_its_value_from_the_override() -> None:
    merged, _ = _merge(
        'output "o" {\n  value = "base"\n  sensitive = true\n}\n', 'output "o" {\n  value = "over"\n}\n'
    )
    assert _values(_one(merged, "output", "o")) == {"value": "over", "sensitive": True}


def test_locals_are_merged_name_by_name_wherever_they_are_defined() -> None:
    primary = 'locals {\n  a = "base-a"\n  b = "base-b"\n}\nlocals {\n  c = "base-c"\n}\n'
    merged, errors = _merge(primary, 'locals {\n  c = "over-c"\n  a = "over-a"\n}\n')
    assert errors == []
    values = {k: v for b, _ in merged if b.type == "locals" for k, v in _values(b).items()}
    assert values == {"a": "over-a", "b": "base-b", "c": "over-c"}


def test_a_later_override_file_wins_over_an_earlier_one() -> None:
    merged, _ = _merge(
        TABLE,
        'resource "aws_dynamodb_table" "t" {\n  name = "first"\n  hash_key = "first"\n}\n',
        'resource "aws_dynamodb_table" "t" {\n  name = "second"\n}\n',
    )
    table = _one(merged, "resource", "aws_dynamodb_table", "t")
    assert (_values(table)["name"], _values(table)["hash_key"]) == ("second", "first")
    assert origin_of(table.items[0]["name"], "main.tf") == "o1_override.tf"


@pytest.mark.parametrize(
    ("override", "line", "words"),
    [
        (
            '\n\nresource "aws_dynamodb_table" "typo" {\n  name = "x"\n}\n',
            3,
            "no aws_dynamodb_table resource",
        ),
        ('data "aws_caller_identity" "me" {\n}\n', 1, "no aws_caller_identity data resource"),
        ('module "nope" {\n  source = "./x"\n}\n', 1, 'no module call named "nope"'),
        ('variable "nope" {\n  default = 1\n}\n', 1, 'no variable named "nope"'),
        ('output "nope" {\n  value = 1\n}\n', 1, 'no output named "nope"'),
        ("locals {\n  a = 1\n\n  nope = 2\n}\n", 4, 'no local value named "nope"'),
        ('provider "aws" {\n  alias = "typo"\n}\n', 1, 'no aws provider configuration with the alias "typo"'),
        ("moved {\n  from = a.b\n  to = a.c\n}\n", 1, "moved block cannot be in an override file"),
    ],
)
def test_an_override_that_overrides_nothing_is_an_error_at_its_line(
    override: str, line: int, words: str
) -> None:
    merged, errors = _merge(TABLE + "locals {\n  a = 0\n}\n", override)
    (error,) = errors
    assert (error.file, error.line) == ("o0_override.tf", line)
    assert words in error.message and "Terraform refuses the configuration" in error.message
    assert _values(_one(merged, "resource", "aws_dynamodb_table", "t"))["name"] == "base"


PROVIDERS = """
provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = { Team = "base" }
  }
}
provider "aws" {
  alias  = "west"
  region = "us-west-2"
}
"""


def test_a_provider_override_merges_into_the_provider_of_the_same_alias() -> None:
    override = """
provider "aws" {
  alias  = "west"
  region = "eu-west-1"
}
provider "aws" {
  default_tags {
    tags = { Team = "over" }
  }
}
"""
    merged, errors = _merge(PROVIDERS, override)
    assert errors == []
    default, west = [b for b, _ in merged if b.type == "provider"]
    assert _values(west) == {"alias": "west", "region": "eu-west-1"}
    assert _values(default) == {"region": "us-east-1"}
    assert _nested(default) == [("default_tags", (), {"tags": {"Team": "over"}})]


def test_a_default_provider_override_with_no_base_is_the_providers_configuration() -> None:
    merged, errors = _merge(TABLE, 'provider "aws" {\n  region = "eu-central-1"\n}\n')
    assert errors == []
    ((provider, file),) = [(b, f) for b, f in merged if b.type == "provider"]
    assert _values(provider) == {"region": "eu-central-1"} and file == "o0_override.tf"


def test_blocks_an_override_does_not_merge_are_left_alone() -> None:
    """``terraform`` (required_providers...), ``import``, ``check`` in an override change nothing
    driftwatch reads and are not errors in Terraform."""
    override = 'terraform {\n  required_version = ">= 1.0"\n}\nimport {\n  to = a.b\n  id = "x"\n}\n'
    merged, errors = _merge(TABLE, override)
    assert errors == [] and [b.type for b, _ in merged] == ["resource"]
