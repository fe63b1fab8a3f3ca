"""Daemon faults found by a fault-injection hunt: the checkout swapped or deleted while a
scheduled scan reads it, a scan longer than the interval, a failure after the scan, and a wall
clock that jumps (retention's hourly gate, the outbox backlog's age).

git-sync publishes a commit by pointing its ``--link`` symlink at a new worktree and then
deleting the old one. A scan that resolved the link before the swap reads the old worktree
while it is deleted: part of the tree is gone, so tables of a deleted file read as no longer
declared. The scan stand-in here does what the evaluator then sees: it swaps the link, deletes
the old worktree, and returns a report without the drifted table.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog

import driftwatch.daemon as daemon_module
from driftwatch.checkout import Snapshot, replaced, snapshot
from driftwatch.config import load_config
from driftwatch.daemon import Daemon
from driftwatch.spec import ScanReport
from tests.test_daemon_faults import NoEndpoint
from tests.test_daemon_shutdown import SlowScan, drifted_report, write_config
from tests.test_outbox_alerting import samples

SCANS_FAILED = ("driftwatch_scans_total", (("result", "failure"),))


class GitSync:
    """A checkout published as ``root/checkout`` -> ``root/worktrees/<n>``, as git-sync does."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.link = root / "checkout"
        self.published = 0
        self._worktree(0)
        self.link.symlink_to(self.root / "worktrees" / "0")

    def _worktree(self, number: int) -> Path:
        path = self.root / "worktrees" / str(number)
        (path / "envs" / "prod").mkdir(parents=True)
        (path / "envs" / "prod" / "main.tf").write_text("# tables\n")
        return path

    def publish(self) -> None:
        """A new commit: a new worktree, the link swapped to it, the old worktree deleted."""
        old = self.link.resolve()
        self.published += 1
        new = self._worktree(self.published)
        staged = self.root / "checkout.new"
        staged.symlink_to(new)
        staged.replace(self.link)
        shutil.rmtree(old)


def make_daemon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sync: GitSync) -> Daemon:
    path = tmp_path / "driftwatch.yaml"
    path.write_text(
        f"repo: {sync.link}\n"
        "targets:\n  - {name: prod, root: envs/prod, region: us-east-1}\n"
        "schedule: {interval: 1h, jitter: 0s}\n"
        "http: {host: 127.0.0.1, port: 1}\n"
        f"state: {{path: {tmp_path / 'state.db'}}}\n"
    )
    monkeypatch.setattr(daemon_module, "Endpoint", NoEndpoint)
    return Daemon(*load_config(path))


def torn(sync: GitSync) -> Any:
    """A scan during which git-sync publishes a commit: it read part of a deleted worktree, so
    the drifted table's file was gone (the report does not have the table at all)."""

    def scan(*args: Any, **kwargs: Any) -> ScanReport:
        sync.publish()
        return dataclasses.replace(drifted_report(), tables=())

    return scan


