"""Ignore rules (``ignore:`` in the config): accepted drift with a reason and an expiry.

Ignored drift is shown as ``ignored`` with its reason, is never alerted (exit code, history,
Slack, ``driftwatch_table_drifted``) and is counted in ``driftwatch_ignored_drift``; a table
whose only drift is ignored is ``in_sync``. A rule whose ``until`` has come stops applying, is
reported (JSON, text, metric) and announced once (log and Slack), and ``driftwatch validate``
lists the rules that expire within 14 days.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import boto3
import pytest
import structlog
import yaml
from prometheus_client.parser import text_string_to_metric_families
from pytest_httpserver import HTTPServer
from realestate import REGION, provision, row, run_scan, table_tf, target, write_repo
from rich.console import Console

from driftwatch.cli import main
from driftwatch.config import ConfigError, parse_config
from driftwatch.daemon import Daemon
from driftwatch.diff import apply_ignore_rules
from driftwatch.history import History, ResolveReason, TransitionKind
from driftwatch.metrics import DriftwatchMetrics
from driftwatch.report.json import report_to_dict
from driftwatch.report.text import render_text
from driftwatch.spec import Drift, IgnoreRule, TableStatus
from tests.ports import free_port

TABLE = "acme-prod-orders"
TODAY = datetime.now(UTC).date()


def rule(
    table: str = "*", attribute: str = "*", until: date | None = None, reason: str = "accepted"
) -> IgnoreRule:
    return IgnoreRule(table, attribute, reason, until)


# --------------------------------------------------------------------------- config


def test_a_rule_needs_a_reason_and_unknown_keys_are_rejected() -> None:
    base = {"targets": [{"name": "prod", "root": "."}]}
    with pytest.raises(ConfigError, match=r"ignore\.0\.reason: required key is missing"):
        parse_config({**base, "ignore": [{"table": "acme-*"}]})
    with pytest.raises(ConfigError, match=r"ignore\.0\.reason: .*reason is required"):
        parse_config({**base, "ignore": [{"table": "acme-*", "reason": "   "}]})
    with pytest.raises(ConfigError, match=r"ignore\.0\.expires: unknown key"):
        parse_config({**base, "ignore": [{"reason": "x", "expires": "2027-01-01"}]})
    with pytest.raises(ConfigError, match=r"ignore\.0\.until"):
        parse_config({**base, "ignore": [{"reason": "x", "until": "next year"}]})

    config = parse_config(
        yaml.safe_load(
            "targets: [{name: prod, root: .}]\n"
            "ignore:\n"
            "  - {table: 'acme-*-orders', attribute: tags.CostCenter, reason: ' set by finance ',\n"
            "     until: 2027-01-01}\n"
            "  - {table: 'acme-legacy-*', reason: 'being retired'}\n"
        )
    )
    assert config.ignore_rules() == (
        IgnoreRule("acme-*-orders", "tags.CostCenter", "set by finance", date(2027, 1, 1)),
        IgnoreRule("acme-legacy-*", "*", "being retired", None),
    )


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"table": "*", "attribute": "*"},
        {"table": "**", "attribute": "*?"},
        {"table": "???*", "until": "2999-01-01"},
        # classes that cover every character of a table name, or of every attribute's first
        {"table": "[a-zA-Z0-9_.-]*", "attribute": "[a-z]*"},
        {"table": "[!/]*", "attribute": "*[!/]*"},
        {"table": "*?*?*?*", "attribute": "????*"},
    ],
)
def test_a_rule_accepting_every_drift_of_every_table_is_refused(fields: dict[str, str]) -> None:
    """Such a rule would make driftwatch silent whatever happened: a configuration error, naming
    the rule, rather than a tool that looks on and says nothing."""
    config = {"targets": [{"name": "prod", "root": "."}], "ignore": [{**fields, "reason": "noise"}]}
    with pytest.raises(ConfigError, match=r"ignore\.0: .*accept every drift of every table, which silences"):
        parse_config(config)


@pytest.mark.parametrize(
    "fields",
    [
        {"table": "acme-*"},
        {"attribute": "tags.*"},
        {"table": "????"},  # names of 4 characters only
        {"table": "[a-z]*"},  # not ``Orders``
        {"table": "*?*?*?*?*"},  # not 3-character names
        {"attribute": "[!t]*"},  # not ``table_class``, ``ttl.*``
    ],
)
def test_a_rule_naming_tables_or_attributes_is_accepted(fields: dict[str, str]) -> None:
    config = parse_config({"targets": [{"name": "prod", "root": "."}], "ignore": [{**fields, "reason": "x"}]})
    assert len(config.ignore_rules()) == 1


def test_a_missing_table_is_hidden_only_by_a_rule_naming_the_table_attribute() -> None:
    """``attribute: "*"`` (or any glob) is written for a table's settings; letting it also accept
    the table's deletion hid a deleted table as ``in_sync``."""
    missing = (Drift("table", TABLE, None),)
    now = datetime(2026, 6, 1, tzinfo=UTC)
    for glob in ("*", "t*", "?????", "tabl[e]"):
        kept, ignored = apply_ignore_rules(TABLE, missing, [rule(TABLE, glob)], now)
        assert (kept, ignored) == (missing, ()), glob
    kept, ignored = apply_ignore_rules(TABLE, missing, [rule("acme-*", "table", reason="retired")], now)
    assert kept == () and [(i.attribute, i.reason) for i in ignored] == [("table", "retired")]
    assert rule(TABLE, "*").matches(TABLE, "tags.Owner")  # every other attribute, as before


