"""Resources that manage a feature of a table from outside ``aws_dynamodb_table``
(contributor insights, a Kinesis streaming destination, a resource policy): driftwatch compares
none of them, and each table they name says so (driftwatch.terraform.table_features)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from realestate import table_tf, target, write_repo

from driftwatch.scan import declare
from driftwatch.spec import DeclaredTable, Unknown
from driftwatch.terraform import table_features
from driftwatch.terraform.parse import ParseCache

# The default provider in us-east-1 and an alias "west" in us-west-2 (dedented with the rest).
TWO_REGIONS = """
        provider "aws" {
          region = "us-east-1"
        }
        provider "aws" {
          alias  = "west"
          region = "us-west-2"
        }
"""


def tables(tmp_path: Path, text: str) -> dict[str, DeclaredTable]:
    repo = write_repo(tmp_path / "repo", {"main.tf": textwrap.dedent(text)})
    found = declare([target(repo)], ParseCache())
    assert not found.errors and not found.early, (found.errors, found.early)
    return {job.table.spec.name: job.table for job in found.jobs}  # type: ignore[misc]


def notes(table: DeclaredTable) -> dict[str, str]:
    return {note.attribute: note.reason for note in table.notes}


def test_each_table_a_feature_resource_names_says_the_feature_is_not_compared(tmp_path: Path) -> None:
    """Before, a table whose contributor insights (or Kinesis destination, or resource policy)
    were turned off in the console was "in sync" with nothing said, though terraform plan puts
    them back: driftwatch reads none of them."""
    found = tables(
        tmp_path,
        table_tf("orders")
        + table_tf("events")
        + table_tf("quiet")
        + """
        resource "aws_dynamodb_contributor_insights" "orders" {
          table_name = aws_dynamodb_table.orders.name
        }
        resource "aws_dynamodb_contributor_insights" "by_tenant" {
          table_name = aws_dynamodb_table.orders.name
          index_name = "by-tenant"
        }
        resource "aws_dynamodb_kinesis_streaming_destination" "events" {
          for_each   = toset(["events"])
          table_name = each.value
          stream_arn = "arn:aws:kinesis:us-east-1:123456789012:stream/events"
        }
        resource "aws_dynamodb_resource_policy" "events" {
          resource_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/events"
          policy       = "{}"
        }
        resource "aws_dynamodb_resource_policy" "by_reference" {
          resource_arn = aws_dynamodb_table.orders.arn # known only after apply, but whose it is
          policy       = "{}"
        }
        resource "aws_dynamodb_resource_policy" "by_data" {
          resource_arn = data.aws_dynamodb_table.quiet.arn # a data source: which table is not told
          policy       = "{}"
        }
        resource "aws_dynamodb_contributor_insights" "elsewhere" {
          table_name = "not-declared-here"
        }
        """,
    )
    assert notes(found["orders"]) == {
        "contributor_insights": "aws_dynamodb_contributor_insights.orders manages contributor insights, "
        "which driftwatch does not compare; terraform plan does",
        "gsi.by-tenant.contributor_insights": "aws_dynamodb_contributor_insights.by_tenant manages "
        "contributor insights of the index by-tenant, which driftwatch does not compare; terraform plan does",
        "resource_policy": "aws_dynamodb_resource_policy.by_reference manages a resource-based policy, "
        "which driftwatch does not compare; terraform plan does",
    }
    assert notes(found["events"]) == {
        "kinesis_streaming_destination": 'aws_dynamodb_kinesis_streaming_destination.events["events"] '
        "manages a Kinesis streaming destination, which driftwatch does not compare; terraform plan does",
        "resource_policy": "aws_dynamodb_resource_policy.events manages a resource-based policy, which "
        "driftwatch does not compare; terraform plan does",
    }
    assert notes(found["quiet"]) == {}


def test_a_resource_policy_names_its_table_by_arn_through_for_each_and_modules(tmp_path: Path) -> None:
    """``resource_arn = aws_dynamodb_table.t[each.key].arn`` (the usual form) is known only
    after apply, but whose ARN it is is known: each policy is named on its own table."""
    repo = write_repo(
        tmp_path / "repo",
        {
            "main.tf": 'module "m" {\n  source = "./m"\n}\n',
            "m/main.tf": textwrap.dedent(
                """
                resource "aws_dynamodb_table" "t" {
                  for_each     = toset(["a", "b"])
                  name         = "t-${each.key}"
                  billing_mode = "PAY_PER_REQUEST"
                  hash_key     = "id"
                  attribute {
                    name = "id"
                    type = "S"
                  }
                }
                resource "aws_dynamodb_resource_policy" "p" {
                  for_each     = toset(["a", "b"])
                  resource_arn = aws_dynamodb_table.t[each.key].arn
                  policy       = "{}"
                }
                resource "aws_dynamodb_resource_policy" "each_value" {
                  for_each     = aws_dynamodb_table.t # each.value is the table: its arn is known after apply
                  resource_arn = each.value.arn
                  policy       = "{}"
                }
                resource "aws_dynamodb_resource_policy" "only_a" {
                  resource_arn = aws_dynamodb_table.t["a"].arn
                  policy       = "{}"
                }
                """
            ),
        },
    )
    found = declare([target(repo)], ParseCache())
    assert not found.errors
    by_name = {job.table.spec.name: [(n.attribute, n.reason) for n in job.table.notes] for job in found.jobs}
    why = "manages a resource-based policy, which driftwatch does not compare; terraform plan does"
    assert by_name == {
        "t-a": [
            ("resource_policy", f'module.m.aws_dynamodb_resource_policy.p["a"] {why}'),
            ("resource_policy", f'module.m.aws_dynamodb_resource_policy.each_value["a"] {why}'),
            ("resource_policy", f"module.m.aws_dynamodb_resource_policy.only_a {why}"),
        ],
        "t-b": [
            ("resource_policy", f'module.m.aws_dynamodb_resource_policy.p["b"] {why}'),
            ("resource_policy", f'module.m.aws_dynamodb_resource_policy.each_value["b"] {why}'),
        ],
    }


def test_a_feature_resource_in_another_region_names_another_table(tmp_path: Path) -> None:
    found = tables(
        tmp_path,
        TWO_REGIONS
        + table_tf("orders")
        + """
        resource "aws_dynamodb_contributor_insights" "west" {
          provider   = aws.west
          table_name = "orders"
        }
        """,
    )
    assert notes(found["orders"]) == {}


def test_a_resource_policy_names_the_table_of_its_arns_region(tmp_path: Path) -> None:
    """The policy's provider is us-east-1 but its ARN names us-west-2's orders: the note was put
    on us-east-1's orders (a table it does not manage) and us-west-2's said nothing."""
    text = (
        TWO_REGIONS
        + table_tf("orders").replace('"aws_dynamodb_table" "orders"', '"aws_dynamodb_table" "east"')
        + table_tf("orders").replace("{\n", "{\n  provider = aws.west\n", 1)
        + """
        resource "aws_dynamodb_resource_policy" "p" {
          resource_arn = "arn:aws:dynamodb:us-west-2:123456789012:table/orders"
          policy       = "{}"
        }
        resource "aws_dynamodb_tag" "t" {
          resource_arn = "arn:aws:dynamodb:us-west-2:123456789012:table/orders"
          key          = "Owner"
          value        = "west"
        }
        """
    )
    repo = write_repo(tmp_path / "repo", {"main.tf": textwrap.dedent(text)})
    found = declare([target(repo)], ParseCache())
    by_address = {job.table.address: job.table for job in found.jobs}
    assert notes(by_address["aws_dynamodb_table.east"]) == {}
    assert list(notes(by_address["aws_dynamodb_table.orders"])) == ["resource_policy"]
    # so does a tag resource's: the tag is the west table's to compare, not the east one's
    assert dict(by_address["aws_dynamodb_table.east"].spec.tag_resources) == {}
    assert dict(by_address["aws_dynamodb_table.orders"].spec.tag_resources) == {"Owner": "west"}


@pytest.mark.parametrize(
    ("arn", "name"),
    [
        ("arn:aws:dynamodb:us-east-1:123456789012:table/orders", "orders"),
        ("arn:aws-cn:dynamodb:cn-north-1:123456789012:table/orders", "orders"),
        ("arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2024-01-01T00:00:00.000", None),
        ("arn:aws:dynamodb:us-east-1:123456789012:table/orders/index/by-tenant", None),
        ("arn:aws:s3:::table/orders", None),
        ("orders", None),
        (None, None),
    ],
)
def test_the_table_a_resource_policy_names(arn: str | None, name: str | None) -> None:
    resource = table_features.FeatureResource(
        "aws_dynamodb_resource_policy", "aws_dynamodb_resource_policy.p", None, {"resource_arn": arn}
    )
    assert table_features.table_name(resource) == name


def test_each_value_over_a_tables_instances_has_every_attribute_terraform_knows_after_apply(
    tmp_path: Path,
) -> None:
    """``for_each = aws_dynamodb_table.t`` makes ``each.value`` a table instance: its ``arn``
    is known only after apply, as in Terraform. It was "each.value has no attribute arn", which
    made the whole ``tags`` map unknown and read like a mistake in the configuration; now only
    the tag that reads it is unresolved, with Terraform's reason."""
    found = tables(
        tmp_path,
        """
        resource "aws_dynamodb_table" "t" {
          for_each     = toset(["a"])
          name         = "t-${each.key}"
          billing_mode = "PAY_PER_REQUEST"
          hash_key     = "id"
          attribute {
            name = "id"
            type = "S"
          }
        }
        resource "aws_dynamodb_table" "u" {
          for_each     = aws_dynamodb_table.t
          name         = "u-${each.value.name}"
          billing_mode = "PAY_PER_REQUEST"
          hash_key     = "id"
          attribute {
            name = "id"
            type = "S"
          }
          tags = { Source = each.value.arn, Plain = "x" }
        }
        """,
    )
    tags = found["u-t-a"].spec.tags
    assert isinstance(tags, dict) and tags["Plain"] == "x"
    assert tags["Source"] == Unknown(
        'aws_dynamodb_table.t["a"].arn is an attribute driftwatch does not evaluate (Terraform keeps'
        " it in its state; a new one is known only after apply)"
    )


