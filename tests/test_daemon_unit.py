"""Daemon behaviour that the subprocess test cannot reach cheaply: health, readiness, history CLI."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from driftwatch.cli import main
from driftwatch.config import load_config
from driftwatch.daemon import Daemon
from tests.ports import free_port

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def write_config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "driftwatch.yaml"
    path.write_text(
        f"""
repo: {EXAMPLES}
targets:
  - {{name: prod, root: envs/prod, var_files: [prod.tfvars], region: us-east-1}}
schedule: {{interval: 10s, jitter: 0s}}
http: {{host: 127.0.0.1, port: {free_port()}}}
state: {{path: {tmp_path / "state.db"}}}
slack: {{webhook_url_env: DRIFTWATCH_TEST_UNSET_WEBHOOK}}
{extra}
"""
    )
    return path


@pytest.fixture
def daemon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Daemon]:
    monkeypatch.delenv("DRIFTWATCH_TEST_UNSET_WEBHOOK", raising=False)
    config, base = load_config(write_config(tmp_path))
    instance = Daemon(config, base)
    yield instance
    if instance.scheduler.running:
        instance.scheduler.shutdown(wait=False)
    instance.history.close()


def test_healthz_fails_without_a_running_scheduler(daemon: Daemon) -> None:
    assert daemon.healthy() == (False, "scheduler is not running")


def test_healthz_fails_when_no_scan_started_within_three_intervals(daemon: Daemon) -> None:
    daemon.scheduler.start(paused=True)
    assert daemon.healthy()[0] is True  # just started: within 3 intervals of the start
    daemon.state.last_scan_started = time.monotonic() - 31  # 3 x 10 s interval, + 0 jitter
    healthy, reason = daemon.healthy()
    assert healthy is False
    assert "no scan started" in reason
    daemon.state.last_scan_started = time.monotonic() - 5
    assert daemon.healthy()[0] is True


def test_healthz_lets_a_scan_run_to_its_own_deadline_when_that_is_longer_than_three_intervals(
    daemon: Daemon,
) -> None:
    """``schedule.interval: 10s`` with the default ``aws.scan_timeout`` (10m): a scan still
    within its deadline after 3 intervals made /healthz fail, so the liveness probe killed the
    pod mid-scan, every time: no scan of a large estate ever finished."""
    daemon.scheduler.start(paused=True)
    bound = 2 * daemon.config.aws.scan_timeout.total_seconds()  # a scan and its one rescan
    with daemon._scan_lock:  # a scan in progress
        daemon.state.last_scan_started = time.monotonic() - 120  # 12 intervals, within the deadline
        assert daemon.healthy() == (True, "ok")
        daemon.state.last_scan_started = time.monotonic() - bound - 400  # past it: stuck
        healthy, reason = daemon.healthy()
        assert healthy is False and "the scan in progress has run for" in reason
    # Just finished a long scan: the next one is due within an interval of its end.
    daemon.state.last_scan_started = time.monotonic() - 120
    daemon.state.last_scan_finished = time.monotonic() - 1
    assert daemon.healthy() == (True, "ok")


def test_ready_only_after_a_completed_scan(embedded_aws: None, daemon: Daemon) -> None:
    # embedded_aws first: a boto3 session created before moto starts would bypass the mock.
    from driftwatch.demo.run import apply_declared, demo_targets

    assert daemon._readyz_route()[0] == 503
    apply_declared(demo_targets(EXAMPLES)[:1])
    report = daemon.scan_once()
    assert report is not None and report.exit_code == 0
    assert daemon._readyz_route()[0] == 200
    metrics = daemon.metrics.render().decode()
    assert 'driftwatch_scans_total{result="success"} 1.0' in metrics


def test_the_daemon_records_when_it_first_saw_each_commit(embedded_aws: None, daemon: Daemon) -> None:
    """The pending grace runs from a commit's first sighting, kept in the state database."""
    from driftwatch.gitinfo import GitUnavailable, checkout_of, head_commit

    try:
        checkout_of(EXAMPLES)
    except GitUnavailable as error:
        pytest.skip(f"the examples are not in a git checkout here: {error}")
    head = head_commit(EXAMPLES)
    assert head is not None
    assert daemon.history.commits_first_seen([head]) == {}
    daemon.scan_once()
    first = daemon.history.commits_first_seen([head])
    assert set(first) == {head}
    daemon.scan_once()
    assert daemon.history.commits_first_seen([head]) == first  # a sighting is never moved


