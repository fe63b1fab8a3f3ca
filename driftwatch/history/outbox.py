"""The notification outbox: messages queued with the transitions they announce, delivered later.

A queued message is delivered at least once eventually: it is marked sent only after the
channel accepted it. An attempt cut short by a crash is recorded (``attempt_started_at`` is
set just before the message is handed to the channel and cleared with its outcome), so the
resend is marked as a possible repeat -- see :meth:`Outbox.begin_attempt`.

Messages are delivered in the order they were queued, per channel: a message that is backing
off holds back the later ones, so a "resolved" never overtakes its "new". A message the channel
refused for good is ``dropped``, with the error kept and counted (:meth:`Outbox.stats`), never
deleted before retention.

A channel holds at most :data:`MAX_PENDING_PER_CHANNEL` undelivered messages: a channel that
stays unreachable while drift comes and goes (a week of flapping with Slack down queued ~2,000)
would otherwise grow the database without bound and, once it answers again, receive hours of
stale messages. Past the bound the oldest are dropped, said in their error and counted like any
drop; what they announced stays in the drift history and on ``/metrics``.
"""

from __future__ import annotations

import enum
import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from driftwatch.history.ledger import _json_default
from driftwatch.history.store import Store, dt, opt_dt, ts
from driftwatch.log import get_logger

log = get_logger(__name__)


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


@dataclass(frozen=True)
class ChannelStats:
    """One channel's outbox right now: what the delivery metrics and the shutdown log show."""

    pending: int
    sent: int
    dropped: int
    oldest_pending: datetime | None  # created_at of the oldest message not delivered yet
    oldest_pending_id: int | None = None  # and its id (ids follow the order messages were queued)
    # Its failed attempts: above 0, the channel's delivery is failing (it is the head of the queue,
    # and a delivery stops at the first failure). Read from the outbox, so it survives a restart.
    oldest_pending_attempts: int = 0


# No retry waits longer than this (a Retry-After or a backoff is capped to it). A message dated
# further out than that was dated by a wall clock that ran ahead and was set back since: it is
# due now, or it would wait as long as the clock had been wrong (a day ahead: a day silent).
MAX_RETRY_DELAY = timedelta(hours=1)

MAX_PENDING_PER_CHANNEL = 1_000
_OVERFLOW_ERROR = (
    "dropped unsent: more than {limit} messages waited for this channel (it stayed unreachable); "
    "the oldest are dropped first. What they said is in `driftwatch history` and on /metrics"
)

_COLUMNS = "id, channel, payload, created_at, attempts, next_attempt_at, status, last_error, interrupted"
_INTERRUPTED_ERROR = "interrupted: driftwatch stopped while sending; it may have been delivered"


def _message(row: sqlite3.Row) -> OutboxMessage:
    return OutboxMessage(
        id=row["id"],
        channel=row["channel"],
        payload=json.loads(row["payload"]),
        created_at=dt(row["created_at"]),
        attempts=row["attempts"],
        next_attempt_at=dt(row["next_attempt_at"]),
        status=OutboxStatus(row["status"]),
        last_error=row["last_error"],
        interrupted=row["interrupted"],
    )


