"""The state database as a store: one writer, errors at start that say what they are, the
migration of delivery markers into columns, retention, and superseded episodes."""

from __future__ import annotations

import errno
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from driftwatch.history import (
    MIGRATIONS,
    History,
    HistoryError,
    OutboxStatus,
    ResolveReason,
    StateLockedError,
    TransitionKind,
)
from driftwatch.history import store as store_module
from driftwatch.history.store import describe_os_error, open_failure
from driftwatch.spec import Drift, ScanReport, SourceLocation, TableResult, TableStatus
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
PITR = ("point_in_time_recovery", True, False)


def row(table: str, *drift: tuple[str, Any, Any], status: TableStatus | None = None) -> TableResult:
    return TableResult(
        target="prod",
        address=f"module.{table}",
        source=SourceLocation("main.tf", 1),
        table_name=table,
        region="us-east-1",
        status=status or (TableStatus.DRIFTED if drift else TableStatus.IN_SYNC),
        drift=tuple(Drift(*d) for d in drift),
    )


def report(*rows: TableResult) -> ScanReport:
    return ScanReport(generated_at=T0, commit="c0ffee", tables=rows)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "state" / "driftwatch.db"


# --- one writer (issue 14, item 4) ---------------------------------------------------------------

HOLDER = textwrap.dedent(
    """
    import sys, time
    from driftwatch.history import History
    History.open(sys.argv[1], exclusive=True)
    print("holding", flush=True)
    time.sleep(120)
    """
)


