"""Drift history and the notification outbox, in one SQLite database.

Why SQLite, and why both in one file: a transition (drift appeared, changed, was fixed) and the
message that announces it must be recorded together. ``record_scan`` writes the episodes and
queues the messages in ONE transaction, so a crash or a restart records both or neither: each
transition is queued at most once, and a queued message is delivered at least once eventually
(it is marked sent only after Slack accepted it; an attempt cut short by a crash is recorded,
so the resend is marked as a possible repeat -- see ``begin_attempt``). A restart therefore
neither forgets open drift nor re-announces it.

An *episode* is one stretch of time during which one attribute of one table of one target
drifts: it opens when the drift is first seen and is resolved when a scan that could look at
the table no longer sees it. A table that could not be read (status ``error``) or a target
whose configuration did not parse says nothing about its drift, so its episodes stay open --
an outage or a typo must never look like a fix.

Concurrency: the daemon's scan thread, delivery job and HTTP thread share one connection,
serialised by a lock (SQLite connections are not safe to use from two threads at once). WAL
mode lets a separate ``driftwatch history`` process read while the daemon writes.

Every failure of the database is a :class:`HistoryError` naming the file; ``History.open``
checks integrity and writability up front so that a corrupt or read-only file stops the
daemon at start with a clear message, not in the middle of a scan.
"""

from __future__ import annotations

import enum
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from os import PathLike
from pathlib import Path
from typing import Any

import structlog

from driftwatch.spec import ScanReport, SourceLocation, TableStatus

log = structlog.get_logger(__name__)

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
    # --- commits first seen (pending applies): see History.commits_first_seen ---
    (
        """
        CREATE TABLE commits_seen (
            sha        TEXT PRIMARY KEY,
            first_seen TEXT NOT NULL  -- ISO 8601 UTC, fixed width
        )
        """,
    ),
]

SCHEMA_VERSION = len(MIGRATIONS)

_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class HistoryError(Exception):
    """The history database cannot be used; the message names the file and the cause."""


def _ts(value: datetime) -> str:
    """Fixed-width UTC text, so that SQL comparisons of timestamps are text comparisons.

    A naive datetime is taken to be UTC (what ``datetime.utcnow()`` callers mean).
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime(_TS_FORMAT)


def _dt(value: str) -> datetime:
    return datetime.strptime(value, _TS_FORMAT).replace(tzinfo=UTC)


def _opt_dt(value: str | None) -> datetime | None:
    return None if value is None else _dt(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    if isinstance(value, Mapping):
        return dict(value)
    return str(value)


def to_json(value: Any) -> str:
    """Canonical JSON (sorted keys, compact), so equal values are equal strings: a value that
    only changed representation (tuple vs list, key order) is not reported as ``changed``."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_json_default)


# --- values ---------------------------------------------------------------------------------------


class TransitionKind(enum.StrEnum):
    NEW = "new"  # an attribute started to drift
    CHANGED = "changed"  # still drifting, but the declared or the live value is different now
    RESOLVED = "resolved"  # no longer drifts (fixed), or the table is no longer declared
    MISSING = "missing"  # a declared table appeared to be absent in AWS (attribute ``table``)
    UNMANAGED = "unmanaged"  # a live table no declaration covers (attribute ``table``, declared None)


class ResolveReason(enum.StrEnum):
    FIXED = "fixed"
    NO_LONGER_DECLARED = "no longer declared"
    IGNORED = "ignored"  # an ignore rule accepts it now
    NO_LONGER_UNMANAGED = "no longer unmanaged"  # declared in git now, or deleted


@dataclass(frozen=True)
class Transition:
    """One change of drift state found by a scan; what a notification is made of.

    ``previous_declared``/``previous_live`` are set for ``changed`` only. For ``resolved``,
    ``declared``/``live`` are the last values seen while it drifted and ``reason`` says why.
    """

    kind: TransitionKind
    target: str
    table: str
    attribute: str
    region: str | None
    address: str | None
    source: SourceLocation | None
    declared: Any
    live: Any
    first_seen: datetime
    at: datetime
    previous_declared: Any = None
    previous_live: Any = None
    reason: str | None = None


