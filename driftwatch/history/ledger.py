"""The episode ledger: a pure reconcile of the open drift episodes with a new scan report.

An *episode* is one stretch of time during which one attribute of one table drifts: it
opens when the drift is first seen and is resolved when a scan that could look at the table
no longer sees it. :func:`reconcile` decides, from the open episodes and one
report, which episodes open, which are seen again (and whether their values changed), which
close and why, and the transitions a notification is made of. It touches no database: the
store applies its answer in one transaction (``History.record_scan``), and the tests try it
exhaustively without SQLite.

The rules, and why:

- a drift whose attribute has no open episode opens one (``new``; ``missing`` for the
  attribute ``table``; ``unmanaged`` for a live table no declaration covers);
- an open episode seen with the same values only gets ``last_seen``; with other declared or
  live values it is ``changed`` (values are compared as canonical JSON, so a tuple that became
  a list is not a change);
- a table that could not be read (status ``error``, matched by name or by address) says
  nothing about its drift: its episodes stay open -- an outage must never look like a fix;
- likewise an attribute the scan could not compare (``unresolved``, or below an unresolved
  attribute: ``tags`` covers ``tags.Team``): its autoscaling listing was refused, its table
  was UPDATING, a declared value became unknown. Closing its episode as ``fixed`` would
  announce a fix nobody made, and the next scan that can compare it would announce the drift
  as new;
- the open episodes of a target that is no longer configured (``configured``, when given)
  close as ``target no longer configured``: that target is not watched at all any more,
  and nothing says its drift was fixed; and not as ``no longer declared``, which it may
  still be;
- a table absent from the report is ``no longer declared``, unless its target has errors in
  ``report.errors`` or a module call in ``report.not_evaluated`` (a parse error, a typo or a
  registry outage is not a fix);
- pending drift (waiting for an apply) keeps an open episode open without news and opens
  none; ignored drift opens none, and resolves an open one as ``ignored``;
- an open attribute drift of a table that is now absent in AWS is closed as ``superseded``,
  not ``fixed``: the table going missing is the news, not the attribute being repaired;
- an unmanaged table is recorded only when its target alerts on unmanaged tables, and is
  resolved as ``no longer unmanaged`` when it is declared or gone (but not while its target
  has errors: its account's tables may not have been listed); listed again without alerting
  (``unmanaged.alert`` turned off), it closes as no longer alerted, not as a fix.

A table is (target, region, table name), everywhere its history is kept (:data:`Key`).
DynamoDB table names are regional, and one root very often declares the same name in two
regions (provider aliases, or a module called once per region): those are two tables, whose
drift opens, is seen and closes on its own, and whose messages name their own region. The
account needs no place in the key: a target reads one account (its ``role_arn``, else the base
credentials), and a table declared for another account is not read but reported as an error
row (``driftwatch.accounts``), so within a target the region tells same-named tables apart.

An open episode without a region (its region was unknown when it opened) is not lost: it is the
episode of its (target, table, attribute) in whichever region that still drifts, and takes that
region when seen (an exact region match is preferred). A row whose region is unknown (only an
unreadable one is: the scan cannot read a table without its region) keeps the episodes of its
name open in every region, and closes none. If the same
(target, region, table, attribute) occurs twice in one report, the first occurrence counts.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from driftwatch.spec import ScanReport, SourceLocation, TableStatus, nested_in

Key = tuple[str, str | None, str, str]
"""(target, region, table, attribute): at most one open episode per key (see the module
docstring for why the region and not the account, and for a region that is None)."""

Where = tuple[str, str | None, str]
"""(target, region, table): one table."""


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


def canonical(value: Any) -> Any:
    """``value`` as it reads back from storage (the JSON round trip of :func:`to_json`)."""
    return json.loads(to_json(value))


class TransitionKind(enum.StrEnum):
    NEW = "new"  # an attribute started to drift
    CHANGED = "changed"  # still drifting, but the declared or the live value is different now
    RESOLVED = "resolved"  # no longer drifts (fixed), or the table is no longer declared
    MISSING = "missing"  # a declared table appeared to be absent in AWS (attribute ``table``)
    UNMANAGED = "unmanaged"  # a live table no declaration covers (attribute ``table``, declared None)
    SUPERSEDED = "superseded"  # an attribute's drift closed because its whole table is missing now


class ResolveReason(enum.StrEnum):
    FIXED = "fixed"
    NO_LONGER_DECLARED = "no longer declared"
    IGNORED = "ignored"  # an ignore rule accepts it now
    NO_LONGER_UNMANAGED = "no longer unmanaged"  # declared in git now, or deleted
    SUPERSEDED = "superseded"  # the table is missing in AWS now: that is the finding
    NO_LONGER_CONFIGURED = "target no longer configured"  # its target left the config
    NOT_ALERTED = "unmanaged, no longer alerted (unmanaged.alert is off)"  # still listed, quiet


NO_LONGER_WATCHED = frozenset(
    {
        ResolveReason.NO_LONGER_DECLARED.value,
        ResolveReason.NO_LONGER_CONFIGURED.value,
        ResolveReason.NOT_ALERTED.value,
    }
)
"""Reasons an episode closes because driftwatch stopped comparing (or alerting on) its table,
not because the drift went away: said as "no longer watched", never as a fix
(``driftwatch.notify.slack``)."""


@dataclass(frozen=True)
class Transition:
    """One change of drift state found by a scan; what a notification is made of.

    ``previous_declared``/``previous_live`` are set for ``changed`` only. For ``resolved`` and
    ``superseded``, ``declared``/``live`` are the last values seen while it drifted and
    ``reason`` says why it closed.
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

    def counts(self) -> dict[str, int]:
        """How many of each kind, for the log; a drift closed because its table is no longer
        watched (``NO_LONGER_WATCHED``) counts as ``no_longer_watched``, not as ``resolved``:
        a log line must not read as fixes nobody made."""
        found = {kind.value: 0 for kind in TransitionKind}
        found["no_longer_watched"] = 0
        for transition in self.items:
            unwatched = transition.kind is TransitionKind.RESOLVED and transition.reason in NO_LONGER_WATCHED
            found["no_longer_watched" if unwatched else transition.kind.value] += 1
        return found


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
    def key(self) -> Key:
        return (self.target, self.region, self.table, self.attribute)


