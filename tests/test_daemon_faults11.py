"""Daemon faults of the eleventh hunt: the state file's write-ahead log deleted under the running
daemon.

It used to go unsaid: the daemon went on as if nothing had happened, and the loss showed only at
the next start (open drift and queued alerts gone)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog

from driftwatch.history import History
from driftwatch.notify.slack import SlackNotifier

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


READER = """
import sqlite3, sys
conn = sqlite3.connect(f"file:{sys.argv[1]}?mode=rw", uri=True, timeout=10)
print(conn.execute("SELECT status FROM outbox WHERE id = ?", (int(sys.argv[2]),)).fetchone()[0])
conn.close()
"""


def read_elsewhere(state: Path, message_id: int) -> str:
    """A message's status as another process reads it (a `sqlite3` shell, a backup job, the
    durability test's harness), closing its connection after."""
    found = subprocess.run(
        [sys.executable, "-c", READER, str(state), str(message_id)],
        capture_output=True,
        text=True,
        check=True,
    )
    return found.stdout.strip()


def test_another_process_closing_the_database_never_deletes_the_log_the_daemon_writes(tmp_path: Path) -> None:
    """The check before each write (is the file still SQLite?) opened and closed the database
    file in the daemon's process, and closing any descriptor of a file drops every POSIX lock
    the process holds on it: SQLite's own shared lock, held for as long as the connection is
    open, was gone after the first write. Another process closing its connection then took
    itself for the last one, checkpointed and deleted the write-ahead log the daemon still wrote
    to: from then on every write went into a deleted file, which no reader saw (the durability
    test's harness saw a message stay unsent for good) and a SIGKILL lost. The check reads the
    header through a descriptor kept open for the life of the store."""
    state = tmp_path / "state.db"
    with History.open(state, exclusive=True) as history:
        message = history.enqueue("slack", {"text": "queued"}, T0)
        wal = os.stat(f"{state}-wal").st_ino
        assert read_elsewhere(state, message) == "pending"
        with structlog.testing.capture_logs() as logs:
            history.mark_sent(message, T0)
        assert os.stat(f"{state}-wal").st_ino == wal
        assert not [e for e in logs if e["event"] == "history_file_restored"]
        assert read_elsewhere(state, message) == "sent"


def test_messages_queued_before_the_clock_was_set_back_are_not_held_by_it(tmp_path: Path) -> None:
    """The wall clock set back by up to an hour (an NTP step after a VM resumed, a host clock
    kept in local time): a message queued just before, never tried yet, was dated "due" up to an
    hour ahead of the corrected clock. The outbox took it for a message backing off, so it and
    every later message of its channel (the order rule) waited for the clock to catch up: an
    hour of silence with Slack healthy. A message never tried is due whatever its date says;
    one really backing off still holds the channel, in order."""
    with History.open(tmp_path / "state.db") as history:
        first = history.enqueue("slack", {"text": "new drift"}, T0)
        second = history.enqueue("slack", {"text": "resolved"}, T0)
        set_back = T0 - timedelta(minutes=50)
        third = history.enqueue("slack", {"text": "queued after"}, set_back)
        assert [m.id for m in history.pending("slack", set_back)] == [first, second, third]
        history.mark_retry(first, set_back, 30.0, "HTTP 500: oops")  # a real backoff: still in order
        assert history.pending("slack", set_back) == []
        later = set_back + timedelta(seconds=31)
        assert [m.id for m in history.pending("slack", later)] == [first, second, third]


# --- a webhook whose answer's body never ends ---------------------------------------------------


class EndlessBody:
    """A webhook that reads the request, sends a status line, headers and the start of a body,
    then either stalls (``Content-Length`` larger than what it sends) or streams junk for ever."""

    def __init__(self, status: bytes, start: bytes, stream: bool) -> None:
        self.status, self.start, self.stream = status, start, stream
        self.requests = 0
        self.server = socket.create_server(("127.0.0.1", 0))
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.getsockname()[1]}/services/T0/B0/endless-secret"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.requests += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn, suppress(OSError):
            conn.recv(65536)
            length = b"Content-Length: 10000000000"  # 10 GB declared: never all of it sent
            head = b"HTTP/1.1 %s\r\nContent-Type: text/plain\r\n%s\r\n\r\n" % (self.status, length)
            conn.sendall(head + self.start)
            while not self._stop.wait(0 if self.stream else 0.05):
                if self.stream:
                    conn.sendall(b"x" * 65536)

    def close(self) -> None:
        self._stop.set()
        self.server.close()


@pytest.mark.parametrize(
    ("status", "start", "stream", "outcome", "error"),
    [
        (b"200 OK", b"ok", False, "success", None),  # a wrong Content-Length, a proxy that stalls
        (b"500 Internal Server Error", b"oops ", True, "retry", "HTTP 500: oops"),  # 10 GB of it
        (b"404 Not Found", b"no_service", False, "retry", "HTTP 404: no_service"),
    ],
    ids=["200-stalls", "500-endless", "404-stalls"],
)
def test_an_answer_whose_body_never_ends_is_judged_on_what_arrived(
    tmp_path: Path, status: bytes, start: bytes, stream: bool, outcome: str, error: str | None
) -> None:
    """Slack's answer is known once its status line and headers are in. A 200 ``ok`` whose body
    then stopped coming timed out and counted as no answer: the message, posted, was posted again
    as a possible repeat at every retry, and every later message of the channel waited behind it
    for good. A 4xx or 5xx body was read whole by slack_sdk, however long (10 GB: the daemon runs
    out of memory; endless: it held the delivery until the exchange's bound, "no complete
    answer"). Every answer's body is now at most 64 KiB and what arrived within the socket
    timeout, and judged as any other."""
    webhook = EndlessBody(status, start, stream)
    try:
        with History.open(tmp_path / "state.db") as history:
            outcomes: list[str] = []
            notifier = SlackNotifier(webhook.url, history, timeout=1, on_outcome=outcomes.append)
            queued = history.enqueue("slack", {"text": "drift", "blocks": []}, T0)
            notifier.deliver_pending(T0)
            assert outcomes == [outcome] and webhook.requests == 1
            message = history.message(queued)
            assert message is not None and message.interrupted == 0  # never "it may have been posted"
            if error is None:
                assert message.status.value == "sent"
            else:
                assert message.status.value == "pending" and (message.last_error or "").startswith(error)
    finally:
        webhook.close()
