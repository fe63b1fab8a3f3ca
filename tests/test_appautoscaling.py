"""Resource-level autoscaling: aws_appautoscaling_target / _policy joined to declared tables.

The join itself (``terraform.appautoscaling.attach``) is pure and tested on values; the walk
tests prove that the usual spellings evaluate (count / for_each, references to the table and
to the target, wrapper modules, a vendored copy of the CloudPosse module, a
terraform-aws-modules-shaped module); the end-to-end tests scan tables in moto through the CLI.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from driftwatch.aws.autoscaling import AutoscalingIndex, apply_autoscaling
from driftwatch.cli import main
from driftwatch.demo.provision import create_table
from driftwatch.diff import diff
from driftwatch.spec import (
    Autoscaling,
    DeclaredTable,
    Gsi,
    ScalingTarget,
    SourceLocation,
    TableSpec,
    TableStatus,
    Unknown,
)
from driftwatch.terraform import appautoscaling
from driftwatch.terraform.appautoscaling import POLICY, TARGET, ScalingResource, attach
from driftwatch.terraform.modules import TargetDeclarations, TargetInput, declare_target
from driftwatch.terraform.parse import ParseCache

REGION = "us-east-1"
TABLE_READ = "dynamodb:table:ReadCapacityUnits"
TABLE_WRITE = "dynamodb:table:WriteCapacityUnits"
INDEX_READ = "dynamodb:index:ReadCapacityUnits"

READ, WRITE = "DynamoDBReadCapacityUtilization", "DynamoDBWriteCapacityUtilization"  # predefined metric types

# --------------------------------------------------------------------------- the join, on values


def table(name: Any = "orders", gsis: Any = (), region: Any = REGION, **fields: Any) -> DeclaredTable:
    spec = TableSpec(
        name=name,
        region=region,
        hash_key="id",
        gsis=gsis,
        unmanaged=frozenset({"autoscaling.*", *(f"gsi.{g.name}.autoscaling.*" for g in gsis)})
        if not isinstance(gsis, Unknown)
        else frozenset({"autoscaling.*"}),
        **fields,
    )
    return DeclaredTable(
        f"aws_dynamodb_table.{name}", SourceLocation("main.tf", 1), spec, inputs=("main.tf",)
    )


def target(
    resource_id: Any = "table/orders",
    dimension: Any = TABLE_READ,
    lo: Any = 5,
    hi: Any = 20,
    namespace: Any = "dynamodb",
    address: str = "aws_appautoscaling_target.read",
    region: Any = REGION,
) -> ScalingResource:
    arguments = {
        "service_namespace": namespace,
        "resource_id": resource_id,
        "scalable_dimension": dimension,
        "min_capacity": lo,
        "max_capacity": hi,
    }
    return ScalingResource(TARGET, address, "scaling.tf", 3, region, arguments, ("scaling.tf",))


def policy(
    resource_id: Any = "table/orders",
    dimension: Any = TABLE_READ,
    value: Any = 70,
    policy_type: Any = "TargetTrackingScaling",
    name: Any = "read",
    address: str = "aws_appautoscaling_policy.read",
) -> ScalingResource:
    arguments: dict[str, Any] = {
        "name": name,
        "service_namespace": "dynamodb",
        "resource_id": resource_id,
        "scalable_dimension": dimension,
        "target_tracking_scaling_policy_configuration": [
            {
                "target_value": value,
                "predefined_metric_specification": [
                    {"predefined_metric_type": "DynamoDBReadCapacityUtilization"}
                ],
            }
        ],
    }
    if policy_type is not None:
        arguments["policy_type"] = policy_type
    return ScalingResource(POLICY, address, "scaling.tf", 12, REGION, arguments)


def test_a_target_and_its_policy_become_the_tables_autoscaling() -> None:
    tables, problems = attach([table()], [target(), policy()])
    assert problems == []
    spec = tables[0].spec
    assert spec.autoscaling == Autoscaling(read=ScalingTarget(min=5, max=20, target=70.0, metric=READ))
    assert spec.is_managed("autoscaling.read.min")
    assert tables[0].inputs == ("main.tf", "scaling.tf")


def test_a_target_without_a_tracking_policy_compares_min_and_max_only() -> None:
    step = policy(policy_type=None)  # the provider's default policy_type is StepScaling
    tables, problems = attach([table()], [target(), step])
    assert problems == []
    assert tables[0].spec.autoscaling.read == ScalingTarget(min=5, max=20, target=None)


def test_gsi_targets_join_their_index() -> None:
    gsi = Gsi(name="by_tenant", hash_key="tenant")
    index_id = "table/orders/index/by_tenant"
    tables, problems = attach(
        [table(gsis=(gsi,))], [target(index_id, INDEX_READ, 2, 40), policy(index_id, INDEX_READ, 55.5)]
    )
    assert problems == []
    spec = tables[0].spec
    assert spec.gsis[0].autoscaling.read == ScalingTarget(2, 40, 55.5, metric=READ)  # type: ignore[index]
    assert spec.autoscaling == Autoscaling()
    assert not spec.is_managed("autoscaling.read.min")
    assert spec.is_managed("gsi.by_tenant.autoscaling.read.min")


def test_unresolvable_values_are_unknown_never_a_number() -> None:
    unknown = Unknown("var.max has no value")
    tables, problems = attach([table()], [target(hi=unknown), policy(value=Unknown("x"))])
    assert problems == []
    read = tables[0].spec.autoscaling.read
    assert read is not None and read.min == 5 and read.max == unknown
    assert isinstance(read.target, Unknown)


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        (target(resource_id=Unknown("module.x is remote")), "resource_id is unknown (module.x is remote)"),
        (target(resource_id="table/other"), "scales table 'other', which this target does not declare"),
        (target(resource_id="table/orders/index/x"), "does not match dynamodb:table:ReadCapacityUnits"),
        (target(dimension="dynamodb:table:Nope"), "not a DynamoDB capacity dimension"),
        (target(region="eu-west-1"), "scales table 'orders', which this target does not declare"),
        (
            target(namespace=Unknown("n"), resource_id=Unknown("r"), dimension=Unknown("d")),
            "cannot tell whether",
        ),
        (policy(resource_id="table/orders"), "no aws_appautoscaling_target is declared"),
        (target("table/orders/index/ghost", INDEX_READ), "scales GSI 'ghost' of table orders"),
    ],
)
def test_a_dynamodb_resource_that_cannot_be_joined_is_reported(
    resource: ScalingResource, message: str
) -> None:
    tables, problems = attach([table()], [resource])
    assert len(problems) == 1 and message in problems[0].message
    assert problems[0].file == "scaling.tf"
    assert tables[0].spec.autoscaling == Autoscaling()


def test_targets_of_other_services_are_not_driftwatchs_business() -> None:
    ecs = target("service/c/s", "ecs:service:DesiredCount", namespace="ecs")
    tables, problems = attach([table()], [ecs])
    assert problems == [] and tables[0].spec.autoscaling == Autoscaling()


def test_two_declarations_of_one_scalable_target_are_unknown() -> None:
    again = target(lo=1, hi=99, address="aws_appautoscaling_target.again")
    tables, _ = attach([table()], [target(), again])
    read = tables[0].spec.autoscaling.read
    assert read is not None and isinstance(read.min, Unknown) and "more than once" in read.min.reason


def test_a_module_autoscaled_table_declared_again_by_a_resource_is_unknown() -> None:
    module_scaled = table(autoscaling=Autoscaling(read=ScalingTarget(5, 20, 50.0)))
    tables, _ = attach([module_scaled], [target()])
    read = tables[0].spec.autoscaling.read
    assert read is not None and isinstance(read.max, Unknown)


def test_several_tracking_policies_pick_the_smallest_name_like_the_live_side() -> None:
    a, b = policy(value=40, name="b-policy"), policy(value=60, name="a-policy", address="p.b")
    tables, _ = attach([table()], [target(), a, b])
    assert tables[0].spec.autoscaling.read == ScalingTarget(min=5, max=20, target=60.0, metric=READ)
    # the policy not compared is named, not a silent "in sync" (it was: nothing was said)
    [note] = [n for n in tables[0].notes if n.attribute == "autoscaling.read.target_tracking"]
    assert "p.b" in note.reason and f"{a.address} not compared" in note.reason


def test_one_tracking_policy_beside_a_step_policy_names_no_uncompared_tracking() -> None:
    step = policy(address="p.step", name="step", policy_type="StepScaling")
    tables, _ = attach([table()], [target(), policy(value=60), step])
    assert [n.attribute for n in tables[0].notes] == ["autoscaling.read.step_scaling"]


def test_unknown_gsis_leave_index_autoscaling_unresolved() -> None:
    tables, problems = attach(
        [table(gsis=Unknown("dynamic block"))], [target("table/orders/index/g", INDEX_READ)]
    )
    assert problems == []
    assert [n.attribute for n in tables[0].notes] == ["gsi.g.autoscaling"]


def test_gsi_ignore_changes_does_not_silence_gsi_autoscaling() -> None:
    spec = TableSpec(name="t", unmanaged=frozenset({"gsi.*"}))
    assert not spec.is_managed("gsi.g.read_capacity")
    assert spec.is_managed("gsi.g.autoscaling.read.min")
    assert not TableSpec(name="t", unmanaged=frozenset({"gsi.g.autoscaling.*"})).is_managed(
        "gsi.g.autoscaling.read.min"
    )


def test_gsi_ignore_changes_leaves_a_gsi_scalable_target_compared_in_the_diff() -> None:
    """``ignore_changes = [global_secondary_index]`` on the table, the GSI scaled by targets of
    their own (TheBitGram/terraform-modules' index autoscaler): terraform plan changes a target
    whose maximum was raised in the console, so the diff reports it; the GSI's capacity stays
    the autoscaler's. Before, the diff's ancestor check read ``gsi`` as unmanaged and hid it."""

    def spec(maximum: int, capacity: int, unmanaged: frozenset[str]) -> TableSpec:
        scaling = Autoscaling(read=ScalingTarget(1, maximum, 60.0))
        gsi = Gsi("g", "owner", read_capacity=capacity, write_capacity=1, autoscaling=scaling)
        return TableSpec(
            name="t",
            billing_mode="PROVISIONED",
            read_capacity=2,
            write_capacity=2,
            gsis=(gsi,),
            unmanaged=unmanaged,
        )

    declared, live = spec(10, 1, frozenset({"gsi.*"})), spec(40, 4, frozenset())
    assert [(d.attribute, d.declared, d.live) for d in diff(declared, live).drift] == [
        ("gsi.g.autoscaling.read.max", 10, 40)
    ]
    silenced = spec(10, 1, frozenset({"gsi.*", "gsi.g.autoscaling.*"}))
    assert diff(silenced, live).drift == ()


# --------------------------------------------------------------------------- the walk


def write_tree(base: Path, files: dict[str, str]) -> None:
    for name, content in files.items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)


def declare(repo: Path, root: str = ".") -> TargetDeclarations:
    target_input = TargetInput(name="t", repo=repo, root=repo / root, env={}, region=REGION)
    return declare_target(target_input, ParseCache())


PLAIN = """
variable "indexes" {
  default = { by_tenant = { min = 2, max = 40 } }
}
resource "aws_dynamodb_table" "orders" {
  name           = "orders"
  hash_key       = "id"
  read_capacity  = 5
  write_capacity = 5
  attribute {
    name = "id"
    type = "S"
  }
  attribute {
    name = "tenant"
    type = "S"
  }
  global_secondary_index {
    name            = "by_tenant"
    hash_key        = "tenant"
    projection_type = "ALL"
    read_capacity   = 5
    write_capacity  = 5
  }
  lifecycle {
    ignore_changes = [read_capacity, write_capacity, global_secondary_index]
  }
}
resource "aws_appautoscaling_target" "table" {
  for_each           = toset(["Read", "Write"])
  min_capacity       = 5
  max_capacity       = 20
  resource_id        = "table/${aws_dynamodb_table.orders.name}"
  scalable_dimension = "dynamodb:table:${each.key}CapacityUnits"
  service_namespace  = "dynamodb"
}
resource "aws_appautoscaling_policy" "table" {
  for_each           = aws_appautoscaling_target.table
  name               = "DynamoDB${each.key}CapacityUtilization:${each.value.resource_id}"
  policy_type        = "TargetTrackingScaling"
  resource_id        = each.value.resource_id
  scalable_dimension = each.value.scalable_dimension
  service_namespace  = each.value.service_namespace
  target_tracking_scaling_policy_configuration {
    predefined_metric_specification {
      predefined_metric_type = "DynamoDB${each.key}CapacityUtilization"
    }
    target_value = 70
  }
}
resource "aws_appautoscaling_target" "gsi_read" {
  count              = length(keys(var.indexes))
  min_capacity       = var.indexes[keys(var.indexes)[count.index]].min
  max_capacity       = var.indexes[keys(var.indexes)[count.index]].max
  resource_id        = "table/${aws_dynamodb_table.orders.id}/index/${keys(var.indexes)[count.index]}"
  scalable_dimension = "dynamodb:index:ReadCapacityUnits"
  service_namespace  = "dynamodb"
}
resource "aws_appautoscaling_policy" "gsi_read" {
  count              = length(aws_appautoscaling_target.gsi_read)
  name               = "gsi-read-${count.index}"
  policy_type        = "TargetTrackingScaling"
  resource_id        = aws_appautoscaling_target.gsi_read[count.index].resource_id
  scalable_dimension = aws_appautoscaling_target.gsi_read[count.index].scalable_dimension
  service_namespace  = "dynamodb"
  target_tracking_scaling_policy_configuration {
    predefined_metric_specification {
      predefined_metric_type = "DynamoDBReadCapacityUtilization"
    }
    target_value = 55.5
  }
}
resource "aws_appautoscaling_target" "ecs" {
  min_capacity       = 1
  max_capacity       = 3
  resource_id        = "service/c/s"
  scalable_dimension = "ecs:service:DesiredCount"
  service_namespace  = "ecs"
}
"""


def test_plain_table_with_for_each_and_count_targets(tmp_path: Path) -> None:
    write_tree(tmp_path, {"main.tf": PLAIN})
    result = declare(tmp_path)
    assert result.errors == []
    (orders,) = result.tables
    assert orders.spec.autoscaling == Autoscaling(
        read=ScalingTarget(5, 20, 70.0, metric=READ), write=ScalingTarget(5, 20, 70.0, metric=WRITE)
    )
    (gsi,) = orders.spec.gsis  # type: ignore[misc]
    assert gsi.autoscaling == Autoscaling(read=ScalingTarget(2, 40, 55.5, metric=READ))
    assert orders.spec.is_managed("gsi.by_tenant.autoscaling.read.max")


def test_a_target_for_an_undeclared_table_is_a_target_error_with_its_line(tmp_path: Path) -> None:
    orphan = """
resource "aws_appautoscaling_target" "orphan" {
  min_capacity       = 1
  max_capacity       = 3
  resource_id        = "table/${data.aws_dynamodb_table.t.name}"
  scalable_dimension = "dynamodb:table:ReadCapacityUnits"
  service_namespace  = "dynamodb"
}
"""
    write_tree(tmp_path, {"main.tf": PLAIN, "orphan.tf": orphan})
    result = declare(tmp_path)
    assert [(e.file, e.line) for e in result.errors] == [("orphan.tf", 2)]
    assert "data.aws_dynamodb_table.t.name is read by a data source" in result.errors[0].message


WRAPPER_TABLE = """
variable "name" {}
resource "aws_dynamodb_table" "this" {
  name           = var.name
  hash_key       = "id"
  read_capacity  = 1
  write_capacity = 1
  attribute {
    name = "id"
    type = "S"
  }
}
output "name" {
  value = aws_dynamodb_table.this.name
}
"""
WRAPPER_ROOT = """
module "tables" {
  source   = "./modules/table"
  for_each = toset(["a", "b"])
  name     = "app-${each.key}"
}
resource "aws_appautoscaling_target" "write" {
  for_each           = module.tables
  min_capacity       = 1
  max_capacity       = 10
  resource_id        = "table/${each.value.name}"
  scalable_dimension = "dynamodb:table:WriteCapacityUnits"
  service_namespace  = "dynamodb"
}
"""


def test_root_targets_join_tables_of_a_wrapper_module_through_its_outputs(tmp_path: Path) -> None:
    write_tree(tmp_path, {"main.tf": WRAPPER_ROOT, "modules/table/main.tf": WRAPPER_TABLE})
    result = declare(tmp_path)
    assert result.errors == []
    assert {t.spec.name: t.spec.autoscaling.write for t in result.tables} == {
        "app-a": ScalingTarget(1, 10, None),
        "app-b": ScalingTarget(1, 10, None),
    }
    assert all("main.tf" in t.inputs for t in result.tables)


# A terraform-aws-modules-shaped module (written for this test): one table resource per mode,
# autoscaling targets indexed [0] and per index with for_each over a map of settings.
TAM_MODULE = """
variable "name" {}
variable "autoscaling_enabled" { default = false }
variable "autoscaling_read" { default = {} }
variable "autoscaling_indexes" { default = {} }
resource "aws_dynamodb_table" "this" {
  count        = var.autoscaling_enabled ? 0 : 1
  name         = var.name
  hash_key     = "id"
  billing_mode = "PAY_PER_REQUEST"
  attribute {
    name = "id"
    type = "S"
  }
}
resource "aws_dynamodb_table" "autoscaled" {
  count          = var.autoscaling_enabled ? 1 : 0
  name           = var.name
  hash_key       = "id"
  read_capacity  = 5
  write_capacity = 5
  attribute {
    name = "id"
    type = "S"
  }
  attribute {
    name = "sk"
    type = "S"
  }
  global_secondary_index {
    name            = "by_sk"
    hash_key        = "sk"
    projection_type = "ALL"
    read_capacity   = 5
    write_capacity  = 5
  }
  lifecycle {
    ignore_changes = [read_capacity, write_capacity]
  }
}
resource "aws_appautoscaling_target" "table_read" {
  count              = var.autoscaling_enabled && length(var.autoscaling_read) > 0 ? 1 : 0
  max_capacity       = var.autoscaling_read["max_capacity"]
  min_capacity       = var.autoscaling_read["min_capacity"]
  resource_id        = "table/${aws_dynamodb_table.autoscaled[0].name}"
  scalable_dimension = "dynamodb:table:ReadCapacityUnits"
  service_namespace  = "dynamodb"
}
resource "aws_appautoscaling_policy" "table_read_policy" {
  count       = var.autoscaling_enabled && length(var.autoscaling_read) > 0 ? 1 : 0
  name        = "DynamoDBReadCapacityUtilization:${aws_appautoscaling_target.table_read[0].resource_id}"
  policy_type = "TargetTrackingScaling"
  resource_id        = aws_appautoscaling_target.table_read[0].resource_id
  scalable_dimension = aws_appautoscaling_target.table_read[0].scalable_dimension
  service_namespace  = aws_appautoscaling_target.table_read[0].service_namespace
  target_tracking_scaling_policy_configuration {
    predefined_metric_specification {
      predefined_metric_type = "DynamoDBReadCapacityUtilization"
    }
    scale_in_cooldown  = lookup(var.autoscaling_read, "scale_in_cooldown", 0)
    target_value       = var.autoscaling_read["target_value"]
  }
}
resource "aws_appautoscaling_target" "index_read" {
  for_each           = var.autoscaling_enabled ? var.autoscaling_indexes : {}
  max_capacity       = each.value["read_max_capacity"]
  min_capacity       = each.value["read_min_capacity"]
  resource_id        = "table/${aws_dynamodb_table.autoscaled[0].name}/index/${each.key}"
  scalable_dimension = "dynamodb:index:ReadCapacityUnits"
  service_namespace  = "dynamodb"
}
"""
TAM_ROOT = """
module "orders" {
  source              = "./modules/dynamodb-table"
  name                = "orders"
  autoscaling_enabled = true
  autoscaling_read    = { min_capacity = 3, max_capacity = 30, target_value = 65 }
  autoscaling_indexes = { by_sk = { read_min_capacity = 1, read_max_capacity = 9 } }
}
module "plain" {
  source = "./modules/dynamodb-table"
  name   = "plain"
}
"""


def test_terraform_aws_modules_shaped_module(tmp_path: Path) -> None:
    write_tree(tmp_path, {"main.tf": TAM_ROOT, "modules/dynamodb-table/main.tf": TAM_MODULE})
    result = declare(tmp_path)
    assert result.errors == []
    by_name = {t.spec.name: t.spec for t in result.tables}
    assert by_name["orders"].autoscaling == Autoscaling(read=ScalingTarget(3, 30, 65.0, metric=READ))
    assert by_name["orders"].gsis[0].autoscaling == Autoscaling(read=ScalingTarget(1, 9, None))  # type: ignore[index]
    assert by_name["plain"].autoscaling == Autoscaling()
    assert not by_name["plain"].is_managed("autoscaling.read.min")


# A vendored copy of the CloudPosse dynamodb module (written for this test in its shape): the
# table through the label context, GSI names through null_resource triggers, and the registry
# autoscaler module, which driftwatch emulates.
VENDORED = """
variable "hash_key" {}
variable "enable_autoscaler" { default = false }
variable "billing_mode" { default = "PROVISIONED" }
variable "autoscale_min_read_capacity" { default = 5 }
variable "autoscale_max_read_capacity" { default = 20 }
variable "autoscale_min_write_capacity" { default = 5 }
variable "autoscale_max_write_capacity" { default = 20 }
variable "autoscale_read_target" { default = 50 }
variable "autoscale_write_target" { default = 50 }
variable "global_secondary_index_map" { default = [] }
variable "dynamodb_attributes" { default = [] }
variable "namespace" { default = null }
variable "name" { default = null }
module "this" {
  source    = "cloudposse/label/null"
  version   = "0.25.0"
  namespace = var.namespace
  name      = var.name
}
locals {
  enabled = module.this.enabled
}
resource "null_resource" "global_secondary_index_names" {
  count    = local.enabled ? length(var.global_secondary_index_map) : 0
  triggers = { "name" = var.global_secondary_index_map[count.index]["name"] }
}
resource "aws_dynamodb_table" "default" {
  count          = local.enabled ? 1 : 0
  name           = module.this.id
  billing_mode   = var.billing_mode
  read_capacity  = var.autoscale_min_read_capacity
  write_capacity = var.autoscale_min_write_capacity
  hash_key       = var.hash_key
  dynamic "attribute" {
    for_each = concat([{ name = var.hash_key, type = "S" }], var.dynamodb_attributes)
    content {
      name = attribute.value.name
      type = attribute.value.type
    }
  }
  dynamic "global_secondary_index" {
    for_each = var.global_secondary_index_map
    content {
      name            = global_secondary_index.value.name
      hash_key        = global_secondary_index.value.hash_key
      projection_type = global_secondary_index.value.projection_type
      read_capacity   = lookup(global_secondary_index.value, "read_capacity", null)
      write_capacity  = lookup(global_secondary_index.value, "write_capacity", null)
    }
  }
  lifecycle {
    ignore_changes = [read_capacity, write_capacity]
  }
}
module "dynamodb_autoscaler" {
  source                       = "cloudposse/dynamodb-autoscaler/aws"
  version                      = "0.14.0"
  enabled                      = local.enabled && var.enable_autoscaler && var.billing_mode == "PROVISIONED"
  dynamodb_table_name          = join("", aws_dynamodb_table.default[*].id)
  dynamodb_table_arn           = join("", aws_dynamodb_table.default[*].arn)
  dynamodb_indexes             = null_resource.global_secondary_index_names[*].triggers.name
  autoscale_write_target       = var.autoscale_write_target
  autoscale_read_target        = var.autoscale_read_target
  autoscale_min_read_capacity  = var.autoscale_min_read_capacity
  autoscale_max_read_capacity  = var.autoscale_max_read_capacity
  autoscale_min_write_capacity = var.autoscale_min_write_capacity
  autoscale_max_write_capacity = var.autoscale_max_write_capacity
  context                      = module.this.context
}
"""
VENDORED_ROOT = """
module "events" {
  source                      = "./vendor/dynamodb"
  namespace                   = "acme"
  name                        = "events"
  hash_key                    = "id"
  enable_autoscaler           = true
  autoscale_max_read_capacity = 50
  autoscale_read_target       = 60
  dynamodb_attributes         = [{ name = "day", type = "S" }]
  global_secondary_index_map = [
    { name = "by_day", hash_key = "day", projection_type = "ALL", read_capacity = 5, write_capacity = 5 }
  ]
}
module "quiet" {
  source    = "./vendor/dynamodb"
  namespace = "acme"
  name      = "quiet"
  hash_key  = "id"
}
"""


def test_vendored_cloudposse_module_gets_the_autoscalers_targets(tmp_path: Path) -> None:
    write_tree(tmp_path, {"main.tf": VENDORED_ROOT, "vendor/dynamodb/main.tf": VENDORED})
    result = declare(tmp_path)
    assert result.errors == []
    by_name = {t.spec.name: t.spec for t in result.tables}
    expected = Autoscaling(
        read=ScalingTarget(5, 50, 60.0, metric=READ), write=ScalingTarget(5, 20, 50.0, metric=WRITE)
    )
    assert by_name["acme-events"].autoscaling == expected
    assert by_name["acme-events"].gsis[0].autoscaling == expected  # type: ignore[index]
    assert by_name["acme-quiet"].autoscaling == Autoscaling()
    assert not by_name["acme-quiet"].is_managed("autoscaling.read.min")


def test_autoscaler_module_with_unknown_enabled_is_reported(tmp_path: Path) -> None:
    root = """
variable "on" {}
module "scaler" {
  source              = "cloudposse/dynamodb-autoscaler/aws"
  enabled             = var.on
  dynamodb_table_name = "t"
}
"""
    write_tree(tmp_path, {"main.tf": root})
    result = declare(tmp_path)
    assert (
        len(result.errors) == 1 and "whether the autoscaler is enabled is unknown" in result.errors[0].message
    )


# --------------------------------------------------------------------------- end to end


E2E = """
provider "aws" {
  region = "us-east-1"
}
resource "aws_dynamodb_table" "sessions" {
  count          = 2
  name           = "sessions-${count.index}"
  hash_key       = "id"
  read_capacity  = 5
  write_capacity = 5
  attribute {
    name = "id"
    type = "S"
  }
  attribute {
    name = "user"
    type = "S"
  }
  global_secondary_index {
    name            = "by_user"
    hash_key        = "user"
    projection_type = "KEYS_ONLY"
    read_capacity   = 5
    write_capacity  = 5
  }
}
resource "aws_appautoscaling_target" "read" {
  count              = length(aws_dynamodb_table.sessions)
  min_capacity       = 5
  max_capacity       = 20
  resource_id        = "table/${aws_dynamodb_table.sessions[count.index].name}"
  scalable_dimension = "dynamodb:table:ReadCapacityUnits"
  service_namespace  = "dynamodb"
}
resource "aws_appautoscaling_policy" "read" {
  count              = length(aws_appautoscaling_target.read)
  name               = "read-${count.index}"
  policy_type        = "TargetTrackingScaling"
  resource_id        = aws_appautoscaling_target.read[count.index].resource_id
  scalable_dimension = aws_appautoscaling_target.read[count.index].scalable_dimension
  service_namespace  = aws_appautoscaling_target.read[count.index].service_namespace
  target_tracking_scaling_policy_configuration {
    predefined_metric_specification {
      predefined_metric_type = "DynamoDBReadCapacityUtilization"
    }
    target_value = 70
  }
}
resource "aws_appautoscaling_target" "gsi_write" {
  for_each           = { for t in aws_dynamodb_table.sessions : t.name => t }
  min_capacity       = 2
  max_capacity       = 10
  resource_id        = "table/${each.key}/index/by_user"
  scalable_dimension = "dynamodb:index:WriteCapacityUnits"
  service_namespace  = "dynamodb"
}
resource "aws_appautoscaling_policy" "gsi_write" {
  for_each           = aws_appautoscaling_target.gsi_write
  name               = "gsi-write-${each.key}"
  policy_type        = "TargetTrackingScaling"
  resource_id        = each.value.resource_id
  scalable_dimension = each.value.scalable_dimension
  service_namespace  = "dynamodb"
  target_tracking_scaling_policy_configuration {
    predefined_metric_specification {
      predefined_metric_type = "DynamoDBWriteCapacityUtilization"
    }
    target_value = 50
  }
}
"""


def scan(capsys: pytest.CaptureFixture[str], root: Path) -> tuple[int, dict[str, dict[str, Any]]]:
    capsys.readouterr()
    code = main(["scan", "--root", str(root), "--region", REGION, "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    return code, {t["table_name"]: t for t in report["tables"]}


@pytest.fixture
def e2e_repo(tmp_path: Path, embedded_aws: None, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The E2E root, applied to moto exactly as declared."""
    write_tree(tmp_path, {"main.tf": E2E})
    monkeypatch.chdir(tmp_path)
    result = declare(tmp_path)
    assert result.errors == []
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    autoscaling = boto3.client("application-autoscaling", region_name=REGION)
    for declared in result.tables:
        create_table(dynamodb, autoscaling, declared.spec)
    return tmp_path


def test_scan_in_sync_then_hand_changed_scaling_is_drift(
    e2e_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, tables = scan(capsys, e2e_repo)
    assert code == 0, tables
    assert set(tables) == {"sessions-0", "sessions-1"}

    autoscaling = boto3.client("application-autoscaling", region_name=REGION)
    # Someone widens the table's read range and the GSI's write range by hand; and the table's
    # capacity moves inside its live range, which is the autoscaler's business, not drift.
    autoscaling.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId="table/sessions-0",
        ScalableDimension="dynamodb:table:ReadCapacityUnits",
        MinCapacity=1,
        MaxCapacity=100,
    )
    autoscaling.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId="table/sessions-1/index/by_user",
        ScalableDimension="dynamodb:index:WriteCapacityUnits",
        MinCapacity=2,
        MaxCapacity=40,
    )
    boto3.client("dynamodb", region_name=REGION).update_table(
        TableName="sessions-0", ProvisionedThroughput={"ReadCapacityUnits": 17, "WriteCapacityUnits": 5}
    )
    code, tables = scan(capsys, e2e_repo)
    assert code == 2
    drift = {
        name: {(d["attribute"], d["declared"], d["live"]) for d in t["drift"]} for name, t in tables.items()
    }
    assert drift == {
        "sessions-0": {("autoscaling.read.min", 5, 1), ("autoscaling.read.max", 20, 100)},
        "sessions-1": {("gsi.by_user.autoscaling.write.max", 10, 40)},
    }


