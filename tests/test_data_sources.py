"""``data.aws_region``, ``data.aws_partition`` and ``data.aws_caller_identity``: what the AWS
provider takes from its own configuration, known at plan time (driftwatch.terraform.data_sources).

They were Unknown like every data source, so a table named ``"orders-${data.aws_region.current.name}"``
was not evaluated and nobody compared it, though ``terraform plan`` knows its name. The values
below are hashicorp/aws 5.100's, measured against moto (tests/test_differential_plan.py plans
them with terraform itself); every case Terraform would refuse, or that depends on the
credentials it runs with, stays Unknown: never a guess.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from driftwatch.spec import TagFilter, Unknown
from driftwatch.terraform import data_sources
from driftwatch.terraform.data_sources import DataSourceValues, Provider
from driftwatch.terraform.modules import TargetDeclarations, TargetInput, declare_target
from driftwatch.terraform.parse import ParseCache

US_EAST = Provider("us-east-1", None)


def result(kind: str, arguments: dict[str, Any] | None = None, provider: Any = US_EAST) -> Any:
    return data_sources.result(kind, f"data.{kind}.x", arguments or {}, provider)


# Measured: terraform 1.11.4, hashicorp/aws 5.100.0, each region a provider alias with
# skip_region_validation (tests/test_differential_plan.py plans the us-east-1 row).
@pytest.mark.parametrize(
    ("region", "partition", "dns_suffix", "reverse"),
    [
        ("us-east-1", "aws", "amazonaws.com", "com.amazonaws"),
        ("ap-southeast-7", "aws", "amazonaws.com", "com.amazonaws"),
        ("mx-central-1", "aws", "amazonaws.com", "com.amazonaws"),
        ("cn-north-1", "aws-cn", "amazonaws.com.cn", "cn.com.amazonaws"),
        ("us-gov-west-1", "aws-us-gov", "amazonaws.com", "com.amazonaws"),
        ("us-iso-east-1", "aws-iso", "c2s.ic.gov", "gov.ic.c2s"),
        ("eusc-de-east-1", "aws-eusc", "amazonaws.eu", "eu.amazonaws"),
        ("eu-fake-9", "aws", "amazonaws.com", "com.amazonaws"),  # matches the aws pattern
    ],
)
def test_the_partition_is_the_providers_regions_as_terraform_reads_it(
    region: str, partition: str, dns_suffix: str, reverse: str
) -> None:
    value = result("aws_partition", provider=Provider(region, None))
    assert dict(value) == {
        "partition": partition,
        "id": partition,
        "dns_suffix": dns_suffix,
        "reverse_dns_prefix": reverse,
    }


def test_a_region_in_no_partition_is_unknown_for_both() -> None:
    for kind in ("aws_region", "aws_partition"):
        value = result(kind, provider=Provider("xx-fake-1", None))
        assert isinstance(value, Unknown)
        assert "'xx-fake-1' is in no AWS partition" in value.reason


def test_the_region_is_the_providers_and_one_terraform_cannot_find_is_unknown() -> None:
    assert dict(result("aws_region")) == {"name": "us-east-1", "id": "us-east-1", "region": "us-east-1"}
    # eu-fake-9 matches the aws partition's pattern, but Terraform fails: "finding Region by name"
    missing = result("aws_region", provider=Provider("eu-fake-9", None))
    assert isinstance(missing, Unknown)
    assert "cannot find the region 'eu-fake-9'" in missing.reason


@pytest.mark.parametrize("argument", ["name", "region"])
def test_a_region_named_by_the_block_wins_over_the_providers(argument: str) -> None:
    assert result("aws_region", {argument: "eu-west-1"})["name"] == "eu-west-1"
    if argument == "region":  # provider 6.x's per-resource region
        assert result("aws_partition", {"region": "cn-northwest-1"})["partition"] == "aws-cn"


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        ({"name": "eu-west-1", "region": "eu-west-1"}, "sets both name and region"),
        ({"name": Unknown("var.r is not set")}, "data.aws_region.x.name: var.r is not set"),
        ({"name": ""}, "is not a region name"),
        ({"name": 3}, "is not a region name"),
        ({"endpoint": "ec2.us-east-1.amazonaws.com"}, "the argument endpoint"),
        ({"count": True}, "has count"),
        ({"for_each": True}, "has for_each"),
        # Terraform defers reading it to the apply when what it depends on has changes
        ({"depends_on": True}, "has depends_on"),
    ],
)
def test_what_driftwatch_does_not_evaluate_is_unknown(arguments: dict[str, Any], reason: str) -> None:
    value = result("aws_region", arguments)
    assert isinstance(value, Unknown)
    assert reason in value.reason


def test_meta_arguments_that_change_nothing_are_accepted() -> None:
    assert result("aws_region", {"provider": True, "lifecycle": True})["name"] == "us-east-1"


def test_the_providers_region_that_cannot_be_resolved_is_unknown_not_the_targets() -> None:
    value = result("aws_region", provider=Provider(Unknown("var.region is not set"), None))
    assert isinstance(value, Unknown)
    assert "the region of its provider cannot be resolved: var.region is not set" in value.reason
    none = result("aws_partition", provider=Provider(None, None))
    assert isinstance(none, Unknown)
    assert "no region" in none.reason


def test_attributes_read_from_aws_are_unknown() -> None:
    value = result("aws_region")
    assert isinstance(value, DataSourceValues)
    for name in ("endpoint", "description"):
        assert isinstance(value[name], Unknown)
        assert "read from AWS by Terraform" in value[name].reason
    assert isinstance(value.unlisted(), Unknown)


def test_the_account_is_known_only_where_the_provider_fixes_it() -> None:
    fixed = data_sources.fixed_account
    assert fixed("111111111111", None) == "111111111111"  # the literal role's account
    assert fixed(None, frozenset({"222222222222"})) == "222222222222"  # the one allowed
    assert fixed(None, frozenset({"1", "2"})) is None
    assert fixed(Unknown("role_arn: var.role"), frozenset({"222222222222"})) is None
    assert fixed(None, Unknown("x")) is None
    assert fixed(None, None) is None
    known = result("aws_caller_identity", provider=Provider("us-east-1", "111111111111"))
    assert (known["account_id"], known["id"]) == ("111111111111", "111111111111")
    unknown = result("aws_caller_identity")
    assert isinstance(unknown["account_id"], Unknown)
    assert "credentials Terraform runs with" in unknown["account_id"].reason
    assert isinstance(unknown["arn"], Unknown)


# --- through a whole configuration ---------------------------------------------------------

PROVIDERS = """
provider "aws" {
  region              = "us-east-1"
  allowed_account_ids = ["111111111111"]
}
provider "aws" {
  alias  = "west"
  region = "us-west-2"
}
provider "aws" {
  alias  = "unresolved"
  region = var.nowhere
}
provider "aws" {
  alias = "bare"
}
variable "nowhere" {
  type = string
}
"""


def table(resource: str, name: str, extra: str = "") -> str:
    return f"""
