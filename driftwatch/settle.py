"""Settling a table's drift: what an ignore rule accepts, what waits for an apply, what alerts.

Pure decisions, no git and no AWS: the scan hands in the diff result, what the *previous
declaration* said about each drifting attribute, the ignore rules and the times, and gets back
the drift split three ways (in this order):

1. drift an unexpired ignore rule accepts is ``ignored`` (shown, never alerted);
2. drift that is a merge not applied yet is ``pending`` (shown, alerted only after the grace);
3. everything else is drift (``drifted``, or ``missing`` for an absent table).

The previous declaration is the one at the newest commit of the first-parent history whose
time is older than the grace: what the apply pipeline has surely applied. A drift item is
pending only when **both** hold:

- the live value equals the previous declared value (AWS still runs what was applied), and
- the current declared value differs from the previous one (the merge changed it),

and a commit inside the grace changed a file the table's evaluation read (which is when the
pending ends at the latest). Everything else is drift at once: a value nobody changed, a
comment-only commit, a live value that matches neither declaration. For the attribute
``table`` (the table is absent) the previous value is the table's name when the previous
revision declared it, else :data:`NOT_DECLARED`; an absent live table "equals" not declared,
so a table added by a recent commit and not created yet is pending, and a table that the
previous revision declared and that is gone is missing.

A previous value that could not be evaluated (``Unknown``) proves nothing, so that item is
drift: pending is an exception that has to be shown, never assumed.

The module also holds the rule for *when* a commit happened, which the grace runs from
(:func:`commit_times`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from driftwatch.diff import apply_ignore_rules
from driftwatch.spec import Drift, IgnoredDrift, IgnoreRule, PendingDrift, TableStatus, Unknown


class _NotDeclared(enum.Enum):
    NOT_DECLARED = "not declared"

    def __repr__(self) -> str:
        return "NOT_DECLARED"


NOT_DECLARED: Final = _NotDeclared.NOT_DECLARED
"""The previous revision did not declare the table (so it declared none of its attributes)."""


@dataclass(frozen=True)
class RecentChange:
    """The newest commit inside the grace that changed a file the table's evaluation read."""

    file: str
    commit: str
    at: datetime  # the commit's time (see commit_times), the grace runs from here


@dataclass(frozen=True)
class Settled:
    status: TableStatus
    drift: tuple[Drift, ...]
    ignored: tuple[IgnoredDrift, ...]
    pending: tuple[PendingDrift, ...]


def settle(
    table: str,
    drift: Sequence[Drift],
    *,
    previous: Mapping[str, Any] | None,
    rules: Sequence[IgnoreRule],
    now: datetime,
    grace: timedelta,
    change: RecentChange | None,
    created_at: datetime | None = None,
) -> Settled:
    """Split one table's drift into drift, ignored and pending (see the module docstring).

    ``previous`` maps each drifting attribute to the previous declaration's value (the live
    value when the previous declaration agreed with AWS there, ``NOT_DECLARED``, or
    ``Unknown``); None when there is no previous declaration to compare with (history not
    available, pending applies off): then nothing is pending. An attribute missing from the
    mapping counts as Unknown. ``created_at`` is the live table's creation: a change older
    than the table cannot be pending, as the apply that created the table came after it.
    """
    kept, ignored = apply_ignore_rules(table, drift, rules, now)
    pending: list[PendingDrift] = []
    if previous is not None and change is not None and _within_grace(change, grace, now, created_at):
        until = change.at + grace
        still: list[Drift] = []
        for item in kept:
            before = previous.get(item.attribute, Unknown("not evaluated"))
            if is_pending(item, before):
                pending.append(
                    PendingDrift(
                        item.attribute, item.declared, item.live, change.file, change.commit, change.at, until
                    )
                )
            else:
                still.append(item)
        kept = tuple(still)
    if kept:
        status = TableStatus.MISSING if any(d.attribute == "table" for d in kept) else TableStatus.DRIFTED
    else:
        status = TableStatus.PENDING if pending else TableStatus.IN_SYNC
    return Settled(status, kept, ignored, tuple(pending))


