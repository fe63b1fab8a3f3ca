"""One table name in two regions of one target: two tables, two histories.

DynamoDB table names are regional, so a root very often declares the same name twice (a module
called once per region, or two provider aliases). Each is its own table: its drift opens, is
seen and is fixed on its own, and Slack names the region it happened in. These tests go the
daemon's way -- ``History.record_scan`` with a ``SlackNotifier`` registered -- and read what
was queued for Slack; the last ones open a database written by the schema before the region
was part of an episode's identity.
"""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from realestate import provision, run_scan, table_tf, target, write_repo

from driftwatch.history import SCHEMA_VERSION, History, Transitions
from driftwatch.history.store import MIGRATIONS
from driftwatch.metrics import DriftwatchMetrics
from driftwatch.notify.slack import SlackNotifier
from driftwatch.report.history import render_history
from driftwatch.spec import Drift, ScanReport, SourceLocation, TableResult, TableStatus, TargetError

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PITR = "point_in_time_recovery"
US, EU = "us-east-1", "eu-west-1"
ADDRESS = {US: "module.us.aws_dynamodb_table.orders", EU: "module.eu.aws_dynamodb_table.orders"}


def orders(region: str, *drift: tuple[str, Any, Any], status: TableStatus | None = None) -> TableResult:
    """The table ``orders`` of target ``prod`` as declared by the module call for ``region``."""
    if status is None:
        status = TableStatus.DRIFTED if drift else TableStatus.IN_SYNC
    return TableResult(
        target="prod",
        address=ADDRESS[region],
        source=SourceLocation("modules/orders/main.tf", 1),
        table_name="orders",
        region=region,
        status=status,
        drift=tuple(Drift(a, d, live) for a, d, live in drift),
        error="AccessDenied" if status is TableStatus.ERROR else None,
    )


def scan(*rows: TableResult, minutes: int = 0, errors: tuple[TargetError, ...] = ()) -> ScanReport:
    # Rows in the scan's own order (by address): eu before us.
    ordered = tuple(sorted(rows, key=lambda r: r.address or ""))
    return ScanReport(
        generated_at=T0 + timedelta(minutes=minutes), commit="c0ffee", tables=ordered, errors=errors
    )


def said(transitions: Transitions) -> list[tuple[str, str | None, str, str | None]]:
    return sorted((t.kind.value, t.region, t.attribute, t.reason) for t in transitions)


@pytest.fixture
def history(tmp_path: Path) -> Iterator[History]:
    with History.open(tmp_path / "state.db") as h:
        SlackNotifier("http://127.0.0.1:9/hook", h)  # queues only: nothing is sent here
        yield h


def slack_texts(history: History) -> list[str]:
    """The plain text of every Slack block queued so far, message by message."""
    messages = history.pending("slack", T0 + timedelta(days=1), limit=100)
    return [json.dumps(m.payload["blocks"], ensure_ascii=False) for m in messages]


def test_drift_moving_from_one_region_to_the_other_is_a_fix_and_a_new_drift(history: History) -> None:
    """us drifts, eu is in sync; then us is fixed and eu drifts the same way. One name, but the
    us fix and the eu drift are both news: never silence while eu drifts."""
    first = history.record_scan(scan(orders(US, (PITR, True, False)), orders(EU)))
    assert said(first) == [("new", US, PITR, None)]
    again = history.record_scan(scan(orders(US, (PITR, True, False)), orders(EU), minutes=5))
    assert said(again) == []
    moved = history.record_scan(scan(orders(US), orders(EU, (PITR, True, False)), minutes=10))
    assert said(moved) == [("new", EU, PITR, None), ("resolved", US, PITR, "fixed")]
    open_ = history.episodes(open_only=True)
    assert [(e.region, e.attribute, e.first_seen) for e in open_] == [(EU, PITR, T0 + timedelta(minutes=10))]
    last = slack_texts(history)[-1]
    assert "New drift" in last and "Resolved drift" in last
    new_part, resolved_part = last.split("Resolved drift")
    assert EU in new_part and US not in new_part
    assert US in resolved_part and EU not in resolved_part


def test_the_same_drift_in_both_regions_opens_two_episodes_and_one_fix_closes_one(
    history: History,
) -> None:
    both = history.record_scan(scan(orders(US, (PITR, True, False)), orders(EU, (PITR, True, False))))
    assert said(both) == [("new", EU, PITR, None), ("new", US, PITR, None)]
    eu_fixed = history.record_scan(scan(orders(US, (PITR, True, False)), orders(EU), minutes=5))
    assert said(eu_fixed) == [("resolved", EU, PITR, "fixed")]
    assert [e.region for e in history.episodes(open_only=True)] == [US]
    text = slack_texts(history)[-1]
    assert EU in text and US not in text  # "fixed" names the region that was fixed, only it
    # The drift age of each region is its own (the /metrics drift-age gauge reads this).
    assert history.first_seen_map() == {("prod", US, "orders", PITR): T0}