resource "aws_dynamodb_table" "{resource}" {{
  name         = {name}
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {{
    name = "id"
    type = "S"
  }}
  {extra}
}}
"""


def declare(tmp_path: Path, files: dict[str, str], region: str | None = "ca-central-1") -> TargetDeclarations:
    for name, text in {"providers.tf": PROVIDERS, **files}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(text))
    target = TargetInput(name="t", repo=tmp_path, root=tmp_path, env={}, region=region)
    return declare_target(target, ParseCache())


def names(result: TargetDeclarations) -> dict[str, Any]:
    return {t.address: t.spec.name for t in result.tables}


def test_tables_named_by_region_and_account_are_evaluated_with_their_provider(tmp_path: Path) -> None:
    result = declare(
        tmp_path,
        {
            "main.tf": """
            data "aws_region" "current" {}
            data "aws_region" "west" {
              provider = aws.west
            }
            data "aws_partition" "current" {}
            data "aws_caller_identity" "current" {}
            """
            + table("root", '"orders-${data.aws_region.current.name}"')
            + table("west", '"orders-${data.aws_region.west.id}"', "provider = aws.west")
            + table(
                "keyed",
                '"keyed"',
                """server_side_encryption {
                    enabled     = true
                    kms_key_arn = join(":", [
                      "arn",
                      data.aws_partition.current.partition,
                      "kms",
                      data.aws_region.current.name,
                      data.aws_caller_identity.current.account_id,
                      "alias/t",
                    ])
                  }""",
            )
            + """
            module "child" {
              source = "./child"
            }
            module "passed" {
              source    = "./child"
              providers = { aws = aws.west }
            }
            """,
            "child/main.tf": 'data "aws_region" "here" {}\n'
            + table("t", '"child-${data.aws_region.here.name}"'),
        },
    )
    assert names(result) == {
        "aws_dynamodb_table.root": "orders-us-east-1",
        "aws_dynamodb_table.west": "orders-us-west-2",
        "aws_dynamodb_table.keyed": "keyed",
        "module.child.aws_dynamodb_table.t": "child-us-east-1",
        "module.passed.aws_dynamodb_table.t": "child-us-west-2",
    }
    keyed = next(t for t in result.tables if t.address == "aws_dynamodb_table.keyed")
    assert keyed.spec.sse.kms_key_arn == "arn:aws:kms:us-east-1:111111111111:alias/t"


def test_a_region_terraform_takes_from_the_environment_is_the_targets(tmp_path: Path) -> None:
    files = {
        "main.tf": 'data "aws_region" "r" {\n  provider = aws.bare\n}\n'
        + table("t", "data.aws_region.r.name")
    }
    assert names(declare(tmp_path, files)) == {"aws_dynamodb_table.t": "ca-central-1"}


@pytest.mark.parametrize(
    ("block", "reason"),
    [
        (
            'data "aws_region" "r" {\n  provider = aws.unresolved\n}',
            "the region of its provider cannot be resolved",
        ),
        ('data "aws_region" "r" {\n  provider = aws.nosuch\n}', "provider aws.nosuch is not configured"),
        ('data "aws_region" "r" {\n  count = 1\n}', "has count"),
        ('data "aws_region" "r" {\n  name = data.aws_region.r.name\n}', "refers to itself"),
    ],
)
def test_a_data_source_driftwatch_cannot_work_out_leaves_the_table_unevaluated(
    tmp_path: Path, block: str, reason: str
) -> None:
    result = declare(tmp_path, {"main.tf": block + "\n" + table("t", '"t-${data.aws_region.r.name}"')})
    (declared,) = result.tables
    assert isinstance(declared.spec.name, Unknown)
    assert reason in declared.spec.name.reason


def test_other_data_sources_and_names_called_data_are_what_they_were(tmp_path: Path) -> None:
    # A for variable named data is that variable (in Terraform too: data.aws_region inside the
    # for is an attribute of the string, an error).
    result = declare(
        tmp_path,
        {
            "main.tf": """
            data "aws_region" "current" {}
            data "aws_iam_policy_document" "p" {}
            locals {
              region = data.aws_region.current.name
              named  = [for data in ["a", "b"] : "${data}-${local.region}"]
            }
            """
            + table("loop", "local.named[1]")
            + table("doc", '"doc"', "tags = { Policy = data.aws_iam_policy_document.p.json }"),
        },
    )
    assert names(result)["aws_dynamodb_table.loop"] == "b-us-east-1"
    doc = next(t for t in result.tables if t.address == "aws_dynamodb_table.doc")
    policy = doc.spec.tags["Policy"]
    assert isinstance(policy, Unknown)
    assert policy.reason == (
        "data.aws_iam_policy_document.p.json is read by a data source when Terraform plans,"
        " which driftwatch does not do"
    )


def test_a_data_source_a_provider_block_reads_is_never_worked_out_before_the_provider(tmp_path: Path) -> None:
    # Read while the providers are evaluated, the default provider is not known yet: the
    # target's region (ca-central-1) would have been taken for the provider's (us-east-1).
    providers = """
    provider "aws" {
      region = "us-east-1"
      default_tags {
        tags = { Region = local.region }
      }
    }
    """
    (tmp_path / "providers.tf").write_text(textwrap.dedent(providers))
    (tmp_path / "main.tf").write_text(
        'data "aws_region" "current" {}\nlocals {\n  region = data.aws_region.current.name\n}\n'
        + table("t", '"t-${local.region}"')
    )
    target = TargetInput(name="t", repo=tmp_path, root=tmp_path, env={}, region="ca-central-1")
    (declared,) = declare_target(target, ParseCache()).tables
    assert isinstance(declared.spec.name, Unknown)
    assert "read by a provider configuration" in declared.spec.name.reason


@pytest.mark.parametrize(
    "tags",
    [
        "data.aws_region.current",  # 5.100's object also has description and endpoint
        "merge(data.aws_partition.current, {})",
        "{ for k, v in data.aws_region.current : k => v }",
        "jsondecode(jsonencode(data.aws_caller_identity.current))",
        "aws_dynamodb_table.other",  # a resource instance as a whole: the same rule
    ],
)
def test_a_data_source_taken_as_a_whole_is_unknown_not_its_listed_attributes(
    tmp_path: Path, tags: str
) -> None:
    blocks = "".join(f'data "{kind}" "current" {{}}\n' for kind in sorted(data_sources.KINDS))
    result = declare(
        tmp_path, {"main.tf": blocks + table("other", '"other"') + table("t", '"t"', f"tags = {tags}")}
    )
    declared = next(t for t in result.tables if t.address == "aws_dynamodb_table.t")
    assert isinstance(declared.spec.tags, Unknown)
    assert "as a whole" in declared.spec.tags.reason


def test_a_data_source_passed_whole_to_an_emulated_module_is_unknown_too(tmp_path: Path) -> None:
    """CloudPosse's table takes its inputs as the arguments of its resource: ``tags =
    data.aws_region.current`` gave the listed attributes as tags (a false drift against the
    provider's whole object). A module evaluated from its own code still gets the value as it
    is, so one attribute read from it stays known."""
    call = """
    data "aws_region" "current" {}
    module "t" {
      source    = "cloudposse/dynamodb/aws"
      version   = "0.37.0"
      namespace = "acme"
      name      = "orders"
      hash_key  = "id"
      tags      = data.aws_region.current
    }
    module "local" {
      source = "./child"
      region = data.aws_region.current
    }
    """
    child = 'variable "region" {}\n' + table("c", '"c-${var.region.name}"', "tags = var.region")
    result = declare(tmp_path, {"main.tf": call, "child/main.tf": child})
    by_address = {t.address: t for t in result.tables}
    tags = by_address["module.t"].spec.tags
    assert isinstance(tags, Unknown) and "as a whole" in tags.reason
    local = by_address["module.local.aws_dynamodb_table.c"]
    assert local.spec.name == "c-us-east-1"
    assert isinstance(local.spec.tags, Unknown) and "as a whole" in local.spec.tags.reason


def test_for_each_over_a_whole_data_source_or_instance_is_not_evaluated(tmp_path: Path) -> None:
    """``for_each = data.aws_region.current`` (or one table instance) makes an instance per
    attribute of the provider's whole object: driftwatch lists three of them, so it made three
    tables where Terraform plans four. The resource is now not evaluated, with the reason."""
    blocks = 'data "aws_region" "current" {}\n' + table("single", '"single"')
    for collection in ("data.aws_region.current", "aws_dynamodb_table.single"):
        tf = blocks + table("per", '"per-${each.key}"', f"for_each = {collection}")
        result = declare(tmp_path, {"main.tf": tf})
        assert [t.address for t in result.tables] == ["aws_dynamodb_table.single"], collection
        (skipped,) = result.not_evaluated
        assert skipped.address == "aws_dynamodb_table.per" and "as a whole" in skipped.reason


def test_a_dynamic_block_over_a_whole_data_source_is_unknown(tmp_path: Path) -> None:
    dynamic = (
        'dynamic "replica" {\n    for_each = data.aws_region.current\n'
        "    content {\n      region_name = replica.value\n    }\n  }"
    )
    result = declare(tmp_path, {"main.tf": 'data "aws_region" "current" {}\n' + table("t", '"t"', dynamic)})
    (declared,) = result.tables
    assert isinstance(declared.spec.replicas, Unknown) and "as a whole" in declared.spec.replicas.reason


# --------------------------------------------------------------------------- aws_default_tags


@pytest.mark.parametrize(
    ("default_tags", "ignore", "expected"),
    [
        (None, TagFilter(), {}),  # no default_tags block: an empty map, as planned
        ({"Team": "obs", "Cost": 12, "On": True}, TagFilter(), {"Team": "obs", "Cost": "12", "On": "true"}),
        ({"Team": "obs", "Gone": None}, TagFilter(), {"Team": "obs"}),  # a null tag is never sent
        (
            {"Team": "obs", "aws:cloudformation:x": "y", "AWS:Upper": "z"},
            TagFilter(),
            {"Team": "obs", "AWS:Upper": "z"},
        ),
        (
            {"Team": "obs", "Owner": "me", "k8s/a": "1", "k8s": "2"},
            TagFilter(keys=frozenset({"Owner"}), key_prefixes=("k8s/",)),
            {"Team": "obs", "k8s": "2"},
        ),
    ],
)
def test_default_tags_are_the_providers_as_it_reports_them(
    default_tags: dict[str, Any] | None, ignore: TagFilter, expected: dict[str, str]
) -> None:
    value = result("aws_default_tags", provider=Provider("us-east-1", None, default_tags, ignore))
    assert value["tags"] == expected
    assert value["id"] == "aws"  # the partition


def test_default_tags_the_provider_cannot_resolve_are_unknown_not_empty() -> None:
    unknown = Provider("us-east-1", None, Unknown("var.tags has no value"), TagFilter())
    assert isinstance(result("aws_default_tags", provider=unknown)["tags"], Unknown)
    filtered = Provider("us-east-1", None, {"Team": "obs"}, Unknown("var.keys has no value"))
    assert isinstance(result("aws_default_tags", provider=filtered)["tags"], Unknown)
    # a region that cannot be told leaves the tags known, the partition (id) not
    regionless = result("aws_default_tags", provider=Provider(Unknown("var.region"), None, {"T": "x"}))
    assert regionless["tags"] == {"T": "x"} and isinstance(regionless["id"], Unknown)
    assert isinstance(result("aws_default_tags", {"count": True}), Unknown)


def test_a_table_tagged_from_the_providers_default_tags_is_evaluated(tmp_path: Path) -> None:
    files = {
        "main.tf": """
        provider "aws" {
          alias  = "tagged"
          region = "eu-west-1"
          default_tags {
            tags = { Team = "obs", Owner = "me" }
          }
          ignore_tags {
            keys = ["Owner"]
          }
        }
        data "aws_default_tags" "root" {}
        data "aws_default_tags" "tagged" {
          provider = aws.tagged
        }
        """
        + table("root", '"root"', "tags = { Copied = jsonencode(data.aws_default_tags.root.tags) }")
        + table(
            "tagged",
            '"tagged"',
            'provider = aws.tagged\n  tags = { Keys = join(",", keys(data.aws_default_tags.tagged.tags)) }',
        ),
    }
    found = {t.address: t.spec.tags for t in declare(tmp_path, files).tables}
    assert found["aws_dynamodb_table.root"] == {"Copied": "{}"}
    assert found["aws_dynamodb_table.tagged"] == {"Team": "obs", "Owner": "me", "Keys": "Team"}
