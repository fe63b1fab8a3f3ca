"""The daemon over several cycles and restarts (driftwatch.daemon): what Slack, /metrics and
the history say after the config or the checkout changes under it. In-process: moto, a local
repository, Slack a local HTTP stub, no endpoint port; each scan is the daemon's own."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import structlog
from pytest_httpserver import HTTPServer
from realestate import REGION, provision, table_tf, target, write_repo

import driftwatch.daemon as daemon_module
from driftwatch.config import parse_config
from driftwatch.daemon import Daemon
from driftwatch.history import History, HistoryError, Transition, TransitionKind
from driftwatch.metrics import DriftwatchMetrics
from driftwatch.notify.slack import build_message, build_reminder
from driftwatch.report.history import render_history
from driftwatch.spec import Drift, NotEvaluated, TableStatus
from tests.test_daemon_faults import PITR_SERIES, NoEndpoint, make_daemon
from tests.test_daemon_shutdown import drifted_report
from tests.test_outbox_alerting import samples

TTL_SERIES = (PITR_SERIES[0], tuple(sorted({**dict(PITR_SERIES[1]), "attribute": "ttl.enabled"}.items())))
SCANS_FAILED = ("driftwatch_scans_total", (("result", "failure"),))
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
T_LATER = datetime(2099, 1, 1, tzinfo=UTC)  # a later scan's time, far from any first sighting


def _daemon(tmp_path: Path, repo: Path, httpserver: HTTPServer, targets: list[dict[str, Any]]) -> Daemon:
    config = parse_config(
        {
            "repo": str(repo),
            "targets": targets,
            "state": {"path": str(tmp_path / "state.db")},
            "http": {"host": "127.0.0.1", "port": 1},
        }
    )
    return Daemon(config, tmp_path, environ={"DRIFTWATCH_SLACK_WEBHOOK_URL": httpserver.url_for("/hook")})


def _texts(httpserver: HTTPServer) -> list[str]:
    return [json.loads(request.get_data())["text"] for request, _ in httpserver.log]


def test_a_target_removed_from_the_config_says_its_drift_is_no_longer_watched_not_resolved(
    embedded_aws: None, tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Drift open on a target that a restart's config no longer has: the table is still
    declared in git and still drifts in AWS, but nobody compares it any more. It used to be
    announced as "resolved: no longer declared" under a green "Resolved drift"."""
    monkeypatch.setattr(daemon_module, "Endpoint", NoEndpoint)
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    repo = write_repo(tmp_path / "repo", {"a/main.tf": table_tf("t1"), "b/main.tf": table_tf("t2")})
    provision([target(repo, "a", "a"), target(repo, "b", "b")])
    boto3.client("dynamodb", region_name=REGION).tag_resource(
        ResourceArn=f"arn:aws:dynamodb:{REGION}:123456789012:table/t1", Tags=[{"Key": "Team", "Value": "x"}]
    )
    a = {"name": "a", "root": "a", "region": REGION}
    b = {"name": "b", "root": "b", "region": REGION}
    for targets in ([a, b], [b]):  # a restart with "a" removed from the config
        daemon = _daemon(tmp_path, repo, httpserver, targets)
        try:
            daemon.scan_once()
            daemon.deliver()
            metrics = b"".join(daemon.metrics.render_parts()).decode()
            (episode,) = daemon.history.episodes()
        finally:
            daemon.history.close()
    texts = _texts(httpserver)
    assert len(texts) == 2, texts
    assert texts[0].startswith("DynamoDB drift: 1 new")
    assert texts[1] == (
        "DynamoDB drift: 1 no longer watched\n"
        f"no longer watched: a/t1 tags.Team in {REGION}: target no longer configured"
    )
    assert episode.resolved_reason == "target no longer configured"
    assert 'target="a"' not in metrics  # closed in the history: no drift series of "a" left


# --- the state database failing while the daemon runs -------------------------------------------


