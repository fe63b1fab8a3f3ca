"""``History``: the state database as the daemon uses it -- episodes, their messages, reminders.

``record_scan`` asks the pure ledger (``ledger.reconcile``) what one report does to the open
episodes, then writes the answer and queues the messages of every registered channel in ONE
transaction: each transition is queued at most once, and a restart neither forgets open drift
nor re-announces it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from driftwatch.history.ledger import (
    Episode,
    Key,
    Sighting,
    Transitions,
    Where,
    reconcile,
    to_json,
)
from driftwatch.history.outbox import Outbox
from driftwatch.history.store import dt, opt_dt, ts
from driftwatch.log import get_logger
from driftwatch.spec import ScanReport, SourceLocation

log = get_logger(__name__)

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
        first_seen=dt(row["first_seen"]),
        last_seen=dt(row["last_seen"]),
        resolved_at=opt_dt(row["resolved_at"]),
        resolved_reason=row["resolved_reason"],
        first_commit=row["first_commit"],
        last_commit=row["last_commit"],
        last_notified_at=opt_dt(row["last_notified_at"]),
    )


def _where(sighting: Sighting) -> tuple[str | None, str | None, int | None]:
    source = sighting.source
    file, line = (source.file, source.line) if source else (None, None)
    return (sighting.address, file, line)


class History(Outbox):
    """The drift history and outbox of one daemon. Create with :meth:`History.open`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._channels: dict[str, _Channel] = {}

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

    def record_scan(
        self, report: ScanReport, now: datetime | None = None, *, configured: Collection[str] | None = None
    ) -> Transitions:
        """Update the episodes from one scan and queue its messages, in one transaction.

        The rules are the ledger's (``driftwatch.history.ledger``); ``configured`` names the
        targets of the config (the open episodes of any other target close as no longer
        configured), None when not known.
        """
        at = now or report.generated_at
        stamp = ts(at)
        with self._write() as conn:
            current = [
                _episode(row)
                for row in conn.execute(f"SELECT {_EPISODE_COLUMNS} FROM episodes WHERE resolved_at IS NULL")
            ]
            answer = reconcile(current, report, at, configured)
            for opened in answer.opened:
                s = opened.sighting
                conn.execute(
                    "INSERT INTO episodes (target, region, table_name, attribute, address, "
                    "source_file, source_line, declared, live, first_seen, last_seen, "
                    "first_commit, last_commit, last_notified_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        *s.key,
                        *_where(s),
                        to_json(s.declared),
                        to_json(s.live),
                        stamp,
                        stamp,
                        report.commit,
                        report.commit,
                        stamp,
                    ),
                )
            for seen in answer.seen:
                s = seen.sighting
                conn.execute(
                    # ``region``: an episode stored without one takes its region here (ledger).
                    # No time of an open episode is later than a scan that sees it: one stamped
                    # while the wall clock ran ahead would date the drift in the future (a
                    # negative age on /metrics, no alert, no reminder until the clock caught up).
                    # Fixed-width timestamps (store.ts): MIN is the earlier time.
                    "UPDATE episodes SET last_seen = ?, first_seen = MIN(first_seen, ?), declared = ?, "
                    "live = ?, region = ?, address = ?, source_file = ?, source_line = ?, last_commit = ?, "
                    "last_notified_at = CASE WHEN ? THEN ? ELSE MIN(last_notified_at, ?) END WHERE id = ?",
                    (
                        stamp,
                        stamp,
                        to_json(s.declared),
                        to_json(s.live),
                        s.region,
                        *_where(s),
                        report.commit,
                        seen.changed,
                        stamp,
                        stamp,
                        seen.episode_id,
                    ),
                )
            for closed in answer.closed:
                conn.execute(
                    "UPDATE episodes SET resolved_at = ?, resolved_reason = ? WHERE id = ?",
                    (stamp, closed.reason.value, closed.episode_id),
                )
            transitions = answer.transitions
            if transitions:
                for channel_name, channel in self._channels.items():
                    payload = channel.on_scan(transitions)
                    if payload is not None:
                        self._enqueue(conn, channel_name, payload, at)
        if transitions:
            log.info("drift_transitions", **transitions.counts())
        return transitions

    def due_reminders(self, now: datetime, remind_after: timedelta) -> list[Episode]:
        """Open episodes whose last notification (new, changed or reminder) is at least
        ``remind_after`` old, oldest first."""
        cutoff = ts(now - remind_after)
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
        stamp = ts(now)
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

    def open_tables(self) -> set[Where]:
        """(target, region, table) of every table with open drift (for /metrics, which keeps
        the drift of tables a failed target did not list). Same-named tables of two regions
        are two entries (ledger: a table is its target, region and name)."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT DISTINCT target, region, table_name FROM episodes WHERE resolved_at IS NULL"
            ).fetchall()
        return {(r["target"], r["region"], r["table_name"]) for r in rows}

    def open_missing_tables(self) -> set[Where]:
        """(target, region, table) of every table whose open ``table`` episode is a declared
        table missing in AWS (not an unmanaged one): /metrics keeps that status for a table a
        failed target did not list, as it keeps its drift."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT DISTINCT target, region, table_name FROM episodes WHERE resolved_at IS NULL "
                "AND attribute = 'table' AND declared != 'null'"
            ).fetchall()
        return {(r["target"], r["region"], r["table_name"]) for r in rows}

    def first_seen_map(self) -> dict[Key, datetime]:
        """(target, region, table, attribute) -> first_seen of every open episode (the
        drift-age metric, per region: the same name in two regions is two tables)."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT target, region, table_name, attribute, first_seen FROM episodes "
                "WHERE resolved_at IS NULL"
            ).fetchall()
        return {
            (r["target"], r["region"], r["table_name"], r["attribute"]): dt(r["first_seen"]) for r in rows
        }
