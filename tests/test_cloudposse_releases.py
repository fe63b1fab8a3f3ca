"""CloudPosse releases before 0.35.0, end to end: offline resolution, tables in moto, the scan.

Each call pins a release whose behaviour differs from its neighbour's in one input
(docs/terraform-parity.md, "CloudPosse releases"); the drift found proves which release was
emulated. A release driftwatch does not know is listed as not evaluated, never emulated.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import boto3
import pytest

from driftwatch.aws.clients import AwsClients
from driftwatch.demo.provision import create_table
from driftwatch.report.json import report_to_dict
from driftwatch.scan import ScanSettings, declare, scan
from driftwatch.spec import Unknown
from driftwatch.terraform.modules import TargetInput
from driftwatch.terraform.parse import ParseCache
from driftwatch.terraform.sources import ModuleSettings

REGION = "us-east-1"

ROOT_MODULE = """
module "untagged" {
  source       = "cloudposse/dynamodb/aws"
  version      = "< 0.29.3"
  namespace    = "acme"
  name         = "untagged"
  hash_key     = "id"
  tags_enabled = false
}

module "legacy" {
  source      = "cloudposse/dynamodb/aws"
  version     = "~> 0.29.0"
  name        = "legacy"
  hash_key    = "id"
  table_class = "STANDARD_INFREQUENT_ACCESS"
}

module "before_protection" {
  source                      = "cloudposse/dynamodb/aws"
  version                     = ">= 0.29.0, < 0.34.0"
  name                        = "before-protection"
  hash_key                    = "id"
  deletion_protection_enabled = true
}

module "protected" {
  source                      = "git::https://github.com/cloudposse/terraform-aws-dynamodb.git?ref=0.34.0"
  name                        = "protected"
  hash_key                    = "id"
  deletion_protection_enabled = true
}

module "unknown" {
  source   = "cloudposse/dynamodb/aws"
  version  = "0.30.0"
  name     = "unknown"
  hash_key = "id"
}
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo" / "root"
    root.mkdir(parents=True)
    (root / "main.tf").write_text(ROOT_MODULE)
    return tmp_path / "repo"


def test_older_releases_scan_as_themselves(repo: Path, embedded_aws: None) -> None:
    target = TargetInput(
        name="t", repo=repo, root=repo / "root", region=REGION, env={}, modules=ModuleSettings(offline=True)
    )
    declared = declare([target], ParseCache())
    assert declared.errors == []
    names = sorted(j.name for j in declared.jobs)
    assert names == ["acme-untagged", "before-protection", "legacy", "protected"]
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    autoscaling = boto3.client("application-autoscaling", region_name=REGION)
    for job in declared.jobs:  # the declared values Terraform would reject stand as the defaults
        spec = job.table.spec
        create_table(
            dynamodb,
            autoscaling,
            dataclasses.replace(
                spec,
                tags={} if isinstance(spec.tags, Unknown) else spec.tags,
                table_class="STANDARD" if isinstance(spec.table_class, Unknown) else spec.table_class,
                deletion_protection=spec.deletion_protection is True,
            ),
        )
    # Live state that each release's neighbour would report as drift, and one real drift.
    arn = dynamodb.describe_table(TableName="acme-untagged")["Table"]["TableArn"]
    dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": "Team", "Value": "core"}])
    dynamodb.update_table(TableName="legacy", TableClass="STANDARD")
    dynamodb.update_table(TableName="before-protection", DeletionProtectionEnabled=False)
    dynamodb.update_table(TableName="protected", DeletionProtectionEnabled=False)
    dynamodb.update_continuous_backups(
        TableName="legacy", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )

    report = report_to_dict(scan([target], AwsClients(), settings=ScanSettings()))
    rows = {row["table_name"]: row for row in report["tables"]}
    drift = {name: sorted(d["attribute"] for d in row["drift"]) for name, row in rows.items()}
    assert drift == {
        # 0.29.2 has no tags_enabled (0.29.3 would want no tags at all): the tags are unknown
        "acme-untagged": [],
        # 0.29.4 has no table_class (0.32.0 would want STANDARD_INFREQUENT_ACCESS)
        "legacy": ["point_in_time_recovery"],
        # 0.33.0 has no deletion_protection_enabled (0.34.0 would want it on)
        "before-protection": [],
        # 0.34.0 passes deletion_protection_enabled = true through (0.33.0 could not)
        "protected": ["deletion_protection"],
    }
    unresolved = {name: " ".join(map(str, row.get("unresolved", []))) for name, row in rows.items()}
    assert "tags_enabled does not exist in cloudposse/dynamodb/aws 0.29.2" in unresolved["acme-untagged"]
    assert "table_class does not exist in cloudposse/dynamodb/aws 0.29.4" in unresolved["legacy"]
    assert "0.33.0" in unresolved["before-protection"]
    (item,) = report["not_evaluated"]
    assert "module.unknown" in item["address"]
    assert "release 0.30.0 is not one driftwatch knows" in item["reason"]