@pytest.fixture
def holder(db: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the writer lock of ``db``, as a second daemon would."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:  # unconfigured structlog prints migrations here first
            if line.strip() == "holding":
                break
        else:
            raise AssertionError("the holder never took the lock")
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def test_a_second_writer_is_refused_with_the_holders_pid(db: Path, holder: subprocess.Popen[str]) -> None:
    with pytest.raises(StateLockedError) as caught:
        History.open(db, exclusive=True)
    message = str(caught.value)
    assert str(db) in message and f"pid {holder.pid}" in message
    assert "only one daemon" in message and "state.path" in message
    # Readers (``driftwatch history``) are not writers: they still open it.
    with History.open(db) as reader:
        assert reader.episodes() == []


def test_a_sigkilled_holder_does_not_block_a_restart(db: Path, holder: subprocess.Popen[str]) -> None:
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    with History.open(db, exclusive=True) as restarted:  # the kernel dropped the lock
        assert restarted.pending_count() == 0
    with History.open(db, exclusive=True):  # and close() released ours
        pass


def test_the_second_daemon_stops_at_start_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from driftwatch.cli import main
    from driftwatch.config import load_config
    from driftwatch.daemon import Daemon

    monkeypatch.delenv("DRIFTWATCH_TEST_UNSET_WEBHOOK", raising=False)
    config = tmp_path / "driftwatch.yaml"
    config.write_text(
        f"repo: {ROOT / 'examples'}\n"
        "targets:\n  - {name: prod, root: envs/prod, region: us-east-1}\n"
        f"http: {{host: 127.0.0.1, port: {free_port()}}}\n"
        f"state: {{path: {tmp_path / 'state.db'}}}\n"
        "slack: {webhook_url_env: DRIFTWATCH_TEST_UNSET_WEBHOOK}\n"
    )
    first = Daemon(*load_config(config))
    try:
        assert main(["run", "--config", str(config)]) == 1
        err = capsys.readouterr().err
        assert "in use by another driftwatch daemon" in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1
    finally:
        first.endpoint.stop()
        first.history.close()


# --- errors at start say what they are (item 9) --------------------------------------------------


def _sqlite_error(name: str, text: str) -> sqlite3.Error:
    error = sqlite3.OperationalError(text)
    error.sqlite_errorname = name  # type: ignore[attr-defined]
    return error


@pytest.mark.parametrize(
    ("name", "text", "probe", "says"),
    [
        ("SQLITE_FULL", "database or disk is full", None, "the disk is full"),
        ("SQLITE_IOERR_WRITE", "disk I/O error", errno.ENOSPC, "the disk is full"),
        ("SQLITE_READONLY", "attempt to write a readonly database", errno.EROFS, "read-only"),
        ("SQLITE_CANTOPEN", "unable to open database file", errno.EROFS, "read-only"),
        ("SQLITE_READONLY", "attempt to write a readonly database", None, "permission denied"),
        ("SQLITE_CANTOPEN", "unable to open database file", errno.EACCES, "permission denied"),
        ("SQLITE_IOERR", "disk I/O error", None, "check the volume"),
    ],
)
def test_full_read_only_and_permission_problems_say_so_and_never_suggest_moving_the_file(
    name: str, text: str, probe: int | None, says: str
) -> None:
    message = open_failure("/data/driftwatch.db", _sqlite_error(name, text), probe)
    assert says in message and "/data/driftwatch.db" in message
    assert "move it aside" not in message and "corrupt" not in message


@pytest.mark.parametrize("name", ["SQLITE_CORRUPT", "SQLITE_NOTADB"])
def test_only_real_corruption_suggests_moving_the_file_aside(name: str) -> None:
    message = open_failure(
        "/data/driftwatch.db", _sqlite_error(name, "database disk image is malformed"), None
    )
    assert "corrupt" in message and "move it aside" in message


def test_a_real_full_database_at_start_says_the_disk_is_full(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's own SQLITE_FULL (a page limit stands in for the disk) on the first migration."""
    real = store_module.Store._migrate

    def limited(self: store_module.Store) -> None:
        self._connection().execute("PRAGMA max_page_count = 2")
        real(self)

    monkeypatch.setattr(store_module.Store, "_migrate", limited)
    with pytest.raises(HistoryError) as caught:
        History.open(db)
    assert "the disk is full" in str(caught.value) and "move it aside" not in str(caught.value)


@pytest.mark.parametrize(("name", "text"), [("SQLITE_BUSY", "database is locked"), ("SQLITE_LOCKED", "x")])
def test_a_database_locked_by_another_process_at_start_says_so_not_permissions(name: str, text: str) -> None:
    """Another process holding a write transaction past the 10 s busy timeout (a ``sqlite3``
    shell, a backup job) when the daemon starts: the advice was "check the volume and the
    file's permissions", which are fine."""
    message = open_failure("/data/driftwatch.db", _sqlite_error(name, text), None)
    assert "another process" in message and "/data/driftwatch.db" in message
    assert "permission" not in message and "move it aside" not in message


def test_a_real_lock_held_by_another_connection_at_start_is_named(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    History.open(db).close()
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_SECONDS", 0.05)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(HistoryError) as caught:
            History.open(db)
    finally:
        holder.close()
    assert "another process" in str(caught.value)


def test_errno_words() -> None:
    assert "disk is full" in (describe_os_error(errno.ENOSPC) or "")
    assert "read-only" in (describe_os_error(errno.EROFS) or "")
    assert "permission denied" in (describe_os_error(errno.EACCES) or "")
    assert describe_os_error(errno.EIO) is None


# --- delivery markers are columns now ------------------------------------------------------------


def test_a_version_1_database_moves_its_delivery_markers_into_columns(db: Path) -> None:
    db.parent.mkdir(parents=True)
    raw = sqlite3.connect(db, isolation_level=None)
    for statement in MIGRATIONS[0]:
        raw.execute(statement)
    stamp = "2026-01-01T12:00:00.000000Z"
    for _ in range(2):
        raw.execute(
            "INSERT INTO outbox (channel, payload, created_at, next_attempt_at) VALUES ('slack', '{}', ?, ?)",
            (stamp, stamp),
        )
    raw.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?)",
        [("outbox.attempt:1", stamp), ("outbox.interrupted:1", "2"), ("announced:rule", stamp)],
    )
    raw.execute("PRAGMA user_version = 1")
    raw.close()
    with History.open(db) as history:
        assert history.interrupted_attempts() == {1: 2}
        claimed = history.begin_attempt(1, T0)  # the attempt in flight at the upgrade was cut short
        assert claimed is not None and claimed.interrupted == 3 and claimed.attempts == 1
        assert history.begin_attempt(2, T0) is not None and history.interrupted_attempts() == {1: 3}
    raw = sqlite3.connect(db)
    keys = [r[0] for r in raw.execute("SELECT key FROM meta ORDER BY key")]
    raw.close()
    assert keys == ["announced:rule", "last_opened_at"]  # the outbox keys are gone, the rest kept


# --- retention (item 8) --------------------------------------------------------------------------


def test_prune_deletes_old_resolved_episodes_and_finished_messages_only(db: Path) -> None:
    with History.open(db) as history:
        history.add_channel("test", lambda t: {"text": "x"}, lambda e, now: None)
        history.record_scan(report(row("a", PITR), row("b", PITR)), T0)
        history.record_scan(report(row("a", PITR), row("b")), T0 + timedelta(days=1))  # b resolved
        sent, pending = (m.id for m in history.pending("test", T0 + timedelta(days=2)))
        history.mark_sent(sent, T0 + timedelta(days=1))
        dropped = history.enqueue("test", {"text": "bad"}, T0)
        history.mark_dropped(dropped, "HTTP 400: invalid_payload", T0)
        assert history.prune(T0) == (0, 0)  # nothing is older than the cutoff yet
        assert history.prune(T0 + timedelta(days=100)) == (1, 2)
        assert [e.table for e in history.episodes()] == ["a"]  # open, however old
        remaining = history.message(pending)
        assert remaining is not None and remaining.status is OutboxStatus.PENDING
        assert history.message(sent) is None and history.message(dropped) is None


def test_with_retention_the_file_stays_flat(db: Path) -> None:
    """A short soak: 240 simulated days of scans, drift toggling daily on 20 tables, every
    message delivered; retention of 30 days pruned daily. The file stops growing once the
    retention window is full (benchmarks/state_retention.py runs the long version)."""
    sizes: dict[int, int] = {}
    with History.open(db) as history:
        history.add_channel("test", lambda t: {"text": "t" * 400}, lambda e, now: None)
        for day in range(240):
            now = T0 + timedelta(days=day)
            rows = [row(f"t{i}", PITR) if (day + i) % 2 else row(f"t{i}") for i in range(20)]
            history.record_scan(report(*rows), now)
            for message in history.pending("test", now):
                history.mark_sent(message.id, now)
            history.prune(now - timedelta(days=30))
            if day in (60, 239):
                with history._read() as conn:  # the WAL's pages into the file, to measure it
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                sizes[day] = db.stat().st_size
    assert sizes[239] <= sizes[60] * 1.1, sizes


# --- superseded episodes (issue 13) --------------------------------------------------------------


def test_open_drift_of_a_table_that_goes_missing_is_superseded_not_fixed(db: Path) -> None:
    missing = row("orders", ("table", "orders", None), status=TableStatus.MISSING)
    with History.open(db) as history:
        history.record_scan(report(row("orders", PITR, ("tags.Team", "a", "b"))), T0)
        gone = history.record_scan(report(missing), T0 + timedelta(minutes=5))
        assert sorted((t.kind.value, t.attribute) for t in gone) == [
            ("missing", "table"),
            ("superseded", "point_in_time_recovery"),
            ("superseded", "tags.Team"),
        ]
        assert gone.of(TransitionKind.RESOLVED) == ()
        closed = {e.attribute: e.resolved_reason for e in history.episodes() if not e.open}
        assert closed == {
            "point_in_time_recovery": ResolveReason.SUPERSEDED.value,
            "tags.Team": ResolveReason.SUPERSEDED.value,
        }
        (still_open,) = history.episodes(open_only=True)
        assert still_open.attribute == "table"


class _Statvfs:
    def __init__(self, flag: int = 0, bavail: int = 100, bfree: int = 100) -> None:
        self.f_flag, self.f_bavail, self.f_bfree = flag, bavail, bfree


@pytest.mark.parametrize(
    ("statvfs", "writable", "expected"),
    [
        (_Statvfs(flag=os.ST_RDONLY), True, errno.EROFS),
        (_Statvfs(bavail=0, bfree=0), True, errno.ENOSPC),
        (_Statvfs(), False, errno.EACCES),
        (_Statvfs(), True, None),
    ],
)
def test_the_file_system_is_asked_what_is_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, statvfs: _Statvfs, writable: bool, expected: int | None
) -> None:
    """SQLite says "unable to open" or "disk I/O error" for many causes; the directory's file
    system tells them apart (as root, which CI is, a real EACCES cannot be produced)."""
    monkeypatch.setattr(store_module.os, "statvfs", lambda path: statvfs)
    monkeypatch.setattr(store_module.os, "access", lambda path, mode: writable)
    assert store_module._directory_problem(tmp_path / "driftwatch.db") == expected


