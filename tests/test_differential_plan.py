"""driftwatch's declared tables against ``terraform plan`` of the same configuration, field by field.

One generated root holds every scenario: ``dynamic`` blocks over lists, sets and maps,
``count`` and ``for_each`` on resources and on local modules, a module calling a module,
``path.module`` / ``path.root`` / ``path.cwd``, ``terraform.workspace`` (a non-default workspace),
provider ``default_tags``, tfvars precedence, and locals built with ``for`` expressions,
conditionals, ``merge``, ``lookup``, ``format``, ``setproduct``, heredoc templates with strip
markers, module outputs, a data source, ``terraform_data`` arguments... Terraform plans it (one
``init``, one ``plan -out``, one ``show -json``) with the provider mirror against moto on
127.0.0.1; ``driftwatch inspect --format json`` reads the same directory. Every table Terraform
plans must be declared by driftwatch at the same address, and every field driftwatch declares must
equal Terraform's planned value mapped onto the attribute vocabulary (``terraform_fields``).
A field driftwatch reports Unknown must be one of ``EXPECTED_UNKNOWN``, each with a reason; a field
it leaves uncompared must be one Terraform only learns at apply.

Deliberate differences are listed in docs/terraform-parity.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from provider_function_cases import PROVIDER_FUNCTION_CASES
from terraform_support import (
    REQUIRES_TERRAFORM,
    TERRAFORM_BLOCK,
    moto_server,
    provider_block,
    terraform,
    write_cli_config,
    write_files,
)

from driftwatch.cli import main as driftwatch_main
from driftwatch.terraform.evaluate import Scope, evaluate_text

# One worker runs this module, so the plan below is made once (pyproject's --dist loadgroup).
pytestmark = [*REQUIRES_TERRAFORM, pytest.mark.xdist_group("terraform-plan")]

WORKSPACE = "staging"

DEFAULT_TAGS = """
  default_tags {
    tags = {
      ManagedBy = "terraform"
      Workspace = terraform.workspace
      Owner     = var.owner
    }
  }
"""

ROOT_MAIN = """
variable "app" {
  type    = string
  default = "dw"
}

variable "owner" {
  type    = string
  default = "platform"
}

variable "shards" {
  type    = number
  default = 1
}

variable "ttl_attribute" {
  type    = string
  default = ""
}

variable "extra_tags" {
  type    = map(string)
  default = { Team = "data", Owner = "override" }
}

variable "services" {
  type = map(object({
    class   = optional(string, "STANDARD")
    protect = optional(bool, false)
    enabled = optional(bool, true)
    keys    = optional(list(string), ["id"])
  }))
  default = {
    orders   = { class = "STANDARD_INFREQUENT_ACCESS", protect = true, keys = ["id", "at"] }
    payments = {}
    legacy   = { enabled = false }
  }
}

locals {
  prefix = format("%s-%s", var.app, terraform.workspace)
  common = merge(var.extra_tags, { Root = path.root, Module = path.module })
  types  = { pk = "S", sk = "N", tenant = "S", created = "N", status = "S" }
  gsis = {
    by_tenant = { hash = "tenant", range = "created", projection = "INCLUDE", attrs = ["b", "a"] }
    by_status = { hash = "status", range = null, projection = "KEYS_ONLY", attrs = [] }
  }
  gsi_keys = flatten([for g in values(local.gsis) : compact([g.hash, g.range])])
  used     = distinct(concat(["pk", "sk"], local.gsi_keys))
  replicas = toset(["us-west-2", "eu-west-1"])
  ttls     = var.ttl_attribute == "" ? [] : [var.ttl_attribute]
  pairs    = { for pair in setproduct(["red", "blue"], ["x"]) : join("-", pair) => pair... }
  grouped  = { for name, s in var.services : s.class => name... }
  stage    = terraform.workspace == "staging" ? { Stage = "yes", Level = 2 } : {}
  numbers  = join(",", [for i, v in tolist(toset([10, 9, 100])) : "${i}:${v}"])
  regions  = toset([for r in ["us-west-2", "eu-west-1"] : { region = r, weight = length(r) }])
  index_names = <<-EOT
    %{ for name in sort(keys(local.gsis)) ~}
    ${name};
    %{ endfor ~}
  EOT
}

