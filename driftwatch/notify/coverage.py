"""What the daemon says in Slack about tables it does not watch (Argo CD's "Unknown" status).

Drift messages are about tables that were compared. A module call not evaluated, a target that
failed to evaluate, a table that could not be read, a scan that failed as a whole are the
opposite: nothing about them is compared, so silence there would read as "in sync". Each such
item is announced once when it has lasted two scans in a row (one flaky scan -- a throttled
read -- says nothing), and once more when it is watched again. Attributes not compared
(unresolved) are not announced: like the exit code, they are shown in every report and alerted
by ``DriftwatchAttributesNotCompared``, never sent as messages (a repository may hold many
values it never resolves).

This module is pure: the keys and texts of a report's items, and the reconcile of one scan's
items with the stored state. The history stores the state and queues the messages in one
transaction (``Outbox.track_not_watched``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from driftwatch.notify.slack import build_coverage_message
from driftwatch.spec import ScanReport, TableStatus
from driftwatch.terraform.roots import ignored

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
            key = _table_key(row.target, table, row.region)
            where = f" ({row.region})" if row.region else ""
            items[key] = NotWatched(
                key, row.target, table, f"{row.target}: {table}{where} not compared: {row.error}"
            )
    if report.checkout_stale:
        # Every target is compared with a checkout that may be old: no target, no table.
        text = f"repository: the checkout may be stale: {report.checkout_stale}"
        items[_CHECKOUT_KEY] = NotWatched(_CHECKOUT_KEY, "", "", text)
    for root in report.roots_not_covered:
        # No target: the default webhook, else every route (told twice rather than to nobody).
        key = _root_key(root.path)
        text = f"repository: {root.path}: {root.reason}" if root.path else f"repository: {root.reason}"
        items[key] = NotWatched(key, "", "", text)
    return items


MAX_FAILURE_CHARS = 300
_CHECKOUT_KEY = "checkout"


def failed_scan(error: str) -> dict[str, NotWatched]:
    """The item of a scan that failed as a whole (no report: nothing was compared). One key
    whatever the error says, so a failure whose message changes is one item."""
    text = error if len(error) <= MAX_FAILURE_CHARS else error[: MAX_FAILURE_CHARS - 1] + "…"
    return {"scan": NotWatched("scan", "", "", f"every target: the scan failed: {text}")}


def _root_key(path: str) -> str:
    return f"root\0{path}"


def _root_path(key: str) -> str | None:
    """The directory of a survey's item (None for any other item; "" for a survey cut short)."""
    prefix = _root_key("")
    return key[len(prefix) :] if key.startswith(prefix) else None


def _table_key(target: str, table: str, region: str | None) -> str:
    return f"table\0{target}\0{table}\0{region or ''}"