def test_globs_match_table_and_attribute_and_until_is_the_first_day_without_the_rule() -> None:
    r = rule("acme-*-orders", "tags.*", until=date(2027, 1, 1))
    assert r.matches("acme-prod-orders", "tags.CostCenter")
    assert r.matches("acme-staging-orders", "tags.Owner")
    assert not r.matches("acme-prod-orders", "point_in_time_recovery")
    assert not r.matches("Acme-prod-orders", "tags.Owner")  # case-sensitive, like table names
    assert rule(attribute="gsi.*.read_capacity").matches("t", "gsi.by-tenant.read_capacity")
    assert not r.expired(datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC))
    assert r.expired(datetime(2027, 1, 1, 0, 0, tzinfo=UTC))
    assert not rule().expired(datetime(9999, 1, 1, tzinfo=UTC))
    assert r.key == rule("acme-*-orders", "tags.*", until=date(2027, 1, 1)).key
    assert r.key != rule("acme-*-orders", "tags.*", until=date(2027, 6, 1)).key  # extended: a new rule


def test_apply_ignore_rules_keeps_what_no_active_rule_accepts() -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    drift = (Drift("point_in_time_recovery", True, False), Drift("tags.Owner", "a", "b"))
    rules = [
        rule(attribute="tags.Owner", until=date(2026, 5, 1), reason="expired"),
        rule(attribute="tags.*", reason="tags are the finance team's"),
    ]
    kept, ignored = apply_ignore_rules("t", drift, rules, now)
    assert kept == (Drift("point_in_time_recovery", True, False),)
    assert [(i.attribute, i.declared, i.live, i.reason, i.until) for i in ignored] == [
        ("tags.Owner", "a", "b", "tags are the finance team's", None)
    ]


# --------------------------------------------------------------------------- a scan against moto


@pytest.fixture
def drifted_repo(embedded_aws: None, tmp_path: Path) -> Path:
    """One table created as declared, then changed in the console: PITR off, a tag edited."""
    repo = write_repo(
        tmp_path / "repo", {"main.tf": table_tf(TABLE, tags={"Team": "obs", "CostCenter": "42"})}
    )
    provision([target(repo)])
    ddb = boto3.client("dynamodb", region_name=REGION)
    ddb.update_continuous_backups(
        TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    arn = ddb.describe_table(TableName=TABLE)["Table"]["TableArn"]
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "CostCenter", "Value": "99"}])
    return repo


