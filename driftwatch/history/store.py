"""The state database itself: schema and migrations, opening it safely, the writer lock, retention.

Why SQLite, and why episodes and the outbox in one file: a transition (drift appeared,
changed, was fixed) and the message that announces it must be recorded together, in one
transaction, so a crash or a restart records both or neither.

Concurrency inside the daemon: the scan thread, the delivery job and the HTTP thread share one
connection, serialised by a lock (SQLite connections are not safe to use from two threads at
once). WAL mode lets a separate ``driftwatch history`` process read while the daemon writes.

Between processes: exactly one daemon may write a state file. Two would each announce every
transition (every Slack message twice). ``Store.open(..., exclusive=True)`` takes an
``fcntl`` lock on a sidecar file (``<path>.lock``) for the life of the store. The kernel drops
the lock when the holder dies, however it dies (SIGKILL, OOM), so a crashed daemon never
blocks its restart; a second live daemon is refused at start, with the holder's pid. (SQLite's
own locks cannot do this: they are held per transaction, not per process lifetime.)

Every failure of the database is a :class:`HistoryError` naming the file and what is wrong
in words an operator can act on: a full disk, a read-only file system, missing permissions,
or a file that really is damaged -- and only then the advice to move it aside, because that
advice throws the history away.
"""

from __future__ import annotations

import errno
import fcntl
import os
import sqlite3
import struct
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from os import PathLike
from pathlib import Path
from typing import Self

from driftwatch.errors import DriftwatchError
from driftwatch.log import get_logger

log = get_logger(__name__)

# --- schema -------------------------------------------------------------------------------------

# Each step takes the schema from version i to i+1 (PRAGMA user_version). Steps are never edited
# once released -- a change is a new step appended at the end -- so any older database can be
# brought forward, each step in its own transaction together with the version bump.
MIGRATIONS: list[tuple[str, ...]] = [
    (
        """
        CREATE TABLE episodes (
            id               INTEGER PRIMARY KEY,
            target           TEXT NOT NULL,
            table_name       TEXT NOT NULL,
            attribute        TEXT NOT NULL,
            region           TEXT,
            address          TEXT,
            source_file      TEXT,
            source_line      INTEGER,
            declared         TEXT NOT NULL,  -- JSON
            live             TEXT NOT NULL,  -- JSON
            first_seen       TEXT NOT NULL,  -- ISO 8601 UTC, fixed width: compares as text
            last_seen        TEXT NOT NULL,
            resolved_at      TEXT,
            resolved_reason  TEXT,
            first_commit     TEXT,
            last_commit      TEXT,
            last_notified_at TEXT
        )
        """,
        # At most one open episode per (target, table, attribute); resolved ones are history.
        # (Version 4 adds the region to this index.)
        """
        CREATE UNIQUE INDEX episodes_open
            ON episodes (target, table_name, attribute) WHERE resolved_at IS NULL
        """,
        "CREATE INDEX episodes_last_seen ON episodes (last_seen)",
        """
        CREATE TABLE outbox (
            id              INTEGER PRIMARY KEY,
            channel         TEXT NOT NULL,
            payload         TEXT NOT NULL,  -- JSON, exactly what is sent
            created_at      TEXT NOT NULL,
            attempts        INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            status          TEXT NOT NULL DEFAULT 'pending'
                            CHECK (status IN ('pending', 'sent', 'dropped')),
            last_error      TEXT,
            sent_at         TEXT
        )
        """,
        "CREATE INDEX outbox_pending ON outbox (channel, status, id)",
        # Small key/value table; the open-time write probe updates it.
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ),
    (
        # In-flight delivery markers become columns (they were ``outbox.attempt:<id>`` and
        # ``outbox.interrupted:<id>`` keys in ``meta``): ``attempt_started_at`` is set from just
        # before a message is handed to its channel until the outcome is recorded, so one found
        # set on the next attempt belongs to an attempt whose process died. ``interrupted``
        # counts such attempts. ``dropped_at`` dates a dropped message for retention.
        "ALTER TABLE outbox ADD COLUMN attempt_started_at TEXT",
        "ALTER TABLE outbox ADD COLUMN interrupted INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE outbox ADD COLUMN dropped_at TEXT",
        """
        UPDATE outbox SET attempt_started_at =
            (SELECT value FROM meta WHERE key = 'outbox.attempt:' || outbox.id)
        """,
        """
        UPDATE outbox SET interrupted = COALESCE(
            (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'outbox.interrupted:' || outbox.id), 0)
        """,
        "DELETE FROM meta WHERE key LIKE 'outbox.attempt:%' OR key LIKE 'outbox.interrupted:%'",
        # Retention deletes by age: resolved episodes and finished messages.
        "CREATE INDEX episodes_resolved ON episodes (resolved_at) WHERE resolved_at IS NOT NULL",
        "CREATE INDEX outbox_created ON outbox (status, created_at)",
    ),
    # Commits first seen (pending applies, see Store.commits_first_seen); pruned by
    # Store.prune_commits only long after any grace (about 100 bytes per commit).
    (
        """
        CREATE TABLE commits_seen (
            sha        TEXT PRIMARY KEY,
            first_seen TEXT NOT NULL  -- ISO 8601 UTC, fixed width
        )
        """,
    ),
    # A table is (target, region, name): DynamoDB names are regional, and one root often
    # declares the same name in two regions (driftwatch.history.ledger). At most one open
    # episode per (target, region, table, attribute) now, so both regions' drift can be open at
    # once. Nothing to fill in: every episode has carried its row's ``region`` since version 1,
    # and the old index allowed one open episode per name, so no two collide here. An episode
    # without a region (NULL: not known when it opened) is kept and goes on matching its name in
    # any region until it takes one; COALESCE makes NULL one value here, so there is at most one
    # such episode per (target, table, attribute).
    (
        "DROP INDEX episodes_open",
        """
        CREATE UNIQUE INDEX episodes_open
            ON episodes (target, COALESCE(region, ''), table_name, attribute) WHERE resolved_at IS NULL
        """,
    ),
]