def test_drift_ages_on_metrics_survive_a_state_database_that_cannot_be_read_or_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The state database locked by another process past the busy timeout (or a volume that
    went read-only, or full) for some scans. The scans are counted as failures, but /metrics
    must not say the drift is younger than it is: DriftwatchTableDrifted fires on
    ``time() - driftwatch_drift_first_seen_timestamp_seconds > 30m``. A failed history read
    used to give every drift this scan's time as its first sighting (every drift alert
    resolved for the outage), and drift first seen while the database could not be written
    was "first seen" anew at every scan (it never alerted)."""
    daemon = make_daemon(tmp_path, monkeypatch, None)
    reports = iter([drifted_report(), drifted_report(), drifted_report(), drifted_report()])
    monkeypatch.setattr(daemon_module, "scan", lambda *args, **kwargs: next(reports))
    try:
        daemon.scan_once()
        before = samples(daemon.metrics)[PITR_SERIES]

        def refused(*args: Any, **kwargs: Any) -> Any:
            raise HistoryError("database is locked")

        other = Drift("ttl.enabled", True, False)
        (row,) = drifted_report().tables
        new_drift = dataclasses.replace(
            drifted_report(), tables=(dataclasses.replace(row, drift=(*row.drift, other)),)
        )
        reports = iter([new_drift, dataclasses.replace(new_drift, generated_at=T_LATER)])
        monkeypatch.setattr(daemon.history, "record_scan", refused)
        daemon.scan_once()  # written: refused; read: fine
        ttl_first = samples(daemon.metrics)[TTL_SERIES]
        monkeypatch.setattr(daemon.history, "first_seen_map", refused)
        monkeypatch.setattr(daemon.history, "open_tables", refused)
        daemon.scan_once()  # neither read nor written
        after = samples(daemon.metrics)
    finally:
        daemon.history.close()
    assert after[SCANS_FAILED] == 2
    assert after[PITR_SERIES] == before
    assert after[TTL_SERIES] == ttl_first < T_LATER.timestamp()


# --- the wall clock set back ---------------------------------------------------------------------


def test_drift_first_seen_while_the_clock_ran_ahead_is_dated_by_the_corrected_clock(tmp_path: Path) -> None:
    """The node's clock ran a day ahead when a drift was first seen, then NTP set it back. The
    episode's first sighting stayed a day in the future: /metrics' drift age was negative, so
    DriftwatchTableDrifted (age > 30 m) stayed silent for a day and a half; its reminder
    waited as long; Slack's "after" read "-1d 23h". A sighting is never later than the scan that
    sees the drift again, and an age is never negative."""
    ahead = T0 + timedelta(days=1)
    with History.open(tmp_path / "state.db") as history:
        history.record_scan(drifted_report(), ahead)
        history.record_scan(drifted_report(), T0)  # the clock is right again
        (first_seen,) = history.first_seen_map().values()
        assert first_seen <= T0
        assert history.due_reminders(T0 + timedelta(hours=24), timedelta(hours=24))
    item = Transition(
        TransitionKind.RESOLVED,
        "prod",
        "t",
        "tags.Team",
        REGION,
        None,
        None,
        "a",
        "b",
        ahead,
        T0,
        reason="fixed",
    )
    message = build_message([item], repo_url=None, commit=None)
    assert message is not None and "fixed after <1m" in json.dumps(message)


# --- Slack channels that change between restarts -------------------------------------------------


def test_messages_queued_for_a_channel_no_longer_configured_are_said_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restart after a slack.routes entry was renamed or removed (or the default webhook
    unset): the messages queued for that channel are never sent. Only the backlog gauge of a
    channel the config no longer names said so, with nothing to tell why. The start now logs
    it at error level (kept: delivered if the channel comes back)."""
    with History.open(tmp_path / "state.db") as history:
        history.add_channel("slack:payments", lambda t: {"text": "drift"}, lambda e, now: None)
        history.record_scan(drifted_report(), T0)
    with structlog.testing.capture_logs() as events:
        daemon = make_daemon(tmp_path, monkeypatch, "http://127.0.0.1:9/hook")
    daemon.history.close()
    said = [e for e in events if e["event"] == "outbox_channel_not_configured"]
    assert [(e["log_level"], e["channel"], e["messages"]) for e in said] == [("error", "slack:payments", 1)]


# --- a scan that fails as a whole ----------------------------------------------------------------