def test_ignored_drift_is_shown_with_its_reason_and_never_alerted(drifted_repo: Path) -> None:
    until = TODAY + timedelta(days=90)
    rules = [rule("acme-*-orders", "tags.CostCenter", until=until, reason="set by finance")]

    report = run_scan([target(drifted_repo)], ignore=rules)

    found = row(report, TABLE)
    assert found.status is TableStatus.DRIFTED
    assert [d.attribute for d in found.drift] == ["point_in_time_recovery"]
    assert [(i.attribute, i.declared, i.live, i.reason, i.until) for i in found.ignored] == [
        ("tags.CostCenter", "42", "99", "set by finance", until)
    ]
    assert report.exit_code == 2

    # Accept the PITR drift too: nothing left to alert on, the table is in sync.
    rules.append(rule(TABLE, "point_in_time_recovery", reason="restores go through backups"))
    report = run_scan([target(drifted_repo)], ignore=rules)
    found = row(report, TABLE)
    assert found.status is TableStatus.IN_SYNC and found.drift == () and not found.alerts
    assert report.exit_code == 0
    document = report_to_dict(report)
    assert document["summary"]["in_sync"] == 1
    assert document["tables"][0]["ignored"] == [
        {
            "attribute": "point_in_time_recovery",
            "declared": True,
            "live": False,
            "reason": "restores go through backups",
            "until": None,
        },
        {
            "attribute": "tags.CostCenter",
            "declared": "42",
            "live": "99",
            "reason": "set by finance",
            "until": until.isoformat(),
        },
    ]
    assert document["tables"][0]["alert"] is False
    text = StringIO()
    render_text(report, Console(file=text, width=200))
    assert "ignored tags.CostCenter: 42 -> 99 (set by finance, until " in text.getvalue()
    assert "ignored point_in_time_recovery: true -> false (restores go through backups)" in text.getvalue()


def test_an_expired_rule_stops_applying_and_is_reported(drifted_repo: Path) -> None:
    expired = rule(TABLE, "tags.CostCenter", until=TODAY, reason="set by finance")  # expired today, 00:00 UTC
    report = run_scan([target(drifted_repo)], ignore=[expired, rule(TABLE, "point_in_time_recovery")])

    found = row(report, TABLE)
    assert found.status is TableStatus.DRIFTED
    assert [d.attribute for d in found.drift] == ["tags.CostCenter"]
    assert [i.attribute for i in found.ignored] == ["point_in_time_recovery"]
    assert report.expired_ignore_rules == (expired,)
    assert report_to_dict(report)["ignore_rules_expired"] == [
        {
            "table": TABLE,
            "attribute": "tags.CostCenter",
            "reason": "set by finance",
            "until": TODAY.isoformat(),
        }
    ]
    text = StringIO()
    render_text(report, Console(file=text, width=200))
    assert (
        "expired ignore rule, no longer applied: table 'acme-prod-orders', attribute 'tags.CostCenter'"
        in (text.getvalue())
    )


def test_metrics_count_ignored_drift_and_expired_rules(drifted_repo: Path) -> None:
    rules = [rule(TABLE, "tags.*"), rule(TABLE, "table_class", until=TODAY - timedelta(days=3))]
    report = run_scan([target(drifted_repo)], ignore=rules)
    metrics = DriftwatchMetrics(version="test")
    metrics.observe_scan(
        report, first_seen={}, result="success", duration_seconds=1, started_at=report.generated_at
    )

    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(metrics.render().decode())
        for s in family.samples
    }
    labels = (("region", REGION), ("table", TABLE), ("target", "prod"))
    assert samples[("driftwatch_ignored_drift", (("attribute", "tags.CostCenter"), *labels))] == 1
    assert ("driftwatch_attribute_drift", (("attribute", "tags.CostCenter"), *labels)) not in samples
    assert samples[("driftwatch_attribute_drift", (("attribute", "point_in_time_recovery"), *labels))] == 1
    assert samples[("driftwatch_ignore_rules_expired", ())] == 1


def test_a_deleted_table_is_missing_despite_a_rule_accepting_all_its_drift(
    embedded_aws: None, tmp_path: Path
) -> None:
    repo = write_repo(tmp_path / "repo", {"main.tf": table_tf(TABLE)})  # never created: missing
    accepting = [rule("acme-*", reason="the team owns these settings")]

    report = run_scan([target(repo)], ignore=accepting)
    found = row(report, TABLE)
    assert found.status is TableStatus.MISSING and found.alerts
    assert [d.attribute for d in found.drift] == ["table"] and found.ignored == ()
    assert report.exit_code == 2

    named = run_scan([target(repo)], ignore=[rule("acme-*", "table", reason="retired on purpose")])
    found = row(named, TABLE)
    assert found.status is TableStatus.IN_SYNC and [i.attribute for i in found.ignored] == ["table"]
    assert named.exit_code == 0


# --------------------------------------------------------------------------- history and Slack


