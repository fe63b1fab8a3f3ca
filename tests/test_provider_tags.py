"""Provider settings: the ``provider "aws"`` block's ``default_tags`` are part of the declared
tags, and its ``ignore_tags`` (keys and key prefixes) take matching tags out of the comparison on
both sides, as the AWS provider does.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import boto3
import pytest
from realestate import REGION, provision, row, run_scan, table_tf, target, write_repo

from driftwatch.scan import declare
from driftwatch.spec import Drift, TableStatus, TagFilter, Unknown
from driftwatch.terraform.parse import ParseCache
from driftwatch.terraform.providers import EnvironmentTags

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


# The AWS provider's environment variables, as terraform 1.11.4 with hashicorp/aws 5.100 applied
# and planned them against moto: with TF_AWS_DEFAULT_TAGS_Team/Cost/Own/Empty set and a
# ``default_tags`` block of {Team = "block"}, the table got Team=block (the block wins), Cost=env,
# Own=x (the resource's own tag wins), Empty="" (kept); with TF_AWS_IGNORE_TAGS_KEYS=" Ign1 , Other"
# and TF_AWS_IGNORE_TAGS_KEY_PREFIXES="pre-", tags Ign1, Other and pre-x added in the console
# planned no change, and without those variables the plan removed them.
BLOCK_PROVIDER = """
provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = { Team = "block" }
  }
}
"""
PROVIDER_ENV = {
    "TF_AWS_DEFAULT_TAGS_Team": "env",
    "TF_AWS_DEFAULT_TAGS_Cost": "env",
    "TF_AWS_DEFAULT_TAGS_Own": "envown",
    "TF_AWS_DEFAULT_TAGS_Empty": "",
    "TF_AWS_IGNORE_TAGS_KEYS": " Ign1 , Other,",
    "TF_AWS_IGNORE_TAGS_KEY_PREFIXES": "pre-",
}


def test_the_providers_environment_variables_are_read_as_the_provider_reads_them() -> None:
    read = EnvironmentTags.read(
        {**PROVIDER_ENV, "tf_aws_default_tags_lower": "case-sensitive", "TF_AWS_DEFAULT_TAGSX": "no"}
    )
    assert read.default_tags == {"Team": "env", "Cost": "env", "Own": "envown", "Empty": ""}
    assert read.ignore == TagFilter(frozenset({"Ign1", "Other"}), ("pre-",))
    assert read.default_tags_under({"Team": "block"}) == {**read.default_tags, "Team": "block"}
    assert read.default_tags_under(None) == read.default_tags  # no default_tags block: the variables'
    unknown = Unknown("var.tags has no value")
    assert read.default_tags_under(unknown) is unknown and read.ignoring(unknown) is unknown
    assert read.ignoring(TagFilter(frozenset({"Mine"}), ("z-",))) == TagFilter(
        frozenset({"Mine", "Ign1", "Other"}), ("pre-", "z-")
    )
    nothing = EnvironmentTags.read({"PATH": "/bin", "TF_AWS_IGNORE_TAGS_KEYS": " , "})
    assert nothing.default_tags_under(None) is None and not nothing.ignore


def test_tags_the_provider_takes_from_its_environment_are_declared_and_ignored_as_it_does(
    embedded_aws: None, tmp_path: Path
) -> None:
    """A CI job that applies with ``TF_AWS_DEFAULT_TAGS_<key>`` put those tags on every table:
    driftwatch run in the same environment reported each one as a tag added in the console, on
    every scan, and compared the tags ``TF_AWS_IGNORE_TAGS_KEYS`` tells the provider to leave."""
    root = write_repo(tmp_path / "repo", {"main.tf": BLOCK_PROVIDER + table_tf(TABLE, tags={"Own": "x"})})
    in_ci = dataclasses.replace(target(root, region=None), env=PROVIDER_ENV)
    (job,) = declare([in_ci], ParseCache()).jobs
    assert job.table.spec.tags == {"Team": "block", "Cost": "env", "Own": "x", "Empty": ""}
    provision([in_ci])
    tag(TABLE, {"Ign1": "v", "Other": "v", "pre-x": "v"})
    assert row(run_scan([in_ci]), TABLE).status is TableStatus.IN_SYNC

    # Scanned without those variables, the table is what terraform plan would change back.
    found = row(run_scan([target(root, region=None)]), TABLE)
    assert sorted(d.attribute for d in found.drift) == [
        "tags.Cost", "tags.Empty", "tags.Ign1", "tags.Other", "tags.pre-x"
    ]  # fmt: skip


def test_data_aws_default_tags_includes_the_environments_tags(embedded_aws: None, tmp_path: Path) -> None:
    """terraform 1.11.4 (hashicorp/aws 5.100) output {"Cost": "env", "Team": "block"} for this."""
    main = (
        BLOCK_PROVIDER + 'data "aws_default_tags" "d" {}\n'
        "locals {\n  reported = jsonencode(data.aws_default_tags.d.tags)\n}\n"
        + table_tf(TABLE, tags={"Reported": "${local.reported}"})
    )
    root = write_repo(tmp_path / "repo", {"main.tf": main})
    env = {"TF_AWS_DEFAULT_TAGS_Team": "env", "TF_AWS_DEFAULT_TAGS_Cost": "env"}
    (job,) = declare([dataclasses.replace(target(root, region=None), env=env)], ParseCache()).jobs
    assert isinstance(job.table.spec.tags, dict)
    assert job.table.spec.tags["Reported"] == '{"Cost":"env","Team":"block"}'