@dataclass(frozen=True)
class Transitions:
    """The transitions of one scan (empty when nothing changed); sized and iterable."""

    items: tuple[Transition, ...]
    commit: str | None
    at: datetime

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Transition]:
        return iter(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def of(self, kind: TransitionKind) -> tuple[Transition, ...]:
        return tuple(t for t in self.items if t.kind is kind)


@dataclass(frozen=True)
class Episode:
    """One drift episode as stored; ``open`` while ``resolved_at`` is None."""

    id: int
    target: str
    table: str
    attribute: str
    region: str | None
    address: str | None
    source: SourceLocation | None
    declared: Any
    live: Any
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None
    resolved_reason: str | None
    first_commit: str | None
    last_commit: str | None
    last_notified_at: datetime | None

    @property
    def open(self) -> bool:
        return self.resolved_at is None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.target, self.table, self.attribute)


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DROPPED = "dropped"


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    channel: str
    payload: dict[str, Any]
    created_at: datetime
    attempts: int
    next_attempt_at: datetime
    status: OutboxStatus
    last_error: str | None
    # Attempts whose outcome was never recorded (the process died while sending): the message may
    # have reached the channel already, so a later send of it may be a repeat.
    interrupted: int = 0


# Delivery attempts in flight, and the number of interrupted attempts of a message, are kept in
# ``meta`` (no schema change): ``outbox.attempt:<id>`` exists from just before a message is
# handed to the channel until its outcome is recorded, so one found there on the next attempt
# belongs to an attempt whose process died -- Slack may or may not have posted it.
_ATTEMPT = "outbox.attempt:"
_INTERRUPTED = "outbox.interrupted:"


ScanFormatter = Callable[[Transitions], "dict[str, Any] | None"]
ReminderFormatter = Callable[[Sequence[Episode], datetime], "dict[str, Any] | None"]


@dataclass(frozen=True)
class _Channel:
    on_scan: ScanFormatter
    on_reminder: ReminderFormatter


_EPISODE_COLUMNS = (
    "id, target, table_name, attribute, region, address, source_file, source_line, declared, live, "
    "first_seen, last_seen, resolved_at, resolved_reason, first_commit, last_commit, last_notified_at"
)
_OUTBOX_COLUMNS = "id, channel, payload, created_at, attempts, next_attempt_at, status, last_error"


def _episode(row: sqlite3.Row) -> Episode:
    source = (
        SourceLocation(row["source_file"], row["source_line"] or 0)
        if row["source_file"] is not None
        else None
    )
    return Episode(
        id=row["id"],
        target=row["target"],
        table=row["table_name"],
        attribute=row["attribute"],
        region=row["region"],
        address=row["address"],
        source=source,
        declared=json.loads(row["declared"]),
        live=json.loads(row["live"]),
        first_seen=_dt(row["first_seen"]),
        last_seen=_dt(row["last_seen"]),
        resolved_at=_opt_dt(row["resolved_at"]),
        resolved_reason=row["resolved_reason"],
        first_commit=row["first_commit"],
        last_commit=row["last_commit"],
        last_notified_at=_opt_dt(row["last_notified_at"]),
    )


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
        cause = error.strerror or error
        raise HistoryError(f"history database {name} (state.path): cannot read it: {cause}") from None
    if header and header != b"SQLite format 3\x00":
        raise HistoryError(
            f"history database {name} (state.path) is not a SQLite database; "
            "point state.path at a new file, or move this one aside"
        )


def _message(row: sqlite3.Row, interrupted: int = 0) -> OutboxMessage:
    return OutboxMessage(
        id=row["id"],
        channel=row["channel"],
        payload=json.loads(row["payload"]),
        created_at=_dt(row["created_at"]),
        attempts=row["attempts"],
        next_attempt_at=_dt(row["next_attempt_at"]),
        status=OutboxStatus(row["status"]),
        last_error=row["last_error"],
        interrupted=interrupted,
    )