def test_a_scan_whose_checkout_is_swapped_and_deleted_under_it_is_not_recorded_and_scans_the_new_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The torn scan used to be recorded: the open drift closed as "no longer declared" (Slack:
    no longer watched), then re-alerted as new by the next scan."""
    sync = GitSync(tmp_path / "repo")
    daemon = make_daemon(tmp_path, monkeypatch, sync)
    calls: list[str] = []
    try:
        monkeypatch.setattr(daemon_module, "scan", lambda *a, **k: drifted_report())
        daemon.scan_once()
        assert len(daemon.history.episodes(open_only=True)) == 1

        reports = iter([torn(sync), lambda *a, **k: drifted_report()])

        def scan(*args: Any, **kwargs: Any) -> ScanReport:
            calls.append(str(kwargs["settings"].survey.repo))
            return next(reports)(*args, **kwargs)

        monkeypatch.setattr(daemon_module, "scan", scan)
        daemon.scan_once()
        still_open = daemon.history.episodes(open_only=True)
        closed = [e for e in daemon.history.episodes() if e.resolved_at is not None]
        failed = samples(daemon.metrics)[SCANS_FAILED]
    finally:
        daemon.history.close()
    assert closed == []
    assert len(still_open) == 1
    assert calls == [str(tmp_path / "repo" / "worktrees" / "0"), str(tmp_path / "repo" / "worktrees" / "1")]
    assert failed == 0


def test_a_checkout_that_changes_under_every_attempt_fails_the_scan_and_records_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync = GitSync(tmp_path / "repo")
    daemon = make_daemon(tmp_path, monkeypatch, sync)
    try:
        monkeypatch.setattr(daemon_module, "scan", lambda *a, **k: drifted_report())
        daemon.scan_once()
        monkeypatch.setattr(daemon_module, "scan", torn(sync))
        assert daemon.scan_once() is None
        open_episodes = daemon.history.episodes(open_only=True)
        failed = samples(daemon.metrics)[SCANS_FAILED]
    finally:
        daemon.history.close()
    assert sync.published == 2  # one new scan of the new checkout, no more
    assert len(open_episodes) == 1
    assert failed == 1


def test_what_counts_as_the_checkout_changing(tmp_path: Path) -> None:
    here = tmp_path / "a"
    here.mkdir()
    scanned = snapshot(here)
    assert replaced(scanned, snapshot(here)) is None
    assert replaced(Snapshot(here, None), snapshot(tmp_path / "missing")) is None  # failed by itself
    assert "published" in (replaced(scanned, snapshot(tmp_path)) or "")
    here.rmdir()
    assert "removed" in (replaced(scanned, snapshot(here)) or "")
    here.mkdir()
    (here / "x").mkdir()  # another directory at the path, whatever inode the kernel reuses
    assert replaced(scanned, Snapshot(here, (0, 0))) is not None


def test_a_checkout_updated_in_place_during_the_scan_counts_as_changed(tmp_path: Path) -> None:
    """``git pull`` in the checkout itself (a VM's cron, a sync tool that does not swap a link)
    while a scan reads it: the same directory, files half old and half new, and the report
    dated with the commit read before it. Only another directory counted, so that scan was
    recorded: a table whose file was being rewritten read as no longer declared (its drift
    closed, then announced again as new), under the old commit's links."""
    repo = tmp_path / "repo"
    (repo / "envs" / "prod").mkdir(parents=True)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1"}

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            cwd=repo,
            env=env,
            check=True,
            capture_output=True,
        )

    (repo / "envs" / "prod" / "main.tf").write_text("# one\n")
    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "one")
    scanned = snapshot(repo / "envs" / "prod")
    assert replaced(scanned, snapshot(repo / "envs" / "prod")) is None
    (repo / "envs" / "prod" / "main.tf").write_text("# two\n")
    git("commit", "-qam", "two")
    assert "moved" in (replaced(scanned, snapshot(repo / "envs" / "prod")) or "")


# --- a scan longer than the interval ---------------------------------------------------------------

SCANS_SKIPPED = ("driftwatch_scans_skipped_total", ())


@pytest.fixture
def slow(monkeypatch: pytest.MonkeyPatch) -> SlowScan:
    monkeypatch.delenv("DRIFTWATCH_TEST_UNSET_WEBHOOK", raising=False)
    fake = SlowScan()
    monkeypatch.setattr(daemon_module, "scan", fake)
    return fake


def test_a_scheduled_scan_skipped_because_the_last_one_still_runs_is_counted_and_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slow: SlowScan
) -> None:
    """A scan longer than ``schedule.interval``: the scheduler skips the runs that fall due
    meanwhile (one scan at a time). That used to be one APScheduler line at most, nothing on
    /metrics: scans ran at half the configured rate (or less) and no alert could tell."""
    monkeypatch.setattr(daemon_module, "Endpoint", NoEndpoint)
    daemon = Daemon(*load_config(write_config(tmp_path)))
    try:
        with structlog.testing.capture_logs() as events:
            daemon.start()
            assert slow.started.wait(10)
            daemon.scheduler.modify_job("scan", next_run_time=datetime.now(UTC))  # due again
            deadline = time.monotonic() + 30
            while samples(daemon.metrics).get(SCANS_SKIPPED) != 1 and time.monotonic() < deadline:
                time.sleep(0.02)
            skipped = samples(daemon.metrics).get(SCANS_SKIPPED)
            slow.release.set()
    finally:
        slow.release.set()
        daemon.shutdown(grace_seconds=5)
    assert skipped == 1
    (said,) = [e for e in events if e["event"] == "scan_skipped_still_running"]
    assert said["log_level"] == "warning" and said["interval_seconds"] == 3600


# --- a failure after the scan ----------------------------------------------------------------------