def test_scans_that_fail_as_a_whole_are_said_in_slack_and_so_is_the_recovery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scan that fails as a whole (an exception out of the scan: nothing compared, no
    report) said nothing in Slack, for as many scans as it lasted: only DriftwatchScanFailing
    spoke. The channel's silence read as "in sync". Now it is a "not watched" item like the
    others: announced once it lasts two scans, "watched again" at the next scan that completes;
    what was announced before the failure is neither repeated nor ended by it."""
    daemon = make_daemon(tmp_path, monkeypatch, "http://127.0.0.1:9/hook")
    skipped = dataclasses.replace(
        drifted_report(), not_evaluated=(NotEvaluated("prod", "module.remote", None, "offline"),)
    )

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("worker protocol error")

    steps: list[Any] = [skipped, skipped, crash, crash, crash, skipped, drifted_report()]
    queued: list[list[str]] = []
    try:
        for step in steps:
            monkeypatch.setattr(
                daemon_module, "scan", step if callable(step) else (lambda *a, _r=step, **k: _r)
            )
            before = {m.id for m in daemon.history.undelivered(limit=100)}
            daemon.scan_once()
            queued.append(
                [m.payload["text"] for m in daemon.history.undelivered(limit=100) if m.id not in before]
            )
    finally:
        daemon.history.close()
    coverage = [[t for t in texts if "watched" in t] for texts in queued]
    failed = "not watched: every target: the scan failed: RuntimeError('worker protocol error')"
    module = "prod: module.remote not evaluated: offline"
    assert coverage[:3] == [[], [f"DynamoDB drift: 1 not watched\nnot watched: {module}"], []]
    assert coverage[3] == [f"DynamoDB drift: 1 not watched\n{failed}"]
    assert coverage[4] == []
    again = failed.replace("not watched", "watched again")
    assert coverage[5] == [f"DynamoDB drift: 1 watched again\n{again}"]
    assert coverage[6] == [f"DynamoDB drift: 1 watched again\nwatched again: {module}"]


def test_scan_timestamps_on_metrics_follow_a_wall_clock_that_was_set_back() -> None:
    """A scan that started while the clock ran a day ahead stamped the last (successful) scan a
    day in the future, and the timestamps only ever moved forward: once the clock was set back,
    DriftwatchScansStale (``time() - last_successful_scan > 15m``) could not fire for a day,
    however many scans then failed. The timestamps are the latest scan's start."""
    metrics = DriftwatchMetrics(version="test")
    ahead = T0 + timedelta(days=1)
    for at, result in ((ahead, "success"), (T0, "success"), (T0 + timedelta(minutes=5), "failure")):
        metrics.scan_started(at)
        metrics.observe_scan(None, first_seen={}, result=result, duration_seconds=1, started_at=at)
    found = samples(metrics)
    assert found[("driftwatch_last_successful_scan_timestamp_seconds", ())] == T0.timestamp()
    assert found[("driftwatch_last_scan_timestamp_seconds", ())] == (T0 + timedelta(minutes=5)).timestamp()


# --- reminders of drift nobody could compare since ----------------------------------------------


def test_a_reminder_does_not_say_still_drifting_of_drift_no_scan_could_compare_since(tmp_path: Path) -> None:
    """A reminder said "Still drifting … has not been fixed yet" of every open episode,
    including one whose table no scan could read for a day (AccessDenied, its target failing
    to evaluate): nobody knows whether it was fixed. Such an episode's line now says when it was
    last seen drifting; drift the latest scan saw is reminded as before."""
    later = T0 + timedelta(hours=25)
    (row,) = drifted_report().tables
    other = dataclasses.replace(row, table_name="acme-prod-users", address="module.users")
    with History.open(tmp_path / "state.db") as history:
        history.record_scan(dataclasses.replace(drifted_report(), tables=(row, other)), T0)
        unreadable = dataclasses.replace(row, status=TableStatus.ERROR, drift=(), error="AccessDenied")
        history.record_scan(dataclasses.replace(drifted_report(), tables=(unreadable, other)), later)
        due = history.due_reminders(later, timedelta(hours=24))
    message = build_reminder(due, now=later)
    assert message is not None
    lines = message["text"].splitlines()
    (orders,) = [line for line in lines if "acme-prod-orders" in line]
    (users,) = [line for line in lines if "acme-prod-users" in line]
    assert "last seen 1d 1h ago" in orders
    assert "last seen" not in users
    assert "last seen 1d 1h ago" in json.dumps(message["blocks"])


def test_driftwatch_history_does_not_call_drift_no_longer_watched_resolved(tmp_path: Path) -> None:
    """`driftwatch history` said "resolved" in its state column of every closed episode, the
    drift of a target removed from the config included; and it showed no "last seen", so drift
    nobody could read for a day looked as current as the rest. Now such an episode's state is
    "not watched", and every row has its last sighting."""
    (row,) = drifted_report().tables
    with History.open(tmp_path / "state.db") as history:
        history.record_scan(drifted_report(), T0)
        history.record_scan(
            dataclasses.replace(drifted_report(), tables=()), T0 + timedelta(hours=1), configured=()
        )
        out = io.StringIO()
        render_history(history.episodes(), "text", out)
    (line,) = [line for line in out.getvalue().splitlines() if row.table_name in line]
    assert line.startswith("not watched")
    assert "target no longer configured" in line
    assert "last seen" in out.getvalue() and "2026-01-01T12:00:00Z" in line
