"""What the daemon says in Slack about tables it does not watch (Argo CD's "Unknown" status).

Drift messages are about tables that were compared. A module call not evaluated, a target that
failed to evaluate, a table that could not be read are the opposite: nothing about them is
compared, so silence there would read as "in sync". Each such item is announced once when it
has lasted two scans in a row (one flaky scan -- a throttled read -- says nothing), and once
more when it is watched again. Attributes not compared (unresolved) are not announced: like the
exit code, they are shown in every report and alerted by ``DriftwatchAttributesNotCompared``,
never sent as messages (a repository may hold many values it never resolves).

This module is pure: the keys and texts of a report's items, and the reconcile of one scan's
items with the stored state. The history stores the state and queues the messages in one
transaction (``Outbox.track_not_watched``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from driftwatch.notify.slack import build_coverage_message
from driftwatch.spec import ScanReport, TableStatus

# Scans in a row an item must be seen in before it is announced.
ANNOUNCE_AFTER_SCANS = 2
_COUNT = re.compile(r" \(and \d+ more tables\)")


@dataclass(frozen=True)
class NotWatched:
    """One thing a scan did not watch: ``table`` is the table (or "" for a module call or a
    target's error), used to pick the Slack route; ``text`` names it and gives the reason."""

    key: str
    target: str
    table: str
    text: str


def not_watched(report: ScanReport) -> dict[str, NotWatched]:
    """The items of ``report`` that keep a whole table (or more) from being compared, by key.

    A key is stable across scans while the item lasts: the table (not its error message, which
    may change from one scan to the next), the module call's address, a target error's place
    and message, a directory no target evaluates (``ScanReport.roots_not_covered``).
    """
    items: dict[str, NotWatched] = {}
    for entry in report.not_evaluated:
        key = f"module\0{entry.target}\0{entry.address}"
        where = f" ({entry.source})" if entry.source else ""
        items[key] = NotWatched(
            key, entry.target, "", f"{entry.target}: {entry.address}{where} not evaluated: {entry.reason}"
        )
    for error in report.errors:
        # "(and 41 more tables)" counts what one denial cost this scan: the same item when the
        # count moves, not a "watched again" and a new "not watched" pair.
        message = _COUNT.sub("", error.message)
        key = f"target\0{error.target}\0{error.location}\0{message}"
        where = f"{error.location}: " if error.location else ""
        items[key] = NotWatched(key, error.target, "", f"{error.target}: {where}{error.message}")
    for row in report.tables:
        if row.status is TableStatus.ERROR:
            table = row.table_name or row.address or "?"
            key = f"table\0{row.target}\0{table}\0{row.region or ''}"
            where = f" ({row.region})" if row.region else ""
            items[key] = NotWatched(
                key, row.target, table, f"{row.target}: {table}{where} not compared: {row.error}"
            )
    for root in report.roots_not_covered:
        # No target: the default webhook, else every route (told twice rather than to nobody).
        key = f"root\0{root.path}"
        text = f"repository: {root.path}: {root.reason}" if root.path else f"repository: {root.reason}"
        items[key] = NotWatched(key, "", "", text)
    return items


@dataclass(frozen=True)
class CoverageChange:
    """The outcome of one scan: items to announce as not watched, items watched again, and the
    state to store for the next scan."""

    started: tuple[NotWatched, ...]
    ended: tuple[NotWatched, ...]
    state: dict[str, dict[str, Any]]


def _item(key: str, stored: Mapping[str, Any]) -> NotWatched:
    return NotWatched(
        key, str(stored.get("target", "")), str(stored.get("table", "")), str(stored.get("text", ""))
    )


def reconcile(current: Mapping[str, NotWatched], state: Mapping[str, Mapping[str, Any]]) -> CoverageChange:
    """Which items start or stop being announced, given the stored state of the last scan
    (key -> target, table, text, scans in a row, announced)."""
    started: list[NotWatched] = []
    new_state: dict[str, dict[str, Any]] = {}
    for key, item in current.items():
        previous = state.get(key, {})
        scans = int(previous.get("scans", 0)) + 1
        announced = bool(previous.get("announced", False))
        if not announced and scans >= ANNOUNCE_AFTER_SCANS:
            started.append(item)
            announced = True
        new_state[key] = {
            "target": item.target,
            "table": item.table,
            "text": item.text,
            "scans": min(scans, ANNOUNCE_AFTER_SCANS),
            "announced": announced,
        }
    ended = tuple(
        _item(key, stored) for key, stored in state.items() if key not in current and stored.get("announced")
    )
    return CoverageChange(tuple(started), ended, new_state)


def payloads(
    change: CoverageChange, channels: Sequence[str], channels_for: Callable[[NotWatched], Sequence[str]]
) -> dict[str, dict[str, Any]]:
    """One message per channel, about the items ``channels_for`` sends there (none where a
    channel has nothing to say)."""
    out: dict[str, dict[str, Any]] = {}
    for channel in channels:
        started = [item.text for item in change.started if channel in channels_for(item)]
        ended = [item.text for item in change.ended if channel in channels_for(item)]
        message = build_coverage_message(started, ended)
        if message is not None:
            out[channel] = message
    return out