@dataclass(frozen=True)
class Sighting:
    """A drift seen by this scan: where it is and its values (canonical, as stored)."""

    key: Key
    address: str | None
    source: SourceLocation | None
    declared: Any
    live: Any

    @property
    def region(self) -> str | None:
        return self.key[1]


@dataclass(frozen=True)
class Opened:
    """A new episode to store."""

    sighting: Sighting


@dataclass(frozen=True)
class Seen:
    """An open episode seen again: ``last_seen`` moves; ``changed`` also counts as notified."""

    episode_id: int
    sighting: Sighting
    changed: bool


@dataclass(frozen=True)
class Closed:
    """An open episode to resolve, and why."""

    episode_id: int
    reason: ResolveReason


@dataclass(frozen=True)
class Reconciliation:
    """What one report does to the episodes: the writes, and the transitions they announce."""

    opened: tuple[Opened, ...]
    seen: tuple[Seen, ...]
    closed: tuple[Closed, ...]
    transitions: Transitions


class _Regions:
    """Which regions of a (target, table[, attribute]) this scan said something about.

    An episode stored without a region is covered by any region of its name. A row whose
    region is unknown covers every region only where that keeps episodes open (``holds``:
    it could not be read, it waits for an apply); what closes an episode (checked, absent,
    ignored) must be said of its own region, never guessed: no "fixed" for another table.
    """

    def __init__(self, *, holds: bool) -> None:
        self._holds = holds
        self._regions: dict[tuple[str, ...], set[str | None]] = {}

    def add(self, name: tuple[str, ...], region: str | None) -> None:
        self._regions.setdefault(name, set()).add(region)

    def covers(self, name: tuple[str, ...], region: str | None) -> bool:
        regions = self._regions.get(name)
        if not regions:
            return False
        return region is None or region in regions or (self._holds and None in regions)


