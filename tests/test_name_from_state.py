"""A table whose ``name`` is under ``lifecycle { ignore_changes }`` (or ``all``): Terraform
knows it by the name in its state, not by the configured one.

Teams add ``ignore_changes = [name]`` when a naming convention changes and the tables must not
be replaced. The configuration then names ``orders-v2`` while Terraform keeps managing the
table ``orders`` and plans nothing. driftwatch, which does not read the state, looked up
``orders-v2``, found nothing and reported the table missing on every scan: a false alarm.
It is now an error row that says why the table is not compared. Where the configured name
does exist it is that table (the common case: the entry was added defensively), compared as
before.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import boto3
import pytest
from realestate import REGION, row, run_scan, table_tf, target, write_repo

from driftwatch.demo.provision import create_table
from driftwatch.scan import declare
from driftwatch.spec import TableStatus
from driftwatch.terraform.parse import ParseCache


def _with_lifecycle(name: str, ignore: str) -> str:
    text = table_tf(name)
    return text[: text.rindex("}")] + f"  lifecycle {{\n    ignore_changes = {ignore}\n  }}\n}}\n"


def _create(repo: Path, live_name: str) -> None:
    """The table as declared, created under ``live_name`` (what Terraform's state holds)."""
    (job,) = declare([target(repo)], ParseCache()).jobs
    spec = dataclasses.replace(job.table.spec, name=live_name)
    create_table(
        boto3.client("dynamodb", region_name=REGION),
        boto3.client("application-autoscaling", region_name=REGION),
        spec,
    )


@pytest.mark.parametrize("ignore", ["[name]", "[name, tags]", "all"])
def test_a_configured_name_terraform_ignores_and_no_table_has_is_not_reported_missing(
    embedded_aws: None, tmp_path: Path, ignore: str
) -> None:
    repo = write_repo(tmp_path / "repo", {"main.tf": _with_lifecycle("orders-v2", ignore)})
    _create(repo, "orders")
    found = row(run_scan([target(repo)]), "orders-v2")
    assert found.status is TableStatus.ERROR
    assert found.drift == ()
    assert "ignore_changes" in (found.error or "") and "state" in (found.error or "")


@pytest.mark.parametrize("ignore", ["[name]", "all"])
def test_a_configured_name_terraform_ignores_that_exists_is_that_table(
    embedded_aws: None, tmp_path: Path, ignore: str
) -> None:
    repo = write_repo(tmp_path / "repo", {"main.tf": _with_lifecycle("orders", ignore)})
    _create(repo, "orders")
    boto3.client("dynamodb", region_name=REGION).update_continuous_backups(
        TableName="orders", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    found = row(run_scan([target(repo)]), "orders")
    # compared: with [name] the console change is drift; with all nothing is compared
    if ignore == "all":
        assert found.status is TableStatus.IN_SYNC
    else:
        assert found.status is TableStatus.DRIFTED
        assert [d.attribute for d in found.drift] == ["point_in_time_recovery"]


@pytest.mark.parametrize("ignore", ["[tags]", "[table_class]"])
def test_a_table_whose_name_terraform_plans_is_still_missing(
    embedded_aws: None, tmp_path: Path, ignore: str
) -> None:
    repo = write_repo(tmp_path / "repo", {"main.tf": _with_lifecycle("orders-v2", ignore)})
    _create(repo, "orders")
    found = row(run_scan([target(repo)]), "orders-v2")
    assert found.status is TableStatus.MISSING
    assert [d.attribute for d in found.drift] == ["table"]


def test_unmanaged_tables_are_not_looked_for_where_such_a_table_could_be_any(
    embedded_aws: None, tmp_path: Path
) -> None:
    """With discovery on, the state's ``orders`` looked unmanaged (alerted with
    ``unmanaged.alert``): the declaration that manages it names ``orders-v2``. The region is
    skipped with the reason, as for any incomplete declarations. Where the configured name
    exists, discovery goes on (another table is still unmanaged)."""
    repo = write_repo(tmp_path / "repo", {"main.tf": _with_lifecycle("orders-v2", "[name]")})
    _create(repo, "orders")
    report = run_scan([target(repo, unmanaged_prefixes=("orders",), unmanaged_alert=True)])
    assert [r.table_name for r in report.tables if r.status is TableStatus.UNMANAGED] == []
    (error,) = [e.message for e in report.errors if "unmanaged" in e.message]
    assert "aws_dynamodb_table.orders_v2" in error and "ignore_changes" in error
    _create(repo, "orders-v2")
    report = run_scan([target(repo, unmanaged_prefixes=("orders",), unmanaged_alert=True)])
    assert [r.table_name for r in report.tables if r.status is TableStatus.UNMANAGED] == ["orders"]
    assert row(report, "orders-v2").status is TableStatus.IN_SYNC


def test_unmanaged_tables_are_not_looked_for_in_such_a_tables_replica_regions(
    embedded_aws: None, tmp_path: Path
) -> None:
    """The table Terraform manages has its replicas under the state's name too: in a replica
    region, ``orders`` (the replica of the table declared as ``orders-v2``) was reported
    unmanaged and alerted. Only the table's own region was held back."""
    text = table_tf("orders-v2", replicas=["eu-west-1"])
    text = text[: text.rindex("}")] + "  lifecycle {\n    ignore_changes = [name]\n  }\n}\n"
    repo = write_repo(tmp_path / "repo", {"main.tf": text})
    for region in (REGION, "eu-west-1"):  # the table and the replica AWS keeps, as in state
        boto3.client("dynamodb", region_name=region).create_table(
            TableName="orders",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    report = run_scan([target(repo, unmanaged_prefixes=("orders",), unmanaged_alert=True)])
    assert [(r.table_name, r.region) for r in report.tables if r.status is TableStatus.UNMANAGED] == []
    held = sorted(e.message for e in report.errors if "unmanaged tables were not looked for" in e.message)
    assert [m.split(":")[0] for m in held] == [
        "unmanaged tables were not looked for in eu-west-1",
        f"unmanaged tables were not looked for in {REGION}",
    ]