SCHEMA_VERSION = len(MIGRATIONS)

# Commit sightings kept whatever their age (Store.prune_commits): a few hundred kilobytes.
COMMITS_ALWAYS_KEPT = 1000

_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class HistoryError(DriftwatchError):
    """The history database cannot be used; the message names the file and the cause."""


class StateLockedError(HistoryError):
    """Another live process holds the state file's writer lock."""


def ts(value: datetime) -> str:
    """Fixed-width UTC text, so that SQL comparisons of timestamps are text comparisons.

    A naive datetime is taken to be UTC (what ``datetime.utcnow()`` callers mean).
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime(_TS_FORMAT)


def dt(value: str) -> datetime:
    return datetime.strptime(value, _TS_FORMAT).replace(tzinfo=UTC)


def opt_dt(value: str | None) -> datetime | None:
    return None if value is None else dt(value)


# --- what is wrong with the file -----------------------------------------------------------------

_CORRUPT = "move it aside to start a new history"
SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file
# How long a write waits for another process's transaction (a ``sqlite3`` shell, a backup) to end.
BUSY_TIMEOUT_SECONDS = 10.0


def describe_os_error(code: int | None) -> str | None:
    """Operator words for the errno values a state volume really produces; None for others."""
    if code == errno.ENOSPC:
        return "the disk is full (no space left on device); free space on the volume, or give it more"
    if code == errno.EDQUOT:
        return "the disk quota is exceeded; free space on the volume, or raise the quota"
    if code == errno.EROFS:
        return "the file system is read-only; mount the volume read-write"
    if code in (errno.EACCES, errno.EPERM):
        return (
            "permission denied; let driftwatch's user write the file and its directory "
            "(in Kubernetes: the pod's securityContext.fsGroup)"
        )
    return None


def _directory_problem(path: Path) -> int | None:
    """The errno that writing next to ``path`` would fail with, found by looking (no write)."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        stats = os.statvfs(folder)
    except OSError as error:
        return error.errno
    if stats.f_flag & os.ST_RDONLY:
        return errno.EROFS
    if (stats.f_bavail == 0 and os.geteuid() != 0) or stats.f_bfree == 0:
        return errno.ENOSPC
    writable_dir = os.access(folder, os.W_OK | os.X_OK)
    writable_file = not path.exists() or os.access(path, os.R_OK | os.W_OK)
    if not (writable_dir and writable_file):
        return errno.EACCES
    return None


def _check_integrity(conn: sqlite3.Connection, path: str) -> None:
    """SQLite's ``quick_check`` at open, for the daemon and the reader alike: a damaged file is
    a HistoryError naming it, with the advice for a file that really is damaged."""
    problems = [row[0] for row in conn.execute("PRAGMA quick_check").fetchall()]
    if problems != ["ok"]:
        raise HistoryError(
            f"history database {path} failed its integrity check ({'; '.join(problems[:3])}); {_CORRUPT}"
        )