resource "aws_dynamodb_table" "dynamic" {
  name             = "${local.prefix}-dynamic"
  hash_key         = "pk"
  range_key        = "sk"
  billing_mode     = "PAY_PER_REQUEST"
  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"

  dynamic "attribute" {
    for_each = { for name in local.used : name => local.types[name] }
    content {
      name = attribute.key
      type = attribute.value
    }
  }

  dynamic "global_secondary_index" {
    for_each = local.gsis
    iterator = gsi
    content {
      name               = replace(gsi.key, "_", "-")
      hash_key           = gsi.value.hash
      range_key          = gsi.value.range
      projection_type    = gsi.value.projection
      non_key_attributes = gsi.value.projection == "INCLUDE" ? sort(gsi.value.attrs) : null
    }
  }

  dynamic "replica" {
    for_each = local.replicas
    content {
      region_name = replica.key
    }
  }

  dynamic "ttl" {
    for_each = local.ttls
    content {
      attribute_name = ttl.value
      enabled        = true
    }
  }

  tags = merge(local.common, {
    Name    = upper("${local.prefix}-dynamic")
    Indexes = trimspace(local.index_names)
  })
}

resource "aws_dynamodb_table" "shard" {
  count          = var.shards
  name           = "${local.prefix}-shard-${format("%02d", count.index)}"
  hash_key       = "id"
  billing_mode   = count.index % 2 == 0 ? "PROVISIONED" : "PAY_PER_REQUEST"
  read_capacity  = count.index % 2 == 0 ? 5 + count.index : null
  write_capacity = count.index % 2 == 0 ? pow(2, count.index) : null
  table_class    = count.index == 2 ? "STANDARD_INFREQUENT_ACCESS" : null

  attribute {
    name = "id"
    type = count.index == 1 ? "N" : "S"
  }

  point_in_time_recovery {
    enabled = count.index > 0
  }

  ttl {
    attribute_name = "expires"
    enabled        = count.index == 1
  }

  tags = {
    Shard = tostring(count.index)
    Of    = "${var.shards}"
    Label = terraform_data.label[count.index].input.label
    Peers = join(",", terraform_data.label[count.index].triggers_replace)
  }
}

# terraform_data's input (and triggers_replace) are arguments: Terraform plans them as written.
resource "terraform_data" "label" {
  count            = var.shards
  input            = { label = "shard-${count.index}", owner = var.owner }
  triggers_replace = [var.app, terraform.workspace]
}

resource "aws_dynamodb_table" "service" {
  for_each     = { for name, s in var.services : name => s if s.enabled }
  name         = "${local.prefix}-${each.key}"
  hash_key     = each.value.keys[0]
  range_key    = try(each.value.keys[1], null)
  billing_mode = "PAY_PER_REQUEST"
  table_class  = lookup(each.value, "class", "STANDARD")

  deletion_protection_enabled = each.value.protect

  dynamic "attribute" {
    for_each = each.value.keys
    content {
      name = attribute.value
      type = attribute.key == 0 ? "S" : "N"
    }
  }

  server_side_encryption {
    enabled = each.value.protect
  }

  tags = {
    Service = title(each.key)
    Owner   = "svc-${each.key}"
    Peers   = join(",", sort([for other in keys(var.services) : other if other != each.key]))
    Class   = lookup(local.grouped, each.value.class, ["?"])[0]
  }
}

resource "aws_dynamodb_table" "by_set" {
  for_each     = toset(["alpha", "beta"])
  name         = "${local.prefix}-set-${each.value}"
  hash_key     = each.key
  billing_mode = "PAY_PER_REQUEST"

  attribute {
    name = each.key
    type = "B"
  }

  stream_enabled   = true
  stream_view_type = "NEW_IMAGE"

  dynamic "replica" {
    for_each = local.regions
    content {
      region_name = replica.key.region
    }
  }

  tags = merge(local.stage, {
    Where    = path.cwd
    RootDir  = basename(abspath(path.root))
    Key      = each.key
    Numbers  = local.numbers
    Upstream = module.svc["orders"].name
    Region   = data.aws_region.current.name
    Id       = data.aws_region.current.id
    Part     = data.aws_partition.current.partition
    Suffix   = data.aws_partition.current.dns_suffix
    Account  = data.aws_caller_identity.current.account_id
    Defaults = jsonencode(data.aws_default_tags.current.tags)
  })
}

