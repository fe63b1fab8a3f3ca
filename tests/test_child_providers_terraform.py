"""Terraform itself as the oracle for ``provider "aws"`` blocks inside child modules.

One configuration, applied once with terraform 1.11.4 to moto on 127.0.0.1 (moto serves every
region on one endpoint, so a table's region is in its ARN): a legacy module with its own
default provider (``region = var.region``, its own ``default_tags``) and alias, and a
grandchild inheriting them; a module with an empty ``provider "aws" {}`` block, called plainly
(Terraform reads ``AWS_REGION``) and with ``providers = { aws = aws }`` (a proxy block);
a module passed only an alias (its default is still inherited). Four provider configurations
in all: each one costs terraform several seconds of CPU per operation. driftwatch's declared region
and tags for each table must be what Terraform put in its state; then a scan must read each
table where it is, not a same-named table in the root provider's region.

Two configurations Terraform refuses (a legacy module under ``count``; a providers map
overriding a legacy module's own configuration) are checked with ``terraform init``: refused
there, listed as not evaluated by driftwatch.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
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
from driftwatch.terraform.modules import TargetInput, declare_target
from driftwatch.terraform.parse import ParseCache

pytestmark = [*REQUIRES_TERRAFORM, pytest.mark.xdist_group("terraform-child-providers")]

ENV_REGION = "eu-central-1"  # AWS_REGION for terraform, the target's region for driftwatch

TABLE = """
resource "aws_dynamodb_table" "{label}" {{{provider}
  name         = "${{var.prefix}}-{label}"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {{
    name = "id"
    type = "S"
  }}
}}
"""


def table(label: str, provider: str = "") -> str:
    return TABLE.format(label=label, provider=f"\n  provider = {provider}" if provider else "")


def child_provider(port: int, settings: str) -> str:
    """A provider block for a child module, pointed at moto like the root's (``settings``:
    region, alias, default_tags)."""
    block = provider_block(port, textwrap.indent(settings, "  "))
    return block.replace('  region                      = "us-east-1"\n', "", 1)


def files(port: int) -> dict[str, str]:
    root = (
        TERRAFORM_BLOCK
        + provider_block(port, '  default_tags {\n    tags = { Root = "yes" }\n  }')
        + """
module "legacy" {
  source = "./legacy"
  region = "eu-west-1"
  prefix = "legacy"
}
module "empty" {
  source = "./empty"
  prefix = "empty"
}
module "proxy" {
  source    = "./empty"
  prefix    = "proxy"
  providers = { aws = aws }
}
module "aliased" {
  source    = "./aliased"
  prefix    = "aliased"
  providers = { aws.other = aws }
}
"""
    )
    legacy = (
        'variable "region" {}\nvariable "prefix" {}\n'
        + child_provider(port, "region = var.region\ndefault_tags {\n  tags = { Child = var.prefix }\n}")
        + child_provider(port, 'alias  = "second"\nregion = "ap-south-1"')
        + 'module "plain" {\n  source = "../plain"\n  prefix = "${var.prefix}-plain"\n}\n'
        + table("a")
        + table("b", "aws.second")
    )
    aliased_requirements = (
        'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws", '
        "configuration_aliases = [aws.other] }\n  }\n}\n"
    )
    return {
        "main.tf": root,
        "legacy/main.tf": legacy,
        "plain/main.tf": 'variable "prefix" {}\n' + table("t"),
        "empty/main.tf": 'variable "prefix" {}\nprovider "aws" {}\n' + table("t"),
        "aliased/main.tf": aliased_requirements
        + 'variable "prefix" {}\n'
        + table("t")
        + table("o", "aws.other"),
    }


@dataclass
class Outcome:
    state: dict[str, tuple[str, dict[str, str]]]  # address -> (region of its ARN, tags_all)
    declared: dict[str, tuple[Any, Any]]  # address -> driftwatch's (region, tags)
    scan: dict[str, dict[str, Any]]  # address -> driftwatch's row, after the console changes
    refused: dict[str, tuple[str, list[str]]]  # case -> (terraform init's stderr, not evaluated)


def _state(root: Path) -> dict[str, tuple[str, dict[str, str]]]:
    """The tables of terraform.tfstate (read as a file: ``terraform show -json`` would load the
    provider's schema once more), by address."""
    found = {}
    for resource in json.loads((root / "terraform.tfstate").read_text())["resources"]:
        if resource["type"] == "aws_dynamodb_table" and resource["mode"] == "managed":
            (instance,) = resource["instances"]
            module = f"{resource['module']}." if "module" in resource else ""
            attributes = instance["attributes"]
            address = f"{module}aws_dynamodb_table.{resource['name']}"
            found[address] = (attributes["arn"].split(":")[3], attributes["tags_all"])
    return found


def _declared(root: Path) -> tuple[dict[str, tuple[Any, Any]], list[str]]:
    target = TargetInput(name="t", repo=root, root=root, env={}, region=ENV_REGION)
    found = declare_target(target, ParseCache())
    assert found.errors == []
    declared = {t.address: (t.spec.region, dict(t.spec.tags)) for t in found.tables}  # type: ignore[arg-type]
    return declared, [f"{entry.address}: {entry.reason}" for entry in found.not_evaluated]


REFUSED = {
    "count": 'module "x" {\n  source = "./legacy"\n  count  = 1\n  region = "eu-west-1"\n  prefix = "x"\n}\n',
    "override": (
        'module "x" {\n  source    = "./legacy"\n  region    = "eu-west-1"\n  prefix    = "x"\n'
        "  providers = { aws = aws }\n}\n"
    ),
}


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outcome]:
    root = tmp_path_factory.mktemp("childproviders")
    with pytest.MonkeyPatch.context() as env, moto_server() as port:
        endpoint = f"http://127.0.0.1:{port}"
        # The empty provider block has no settings: terraform takes them from the environment.
        for name, value in {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": ENV_REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
        }.items():
            env.setenv(name, value)
        env.delenv("AWS_DEFAULT_REGION", raising=False)
        write_files(root, files(port))
        write_cli_config(root)
        terraform(root, "init", "-input=false", "-no-color")
        terraform(root, "apply", "-auto-approve", "-input=false", "-no-color")
        state = _state(root)
        declared, _ = _declared(root)
        # A console change to the real table, and a same-named table in the root's region
        # (what the table was compared with while child provider blocks were ignored).
        real = boto3.client("dynamodb", region_name="eu-west-1", endpoint_url=endpoint)
        arn = real.describe_table(TableName="legacy-a")["Table"]["TableArn"]
        real.tag_resource(ResourceArn=arn, Tags=[{"Key": "Console", "Value": "x"}])
        decoy = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint)
        decoy.create_table(
            TableName="legacy-a",
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            Tags=[{"Key": "Root", "Value": "yes"}],
        )
        report = root.parent / f"{root.name}-scan.json"
        argv = ["scan", "--root", str(root), "--repo", str(root), "--region", ENV_REGION]
        driftwatch_main([*argv, "--format", "json", "--output", str(report), "--quiet"])
        scan = {row["address"]: row for row in json.loads(report.read_text())["tables"]}
        refused: dict[str, tuple[str, list[str]]] = {}
        for case, call in REFUSED.items():
            other = root.parent / f"{root.name}-{case}"
            write_files(other, {**files(port), "main.tf": TERRAFORM_BLOCK + provider_block(port) + call})
            write_cli_config(other)
            stderr = terraform(other, "init", "-input=false", "-no-color", ok=(1,)).stderr
            refused[case] = (stderr, _declared(other)[1])
    yield Outcome(state, declared, scan, refused)