def test_a_failure_putting_the_scan_on_metrics_is_logged_and_the_daemon_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It used to escape the scan thread as a bare traceback on stderr (threading.excepthook:
    no JSON, no redaction), and the scan's delivery and the schedule's mark were skipped."""
    monkeypatch.setattr(daemon_module, "Endpoint", NoEndpoint)
    monkeypatch.setattr(daemon_module, "scan", lambda *a, **k: drifted_report())
    monkeypatch.delenv("DRIFTWATCH_TEST_UNSET_WEBHOOK", raising=False)
    daemon = Daemon(*load_config(write_config(tmp_path)))
    escaped: list[BaseException | None] = []
    monkeypatch.setattr("threading.excepthook", lambda args: escaped.append(args.exc_value))

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("metrics broke")

    monkeypatch.setattr(daemon.metrics, "observe_scan", broken)
    delivered: list[bool] = []
    monkeypatch.setattr(daemon, "deliver", lambda **kwargs: delivered.append(True))
    try:
        with structlog.testing.capture_logs() as events:
            daemon._detached("scan", daemon.scan_once)()  # as the scheduler runs it
        recorded = daemon.history.episodes(open_only=True)
    finally:
        daemon.shutdown(grace_seconds=1)
    assert escaped == []
    (failed,) = [e for e in events if e["event"] == "scan_metrics_failed"]
    assert "metrics broke" in failed["error"]
    assert len(recorded) == 1 and daemon.state.scans_completed == 1
    assert delivered == [True]


# --- retention and a wall clock that jumped --------------------------------------------------------


def test_retention_keeps_running_after_the_wall_clock_ran_a_year_ahead_and_was_set_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Retention runs at most hourly, after a scan. The hour was counted on the wall clock: a
    prune while the clock ran a year ahead held every later one back until the clock got there
    again (the state file grew for as long)."""
    from tests.test_daemon_faults import Clocks

    clocks = Clocks(monkeypatch)
    monkeypatch.setattr(daemon_module, "Endpoint", NoEndpoint)
    monkeypatch.setattr(daemon_module, "scan", lambda *a, **k: drifted_report())
    monkeypatch.delenv("DRIFTWATCH_TEST_UNSET_WEBHOOK", raising=False)
    daemon = Daemon(*load_config(write_config(tmp_path)))
    pruned: list[datetime] = []
    real_prune = daemon.history.prune

    def prune(before: datetime) -> tuple[int, int]:
        pruned.append(before)
        return real_prune(before)

    monkeypatch.setattr(daemon.history, "prune", prune)
    try:
        clocks.wall_offset = timedelta(days=365)
        daemon.scan_once()  # pruned by the wrong clock
        clocks.elapse(timedelta(hours=2), wall_set_back=timedelta(days=365))
        daemon.scan_once()  # two real hours later, the clock right again
    finally:
        daemon.shutdown(grace_seconds=1)
    assert len(pruned) == 2


# --- the outbox's backlog age and a wall clock that ran ahead --------------------------------------

BACKLOG_AGE = ("driftwatch_outbox_oldest_pending_age_seconds", (("channel", "slack"),))


def test_a_backlog_queued_while_the_clock_ran_ahead_still_ages_on_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message queued while the wall clock ran a day ahead, Slack unreachable, then the clock
    set right: its age on /metrics was 0 (created "in the future") for that day, so
    DriftwatchOutboxBacklogOld stayed silent while nothing was delivered."""
    import driftwatch.metrics as metrics_module
    from tests.test_daemon_faults import Clocks
    from tests.test_daemon_faults import make_daemon as make_slack_daemon

    clocks = Clocks(monkeypatch)
    daemon = make_slack_daemon(tmp_path, monkeypatch, "http://127.0.0.1:1/services/T0/B0/unreachable")
    real_time = time.time
    monkeypatch.setattr(
        metrics_module,
        "time",
        type("T", (), {"time": staticmethod(lambda: real_time() + clocks.wall_offset.total_seconds())}),
    )
    try:
        daemon.history.enqueue("slack", {"text": "drift"}, datetime.now(UTC) + timedelta(days=1))
        daemon._observe_outbox()
        clocks.monotonic_offset += 2 * 3600  # two hours pass; the wall clock is right now
        clocks.wall_offset = timedelta(hours=2)
        daemon._observe_outbox()
        age = samples(daemon.metrics)[BACKLOG_AGE]
    finally:
        daemon.history.close()
    assert age >= 2 * 3600 - 60