def test_missing_slack_secret_file_stops_run_at_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "secrets" / "slack"
    config = (
        write_config(tmp_path)
        .read_text()
        .replace(
            "slack: {webhook_url_env: DRIFTWATCH_TEST_UNSET_WEBHOOK}",
            f"slack: {{webhook_url_file: {missing}}}",
        )
    )
    path = tmp_path / "bad.yaml"
    path.write_text(config)
    started = time.monotonic()
    assert main(["run", "--config", str(path)]) == 1
    assert time.monotonic() - started < 10
    assert str(missing) in capsys.readouterr().err


def test_history_command_lists_open_and_resolved_episodes(
    tmp_path: Path, embedded_aws: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    from driftwatch.demo.run import apply_declared, demo_targets

    monkeypatch.delenv("DRIFTWATCH_TEST_UNSET_WEBHOOK", raising=False)
    path = write_config(tmp_path)
    config, base = load_config(path)
    apply_declared(demo_targets(EXAMPLES)[:1])
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    daemon = Daemon(config, base)
    try:
        for enabled in (False, True, False):  # drift, fixed, drift again
            dynamodb.update_continuous_backups(
                TableName="acme-prod-orders",
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": enabled},
            )
            daemon.scan_once()
    finally:
        daemon.history.close()
    capsys.readouterr()
    database = Path(config.state.path)
    written = database.read_bytes()
    assert main(["history", "--config", str(path), "--format", "json"]) == 0
    assert database.read_bytes() == written  # a reader: no probe, no last_opened_at, no migration
    open_only = json.loads(capsys.readouterr().out)["episodes"]
    assert [(e["table"], e["attribute"], e["resolved_at"]) for e in open_only] == [
        ("acme-prod-orders", "point_in_time_recovery", None)
    ]
    assert (open_only[0]["declared"], open_only[0]["live"]) == (True, False)
    assert main(["history", "--config", str(path), "--format", "json", "--all"]) == 0
    everything = json.loads(capsys.readouterr().out)["episodes"]
    assert len(everything) == 2
    assert sum(1 for e in everything if e["resolved_at"]) == 1
    assert main(["history", "--config", str(path)]) == 0
    text = capsys.readouterr().out
    assert "point_in_time_recovery" in text and "open" in text


def test_shutdown_before_run_is_clean(daemon: Daemon) -> None:
    assert daemon.shutdown(grace_seconds=1) == 0


def test_a_port_in_use_fails_at_start_and_releases_the_database(tmp_path: Path) -> None:
    import socket
    import sqlite3

    from driftwatch.history import History

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        text = write_config(tmp_path).read_text()
        text = text.replace("http: {host: 127.0.0.1, port: ", f"http: {{host: 127.0.0.1, port: {port}}}\n#")
        path = tmp_path / "taken.yaml"
        path.write_text(text)
        config, base = load_config(path)
        with pytest.raises(OSError):
            Daemon(config, base)
    # The database was closed again: it can be opened and written at once.
    history = History.open(tmp_path / "state.db")
    history.close()
    sqlite3.connect(tmp_path / "state.db").execute("PRAGMA integrity_check").fetchone()


def test_a_repo_that_turned_into_a_symlink_loop_fails_the_scan_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """git-sync's symlink swapped into a loop between two scans: the scan fails (counted, and
    /healthz keeps the daemon alive to try again), logged as one line that names the cause."""
    from driftwatch.log import configure

    monkeypatch.delenv("DRIFTWATCH_TEST_UNSET_WEBHOOK", raising=False)
    repo = tmp_path / "checkout"
    repo.symlink_to(tmp_path / "loop")
    (tmp_path / "loop").symlink_to(repo)
    path = write_config(tmp_path)
    path.write_text(path.read_text().replace(f"repo: {EXAMPLES}", f"repo: {repo}"))
    config, base = load_config(path)
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure(json_output=True, level="INFO")
    instance = Daemon(config, base)
    try:
        assert instance.scan_once() is None
        metrics = instance.metrics.render().decode()
        assert 'driftwatch_scans_total{result="failure"} 1.0' in metrics
    finally:
        instance.history.close()
        root.handlers[:], level = saved
        root.setLevel(level)
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    (failed,) = [event for event in events if event.get("event") == "scan_failed"]
    assert failed["error"] == f"repo {repo}: a symlink loop, not a directory"
    assert "exception" not in failed  # no traceback for a known cause
