"""Values read from other resources: the arguments Terraform plans as written, and the reasons
given for what driftwatch cannot know (a user reads the reason to decide what to do)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from realestate import target, write_repo

from driftwatch.scan import declare
from driftwatch.spec import DeclaredTable, Unknown
from driftwatch.terraform.parse import ParseCache


def tables(tmp_path: Path, text: str) -> dict[str, DeclaredTable]:
    repo = write_repo(tmp_path / "repo", {"main.tf": textwrap.dedent(text)})
    found = declare([target(repo)], ParseCache())
    assert not found.errors and not found.early, (found.errors, found.early)
    return {job.table.spec.name: job.table for job in found.jobs}  # type: ignore[misc]


TABLE = """
        resource "aws_dynamodb_table" "t" {{
          name         = {name}
          billing_mode = "PAY_PER_REQUEST"
          hash_key     = "id"
          attribute {{
            name = "id"
            type = "S"
          }}
          tags = {tags}
        }}
"""


def test_terraform_data_input_and_triggers_replace_are_known_as_terraform_plans_them(
    tmp_path: Path,
) -> None:
    """``terraform_data``'s ``input`` and ``triggers_replace`` are arguments: ``terraform plan``
    shows them as written (a table tag reading one is known), through ``count`` and
    ``for_each`` as for any resource. Its ``output`` and ``id`` are known only after apply
    (terraform 1.11.4 plans them "(known after apply)"). Before, every attribute of a
    ``terraform_data`` was "a resource attribute, known only after apply"
    (tests/test_differential_plan.py compares the same with terraform's plan)."""
    found = tables(
        tmp_path,
        """
        resource "terraform_data" "cfg" {
          input            = { owner = "ops", tiers = ["gold", "silver"] }
          triggers_replace = ["v2"]
        }
        resource "terraform_data" "each" {
          for_each = toset(["a", "b"])
          input    = "name-${each.key}"
        }
        resource "terraform_data" "counted" {
          count = 2
          input = count.index * 10
        }
        """
        + TABLE.format(
            name='"${terraform_data.each["a"].input}-t"',
            tags="""{
            Owner   = terraform_data.cfg.input.owner
            Tiers   = join(",", terraform_data.cfg.input.tiers)
            Trigger = terraform_data.cfg.triggers_replace[0]
            Counted = tostring(terraform_data.counted[1].input)
            Splat   = join(",", terraform_data.counted[*].input)
            Output  = terraform_data.cfg.output.owner
            Id      = terraform_data.cfg.id
            Whole   = jsonencode(terraform_data.cfg)
          }""",
        ),
    )
    tags = found["name-a-t"].spec.tags
    assert isinstance(tags, dict)
    known = {k: tags[k] for k in ("Owner", "Tiers", "Trigger", "Counted", "Splat")}
    assert known == {
        "Owner": "ops",
        "Tiers": "gold,silver",
        "Trigger": "v2",
        "Counted": "10",
        "Splat": "0,10",
    }
    for name in ("Output", "Id", "Whole"):
        assert isinstance(tags[name], Unknown), (name, tags[name])
        assert "known only after apply" in tags[name].reason, (name, tags[name])


def test_terraform_data_input_under_ignore_changes_is_unknown(tmp_path: Path) -> None:
    """Under ``lifecycle { ignore_changes = [input] }`` (or ``all``, or Terraform 0.11's quoted
    ``["input"]``) Terraform plans the value from its state, not the configuration: Unknown,
    never the configured value. Ignoring another argument, or nothing, leaves it known."""
    found = tables(
        tmp_path,
        """
        resource "terraform_data" "ignored" {
          input = "configured"
          lifecycle {
            ignore_changes = [input]
          }
        }
        resource "terraform_data" "all" {
          input = "configured"
          lifecycle {
            ignore_changes = all
          }
        }
        resource "terraform_data" "quoted" {
          input = "configured"
          lifecycle {
            ignore_changes = ["input"]
          }
        }
        resource "terraform_data" "none" {
          input = "configured"
          lifecycle {
            ignore_changes = []
          }
        }
        resource "terraform_data" "other" {
          input            = "configured"
          triggers_replace = ["x"]
          lifecycle {
            ignore_changes = [triggers_replace]
          }
        }
        """
        + TABLE.format(
            name='"t"',
            tags="""{
            Ignored = terraform_data.ignored.input
            All     = terraform_data.all.input
            Other   = terraform_data.other.input
            Quoted  = terraform_data.quoted.input
            None    = terraform_data.none.input
          }""",
        ),
    )
    tags = found["t"].spec.tags
    assert isinstance(tags, dict)
    assert (tags["Other"], tags["None"]) == ("configured", "configured")
    for name in ("Ignored", "All", "Quoted"):
        assert isinstance(tags[name], Unknown), (name, tags[name])
        assert "ignore_changes" in tags[name].reason and "state" in tags[name].reason


def test_the_reasons_for_other_resources_and_data_sources_say_what_driftwatch_does_not_read(
    tmp_path: Path,
) -> None:
    """The reason is what a user reads to decide what to do. "is a resource attribute, known only
    after apply" was said of a table already applied, and of arguments Terraform plans as written
    (an ``aws_kms_alias``'s name): driftwatch does not evaluate that resource, and Terraform keeps
    the value in its state. "is a data source" did not say that Terraform reads it when it plans
    and driftwatch does not."""
    found = tables(
        tmp_path,
        """
        resource "aws_kms_key" "k" {}
        data "aws_ssm_parameter" "owner" {
          name = "/app/owner"
        }
        """
        + TABLE.format(
            name='"t"',
            tags="""{
            Key   = aws_kms_key.k.arn
            Owner = data.aws_ssm_parameter.owner.value
          }""",
        ),
    )
    tags = found["t"].spec.tags
    assert isinstance(tags, dict)
    assert tags["Key"] == Unknown(
        "aws_kms_key.k.arn is a resource attribute driftwatch does not evaluate"
        " (Terraform keeps it in its state; a new one is known only after apply)"
    )
    assert tags["Owner"] == Unknown(
        "data.aws_ssm_parameter.owner.value is read by a data source when Terraform plans,"
        " which driftwatch does not do"
    )


def test_the_reason_names_the_attribute_read_through_an_index_that_is_not_a_number(
    tmp_path: Path,
) -> None:
    """``aws_kms_key.k[each.key].arn`` (a key per table) was reported as "aws_kms_key.k is a
    resource attribute": the reference was cut at the first index that is not a number, so the
    reason named the resource as if it were the attribute. The index is shown as Terraform would
    take it (the key, the number), or as ``[…]`` where it cannot be told, and the attribute
    follows."""
    found = tables(
        tmp_path,
        """
        resource "aws_kms_key" "k" {
          for_each = toset(["orders"])
        }
        resource "random_id" "r" {
          count       = 2
          byte_length = 4
        }
        data "aws_kms_alias" "a" {
          for_each = toset(["orders"])
          name     = "alias/${each.key}"
        }
        resource "aws_dynamodb_table" "t" {
          for_each     = toset(["orders"])
          name         = each.key
          billing_mode = "PAY_PER_REQUEST"
          hash_key     = "id"
          attribute {
            name = "id"
            type = "S"
          }
          tags = {
            Key     = aws_kms_key.k[each.key].arn
            Literal = aws_kms_key.k["orders"].arn
            Counted = random_id.r[length(each.key) % 2].hex
            Alias   = data.aws_kms_alias.a[each.key].target_key_arn
            Unknown = random_id.r[aws_kms_key.k[each.key].arn].hex
          }
        }
        """,
    )
    tags = found["orders"].spec.tags
    assert isinstance(tags, dict)
    reasons = {name: value.reason for name, value in tags.items() if isinstance(value, Unknown)}
    attribute = " is a resource attribute driftwatch does not evaluate"
    assert reasons["Key"].startswith('aws_kms_key.k["orders"].arn' + attribute)
    assert reasons["Literal"].startswith('aws_kms_key.k["orders"].arn' + attribute)
    assert reasons["Counted"].startswith("random_id.r[0].hex" + attribute)
    alias = 'data.aws_kms_alias.a["orders"].target_key_arn'
    assert reasons["Alias"].startswith(alias + " is read by a data source")
    assert reasons["Unknown"].startswith("random_id.r[…].hex" + attribute)
