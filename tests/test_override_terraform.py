"""Override files and ``.tf.json`` files against terraform 1.11.4 itself (the oracle).

One root, applied once to moto on 127.0.0.1: HCL tables changed by ``override.tf`` (a local, a
variable default, a replaced ``ttl`` block, replaced ``attribute`` blocks, a static GSI that
hides the base's ``dynamic`` one, a whole ``tags`` map), a child module changed both by the
caller's override (its input) and by its own override file, and a CDKTF-shaped ``cdk.tf.json``
(the provider with its endpoints and default_tags, ``//`` metadata, nested ``attribute`` /
``ttl`` / ``point_in_time_recovery`` / ``global_secondary_index`` blocks, templates) changed by
``cdk_override.tf.json``.

Right after the apply, ``driftwatch scan`` must declare exactly the tables of Terraform's state,
at the same addresses and names, and find them in sync: any rule merged differently from
Terraform (an attribute of the base kept, a nested block merged instead of replaced, a JSON
value read as a template where Terraform reads it literally) is drift on a table Terraform
has just applied. Before, every table here was unwatched (an error or "not evaluated").
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
    moto_server,
    terraform,
    write_cli_config,
    write_files,
)

from driftwatch.cli import main as driftwatch_main
from driftwatch.terraform.modules import reference_list
from driftwatch.terraform.override import merge_overrides
from driftwatch.terraform.parse import body_items, parse_text

pytestmark = [*REQUIRES_TERRAFORM, pytest.mark.xdist_group("terraform-override")]

MAIN_TF = """
variable "capacity" {
  type    = number
  default = 2
}

locals {
  prefix = "base"
}

resource "aws_dynamodb_table" "events" {
  name           = "${local.prefix}-events"
  billing_mode   = "PROVISIONED"
  read_capacity  = var.capacity
  write_capacity = 1
  hash_key       = "id"
  attribute {
    name = "id"
    type = "S"
  }
  attribute {
    name = "kind"
    type = "S"
  }
  ttl {
    enabled        = true
    attribute_name = "expires"
  }
  dynamic "global_secondary_index" {
    for_each = ["by-kind"]
    content {
      name            = global_secondary_index.value
      hash_key        = "kind"
      projection_type = "ALL"
      read_capacity   = 1
      write_capacity  = 1
    }
  }
  tags = { Team = "base", Stale = "yes" }
}

module "kid" {
  source = "./kid"
  name   = "kid-base"
}
"""

OVERRIDE_TF = """
variable "capacity" {
  default = 4
}

locals {
  prefix = "over"
}

resource "aws_dynamodb_table" "events" {
  hash_key = "pk"
  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "day"
    type = "S"
  }
  ttl {
    enabled = false
  }
  global_secondary_index {
    name            = "by-day"
    hash_key        = "day"
    projection_type = "KEYS_ONLY"
    read_capacity   = 2
    write_capacity  = 2
  }
  tags = { Team = "over" }
}

module "kid" {
  name = "kid-over"
}
"""

KID_TF = """
variable "name" {}