def test_a_whole_table_instance_turned_into_a_value_is_unknown_not_its_listed_arguments(
    tmp_path: Path,
) -> None:
    """A table instance holds every attribute of the table (arn, stream_arn, the whole schema),
    most known only after apply; driftwatch lists only the arguments it reads. ``jsonencode``,
    ``length``, ``keys``, a ``for`` over it or ``==`` on it gave a known value made of those
    alone (``{"hash_key":"id","id":"t-a","name":"t-a"}``, 3; ``lookup(each.value, "arn", "none")``
    was "none"): compared with the live tag that
    Terraform wrote from the whole instance, a false alarm. Each is now unknown; an attribute
    read from it (``each.value.name``, ``lookup(each.value, "name", ...)``) stays known."""
    found = tables(
        tmp_path,
        """
        resource "aws_dynamodb_table" "t" {
          for_each     = toset(["a"])
          name         = "t-${each.key}"
          billing_mode = "PAY_PER_REQUEST"
          hash_key     = "id"
          attribute {
            name = "id"
            type = "S"
          }
        }
        resource "aws_dynamodb_table" "u" {
          for_each     = aws_dynamodb_table.t
          name         = "u-${each.value.name}"
          billing_mode = "PAY_PER_REQUEST"
          hash_key     = "id"
          attribute {
            name = "id"
            type = "S"
          }
          tags = {
            Json    = jsonencode(each.value)
            Direct  = jsonencode(aws_dynamodb_table.t["a"])
            Count   = length(each.value)
            Keys    = join(",", keys(each.value))
            For     = join(",", [for k, v in each.value : k])
            Same    = tostring(each.value == aws_dynamodb_table.t["a"])
            Null    = tostring(each.value == null)
            Lookup  = lookup(each.value, "arn", "none")
            Name    = each.value.name
            Listed  = lookup(each.value, "name", "none")
            Listed2 = lookup(each.value, "hash_key")
          }
        }
        """,
    )
    tags = found["u-t-a"].spec.tags
    assert isinstance(tags, dict)
    assert tags["Name"] == "t-a" and tags["Null"] == "false"
    # an attribute it lists is known through lookup() too, as Terraform knows it
    assert (tags["Listed"], tags["Listed2"]) == ("t-a", "id")
    for name in ("Json", "Direct", "Count", "Keys", "For", "Same", "Lookup"):
        assert isinstance(tags[name], Unknown), (name, tags[name])
        assert "known only after apply" in tags[name].reason, (name, tags[name])