data "aws_region" "current" {}

data "aws_default_tags" "current" {}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

resource "aws_dynamodb_table" "pairs" {
  for_each       = local.pairs
  name           = "${local.prefix}-pair-${each.key}"
  hash_key       = each.value[0][1]
  read_capacity  = length(each.key)
  write_capacity = max([for p in each.value[0] : length(p)]...)

  attribute {
    name = each.value[0][1]
    type = "S"
  }

  stream_enabled   = startswith(each.key, "red")
  stream_view_type = startswith(each.key, "red") ? "KEYS_ONLY" : null

  tags = null
}

module "svc" {
  source   = "./modules/service"
  for_each = { orders = 2, users = 0 }
  name     = "${local.prefix}-svc-${each.key}"
  archives = each.value
  tags     = { Svc = each.key }
}

module "counted" {
  source   = "./modules/service"
  count    = 2
  name     = "${local.prefix}-counted-${count.index}"
  archives = count.index
  indexes  = slice([{ name = "only", key = "k" }, { name = "never", key = "n" }], 0, count.index + 1)
}
"""

SERVICE_MODULE = """
variable "name" {
  type = string
}

variable "archives" {
  type    = number
  default = 0
}

variable "tags" {
  type    = map(string)
  default = {}
}

variable "indexes" {
  type = list(object({ name = string, key = string }))
  default = [
    { name = "first", key = "a" },
    { name = "second", key = "b" },
  ]
}

resource "aws_dynamodb_table" "this" {
  name           = var.name
  hash_key       = "id"
  read_capacity  = 1
  write_capacity = 1

  attribute {
    name = "id"
    type = "S"
  }

  dynamic "attribute" {
    for_each = var.indexes
    content {
      name = attribute.value.key
      type = "S"
    }
  }

  dynamic "global_secondary_index" {
    for_each = var.indexes
    content {
      name            = "${global_secondary_index.value.name}-${global_secondary_index.key}"
      hash_key        = global_secondary_index.value.key
      projection_type = "ALL"
      read_capacity   = 1 + global_secondary_index.key
      write_capacity  = 1
    }
  }

  tags = merge(var.tags, {
    Module    = path.module
    Root      = path.root
    Workspace = terraform.workspace
    Absolute  = abspath(path.module)
    Base      = basename(abspath(path.module))
  })
}

output "name" {
  value = aws_dynamodb_table.this.name
}

module "archive" {
  source = "../archive"
  count  = var.archives
  name   = "${var.name}-archive-${count.index}"
  parent = aws_dynamodb_table.this.name
}
"""

ARCHIVE_MODULE = """
variable "name" {
  type = string
}

variable "parent" {
  type = string
}

locals {
  lsis = [["by_date", "date"], ["by_kind", "kind"]]
}

data "aws_region" "here" {}

data "aws_partition" "here" {}