resource "aws_dynamodb_table" "this" {
  name         = var.name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  table_class  = "STANDARD"
  attribute {
    name = "id"
    type = "S"
  }
  point_in_time_recovery {
    enabled = true
  }
}
"""

KID_OVERRIDE_TF = """
resource "aws_dynamodb_table" "this" {
  table_class = "STANDARD_INFREQUENT_ACCESS"
  point_in_time_recovery {
    enabled = false
  }
}
"""


def cdk_json(port: int) -> str:
    """What ``cdktf synth`` writes for one stack with a provider and a table (shape of cdktf
    0.20: ``//`` metadata, blocks as arrays, provider as an array)."""
    endpoint = f"http://127.0.0.1:{port}"
    document: dict[str, Any] = {
        "//": {"metadata": {"backend": "local", "stackName": "orders", "version": "0.20.11"}, "outputs": {}},
        "provider": {
            "aws": [
                {
                    "region": REGION,
                    "access_key": "testing",
                    "secret_key": "testing",
                    "skip_credentials_validation": True,
                    "skip_requesting_account_id": True,
                    "skip_metadata_api_check": True,
                    "endpoints": [{"dynamodb": endpoint, "sts": endpoint, "kms": endpoint}],
                    "default_tags": [{"tags": {"ManagedBy": "cdktf", "Stack": "orders"}}],
                }
            ]
        },
        "variable": {"stage": {"type": "string", "default": "prod"}},
        "locals": {"table_prefix": "acme-${var.stage}"},
        "resource": {
            "aws_dynamodb_table": {
                "orders": {
                    "//": {"metadata": {"path": "orders/orders", "uniqueId": "orders"}},
                    "attribute": [{"name": "pk", "type": "S"}, {"name": "sk", "type": "S"}],
                    "billing_mode": "PROVISIONED",
                    "hash_key": "pk",
                    "range_key": "sk",
                    "name": "${local.table_prefix}-orders",
                    "read_capacity": 5,
                    "write_capacity": "${2 + 1}",
                    "point_in_time_recovery": {"enabled": True},
                    "ttl": {"attribute_name": "expires_at", "enabled": True},
                    "global_secondary_index": [
                        {
                            "hash_key": "sk",
                            "name": "by-sk",
                            "projection_type": "INCLUDE",
                            "non_key_attributes": ["status"],
                            "read_capacity": 1,
                            "write_capacity": 1,
                        }
                    ],
                    "tags": {"Name": '${upper("orders")}', "Literal": "$${not-interpolated}"},
                }
            }
        },
        "terraform": {
            "backend": {"local": {"path": "terraform.tfstate"}},
            "required_providers": {"aws": {"source": "hashicorp/aws"}},
        },
    }
    return json.dumps(document, indent=2)


CDK_OVERRIDE_JSON = json.dumps(
    {
        "resource": {
            "aws_dynamodb_table": {
                "orders": {
                    "point_in_time_recovery": [{"enabled": False}],
                    "tags": {"Name": "orders-over", "Owner": "${var.stage}"},
                }
            }
        }
    }
)

# The tables Terraform's state holds after the apply, by address, with their names.
STATE = {
    "aws_dynamodb_table.events": "over-events",
    "module.kid.aws_dynamodb_table.this": "kid-over",
    "aws_dynamodb_table.orders": "acme-prod-orders",
}


@dataclass
class Outcome:
    state: dict[str, dict[str, Any]]  # address -> the table's values in Terraform's state
    status: int
    report: dict[str, Any]
    rows: dict[str, dict[str, Any]]  # address -> driftwatch's row


def _state_tables(state: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The tables of terraform.tfstate by address (read as a file: ``terraform show -json``
    would start the provider once more, several seconds of CPU)."""
    for resource in state["resources"]:
        if resource["type"] == "aws_dynamodb_table" and resource["mode"] == "managed":
            (instance,) = resource["instances"]
            module = f"{resource['module']}." if "module" in resource else ""
            yield f"{module}aws_dynamodb_table.{resource['name']}", instance["attributes"]


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outcome]:
    root = tmp_path_factory.mktemp("override")
    with pytest.MonkeyPatch.context() as env, moto_server() as port:
        write_files(
            root,
            {
                "main.tf": MAIN_TF,
                "override.tf": OVERRIDE_TF,
                "kid/main.tf": KID_TF,
                "kid/kid_override.tf": KID_OVERRIDE_TF,
                "cdk.tf.json": cdk_json(port),
                "cdk_override.tf.json": CDK_OVERRIDE_JSON,
            },
        )
        write_cli_config(root)
        terraform(root, "init", "-input=false", "-no-color")
        terraform(root, "apply", "-auto-approve", "-input=false", "-no-color")
        shown = json.loads((root / "terraform.tfstate").read_text())
        for name, value in {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
        }.items():
            env.setenv(name, value)
        report_path = root.parent / f"{root.name}-scan.json"
        argv = ["scan", "--root", str(root), "--repo", str(root), "--format", "json", "--quiet"]
        status = driftwatch_main([*argv, "--output", str(report_path)])
        report = json.loads(report_path.read_text())
    state = dict(_state_tables(shown))
    yield Outcome(state, status, report, {row["address"]: row for row in report["tables"]})


def test_terraform_applied_what_the_override_and_json_files_say(outcome: Outcome) -> None:
    """The oracle itself: what Terraform made of the override rules (so the scan below is
    compared with Terraform's reading, not with driftwatch's)."""
    events = outcome.state["aws_dynamodb_table.events"]
    assert (events["hash_key"], events["read_capacity"]) == ("pk", 4)
    assert {a["name"] for a in events["attribute"]} == {"pk", "day"}
    assert [g["name"] for g in events["global_secondary_index"]] == ["by-day"]
    assert events["ttl"] == [{"attribute_name": "", "enabled": False}]
    assert events["tags"] == {"Team": "over"}
    kid = outcome.state["module.kid.aws_dynamodb_table.this"]
    assert (kid["table_class"], kid["point_in_time_recovery"][0]["enabled"]) == (
        "STANDARD_INFREQUENT_ACCESS",
        False,
    )
    orders = outcome.state["aws_dynamodb_table.orders"]
    assert orders["tags"] == {"Name": "orders-over", "Owner": "prod"}
    assert orders["tags_all"] == {
        "Name": "orders-over",
        "Owner": "prod",
        "ManagedBy": "cdktf",
        "Stack": "orders",
    }
    assert (orders["write_capacity"], orders["point_in_time_recovery"][0]["enabled"]) == (3, False)


def test_every_table_in_terraform_state_is_declared_at_its_address_and_name(outcome: Outcome) -> None:
    """Nothing unwatched, nothing extra: the addresses and names of Terraform's state."""
    assert {address: values["name"] for address, values in outcome.state.items()} == STATE
    assert {address: row["table_name"] for address, row in outcome.rows.items()} == STATE
    assert outcome.report["errors"] == [] and outcome.report["not_evaluated"] == []


@pytest.mark.parametrize("address", sorted(STATE))
def test_a_freshly_applied_table_is_in_sync(outcome: Outcome, address: str) -> None:
    """No false alarm right after the apply, and nothing left unresolved."""
    row = outcome.rows[address]
    assert (row["status"], row["drift"], row["unresolved"]) == ("in_sync", [], [])
    assert outcome.status == 0


def test_the_json_table_is_reported_at_its_json_line(outcome: Outcome) -> None:
    """A table of a .tf.json file points at its line in that file, as a .tf table does."""
    row = outcome.rows["aws_dynamodb_table.orders"]
    line = [n for n, text in enumerate(cdk_json(0).splitlines(), 1) if text.strip() == '"orders": {']
    assert row["source"] == {"file": "cdk.tf.json", "line": line[0]}


LIFECYCLE_MAIN = """
resource "terraform_data" "x" {
  input = "a"
}
resource "terraform_data" "y" {
  input = "a"
  lifecycle {
    ignore_changes = [input]
  }
}
resource "terraform_data" "z" {
  input = "a"
  lifecycle {
    ignore_changes = all
  }
}
"""
LIFECYCLE_OVERRIDE = """
resource "terraform_data" "x" {
  lifecycle {
    ignore_changes = all
  }
}
resource "terraform_data" "y" {
  lifecycle {
    ignore_changes = []
  }
}
resource "terraform_data" "z" {
  lifecycle {
    ignore_changes = [triggers_replace]
  }
}
"""


def test_lifecycle_ignore_changes_merges_as_terraform_merges_it(tmp_path: Path) -> None:
    """An override's ``ignore_changes = all`` applies, an empty one keeps the base's, and a
    base's ``all`` stays all: terraform 1.11.4 plans no change to any of the three after their
    input changes (terraform_data: no provider needed), and driftwatch's merge reads the same."""
    write_cli_config(tmp_path)
    write_files(tmp_path, {"main.tf": LIFECYCLE_MAIN})
    terraform(tmp_path, "init", "-input=false", "-no-color")
    terraform(tmp_path, "apply", "-auto-approve", "-input=false", "-no-color")
    write_files(
        tmp_path, {"main.tf": LIFECYCLE_MAIN.replace('"a"', '"b"'), "override.tf": LIFECYCLE_OVERRIDE}
    )
    terraform(tmp_path, "plan", "-detailed-exitcode", "-input=false", "-no-color", ok=(0,))

    primary = [(b, "main.tf") for b in body_items(parse_text(LIFECYCLE_MAIN, "main.tf").body)[1]]
    override = (body_items(parse_text(LIFECYCLE_OVERRIDE, "override.tf").body)[1], "override.tf")
    merged, errors = merge_overrides(primary, [override])
    assert errors == []
    ignored = {
        block.labels[1]: reference_list(lifecycle.items[0]["ignore_changes"].expression)
        for block, _ in merged
        for lifecycle in block.items[1]
        if lifecycle.type == "lifecycle"
    }
    assert ignored == {"x": ["all"], "y": ["input"], "z": ["all"]}