def test_a_feature_resource_whose_instances_cannot_be_told_still_names_a_table_it_names_outright(
    tmp_path: Path,
) -> None:
    """``count = var.insights ? 1 : 0`` with the variable unset (or a count beyond what
    driftwatch expands): which instances exist cannot be told, and the resource was passed over,
    so the table it names by a literal said nothing, though terraform plan manages its
    contributor insights whenever the instance exists. It now says the feature may be managed;
    a name that depends on the unknown instances (``each.value``) still names no table."""
    found = tables(
        tmp_path,
        table_tf("orders")
        + table_tf("events")
        + table_tf("quiet")
        + """
        variable "insights" {
          type = bool
        }
        variable "names" {
          type = set(string)
        }
        resource "aws_dynamodb_contributor_insights" "maybe" {
          count      = var.insights ? 1 : 0
          table_name = "orders"
        }
        resource "aws_dynamodb_contributor_insights" "many" {
          count      = 10001
          table_name = "events"
        }
        resource "aws_dynamodb_contributor_insights" "each" {
          for_each   = var.names
          table_name = each.value
        }
        """,
    )
    assert notes(found["quiet"]) == {}
    orders = notes(found["orders"])["contributor_insights"]
    assert orders.startswith("aws_dynamodb_contributor_insights.maybe manages contributor insights")
    assert "count of aws_dynamodb_contributor_insights.maybe is unknown" in orders
    assert "more than the 10,000 instances" in notes(found["events"])["contributor_insights"]


