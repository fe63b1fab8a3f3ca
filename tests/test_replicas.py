"""Replicas: the CloudPosse module's ``replicas`` input against DescribeTable's ``Replicas``.

A replica that is missing, extra or not ACTIVE is drift on ``replicas``. moto accepts replica
updates but never reports ``Replicas``, so the scans here run against moto with a targeted
patch of its DescribeTable that adds the replicas a test sets (as AWS would answer).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from realestate import REGION, provision, report_replicas, row, run_scan, target, write_repo

from driftwatch.aws.dynamodb import table_spec
from driftwatch.diff import diff
from driftwatch.spec import Drift, TableSpec, TableStatus

TABLE = "acme-prod-orders"
MODULE = """
module "orders" {
  source       = "cloudposse/dynamodb/aws"
  version      = "0.36.0"
  namespace    = "acme"
  stage        = "prod"
  name         = "orders"
  hash_key     = "id"
  billing_mode = "PAY_PER_REQUEST"
  replicas     = ["eu-west-1", "us-west-2"]
  # Replicas need a stream, which the module turns on; the provider needs its view type.
  stream_view_type = "NEW_AND_OLD_IMAGES"
}
"""


def test_describe_table_replicas_map_to_regions_and_their_status() -> None:
    spec = table_spec(
        {
            "TableName": TABLE,
            "Replicas": [
                {"RegionName": "eu-west-1", "ReplicaStatus": "ACTIVE"},
                {"RegionName": "us-west-2", "ReplicaStatus": "INACCESSIBLE_ENCRYPTION_CREDENTIALS"},
                {"RegionName": REGION, "ReplicaStatus": "ACTIVE"},  # the table itself
                {"RegionName": "ap-south-1"},  # no status (older global tables): not a problem
            ],
        },
        REGION,
    )
    assert spec.replicas == frozenset({"eu-west-1", "us-west-2", "ap-south-1"})
    assert spec.replica_status == {
        "eu-west-1": "ACTIVE",
        "us-west-2": "INACCESSIBLE_ENCRYPTION_CREDENTIALS",
        "ap-south-1": "ACTIVE",
    }


def _live(statuses: dict[str, str]) -> TableSpec:
    return TableSpec(name=TABLE, replicas=frozenset(statuses), replica_status=statuses)


@pytest.mark.parametrize(
    ("statuses", "live"),
    [
        ({"us-west-2": "ACTIVE", "eu-west-1": "ACTIVE"}, None),
        ({"eu-west-1": "ACTIVE"}, ["eu-west-1"]),  # missing
        (
            {"eu-west-1": "ACTIVE", "us-west-2": "ACTIVE", "ap-south-1": "ACTIVE"},
            ["ap-south-1", "eu-west-1", "us-west-2"],
        ),
        (
            {"eu-west-1": "ACTIVE", "us-west-2": "CREATION_FAILED"},
            ["eu-west-1", "us-west-2 (CREATION_FAILED)"],
        ),
    ],
    ids=["same-set-any-order", "missing", "extra", "not-active"],
)
def test_replica_drift_is_missing_extra_or_not_active(
    statuses: dict[str, str], live: list[str] | None
) -> None:
    declared = TableSpec(name=TABLE, replicas=frozenset({"eu-west-1", "us-west-2"}))
    expected = () if live is None else (Drift("replicas", ["eu-west-1", "us-west-2"], live),)
    assert diff(declared, _live(statuses)).drift == expected


def test_lifecycle_ignore_changes_on_replica_is_honoured() -> None:
    declared = TableSpec(name=TABLE, replicas=frozenset({"eu-west-1"}), unmanaged=frozenset({"replicas"}))
    assert diff(declared, _live({"us-west-2": "DELETING"})).drift == ()


# --------------------------------------------------------------------------- against moto


@pytest.fixture
def live_replicas(embedded_aws: None, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[dict[str, Any]]]:
    """Table name -> the ``Replicas`` DescribeTable reports (moto reports none of its own)."""
    replicas: dict[str, list[dict[str, Any]]] = {}
    report_replicas(monkeypatch, replicas)
    return replicas


def _replicas(**statuses: str) -> list[dict[str, Any]]:
    return [
        {"RegionName": region.replace("_", "-"), "ReplicaStatus": status}
        for region, status in statuses.items()
    ]


def test_scan_compares_the_modules_replicas_with_describe_table(
    live_replicas: dict[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    repo = write_repo(tmp_path / "repo", {"main.tf": MODULE})
    targets = [target(repo)]
    provision(targets)

    live_replicas[TABLE] = _replicas(us_west_2="ACTIVE", eu_west_1="ACTIVE")
    assert row(run_scan(targets), TABLE).status is TableStatus.IN_SYNC

    live_replicas[TABLE] = _replicas(eu_west_1="ACTIVE", us_west_2="REGION_DISABLED")
    found = row(run_scan(targets), TABLE)
    assert found.status is TableStatus.DRIFTED
    assert found.drift == (
        Drift("replicas", ["eu-west-1", "us-west-2"], ["eu-west-1", "us-west-2 (REGION_DISABLED)"]),
    )

    live_replicas[TABLE] = _replicas(eu_west_1="ACTIVE")
    assert row(run_scan(targets), TABLE).drift == (
        Drift("replicas", ["eu-west-1", "us-west-2"], ["eu-west-1"]),
    )

    live_replicas[TABLE] = _replicas(eu_west_1="ACTIVE", us_west_2="ACTIVE", ap_northeast_1="ACTIVE")
    report = run_scan(targets)
    assert row(report, TABLE).drift == (
        Drift("replicas", ["eu-west-1", "us-west-2"], ["ap-northeast-1", "eu-west-1", "us-west-2"]),
    )
    assert report.exit_code == 2