def _newer_schema(path: str, version: int) -> str:
    return (
        f"history database {path} has schema version {version}, but this driftwatch "
        f"knows versions up to {SCHEMA_VERSION}; it was written by a newer driftwatch"
    )


def open_failure(path: str, error: sqlite3.Error, probe: int | None) -> str:
    """The message for a database that failed to open or prepare.

    ``probe`` is what :func:`_directory_problem` found (an errno, or None). SQLite's own codes
    come first where they are specific (full, read-only, corrupt); SQLite says "disk I/O error"
    or "unable to open" for many causes, so then the file system is asked. Only a damaged file
    gets the advice to move it aside.
    """
    name = getattr(error, "sqlite_errorname", "") or ""
    where = f"history database {path} (state.path)"
    if name.startswith("SQLITE_FULL"):
        probe = errno.ENOSPC
    elif name.startswith("SQLITE_READONLY") and probe is None:
        probe = errno.EACCES
    elif name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return f"{where} is corrupt or not a SQLite database ({error}); {_CORRUPT}"
    elif name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return (
            f"{where}: another process held it locked for more than {BUSY_TIMEOUT_SECONDS:g} s "
            f"({error}): a sqlite3 shell or a backup job with a transaction open on the file; end it"
        )
    described = describe_os_error(probe)
    if described is not None:
        return f"{where}: cannot write it: {described} ({error})"
    return f"{where}: cannot use it ({error}); check the volume and the file's permissions"


def _check_path(name: str) -> None:
    """Refuse a state path that is a directory, or an existing file that is not SQLite: SQLite
    would quietly turn a short text file into a database, overwriting it."""
    path = Path(name)
    if path.is_dir():
        raise HistoryError(f"history database {name} (state.path) is a directory; name a file in it")
    try:
        with path.open("rb") as handle:
            header = handle.read(16)
    except FileNotFoundError:
        return
    except OSError as error:
        cause = describe_os_error(error.errno) or error.strerror or error
        raise HistoryError(f"history database {name} (state.path): cannot read it: {cause}") from None
    if not header:
        # SQLite takes an empty file for a new database: said, since a daemon that ran before
        # had a history here (truncated while it was down), now gone without a word.
        log.error(
            "history_file_empty",
            path=name,
            reason="state.path exists but is empty (0 bytes): a new history starts here. If "
            "driftwatch ran before, its history was truncated: open drift is announced again as "
            "new, and messages not yet delivered are lost. Restore the file from a backup to keep it",
        )
    elif header != SQLITE_HEADER:
        raise HistoryError(
            f"history database {name} (state.path) is not a SQLite database; "
            "point state.path at a new file, or move this one aside"
        )