def test_one_region_unreadable_keeps_its_own_drift_and_not_the_other_regions(history: History) -> None:
    history.record_scan(scan(orders(US, (PITR, True, False)), orders(EU, (PITR, True, False))))
    # us cannot be read (no news about it); eu was read and is fixed: that fix is announced.
    later = history.record_scan(scan(orders(US, status=TableStatus.ERROR), orders(EU), minutes=5))
    assert said(later) == [("resolved", EU, PITR, "fixed")]
    assert [e.region for e in history.episodes(open_only=True)] == [US]


def test_a_missing_table_in_one_region_does_not_supersede_the_other_regions_drift(
    history: History,
) -> None:
    history.record_scan(scan(orders(US), orders(EU, (PITR, True, False))))
    # eu's drift is fixed in the same scan that finds the us table gone: a fix, not "superseded".
    later = history.record_scan(
        scan(orders(US, ("table", "orders", None), status=TableStatus.MISSING), orders(EU), minutes=5)
    )
    assert said(later) == [("missing", US, "table", None), ("resolved", EU, PITR, "fixed")]
    text = slack_texts(history)[-1]
    missing_part = text.split("Resolved drift")[0]
    assert "closed: the table itself is missing" not in missing_part


def drift_ages(history: History, report: ScanReport) -> dict[str, float]:
    """What the daemon does after each scan: history first, then /metrics from what it holds
    open; returns region -> the drift-age gauge (first seen) of ``orders``' PITR drift."""
    history.record_scan(report)
    metrics = DriftwatchMetrics(version="test")
    metrics.observe_scan(
        report,
        first_seen=history.first_seen_map(),
        open_tables=history.open_tables(),
        result="success",
        duration_seconds=1,
        started_at=report.generated_at,
    )
    return {
        line.split("region=")[1].split('"')[1]: float(line.rsplit(" ", 1)[1])
        for line in metrics.render().decode().splitlines()
        if line.startswith("driftwatch_drift_first_seen_timestamp_seconds{")
    }


def test_metrics_keep_each_regions_drift_age(history: History) -> None:
    """/metrics' drift-age gauge of each region is that region's own first sighting, and a
    region that cannot be read keeps its own drift series only."""
    assert drift_ages(history, scan(orders(US, (PITR, True, False)), orders(EU))) == {US: T0.timestamp()}
    both = scan(orders(US, (PITR, True, False)), orders(EU, (PITR, True, False)), minutes=30)
    assert drift_ages(history, both) == {US: T0.timestamp(), EU: (T0 + timedelta(minutes=30)).timestamp()}
    us_unread = scan(orders(US, status=TableStatus.ERROR), orders(EU), minutes=60)
    assert drift_ages(history, us_unread) == {US: T0.timestamp()}


# --- a database written before the region was part of an episode's identity ----------------------


def _old_database(path: Path, episodes: list[tuple[str | None, str | None]]) -> None:
    """A database at schema version 3 (the last without the region in the open-episode index),
    built with that version's own DDL, holding open ``(region, resolved_at)`` episodes of
    prod/orders/PITR."""
    raw = sqlite3.connect(path)
    try:
        for step in MIGRATIONS[:3]:
            for statement in step:
                raw.execute(statement)
        raw.execute("PRAGMA user_version = 3")
        stamp = "2026-02-01T00:00:00.000000Z"
        for region, resolved in episodes:
            raw.execute(
                "INSERT INTO episodes (target, table_name, attribute, region, address, declared, live, "
                "first_seen, last_seen, resolved_at, last_notified_at) "
                "VALUES ('prod', 'orders', ?, ?, 'module.x', 'true', 'false', ?, ?, ?, ?)",
                (PITR, region, stamp, stamp, resolved, stamp),
            )
        raw.commit()
    finally:
        raw.close()