resource "aws_dynamodb_table" "this" {
  name         = "${var.name}-${data.aws_region.here.name}"
  hash_key     = "pk"
  range_key    = "sk"
  billing_mode = "PAY_PER_REQUEST"

  dynamic "attribute" {
    for_each = concat([["pk", "S"], ["sk", "S"]], [for l in local.lsis : [l[1], "S"]])
    content {
      name = attribute.value[0]
      type = attribute.value[1]
    }
  }

  dynamic "local_secondary_index" {
    for_each = local.lsis
    content {
      name               = local_secondary_index.value[0]
      range_key          = local_secondary_index.value[1]
      projection_type    = local_secondary_index.key == 0 ? "ALL" : "INCLUDE"
      non_key_attributes = local_secondary_index.key == 0 ? null : ["x"]
    }
  }

  ttl {
    attribute_name = "gone"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  tags = {
    Parent  = var.parent
    Module  = path.module
    Env     = terraform.workspace
    Reverse = data.aws_partition.here.reverse_dns_prefix
  }
}
"""

# terraform.tfvars, then *.auto.tfvars in name order: later wins.
TFVARS = {
    "terraform.tfvars": 'shards = 3\nttl_attribute = "expires_at"\nowner = "tfvars"\n',
    "z.auto.tfvars": 'owner = "auto"\n',
}

# Everything driftwatch reports Unknown, with the reason's key words: values that depend on where
# Terraform runs (path.cwd, abspath() of a relative path, the account of its credentials when the
# provider does not fix it): docs/terraform-parity.md. Nothing else may be Unknown; the region and
# partition data sources are known, as in Terraform's plan.
_ABSOLUTE = ("tags.Absolute", "abspath")
EXPECTED_UNKNOWN: dict[str, dict[str, str]] = {
    'aws_dynamodb_table.by_set["alpha"]': {
        "tags.Where": "path.cwd",
        "tags.RootDir": "abspath",
        "tags.Account": "credentials",
    },
    'aws_dynamodb_table.by_set["beta"]': {
        "tags.Where": "path.cwd",
        "tags.RootDir": "abspath",
        "tags.Account": "credentials",
    },
    'module.svc["orders"].aws_dynamodb_table.this': dict([_ABSOLUTE]),
    'module.svc["users"].aws_dynamodb_table.this': dict([_ABSOLUTE]),
    "module.counted[0].aws_dynamodb_table.this": dict([_ABSOLUTE]),
    "module.counted[1].aws_dynamodb_table.this": dict([_ABSOLUTE]),
}

# Every table the root declares, as Terraform addresses it.
EXPECTED_ADDRESSES = sorted(
    [
        "aws_dynamodb_table.dynamic",
        *(f"aws_dynamodb_table.shard[{i}]" for i in range(3)),
        'aws_dynamodb_table.service["orders"]',
        'aws_dynamodb_table.service["payments"]',
        'aws_dynamodb_table.by_set["alpha"]',
        'aws_dynamodb_table.by_set["beta"]',
        'aws_dynamodb_table.pairs["blue-x"]',
        'aws_dynamodb_table.pairs["red-x"]',
        'module.svc["orders"].aws_dynamodb_table.this',
        'module.svc["users"].aws_dynamodb_table.this',
        'module.svc["orders"].module.archive[0].aws_dynamodb_table.this',
        'module.svc["orders"].module.archive[1].aws_dynamodb_table.this',
        "module.counted[0].aws_dynamodb_table.this",
        "module.counted[1].aws_dynamodb_table.this",
        "module.counted[1].module.archive[0].aws_dynamodb_table.this",
    ]
)


class Computed:
    """A value Terraform only learns at apply ("known after apply")."""

    def __repr__(self) -> str:
        return "(known after apply)"


COMPUTED = Computed()


@dataclass(frozen=True)
class Declared:
    """One table as driftwatch declares it, flattened onto the attribute vocabulary."""

    fields: dict[str, Any]
    unknown: dict[str, str]  # attribute -> reason
    not_compared: frozenset[str]


def _provider_functions_output() -> str:
    """An output holding every provider-function case, each as ``try(jsonencode(e), "ERR")``:
    the plan evaluates them with the provider it starts anyway (a console would start it again,
    ~4 s)."""
    cases = [case for cases in PROVIDER_FUNCTION_CASES.values() for case in cases]
    wrapped = ",\n    ".join(f'try(jsonencode({case}), "ERR")' for case in cases)
    return f'output "provider_functions" {{\n  value = jsonencode([\n    {wrapped},\n  ])\n}}\n'


def write_root(root: Path, port: int) -> None:
    files = {
        "main.tf": TERRAFORM_BLOCK + provider_block(port, DEFAULT_TAGS) + ROOT_MAIN,
        "functions.tf": _provider_functions_output(),
        "modules/service/main.tf": SERVICE_MODULE,
        "modules/archive/main.tf": ARCHIVE_MODULE,
        **TFVARS,
    }
    write_files(root, files)


@dataclass(frozen=True)
class Outcome:
    planned: dict[str, dict[str, Any]]  # address -> terraform's vocabulary fields
    declared: dict[str, Declared]  # address -> driftwatch's
    inspect: dict[str, Any]  # the whole inspect payload
    status: int  # inspect's exit code
    outputs: dict[str, Any]  # the root's outputs as planned: name -> value


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outcome]:
    root = tmp_path_factory.mktemp("plandiff")
    with moto_server() as port:
        write_root(root, port)
        write_cli_config(root)
        terraform(root, "init", "-input=false", "-no-color")
        terraform(root, "workspace", "new", "-no-color", WORKSPACE)
        terraform(root, "plan", "-out=plan.bin", "-input=false", "-no-color")
        shown = json.loads(terraform(root, "show", "-json", "plan.bin").stdout)
    report = root.parent / f"{root.name}-inspect.json"
    argv = ["inspect", "--root", str(root), "--repo", str(root), "--workspace", WORKSPACE]
    status = driftwatch_main([*argv, "--format", "json", "--output", str(report), "--quiet"])
    payload = json.loads(report.read_text())
    outputs = {
        name: output.get("value") for name, output in shown["planned_values"].get("outputs", {}).items()
    }
    yield Outcome(planned_tables(shown), declared_tables(payload), payload, status, outputs)


# --- terraform's side ----------------------------------------------------------------------------


def _resources(module: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    yield from module.get("resources", [])
    for child in module.get("child_modules", []):
        yield from _resources(child)


def _after_unknown(shown: Mapping[str, Any]) -> dict[str, Any]:
    return {rc["address"]: rc["change"].get("after_unknown") or {} for rc in shown["resource_changes"]}


def planned_tables(shown: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    unknown = _after_unknown(shown)
    return {
        resource["address"]: terraform_fields(resource["values"], unknown[resource["address"]])
        for resource in _resources(shown["planned_values"]["root_module"])
        if resource["type"] == "aws_dynamodb_table" and resource["mode"] == "managed"
    }


def _known(values: Mapping[str, Any], unknown: Mapping[str, Any], name: str) -> Any:
    return COMPUTED if unknown.get(name) is True or name not in values else values[name]


def _block(values: Mapping[str, Any], unknown: Mapping[str, Any], name: str) -> Any:
    """The one element of a MaxItems=1 block, COMPUTED when Terraform leaves it to apply."""
    block = _known(values, unknown, name)
    if block is COMPUTED or not block:
        return COMPUTED
    return block[0]


def _capacity(values: Mapping[str, Any], unknown: Mapping[str, Any], name: str, on_demand: bool) -> Any:
    value = _known(values, unknown, name)
    return None if on_demand and value is COMPUTED else value


def terraform_fields(values: Mapping[str, Any], unknown: Mapping[str, Any]) -> dict[str, Any]:
    """Terraform's planned ``aws_dynamodb_table`` values in the attribute vocabulary.

    The provider's zero values become driftwatch's defaults, as the provider treats them (recorded
    against a real plan in tests/test_terraform_plain_resource.py): a null ``table_class`` is
    STANDARD, a null ``stream_enabled`` / ``deletion_protection_enabled`` is false, ``""`` is no
    range key. A TTL or SSE that is off carries no attribute name / key (AWS reports none).
    """
    types = {a["name"]: a["type"] for a in values.get("attribute") or []}
    hash_key, range_key = values["hash_key"], values.get("range_key") or None
    on_demand = values.get("billing_mode") == "PAY_PER_REQUEST"
    fields: dict[str, Any] = {
        "name": values["name"],
        "hash_key": hash_key,
        "hash_key_type": types.get(hash_key),
        "range_key": range_key,
        "range_key_type": types.get(range_key) if range_key else None,
        "billing_mode": values.get("billing_mode") or "PROVISIONED",
        "read_capacity": _capacity(values, unknown, "read_capacity", on_demand),
        "write_capacity": _capacity(values, unknown, "write_capacity", on_demand),
        "table_class": values.get("table_class") or "STANDARD",
        "deletion_protection": bool(values.get("deletion_protection_enabled")),
        "stream.enabled": bool(values.get("stream_enabled")),
    }
    if fields["stream.enabled"]:
        fields["stream.view_type"] = _known(values, unknown, "stream_view_type")
    blocks = (("ttl", "ttl", "attribute_name"), ("sse", "server_side_encryption", "kms_key_arn"))
    for prefix, name, key in blocks:
        block = _block(values, unknown, name)
        short = "attribute" if prefix == "ttl" else "kms_key_arn"
        if block is COMPUTED:
            fields[f"{prefix}.enabled"] = fields[f"{prefix}.{short}"] = COMPUTED
            continue
        fields[f"{prefix}.enabled"] = bool(block.get("enabled"))
        fields[f"{prefix}.{short}"] = (block.get(key) or COMPUTED) if block.get("enabled") else None
    pitr = _block(values, unknown, "point_in_time_recovery")
    fields["point_in_time_recovery"] = pitr if pitr is COMPUTED else bool(pitr.get("enabled"))
    fields["replicas"] = sorted(r["region_name"] for r in values.get("replica") or [])
    tags = values.get("tags_all") or {}
    fields["tags"] = sorted(tags)
    fields.update({f"tags.{k}": v for k, v in tags.items()})
    gsis = values.get("global_secondary_index") or []
    fields["gsi"] = sorted(g["name"] for g in gsis)
    gsi_unknown = unknown.get("global_secondary_index") or [{}] * len(gsis)
    for gsi, gsi_after_unknown in zip(gsis, gsi_unknown, strict=True):
        at = f"gsi.{gsi['name']}"
        fields[f"{at}.hash_key"] = gsi["hash_key"]
        fields[f"{at}.range_key"] = gsi.get("range_key") or None
        fields[f"{at}.projection_type"] = gsi["projection_type"]
        fields[f"{at}.non_key_attributes"] = sorted(gsi.get("non_key_attributes") or [])
        for capacity in ("read_capacity", "write_capacity"):
            fields[f"{at}.{capacity}"] = _capacity(gsi, gsi_after_unknown, capacity, on_demand)
    lsis = values.get("local_secondary_index") or []
    fields["lsi"] = sorted(lsi["name"] for lsi in lsis)
    for lsi in lsis:
        at = f"lsi.{lsi['name']}"
        fields[f"{at}.range_key"] = lsi["range_key"]
        fields[f"{at}.projection_type"] = lsi["projection_type"]
        fields[f"{at}.non_key_attributes"] = sorted(lsi.get("non_key_attributes") or [])
    return fields


# --- driftwatch's side ---------------------------------------------------------------------------


def _flatten(value: Any, prefix: str, out: dict[str, Any], unknown: dict[str, str]) -> None:
    if isinstance(value, dict) and set(value) == {"unknown"}:
        unknown[prefix] = value["unknown"]
    elif isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}", out, unknown)
    else:
        out[prefix] = value


def declared_fields(spec: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """An inspect ``spec`` in the attribute vocabulary, and its Unknown fields with their reasons."""
    fields: dict[str, Any] = {}
    unknown: dict[str, str] = {}
    for key in ("name", "hash_key", "hash_key_type", "range_key", "range_key_type", "billing_mode"):
        _flatten(spec[key], key, fields, unknown)
    for key in ("read_capacity", "write_capacity", "table_class", "point_in_time_recovery"):
        _flatten(spec[key], key, fields, unknown)
    _flatten(spec["deletion_protection"], "deletion_protection", fields, unknown)
    for key in ("ttl", "sse", "stream"):
        _flatten(spec[key], key, fields, unknown)
    _flatten(spec["replicas"], "replicas", fields, unknown)
    fields["tags"] = sorted(spec["tags"])
    _flatten(spec["tags"], "tags", fields, unknown)
    for kind, plural in (("gsi", "gsis"), ("lsi", "lsis")):
        fields[kind] = sorted(index["name"] for index in spec[plural])
        for index in spec[plural]:
            body = {k: v for k, v in index.items() if k not in ("name", "autoscaling")}
            _flatten(body, f"{kind}.{index['name']}", fields, unknown)
    return fields, unknown


def declared_tables(payload: Mapping[str, Any]) -> dict[str, Declared]:
    tables: dict[str, Declared] = {}
    for table in payload["tables"]:
        fields, unknown = declared_fields(table["spec"])
        tables[table["address"]] = Declared(fields, unknown, frozenset(table["spec"]["not_compared"]))
    return tables


# Fields driftwatch compares only when the declaration sets them: None there means "whatever AWS
# has", which Terraform also leaves to apply.
_COMPARED_WHEN_SET = ("read_capacity", "write_capacity", "sse.kms_key_arn", "stream.view_type")


def _not_compared(declared: Declared, attribute: str) -> bool:
    if any(
        attribute == pattern or (pattern.endswith(".*") and attribute.startswith(pattern[:-1]))
        for pattern in declared.not_compared
    ):
        return True
    return declared.fields.get(attribute, "") is None and attribute.endswith(_COMPARED_WHEN_SET)


# --- the tests -----------------------------------------------------------------------------------


def test_terraform_plans_every_scenario(outcome: Outcome) -> None:
    """The root plans the tables it was written for (so the comparisons below cover them all)."""
    assert sorted(outcome.planned) == EXPECTED_ADDRESSES


def test_driftwatch_declares_every_planned_table(outcome: Outcome) -> None:
    for key in ("errors", "not_checkable", "not_evaluated"):
        assert outcome.inspect[key] == [], key
    assert sorted(outcome.declared) == sorted(outcome.planned)
    assert outcome.status == 0


@pytest.mark.parametrize("address", EXPECTED_ADDRESSES)
def test_every_declared_field_equals_the_planned_value(outcome: Outcome, address: str) -> None:
    planned, declared = outcome.planned[address], outcome.declared.get(address)
    assert declared is not None, "driftwatch does not declare this table"
    mismatches = {}
    for attribute in sorted(set(planned) | set(declared.fields) | set(declared.unknown)):
        if attribute in declared.unknown:
            continue  # checked by test_unknown_fields_are_exactly_the_expected_ones
        if _not_compared(declared, attribute):
            # What driftwatch leaves alone, Terraform only learns at apply (or never sets).
            if planned.get(attribute) not in (COMPUTED, None):
                mismatches[attribute] = ("not compared", planned.get(attribute))
            continue
        ours, theirs = declared.fields.get(attribute, "(absent)"), planned.get(attribute, "(absent)")
        if ours != theirs:
            mismatches[attribute] = (ours, theirs)
    assert mismatches == {}, "driftwatch vs terraform plan"


@pytest.mark.parametrize("address", EXPECTED_ADDRESSES)
def test_unknown_fields_are_exactly_the_expected_ones(outcome: Outcome, address: str) -> None:
    """Only values that depend on where Terraform runs are Unknown, each with its reason; the
    table's other fields are still compared (above)."""
    declared = outcome.declared.get(address)
    assert declared is not None, "driftwatch does not declare this table"
    expected = EXPECTED_UNKNOWN.get(address, {})
    assert sorted(declared.unknown) == sorted(expected)
    for attribute, word in expected.items():
        assert word in declared.unknown[attribute], attribute
        assert attribute in outcome.planned[address], f"{attribute}: Terraform has a value there"


def test_provider_functions_match_terraform(outcome: Outcome) -> None:
    """``provider::aws::arn_parse`` and the others, errors included (both refuse: "ERR")."""
    cases = [case for cases in PROVIDER_FUNCTION_CASES.values() for case in cases]
    theirs = json.loads(outcome.outputs["provider_functions"])
    ours = [evaluate_text(f'try(jsonencode({case}), "ERR")', Scope({}, "functions.tf")) for case in cases]
    differences = [
        f"{case}\n    terraform:  {t}\n    driftwatch: {o}"
        for case, o, t in zip(cases, ours, theirs, strict=True)
        if o != t
    ]
    assert not differences, "\n".join(differences)
    assert theirs.count("ERR") == 13  # the error cases are errors on both sides, not all of them


def test_the_comparison_covers_hundreds_of_fields(outcome: Outcome) -> None:
    """A guard against a mapping that silently compares nothing: count the fields compared."""
    compared = sum(
        1
        for address, declared in outcome.declared.items()
        for attribute in outcome.planned[address]
        if attribute not in declared.unknown and not _not_compared(declared, attribute)
    )
    assert compared >= 400, compared