def _uncompared(
    found: Mapping[tuple[str, str], Mapping[str | None, set[str]]],
    target: str,
    region: str | None,
    table: str,
) -> set[str]:
    """The attributes of (target, region, table) this scan could not compare (same region
    matching as :class:`_Regions`)."""
    by_region = found.get((target, table), {})
    return {
        attribute
        for where, attributes in by_region.items()
        if region is None or where is None or where == region
        for attribute in attributes
    }


def reconcile(
    open_episodes: Iterable[Episode],
    report: ScanReport,
    at: datetime,
    configured: Collection[str] | None = None,
) -> Reconciliation:
    """The episodes' answer to ``report`` (see the module docstring for the rules).
    ``configured``: the targets of the config (None: every episode's target is)."""
    episodes = [episode for episode in open_episodes if episode.open]
    current = {episode.key: episode for episode in episodes}
    claimed: set[int] = set()  # episodes this scan's drift is the continuation of
    checked = _Regions(holds=False)  # (target, table)
    absent = _Regions(holds=False)  # declared tables absent in AWS (missing, or pending creation)
    errored = _Regions(holds=True)  # (target, table)
    errored_addresses: set[tuple[str, str | None]] = set()
    seen_keys: set[Key] = set()
    waiting = _Regions(holds=True)  # (target, table, attribute) pending an apply
    uncompared: dict[tuple[str, str], dict[str | None, set[str]]] = {}  # -> region -> unresolved
    ignored = _Regions(holds=False)  # (target, table, attribute)
    quiet = _Regions(holds=False)  # (target, table) unmanaged, listed without alerting
    opened: list[Opened] = []
    seen: list[Seen] = []
    closed: list[Closed] = []
    items: list[Transition] = []
    for row in report.tables:
        name = row.table_name
        if row.status is TableStatus.ERROR:
            errored_addresses.add((row.target, row.address))
            if name:
                errored.add((row.target, name), row.region)
            continue
        if not name:
            continue
        if row.status is TableStatus.UNMANAGED:
            if not row.alerts:
                quiet.add((row.target, name), row.region)
                continue  # shown in reports, but the target did not ask to be alerted
        else:
            checked.add((row.target, name), row.region)
            if row.unresolved:
                uncompared.setdefault((row.target, name), {}).setdefault(row.region, set()).update(
                    u.attribute for u in row.unresolved
                )
            attributes = {item.attribute for item in row.drift} | {item.attribute for item in row.pending}
            if "table" in attributes:
                absent.add((row.target, name), row.region)
        # Pending drift waits for an apply: an open episode stays open, without news.
        for waits in row.pending:
            seen_keys.add((row.target, row.region, name, waits.attribute))
            waiting.add((row.target, name, waits.attribute), row.region)
        for accepted in row.ignored:
            ignored.add((row.target, name, accepted.attribute), row.region)
        for drift in row.drift:
            key = (row.target, row.region, name, drift.attribute)
            if key in seen_keys:
                continue
            seen_keys.add(key)
            sighting = Sighting(
                key, row.address, row.source, canonical(drift.declared), canonical(drift.live)
            )
            existing = _continued(current, claimed, key)
            if existing is None:
                opened.append(Opened(sighting))
                kind = (
                    TransitionKind.UNMANAGED
                    if row.status is TableStatus.UNMANAGED
                    else TransitionKind.MISSING
                    if drift.attribute == "table"
                    else TransitionKind.NEW
                )
                items.append(_transition(kind, sighting, first_seen=at, at=at))
                continue
            claimed.add(existing.id)
            changed = to_json(existing.declared) != to_json(sighting.declared) or to_json(
                existing.live
            ) != to_json(sighting.live)
            seen.append(Seen(existing.id, sighting, changed))
            if changed:
                items.append(
                    _transition(
                        TransitionKind.CHANGED,
                        sighting,
                        first_seen=existing.first_seen,
                        at=at,
                        previous_declared=existing.declared,
                        previous_live=existing.live,
                    )
                )
    checks = _Checks(
        waiting,
        errored,
        errored_addresses,
        uncompared,
        ignored,
        absent,
        checked,
        quiet,
        report.incomplete_targets,
    )
    for episode in episodes:
        if episode.id in claimed:
            continue
        if configured is not None and episode.target not in configured:
            reason: ResolveReason | None = ResolveReason.NO_LONGER_CONFIGURED
        else:
            reason = _closing_reason(episode, checks)
        if reason is None:
            continue
        closed.append(Closed(episode.id, reason))
        kind = TransitionKind.SUPERSEDED if reason is ResolveReason.SUPERSEDED else TransitionKind.RESOLVED
        sighting = Sighting(episode.key, episode.address, episode.source, episode.declared, episode.live)
        items.append(_transition(kind, sighting, first_seen=episode.first_seen, at=at, reason=reason.value))
    return Reconciliation(
        tuple(opened), tuple(seen), tuple(closed), Transitions(tuple(items), report.commit, at)
    )