def is_pending(item: Drift, previous: Any) -> bool:
    """Live equals the previous declared value, and the current declared value differs from it."""
    if isinstance(previous, Unknown):
        return False
    if previous is NOT_DECLARED:
        # Nothing was declared before: only "nothing live" (an absent table) agrees with it.
        return item.live is None and item.attribute == "table"
    return bool(item.live == previous and item.declared != previous)


def _within_grace(change: RecentChange, grace: timedelta, now: datetime, created_at: datetime | None) -> bool:
    if grace <= timedelta(0) or change.at + grace <= now:
        return False
    return created_at is None or change.at > created_at


# --------------------------------------------------------------------------- commit times

# A commit dated at most this far ahead of the scanner's clock is clock skew, not a future date.
CLOCK_SKEW: Final = timedelta(minutes=5)


@dataclass(frozen=True)
class CommitTimes:
    """When each commit of the walked chain happened, for the grace; see :func:`commit_times`."""

    times: tuple[datetime | None, ...]  # per commit, in chain order; None: it gives no grace
    new: Mapping[str, datetime]  # first sightings to remember (daemon), commit -> time
    future: tuple[str, ...]  # commits dated in the future (to warn about, once each)


def commit_times(
    chain: Sequence[tuple[str, datetime]], now: datetime, seen: Mapping[str, datetime] | None
) -> CommitTimes:
    """The time of each commit of a first-parent chain (newest first: (sha, committer date)).

    The grace runs from when driftwatch first saw a commit. ``seen`` is the daemon's record of
    first sightings (None in a one-shot scan, which has no memory):

    - one-shot: the earlier of the committer date and now. A commit dated in the future (more
      than ``CLOCK_SKEW`` ahead) gives no grace at all (None): "now" would move with every scan
      and keep its changes pending for ever.
    - daemon: a recorded first sighting is the time. An unrecorded commit newer than every
      recorded one of the chain has just arrived: now, whatever its date says (a pull request
      written days ago and merged now still gets its grace; a commit dated in 2099 gets one
      grace from now, never more). An unrecorded commit older than a recorded one, or any when
      none of the chain is recorded (the daemon's first scan of this repository), predates
      the daemon's watch: the one-shot rule, except that a future-dated one was first seen now.
      A recorded sighting more than ``CLOCK_SKEW`` ahead of now was dated by a clock that ran
      ahead: it is seen again now (and returned in ``new``, to be recorded in its place).
    """
    known_below = [False] * len(chain)
    found = False
    for index in range(len(chain) - 1, -1, -1):
        known_below[index] = found
        found = found or (seen is not None and chain[index][0] in seen)
    times: list[datetime | None] = []
    new: dict[str, datetime] = {}
    future: list[str] = []
    arrived = True  # no recorded commit yet, walking from the newest
    for index, (sha, committed) in enumerate(chain):
        is_future = committed > now + CLOCK_SKEW
        if is_future:
            future.append(sha)
        if seen is not None and sha in seen:
            arrived = False
            if seen[sha] > now + CLOCK_SKEW:
                # Recorded while the clock ran ahead, which has since been set back: kept as it
                # was, the grace would last as long as the clock had been wrong (a day of
                # unapplied changes held back as pending). Seen now, by the corrected clock.
                times.append(now)
                new[sha] = now
            else:
                times.append(seen[sha])
            continue
        if seen is None:
            times.append(None if is_future else min(committed, now))
            continue
        when = now if (arrived and known_below[index]) or is_future else min(committed, now)
        times.append(when)
        new[sha] = when
    return CommitTimes(tuple(times), new, tuple(future))


def base_index(times: Sequence[datetime | None], now: datetime, grace: timedelta) -> int | None:
    """The newest commit (index in chain order) whose time is older than the grace, or None
    when every commit of the chain is inside it. A commit that gives no grace counts as old."""
    for index, when in enumerate(times):
        if when is None or when + grace <= now:
            return index
    return None
