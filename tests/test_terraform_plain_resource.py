"""Ground truth for plain ``aws_dynamodb_table`` semantics, from the real Terraform + provider.

``driftwatch.terraform.resource`` decides, per argument, whether an *absent* argument means
"Terraform does not manage this" (Optional+Computed) or "Terraform enforces the default". This
test proves those decisions against hashicorp/aws 5.x: it applies several minimal tables to
moto's server, changes each one out of band with boto3, runs one ``terraform plan`` and reads
which arguments Terraform wants to change. The expectations are the ones recorded in
docs/plain-resource-semantics.md and implemented in resource.py (see
``test_resource_mapping_agrees_with_plan``).

It needs the terraform CLI and the provider in a filesystem mirror (``/opt/tf-plugins`` or
``DRIFTWATCH_TF_PLUGINS``); without them it skips with the reason. One apply + one plan for
all scenarios keeps it well under a minute.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from terraform_support import (
    REQUIRES_TERRAFORM,
    TERRAFORM_BLOCK,
    changed_arguments,
    moto_server,
    provider_block,
    terraform,
    write_cli_config,
)

# One worker runs this module, so the apply and plan below are made once (--dist loadgroup).
pytestmark = [*REQUIRES_TERRAFORM, pytest.mark.xdist_group("terraform-plain-resource")]

# Each scenario: (extra HCL inside the resource, whether billing is provisioned)
MINIMAL = """
resource "aws_dynamodb_table" "%(name)s" {
  name           = "%(name)s"
  hash_key       = "h"
  read_capacity  = 5
  write_capacity = 5
  attribute {
    name = "h"
    type = "S"
  }
%(extra)s
}
"""

ON_DEMAND = """
resource "aws_dynamodb_table" "%(name)s" {
  name         = "%(name)s"
  hash_key     = "h"
  billing_mode = "PAY_PER_REQUEST"
  attribute {
    name = "h"
    type = "S"
  }
%(extra)s
}
"""

Mutation = Callable[[Any, str], None]


def _nothing(client: Any, name: str) -> None:
    del client, name


def _ttl_on(client: Any, name: str) -> None:
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}
    )


def _pitr_on(client: Any, name: str) -> None:
    client.update_continuous_backups(
        TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )


def _recreate_with_sse(client: Any, name: str) -> None:
    # moto ignores SSESpecification on UpdateTable: re-create the table with SSE instead.
    client.delete_table(TableName=name)
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "h", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "h", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        SSESpecification={"Enabled": True, "SSEType": "KMS"},
    )


def _stream_on(client: Any, name: str) -> None:
    client.update_table(
        TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    )


def _deletion_protection_on(client: Any, name: str) -> None:
    client.update_table(TableName=name, DeletionProtectionEnabled=True)


def _infrequent_access(client: Any, name: str) -> None:
    client.update_table(TableName=name, TableClass="STANDARD_INFREQUENT_ACCESS")


def _tag(client: Any, name: str) -> None:
    arn = client.describe_table(TableName=name)["Table"]["TableArn"]
    client.tag_resource(ResourceArn=arn, Tags=[{"Key": "Extra", "Value": "manual"}])


def _on_demand(client: Any, name: str) -> None:
    client.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")


def _provisioned(client: Any, name: str) -> None:
    client.update_table(
        TableName=name,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 3},
    )


def _capacity(client: Any, name: str) -> None:
    client.update_table(
        TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 7, "WriteCapacityUnits": 9}
    )


def _extra_gsi(client: Any, name: str) -> None:
    client.update_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "h", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "extra",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                    "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
                }
            }
        ],
    )


def _capacity_and_ttl(client: Any, name: str) -> None:
    _capacity(client, name)
    _ttl_on(client, name)


# name -> (template, extra HCL, out-of-band change, top-level arguments terraform plan changes)
SCENARIOS: dict[str, tuple[str, str, Mutation, set[str]]] = {
    "p-base": (MINIMAL, "", _nothing, set()),
    "p-ttl": (MINIMAL, "", _ttl_on, set()),
    "p-pitr": (MINIMAL, "", _pitr_on, set()),
    "p-sse": (MINIMAL, "", _recreate_with_sse, set()),
    "p-stream": (MINIMAL, "", _stream_on, {"stream_enabled"}),
    "p-delprot": (MINIMAL, "", _deletion_protection_on, {"deletion_protection_enabled"}),
    "p-class": (MINIMAL, "", _infrequent_access, {"table_class"}),
    "p-tags": (MINIMAL, "", _tag, {"tags", "tags_all"}),
    # AWS reports 0/0 throughput for an on-demand table, so the plan also wants the capacity back.
    "p-billing": (MINIMAL, "", _on_demand, {"billing_mode", "read_capacity", "write_capacity"}),
    "p-capacity": (MINIMAL, "", _capacity, {"read_capacity", "write_capacity"}),
    "p-gsi": (MINIMAL, "", _extra_gsi, {"attribute", "global_secondary_index"}),
    "p-ignore": (
        MINIMAL,
        "  lifecycle {\n    ignore_changes = [read_capacity, write_capacity, ttl]\n  }",
        _capacity_and_ttl,
        set(),
    ),
    "p-ttl-off": (MINIMAL, '  ttl {\n    attribute_name = "exp"\n    enabled = false\n  }', _nothing, set()),
    "p-ttl-off-on": (
        MINIMAL,
        '  ttl {\n    attribute_name = "exp"\n    enabled = false\n  }',
        _ttl_on,
        {"ttl"},
    ),
    "p-pitr-off-on": (
        MINIMAL,
        "  point_in_time_recovery {\n    enabled = false\n  }",
        _pitr_on,
        {"point_in_time_recovery"},
    ),
    "p-sse-off-on": (
        MINIMAL,
        "  server_side_encryption {\n    enabled = false\n  }",
        _recreate_with_sse,
        {"server_side_encryption"},
    ),
    "p-ondemand": (ON_DEMAND, "", _nothing, set()),
    "p-ondemand-prov": (ON_DEMAND, "", _provisioned, {"billing_mode"}),
}


@pytest.fixture(scope="module")
def moto_port() -> Iterator[int]:
    with moto_server() as port:
        yield port


@pytest.fixture(scope="module")
def plan_changes(moto_port: int, tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    import boto3

    workdir = tmp_path_factory.mktemp("tf")
    write_cli_config(workdir)
    parts = [TERRAFORM_BLOCK, provider_block(moto_port)]
    parts += [
        template % {"name": name, "extra": extra} for name, (template, extra, _, _) in SCENARIOS.items()
    ]
    (workdir / "main.tf").write_text("\n".join(parts))
    terraform(workdir, "init", "-input=false", "-no-color")
    terraform(workdir, "apply", "-auto-approve", "-input=false", "-no-color")
    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{moto_port}",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    for name, (_, _, mutate, _) in SCENARIOS.items():
        mutate(client, name)
    terraform(workdir, "plan", "-out=plan.bin", "-input=false", "-no-color", "-detailed-exitcode", ok=(0, 2))
    shown = json.loads(terraform(workdir, "show", "-json", "plan.bin").stdout)
    return {
        rc["name"]: changed_arguments(rc["change"])
        for rc in shown.get("resource_changes", [])
        if rc["type"] == "aws_dynamodb_table"
    }


# The same scenarios as driftwatch sees them: extra arguments (as the walker evaluates the HCL
# above) and the vocabulary attributes the out-of-band change touches.
_MINIMAL_ARGUMENTS: dict[str, Any] = {
    "hash_key": "h",
    "read_capacity": 5,
    "write_capacity": 5,
    "attribute": [{"name": "h", "type": "S"}],
}
_ON_DEMAND_ARGUMENTS: dict[str, Any] = {
    "hash_key": "h",
    "billing_mode": "PAY_PER_REQUEST",
    "attribute": [{"name": "h", "type": "S"}],
}
_TTL_OFF = {"ttl": [{"attribute_name": "exp", "enabled": False}]}
PROBES: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "p-ttl": ({}, ("ttl.enabled", "ttl.attribute")),
    "p-pitr": ({}, ("point_in_time_recovery",)),
    "p-sse": ({}, ("sse.enabled",)),
    "p-stream": ({}, ("stream.enabled",)),
    "p-delprot": ({}, ("deletion_protection",)),
    "p-class": ({}, ("table_class",)),
    "p-tags": ({}, ("tags.Extra",)),
    "p-billing": ({}, ("billing_mode",)),
    "p-capacity": ({}, ("read_capacity", "write_capacity")),
    "p-gsi": ({}, ("gsi.extra",)),
    "p-ignore": (
        {"lifecycle": [{"ignore_changes": ["read_capacity", "write_capacity", "ttl"]}]},
        ("read_capacity", "write_capacity", "ttl.enabled"),
    ),
    "p-ttl-off-on": (_TTL_OFF, ("ttl.enabled",)),
    "p-pitr-off-on": ({"point_in_time_recovery": [{"enabled": False}]}, ("point_in_time_recovery",)),
    "p-sse-off-on": ({"server_side_encryption": [{"enabled": False}]}, ("sse.enabled",)),
    "p-ondemand-prov": ({}, ("billing_mode",)),
}


@pytest.mark.parametrize("scenario", sorted(PROBES))
def test_resource_mapping_agrees_with_plan(plan_changes: dict[str, set[str]], scenario: str) -> None:
    """driftwatch manages an attribute exactly where terraform plan wants to change it."""
    from driftwatch.terraform.resource import ResourceDeclaration, resource_to_spec

    extra, attributes = PROBES[scenario]
    base = _ON_DEMAND_ARGUMENTS if SCENARIOS[scenario][0] is ON_DEMAND else _MINIMAL_ARGUMENTS
    spec = resource_to_spec(ResourceDeclaration({"name": scenario, **base, **extra}), region="us-east-1")
    terraform_changes = bool(plan_changes.get(scenario))
    for attribute in attributes:
        assert spec.is_managed(attribute) is terraform_changes, attribute


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_plan_matches_recorded_semantics(plan_changes: dict[str, set[str]], scenario: str) -> None:
    expected = SCENARIOS[scenario][3]
    assert plan_changes.get(scenario, set()) == expected
