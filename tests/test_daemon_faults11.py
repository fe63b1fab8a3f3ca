"""Daemon faults of the eleventh hunt: the state file's write-ahead log deleted under the running
daemon.

It used to go unsaid: the daemon went on as if nothing had happened, and the loss showed only at
the next start (open drift and queued alerts gone)."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import structlog

from driftwatch.history import History

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def crash_image(state: Path, into: Path) -> Path:
    """The state files as a SIGKILL (an OOM kill, a node lost) would leave them now: copied while
    the connection is open, so that nothing is checkpointed or cleaned up on the way out."""
    into.mkdir()
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{state}{suffix}")
        if source.exists():
            shutil.copyfile(source, into / f"{state.name}{suffix}")
    return into / state.name


def test_a_wal_deleted_while_running_keeps_every_write_since_the_last_checkpoint(tmp_path: Path) -> None:
    """``<state>-wal`` deleted alone (a cleanup of "stray" files, a tool that copies only the
    ``.db``): the open connection went on writing into the deleted log, so everything since the
    last checkpoint (SQLite's, every 1,000 pages: hours of transitions and queued alerts; here,
    even the schema) was only there, and a SIGKILL lost it without a word: the next start found
    an empty history. The next write now copies the deleted log into the main file, goes on
    with a new log, and says so."""
    state = tmp_path / "state.db"
    with History.open(state, exclusive=True) as history:
        before = history.enqueue("slack", {"text": "queued before"}, T0)
        os.unlink(f"{state}-wal")
        with structlog.testing.capture_logs() as logs:
            after = history.enqueue("slack", {"text": "queued after"}, T0)
        assert [e["reason"] for e in logs if e["event"] == "history_file_restored"]
        assert Path(f"{state}-wal").exists()  # the log written from now on is at its path again
        crashed = crash_image(state, tmp_path / "crashed")
        history.mark_sent(before, T0)  # and it goes on writing
    with History.open(crashed) as restart:  # what a start after a SIGKILL finds
        assert [m.id for m in restart.undelivered()] == [before, after]
    with History.open(state) as restart:
        assert [m.id for m in restart.undelivered()] == [after]


def test_a_wal_lost_before_the_next_write_is_said_at_the_next_start(tmp_path: Path) -> None:
    """The log deleted, then the daemon killed before any write could notice: its last writes are
    gone, and the next start took what was left for the whole history. The shared-memory index
    (``<state>-shm``) still says how many frames the log held beyond the last checkpoint, so the
    start says what was lost (``history_wal_lost``, error level). A crash with its log intact, or
    a clean stop, says nothing."""
    state = tmp_path / "state.db"
    with History.open(state, exclusive=True) as history:
        queued = history.enqueue("slack", {"text": "queued"}, T0)
        intact = crash_image(state, tmp_path / "intact")
        os.unlink(f"{state}-wal")
        lost = crash_image(state, tmp_path / "lost")
    for image, kept in ((intact, [queued]), (state, [queued])):
        with structlog.testing.capture_logs() as logs, History.open(image, exclusive=True) as restart:
            assert [m.id for m in restart.undelivered()] == kept
        assert not [e for e in logs if e["event"] == "history_wal_lost"]
    with structlog.testing.capture_logs() as logs, History.open(lost, exclusive=True):
        pass
    (said,) = [e for e in logs if e["event"] == "history_wal_lost"]
    assert said["log_level"] == "error" and "lost" in said["reason"]
