"""Alerting rules, their runbook, and the Grafana dashboard.

- ``promtool check rules`` is clean for the plain rule file and for the PrometheusRule's spec,
  which must hold exactly the same groups;
- ``promtool test rules`` passes, its tests cover every alert both firing and not firing, and
  they are sharp enough to fail when a threshold changes;
- every alert has a severity, a summary, a description naming the table (and the attribute,
  for drift), and a runbook link to a section that exists in docs/runbook.md;
- every metric that a rule or a dashboard panel queries is one that driftwatch exports, found
  by rendering a real ``DriftwatchMetrics`` after a scan with drift, missing tables, errors,
  AWS calls and notifications; the dashboard's PromQL parses (promtool) and its panels cover
  drift now, drift by attribute, drift age, scan duration and failures, and AWS API errors.

promtool comes from Debian's prometheus package (.ci/run installs it); without it the promtool
tests skip with that reason, and the rest still run.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from driftwatch.aws.calls import ApiCallRecorder
from driftwatch.metrics import DriftwatchMetrics
from driftwatch.spec import Drift, IgnoredDrift, ScanReport, TableResult, TableStatus, TargetError, Unresolved

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "deploy" / "prometheus" / "driftwatch-rules.yaml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "driftwatch-rules.test.yaml"
PROMETHEUS_RULE = ROOT / "deploy" / "kubernetes" / "base" / "prometheusrule.yaml"
DASHBOARD = ROOT / "deploy" / "grafana" / "driftwatch.json"
RUNBOOK = ROOT / "docs" / "runbook.md"
RUNBOOK_URL = "https://github.com/acme/driftwatch/blob/main/docs/runbook.md"
# Synthesised by Prometheus for every target, not exported by driftwatch.
PROMETHEUS_SERIES = {"up"}


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.skip("promtool is not installed (Debian package prometheus; .ci/run installs it)")
    return found


def run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@cache
def alerts() -> tuple[dict[str, Any], ...]:
    return tuple(rule for group in load_yaml(RULES)["groups"] for rule in group["rules"] if "alert" in rule)


def alert(name: str) -> dict[str, Any]:
    return next(rule for rule in alerts() if rule["alert"] == name)


# --- PromQL metric names -------------------------------------------------------------------------

_CLAUSE = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_KEYWORDS = {
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
}


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects (identifiers that are not functions or keywords)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # range selectors
    text = _CLAUSE.sub("", text)  # by (...), on (...), ...
    names = set()
    for match in re.finditer(r"(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*", text):
        if text[match.end() :].lstrip().startswith("(") or match.group() in _KEYWORDS:
            continue  # a function call or an operator keyword
        names.add(match.group())
    return names


def test_metric_names_extraction() -> None:
    expr = (
        'time() - (x_seconds{a="b"} > 0 or on (job, instance) process_start_time_seconds) > 3 * 5 * 60 '
        'and sum by (le) (rate(h_bucket{t=~"$target"}[$__rate_interval])) unless absent(up{job="d"})'
    )
    assert metric_names(expr) == {"x_seconds", "process_start_time_seconds", "h_bucket", "up"}


@cache
def exported_series() -> frozenset[str]:
    """Every sample name /metrics shows after a scan that exercised every family."""
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    recorder = ApiCallRecorder()
    recorder.record("DescribeTable", "success")
    recorder.record("DescribeTable", "AccessDeniedException")
    metrics = DriftwatchMetrics(version="0.1.0", recorder=recorder)

    def row(table: str, status: TableStatus, drift: tuple[str, ...] = ()) -> TableResult:
        return TableResult(
            target="prod",
            address=f"module.{table}",
            source=None,
            table_name=table,
            region="us-east-1",
            status=status,
            drift=tuple(Drift(attribute, "git", "aws") for attribute in drift),
            unresolved=(Unresolved("sse.kms_key_arn", "var.kms_key_arn has no value"),),
            error="AccessDeniedException" if status is TableStatus.ERROR else None,
        )

    report = ScanReport(
        generated_at=now,
        commit="c0ffee",
        tables=(
            row("orders", TableStatus.DRIFTED, ("point_in_time_recovery", "tags.Team")),
            row("sessions", TableStatus.MISSING, ("table",)),
            row("audit", TableStatus.ERROR),
            row("users", TableStatus.IN_SYNC),
            dataclasses.replace(
                row("carts", TableStatus.IN_SYNC),
                ignored=(IgnoredDrift("tags.CostCenter", "a", "b", "set by finance"),),
            ),
            row("invoices", TableStatus.PENDING),
            dataclasses.replace(row("scratch", TableStatus.UNMANAGED), address=None),
        ),
        errors=(TargetError("staging", "unexpected end of file", "envs/staging/main.tf", 40),),
    )
    metrics.scan_started(now)
    metrics.observe_scan(
        report,
        first_seen={("prod", "us-east-1", "orders", "point_in_time_recovery"): now - timedelta(hours=2)},
        result="partial",
        duration_seconds=3.2,
        started_at=now,
    )
    metrics.notification_channel("slack")
    metrics.notification("slack", "success")
    metrics.observe_outbox("slack", pending=1, sent=3, dropped=0, oldest_pending=now - timedelta(minutes=3))
    names = set()
    for family in text_string_to_metric_families(metrics.render().decode()):
        names.update(sample.name for sample in family.samples)
    return frozenset(names)


# --- rules ---------------------------------------------------------------------------------------


def test_prometheusrule_holds_the_rule_file_groups() -> None:
    rule = load_yaml(PROMETHEUS_RULE)
    assert rule["apiVersion"] == "monitoring.coreos.com/v1" and rule["kind"] == "PrometheusRule"
    assert set(rule) == {"apiVersion", "kind", "metadata", "spec"} and set(rule["spec"]) == {"groups"}
    assert rule["spec"] == load_yaml(RULES), (
        "deploy/prometheus/driftwatch-rules.yaml and the PrometheusRule differ"
    )


def test_promtool_check_rules(tmp_path: Path) -> None:
    spec = tmp_path / "prometheusrule-spec.yaml"
    spec.write_text(yaml.safe_dump(load_yaml(PROMETHEUS_RULE)["spec"]), encoding="utf-8")
    for path in (RULES, spec):
        result = run([promtool(), "check", "rules", str(path)])
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"SUCCESS: {len(alerts())} rules found" in result.stdout


def test_promtool_unit_tests_pass() -> None:
    result = run([promtool(), "test", "rules", str(RULE_TESTS)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_unit_tests_cover_every_alert_firing_and_not_firing() -> None:
    tests = load_yaml(RULE_TESTS)
    assert tests["rule_files"] == [RULES.name]
    firing, quiet = set(), set()
    for case in tests["tests"]:
        for check in case.get("alert_rule_test", []):
            (firing if check["exp_alerts"] else quiet).add(check["alertname"])
    names = {rule["alert"] for rule in alerts()}
    assert firing == names, f"never tested firing: {names - firing}"
    assert quiet == names, f"never tested not firing: {names - quiet}"


@pytest.mark.parametrize(
    ("alertname", "old", "new"),
    [
        ("DriftwatchTableDrifted", "> 30 * 60", "> 45 * 60"),
        ("DriftwatchTableDrifted", "unless on", "or on"),
        ("DriftwatchScansStale", "> 3 * 5 * 60", "> 3 * 10 * 60"),
        ("DriftwatchOutboxBacklogOld", "> 30 * 60", "> 60 * 60"),
        # Failures counted over a window again: the hourly retries of a long outage page hourly.
        (
            "DriftwatchSlackDeliveryFailing",
            "driftwatch_outbox_oldest_pending_attempts",
            "driftwatch_outbox_messages",
        ),
        # A new pod's first failure, before the first scrape, would go unsaid again.
        ("DriftwatchScanFailing", "< 15 * 60", "< 1 * 60"),
    ],
)
def test_unit_tests_fail_when_a_rule_changes(tmp_path: Path, alertname: str, old: str, new: str) -> None:
    """The unit tests are sharp: a longer grace period, or missing tables counted as drift, fail them."""
    rules = load_yaml(RULES)
    for group in rules["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == alertname:
                assert old in rule["expr"]
                rule["expr"] = rule["expr"].replace(old, new)
    (tmp_path / RULES.name).write_text(yaml.safe_dump(rules), encoding="utf-8")
    shutil.copy(RULE_TESTS, tmp_path / RULE_TESTS.name)
    result = run([promtool(), "test", "rules", str(tmp_path / RULE_TESTS.name)])
    output = result.stdout + result.stderr
    assert result.returncode != 0 and f"alertname: {alertname}" in output, output


def runbook_anchors() -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    anchors = set()
    for line in RUNBOOK.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", title)))
    return anchors


@pytest.mark.parametrize("name", [rule["alert"] for rule in alerts()])
def test_alert_has_severity_summary_description_and_runbook(name: str) -> None:
    rule = alert(name)
    assert rule["labels"]["severity"] in {"critical", "warning"}
    annotations = rule["annotations"]
    assert set(annotations) == {"summary", "description", "runbook_url"}
    assert len(annotations["summary"]) <= 100
    per_table = "table" in rule["expr"] or "driftwatch_table_" in rule["expr"]
    if per_table:
        assert "{{ $labels.table }}" in annotations["description"]
        assert "{{ $labels.target }}" in annotations["description"]
    if "driftwatch_drift_first_seen_timestamp_seconds" in rule["expr"]:
        # Drift alerts name the attribute (the missing-table alert's attribute is always "table").
        assert (
            "{{ $labels.attribute }}" in annotations["description"]
            or "attribute table" in annotations["description"]
        )
    base, _, anchor = annotations["runbook_url"].partition("#")
    assert base == RUNBOOK_URL
    assert anchor == name.lower() and anchor in runbook_anchors(), f"docs/runbook.md has no section {name}"


# --- dashboard -----------------------------------------------------------------------------------


@cache
def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def panels() -> list[dict[str, Any]]:
    return [p for p in dashboard()["panels"] if p["type"] != "row"]


def dashboard_exprs() -> list[tuple[str, str]]:
    return [(f"{p['title']}/{t['refId']}", t["expr"]) for p in panels() for t in p["targets"]]


def test_rules_and_dashboard_query_only_exported_metrics() -> None:
    exported = exported_series() | PROMETHEUS_SERIES
    queries = [(rule["alert"], rule["expr"]) for rule in alerts()] + dashboard_exprs()
    for variable in dashboard()["templating"]["list"]:
        if variable["type"] == "query":
            match = re.fullmatch(r"label_values\((\w+),\s*(\w+)\)", variable["definition"])
            assert match, variable["definition"]
            queries.append((f"${variable['name']}", match[1]))
    unknown = {
        f"{where}: {name}" for where, expr in queries for name in metric_names(expr) if name not in exported
    }
    assert not unknown, f"not exported by driftwatch: {sorted(unknown)}"
    used = {name for _, expr in queries for name in metric_names(expr)}
    assert sum(name.startswith("driftwatch_") for name in used) >= 10


def test_dashboard_promql_parses(tmp_path: Path) -> None:
    """Each panel query, with Grafana's variables filled in, is valid PromQL to promtool."""
    rules = [
        {
            "record": f"dashboard:query_{index}",
            "expr": expr.replace("$__rate_interval", "5m").replace("$target", ".*"),
        }
        for index, (_, expr) in enumerate(dashboard_exprs())
    ]
    path = tmp_path / "dashboard-queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}), encoding="utf-8")
    result = run([promtool(), "check", "rules", str(path)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_dashboard_covers_what_an_operator_needs() -> None:
    by_title = {p["title"]: {n for t in p["targets"] for n in metric_names(t["expr"])} for p in panels()}

    def shown(metric: str) -> bool:
        return any(metric in names for names in by_title.values())

    assert shown("driftwatch_table_drifted")  # drifted tables now
    assert shown("driftwatch_attribute_drift")  # drift by attribute
    assert shown("driftwatch_drift_first_seen_timestamp_seconds")  # drift age
    assert shown("driftwatch_scan_duration_seconds_bucket")  # scan duration
    assert shown("driftwatch_scans_total")  # scan failures
    assert shown("driftwatch_not_watched")  # what is not watched (attributes not compared too)
    aws = [p for p in panels() if "driftwatch_aws_api_calls_total" in by_title[p["title"]]]
    assert any('outcome!="success"' in t["expr"] for p in aws for t in p["targets"])  # AWS API errors


def test_dashboard_is_well_formed() -> None:
    board = dashboard()
    assert board["uid"] == "driftwatch" and board["title"]
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert (
        variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    )
    cells: dict[tuple[int, int], str] = {}
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]
    for panel in panels():
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"] and panel["description"], panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]
        # Per-table series are filtered by the target variable.
        for target in panel["targets"]:
            names = metric_names(target["expr"])
            if names & {"driftwatch_table_drifted", "driftwatch_attribute_drift", "driftwatch_tables"}:
                assert 'target=~"$target"' in target["expr"], panel["title"]


def test_runbook_documents_each_alert_once() -> None:
    text = RUNBOOK.read_text(encoding="utf-8")
    for rule in alerts():
        assert text.count(f"## {rule['alert']}\n") == 1, rule["alert"]


def test_every_alert_the_docs_name_exists() -> None:
    """The reverse: a runbook section (or a README or docs/ mention) of an alert renamed or
    removed from the rules would send an operator looking for an alert that never fires."""
    names = {rule["alert"] for rule in alerts()}
    sections = re.findall(r"^## (Driftwatch\w+)$", RUNBOOK.read_text(encoding="utf-8"), re.MULTILINE)
    assert sections and set(sections) <= names
    for doc in (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))):
        mentioned = set(re.findall(r"\b(Driftwatch[A-Z]\w+)", doc.read_text(encoding="utf-8")))
        assert mentioned <= names, f"{doc.name} names alerts the rules do not have: {mentioned - names}"


def test_the_runbook_lists_which_alerts_keep_firing_as_the_rules_say() -> None:
    """The runbook's opening says which alerts resolve 10 minutes late (``keep_firing_for``) and
    which keep ``instance``; an alert given or relieved of the delay without that list following
    would tell an operator a fix has not worked, or that a resolved page is final."""
    opening = RUNBOOK.read_text(encoding="utf-8").split("\n## Driftwatch", 1)[0]
    delayed_part, _, kept_part = opening.partition("Slack's own")
    listed_delayed = set(re.findall(r"`(Driftwatch\w+)`", delayed_part))
    listed_kept = set(re.findall(r"`(Driftwatch\w+)`", kept_part.partition("keep `instance`")[0]))
    delayed = {rule["alert"]: rule["keep_firing_for"] for rule in alerts() if "keep_firing_for" in rule}
    assert "then 10 minutes later\n(`keep_firing_for`)" in delayed_part
    assert set(delayed.values()) == {"10m"}
    assert listed_delayed == set(delayed)
    assert listed_kept == {rule["alert"] for rule in alerts()} - set(delayed)