class Outbox(Store):
    """The outbox methods of the state database (``History`` adds the episodes)."""

    def _enqueue(
        self, conn: sqlite3.Connection, channel: str, payload: Mapping[str, Any], now: datetime
    ) -> int:
        stamp = ts(now)
        cursor = conn.execute(
            "INSERT INTO outbox (channel, payload, created_at, next_attempt_at) VALUES (?, ?, ?, ?)",
            (channel, json.dumps(payload, separators=(",", ":"), default=_json_default), stamp, stamp),
        )
        self._shed(conn, channel, now)
        return int(cursor.lastrowid or 0)

    @staticmethod
    def _shed(conn: sqlite3.Connection, channel: str, now: datetime) -> None:
        """Drop the oldest undelivered messages of ``channel`` past the bound (see above)."""
        pending = conn.execute(
            "SELECT COUNT(*) FROM outbox WHERE channel = ? AND status = 'pending'", (channel,)
        ).fetchone()[0]
        over = int(pending) - MAX_PENDING_PER_CHANNEL
        if over <= 0:
            return
        conn.execute(
            "UPDATE outbox SET status = 'dropped', last_error = ?, dropped_at = ?, attempt_started_at = NULL "
            "WHERE id IN "
            "(SELECT id FROM outbox WHERE channel = ? AND status = 'pending' ORDER BY id LIMIT ?)",
            (_OVERFLOW_ERROR.format(limit=MAX_PENDING_PER_CHANNEL), ts(now), channel, over),
        )
        log.warning("outbox_overflow", channel=channel, dropped=over, limit=MAX_PENDING_PER_CHANNEL)

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
                "INSERT INTO meta (key, value) VALUES (?, ?)", [(f"announced:{key}", ts(now)) for key in new]
            )
            for channel, payload in messages(new).items():
                self._enqueue(conn, channel, payload, now)
        return new

    def update_state(
        self,
        name: str,
        now: datetime,
        update: Callable[[dict[str, Any]], tuple[dict[str, Any], Mapping[str, Mapping[str, Any]]]],
    ) -> None:
        """Read the JSON state ``name`` (``{}`` at first), hand it to ``update``, store the state
        it returns and queue its payloads (per channel): one transaction, so a crash neither
        loses a message nor sends it twice. (Used for what is not watched, announced when it
        starts and when it ends: driftwatch.notify.coverage.)"""
        with self._write() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (f"state:{name}",)).fetchone()
            try:
                state = json.loads(row[0]) if row is not None else {}
            except ValueError:
                state = {}
            new_state, payloads = update(state if isinstance(state, dict) else {})
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (f"state:{name}", json.dumps(new_state, sort_keys=True)),
            )
            for channel, payload in payloads.items():
                self._enqueue(conn, channel, payload, now)

    def pending(self, channel: str, now: datetime, limit: int = 50) -> list[OutboxMessage]:
        """Pending messages of ``channel`` that are due, in the order they were queued.

        The list stops before the oldest pending message that is not due yet (it is backing
        off), so a later message ("resolved") never overtakes an earlier one ("new"). The clock
        may have been set back since a message was dated: one due more than
        :data:`MAX_RETRY_DELAY` after ``now`` is due, and so is one never tried (due when
        queued, so a date ahead of ``now`` is the clock's error, not a backoff).
        """
        stamp = ts(now)
        horizon = ts(now + MAX_RETRY_DELAY)
        with self._read() as conn:
            blocker = conn.execute(
                "SELECT MIN(id) FROM outbox WHERE channel = ? AND status = 'pending' AND attempts > 0 "
                "AND next_attempt_at > ? AND next_attempt_at <= ?",
                (channel, stamp, horizon),
            ).fetchone()[0]
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM outbox WHERE channel = ? AND status = 'pending' "
                "AND (attempts = 0 OR next_attempt_at <= ? OR next_attempt_at > ?) AND id < ? "
                "ORDER BY id LIMIT ?",
                (channel, stamp, horizon, blocker if blocker is not None else 2**62, limit),
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

    def stats(self) -> dict[str, ChannelStats]:
        """Per channel: messages by status (within retention) and the oldest undelivered one."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT channel, status, COUNT(*) AS n, MIN(created_at) AS oldest, MIN(id) AS first "
                "FROM outbox GROUP BY channel, status"
            ).fetchall()
            heads = conn.execute(
                "SELECT channel, attempts FROM outbox WHERE id IN "
                "(SELECT MIN(id) FROM outbox WHERE status = 'pending' GROUP BY channel)"
            ).fetchall()
        attempts = {row["channel"]: int(row["attempts"]) for row in heads}
        counts: dict[str, dict[str, int]] = {}
        oldest: dict[str, str] = {}
        first: dict[str, int] = {}
        for row in rows:
            counts.setdefault(row["channel"], {})[row["status"]] = int(row["n"])
            if row["status"] == OutboxStatus.PENDING.value:
                oldest[row["channel"]] = row["oldest"]
                first[row["channel"]] = int(row["first"])
        return {
            channel: ChannelStats(
                pending=by_status.get("pending", 0),
                sent=by_status.get("sent", 0),
                dropped=by_status.get("dropped", 0),
                oldest_pending=opt_dt(oldest.get(channel)),
                oldest_pending_id=first.get(channel),
                oldest_pending_attempts=attempts.get(channel, 0),
            )
            for channel, by_status in counts.items()
        }

    def undelivered(self, limit: int = 20) -> list[OutboxMessage]:
        """Pending messages of every channel, oldest first (what a shutdown leaves behind)."""
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM outbox WHERE status = 'pending' ORDER BY id LIMIT ?", (limit,)
            ).fetchall()
        return [_message(row) for row in rows]

    def message(self, message_id: int) -> OutboxMessage | None:
        with self._read() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM outbox WHERE id = ?", (message_id,)).fetchone()
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
                "SELECT attempt_started_at FROM outbox WHERE id = ? AND status = 'pending'", (message_id,)
            ).fetchone()
            if row is None:
                return None
            if row["attempt_started_at"] is not None:
                conn.execute(
                    "UPDATE outbox SET attempts = attempts + 1, interrupted = interrupted + 1, "
                    "last_error = ? WHERE id = ?",
                    (_INTERRUPTED_ERROR, message_id),
                )
            conn.execute("UPDATE outbox SET attempt_started_at = ? WHERE id = ?", (ts(now), message_id))
            row = conn.execute(f"SELECT {_COLUMNS} FROM outbox WHERE id = ?", (message_id,)).fetchone()
        return _message(row)

    def interrupted_attempts(self) -> dict[int, int]:
        """Message id -> attempts interrupted by the process dying (for tests and diagnostics)."""
        with self._read() as conn:
            rows = conn.execute("SELECT id, interrupted FROM outbox WHERE interrupted > 0").fetchall()
        return {int(row["id"]): int(row["interrupted"]) for row in rows}

    def mark_sent(self, message_id: int, now: datetime) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, last_error = NULL, "
                "attempt_started_at = NULL WHERE id = ?",
                (ts(now), message_id),
            )

    def mark_retry(
        self,
        message_id: int,
        now: datetime,
        delay: timedelta | float,
        error: str,
        *,
        possibly_delivered: bool = False,
    ) -> None:
        """Count a failed attempt and make the message due again after ``delay`` (seconds).

        ``possibly_delivered``: the attempt's outcome is unknown (the channel never finished
        answering), so it counts as interrupted and the resend says it may be a repeat.
        """
        seconds = delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
        seconds = min(seconds, MAX_RETRY_DELAY.total_seconds())
        with self._write() as conn:
            conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?, "
                "attempt_started_at = NULL, interrupted = interrupted + ? "
                "WHERE id = ? AND status = 'pending'",
                (
                    ts(now + timedelta(seconds=max(0.0, seconds))),
                    error[:2000],
                    1 if possibly_delivered else 0,
                    message_id,
                ),
            )

    def mark_dropped(self, message_id: int, error: str, now: datetime | None = None) -> None:
        """Give up on a message that can never succeed (e.g. Slack rejected it as invalid).

        It stays in the outbox as ``dropped`` with its error (counted by :meth:`stats`) until
        retention removes it, so a dropped message is visible, not gone.
        """
        with self._write() as conn:
            conn.execute(
                "UPDATE outbox SET status = 'dropped', attempts = attempts + 1, last_error = ?, "
                "attempt_started_at = NULL, dropped_at = COALESCE(?, next_attempt_at) "
                "WHERE id = ? AND status = 'pending'",
                (error[:2000], ts(now) if now is not None else None, message_id),
            )

    def prune_outbox(self, before: datetime) -> int:
        """Delete sent and dropped messages created before ``before`` (keeps the file small)."""
        with self._write() as conn:
            cursor = conn.execute(
                "DELETE FROM outbox WHERE status IN ('sent', 'dropped') AND created_at < ?", (ts(before),)
            )
            return cursor.rowcount