# --- the database -----------------------------------------------------------------------------------


class History:
    """The drift history and outbox of one daemon. Create with :meth:`History.open`."""

    def __init__(self, path: str, connection: sqlite3.Connection) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = connection
        self._lock = threading.RLock()
        self._channels: dict[str, _Channel] = {}

    # --- lifecycle ---

    @classmethod
    def open(cls, path: str | PathLike[str]) -> History:
        """Open (creating if needed) and migrate the database, or raise a clear HistoryError.

        Everything that can be wrong with the file is found here, before the first scan: a file
        that is not SQLite or is damaged (integrity check), a schema newer than this version, a
        directory or file we cannot write (a write probe, which also creates the WAL files).
        """
        name = str(path)
        in_memory = name == ":memory:" or name.startswith("file::memory:")
        if not in_memory:
            _check_path(name)
            try:
                Path(name).parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise HistoryError(
                    f"history database {name} (state.path): cannot create its directory: "
                    f"{error.strerror or error}"
                ) from error
        try:
            conn = sqlite3.connect(name, timeout=10.0, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as error:
            raise HistoryError(f"history database {name}: cannot open: {error}") from error
        conn.row_factory = sqlite3.Row
        history = cls(name, conn)
        try:
            history._prepare(in_memory)
        except HistoryError:
            conn.close()
            raise
        except sqlite3.Error as error:
            conn.close()
            raise HistoryError(
                f"history database {name} is corrupt, not a SQLite database, or not writable ({error}); "
                "fix its permissions, or move it aside to start a new history"
            ) from error
        return history

    def _prepare(self, in_memory: bool) -> None:
        conn = self._connection()
        conn.execute("PRAGMA busy_timeout = 10000")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal" and not in_memory:
            log.warning("history_not_wal", path=self._path, journal_mode=mode)
        # FULL: a message marked sent must stay marked sent across a power loss (else resent).
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        problems = [row[0] for row in conn.execute("PRAGMA quick_check").fetchall()]
        if problems != ["ok"]:
            raise HistoryError(
                f"history database {self._path} failed its integrity check ({'; '.join(problems[:3])}); "
                "move it aside to start a new history"
            )
        self._migrate()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('last_opened_at', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (_ts(datetime.now(UTC)),),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.rollback()
            raise

    def _migrate(self) -> None:
        conn = self._connection()
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise HistoryError(
                f"history database {self._path} has schema version {version}, but this driftwatch "
                f"knows versions up to {SCHEMA_VERSION}; it was written by a newer driftwatch"
            )
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

    def close(self) -> None:
        """Close the connection (idempotent); later calls raise HistoryError."""
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                finally:
                    self._conn = None

    def __enter__(self) -> History:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

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

    # --- channels ---

    def add_channel(self, name: str, on_scan: ScanFormatter, on_reminder: ReminderFormatter) -> None:
        """Register a notification channel whose messages are queued with the transitions.

        The formatters run inside the transaction of ``record_scan``/``record_reminders``; if one
        raises, nothing of that call is stored (the next scan finds the same transitions again).
        A channel registered later does not get messages for drift that is already open.
        """
        with self._lock:
            self._channels[name] = _Channel(on_scan, on_reminder)

    # --- episodes ---

    def record_scan(self, report: ScanReport, now: datetime | None = None) -> Transitions:
        """Update the episodes from one scan and queue its messages, in one transaction.

        Rules (see the module docstring for why):
        - a drift whose attribute has no open episode opens one (``new``; ``missing`` for the
          attribute ``table``); an open one with the same values only gets ``last_seen``; with
          other values it is updated (``changed``);
        - an open episode of a table this scan checked (in_sync/drifted/missing) that no longer
          drifts is resolved (``fixed``);
        - a table with status ``error`` (matched by name or by address) keeps its episodes;
        - a table absent from the report is resolved as ``no longer declared``, unless its target
          has errors in ``report.errors`` (a parse error is not a fix).
        - pending drift (waiting for an apply) keeps an open episode open without news, and
          opens none; ignored drift opens none, and resolves an open one as ``ignored``;
        - an unmanaged table is recorded only when its target alerts on unmanaged tables (kind
          ``unmanaged``), and resolved as ``no longer unmanaged`` when it is declared or gone.
        If the same (target, table, attribute) occurs twice in one report (one name declared in
        two regions of a target), the first occurrence counts.
        """
        at = now or report.generated_at
        stamp = _ts(at)
        items: list[Transition] = []
        with self._write() as conn:
            open_rows = {
                (row["target"], row["table_name"], row["attribute"]): row
                for row in conn.execute(f"SELECT {_EPISODE_COLUMNS} FROM episodes WHERE resolved_at IS NULL")
            }
            checked: set[tuple[str, str]] = set()
            errored: set[tuple[str, str]] = set()
            errored_addresses: set[tuple[str, str | None]] = set()
            seen: set[tuple[str, str, str]] = set()
            ignored: set[tuple[str, str, str]] = set()
            for row in report.tables:
                name = row.table_name
                if row.status is TableStatus.ERROR:
                    errored_addresses.add((row.target, row.address))
                    if name:
                        errored.add((row.target, name))
                    continue
                if not name:
                    continue
                if row.status is TableStatus.UNMANAGED:
                    if not row.alerts:
                        continue  # shown in reports, but the target did not ask to be alerted
                else:
                    checked.add((row.target, name))
                # Pending drift waits for an apply: an open episode stays open, without news.
                seen.update((row.target, name, item.attribute) for item in row.pending)
                ignored.update((row.target, name, item.attribute) for item in row.ignored)
                for drift in row.drift:
                    key = (row.target, name, drift.attribute)
                    if key in seen:
                        continue
                    seen.add(key)
                    declared, live = to_json(drift.declared), to_json(drift.live)
                    source = row.source
                    existing = open_rows.get(key)
                    if existing is None:
                        conn.execute(
                            "INSERT INTO episodes (target, table_name, attribute, region, address, "
                            "source_file, source_line, declared, live, first_seen, last_seen, "
                            "first_commit, last_commit, last_notified_at) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            (
                                *key,
                                row.region,
                                row.address,
                                source.file if source else None,
                                source.line if source else None,
                                declared,
                                live,
                                stamp,
                                stamp,
                                report.commit,
                                report.commit,
                                stamp,
                            ),
                        )
                        kind = (
                            TransitionKind.UNMANAGED
                            if row.status is TableStatus.UNMANAGED
                            else TransitionKind.MISSING
                            if drift.attribute == "table"
                            else TransitionKind.NEW
                        )
                        items.append(
                            Transition(
                                kind,
                                row.target,
                                name,
                                drift.attribute,
                                row.region,
                                row.address,
                                source,
                                json.loads(declared),
                                json.loads(live),
                                first_seen=at,
                                at=at,
                            )
                        )
                        continue
                    changed = existing["declared"] != declared or existing["live"] != live
                    conn.execute(
                        "UPDATE episodes SET last_seen = ?, declared = ?, live = ?, region = ?, address = ?, "
                        "source_file = ?, source_line = ?, last_commit = ?, "
                        "last_notified_at = CASE WHEN ? THEN ? ELSE last_notified_at END WHERE id = ?",
                        (
                            stamp,
                            declared,
                            live,
                            row.region,
                            row.address,
                            source.file if source else None,
                            source.line if source else None,
                            report.commit,
                            changed,
                            stamp,
                            existing["id"],
                        ),
                    )
                    if changed:
                        items.append(
                            Transition(
                                TransitionKind.CHANGED,
                                row.target,
                                name,
                                drift.attribute,
                                row.region,
                                row.address,
                                source,
                                json.loads(declared),
                                json.loads(live),
                                first_seen=_dt(existing["first_seen"]),
                                at=at,
                                previous_declared=json.loads(existing["declared"]),
                                previous_live=json.loads(existing["live"]),
                            )
                        )
            targets_with_errors = {error.target for error in report.errors}
            for key, existing in open_rows.items():
                if key in seen:
                    continue
                target, table, _ = key
                if (target, table) in errored or (target, existing["address"]) in errored_addresses:
                    continue  # we could not look at the table: no news
                if key[2] == "table" and existing["declared"] == "null":
                    if target in targets_with_errors:
                        continue  # its account's tables may not have been listed
                    reason = ResolveReason.NO_LONGER_UNMANAGED
                elif key in ignored:
                    reason = ResolveReason.IGNORED
                elif (target, table) in checked:
                    reason = ResolveReason.FIXED
                elif target in targets_with_errors:
                    continue  # part of the target did not parse: absence proves nothing
                else:
                    reason = ResolveReason.NO_LONGER_DECLARED
                conn.execute(
                    "UPDATE episodes SET resolved_at = ?, resolved_reason = ? WHERE id = ?",
                    (stamp, reason.value, existing["id"]),
                )
                episode = _episode(existing)
                items.append(
                    Transition(
                        TransitionKind.RESOLVED,
                        target,
                        table,
                        episode.attribute,
                        episode.region,
                        episode.address,
                        episode.source,
                        episode.declared,
                        episode.live,
                        first_seen=episode.first_seen,
                        at=at,
                        reason=reason.value,
                    )
                )
            transitions = Transitions(tuple(items), report.commit, at)
            if transitions:
                for channel_name, channel in self._channels.items():
                    payload = channel.on_scan(transitions)
                    if payload is not None:
                        self._enqueue(conn, channel_name, payload, at)
        if transitions:
            log.info(
                "drift_transitions",
                **{kind.value: len(transitions.of(kind)) for kind in TransitionKind},
            )
        return transitions

    def due_reminders(self, now: datetime, remind_after: timedelta) -> list[Episode]:
        """Open episodes whose last notification (new, changed or reminder) is at least
        ``remind_after`` old, oldest first."""
        cutoff = _ts(now - remind_after)
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {_EPISODE_COLUMNS} FROM episodes WHERE resolved_at IS NULL "
                "AND COALESCE(last_notified_at, first_seen) <= ? ORDER BY first_seen, id",
                (cutoff,),
            ).fetchall()
        return [_episode(row) for row in rows]

    def record_reminders(self, episodes: Sequence[Episode], now: datetime) -> int:
        """Queue one reminder message (per channel) for these episodes and mark them notified,
        atomically, so a reminder is neither lost nor repeated within a period. Episodes that
        were resolved in the meantime are left out. Returns the number of messages queued."""
        if not episodes:
            return 0
        stamp = _ts(now)
        queued = 0
        with self._write() as conn:
            ids = [e.id for e in episodes]
            marks = ",".join("?" * len(ids))
            rows = conn.execute(
                f"SELECT {_EPISODE_COLUMNS} FROM episodes WHERE resolved_at IS NULL AND id IN ({marks}) "
                "ORDER BY first_seen, id",
                ids,
            ).fetchall()
            current = [_episode(row) for row in rows]
            if not current:
                return 0
            conn.execute(
                f"UPDATE episodes SET last_notified_at = ? WHERE id IN ({','.join('?' * len(current))})",
                (stamp, *(e.id for e in current)),
            )
            for channel_name, channel in self._channels.items():
                payload = channel.on_reminder(current, now)
                if payload is not None:
                    self._enqueue(conn, channel_name, payload, now)
                    queued += 1
        return queued

    def episodes(self, open_only: bool = False, limit: int = 100) -> list[Episode]:
        """Open episodes first (most recently seen first), then the most recently resolved."""
        where = "WHERE resolved_at IS NULL" if open_only else ""
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {_EPISODE_COLUMNS} FROM episodes {where} "
                "ORDER BY resolved_at IS NOT NULL, COALESCE(resolved_at, last_seen) DESC, id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [_episode(row) for row in rows]

    def first_seen_map(self) -> dict[tuple[str, str, str], datetime]:
        """(target, table, attribute) -> first_seen of every open episode (the drift-age metric)."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT target, table_name, attribute, first_seen FROM episodes WHERE resolved_at IS NULL"
            ).fetchall()
        return {(r["target"], r["table_name"], r["attribute"]): _dt(r["first_seen"]) for r in rows}

    # --- commits first seen (pending applies) ---
    # Self-contained: its own table (migration step 2) and these two methods. The pending grace
    # runs from when the daemon first saw a commit (driftwatch.settle.commit_times), which
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
                found.update((row["sha"], _dt(row["first_seen"])) for row in rows)
        return found

    def remember_commits(self, first_seen: Mapping[str, datetime]) -> None:
        """Record first sightings; a commit already recorded keeps its first one."""
        with self._write() as conn:
            conn.executemany(
                "INSERT INTO commits_seen (sha, first_seen) VALUES (?, ?) ON CONFLICT (sha) DO NOTHING",
                [(sha, _ts(when)) for sha, when in first_seen.items()],
            )

    # --- outbox ---

    def _enqueue(
        self, conn: sqlite3.Connection, channel: str, payload: Mapping[str, Any], now: datetime
    ) -> int:
        stamp = _ts(now)
        cursor = conn.execute(
            "INSERT INTO outbox (channel, payload, created_at, next_attempt_at) VALUES (?, ?, ?, ?)",
            (channel, json.dumps(payload, separators=(",", ":"), default=_json_default), stamp, stamp),
        )
        return int(cursor.lastrowid or 0)

    def enqueue(self, channel: str, payload: Mapping[str, Any], now: datetime) -> int:
        """Queue one message outside a scan (e.g. a test message); returns its id."""
        with self._write() as conn:
            return self._enqueue(conn, channel, payload, now)

    def announce_once(
        self,
        keys: Sequence[str],
        now: datetime,
        messages: Callable[[list[str]], Mapping[str, Mapping[str, Any]]],
    ) -> list[str]:
        """Remember ``keys`` and queue their messages, each key once for the database's lifetime.

        Returns the keys not announced before, in the given order. ``messages`` gets those keys
        and returns the payload per channel; remembering them and queueing the payloads are one
        transaction, so a crash neither loses the announcement nor repeats it. (Used for ignore
        rules that expired: reported once, not every scan.)
        """
        keys = list(dict.fromkeys(keys))
        if not keys:
            return []
        with self._write() as conn:
            names = [f"announced:{key}" for key in keys]
            marks = ",".join("?" * len(names))
            known = {row[0] for row in conn.execute(f"SELECT key FROM meta WHERE key IN ({marks})", names)}
            new = [key for key, name in zip(keys, names, strict=True) if name not in known]
            if not new:
                return []
            conn.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)", [(f"announced:{key}", _ts(now)) for key in new]
            )
            for channel, payload in messages(new).items():
                self._enqueue(conn, channel, payload, now)
        return new

    def pending(self, channel: str, now: datetime, limit: int = 50) -> list[OutboxMessage]:
        """Pending messages of ``channel`` that are due, in the order they were queued.

        The list stops before the oldest pending message that is not due yet (it is backing
        off), so a later message ("resolved") never overtakes an earlier one ("new").
        """
        stamp = _ts(now)
        with self._read() as conn:
            blocker = conn.execute(
                "SELECT MIN(id) FROM outbox WHERE channel = ? AND status = 'pending' AND next_attempt_at > ?",
                (channel, stamp),
            ).fetchone()[0]
            rows = conn.execute(
                f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE channel = ? AND status = 'pending' "
                "AND next_attempt_at <= ? AND id < ? ORDER BY id LIMIT ?",
                (channel, stamp, blocker if blocker is not None else 2**62, limit),
            ).fetchall()
        return [_message(row) for row in rows]

    def pending_count(self, channel: str | None = None) -> int:
        """Messages still to deliver (due or backing off), for shutdown logs and tests."""
        with self._read() as conn:
            if channel is None:
                row = conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").fetchone()
            else:
                row = conn.execute(
                    "SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND channel = ?", (channel,)
                ).fetchone()
        return int(row[0])

    def message(self, message_id: int) -> OutboxMessage | None:
        with self._read() as conn:
            row = conn.execute(f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE id = ?", (message_id,)).fetchone()
        return None if row is None else _message(row)

    def begin_attempt(self, message_id: int, now: datetime) -> OutboxMessage | None:
        """Record that ``message_id`` is about to be sent; returns it, or None if it is no longer
        pending. Call right before handing it to the channel, then one of the ``mark_*``.

        If an earlier attempt was begun and never marked, the process died during it: that
        attempt is counted (``attempts``) and remembered (``interrupted``), because the channel
        may have received the message. The delivery then resends it -- at least once -- and
        says it may be a repeat. This is the whole duplicate window: between the channel
        accepting a message and ``mark_sent`` committing, a few milliseconds.
        """
        with self._write() as conn:
            row = conn.execute(
                f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE id = ? AND status = 'pending'", (message_id,)
            ).fetchone()
            if row is None:
                return None
            keys = (f"{_ATTEMPT}{message_id}", f"{_INTERRUPTED}{message_id}")
            found = dict(conn.execute("SELECT key, value FROM meta WHERE key IN (?, ?)", keys).fetchall())
            interrupted = int(found.get(keys[1], 0))
            if keys[0] in found:
                interrupted += 1
                conn.execute(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                    ("interrupted: driftwatch stopped while sending; it may have been delivered", message_id),
                )
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (keys[1], str(interrupted)),
                )
                row = conn.execute(
                    f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE id = ?", (message_id,)
                ).fetchone()
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (keys[0], _ts(now)),
            )
        return _message(row, interrupted)

    @staticmethod
    def _end_attempt(conn: sqlite3.Connection, message_id: int) -> None:
        conn.execute("DELETE FROM meta WHERE key = ?", (f"{_ATTEMPT}{message_id}",))

    def interrupted_attempts(self) -> dict[int, int]:
        """Message id -> attempts interrupted by the process dying (for tests and diagnostics)."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT key, value FROM meta WHERE key LIKE ?", (f"{_INTERRUPTED}%",)
            ).fetchall()
        return {int(key[len(_INTERRUPTED) :]): int(value) for key, value in rows}

    def mark_sent(self, message_id: int, now: datetime) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, last_error = NULL "
                "WHERE id = ?",
                (_ts(now), message_id),
            )
            self._end_attempt(conn, message_id)

    def mark_retry(self, message_id: int, now: datetime, delay: timedelta | float, error: str) -> None:
        """Count a failed attempt and make the message due again after ``delay`` (seconds)."""
        seconds = delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
        with self._write() as conn:
            conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? "
                "WHERE id = ? AND status = 'pending'",
                (_ts(now + timedelta(seconds=max(0.0, seconds))), error[:2000], message_id),
            )
            self._end_attempt(conn, message_id)

    def mark_dropped(self, message_id: int, error: str) -> None:
        """Give up on a message that can never succeed (e.g. Slack rejected it as invalid)."""
        with self._write() as conn:
            conn.execute(
                "UPDATE outbox SET status = 'dropped', attempts = attempts + 1, last_error = ? "
                "WHERE id = ? AND status = 'pending'",
                (error[:2000], message_id),
            )
            self._end_attempt(conn, message_id)

    def prune_outbox(self, before: datetime) -> int:
        """Delete sent and dropped messages created before ``before`` (keeps the file small)."""
        with self._write() as conn:
            cursor = conn.execute(
                "DELETE FROM outbox WHERE status IN ('sent', 'dropped') AND created_at < ?", (_ts(before),)
            )
            conn.execute(  # the delivery notes of messages that are gone
                "DELETE FROM meta WHERE key LIKE 'outbox.%' "
                "AND CAST(substr(key, instr(key, ':') + 1) AS INTEGER) NOT IN (SELECT id FROM outbox)"
            )
            return cursor.rowcount
