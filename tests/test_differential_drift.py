"""driftwatch's verdict on live tables against ``terraform plan``, table by table.

``test_differential_plan`` checks the declared side before anything exists; this suite checks
the whole scan after the fact, as a person meets it: one root in the styles of public
repositories (``for_each`` over a map of objects with ``optional()`` defaults, ``dynamic``
``attribute`` / ``global_secondary_index`` blocks, a vendored copy shaped like
``terraform-aws-modules/dynamodb-table`` called with ``for_each``, ``count`` with a conditional,
``toset``, ``for_each`` over ``fileset`` of YAML files read with ``file``, ``try`` / ``lookup`` /
``coalesce`` / ``merge`` / ``jsonencode``, provider
``default_tags`` and ``ignore_tags``, ``lifecycle { ignore_changes }`` on capacity, on GSIs and
on one tag key, ``ttl { enabled = false }``, PITR omitted and off, a data source) is applied to
moto on 127.0.0.1 with one ``terraform apply``, then changed out of band with boto3 the way a
console user would. One ``terraform plan`` and one ``driftwatch scan --format json`` read it.

For every table, the Terraform arguments behind driftwatch's drift must be exactly the arguments
``terraform plan`` wants to change: no false alarm, no hidden drift. What driftwatch cannot
resolve is unresolved (never drift) and a table whose name it cannot resolve is an error naming
the reason (not silently unwatched).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from terraform_support import (
    REGION,
    REQUIRES_TERRAFORM,
    TERRAFORM_BLOCK,
    changed_arguments,
    moto_server,
    provider_block,
    terraform,
    write_cli_config,
    write_files,
)

from driftwatch.cli import main as driftwatch_main

# One worker runs this module, so the apply and plan below are made once (--dist loadgroup).
pytestmark = [*REQUIRES_TERRAFORM, pytest.mark.xdist_group("terraform-drift")]

PROVIDER_EXTRA = """
  default_tags {
    tags = { ManagedBy = "terraform", Env = var.env }
  }
  ignore_tags {
    keys         = ["LastScanned"]
    key_prefixes = ["kubernetes.io/"]
  }
"""

ROOT = r"""
variable "env" {
  type     = string
  default  = "dev"
  nullable = false
}

variable "tables" {
  type = map(object({
    hash_key   = string
    range_key  = optional(string)
    attributes = optional(list(object({ name = string, type = string })), [])
    gsis = optional(list(object({
      name               = string
      hash_key           = string
      range_key          = optional(string)
      projection_type    = optional(string, "ALL")
      non_key_attributes = optional(list(string))
    })), [])
    pitr     = optional(bool, true)
    ttl_attr = optional(string)
    stream   = optional(string)
    protect  = optional(bool)
    billing  = optional(string, "PAY_PER_REQUEST")
    rcu      = optional(number, 5)
    wcu      = optional(number, 5)
    tags     = optional(map(string), {})
  }))
  default = {}
}

variable "module_tables" {
  type = map(object({
    hash_key   = string
    range_key  = optional(string)
    pitr       = optional(bool) # null: the module's non-nullable default (true)
    ttl        = optional(string, "")
    encryption = optional(bool, false)
    class      = optional(string)
    protect    = optional(bool)
    gsis       = optional(any, [])
    attributes = optional(list(map(string)), [])
  }))
  default = {}
}

locals {
  name_prefix = "${var.env}-app"
  common_tags = { Project = "demo", Owner = coalesce(null, "team-a") }
  services = [
    { name = "Alpha", indexes = ["email", "status"] },
    { name = "Beta", indexes = [] },
  ]
  by_name = { for s in local.services : lower(s.name) => s }
}

data "aws_caller_identity" "current" {}

