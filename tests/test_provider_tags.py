"""Provider settings: the ``provider "aws"`` block's ``default_tags`` are part of the declared
tags, and its ``ignore_tags`` (keys and key prefixes) take matching tags out of the comparison on
both sides, as the AWS provider does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from realestate import REGION, provision, row, run_scan, table_tf, target, write_repo

from driftwatch.scan import declare
from driftwatch.spec import Drift, TableStatus, TagFilter, Unknown
from driftwatch.terraform.parse import ParseCache

TABLE = "acme-prod-orders"
PROVIDER = """
provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = {
      Owner = "platform"
      Team  = "everyone"
    }
  }
  ignore_tags {
    keys         = ["LastScanned"]
    key_prefixes = ["kubernetes.io/", "aws-backup:"]
  }
}
"""


def tag(name: str, tags: dict[str, str]) -> None:
    ddb = boto3.client("dynamodb", region_name=REGION)
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])


def untag(name: str, keys: list[str]) -> None:
    ddb = boto3.client("dynamodb", region_name=REGION)
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    ddb.untag_resource(ResourceArn=arn, TagKeys=keys)


@pytest.fixture
def repo(embedded_aws: None, tmp_path: Path) -> Path:
    tags = {"Team": "obs", "kubernetes.io/cluster": "main"}
    root = write_repo(tmp_path / "repo", {"main.tf": PROVIDER + table_tf(TABLE, tags=tags)})
    provision([target(root, region=None)])
    return root


def test_default_tags_are_declared_under_the_resources_own_tags(repo: Path) -> None:
    (job,) = declare([target(repo, region=None)], ParseCache()).jobs
    assert job.table.spec.tags == {"Owner": "platform", "Team": "obs", "kubernetes.io/cluster": "main"}
    assert job.table.spec.ignore_tags == TagFilter(
        frozenset({"LastScanned"}), ("aws-backup:", "kubernetes.io/")
    )
    assert row(run_scan([target(repo, region=None)]), TABLE).status is TableStatus.IN_SYNC

    untag(TABLE, ["Owner"])
    found = row(run_scan([target(repo, region=None)]), TABLE)
    assert found.drift == (Drift("tags.Owner", "platform", None),)


def test_ignore_tags_keys_and_prefixes_are_compared_on_neither_side(repo: Path) -> None:
    tag(
        TABLE,
        {
            "LastScanned": "2026-01-01",  # an ignored key appears
            "kubernetes.io/cluster": "other",  # a declared tag under an ignored prefix changes
            "aws-backup:plan": "daily",
            "lastscanned": "keys are case-sensitive",
            "Extra": "x",
        },
    )
    found = row(run_scan([target(repo, region=None)]), TABLE)
    assert found.drift == (
        Drift("tags.Extra", None, "x"),
        Drift("tags.lastscanned", None, "keys are case-sensitive"),
    )


def test_an_unknown_ignore_tags_makes_every_tag_unresolved_never_drift(
    embedded_aws: None, tmp_path: Path
) -> None:
    provider = (
        'variable "ignored" {\n  type = list(string)\n}\n'
        'provider "aws" {\n  ignore_tags {\n    keys = var.ignored\n  }\n}\n'
    )
    root = write_repo(tmp_path / "repo", {"main.tf": provider + table_tf(TABLE)})
    (job,) = declare([target(root)], ParseCache()).jobs
    assert isinstance(job.table.spec.tags, Unknown)
    assert job.table.spec.tags.reason.startswith("provider ignore_tags: var.ignored has no value")


def test_a_child_module_inherits_the_provider_settings(embedded_aws: None, tmp_path: Path) -> None:
    module = """
module "orders" {
  source       = "cloudposse/dynamodb/aws"
  version      = "0.36.0"
  namespace    = "acme"
  stage        = "prod"
  name         = "orders"
  hash_key     = "id"
  billing_mode = "PAY_PER_REQUEST"
}
"""
    root = write_repo(
        tmp_path / "repo",
        {
            "envs/prod/main.tf": PROVIDER + 'module "wrapper" {\n  source = "../../modules/orders"\n}\n',
            "modules/orders/main.tf": module,
        },
    )
    prod: Any = target(root, root="envs/prod", region=None)
    (job,) = declare([prod], ParseCache()).jobs
    assert job.table.spec.tags["Owner"] == "platform"  # type: ignore[index]
    assert job.table.spec.ignore_tags.matches("kubernetes.io/anything")
    provision([prod])
    tag(TABLE, {"LastScanned": "now", "aws-backup:plan": "daily"})
    assert row(run_scan([prod]), TABLE).status is TableStatus.IN_SYNC