def test_a_damaged_sqlite_file_is_called_corrupt_and_only_then_moved_aside(tmp_path: Path) -> None:
    """A real SQLite file with its pages overwritten (the header intact). The directory name
    says nothing about corruption, so the words come from the message."""
    path = tmp_path / "volume" / "state.db"
    with History.open(path) as history:
        history.add_channel("test", lambda t: {"text": "x" * 2000}, lambda e, now: None)
        for minute in range(30):
            history.record_scan(report(row(f"t{minute}", PITR)), T0 + timedelta(minutes=minute))
        with history._read() as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    assert len(data) > 8192
    data[4096:] = b"\xa5" * (len(data) - 4096)  # every page after the first
    path.write_bytes(bytes(data))
    with pytest.raises(HistoryError) as caught:
        History.open(path)
    message = str(caught.value)
    assert str(path) in message and "is corrupt" in message and "move it aside" in message


FS_PROBE = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from driftwatch.history import History, HistoryError
    folder, mode = Path(sys.argv[1]), sys.argv[2]
    db = folder / "driftwatch.db"
    if mode == "full":  # a history that exists, then the volume fills up (driftwatch down)
        History.open(db).close()
        for name in os.listdir(folder):
            if name.endswith(("-wal", "-shm")):
                os.remove(folder / name)
        try:
            with open(folder / "filler", "wb") as filler:
                while True:
                    filler.write(bytes(4096))
        except OSError:
            pass
    try:
        History.open(db, exclusive=True).close()  # as the daemon opens it: the lock file first
        print("OPENED")
    except HistoryError as error:
        print(error)
    """
)


@pytest.mark.parametrize(
    ("options", "mode", "says"),
    [("size=256k", "full", "the disk is full"), ("size=256k,ro", "ro", "the file system is read-only")],
)
def test_a_real_full_or_read_only_volume_at_start_says_what_it_is(
    tmp_path: Path, options: str, mode: str, says: str
) -> None:
    """A real tmpfs, mounted in a private mount namespace (``unshare -m``: nothing outside the
    probe sees it): full (ENOSPC) with a history on it, or read-only (EROFS)."""
    volume = tmp_path / "volume"
    volume.mkdir()
    command = (
        f'mount -t tmpfs -o {options} tmpfs {volume} && exec {sys.executable} -c "$PROBE" {volume} {mode}'
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROBE": FS_PROBE}
    try:
        result = subprocess.run(
            ["unshare", "-m", "sh", "-c", command], capture_output=True, text=True, env=env, timeout=60
        )
    except FileNotFoundError:
        pytest.skip("unshare is not installed")
    if result.returncode != 0 and ("mount" in result.stderr or "unshare" in result.stderr):
        pytest.skip(f"cannot mount a private tmpfs here: {result.stderr.strip()[-200:]}")
    message = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr
    assert says in message and str(volume) in message, result.stdout + result.stderr
    assert "move it aside" not in message and "corrupt" not in message