resource "aws_dynamodb_table" "this" {
  for_each                    = var.tables
  name                        = "${local.name_prefix}-${each.key}"
  billing_mode                = each.value.billing
  read_capacity               = each.value.billing == "PROVISIONED" ? each.value.rcu : null
  write_capacity              = each.value.billing == "PROVISIONED" ? each.value.wcu : null
  hash_key                    = each.value.hash_key
  range_key                   = each.value.range_key
  stream_enabled              = each.value.stream != null
  stream_view_type            = each.value.stream
  deletion_protection_enabled = try(each.value.protect, false)

  dynamic "attribute" {
    for_each = concat(
      [{ name = each.value.hash_key, type = "S" }],
      each.value.range_key == null ? [] : [{ name = each.value.range_key, type = "S" }],
      each.value.attributes,
    )
    content {
      name = attribute.value.name
      type = attribute.value.type
    }
  }

  dynamic "global_secondary_index" {
    for_each = each.value.gsis
    content {
      name               = global_secondary_index.value.name
      hash_key           = global_secondary_index.value.hash_key
      range_key          = global_secondary_index.value.range_key
      projection_type    = global_secondary_index.value.projection_type
      non_key_attributes = global_secondary_index.value.non_key_attributes
      read_capacity      = each.value.billing == "PROVISIONED" ? each.value.rcu : null
      write_capacity     = each.value.billing == "PROVISIONED" ? each.value.wcu : null
    }
  }

  point_in_time_recovery {
    enabled = each.value.pitr
  }

  dynamic "ttl" {
    for_each = each.value.ttl_attr == null ? [] : [each.value.ttl_attr]
    content {
      attribute_name = ttl.value
      enabled        = true
    }
  }

  server_side_encryption {
    enabled = true
  }

  tags = merge(local.common_tags, each.value.tags, {
    Name    = "${local.name_prefix}-${each.key}"
    Account = data.aws_caller_identity.current.account_id
  })
}

# One table per YAML file of tables/ (fileset, then file() of each): the configuration-driven
# pattern; notes.md and sub/deep.yaml are not matched by "*.yaml".
resource "aws_dynamodb_table" "from_files" {
  for_each     = fileset("${path.module}/tables", "*.yaml")
  name         = "${local.name_prefix}-${yamldecode(file("${path.module}/tables/${each.value}")).name}"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
  tags = { Source = each.value }
}

# Autoscaled outside Terraform: capacity and GSIs are left to it.
resource "aws_dynamodb_table" "autoscaled" {
  name           = "${local.name_prefix}-autoscaled"
  hash_key       = "pk"
  read_capacity  = 5
  write_capacity = 5
  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "g"
    type = "S"
  }
  global_secondary_index {
    name            = "by-g"
    hash_key        = "g"
    projection_type = "KEYS_ONLY"
    read_capacity   = 5
    write_capacity  = 5
  }
  ttl {
    attribute_name = ""
    enabled        = false
  }
  lifecycle {
    ignore_changes = [read_capacity, write_capacity, global_secondary_index]
  }
}

resource "aws_dynamodb_table" "counted" {
  count            = var.env == "prod" ? 0 : 2
  name             = "${local.name_prefix}-counted-${count.index}"
  hash_key         = "id"
  billing_mode     = "PAY_PER_REQUEST"
  table_class      = count.index == 0 ? null : "STANDARD_INFREQUENT_ACCESS"
  stream_enabled   = false
  stream_view_type = null
  attribute {
    name = "id"
    type = "S"
  }
  tags = {
    Index = count.index
    Empty = ""
    Gone  = null
  }
  lifecycle {
    ignore_changes = [tags["Touched"]]
  }
}

resource "aws_dynamodb_table" "by_set" {
  for_each     = toset(["alpha", "beta"])
  name         = "${local.name_prefix}-set-${each.key}"
  hash_key     = "id"
  billing_mode = "PAY_PER_REQUEST"
  attribute {
    name = "id"
    type = "S"
  }
  dynamic "point_in_time_recovery" {
    for_each = each.key == "alpha" ? [1] : []
    content {
      enabled = true
    }
  }
  tags = lookup({ alpha = { Tier = "gold" } }, each.key, {})
}

resource "aws_dynamodb_table" "svc" {
  for_each         = local.by_name
  name             = replace("${local.name_prefix}_svc_${each.key}", "_", "-")
  hash_key         = "id"
  read_capacity    = 4
  write_capacity   = 4
  stream_enabled   = false
  stream_view_type = each.key == "alpha" ? "NEW_IMAGE" : ""

  dynamic "attribute" {
    for_each = toset(concat(["id"], each.value.indexes))
    content {
      name = attribute.value
      type = "S"
    }
  }
  dynamic "global_secondary_index" {
    for_each = toset(each.value.indexes)
    content {
      name               = "${global_secondary_index.value}-idx"
      hash_key           = global_secondary_index.value
      projection_type    = "INCLUDE"
      non_key_attributes = ["zeta", "alpha"]
      read_capacity      = 2
      write_capacity     = 3
    }
  }
  ttl {
    enabled        = true
    attribute_name = coalesce(null, "expires_at")
  }
  point_in_time_recovery {
    enabled = try(each.value.pitr, true)
  }
  tags = {
    Config = jsonencode({ idx = length(each.value.indexes) })
    Flag   = each.key == "alpha"
    Ratio  = 1.5
    Peer   = aws_dynamodb_table.peer.name
  }
}