def test_history_never_alerts_ignored_drift_and_resolves_an_episode_as_ignored(drifted_repo: Path) -> None:
    history = History.open(":memory:")
    first = history.record_scan(run_scan([target(drifted_repo)]))
    assert {(t.kind, t.attribute) for t in first} == {
        (TransitionKind.NEW, "point_in_time_recovery"),
        (TransitionKind.NEW, "tags.CostCenter"),
    }

    later = history.record_scan(run_scan([target(drifted_repo)], ignore=[rule(TABLE, "tags.*")]))

    assert [(t.kind, t.attribute, t.reason) for t in later] == [
        (TransitionKind.RESOLVED, "tags.CostCenter", ResolveReason.IGNORED.value)
    ]
    assert history.record_scan(run_scan([target(drifted_repo)], ignore=[rule(TABLE, "tags.*")])).items == ()


def _daemon_config(repo: Path, tmp_path: Path, ignore: list[dict[str, Any]]) -> Any:
    return parse_config(
        {
            "repo": str(repo),
            "targets": [{"name": "prod", "root": ".", "region": REGION}],
            "state": {"path": str(tmp_path / "state.db")},
            "http": {"host": "127.0.0.1", "port": free_port()},
            "ignore": ignore,
        }
    )


def test_the_daemon_announces_an_expired_rule_once_even_across_restarts(
    drifted_repo: Path, tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    environ = {"DRIFTWATCH_SLACK_WEBHOOK_URL": httpserver.url_for("/hook")}
    ignore = [
        {"table": TABLE, "attribute": "tags.CostCenter", "reason": "set by finance", "until": TODAY},
        {"table": TABLE, "attribute": "point_in_time_recovery", "reason": "backups", "until": "2999-01-01"},
    ]

    with structlog.testing.capture_logs() as logs:
        for _ in range(2):  # two daemon lives (a restart in between), two scans each
            daemon = Daemon(_daemon_config(drifted_repo, tmp_path, ignore), tmp_path, environ=environ)
            daemon.endpoint.start()
            try:
                daemon.scan_once()
                daemon.scan_once()
            finally:
                daemon.endpoint.stop()
                daemon.history.close()

    expired_logs = [entry for entry in logs if entry["event"] == "ignore_rule_expired"]
    assert [(e["table"], e["attribute"], e["until"]) for e in expired_logs] == [
        (TABLE, "tags.CostCenter", TODAY.isoformat())
    ]

    payloads = [json.loads(request.get_data()) for request, _ in httpserver.log]
    expired = [p for p in payloads if "ignore rule(s) expired" in p["text"]]
    assert len(expired) == 1
    assert "tags.CostCenter" in expired[0]["text"] and "set by finance" in expired[0]["text"]
    # The drift the rule accepted is alerted again (once); the unexpired rule's is not.
    alerted = " ".join(p["text"] for p in payloads if p not in expired)
    assert "tags.CostCenter" in alerted and "point_in_time_recovery" not in alerted


def test_validate_lists_rules_that_expire_within_14_days(
    aws_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = write_repo(tmp_path / "repo", {"main.tf": table_tf(TABLE)})
    config = {
        "repo": str(repo),
        "targets": [{"name": "prod", "root": ".", "region": REGION}],
        "ignore": [
            {
                "table": "a",
                "attribute": "tags.A",
                "reason": "soon",
                "until": (TODAY + timedelta(days=3)).isoformat(),
            },
            {
                "table": "b",
                "attribute": "tags.B",
                "reason": "later",
                "until": (TODAY + timedelta(days=60)).isoformat(),
            },
            {
                "table": "c",
                "attribute": "tags.C",
                "reason": "gone",
                "until": (TODAY - timedelta(days=1)).isoformat(),
            },
            {"table": "d", "attribute": "tags.D", "reason": "forever"},
        ],
    }
    path = tmp_path / "driftwatch.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")

    assert main(["validate", "--config", str(path)]) == 0

    out = capsys.readouterr().out
    assert (
        f"ignore.0: expires on {TODAY + timedelta(days=3)} (in 3 days): table 'a', attribute 'tags.A'" in out
    )
    assert f"ignore.2: expired on {TODAY - timedelta(days=1)}, no longer applied: table 'c'" in out
    assert "ignore.1" not in out and "ignore.3" not in out
    assert "1 target, 1 table declared, 0 errors" in out