@dataclass(frozen=True)
class _Checks:
    """What one report said about the tables, for the episodes it did not see drift on."""

    waiting: _Regions  # (target, table, attribute) pending an apply
    errored: _Regions  # (target, table) not read
    errored_addresses: set[tuple[str, str | None]]
    uncompared: dict[tuple[str, str], dict[str | None, set[str]]]
    ignored: _Regions  # (target, table, attribute)
    absent: _Regions  # (target, table) absent in AWS
    checked: _Regions  # (target, table) compared
    quiet: _Regions  # (target, table) unmanaged, listed without alerting
    incomplete: frozenset[str]  # targets that did not list every table


def _closing_reason(episode: Episode, c: _Checks) -> ResolveReason | None:
    """Why an open episode the report saw no drift for closes; None: it stays open (the report
    could not tell). The rules are the module docstring's."""
    target, region, table, attribute = episode.key
    if c.waiting.covers((target, table, attribute), region):
        return None  # waiting for an apply: no news
    if c.errored.covers((target, table), region) or (target, episode.address) in c.errored_addresses:
        return None  # we could not look at the table: no news
    if nested_in(attribute, _uncompared(c.uncompared, target, region, table)):
        return None  # we could not compare the attribute: no news
    if attribute == "table" and episode.declared is None:
        if target in c.incomplete:
            return None  # its account's tables may not have been listed
        if c.quiet.covers((target, table), region):
            return ResolveReason.NOT_ALERTED  # still there, undeclared: alerting was turned off
        return ResolveReason.NO_LONGER_UNMANAGED
    if c.ignored.covers((target, table, attribute), region):
        return ResolveReason.IGNORED
    if attribute != "table" and c.absent.covers((target, table), region):
        return ResolveReason.SUPERSEDED
    if c.checked.covers((target, table), region):
        return ResolveReason.FIXED
    if target in c.incomplete:
        return None  # part of the target did not parse: absence proves nothing
    return ResolveReason.NO_LONGER_DECLARED


def _continued(current: Mapping[Key, Episode], claimed: set[int], key: Key) -> Episode | None:
    """The open episode a drift at ``key`` continues: the one of its region, else one stored
    without a region (the module docstring), unless this scan's drift already continues it."""
    target, _, table, attribute = key
    for candidate in (key, (target, None, table, attribute)):
        episode = current.get(candidate)
        if episode is not None and episode.id not in claimed:
            return episode
    return None


def _transition(
    kind: TransitionKind,
    sighting: Sighting,
    *,
    first_seen: datetime,
    at: datetime,
    previous_declared: Any = None,
    previous_live: Any = None,
    reason: str | None = None,
) -> Transition:
    target, region, table, attribute = sighting.key
    return Transition(
        kind,
        target,
        table,
        attribute,
        region,
        sighting.address,
        sighting.source,
        sighting.declared,
        sighting.live,
        first_seen=first_seen,
        at=at,
        previous_declared=previous_declared,
        previous_live=previous_live,
        reason=reason,
    )