resource "aws_dynamodb_table" "peer" {
  name         = "${local.name_prefix}-peer"
  hash_key     = "pk"
  range_key    = "sk"
  billing_mode = "PAY_PER_REQUEST"
  table_class  = "STANDARD"
  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "sk"
    type = "N"
  }
  attribute {
    name = "other"
    type = "S"
  }
  local_secondary_index {
    name            = "by-other"
    range_key       = "other"
    projection_type = "KEYS_ONLY"
  }
  server_side_encryption {
    enabled = true
  }
  tags = { Env = "override" }
}

resource "aws_dynamodb_table" "by_account" {
  name         = "acct-${data.aws_caller_identity.current.account_id}"
  hash_key     = "id"
  billing_mode = "PAY_PER_REQUEST"
  attribute {
    name = "id"
    type = "S"
  }
}

# Recovery period: terraform plan enforces it, driftwatch names it unresolved (not compared).
resource "aws_dynamodb_table" "recovery" {
  name         = "${local.name_prefix}-recovery"
  hash_key     = "id"
  billing_mode = "PAY_PER_REQUEST"
  attribute {
    name = "id"
    type = "S"
  }
  point_in_time_recovery {
    enabled                 = true
    recovery_period_in_days = 7
  }
}

# Ignoring PITR's period leaves `enabled` planned: turned off in the console, terraform plan
# turns it back on (driftwatch used to silence all of PITR; realsurvey12).
resource "aws_dynamodb_table" "recovery_period_ignored" {
  name         = "${local.name_prefix}-recovery-period-ignored"
  hash_key     = "id"
  billing_mode = "PAY_PER_REQUEST"
  attribute {
    name = "id"
    type = "S"
  }
  point_in_time_recovery {
    enabled                 = true
    recovery_period_in_days = 7
  }
  lifecycle {
    ignore_changes = [point_in_time_recovery[0].recovery_period_in_days]
  }
}

# ignore_changes = [tags_all] leaves the resource's own tags compared (terraform plan).
resource "aws_dynamodb_table" "tags_all" {
  name         = "${local.name_prefix}-tags-all"
  hash_key     = "id"
  billing_mode = "PAY_PER_REQUEST"
  attribute {
    name = "id"
    type = "S"
  }
  tags = { Team = "core" }
  lifecycle {
    ignore_changes = [tags_all]
  }
}

# ignore_changes = [tags]: a default tag deleted in the console is put back (a change of
# tags_all), while a default tag given another value and the resource's own tags plan nothing.
resource "aws_dynamodb_table" "tags_ignored" {
  name         = "${local.name_prefix}-tags-ignored"
  hash_key     = "id"
  billing_mode = "PAY_PER_REQUEST"
  attribute {
    name = "id"
    type = "S"
  }
  tags = { Own = "o", Env = "mine" }
  lifecycle {
    ignore_changes = [tags]
  }
}

# The same, with a default tag only given another value: in sync for Terraform.
resource "aws_dynamodb_table" "tags_ignored_value" {
  name         = "${local.name_prefix}-tags-ignored-value"
  hash_key     = "id"
  billing_mode = "PAY_PER_REQUEST"
  attribute {
    name = "id"
    type = "S"
  }
  lifecycle {
    ignore_changes = [tags]
  }
}

# ignore_changes = [tags["Env"]] on a default tag: deleting it still plans a change.
resource "aws_dynamodb_table" "tag_key_ignored" {
  name         = "${local.name_prefix}-tag-key-ignored"
  hash_key     = "id"
  billing_mode = "PAY_PER_REQUEST"
  attribute {
    name = "id"
    type = "S"
  }
  tags = { Own = "o" }
  lifecycle {
    ignore_changes = [tags["Env"]]
  }
}