@dataclass(frozen=True)
class Listing:
    """What one scan can tell about the end of a stored item, beyond the items it found.

    A table item ends ("watched again") only when the table was compared: a target that failed
    to evaluate, or has a module call not evaluated, lists none or some of its tables, and the
    absence of a row proves nothing (as in the history's ledger); it stays announced. So does
    a target's or module call's item while its target has any such item left (one whose text
    changed from scan to scan is still the target not fully watched). Absent
    from a target that listed every table, it left git: forgotten, since it is not watched.
    Items of a target that is no longer configured are forgotten, not "watched again": that
    target is not watched at all.

    A directory no target evaluates (the repository survey's) ends only when a whole survey no
    longer names it: a survey cut short or failed did not look at it, and it stays announced.
    It is "watched again" when it still declares tables (a target evaluates it now); one that
    no longer does (deleted from the repository, or its tables removed) is forgotten, as is one
    that ``coverage.ignore`` now covers: it is still not watched, by choice. The checkout's
    item is forgotten when the configuration stops naming git-sync's error file: nothing
    checks the checkout any more, so nothing says it is current.
    """

    incomplete: frozenset[str]  # targets that did not list every table they declare
    compared: frozenset[str]  # table keys (by name and by address) of rows compared this scan
    configured: frozenset[str] | None = None  # the configured targets; None: not known
    blind: bool = False  # no report at all (the scan failed): nothing ends, nothing is forgotten
    survey_cut: bool = False  # the repository survey stopped early or failed: it did not see all
    ignore: tuple[str, ...] = ()  # the coverage.ignore globs of the config
    # The directories the survey found declaring tables (ScanReport.roots_declaring); None: not
    # known, and an announced directory the survey no longer names is "watched again" as before.
    declaring: frozenset[str] | None = None
    checks_checkout: bool = True  # the config names git-sync's error file (repo_sync_error_file)

    @classmethod
    def nothing(cls) -> Listing:
        """A scan that failed as a whole: it says nothing about any stored item."""
        return cls(frozenset(), frozenset(), None, blind=True)

    @classmethod
    def of(
        cls,
        report: ScanReport,
        configured: Collection[str] | None = None,
        ignore: Sequence[str] = (),
        checks_checkout: bool = True,
    ) -> Listing:
        # An item whose region was unknown (region "") is the table's in any region.
        compared = {
            _table_key(row.target, table, region)
            for row in report.tables
            if row.status not in (TableStatus.ERROR, TableStatus.UNMANAGED)
            for table in (row.table_name, row.address)
            if table
            for region in {row.region, None}
        }
        return cls(
            report.incomplete_targets,
            frozenset(compared),
            frozenset(configured) if configured is not None else None,
            survey_cut=any(not root.path for root in report.roots_not_covered),
            ignore=tuple(ignore),
            declaring=report.roots_declaring,
            checks_checkout=checks_checkout,
        )

    def forgotten(self, key: str, stored: Mapping[str, Any]) -> bool:
        """A stored item whose target is no longer configured (a failed scan's item has none),
        a directory ``coverage.ignore`` covers now or a whole survey found declaring no table,
        or the checkout's item when nothing checks the checkout any more."""
        directory = _root_path(key)
        if directory and ignored(directory, self.ignore):
            return True
        if directory and not self.survey_cut and self.declaring is not None:
            return directory not in self.declaring
        if key == _CHECKOUT_KEY and not self.checks_checkout:
            return True
        target = str(stored.get("target", ""))
        return self.configured is not None and bool(target) and target not in self.configured

    def undeclared(self, key: str, stored: Mapping[str, Any]) -> bool:
        """A stored table item whose target listed every table and not this one: the table
        left git. It is not compared, so not "watched again"; it is forgotten."""
        target = str(stored.get("target", ""))
        return bool(stored.get("table")) and target not in self.incomplete and key not in self.compared

    def unknown(self, key: str, stored: Mapping[str, Any]) -> bool:
        """A stored item whose end this scan cannot tell: its target is still not fully
        watched (an error, a module call not evaluated), and it is not a table compared now.
        A target error whose text changed (a timeout, then a connection error) is such a case:
        its target is no more watched than before. A directory the survey may not have
        reached (it stopped early, or failed) is one too."""
        if _root_path(key) and self.survey_cut:
            return True
        if str(stored.get("target", "")) not in self.incomplete:
            return False
        return not stored.get("table") or key not in self.compared


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


def reconcile(
    current: Mapping[str, NotWatched],
    state: Mapping[str, Mapping[str, Any]],
    listing: Listing | None = None,
) -> CoverageChange:
    """Which items start or stop being announced, given the stored state of the last scan
    (key -> target, table, text, scans in a row, announced). ``listing`` (:class:`Listing`)
    keeps an announced table item the scan could not look at, and forgets the items of a
    target no longer configured; without it every item absent from ``current`` ends."""
    started: list[NotWatched] = []
    new_state: dict[str, dict[str, Any]] = {}
    ended: list[NotWatched] = []
    for key, stored in state.items():
        if key in current or not stored.get("announced"):
            continue
        if listing is not None and listing.blind:
            new_state[key] = dict(stored)
            continue
        if listing is not None and listing.forgotten(key, stored):
            continue
        if listing is not None and listing.unknown(key, stored):
            new_state[key] = dict(stored)  # still announced: nothing says it is watched
            continue
        if listing is not None and listing.undeclared(key, stored):
            continue
        ended.append(_item(key, stored))
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
    return CoverageChange(tuple(started), tuple(ended), new_state)


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