def lost_wal_frames(name: str) -> int:
    """Frames of committed writes that ``name``'s write-ahead log should hold and does not: 0 but
    for a log deleted or cut short before they reached the main file (a daemon killed since).

    SQLite's shared-memory index (``<name>-shm``, left behind by a process that did not close
    the database) records how many frames the log held (``mxFrame``) and how many of them are
    already in the main file (``nBackfill``): https://www.sqlite.org/walformat.html. The rest
    were only in the log. SQLite itself starts a new, shorter history without a word.
    """
    try:
        with open(f"{name}-shm", "rb") as file:
            header = file.read(136)
    except OSError:
        return 0  # none (a clean stop removes it), or unreadable: SQLite's own error says that
    if len(header) < 136 or header[:48] != header[48:96]:
        return 0  # not initialised, or being written: nothing to go by
    version, _, _, initialised, _, page_size, frames = struct.unpack_from("=IIIBBHI", header)
    (backfilled,) = struct.unpack_from("=I", header, 96)
    if version != 3007000 or not initialised or frames <= backfilled:
        return 0
    page_size = 65536 if page_size == 1 else page_size
    try:
        held = os.stat(f"{name}-wal").st_size
    except FileNotFoundError:
        held = 0
    except OSError:
        return 0
    needed = 32 + frames * (24 + page_size)  # the log's header, then each frame's header and page
    return 0 if held >= needed else frames - max(backfilled, (held - 32) // (24 + page_size), 0)


def _say_lost_wal(name: str) -> None:
    """Say at start what a write-ahead log lost while no process could notice (see above)."""
    frames = lost_wal_frames(name)
    if frames:
        log.error(
            "history_wal_lost",
            path=name,
            frames=frames,
            reason=f"the write-ahead log {name}-wal was deleted or cut short before its last writes "
            "reached the file (deleted while driftwatch ran and driftwatch killed before its next "
            f"write, or deleted after a crash): {frames} page write(s) since the last checkpoint "
            "are lost. The history starts from that checkpoint: drift opened since "
            "is announced again as new, drift fixed since may be announced fixed again, messages "
            "queued since and not delivered are gone. Check what removes the state volume's files",
        )


# --- the writer lock -----------------------------------------------------------------------------


class WriterLock:
    """An exclusive ``flock`` on ``<database>.lock``, held until :meth:`release`.

    The file holds the holder's pid, for the message a second daemon gets. It is never
    deleted: deleting a lock file races with a process that is opening it.
    """

    def __init__(self, database: str) -> None:
        self.path = f"{database}.lock"
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as error:
            cause = describe_os_error(error.errno) or error.strerror or error
            raise HistoryError(
                f"history database {database} (state.path): cannot create its lock file {self.path}: {cause}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            holder = _read_pid(fd)
            os.close(fd)
            if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                who = f" (pid {holder})" if holder else ""
                raise StateLockedError(
                    f"history database {database} (state.path) is in use by another driftwatch "
                    f"daemon{who}: only one daemon may write a state file, or every Slack message "
                    "is sent twice. Stop the other one, or give this one its own state.path"
                ) from None
            raise HistoryError(f"history database {database}: cannot lock {self.path}: {error}") from None
        try:  # the pid is for the message a second daemon gets; a full disk must not stop us here
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError:
            pass
        self._fd: int | None = fd

    def intact(self) -> bool:
        """Whether ``path`` is still the file this lock is held on (not deleted or replaced)."""
        if self._fd is None:
            return False
        try:
            held, named = os.fstat(self._fd), os.stat(self.path)
        except FileNotFoundError:
            return False
        except OSError:
            return True  # cannot tell: keep the lock we have
        return (held.st_dev, held.st_ino) == (named.st_dev, named.st_ino)

    def release(self) -> None:
        if self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            finally:
                os.close(self._fd)
                self._fd = None


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
        return int(text) if text.isascii() and text.isdigit() else None
    except OSError:
        return None


# --- the store -----------------------------------------------------------------------------------


def _connect(name: str) -> sqlite3.Connection:
    """The store's connection to ``name``: autocommit (transactions are explicit), shared by the
    daemon's threads, waiting up to BUSY_TIMEOUT_SECONDS for another process's transaction."""
    conn = sqlite3.connect(name, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    return conn


def _back_up(source: sqlite3.Connection, staging: str, *, checked: bool = False) -> None:
    """SQLite's backup of the open database ``source`` into the file ``staging``; ``checked``:
    the copy must pass ``quick_check`` (its pages may come from a damaged file)."""
    copy = sqlite3.connect(staging)
    try:
        source.backup(copy)
        if checked:
            problems = [row[0] for row in copy.execute("PRAGMA quick_check").fetchall()]
            if problems != ["ok"]:
                raise sqlite3.DatabaseError("; ".join(problems[:3]))
    finally:
        copy.close()


def _has_sqlite_header(fd: int) -> bool:
    """Whether the file open as ``fd`` still starts as every SQLite database does; True when it
    cannot be read (SQLite's own error says that next).

    Read through a descriptor the store keeps open for its life, never by opening the file
    again: a process's POSIX locks on a file go with the first descriptor of it the process
    closes, so that close dropped SQLite's own shared lock (sqlite.org/howtocorrupt.html, 2.2).
    Another process closing its connection then took itself for the last one, checkpointed,
    and deleted the write-ahead log this connection went on writing into, unseen by any reader.
    """
    try:
        return os.pread(fd, len(SQLITE_HEADER), 0) == SQLITE_HEADER
    except OSError:
        return True


def _identity(path: str) -> tuple[int, int]:
    stats = os.stat(path)
    return stats.st_dev, stats.st_ino


def _fd_identity(fd: int) -> tuple[int, int] | None:
    try:
        stats = os.fstat(fd)
    except OSError:
        return None
    return stats.st_dev, stats.st_ino


def _wal_identity(path: str) -> tuple[int, int] | None:
    """The identity of ``path``'s write-ahead log, None when there is none (not in WAL mode)."""
    try:
        return _identity(f"{path}-wal")
    except OSError:
        return None


def _read_only_mode(name: str) -> str:
    """The URI parameters of a read-only connection to ``name``.

    With a write-ahead log (a daemon has the file open, or was killed), ``mode=ro``: SQLite
    reads the log's committed writes and takes its read locks. Without one (and without a
    rollback journal), every committed write is in the file: ``immutable=1`` reads it with no
    ``-wal`` / ``-shm`` created. ``mode=ro`` would create both in WAL mode and could not remove
    them at close (left owned by whoever ran ``driftwatch history``, which a daemon of another
    user then cannot open), and where it cannot create them (a read-only mount, a copy in a
    directory it cannot write) it refuses to read at all. A daemon starting during the read
    can make this one read fail; it never changes the file.
    """
    if any(os.path.lexists(f"{name}{suffix}") for suffix in ("-wal", "-journal")):
        return "mode=ro"
    return "mode=ro&immutable=1"


class Store:
    """One connection to the state database; create with :meth:`open`."""

    def __init__(self, path: str, connection: sqlite3.Connection, lock: WriterLock | None = None) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = connection
        self._lock = threading.RLock()
        self._writer_lock = lock
        self._relock_failure: str | None = None  # why the lock file could not be made again, said once
        self._identity: tuple[int, int] | None = None  # (st_dev, st_ino) of the file opened
        self._wal: tuple[int, int] | None = None  # and of its write-ahead log (``<path>-wal``)
        self._file: int | None = None  # a descriptor of that file, for its header (_has_sqlite_header)
        self._read_only = False  # open_read_only: every write is refused

    @classmethod
    def open(cls, path: str | PathLike[str], *, exclusive: bool = False) -> Self:
        """Open (creating if needed) and migrate the database, or raise a clear HistoryError.

        Everything that can be wrong with the file is found here, before the first scan: a file
        that is not SQLite or is damaged (integrity check), a schema newer than this version, a
        directory or file we cannot write (a write probe, which also creates the WAL files).
        ``exclusive``: the daemon's writer lock (see the module docstring), taken first.
        """
        name = str(path)
        in_memory = name == ":memory:" or name.startswith("file::memory:")
        if not in_memory:
            _check_path(name)
            try:
                Path(name).parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                cause = describe_os_error(error.errno) or error.strerror or error
                raise HistoryError(
                    f"history database {name} (state.path): cannot create its directory: {cause}"
                ) from error
        writer_lock = WriterLock(name) if exclusive and not in_memory else None
        if writer_lock is not None:
            # Before SQLite opens it, which forgets the index; only under the writer lock, when
            # no connection of this process has the index open (see _has_sqlite_header).
            _say_lost_wal(name)
        try:
            try:
                conn = _connect(name)
            except sqlite3.Error as error:
                raise HistoryError(open_failure(name, error, _directory_problem(Path(name)))) from error
            store = cls(name, conn, writer_lock)
            try:
                store._prepare(in_memory)
                if not in_memory:
                    store._remember_files()
            except HistoryError:
                conn.close()
                raise
            except sqlite3.Error as error:
                conn.close()
                probe = None if in_memory else _directory_problem(Path(name))
                raise HistoryError(open_failure(name, error, probe)) from error
        except BaseException:
            if writer_lock is not None:
                writer_lock.release()
            raise
        return store

    @classmethod
    def open_read_only(cls, path: str | PathLike[str]) -> Self:
        """Open an existing database to read it, changing nothing: for ``driftwatch history``.

        The daemon's :meth:`open` migrates and writes (a probe, ``last_opened_at``). A reader
        run beside a live daemon (``kubectl exec``) must do neither: a newer CLI would migrate
        the schema under the running daemon, which then refuses its own file at its next start,
        and a copy of the file on a read-only mount could not be read at all. A schema other
        than this version's is an error that says which, instead of a migration.
        """
        name = str(path)
        with suppress(OSError):  # else _check_path says why it cannot be read
            if Path(name).is_file() and Path(name).stat().st_size == 0:
                raise HistoryError(f"history database {name} (state.path) is empty (0 bytes): no history")
        _check_path(name)
        try:
            conn = sqlite3.connect(
                f"{Path(name).resolve().as_uri()}?{_read_only_mode(name)}",
                uri=True,
                timeout=BUSY_TIMEOUT_SECONDS,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as error:
            raise HistoryError(open_failure(name, error, _directory_problem(Path(name)))) from error
        conn.row_factory = sqlite3.Row
        store = cls(name, conn)
        store._read_only = True
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
            _check_integrity(conn, name)
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise HistoryError(_newer_schema(name, version))
            if version < SCHEMA_VERSION:
                raise HistoryError(
                    f"history database {name} has schema version {version}; this driftwatch reads "
                    f"version {SCHEMA_VERSION}. It is not migrated from here (a daemon may be using "
                    "it): the daemon of this version migrates it when it starts"
                )
        except HistoryError:
            conn.close()
            raise
        except sqlite3.Error as error:
            conn.close()
            raise HistoryError(open_failure(name, error, _directory_problem(Path(name)))) from error
        return store

    def _prepare(self, in_memory: bool) -> None:
        conn = self._connection()
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal" and not in_memory:
            log.warning("history_not_wal", path=self._path, journal_mode=mode)
        # FULL: a message marked sent must stay marked sent across a power loss (else resent).
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        _check_integrity(conn, self._path)
        self._migrate()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('last_opened_at', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (ts(datetime.now(UTC)),),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.rollback()
            raise

    def _migrate(self) -> None:
        conn = self._connection()
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise HistoryError(_newer_schema(self._path, version))
        for number in range(version, SCHEMA_VERSION):
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in MIGRATIONS[number]:
                    conn.execute(statement)
                # PRAGMA user_version is transactional: the bump commits with the step or not at all.
                conn.execute(f"PRAGMA user_version = {number + 1}")
                conn.execute("COMMIT")
            except BaseException:
                conn.rollback()
                raise
            log.info("history_migrated", path=self._path, schema_version=number + 1)

    @property
    def path(self) -> str:
        return self._path

    @property
    def schema_version(self) -> int:
        with self._read() as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    @property
    def closed(self) -> bool:
        return self._conn is None

    def close(self) -> None:
        """Close the connection and release the writer lock (idempotent); later calls raise
        HistoryError. Waits for a transaction in progress on another thread to end first."""
        with self._lock:
            try:
                if self._conn is not None:
                    try:
                        self._conn.close()
                    finally:
                        self._conn = None
            finally:
                self._close_file()  # after the connection: SQLite's locks are gone with it
                if self._writer_lock is not None:
                    self._writer_lock.release()
                    self._writer_lock = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _check_file(self) -> None:
        """Before a write: is ``state.path`` still the file this connection writes?

        A deleted file (``rm -rf`` of the state directory) goes on accepting writes through
        the open connection, and all of them vanish with the process: the next start forgets
        open drift (re-alerting it as new) and undelivered messages, and the lock file went
        with it (a second daemon could start). So the file is put back, whole, from this
        connection, under a new writer lock. A file *replaced* by another one is not ours to
        overwrite: the write fails, saying so.
        """
        if self._identity is None or self._conn is None:
            return
        try:
            found: tuple[int, int] | None = _identity(self._path)
        except FileNotFoundError:
            found = None
        except OSError:
            return  # e.g. a permission problem: SQLite's own error says it next
        if found == self._identity:
            if self._writer_lock is not None and not self._writer_lock.intact():
                self._relock()
            if self._file is not None and not _has_sqlite_header(self._file):
                self._restore_damaged_file()
            elif self._wal is not None and _wal_identity(self._path) != self._wal:
                self._restore_wal()
            return
        if found is not None:
            raise HistoryError(
                f"history database {self._path} (state.path) was replaced by another file while "
                "driftwatch ran; not written. Restart driftwatch to use the new file"
            )
        self._restore_deleted_file()

    def _relock(self) -> None:
        """The lock file alone was deleted: take the lock again on a new one (or stop writing,
        if another daemon took it meanwhile).

        A lock file that cannot be made again (a directory in its place, its directory
        read-only) is said once, and the writes go on under the lock still held: no other
        process can take one at that path either. Refusing them failed every scan until a
        restart, which could not start."""
        try:
            lock = WriterLock(self._path)
        except StateLockedError:
            raise
        except HistoryError as error:
            if self._relock_failure is None:
                log.error(
                    "history_lock_not_restored",
                    error=str(error),
                    detail="the lock file was removed or replaced while driftwatch ran and cannot "
                    "be made again; this daemon keeps the lock it holds and goes on writing. A "
                    "restart fails until the path is a file again (remove what is there)",
                )
            self._relock_failure = str(error)
            return
        if self._writer_lock is not None:
            self._writer_lock.release()
        self._writer_lock = lock
        self._relock_failure = None
        log.error(
            "history_lock_restored",
            path=lock.path,
            reason="the state file's lock file was deleted while driftwatch ran; taken again",
        )

    def _restore_deleted_file(self) -> None:
        """Copy the deleted database (still open here) back to its path and switch to it."""
        old = self._connection()
        name = self._path
        try:
            Path(name).parent.mkdir(parents=True, exist_ok=True)
            lock = WriterLock(name) if self._writer_lock is not None else None
        except OSError as error:
            cause = describe_os_error(error.errno) or error.strerror or error
            raise HistoryError(
                f"history database {name} (state.path) was deleted while driftwatch ran, "
                f"and cannot be put back: {cause}"
            ) from None
        staging = f"{name}.restoring"
        try:
            _back_up(old, staging)
            os.replace(staging, name)
            conn = _connect(name)
        except (sqlite3.Error, OSError) as error:
            if lock is not None:
                lock.release()
            raise HistoryError(
                f"history database {name} (state.path) was deleted while driftwatch ran, "
                f"and cannot be put back ({error})"
            ) from error
        old.close()
        if self._writer_lock is not None:
            self._writer_lock.release()
        self._writer_lock = lock
        self._adopt(conn, "the state file was deleted", "removes")

    def _restore_damaged_file(self) -> None:
        """The file truncated or overwritten in place (same inode, no SQLite header): the open
        connection went on reading its cache and writing its WAL, every scan a success, and the
        next start found no database at all. Written back from the connection (SQLite's backup,
        checked whole before it replaces anything), or, when the connection can no longer read
        it either, a write refused with what to do."""
        old = self._connection()
        name = self._path
        staging = f"{name}.restoring"
        damaged = (
            f"history database {name} (state.path) was damaged (truncated or overwritten in "
            "place) while driftwatch ran"
        )
        try:
            _back_up(old, staging, checked=True)
        except (sqlite3.Error, OSError) as error:
            with suppress(OSError):
                os.unlink(staging)
            raise HistoryError(
                f"{damaged}, and cannot be put back from memory ({error}); not written. "
                "Stop driftwatch, restore it from a backup (or move it aside to start a new "
                "history), and restart"
            ) from None
        # The old connection is closed first: it checkpoints into the damaged file and removes
        # the WAL, which the file written back must not inherit (the WAL's path is the same).
        self._conn = None
        try:
            old.close()
            os.replace(staging, name)
            conn = _connect(name)
        except (sqlite3.Error, OSError) as error:
            raise HistoryError(f"{damaged}, and cannot be put back ({error})") from error
        self._adopt(conn, "the state file was truncated or overwritten", "writes to")

    def _restore_wal(self) -> None:
        """The write-ahead log (``<path>-wal``) deleted or replaced alone, the main file intact:
        the connection went on writing into the log it has open, which no later start sees, so
        everything since the last checkpoint (SQLite's, every 1,000 pages) vanished with the
        process. That log is copied into the main file (a checkpoint, through this connection),
        then the file is opened again, with a new log at its path."""
        old = self._connection()
        name = self._path
        lost = (
            f"history database {name} (state.path): its write-ahead log {name}-wal was deleted or "
            "replaced while driftwatch ran"
        )
        try:
            # TRUNCATE: every frame copied and the log emptied, so no reader is sent to it again.
            busy, frames, copied = old.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.Error as error:
            raise HistoryError(f"{lost}, and its last writes cannot be saved ({error})") from error
        if busy:
            raise HistoryError(
                f"{lost}, and its last writes cannot be saved yet: another process reads the file "
                f"(copied {copied} of {frames} frames); not written. End that process (a sqlite3 shell, "
                "`driftwatch history`), or the next restart loses them"
            )
        self._conn = None
        try:
            old.close()
            conn = _connect(name)
        except (sqlite3.Error, OSError) as error:
            raise HistoryError(f"{lost}, and the file cannot be opened again ({error})") from error
        self._adopt(conn, f"the state file's write-ahead log ({name}-wal) was deleted or replaced", "removes")

    def _remember_files(self) -> None:
        """The file and its write-ahead log as opened: each write checks they are still there.
        A descriptor of the file is kept for its header; one of a file written back over is
        closed (no connection of this process has that file open any more)."""
        identity = _identity(self._path)
        if self._file is None or _fd_identity(self._file) != identity:
            self._close_file()
            with suppress(OSError):  # unreadable: SQLite's own error says so next
                self._file = os.open(self._path, os.O_RDONLY | os.O_CLOEXEC)
        self._identity = identity
        self._wal = _wal_identity(self._path)

    def _close_file(self) -> None:
        if self._file is not None:
            with suppress(OSError):
                os.close(self._file)
            self._file = None

    def _adopt(self, conn: sqlite3.Connection, what: str, culprit: str) -> None:
        """Go on with ``conn``, the file written back after ``what`` under the daemon."""
        self._conn = conn
        self._prepare(in_memory=False)
        self._remember_files()
        log.error(
            "history_file_restored",
            path=self._path,
            reason=f"{what} while driftwatch ran; it is written back from the open database, "
            f"nothing lost. Check what {culprit} the state volume's files",
        )

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise HistoryError(f"history database {self._path} is closed")
        return self._conn

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._connection()
            try:
                yield conn
            except sqlite3.Error as error:
                raise HistoryError(f"history database {self._path}: read failed: {error}") from error

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed as a whole, or rolled back on any exception.

        BEGIN IMMEDIATE takes the write lock up front, so a concurrent ``driftwatch history``
        process makes us wait (busy_timeout) instead of failing half-way.
        """
        with self._lock:
            if self._read_only:
                raise HistoryError(f"history database {self._path} was opened read-only")
            self._check_file()
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise HistoryError(f"history database {self._path}: cannot start a write: {error}") from error
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as error:
                if conn.in_transaction:
                    conn.rollback()
                if isinstance(error, sqlite3.Error):
                    raise HistoryError(f"history database {self._path}: write failed: {error}") from error
                raise

    # --- commits first seen (pending applies) ---
    # The pending grace runs from when the daemon first saw a commit (driftwatch.settle), which
    # survives a restart only if it is written down.

    def commits_first_seen(self, commits: Iterable[str]) -> dict[str, datetime]:
        """sha -> when the daemon first saw it, for the commits it has seen."""
        wanted = list(dict.fromkeys(commits))
        found: dict[str, datetime] = {}
        with self._read() as conn:
            for start in range(0, len(wanted), 500):  # within SQLite's limit on parameters
                chunk = wanted[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                rows = conn.execute(
                    f"SELECT sha, first_seen FROM commits_seen WHERE sha IN ({marks})", chunk
                ).fetchall()
                found.update((row["sha"], dt(row["first_seen"])) for row in rows)
        return found

    def remember_commits(self, first_seen: Mapping[str, datetime]) -> None:
        """Record first sightings; a commit already recorded keeps its first one, unless the new
        one is earlier (a sighting dated while the clock ran ahead, seen again by the corrected
        clock: driftwatch.settle.commit_times)."""
        with self._write() as conn:
            conn.executemany(
                "INSERT INTO commits_seen (sha, first_seen) VALUES (?, ?) ON CONFLICT (sha) DO UPDATE "
                "SET first_seen = excluded.first_seen WHERE excluded.first_seen < commits_seen.first_seen",
                [(sha, ts(when)) for sha, when in first_seen.items()],
            )

    def prune_commits(self, before: datetime, keep_newest: int = COMMITS_ALWAYS_KEPT) -> int:
        """Forget commit sightings older than ``before``, except the ``keep_newest`` newest.

        A sighting matters while its commit can be inside a pending grace. ``before`` must be
        far behind the longest grace (the daemon passes at least twice it). Forgetting is
        safe then: an unrecorded commit older than a recorded one is timed by its committer
        date, and sightings are forgotten oldest first, so a commit's newer descendants on the
        first-parent chain (seen no earlier) are kept while it is. The newest sightings are
        always kept, so a repository without commits for longer than the retention still has
        its HEAD recorded: a HEAD dated in the future is not given a fresh grace.
        Returns the number of sightings deleted.
        """
        with self._write() as conn:
            return int(
                conn.execute(
                    "DELETE FROM commits_seen WHERE first_seen < ? AND sha NOT IN "
                    "(SELECT sha FROM commits_seen ORDER BY first_seen DESC LIMIT ?)",
                    (ts(before), keep_newest),
                ).rowcount
            )

    # --- retention ---

    def prune(self, before: datetime) -> tuple[int, int]:
        """Delete resolved episodes and finished (sent or dropped) messages older than ``before``.

        Returns (episodes, messages) deleted. Open episodes and pending messages are never
        deleted, however old: they are the work still to do. SQLite reuses the freed pages, so
        the file stops growing once retention is reached (no VACUUM, which would rewrite it).
        """
        stamp = ts(before)
        with self._write() as conn:
            episodes = conn.execute(
                "DELETE FROM episodes WHERE resolved_at IS NOT NULL AND resolved_at < ?", (stamp,)
            ).rowcount
            messages = conn.execute(
                "DELETE FROM outbox WHERE status IN ('sent', 'dropped') "
                "AND COALESCE(sent_at, dropped_at, created_at) < ?",
                (stamp,),
            ).rowcount
        return episodes, messages