# Capacity left to an autoscaler, billing mode switched in the console: drift on billing_mode.
resource "aws_dynamodb_table" "billing" {
  name           = "${local.name_prefix}-billing"
  hash_key       = "id"
  read_capacity  = 5
  write_capacity = 5
  attribute {
    name = "id"
    type = "S"
  }
  lifecycle {
    ignore_changes = [read_capacity, write_capacity]
  }
}

module "table" {
  source   = "./modules/dynamodb-table"
  for_each = var.module_tables

  name      = "${local.name_prefix}-mod-${each.key}"
  hash_key  = each.value.hash_key
  range_key = each.value.range_key
  attributes = concat(
    [{ name = each.value.hash_key, type = "S" }],
    each.value.range_key != null ? [{ name = each.value.range_key, type = "S" }] : [],
    each.value.attributes,
  )
  point_in_time_recovery_enabled = each.value.pitr
  ttl_enabled                    = each.value.ttl != ""
  ttl_attribute_name             = each.value.ttl
  server_side_encryption_enabled = each.value.encryption
  table_class                    = each.value.class
  deletion_protection_enabled    = each.value.protect
  global_secondary_indexes       = each.value.gsis
  tags                           = { Table = each.key }
}

module "autoscaled" {
  source              = "./modules/dynamodb-table"
  name                = "${local.name_prefix}-mod-autoscaled"
  hash_key            = "id"
  attributes          = [{ name = "id", type = "S" }]
  billing_mode        = "PROVISIONED"
  read_capacity       = 5
  write_capacity      = 5
  autoscaling_enabled = true
}
"""

TFVARS = r"""
tables = {
  orders = {
    hash_key   = "pk"
    range_key  = "sk"
    attributes = [{ name = "status", type = "S" }, { name = "created", type = "N" }]
    gsis = [
      { name = "by-status", hash_key = "status", range_key = "created" },
      {
        name = "by-created", hash_key = "created", projection_type = "INCLUDE",
        non_key_attributes = ["total", "id"]
      },
    ]
    ttl_attr = "expires_at"
    stream   = "NEW_AND_OLD_IMAGES"
    tags     = { Team = "orders" }
  }
  users = {
    hash_key = "id"
    pitr     = false
    billing  = "PROVISIONED"
    rcu      = 3
    wcu      = 2
    protect  = true
  }
  sessions = {
    hash_key = "sid"
  }
}

module_tables = {
  events = {
    hash_key   = "pk"
    range_key  = "sk"
    pitr       = true
    ttl        = "expires"
    encryption = true
    attributes = [{ name = "gsi1pk", type = "S" }]
    gsis       = [{ name = "gsi1", hash_key = "gsi1pk", projection_type = "ALL" }]
  }
  audit = {
    hash_key = "id"
    class    = "STANDARD_INFREQUENT_ACCESS"
    protect  = true
  }
  plain = {
    hash_key = "id"
  }
}
"""

# A trimmed copy of terraform-aws-modules/dynamodb-table's main.tf and variables.tf, as vendored
# into many repositories: every block present, driven by variables whose defaults are null/false
# (PITR's made non-nullable and true, as wrappers often do, so that a null passed in means true).
MODULE = r"""
variable "create_table" {
  type    = bool
  default = true
}
variable "name" {
  type    = string
  default = null
}
variable "attributes" {
  type    = list(map(string))
  default = []
}
variable "hash_key" {
  type    = string
  default = null
}
variable "range_key" {
  type    = string
  default = null
}
variable "billing_mode" {
  type    = string
  default = "PAY_PER_REQUEST"
}
variable "write_capacity" {
  type    = number
  default = null
}
variable "read_capacity" {
  type    = number
  default = null
}
variable "point_in_time_recovery_enabled" {
  type     = bool
  default  = true
  nullable = false
}
variable "ttl_enabled" {
  type    = bool
  default = false
}
variable "ttl_attribute_name" {
  type    = string
  default = ""
}
variable "global_secondary_indexes" {
  type    = any
  default = []
}
variable "stream_enabled" {
  type    = bool
  default = false
}
variable "stream_view_type" {
  type    = string
  default = null
}
variable "server_side_encryption_enabled" {
  type    = bool
  default = false
}
variable "server_side_encryption_kms_key_arn" {
  type    = string
  default = null
}
variable "tags" {
  type    = map(string)
  default = {}
}
variable "table_class" {
  type    = string
  default = null
}
variable "deletion_protection_enabled" {
  type    = bool
  default = null
}
variable "autoscaling_enabled" {
  type    = bool
  default = false
}