def test_scan_reports_a_deleted_gsi_policy(e2e_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    autoscaling = boto3.client("application-autoscaling", region_name=REGION)
    autoscaling.delete_scaling_policy(
        PolicyName="gsi-write-sessions-1",  # as declared
        ServiceNamespace="dynamodb",
        ResourceId="table/sessions-1/index/by_user",
        ScalableDimension="dynamodb:index:WriteCapacityUnits",
    )
    code, tables = scan(capsys, e2e_repo)
    assert code == 2
    assert [(d["attribute"], d["live"]) for d in tables["sessions-1"]["drift"]] == [
        ("gsi.by_user.autoscaling.write.target", None)
    ]
    assert tables["sessions-0"]["drift"] == []


def test_a_policy_added_in_the_console_beside_the_declared_one_is_not_compared(
    e2e_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Terraform manages the policy it declares, by name, and leaves one added beside it alone.
    The live side used to compare the policy with the smallest name: a console policy named
    "a-console" (target 30, another metric) beside the declared "read-0" was drift on the
    table's target value and metric, a false alarm, and the declared policy's own drift was
    hidden behind it. Now the declared name is the one compared."""
    autoscaling = boto3.client("application-autoscaling", region_name=REGION)
    for name, value in (("a-console", 30.0), ("read-0", 70.0)):
        autoscaling.put_scaling_policy(
            PolicyName=name,
            ServiceNamespace="dynamodb",
            ResourceId="table/sessions-0",
            ScalableDimension=TABLE_READ,
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": value,
                "PredefinedMetricSpecification": {"PredefinedMetricType": WRITE},
            },
        )
    code, tables = scan(capsys, e2e_repo)
    # the declared policy's own change (its metric) is the drift, not the other policy's values
    assert [(d["attribute"], d["declared"], d["live"]) for d in tables["sessions-0"]["drift"]] == [
        ("autoscaling.read.metric", READ, WRITE)
    ]
    where = {"ServiceNamespace": "dynamodb", "ResourceId": "table/sessions-0"}
    where["ScalableDimension"] = TABLE_READ
    autoscaling.delete_scaling_policy(PolicyName="read-0", **where)
    code, tables = scan(capsys, e2e_repo)
    assert code == 2  # the declared policy is gone: Terraform would create it
    drift = [(d["attribute"], d["live"]) for d in tables["sessions-0"]["drift"]]
    assert drift == [("autoscaling.read.target", None)]


def test_references_that_lead_back_to_themselves_are_unknown_not_a_loop(tmp_path: Path) -> None:
    root = """
resource "aws_dynamodb_table" "a" {
  count        = length(aws_dynamodb_table.a)
  name         = "a"
  hash_key     = "id"
  billing_mode = "PAY_PER_REQUEST"
  attribute {
    name = "id"
    type = "S"
  }
}
resource "aws_dynamodb_table" "b" {
  name         = aws_appautoscaling_target.b.resource_id
  hash_key     = "id"
  billing_mode = "PAY_PER_REQUEST"
  attribute {
    name = "id"
    type = "S"
  }
}
resource "aws_appautoscaling_target" "b" {
  min_capacity       = 1
  max_capacity       = 2
  resource_id        = "table/${aws_dynamodb_table.b.name}"
  scalable_dimension = "dynamodb:table:ReadCapacityUnits"
  service_namespace  = "dynamodb"
}
"""
    write_tree(tmp_path, {"main.tf": root})
    result = declare(tmp_path)
    assert [t.address for t in result.tables] == ["aws_dynamodb_table.b"]
    assert isinstance(result.tables[0].spec.name, Unknown)
    messages = " | ".join(e.message for e in result.errors)
    skipped = {item.address: item.reason for item in result.not_evaluated}
    assert "cannot tell which tables it declares" in skipped["aws_dynamodb_table.a"]
    assert "cannot tell which table aws_appautoscaling_target.b scales" in messages


def test_a_resource_region_argument_decides_which_table_it_scales(tmp_path: Path) -> None:
    scaling = """
resource "aws_appautoscaling_target" "elsewhere" {
  region             = "eu-west-1"
  min_capacity       = 1
  max_capacity       = 2
  resource_id        = "table/orders"
  scalable_dimension = "dynamodb:table:WriteCapacityUnits"
  service_namespace  = "dynamodb"
}
resource "aws_appautoscaling_target" "unknown_region" {
  region             = data.aws_region.current.region
  min_capacity       = 3
  max_capacity       = 4
  resource_id        = "table/orders"
  scalable_dimension = "dynamodb:table:WriteCapacityUnits"
  service_namespace  = "dynamodb"
}
"""
    write_tree(
        tmp_path,
        {
            "main.tf": PLAIN.replace(
                'for_each           = toset(["Read", "Write"])', 'for_each           = toset(["Read"])'
            ),
            "more.tf": scaling,
        },
    )
    result = declare(tmp_path)
    assert [e.message.split(",")[0] for e in result.errors] == [
        "aws_appautoscaling_target.elsewhere scales table 'orders'"
    ]
    assert result.tables[0].spec.autoscaling.write == ScalingTarget(3, 4, None)


def test_ignore_changes_on_a_target_or_policy_leaves_those_values_unmanaged() -> None:
    lifecycle = {"lifecycle": [{"ignore_changes": ["min_capacity", "max_capacity"]}]}
    scheduled = dataclasses.replace(target(), arguments={**target().arguments, **lifecycle})
    everything = dataclasses.replace(
        policy(), arguments={**policy().arguments, "lifecycle": [{"ignore_changes": ["all"]}]}
    )
    tables, _ = attach([table()], [scheduled, policy()])
    spec = tables[0].spec
    assert not spec.is_managed("autoscaling.read.min") and not spec.is_managed("autoscaling.read.max")
    assert spec.is_managed("autoscaling.read.target")
    tables, _ = attach([table()], [target(), everything])
    assert not tables[0].spec.is_managed("autoscaling.read.target")
    assert tables[0].spec.is_managed("autoscaling.read.min")


def test_ignore_changes_on_a_target_is_read_from_hcl(tmp_path: Path) -> None:
    scaled = PLAIN.replace(
        '  service_namespace  = "ecs"\n}',
        '  service_namespace  = "ecs"\n}\n',
    ).replace(
        '  scalable_dimension = "dynamodb:index:ReadCapacityUnits"\n  service_namespace  = "dynamodb"\n}',
        '  scalable_dimension = "dynamodb:index:ReadCapacityUnits"\n  service_namespace  = "dynamodb"\n'
        "  lifecycle {\n    ignore_changes = [max_capacity]\n  }\n}",
    )
    write_tree(tmp_path, {"main.tf": scaled})
    (orders,) = declare(tmp_path).tables
    assert not orders.spec.is_managed("gsi.by_tenant.autoscaling.read.max")
    assert orders.spec.is_managed("gsi.by_tenant.autoscaling.read.min")


# --------------------------------------------------------------------------- one join that crashes


def _crash_for(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Joining ``name``'s autoscaling raises, as a bug would; every other table joins as usual."""
    real = appautoscaling._with_autoscaling

    def joined(table: DeclaredTable, dimensions: Any) -> Any:
        if table.spec.name == name:
            raise RuntimeError("injected fault")
        return real(table, dimensions)

    monkeypatch.setattr(appautoscaling, "_with_autoscaling", joined)


def test_a_crash_joining_one_tables_autoscaling_costs_only_that_tables_autoscaling(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _crash_for("orders", monkeypatch)
    users = "table/users"
    tables, problems = attach(
        [table("orders"), table("users")],
        [target(), policy(), target(users, address="aws_appautoscaling_target.users")],
    )
    orders, joined = tables
    assert joined.spec.autoscaling == Autoscaling(read=ScalingTarget(min=5, max=20, target=None))
    assert orders.spec == table("orders").spec  # as declared: nothing guessed, nothing compared
    (note,) = orders.notes
    assert note.attribute == "autoscaling.read"
    assert note.reason == (
        "its autoscaling (aws_appautoscaling_target.read) could not be joined (RuntimeError: injected fault)"
    )
    assert [(p.file, p.line) for p in problems] == [("scaling.tf", 3)]
    assert problems[0].message.startswith("aws_dynamodb_table.orders: its autoscaling")


def test_a_crash_reading_one_scaling_resource_is_that_resources_problem(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = appautoscaling._key_of
    monkeypatch.setattr(
        appautoscaling,
        "_key_of",
        lambda r: (_ for _ in ()).throw(KeyError("boom")) if r.address.endswith(".users") else real(r),
    )
    tables, problems = attach(
        [table("orders"), table("users")],
        [target(), target("table/users", address="aws_appautoscaling_target.users")],
    )
    assert tables[0].spec.autoscaling.read == ScalingTarget(min=5, max=20, target=None)
    (problem,) = problems
    assert "aws_appautoscaling_target.users could not be joined to its table (KeyError" in problem.message


def test_scan_compares_the_other_tables_when_one_join_crashes(
    e2e_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a real scan (moto): the join of sessions-0 crashes; sessions-1 is still compared, its
    hand-changed scaling found; sessions-0 is compared too, its autoscaling shown unresolved."""
    from driftwatch.aws.clients import AwsClients
    from driftwatch.scan import scan as run_scan

    _crash_for("sessions-0", monkeypatch)
    boto3.client("application-autoscaling", region_name=REGION).register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId="table/sessions-1",
        ScalableDimension="dynamodb:table:ReadCapacityUnits",
        MinCapacity=1,
        MaxCapacity=100,
    )
    target_input = TargetInput(name="t", repo=e2e_repo, root=e2e_repo, env={}, region=REGION)
    report = run_scan([target_input], AwsClients(), cache=ParseCache())
    rows = {row.table_name: row for row in report.tables}
    assert set(rows) == {"sessions-0", "sessions-1"}
    assert rows["sessions-1"].status == TableStatus.DRIFTED
    assert {d.attribute for d in rows["sessions-1"].drift} == {"autoscaling.read.min", "autoscaling.read.max"}
    assert rows["sessions-0"].status == TableStatus.IN_SYNC
    unresolved = {u.attribute for u in rows["sessions-0"].unresolved}
    assert {"autoscaling.read", "gsi.by_user.autoscaling.write"} <= unresolved
    assert any("RuntimeError: injected fault" in e.message for e in report.errors)


def _with_config(resource: ScalingResource, **settings: Any) -> ScalingResource:
    config = {**resource.arguments["target_tracking_scaling_policy_configuration"][0], **settings}
    arguments = {**resource.arguments, "target_tracking_scaling_policy_configuration": [config]}
    return dataclasses.replace(resource, arguments=arguments)


def test_a_policys_cooldowns_and_disable_scale_in_are_declared() -> None:
    configured = _with_config(policy(), scale_in_cooldown=60, scale_out_cooldown="30", disable_scale_in=True)
    tables, problems = attach([table()], [target(), configured])
    assert problems == []
    assert tables[0].spec.autoscaling.read == ScalingTarget(5, 20, 70.0, 60, 30, True, metric=READ)
    # unset: None, which the diff reads as AWS's and the provider's default (0 s, not disabled)
    tables, _ = attach([table()], [target(), policy()])
    assert tables[0].spec.autoscaling.read == ScalingTarget(5, 20, 70.0, None, None, None, metric=READ)


def test_an_unreadable_policy_setting_is_unknown() -> None:
    configured = _with_config(policy(), scale_in_cooldown="soon", disable_scale_in="maybe")
    tables, _ = attach([table()], [target(), configured])
    read = tables[0].spec.autoscaling.read
    assert read is not None
    assert isinstance(read.scale_in_cooldown, Unknown) and isinstance(read.disable_scale_in, Unknown)


def test_ignore_changes_on_the_policy_configuration_leaves_its_settings_unmanaged() -> None:
    ignored = dataclasses.replace(
        policy(),
        arguments={
            **policy().arguments,
            "lifecycle": [{"ignore_changes": ["target_tracking_scaling_policy_configuration"]}],
        },
    )
    tables, _ = attach([table()], [target(), ignored])
    spec = tables[0].spec
    for field in ("target", "scale_in_cooldown", "scale_out_cooldown", "disable_scale_in"):
        assert not spec.is_managed(f"autoscaling.read.{field}")
    assert spec.is_managed("autoscaling.read.min")


def test_a_targets_suspended_state_is_declared_only_where_the_block_is() -> None:
    suspended = {
        "suspended_state": [{"dynamic_scaling_in_suspended": True, "scheduled_scaling_suspended": "false"}]
    }
    declared = dataclasses.replace(target(), arguments={**target().arguments, **suspended})
    tables, _ = attach([table()], [declared, policy()])
    read = tables[0].spec.autoscaling.read
    assert read is not None and read.suspended_state == frozenset({"dynamic_scaling_in"})
    tables, _ = attach([table()], [target(), policy()])
    read = tables[0].spec.autoscaling.read
    assert read is not None and read.suspended_state is None
    ignored = dataclasses.replace(
        declared, arguments={**declared.arguments, "lifecycle": [{"ignore_changes": ["suspended_state"]}]}
    )
    tables, _ = attach([table()], [ignored, policy()])
    assert not tables[0].spec.is_managed("autoscaling.read.suspended_state")
    assert tables[0].spec.is_managed("autoscaling.read.min")


def test_a_step_scaling_policy_is_named_as_not_compared() -> None:
    """terraform plan changes a step scaling policy edited in the console; driftwatch has no
    attribute for its steps, so it says so instead of passing over them in silence."""
    step = dataclasses.replace(
        policy(policy_type="StepScaling"),
        arguments={
            **policy(policy_type="StepScaling").arguments,
            "step_scaling_policy_configuration": [{"adjustment_type": "ChangeInCapacity"}],
        },
    )
    tables, problems = attach([table()], [target(), step])
    assert problems == []
    (note,) = tables[0].notes
    assert note.attribute == "autoscaling.read.step_scaling"
    assert "does not compare the step scaling policy aws_appautoscaling_policy.read" in note.reason
    ignored = dataclasses.replace(
        step,
        arguments={
            **step.arguments,
            "lifecycle": [{"ignore_changes": ["step_scaling_policy_configuration"]}],
        },
    )
    tables, _ = attach([table()], [target(), ignored])
    assert tables[0].notes == ()
    tables, _ = attach([table()], [target(), policy()])  # target tracking: compared, no note
    assert tables[0].notes == ()


def _with_metric(resource: ScalingResource, **blocks: Any) -> ScalingResource:
    config = {
        key: value
        for key, value in resource.arguments["target_tracking_scaling_policy_configuration"][0].items()
        if key != "predefined_metric_specification"
    }
    arguments = {**resource.arguments, "target_tracking_scaling_policy_configuration": [{**config, **blocks}]}
    return dataclasses.replace(resource, arguments=arguments)


def test_a_policys_metric_is_declared() -> None:
    """Predefined (with its resource_label, a number converted as Terraform does) or
    customized: one comparable value; unset and "" labels alike (terraform plan, 1.11.4)."""
    labelled = _with_metric(
        policy(), predefined_metric_specification=[{"predefined_metric_type": READ, "resource_label": 7}]
    )
    empty = _with_metric(
        policy(), predefined_metric_specification=[{"predefined_metric_type": READ, "resource_label": ""}]
    )
    customized = _with_metric(
        policy(),
        customized_metric_specification=[
            {"metric_name": "ConsumedReadCapacityUnits", "namespace": "AWS/DynamoDB", "statistic": "Sum"}
        ],
    )
    metrics = []
    for declared in (labelled, empty, customized):
        tables, problems = attach([table()], [target(), declared])
        assert problems == []
        read = tables[0].spec.autoscaling.read
        assert read is not None
        metrics.append(read.metric)
    assert metrics == [
        f'{READ}, resource_label "7"',
        READ,
        'customized {"namespace": "AWS/DynamoDB", "metric_name": "ConsumedReadCapacityUnits", '
        '"statistic": "Sum"}',
    ]


def test_an_unknown_metric_is_unknown_and_ignore_changes_leaves_it_unmanaged() -> None:
    unknown = Unknown("aws_cloudwatch_metric_alarm.x.metric_name is known after apply")
    declared = _with_metric(policy(), predefined_metric_specification=[{"predefined_metric_type": unknown}])
    tables, _ = attach([table()], [target(), declared])
    read = tables[0].spec.autoscaling.read
    assert read is not None and read.metric == unknown
    ignored = dataclasses.replace(
        policy(),
        arguments={
            **policy().arguments,
            "lifecycle": [{"ignore_changes": ["target_tracking_scaling_policy_configuration"]}],
        },
    )
    tables, _ = attach([table()], [target(), ignored])
    assert not tables[0].spec.is_managed("autoscaling.read.metric")


CUSTOMIZED = """
provider "aws" {
  region = "us-east-1"
}
resource "aws_dynamodb_table" "events" {
  name           = "events"
  hash_key       = "id"
  read_capacity  = 5
  write_capacity = 5
  attribute {
    name = "id"
    type = "S"
  }
}
resource "aws_appautoscaling_target" "read" {
  min_capacity       = 5
  max_capacity       = 20
  resource_id        = "table/${aws_dynamodb_table.events.name}"
  scalable_dimension = "dynamodb:table:ReadCapacityUnits"
  service_namespace  = "dynamodb"
}
resource "aws_appautoscaling_policy" "read" {
  name               = "consumed-reads"
  policy_type        = "TargetTrackingScaling"
  resource_id        = aws_appautoscaling_target.read.resource_id
  scalable_dimension = aws_appautoscaling_target.read.scalable_dimension
  service_namespace  = "dynamodb"
  target_tracking_scaling_policy_configuration {
    customized_metric_specification {
      metric_name = "ConsumedReadCapacityUnits"
      namespace   = "AWS/DynamoDB"
      statistic   = "Sum"
      dynamic "dimensions" {
        for_each = { TableName = aws_dynamodb_table.events.name, Operation = "GetItem" }
        content {
          name  = dimensions.key
          value = dimensions.value
        }
      }
    }
    target_value = 60
  }
}
"""


def _put_customized(statistic: str) -> None:
    boto3.client("application-autoscaling", region_name=REGION).put_scaling_policy(
        PolicyName="consumed-reads",
        ServiceNamespace="dynamodb",
        ResourceId="table/events",
        ScalableDimension=TABLE_READ,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 60.0,
            "CustomizedMetricSpecification": {
                "MetricName": "ConsumedReadCapacityUnits",
                "Namespace": "AWS/DynamoDB",
                "Statistic": statistic,
                # the other order than declared: dimensions are a set for terraform plan
                "Dimensions": [
                    {"Name": "TableName", "Value": "events"},
                    {"Name": "Operation", "Value": "GetItem"},
                ],
            },
        },
    )


def test_scan_compares_the_metric_a_policy_tracks(
    tmp_path: Path, embedded_aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A customized metric written with a dynamic block is in sync with its live form; a
    statistic changed in the console is drift (terraform plan changes the policy), printed as
    it reads."""
    write_tree(tmp_path, {"main.tf": CUSTOMIZED})
    monkeypatch.chdir(tmp_path)
    result = declare(tmp_path)
    assert result.errors == []
    create_table(
        boto3.client("dynamodb", region_name=REGION),
        boto3.client("application-autoscaling", region_name=REGION),
        dataclasses.replace(result.tables[0].spec, autoscaling=Autoscaling()),
    )
    boto3.client("application-autoscaling", region_name=REGION).register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId="table/events",
        ScalableDimension=TABLE_READ,
        MinCapacity=5,
        MaxCapacity=20,
    )
    _put_customized("Sum")
    code, tables = scan(capsys, tmp_path)
    assert (code, tables["events"]["drift"], tables["events"]["unresolved"]) == (0, [], [])

    _put_customized("Average")
    code, tables = scan(capsys, tmp_path)
    assert code == 2
    (drift,) = tables["events"]["drift"]
    assert drift["attribute"] == "autoscaling.read.metric"
    assert '"statistic": "Sum"' in drift["declared"] and '"statistic": "Average"' in drift["live"]
    assert main(["scan", "--root", str(tmp_path), "--region", REGION, "--format", "text"]) == 2
    assert 'customized {"namespace": "AWS/DynamoDB"' in capsys.readouterr().out


def test_scan_reports_a_predefined_metric_swapped_in_the_console(
    e2e_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """PutScalingPolicy with another predefined metric: terraform plan changes the policy back
    (1.11.4); driftwatch said nothing before autoscaling.<dir>.metric."""
    boto3.client("application-autoscaling", region_name=REGION).put_scaling_policy(
        PolicyName="read-0",  # as declared
        ServiceNamespace="dynamodb",
        ResourceId="table/sessions-0",
        ScalableDimension=TABLE_READ,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 70.0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": WRITE, "ResourceLabel": "x"},
        },
    )
    code, tables = scan(capsys, e2e_repo)
    assert code == 2
    assert [(d["attribute"], d["declared"], d["live"]) for d in tables["sessions-0"]["drift"]] == [
        ("autoscaling.read.metric", READ, f'{WRITE}, resource_label "x"')
    ]
    assert tables["sessions-1"]["drift"] == []


def _lifecycle(resource: ScalingResource, ignore_changes: Any) -> ScalingResource:
    lifecycle = {"lifecycle": [{"ignore_changes": ignore_changes}]}
    return dataclasses.replace(resource, arguments={**resource.arguments, **lifecycle})


def test_ignore_changes_all_on_a_target_or_policy_names_every_field_it_leaves_uncompared() -> None:
    """``ignore_changes = all`` on a scaling resource: terraform plan changes none of its
    arguments, and driftwatch compares none of them, but says so field by field (as for the
    table's own ``ignore_changes = all``), never a silent "in sync"."""
    suspended = dataclasses.replace(
        target(), arguments={**target().arguments, "suspended_state": [{"scheduled_scaling_suspended": True}]}
    )
    tables, problems = attach([table()], [_lifecycle(suspended, ["all"]), policy()])
    assert problems == []
    notes = {note.attribute: note.reason for note in tables[0].notes}
    assert sorted(notes) == [
        "autoscaling.read.max",
        "autoscaling.read.min",
        "autoscaling.read.suspended_state",
    ]
    assert all(
        "ignore_changes = all on aws_appautoscaling_target.read" in reason and "none is compared" in reason
        for reason in notes.values()
    )
    tables, _ = attach([table()], [target(), _lifecycle(policy(), "all")])
    policy_fields = ("target", "scale_in_cooldown", "scale_out_cooldown", "disable_scale_in", "metric")
    assert sorted(note.attribute for note in tables[0].notes) == sorted(
        f"autoscaling.read.{field}" for field in policy_fields
    )
    assert all("aws_appautoscaling_policy.read" in note.reason for note in tables[0].notes)
    # an entry that cannot be read could name anything: the same fields, with that reason
    unreadable = _lifecycle(target(), [Unknown("var.ignored is not known")])
    tables, _ = attach([table()], [unreadable, policy()])
    assert sorted(note.attribute for note in tables[0].notes) == [
        "autoscaling.read.max",
        "autoscaling.read.min",
    ]
    assert all("could not be read" in note.reason for note in tables[0].notes)
    # named arguments: the user chose them, as on the table (not noted)
    tables, _ = attach([table()], [_lifecycle(target(), ["min_capacity"]), policy()])
    assert tables[0].notes == ()


def test_ignore_changes_all_on_a_step_policy_or_a_gsi_target_is_named_too() -> None:
    step = policy(policy_type="StepScaling")
    step = dataclasses.replace(
        step,
        arguments={
            **step.arguments,
            "step_scaling_policy_configuration": [{"adjustment_type": "ChangeInCapacity"}],
        },
    )
    tables, _ = attach([table()], [target(), _lifecycle(step, ["all"])])
    (note,) = tables[0].notes
    assert note.attribute == "autoscaling.read.step_scaling" and "ignore_changes = all" in note.reason
    gsi = Gsi(name="by_tenant", hash_key="tenant")
    index_target = target(
        "table/orders/index/by_tenant", INDEX_READ, 2, 40, address="aws_appautoscaling_target.g"
    )
    tables, _ = attach([table(gsis=(gsi,))], [_lifecycle(index_target, ["all"])])
    assert sorted(note.attribute for note in tables[0].notes) == [
        "gsi.by_tenant.autoscaling.read.max",
        "gsi.by_tenant.autoscaling.read.min",
    ]


def test_only_the_compared_policys_ignore_changes_leaves_its_settings_alone() -> None:
    """A step scaling policy (or a second target-tracking policy, which the live side does not
    compare either) beside the compared one, with ``ignore_changes = all``, left the compared
    policy's target value, cooldowns and metric uncompared: its drift hidden by another
    resource's rule. Only the compared policy's own ``ignore_changes`` leaves them alone."""
    step = policy(policy_type="StepScaling", name="step", address="aws_appautoscaling_policy.step")
    step = dataclasses.replace(
        step,
        arguments={
            **step.arguments,
            "target_tracking_scaling_policy_configuration": None,
            "step_scaling_policy_configuration": [{"adjustment_type": "ChangeInCapacity"}],
        },
    )
    second = policy(value=40, name="zz-second", address="aws_appautoscaling_policy.second")
    for other in (step, second):
        tables, problems = attach([table()], [target(), policy(), _lifecycle(other, ["all"])])
        assert problems == []
        spec = tables[0].spec
        assert "autoscaling.read.target" not in spec.unmanaged, other.address
        assert "autoscaling.read.metric" not in spec.unmanaged, other.address
        assert spec.autoscaling.read is not None and spec.autoscaling.read.target == 70
        assert not [n for n in tables[0].notes if n.attribute.startswith("autoscaling.read.target")]
    # The compared policy's own rule still leaves them alone, as Terraform does.
    tables, _ = attach([table()], [target(), _lifecycle(policy(), ["all"]), second])
    assert "autoscaling.read.target" in tables[0].spec.unmanaged


def test_a_policy_named_by_a_value_known_only_after_apply_is_not_guessed_among_several_live() -> None:
    """The declared policy's name is unknown (``name = "read-${random_id.x.hex}"``) and the
    dimension has two live tracking policies: which one Terraform manages cannot be told. The
    one with the smallest name was compared -- a console policy "a-console" at 30 beside the
    declared one at 70 was drift on the target value, a false alarm. Now the policy's values
    are unresolved; with one live policy it is still compared."""
    unknown_name = Unknown("random_id.x.hex is known only after apply")
    tables, problems = attach([table()], [target(), policy(name=unknown_name)])
    assert problems == []
    declared = tables[0].spec
    key = ("orders", None, "read")
    live_policies = {
        name: ScalingTarget(min=5, max=20, target=value, metric=READ)
        for name, value in (("a-console", 30.0), ("read-1a2b", 70.0))
    }
    live = dataclasses.replace(declared, autoscaling=Autoscaling(), unmanaged=frozenset())
    several = AutoscalingIndex({key: live_policies["a-console"]}, {key: live_policies})
    result = diff(declared, apply_autoscaling(live, several, declared))
    assert result.drift == ()
    assert "autoscaling.read.target" in {u.attribute for u in result.unresolved}
    one = {"read-1a2b": dataclasses.replace(live_policies["read-1a2b"], target=30.0)}
    result = diff(
        declared, apply_autoscaling(live, AutoscalingIndex({key: one["read-1a2b"]}, {key: one}), declared)
    )
    assert [(d.attribute, d.live) for d in result.drift] == [("autoscaling.read.target", 30.0)]
