"""Attribute-level locations: where an attribute is written in git, not only the table's line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from driftwatch.scan import declare
from driftwatch.spec import DeclaredTable, SourceLocation, TableResult, TableStatus
from driftwatch.terraform.modules import TargetInput
from driftwatch.terraform.parse import ParseCache

PROVIDER = 'provider "aws" {\n  region = "us-east-1"\n}\n'


def _declare(repo: Path, var_files: tuple[str, ...] = (), **vars: str) -> list[DeclaredTable]:
    target = TargetInput(
        name="prod",
        repo=repo,
        root=repo / "envs" / "prod",
        var_files=var_files,
        vars=vars,
        env={},
        pending_grace=timedelta(0),
    )
    declared = declare([target], ParseCache())
    assert declared.errors == [] and declared.early == []
    return [job.table for job in declared.jobs]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_a_module_argument_set_from_tfvars_points_at_the_tfvars_line(tmp_path: Path) -> None:
    _write(
        tmp_path / "envs/prod/main.tf",
        PROVIDER
        + 'variable "ttl_enabled" {\n  type = bool\n}\n'  # 4-6
        + 'module "orders" {\n'  # 7
        + '  source   = "cloudposse/dynamodb/aws"\n'
        + '  version  = "0.37.0"\n'
        + '  name     = "orders"\n'
        + '  hash_key = "id"\n'
        + "  ttl_enabled   = var.ttl_enabled\n"  # 12
        + '  ttl_attribute = "expires"\n'  # 13
        + '  tags = { Team = "core" }\n'  # 14
        + "}\n",
    )
    _write(tmp_path / "envs/prod/prod.tfvars", "# prod\n\nttl_enabled = true\n")
    (table,) = _declare(tmp_path, ("prod.tfvars",))
    assert table.source == SourceLocation("envs/prod/main.tf", 7)
    assert table.locations["ttl.enabled"] == SourceLocation("envs/prod/prod.tfvars", 3)
    assert table.locations["ttl.attribute"] == SourceLocation("envs/prod/main.tf", 13)
    assert table.locations["tags.Team"] == SourceLocation("envs/prod/main.tf", 14)
    # Tags the argument does not set (the label's Name, ...) have no line of their own.
    assert "tags.Name" not in table.locations
    # -var has no line: the module argument that passes it on.
    (table,) = _declare(tmp_path, (), ttl_enabled="false")
    assert table.locations["ttl.enabled"] == SourceLocation("envs/prod/main.tf", 12)


def test_a_plain_resource_points_at_the_nested_argument(tmp_path: Path) -> None:
    _write(
        tmp_path / "envs/prod/main.tf",
        PROVIDER
        + 'resource "aws_dynamodb_table" "t" {\n'  # 4
        + '  name         = "t"\n'
        + '  billing_mode = "PAY_PER_REQUEST"\n'  # 6
        + '  hash_key     = "id"\n'
        + '  attribute {\n    name = "id"\n    type = "S"\n  }\n'  # 8-11
        + "  ttl {\n"  # 12
        + "    enabled        = true\n"  # 13
        + '    attribute_name = "exp"\n'  # 14
        + "  }\n"
        + "  global_secondary_index {\n"  # 16
        + '    name            = "by-user"\n'
        + '    hash_key        = "id"\n'  # 18
        + '    projection_type = "ALL"\n'  # 19
        + "  }\n"
        + "}\n",
    )
    (table,) = _declare(tmp_path)
    assert table.locations["billing_mode"] == SourceLocation("envs/prod/main.tf", 6)
    assert table.locations["ttl.enabled"] == SourceLocation("envs/prod/main.tf", 13)
    assert table.locations["ttl.attribute"] == SourceLocation("envs/prod/main.tf", 14)
    assert table.locations["gsi.by-user"] == SourceLocation("envs/prod/main.tf", 16)
    assert table.locations["gsi.by-user.projection_type"] == SourceLocation("envs/prod/main.tf", 19)


def test_source_of_takes_the_most_specific_location_else_the_tables_line() -> None:
    table_line = SourceLocation("main.tf", 1)
    row = TableResult(
        "prod",
        "module.t",
        table_line,
        "t",
        "us-east-1",
        TableStatus.DRIFTED,
        locations={
            "gsi": SourceLocation("main.tf", 20),
            "gsi.*.autoscaling.read.min": SourceLocation("prod.tfvars", 4),
            "tags.a[1]": SourceLocation("main.tf", 30),
        },
    )
    assert row.source_of("gsi.by-user.read_capacity") == SourceLocation("main.tf", 20)
    assert row.source_of("gsi.by.user.autoscaling.read.min") == SourceLocation("prod.tfvars", 4)
    assert row.source_of("tags.a[1]") == SourceLocation("main.tf", 30)
    assert row.source_of("tags.a1") == table_line  # "[" is not a pattern
    assert row.source_of("point_in_time_recovery") == table_line


def test_the_autoscalers_metric_points_at_enable_autoscaler_not_the_target_value(tmp_path: Path) -> None:
    """The module has no input for the metric its policies track; a drifted metric is shown at
    the line that turns the autoscaler on, even beside a written target value."""
    _write(
        tmp_path / "envs/prod/main.tf",
        PROVIDER
        + 'module "orders" {\n'  # 4
        + '  source   = "cloudposse/dynamodb/aws"\n'
        + '  version  = "0.37.0"\n'
        + '  name     = "orders"\n'
        + '  hash_key = "id"\n'
        + "  enable_autoscaler     = true\n"  # 9
        + "  autoscale_read_target = 70\n"  # 10
        + '  global_secondary_index_map = [{ name = "by-day", hash_key = "id", range_key = null,\n'
        + '    projection_type = "ALL", non_key_attributes = [], read_capacity = 5, write_capacity = 5 }]\n'
        + "}\n",
    )
    (table,) = _declare(tmp_path)
    row = TableResult(
        "prod",
        table.address,
        table.source,
        "orders",
        "us-east-1",
        TableStatus.DRIFTED,
        locations=table.locations,
    )
    enabled, target = SourceLocation("envs/prod/main.tf", 9), SourceLocation("envs/prod/main.tf", 10)
    assert row.source_of("autoscaling.read.target") == target
    for attribute in (
        "autoscaling.read.metric",
        "autoscaling.write.metric",
        "gsi.by-day.autoscaling.read.metric",
    ):
        assert row.source_of(attribute) == enabled