resource "aws_dynamodb_table" "this" {
  count = var.create_table && !var.autoscaling_enabled ? 1 : 0

  name                        = var.name
  billing_mode                = var.billing_mode
  hash_key                    = var.hash_key
  range_key                   = var.range_key
  read_capacity               = var.read_capacity
  write_capacity              = var.write_capacity
  stream_enabled              = var.stream_enabled
  stream_view_type            = var.stream_view_type
  table_class                 = var.table_class
  deletion_protection_enabled = var.deletion_protection_enabled

  ttl {
    enabled        = var.ttl_enabled
    attribute_name = var.ttl_attribute_name
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery_enabled
  }

  dynamic "attribute" {
    for_each = var.attributes
    content {
      name = attribute.value.name
      type = attribute.value.type
    }
  }

  dynamic "global_secondary_index" {
    for_each = var.global_secondary_indexes
    content {
      name               = global_secondary_index.value.name
      hash_key           = global_secondary_index.value.hash_key
      projection_type    = global_secondary_index.value.projection_type
      range_key          = lookup(global_secondary_index.value, "range_key", null)
      read_capacity      = lookup(global_secondary_index.value, "read_capacity", null)
      write_capacity     = lookup(global_secondary_index.value, "write_capacity", null)
      non_key_attributes = lookup(global_secondary_index.value, "non_key_attributes", null)
    }
  }

  server_side_encryption {
    enabled     = var.server_side_encryption_enabled
    kms_key_arn = var.server_side_encryption_kms_key_arn
  }

  tags = merge(var.tags, { "Name" = format("%s", var.name) })
}

