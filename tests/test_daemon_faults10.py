"""Daemon faults of the tenth hunt: the state file damaged in place under the running daemon,
and a configuration file edited while it runs.

Both used to go unsaid: the daemon went on as if nothing had happened, and the loss showed only
at the next start (a history gone, a target never watched)."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import structlog
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import driftwatch.daemon as daemon_module
from driftwatch.config import load_config
from driftwatch.daemon import Daemon
from driftwatch.history import History, HistoryError
from tests.test_daemon_faults import NoEndpoint
from tests.test_daemon_faults import make_daemon as make_faults_daemon
from tests.test_daemon_shutdown import drifted_report
from tests.test_outbox_alerting import samples

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SQLITE_HEADER = b"SQLite format 3\x00"


def checkpoint(history: History) -> None:
    """What the daemon's own connection does every 1,000 pages written (SQLite's automatic
    checkpoint): the WAL copied into the main file, so the main file holds the history."""
    history._connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")


def truncate(state: Path) -> None:  # `> state.db`, a restore tool, a copy that failed half-way
    os.truncate(state, 0)


def overwrite(state: Path) -> None:  # a stray write over the header (a `dd`, another program)
    with open(state, "r+b") as file:
        file.write(b"\x00" * 4096)


@pytest.mark.parametrize("damage", [truncate, overwrite], ids=["truncated", "overwritten"])
def test_a_state_file_damaged_in_place_while_running_is_written_back_whole(
    tmp_path: Path, damage: Callable[[Path], None]
) -> None:
    """The file truncated or overwritten in place (same inode: not "replaced", not "deleted"):
    the open connection went on reading its cache and writing its WAL, every scan a success,
    and the next start found no database at all ("not a SQLite database": the history, open
    drift and queued alerts gone). The next write now puts the file back from the open
    connection, checked whole, and says so."""
    state = tmp_path / "state.db"
    with History.open(state, exclusive=True) as history:
        before = history.enqueue("slack", {"text": "queued before"}, T0)
        checkpoint(history)
        damage(state)
        with structlog.testing.capture_logs() as logs:
            after = history.enqueue("slack", {"text": "queued after"}, T0)
        assert state.read_bytes()[:16] == SQLITE_HEADER
        assert [e["reason"] for e in logs if e["event"] == "history_file_restored"]
        history.mark_sent(before, T0)  # and the file written back is the one written from now on
    with History.open(state) as restart:  # what the next start finds
        assert [m.id for m in restart.pending("slack", T0)] == [after]


def test_a_state_file_damaged_where_memory_cannot_put_it_back_fails_each_write_saying_so(
    tmp_path: Path,
) -> None:
    """Damaged after another process's checkpoint (a ``sqlite3`` shell): the connection's cache
    is no longer valid, so the file cannot be written back from it. Each write fails naming the
    damage and what to do, never "written" into a file that no start can open."""
    state = tmp_path / "state.db"
    with History.open(state, exclusive=True) as history:
        history.enqueue("slack", {"text": "queued before"}, T0)
        other = sqlite3.connect(state)
        other.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        other.close()
        truncate(state)
        for _ in range(2):
            with pytest.raises(HistoryError, match=r"damaged .* while driftwatch ran.*from a backup"):
                history.enqueue("slack", {"text": "lost"}, T0)


# --- the configuration file edited while the daemon runs ------------------------------------------

CONFIG = (
    "repo: {repo}\n"
    "targets:\n{targets}"
    "schedule: {{interval: 1h, jitter: 0s}}\n"
    "http: {{host: 127.0.0.1, port: 1}}\n"
    "state: {{path: {state}}}\n"
)
PROD = "  - {name: prod, root: envs/prod, var_files: [prod.tfvars], region: us-east-1}\n"
STAGING = "  - {name: staging, root: envs/staging, region: us-east-1}\n"
NOT_APPLIED = ("driftwatch_config_not_applied", ())


def write(path: Path, targets: str, tmp_path: Path) -> None:
    path.write_text(CONFIG.format(repo=EXAMPLES, targets=targets, state=tmp_path / "state.db"))


def test_a_config_file_edited_while_running_is_said_until_a_restart_applies_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``driftwatch run`` reads its configuration at start only. A target added to the file of a
    running daemon (``kubectl edit configmap``: the mounted file changes, the pod does not
    restart) was never scanned, and nothing said so: Slack's silence about it read as "in
    sync". Each scan now compares the file with the configuration it runs: a difference is
    logged once (``config_changed_not_applied``, naming what changed) and held on /metrics
    (``driftwatch_config_not_applied`` 1, ``DriftwatchConfigNotApplied``) until the file is
    what runs again; a file that would no longer load (a restart would fail) is said too."""
    path = tmp_path / "driftwatch.yaml"
    write(path, PROD, tmp_path)
    monkeypatch.setattr(daemon_module, "Endpoint", NoEndpoint)
    monkeypatch.setattr(daemon_module, "scan", lambda *args, **kwargs: drifted_report())
    config, base = load_config(path)
    daemon = Daemon(config, base, config_path=path)
    try:
        with structlog.testing.capture_logs() as logs:
            daemon.scan_once()
            assert samples(daemon.metrics)[NOT_APPLIED] == 0
            path.write_text(path.read_text() + "# a comment changes nothing\n")
            daemon.scan_once()
            assert samples(daemon.metrics)[NOT_APPLIED] == 0
            write(path, PROD + STAGING, tmp_path)  # a target added
            daemon.scan_once()
            daemon.scan_once()
            assert samples(daemon.metrics)[NOT_APPLIED] == 1
            said = [e for e in logs if e["event"] == "config_changed_not_applied"]
            assert len(said) == 1  # once per change, not every scan
            assert "targets added: staging" in said[0]["change"] and said[0]["path"] == str(path)
            assert [t.name for t in daemon.config.targets] == ["prod"]  # not applied behind anyone's back
            path.write_text("targets: [\n")  # broken: a restart would fail
            daemon.scan_once()
            assert samples(daemon.metrics)[NOT_APPLIED] == 1
            broken = [e for e in logs if e["event"] == "config_changed_not_applied"][-1]
            assert "no longer loads" in broken["change"] and "not valid YAML" in broken["change"]
            write(path, PROD, tmp_path)  # put back: what runs
            daemon.scan_once()
            assert samples(daemon.metrics)[NOT_APPLIED] == 0
            said = [e for e in logs if e["event"].startswith("config_")]
            assert said[-1]["event"] == "config_file_matches_again"
            path.unlink()  # a file gone: a restart would fail
            daemon.scan_once()
            assert samples(daemon.metrics)[NOT_APPLIED] == 1
    finally:
        daemon.history.close()


