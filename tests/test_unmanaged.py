"""Unmanaged tables: live tables in a target's regions that match its ``unmanaged.prefixes`` and
that no declaration covers. Opt-in per target; reported as ``unmanaged`` (JSON, text, metrics),
alerted (exit 2, history, Slack) only with ``unmanaged.alert: true``.
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import boto3
import pytest
from prometheus_client.parser import text_string_to_metric_families
from realestate import REGION, provision, report_replicas, row, run_scan, table_tf, target, write_repo
from rich.console import Console

from driftwatch.aws.calls import ApiCallRecorder
from driftwatch.aws.clients import AwsClients
from driftwatch.config import ConfigError, parse_config
from driftwatch.history import History, ResolveReason, TransitionKind
from driftwatch.metrics import DriftwatchMetrics
from driftwatch.notify.slack import build_message
from driftwatch.report.json import report_to_dict
from driftwatch.report.text import render_text
from driftwatch.spec import Drift, TableStatus
from driftwatch.targets import targets_from_config

DECLARED = "acme-prod-orders"
SCRATCH = "acme-prod-scratch"
READ_ONLY_OPERATIONS = {
    "DescribeTable",
    "DescribeTimeToLive",
    "DescribeContinuousBackups",
    "ListTagsOfResource",
    "DescribeScalableTargets",
    "DescribeScalingPolicies",
    "ListTables",
}


def create(name: str, region: str = REGION) -> None:
    boto3.client("dynamodb", region_name=region).create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def estate(embedded_aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """acme-prod-orders declared (with a replica in eu-west-1) and created; beside it in AWS a
    scratch table, another team's table and a staging table, and in eu-west-1 the replica and
    one more prod table."""
    repo = write_repo(tmp_path / "repo", {"main.tf": table_tf(DECLARED, replicas=["eu-west-1"])})
    provision([target(repo)])
    for name in (SCRATCH, "billing-invoices", "acme-staging-orders"):
        create(name)
    create(DECLARED, "eu-west-1")  # the replica AWS keeps in the other region
    report_replicas(monkeypatch, {DECLARED: [{"RegionName": "eu-west-1", "ReplicaStatus": "ACTIVE"}]})
    create("acme-prod-eu-cache", "eu-west-1")
    return repo


def test_config_keys_and_their_validation(tmp_path: Path) -> None:
    base: dict[str, Any] = {"repo": str(tmp_path)}
    config = parse_config(
        {
            **base,
            "targets": [
                {"name": "prod", "root": ".", "unmanaged": {"prefixes": ["acme-prod-"], "alert": True}}
            ],
        }
    )
    (found,) = targets_from_config(config, tmp_path)
    assert (found.unmanaged_prefixes, found.unmanaged_alert) == (("acme-prod-",), True)
    (off,) = targets_from_config(parse_config({**base, "targets": [{"name": "prod", "root": "."}]}), tmp_path)
    assert off.unmanaged_prefixes is None
    with pytest.raises(ConfigError, match=r"targets\.0\.unmanaged\.prefix: unknown key"):
        parse_config({**base, "targets": [{"name": "p", "root": ".", "unmanaged": {"prefix": ["a"]}}]})
    with pytest.raises(ConfigError, match=r"targets\.0\.unmanaged\.prefixes"):
        parse_config({**base, "targets": [{"name": "p", "root": ".", "unmanaged": {"prefixes": []}}]})


def test_off_by_default(estate: Path) -> None:
    report = run_scan([target(estate)])
    assert [r.table_name for r in report.tables] == [DECLARED]


def test_matching_live_tables_no_declaration_covers_are_unmanaged(estate: Path) -> None:
    recorder = ApiCallRecorder()
    report = run_scan([target(estate, unmanaged_prefixes=("acme-prod-",))], AwsClients(recorder=recorder))

    assert [(r.table_name, r.region, r.status) for r in report.tables] == [
        (DECLARED, REGION, TableStatus.IN_SYNC),
        ("acme-prod-eu-cache", "eu-west-1", TableStatus.UNMANAGED),  # the replica region is the target's too
        (SCRATCH, REGION, TableStatus.UNMANAGED),
    ]
    scratch = row(report, SCRATCH)
    assert (scratch.address, scratch.source, scratch.drift) == (None, None, (Drift("table", None, SCRATCH),))
    assert not scratch.alerts and report.exit_code == 0
    assert recorder.operations() <= READ_ONLY_OPERATIONS
    assert recorder.snapshot()[("ListTables", "success")] == 2  # once per region of the target

    document = report_to_dict(report)
    assert document["summary"]["unmanaged"] == 2 and document["summary"]["in_sync"] == 1
    assert {
        k: v
        for k, v in document["tables"][2].items()
        if k in ("address", "source", "status", "alert", "drift")
    } == {
        "address": None,
        "source": None,
        "status": "unmanaged",
        "drift": [{"attribute": "table", "declared": None, "live": SCRATCH}],
        "alert": False,
    }
    text = StringIO()
    render_text(report, Console(file=text, width=200))
    assert "UNMANAGED acme-prod-scratch  (us-east-1, target prod)" in text.getvalue()
    assert "in AWS but not declared in git (not alerted)" in text.getvalue()
    summary = "1 table watched: 1 in sync, 0 drifted, 0 missing, 0 errors, 2 unmanaged, 0 not evaluated"
    assert summary in text.getvalue()


def test_alert_true_makes_them_alert_everywhere(estate: Path) -> None:
    prod = target(estate, unmanaged_prefixes=("acme-prod-",), unmanaged_alert=True)
    report = run_scan([prod])
    assert row(report, SCRATCH).alerts and report.exit_code == 2

    metrics = DriftwatchMetrics(version="test")
    metrics.observe_scan(
        report, first_seen={}, result="success", duration_seconds=1, started_at=report.generated_at
    )
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(metrics.render().decode())
        for s in family.samples
    }
    labels = (("region", REGION), ("table", SCRATCH), ("target", "prod"))
    assert samples[("driftwatch_table_status", (*labels[:1], ("status", "unmanaged"), *labels[1:]))] == 1
    assert samples[("driftwatch_table_drifted", labels)] == 1
    assert samples[("driftwatch_tables", (("status", "unmanaged"), ("target", "prod")))] == 2

    history = History.open(":memory:")
    transitions = history.record_scan(report)
    assert {(t.kind, t.table) for t in transitions} == {
        (TransitionKind.UNMANAGED, SCRATCH),
        (TransitionKind.UNMANAGED, "acme-prod-eu-cache"),
    }
    message = build_message(transitions, repo_url=None, commit=None)
    assert message is not None and "Tables in AWS not declared in git" in str(message["blocks"])
    assert history.record_scan(run_scan([prod])).items == ()  # no news the second time

    boto3.client("dynamodb", region_name=REGION).delete_table(TableName=SCRATCH)
    resolved = history.record_scan(run_scan([prod]))
    assert [(t.kind, t.table, t.reason) for t in resolved] == [
        (TransitionKind.RESOLVED, SCRATCH, ResolveReason.NO_LONGER_UNMANAGED.value)
    ]


def test_without_alert_history_stays_quiet(estate: Path) -> None:
    history = History.open(":memory:")
    assert history.record_scan(run_scan([target(estate, unmanaged_prefixes=("acme-prod-",))])).items == ()
    assert history.episodes() == []


def test_an_account_with_incomplete_declarations_is_not_searched(estate: Path) -> None:
    """A file that does not parse may declare any table: none may be called unmanaged."""
    (estate / "broken.tf").write_text('resource "aws_dynamodb_table" "x" {\n', encoding="utf-8")
    report = run_scan([target(estate, unmanaged_prefixes=("acme-prod-",), unmanaged_alert=True)])
    assert report.count(TableStatus.UNMANAGED) == 0
    assert any("unmanaged tables were not looked for" in e.message for e in report.errors)
    assert report.exit_code == 1


def test_a_listing_that_fails_is_an_error_and_the_declared_tables_are_still_checked(
    estate: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError
    from moto.dynamodb.responses import DynamoHandler

    def denied(self: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "no ListTables"}}, "ListTables"
        )

    monkeypatch.setattr(DynamoHandler, "list_tables", denied, raising=True)
    report = run_scan([target(estate, unmanaged_prefixes=("acme-prod-",))])  # does not raise
    assert row(report, DECLARED).status is TableStatus.IN_SYNC
    assert any(
        e.message.startswith("unmanaged tables could not be listed: ListTables failed") for e in report.errors
    )
    assert report.exit_code == 1


def test_a_module_call_not_evaluated_stops_the_search_instead_of_calling_its_tables_unmanaged(
    estate: Path,
) -> None:
    """A module call driftwatch could not evaluate (here its for_each has no value) may declare
    any live table: ``acme-prod-scratch`` may be its own. Calling it unmanaged would be a false
    alarm (exit 2 and Slack with ``alert``), so the account's search is skipped, saying why,
    as for a file that does not parse."""
    (estate / "tables.tf").write_text(
        'variable "extra" {\n  type = set(string)\n}\n\n'
        'module "extra" {\n  source   = "./extra"\n  for_each = var.extra\n  name     = each.key\n}\n'
    )
    (estate / "extra").mkdir()
    (estate / "extra" / "main.tf").write_text('variable "name" {}\n' + table_tf("${var.name}"))
    prod = target(estate, unmanaged_prefixes=("acme-prod-",), unmanaged_alert=True)
    report = run_scan([prod])

    assert [n.address for n in report.not_evaluated] == ["module.extra"]
    assert [(r.table_name, r.status) for r in report.tables] == [(DECLARED, TableStatus.IN_SYNC)]
    assert any("unmanaged tables were not looked for" in e.message for e in report.errors)
    assert report.exit_code == 1


def test_replica_regions_listed_for_unmanaged_tables_are_capped_by_max_regions(estate: Path) -> None:
    """Every replica region of a target's tables is listed for unmanaged tables, and replica
    regions come from the repository: one table with 2,000 made-up replica regions (here 9 real
    ones) made 2,000 ListTables calls, one after the other, every scan (up to the scan
    deadline, against an AWS that retries each unknown region), and as many errors. Past
    aws.max_regions distinct regions in the scan, the rest are not listed: one error says
    which, and the regions the scan reads tables in are still listed."""
    regions = ["eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1", "sa-east-1"]
    regions += ["us-east-2", "us-west-1", "us-west-2"]  # all after eu-west-1 (the other replica)
    (estate / "many.tf").write_text(table_tf("acme-prod-many", replicas=regions), encoding="utf-8")
    create("acme-prod-many")
    recorder = ApiCallRecorder()
    prod = target(estate, unmanaged_prefixes=("acme-prod-",))
    report = run_scan([prod], AwsClients(recorder=recorder), max_regions=3)

    assert recorder.snapshot()[("ListTables", "success")] == 3  # us-east-1, eu-west-1, eu-west-2
    assert row(report, SCRATCH).status is TableStatus.UNMANAGED  # the tables' own region is listed
    assert row(report, "acme-prod-eu-cache").status is TableStatus.UNMANAGED
    (error,) = [e.message for e in report.errors if "not looked for" in e.message]
    assert error == (
        "unmanaged tables were not looked for in 8 regions (eu-west-3, il-central-1, me-central-1, …): "
        "the scan already reads 3 regions (aws.max_regions)"
    )
    assert report.exit_code == 1