def test_a_tag_resource_puts_its_tag_on_the_table_it_names(tmp_path: Path) -> None:
    """``aws_dynamodb_tag`` (a Terraform state lock table's tags, the table saying
    ``ignore_changes = [tags]``): each tag it puts is the table's, by the table's ARN known after
    apply or written out. One in another region (a replica's, through ``replace()`` of the
    ARN) tags another table. Before, driftwatch read none of them: a tag deleted in the console
    was in sync though terraform plan creates it again."""
    found = tables(
        tmp_path,
        TWO_REGIONS
        + """
        locals {
          tags = { Project = "state", Environment = "shared" }
        }
        resource "aws_dynamodb_table" "lock" {
          name           = "tf-state-lock"
          hash_key       = "LockID"
          read_capacity  = 20
          write_capacity = 20
          attribute {
            name = "LockID"
            type = "S"
          }
          lifecycle {
            ignore_changes = [tags]
          }
        }
        resource "aws_dynamodb_tag" "table_tags" {
          for_each     = local.tags
          resource_arn = aws_dynamodb_table.lock.arn
          key          = each.key
          value        = each.value
        }
        resource "aws_dynamodb_tag" "replica" {
          provider     = aws.west
          resource_arn = replace(aws_dynamodb_table.lock.arn, "us-east-1", "us-west-2")
          key          = "Replica"
          value        = "west"
        }
        resource "aws_dynamodb_tag" "by_arn" {
          resource_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/orders"
          key          = "Owner"
          value        = var.owner
        }
        variable "owner" {
          type = string
        }
        """
        + table_tf("orders"),
    )
    assert dict(found["tf-state-lock"].spec.tag_resources) == {"Project": "state", "Environment": "shared"}
    owner = found["orders"].spec.tag_resources["Owner"]
    assert isinstance(owner, Unknown) and "var.owner" in owner.reason
    assert notes(found["tf-state-lock"]) == notes(found["orders"]) == {}


def test_a_tag_resource_whose_key_cannot_be_told_says_so(tmp_path: Path) -> None:
    found = tables(
        tmp_path,
        table_tf("orders")
        + """
        variable "key" {
          type = string
        }
        resource "aws_dynamodb_tag" "some" {
          resource_arn = aws_dynamodb_table.orders.arn
          key          = var.key
          value        = "x"
        }
        """,
    )
    assert dict(found["orders"].spec.tag_resources) == {}
    assert list(notes(found["orders"])) == ["tags"]
    assert "aws_dynamodb_tag.some puts a tag whose key" in notes(found["orders"])["tags"]


def test_a_tag_resource_ignoring_its_value_is_named_not_compared(tmp_path: Path) -> None:
    """``ignore_changes = [value]`` on the tag resource: a changed value plans nothing, so
    driftwatch compares none of it (never a false alarm) and says so."""
    found = tables(
        tmp_path,
        table_tf("orders")
        + """
        resource "aws_dynamodb_tag" "owner" {
          resource_arn = aws_dynamodb_table.orders.arn
          key          = "Owner"
          value        = "alice"
          lifecycle {
            ignore_changes = [value]
          }
        }
        """,
    )
    assert dict(found["orders"].spec.tag_resources) == {}
    assert "ignores changes to its value" in notes(found["orders"])["tags.Owner"]
    # A lifecycle that ignores nothing leaves the value compared (it read as ignoring it).
    other = tables(
        tmp_path / "other",
        table_tf("orders")
        + """
        resource "aws_dynamodb_tag" "owner" {
          resource_arn = aws_dynamodb_table.orders.arn
          key          = "Owner"
          value        = "alice"
          lifecycle {
            create_before_destroy = true
          }
        }
        """,
    )
    assert dict(other["orders"].spec.tag_resources) == {"Owner": "alice"}
    assert "tags.Owner" not in notes(other["orders"])