def test_a_state_file_found_empty_at_start_is_said_not_taken_for_a_first_start(tmp_path: Path) -> None:
    """A state file of 0 bytes (truncated while the daemon was down; ``: > state.db``): SQLite
    takes it for a new database, so the daemon started a new history without a word: its open
    drift announced again as new, its undelivered alerts gone. Still started (nothing is left to
    keep), but said at error level; a file that does not exist yet (a first start) says nothing."""
    with structlog.testing.capture_logs() as logs:
        History.open(tmp_path / "first.db", exclusive=True).close()
    assert not [e for e in logs if e["event"] == "history_file_empty"]
    state = tmp_path / "state.db"
    state.write_bytes(b"")
    with structlog.testing.capture_logs() as logs, History.open(state, exclusive=True) as history:
        assert history.episodes(open_only=True) == []
    said = [e for e in logs if e["event"] == "history_file_empty"]
    assert len(said) == 1 and said[0]["log_level"] == "error" and said[0]["path"] == str(state)


# --- Slack answering 200, slowly, to a backlog -----------------------------------------------------


def test_a_slow_slack_with_a_backlog_holds_the_scan_job_no_longer_than_its_delivery_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer
) -> None:
    """Slack answering every message with 200 after 20 s (within the answer bound) while a
    backlog waits (an outage just ended). The scan job delivered up to 100 messages per channel
    itself before returning: half an hour per channel in which APScheduler skipped every
    scheduled scan as "still running", and /healthz, seeing no scan start for 3 intervals, had
    the pod killed mid-delivery (its sends then resent as possible repeats). The scan job now
    sends for at most ``SCAN_DELIVERY_BUDGET`` (plus the message under way); the delivery job,
    which holds up no scan, sends the rest. The clock is a stand-in that each answer moves on."""
    clock = [1000.0]
    posted: list[bytes] = []

    def slow_ok(request: Request) -> Response:
        posted.append(request.get_data())
        clock[0] += 20.0  # the 20 s Slack took to answer
        return Response("ok", status=200)

    httpserver.expect_request("/services/T0/B0/slow-secret", method="POST").respond_with_handler(slow_ok)
    daemon = make_faults_daemon(tmp_path, monkeypatch, httpserver.url_for("/services/T0/B0/slow-secret"))
    try:
        backlog = [daemon.history.enqueue("slack", {"text": f"queued {n}"}, T0) for n in range(6)]
        monkeypatch.setattr(time, "monotonic", lambda: clock[0])
        assert daemon.scan_once() is not None
        assert 1 <= len(posted) <= 1 + int(daemon_module.SCAN_DELIVERY_BUDGET.total_seconds() // 20)
        assert daemon.history.pending_count() == len(backlog) + 1 - len(posted)  # + the scan's own
        daemon.deliver()  # the delivery job: everything, in order
        assert daemon.history.pending_count() == 0 and len(posted) == len(backlog) + 1
    finally:
        daemon.history.close()