resource "aws_dynamodb_table" "autoscaled" {
  count = var.create_table && var.autoscaling_enabled ? 1 : 0

  name             = var.name
  billing_mode     = var.billing_mode
  hash_key         = var.hash_key
  range_key        = var.range_key
  read_capacity    = var.read_capacity
  write_capacity   = var.write_capacity
  stream_enabled   = var.stream_enabled
  stream_view_type = var.stream_view_type
  table_class      = var.table_class

  ttl {
    enabled        = var.ttl_enabled
    attribute_name = var.ttl_attribute_name
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery_enabled
  }

  dynamic "attribute" {
    for_each = var.attributes
    content {
      name = attribute.value.name
      type = attribute.value.type
    }
  }

  server_side_encryption {
    enabled     = var.server_side_encryption_enabled
    kms_key_arn = var.server_side_encryption_kms_key_arn
  }

  tags = merge(var.tags, { "Name" = format("%s", var.name) })

  lifecycle {
    ignore_changes = [read_capacity, write_capacity]
  }
}
"""


# --- out-of-band changes, as a console user makes them ------------------------------------------


def _arn(client: Any, name: str) -> str:
    return str(client.describe_table(TableName=name)["Table"]["TableArn"])


def _tag(client: Any, name: str, **tags: str) -> None:
    client.tag_resource(
        ResourceArn=_arn(client, name), Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
    )


def mutate(client: Any) -> None:
    # Capacity changed where Terraform manages it; tags that ignore_tags leaves alone added.
    client.update_table(
        TableName="dev-app-users", ProvisionedThroughput={"ReadCapacityUnits": 9, "WriteCapacityUnits": 2}
    )
    client.tag_resource(
        ResourceArn=_arn(client, "dev-app-users"),
        Tags=[{"Key": "kubernetes.io/cluster", "Value": "x"}, {"Key": "LastScanned", "Value": "now"}],
    )
    pitr = "PointInTimeRecoverySpecification"
    client.update_continuous_backups(
        TableName="dev-app-sessions", **{pitr: {"PointInTimeRecoveryEnabled": False}}
    )
    # Capacity and GSI capacity moved (ignored), TTL turned on against `enabled = false`.
    client.update_table(
        TableName="dev-app-autoscaled",
        ProvisionedThroughput={"ReadCapacityUnits": 11, "WriteCapacityUnits": 12},
        GlobalSecondaryIndexUpdates=[
            {
                "Update": {
                    "IndexName": "by-g",
                    "ProvisionedThroughput": {"ReadCapacityUnits": 7, "WriteCapacityUnits": 8},
                }
            }
        ],
    )
    ttl = "TimeToLiveSpecification"
    client.update_time_to_live(
        TableName="dev-app-autoscaled", **{ttl: {"Enabled": True, "AttributeName": "exp"}}
    )
    _tag(client, "dev-app-counted-0", Touched="yes")  # the one ignored tag key
    _tag(client, "dev-app-counted-1", Env="prod")  # a default tag: still compared
    client.update_continuous_backups(
        TableName="dev-app-set-beta", **{pitr: {"PointInTimeRecoveryEnabled": True}}
    )
    client.update_continuous_backups(
        TableName="dev-app-set-alpha", **{pitr: {"PointInTimeRecoveryEnabled": False}}
    )
    client.update_table(
        TableName="dev-app-svc-alpha",
        GlobalSecondaryIndexUpdates=[
            {
                "Update": {
                    "IndexName": "email-idx",
                    "ProvisionedThroughput": {"ReadCapacityUnits": 9, "WriteCapacityUnits": 3},
                }
            }
        ],
    )
    client.update_table(
        TableName="dev-app-svc-beta",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    client.update_table(TableName="dev-app-peer", TableClass="STANDARD_INFREQUENT_ACCESS")
    client.update_time_to_live(
        TableName="dev-app-mod-events", **{ttl: {"Enabled": False, "AttributeName": "expires"}}
    )
    client.update_table(TableName="dev-app-mod-audit", DeletionProtectionEnabled=False)
    client.update_time_to_live(
        TableName="dev-app-mod-plain", **{ttl: {"Enabled": True, "AttributeName": "exp"}}
    )
    client.update_continuous_backups(
        TableName="dev-app-recovery",
        **{pitr: {"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 35}},
    )
    client.update_continuous_backups(
        TableName="dev-app-recovery-period-ignored", **{pitr: {"PointInTimeRecoveryEnabled": False}}
    )
    client.update_table(TableName="dev-app-billing", BillingMode="PAY_PER_REQUEST")
    _tag(client, "dev-app-tags-all", Team="edited")
    client.untag_resource(ResourceArn=_arn(client, "dev-app-tags-ignored"), TagKeys=["ManagedBy", "Own"])
    _tag(client, "dev-app-tags-ignored", Env="edited")
    _tag(client, "dev-app-tags-ignored-value", ManagedBy="edited", Extra="x")
    client.untag_resource(ResourceArn=_arn(client, "dev-app-tag-key-ignored"), TagKeys=["Env"])
    client.update_table(
        TableName="dev-app-mod-autoscaled",
        ProvisionedThroughput={"ReadCapacityUnits": 20, "WriteCapacityUnits": 7},
    )


# What terraform plan wants to change per table after ``mutate`` (top-level arguments, with
# ``tags_all`` read as ``tags`` and computed-only outputs left out), recorded so that a scenario
# which silently stops exercising anything fails here. Tables absent: no change.
PLANNED: dict[str, set[str]] = {
    'aws_dynamodb_table.this["users"]': {"read_capacity"},
    'aws_dynamodb_table.this["sessions"]': {"point_in_time_recovery"},
    "aws_dynamodb_table.autoscaled": {"ttl"},
    "aws_dynamodb_table.counted[1]": {"tags"},
    'aws_dynamodb_table.by_set["alpha"]': {"point_in_time_recovery"},
    'aws_dynamodb_table.svc["alpha"]': {"global_secondary_index"},
    'aws_dynamodb_table.svc["beta"]': {"stream_enabled"},
    "aws_dynamodb_table.peer": {"table_class"},
    'module.table["events"].aws_dynamodb_table.this[0]': {"ttl"},
    'module.table["audit"].aws_dynamodb_table.this[0]': {"deletion_protection_enabled"},
    'module.table["plain"].aws_dynamodb_table.this[0]': {"ttl"},
    "aws_dynamodb_table.recovery": {"point_in_time_recovery"},
    "aws_dynamodb_table.recovery_period_ignored": {"point_in_time_recovery"},
    "aws_dynamodb_table.billing": {"billing_mode"},
    "aws_dynamodb_table.tags_all": {"tags"},
    "aws_dynamodb_table.tags_ignored": {"tags"},
    "aws_dynamodb_table.tag_key_ignored": {"tags"},
}

# Where driftwatch names a setting unresolved because it does not compare it (its vocabulary has
# no attribute for the recovery period): the planned change is then accounted for, loudly.
UNCOMPARED = "driftwatch does not compare"

# The Terraform argument behind each attribute of driftwatch's vocabulary (by its first part).
_ARGUMENT = {
    "read_capacity": "read_capacity",
    "write_capacity": "write_capacity",
    "billing_mode": "billing_mode",
    "table_class": "table_class",
    "ttl": "ttl",
    "point_in_time_recovery": "point_in_time_recovery",
    "sse": "server_side_encryption",
    "deletion_protection": "deletion_protection_enabled",
    "gsi": "global_secondary_index",
    "lsi": "local_secondary_index",
    "replicas": "replica",
    "tags": "tags",
    "on_demand_throughput": "on_demand_throughput",
    "hash_key": "hash_key",
    "range_key": "range_key",
}
_STREAM = {"stream.enabled": "stream_enabled", "stream.view_type": "stream_view_type"}


def argument_of(attribute: str) -> str:
    return _STREAM.get(attribute) or _ARGUMENT[attribute.split(".")[0]]


# --- the run -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    planned: dict[str, set[str]]  # address -> arguments terraform plan changes
    tables: dict[str, dict[str, Any]]  # address -> driftwatch's report row
    report: dict[str, Any]


def _changed_arguments(change: dict[str, Any]) -> set[str]:
    """``tags_all`` read as ``tags``: a default tag changes only ``tags_all``."""
    return {"tags" if k == "tags_all" else k for k in changed_arguments(change)}


def _write(root: Path, port: int) -> None:
    files = {
        "main.tf": TERRAFORM_BLOCK + provider_block(port, PROVIDER_EXTRA) + ROOT,
        "terraform.tfvars": TFVARS,
        "modules/dynamodb-table/main.tf": MODULE,
        "tables/ledger.yaml": "name: ledger\n",
        "tables/.invoices.yaml": "name: invoices\n",
        "tables/notes.md": "not a table\n",
        "tables/sub/deep.yaml": "name: deep\n",
    }
    write_files(root, files)


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outcome]:
    import boto3

    root = tmp_path_factory.mktemp("driftdiff")
    report_path = root.parent / f"{root.name}-scan.json"
    with moto_server() as port, pytest.MonkeyPatch.context() as env:
        endpoint = f"http://127.0.0.1:{port}"
        _write(root, port)
        write_cli_config(root)
        terraform(root, "init", "-input=false", "-no-color")
        terraform(root, "apply", "-auto-approve", "-input=false", "-no-color")
        client = boto3.client(
            "dynamodb",
            region_name=REGION,
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        mutate(client)
        terraform(root, "plan", "-out=plan.bin", "-input=false", "-no-color", "-detailed-exitcode", ok=(2,))
        shown = json.loads(terraform(root, "show", "-json", "plan.bin").stdout)
        for name, value in {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
        }.items():
            env.setenv(name, value)
        argv = ["scan", "--root", str(root), "--repo", str(root), "--format", "json"]
        status = driftwatch_main([*argv, "--output", str(report_path), "--quiet"])
    report = json.loads(report_path.read_text())
    assert status == 1, "drift, and one table whose name is unknown: exit 1 (could not check all)"
    planned = {
        rc["address"]: _changed_arguments(rc["change"])
        for rc in shown["resource_changes"]
        if rc["type"] == "aws_dynamodb_table" and rc["mode"] == "managed"
    }
    yield Outcome(planned, {row["address"]: row for row in report["tables"]}, report)


ADDRESSES = sorted(
    [
        *(f'aws_dynamodb_table.this["{k}"]' for k in ("orders", "users", "sessions")),
        "aws_dynamodb_table.autoscaled",
        'aws_dynamodb_table.from_files[".invoices.yaml"]',
        'aws_dynamodb_table.from_files["ledger.yaml"]',
        "aws_dynamodb_table.counted[0]",
        "aws_dynamodb_table.counted[1]",
        'aws_dynamodb_table.by_set["alpha"]',
        'aws_dynamodb_table.by_set["beta"]',
        'aws_dynamodb_table.svc["alpha"]',
        'aws_dynamodb_table.svc["beta"]',
        "aws_dynamodb_table.peer",
        "aws_dynamodb_table.recovery",
        "aws_dynamodb_table.recovery_period_ignored",
        "aws_dynamodb_table.billing",
        "aws_dynamodb_table.tags_all",
        "aws_dynamodb_table.tags_ignored",
        "aws_dynamodb_table.tags_ignored_value",
        "aws_dynamodb_table.tag_key_ignored",
        *(f'module.table["{k}"].aws_dynamodb_table.this[0]' for k in ("events", "audit", "plain")),
        "module.autoscaled.aws_dynamodb_table.autoscaled[0]",
    ]
)


def test_terraform_plans_the_recorded_changes(outcome: Outcome) -> None:
    """The out-of-band changes are the ones recorded (so the comparison below covers them)."""
    changed = {address: args for address, args in outcome.planned.items() if args}
    assert changed == PLANNED


def test_every_table_terraform_manages_is_scanned(outcome: Outcome) -> None:
    assert sorted(outcome.planned) == sorted([*ADDRESSES, "aws_dynamodb_table.by_account"])
    assert sorted(outcome.tables) == sorted([*ADDRESSES, "aws_dynamodb_table.by_account"])
    assert outcome.report["not_evaluated"] == [] and outcome.report["errors"] == []


@pytest.mark.parametrize("address", ADDRESSES)
def test_driftwatch_drifts_exactly_where_terraform_plan_changes(outcome: Outcome, address: str) -> None:
    """No false alarm and no hidden drift: driftwatch's drifted attributes name exactly the
    arguments terraform plan would change, and a table in sync for Terraform is in sync."""
    row = outcome.tables[address]
    drifted = {argument_of(item["attribute"]) for item in row["drift"]}
    named = {argument_of(u["attribute"]) for u in row["unresolved"] if UNCOMPARED in u["reason"]}
    assert drifted | named == outcome.planned[address], row["drift"]
    assert row["status"] == ("drifted" if drifted else "in_sync")


def test_a_planned_change_driftwatch_cannot_compare_is_named_not_hidden(outcome: Outcome) -> None:
    """``recovery_period_in_days = 7`` changed to 35: terraform plan wants it back; driftwatch
    has no attribute for it, so it lists it as unresolved saying so (the table is not silently
    in sync), and still compares the rest of the table."""
    row = outcome.tables["aws_dynamodb_table.recovery"]
    assert row["drift"] == []
    assert [(u["attribute"], UNCOMPARED in u["reason"]) for u in row["unresolved"]] == [
        ("point_in_time_recovery.recovery_period_in_days", True)
    ]


def test_a_value_only_terraform_can_know_is_unresolved_never_drift(outcome: Outcome) -> None:
    """``Account = data.aws_caller_identity...`` (a data source): unresolved with the reason on
    every table carrying it, and the rest of each table still compared."""
    for key in ("orders", "users", "sessions"):
        row = outcome.tables[f'aws_dynamodb_table.this["{key}"]']
        assert [u["attribute"] for u in row["unresolved"]] == ["tags.Account"]
        assert "data source" in row["unresolved"][0]["reason"]
    others = [row for address, row in outcome.tables.items() if "this[" not in address or "module" in address]
    unresolved = [row["address"] for row in others if row["unresolved"]]
    assert unresolved == ["aws_dynamodb_table.recovery"]


def test_a_table_whose_name_is_unknown_is_reported_with_the_reason(outcome: Outcome) -> None:
    """``name = "acct-${data...account_id}"``: not silently unwatched, but an error of its own."""
    row = outcome.tables["aws_dynamodb_table.by_account"]
    assert row["status"] == "error"
    assert "data.aws_caller_identity.current.account_id" in row["error"]
    assert outcome.report["summary"]["error"] == 1


def test_a_deleted_default_tag_is_drift_under_ignore_changes_on_tags(outcome: Outcome) -> None:
    """``ignore_changes = [tags]``: the default tag deleted in the console is drift with the value
    Terraform puts back (the default's, though the resource's own ``Env = "mine"`` overrode it);
    the default tag given another value, the own tag deleted and an extra tag are not."""
    drift = outcome.tables["aws_dynamodb_table.tags_ignored"]["drift"]
    assert [(d["attribute"], d["declared"], d["live"]) for d in drift] == [
        ("tags.ManagedBy", "terraform", None)
    ]
    assert outcome.tables["aws_dynamodb_table.tags_ignored_value"]["drift"] == []
    drift = outcome.tables["aws_dynamodb_table.tag_key_ignored"]["drift"]
    assert [(d["attribute"], d["declared"], d["live"]) for d in drift] == [("tags.Env", "dev", None)]