def test_migration_keeps_an_open_episode_under_its_stored_region(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _old_database(path, [(US, None), (US, "2026-02-02T00:00:00.000000Z")])
    with History.open(path) as history:
        assert history.schema_version == SCHEMA_VERSION
        SlackNotifier("http://127.0.0.1:9/hook", history)
        (episode,) = history.episodes(open_only=True)
        assert episode.region == US
        # Still drifting in us, and eu drifts too: us is the same episode (no re-announcement),
        # eu is new.
        found = history.record_scan(scan(orders(US, (PITR, True, False)), orders(EU, (PITR, True, False))))
        assert said(found) == [("new", EU, PITR, None)]
        regions = {e.region: e.first_seen for e in history.episodes(open_only=True)}
        assert regions == {US: datetime(2026, 2, 1, tzinfo=UTC), EU: T0}


def test_migration_keeps_an_open_episode_without_a_region_matching_its_table(tmp_path: Path) -> None:
    """An episode stored without a region (its region was not known) is never lost: it goes on
    matching the drift of its (target, table, attribute) in whichever region, and takes that
    region; the same drift in a second region is a second episode."""
    path = tmp_path / "old.db"
    _old_database(path, [(None, None)])
    with History.open(path) as history:
        (episode,) = history.episodes(open_only=True)
        assert episode.region is None
        found = history.record_scan(scan(orders(US), orders(EU, (PITR, True, False))))
        assert said(found) == []  # the same drift, still open: no news
        (episode,) = history.episodes(open_only=True)
        assert (episode.region, episode.first_seen) == (EU, datetime(2026, 2, 1, tzinfo=UTC))
        both = history.record_scan(
            scan(orders(US, (PITR, True, False)), orders(EU, (PITR, True, False)), minutes=5)
        )
        assert said(both) == [("new", US, PITR, None)]


def test_migration_closes_a_regionless_episode_only_when_no_region_still_drifts(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _old_database(path, [(None, None)])
    with History.open(path) as history:
        fixed = history.record_scan(scan(orders(US), orders(EU)))
        assert said(fixed) == [("resolved", None, PITR, "fixed")]
        assert history.episodes(open_only=True) == []


def test_slack_shows_a_closed_drift_under_its_own_regions_missing_table(history: History) -> None:
    history.record_scan(scan(orders(US, (PITR, True, False)), orders(EU)))
    gone = ("table", "orders", None)
    both_missing = scan(
        orders(US, gone, status=TableStatus.MISSING), orders(EU, gone, status=TableStatus.MISSING), minutes=5
    )
    assert said(history.record_scan(both_missing)) == [
        ("missing", EU, "table", None),
        ("missing", US, "table", None),
        ("superseded", US, PITR, "superseded"),
    ]
    sections = [
        block["text"]["text"]
        for message in history.pending("slack", T0 + timedelta(days=1), limit=100)[-1:]
        for block in message.payload["blocks"]
        if block.get("type") == "section" and "declared in git but not found" in block["text"]["text"]
    ]
    by_region = {region: [s for s in sections if f"`{region}`" in s] for region in (US, EU)}
    assert len(by_region[US]) == len(by_region[EU]) == 1
    assert "closed: the table itself is missing" in by_region[US][0]
    assert "closed" not in by_region[EU][0]


def test_slack_plain_text_names_the_region(history: History) -> None:
    """The plain ``text`` (push notifications) tells the two regions' tables apart too."""
    history.record_scan(scan(orders(US), orders(EU, (PITR, True, False))))
    (message,) = history.pending("slack", T0 + timedelta(days=1))
    assert f"new: prod/orders {PITR} in {EU}:" in message.payload["text"]


def test_driftwatch_history_names_each_episodes_region(history: History) -> None:
    history.record_scan(scan(orders(US, (PITR, True, False)), orders(EU, (PITR, True, False))))
    out = io.StringIO()
    render_history(history.episodes(open_only=True), "text", out)
    assert f"orders (prod, {US})" in out.getvalue() and f"orders (prod, {EU})" in out.getvalue()


# --- the whole way: a root calling one module per region, scanned against the embedded AWS -------

ROOT = """
provider "aws" {
  alias  = "us"
  region = "us-east-1"
}
provider "aws" {
  alias  = "eu"
  region = "eu-west-1"
}
module "us" {
  source    = "./orders"
  providers = { aws = aws.us }
}
module "eu" {
  source    = "./orders"
  providers = { aws = aws.eu }
}
"""


def set_pitr(region: str, enabled: bool) -> None:
    boto3.client("dynamodb", region_name=region).update_continuous_backups(
        TableName="orders", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": enabled}
    )


def test_a_module_called_once_per_region_has_two_tables_from_scan_to_slack(
    embedded_aws: None, tmp_path: Path, history: History
) -> None:
    repo = write_repo(tmp_path / "repo", {"main.tf": ROOT, "orders/main.tf": table_tf("orders")})
    targets = [target(repo, "prod")]
    provision(targets)
    set_pitr(US, False)
    first = run_scan(targets)
    assert sorted((r.region, r.status.value) for r in first.tables) == [(EU, "in_sync"), (US, "drifted")]
    assert said(history.record_scan(first)) == [("new", US, PITR, None)]
    set_pitr(US, True)
    set_pitr(EU, False)
    moved = history.record_scan(run_scan(targets))
    assert said(moved) == [("new", EU, PITR, None), ("resolved", US, PITR, "fixed")]
    text = history.pending("slack", T0 + timedelta(days=1))[-1].payload["text"]
    assert f"new: prod/orders {PITR} in {EU}:" in text and f"resolved: prod/orders {PITR} in {US}:" in text