def test_terraform_state_holds_the_tables_where_the_child_providers_put_them(outcome: Outcome) -> None:
    """The oracle itself: the legacy module's own region and default tags, not the root's."""
    assert outcome.state == {
        "module.legacy.aws_dynamodb_table.a": ("eu-west-1", {"Child": "legacy"}),
        "module.legacy.aws_dynamodb_table.b": ("ap-south-1", {}),
        "module.legacy.module.plain.aws_dynamodb_table.t": ("eu-west-1", {"Child": "legacy"}),
        "module.empty.aws_dynamodb_table.t": (ENV_REGION, {}),
        "module.proxy.aws_dynamodb_table.t": ("us-east-1", {"Root": "yes"}),
        "module.aliased.aws_dynamodb_table.t": ("us-east-1", {"Root": "yes"}),
        "module.aliased.aws_dynamodb_table.o": ("us-east-1", {"Root": "yes"}),
    }


def test_driftwatch_declares_each_table_in_the_region_and_with_the_tags_of_terraforms_state(
    outcome: Outcome,
) -> None:
    assert outcome.declared == outcome.state


def test_a_scan_reads_each_table_where_terraform_put_it(outcome: Outcome) -> None:
    """The console change to the real legacy-a (eu-west-1) is found; the same-named table in
    the root's region, which used to be compared in its place, is not read."""
    assert {a: row["status"] for a, row in outcome.scan.items()} == {
        address: "drifted" if address == "module.legacy.aws_dynamodb_table.a" else "in_sync"
        for address in outcome.state
    }
    drift = outcome.scan["module.legacy.aws_dynamodb_table.a"]["drift"]
    assert [d["attribute"] for d in drift] == ["tags.Console"]


@pytest.mark.parametrize(
    ("case", "summary", "reason"),
    [
        ("count", "Module is incompatible with count, for_each, and depends_on", "may not use count"),
        ("override", "Cannot override provider configuration", "Cannot override provider configuration"),
    ],
)
def test_a_configuration_terraform_refuses_is_not_evaluated(
    outcome: Outcome, case: str, summary: str, reason: str
) -> None:
    stderr, not_evaluated = outcome.refused[case]
    assert summary in stderr
    assert len(not_evaluated) == 1 and not_evaluated[0].startswith("module.x: ")
    assert reason in not_evaluated[0]