def test_a_scheduled_action_on_a_tables_autoscaling_is_named_not_compared(tmp_path: Path) -> None:
    """``aws_appautoscaling_scheduled_action`` on a table's or an index's scalable target (a
    public configuration's ``cron(...)`` with a ``timezone``, fifth survey): deleted or changed
    in the console, terraform plan creates or updates it again. driftwatch reads no scheduled
    action; before, the table was in sync with nothing said."""
    found = tables(
        tmp_path,
        table_tf("vendas")
        + table_tf("other")
        + """
        resource "aws_appautoscaling_target" "read" {
          min_capacity       = 1
          max_capacity       = 3
          resource_id        = "table/${aws_dynamodb_table.vendas.name}"
          scalable_dimension = "dynamodb:table:ReadCapacityUnits"
          service_namespace  = "dynamodb"
        }
        resource "aws_appautoscaling_scheduled_action" "up" {
          name               = "vendas-up"
          service_namespace  = aws_appautoscaling_target.read.service_namespace
          resource_id        = aws_appautoscaling_target.read.resource_id
          scalable_dimension = aws_appautoscaling_target.read.scalable_dimension
          schedule           = "cron(49 21 * * ? *)"
          timezone           = "America/Sao_Paulo"
          scalable_target_action {
            min_capacity = 2
            max_capacity = 5
          }
        }
        resource "aws_appautoscaling_scheduled_action" "index" {
          name               = "vendas-index-night"
          service_namespace  = "dynamodb"
          resource_id        = "table/vendas/index/by-client"
          scalable_dimension = "dynamodb:index:WriteCapacityUnits"
          schedule           = "cron(0 1 * * ? *)"
          scalable_target_action {
            max_capacity = 1
          }
        }
        resource "aws_appautoscaling_scheduled_action" "ecs" {
          name               = "ecs"
          service_namespace  = "ecs"
          resource_id        = "service/cluster/other"
          scalable_dimension = "ecs:service:DesiredCount"
          schedule           = "cron(0 1 * * ? *)"
          scalable_target_action {
            max_capacity = 1
          }
        }
        """,
    )
    assert notes(found["vendas"]) == {
        "autoscaling.read.scheduled_action": "aws_appautoscaling_scheduled_action.up manages a scheduled "
        "action of the autoscaler, which driftwatch does not compare; terraform plan does",
        "gsi.by-client.autoscaling.write.scheduled_action": "aws_appautoscaling_scheduled_action.index "
        "manages a scheduled action of the autoscaler, which driftwatch does not compare; "
        "terraform plan does",
    }
    assert notes(found["other"]) == {}


def test_a_tag_resource_of_a_provider_whose_region_cannot_be_told_is_not_compared(tmp_path: Path) -> None:
    """A replica's tag (``provider = aws.replica``, the ARN made with ``replace()``) whose
    provider region driftwatch cannot resolve (``var.replica_region`` without a value): its
    region fell back to the target's, which is the main table's, so the replica's tag was
    compared on the main table -- a drifted ``tags.OnlyOnReplica`` on every scan that terraform
    plan does not show. Unknown now, and named; a tag resource of the table's own provider is
    still compared."""
    found = tables(
        tmp_path,
        """
        variable "replica_region" {
          type = string
        }
        provider "aws" {
          region = "us-east-1"
        }
        provider "aws" {
          alias  = "replica"
          region = var.replica_region
        }
        data "aws_region" "here" {}
        resource "aws_dynamodb_tag" "replica" {
          provider     = aws.replica
          resource_arn = replace(aws_dynamodb_table.orders.arn, data.aws_region.here.name, var.replica_region)
          key          = "OnlyOnReplica"
          value        = "yes"
        }
        resource "aws_dynamodb_tag" "own" {
          resource_arn = aws_dynamodb_table.orders.arn
          key          = "Owner"
          value        = "team"
        }
        """
        + table_tf("orders"),
    )
    put = found["orders"].spec.tag_resources
    assert put["Owner"] == "team"
    replica = put["OnlyOnReplica"]
    assert isinstance(replica, Unknown), replica
    assert "aws_dynamodb_tag.replica" in replica.reason and "another region" in replica.reason
