"""Prometheus metrics of the driftwatch daemon: everything ``/metrics`` shows.

Why a custom collector instead of ``Gauge(...).labels(...).set()``: per-table and
per-attribute series must describe the *latest* scan only. A labelled ``Gauge`` keeps every
child it ever saw, so a fixed attribute or a table that was removed from git would keep
exporting its last value forever (a stale "drifted" that no alert could ever resolve). Here the
latest report is reduced to an immutable view and swapped in under a lock; ``collect()`` builds
the families from that view at scrape time, so a series that is no longer true simply is not
there on the next scrape.

Counters (scans, notifications, AWS calls) are built the same way, as ``CounterMetricFamily``
from plain internal counts. That gives deterministic output without ``*_created`` series and
without calling ``prometheus_client.disable_created_metrics()``, which is process-global and
would change other libraries' metrics as a side effect of importing this module.

Label values are bounded: target names and table names/addresses come from configuration,
attribute names from the fixed vocabulary of diff.py. Declared or live *values* (capacities,
ARNs, tag values) are never put in labels.

Metrics (all gauges unless noted; ``T`` = ``target, table, region``):

- ``driftwatch_table_drifted{T}``: 1 when git and AWS disagree and it alerts (status
  ``drifted`` or ``missing``, or ``unmanaged`` of a target with ``unmanaged.alert``), else 0
  (also 0 for ``error``, ``pending`` and ignored drift: see ``driftwatch_table_status``).
- ``driftwatch_table_status{T, status}``: one-hot over in_sync/drifted/missing/error/pending/
  unmanaged; an unmanaged table (in AWS, not declared) has its own series too.
- ``driftwatch_table_unresolved_attributes{T}``: attributes not compared (declared Unknown).
- ``driftwatch_attribute_drift{T, attribute}``: 1 per drifted attribute (of declared tables).
- ``driftwatch_ignored_drift{T, attribute}``: 1 per drifted attribute an ignore rule accepts.
- ``driftwatch_ignore_rules_expired``: ignore rules of the config whose ``until`` has passed.
- ``driftwatch_drift_first_seen_timestamp_seconds{T, attribute}``: when that drift was first seen;
  kept while the table cannot be read (status ``error``), its target failed to evaluate, or
  the attribute could not be compared (unresolved), and the history keeps the drift open.
- ``driftwatch_tables{target, status}``: count of report rows per status (zero-filled).
- ``driftwatch_scan_errors{target}``: target-level errors (parse errors, bad var files).
- ``driftwatch_unevaluated_module_calls{target}``: module calls and resources that may declare
  tables and were not evaluated (source not fetched, unknown count/for_each...): not watched.
- ``driftwatch_not_watched{target, kind}``: everything of the latest scan that is not watched,
  by kind (``NOT_WATCHED_KINDS``, zero-filled per target): ``module_not_evaluated`` (module
  calls and resources, as above), ``target_error`` (target-level errors: a file not read, a var
  file, a read IAM denies), ``table_error`` (tables not compared: status ``error``) and
  ``attribute_unresolved`` (attributes not compared). All zero means every declared table was
  compared in full: silence means in sync.
- ``driftwatch_roots_not_covered``: directories of the repository that declare tables and that
  no target evaluates (``driftwatch.terraform.roots``; a survey cut short counts one).
- ``driftwatch_checkout_stale``: 1 when git-sync's error file was present at the latest scan
  (``repo_sync_error_file``; driftwatch.checkout): the checkout may be stale.
- ``driftwatch_pending_unavailable{target}``: 1 when the latest scan could not tell pending
  applies for the target (a shallow clone, no git, a missing object...; the report gives the
  reason): a fresh commit's drift then shows as drift, not ``pending``. 0 otherwise.
- ``driftwatch_config_not_applied``: 1 when the configuration file differs from the one the
  daemon started with (driftwatch.config_watch): the file is not what runs until a restart.
- ``driftwatch_scans_total{result}`` (counter): success/partial/failure, all start at 0.
- ``driftwatch_scan_duration_seconds`` (histogram): wall time of each scan, any result.
- ``driftwatch_last_scan_timestamp_seconds``: *start* of the most recent scan attempt.
- ``driftwatch_last_successful_scan_timestamp_seconds``: *start* of the last ``success`` scan.
- ``driftwatch_aws_api_calls_total{operation, outcome}`` (counter): from ``ApiCallRecorder``:
  finished calls by outcome (``success`` or the error code; ``OtherError`` for a code that cannot
  be a label, or past 32 outcomes of one operation), and ``outcome="throttled"``:
  every throttled *attempt*, those a retry made good included (not calls: leave it out of a
  sum of calls).
- ``driftwatch_aws_api_retries_total{operation}`` (counter): attempts botocore retried (throttling,
  timeouts, resets), from ``ApiCallRecorder``; no series for an operation never retried.
- ``driftwatch_notifications_total{channel, outcome}`` (counter): delivery attempts by outcome:
  ``success`` (delivered), ``retry`` (refused for now: 5xx, 429, a broken webhook),
  ``error`` (no answer: timeout, connection), ``dropped`` (refused for good). Zero-filled per
  channel from the start, so ``increase()`` sees every failure after the first scrape (one
  before it starts the series above 0: the rules count a young process's whole life).
- ``driftwatch_outbox_messages{channel, status}``: messages in the outbox now, by status
  (pending, sent, dropped); sent and dropped ones until ``state.retention`` deletes them.
- ``driftwatch_outbox_oldest_pending_age_seconds{channel}``: age of the oldest message not yet
  delivered (0 when none is pending), computed at scrape time.
- ``driftwatch_outbox_oldest_pending_attempts{channel}``: failed delivery attempts of that
  message (0 when none is pending): above 0, the channel is failing now. From the outbox, so
  right from a restart and between retries an hour apart, where a count of recent failures
  reads 0.
- ``driftwatch_module_cache_bytes``, ``driftwatch_module_cache_max_bytes``: bytes the module
  download cache holds after the last scan, and its bound (``modules.cache_max_bytes``).
- ``driftwatch_module_cache_evictions_total`` (counter): modules evicted to keep the cache under
  its bound, by any process sharing it (kept in the cache); a steady rise means the cache is
  smaller than what the targets use, and modules are downloaded again and again.
- ``driftwatch_repo_info{commit}``: 1 for the commit of the latest report (absent when unknown).
- ``driftwatch_build_info{version}``: 1.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from prometheus_client import PlatformCollector, ProcessCollector, generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry

from driftwatch.aws.calls import THROTTLED, ApiCallRecorder
from driftwatch.spec import ScanReport, TableResult, TableStatus, nested_in

SCAN_RESULTS: Final = ("success", "partial", "failure")
"""Every value of the ``result`` label; a fixed set so that all three exist from the first scrape."""

DURATION_BUCKETS: Final = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
"""Scan duration buckets: a one-table CI scan takes well under a second, a large estate with
throttling several minutes; past 10 minutes the exact value no longer matters (+Inf)."""

# Worst first: when two report rows map to the same (target, table, region) series, the one
# that needs attention wins, in the same order as ScanReport.exit_code ("could not check" first).
_STATUS_SEVERITY: Final = (
    TableStatus.ERROR,
    TableStatus.MISSING,
    TableStatus.DRIFTED,
    TableStatus.UNMANAGED,
    TableStatus.PENDING,
    TableStatus.IN_SYNC,
)
_STATUS_ORDER: Final = tuple(TableStatus)
_TABLE_LABELS: Final = ("target", "table", "region")
NOTIFICATION_OUTCOMES: Final = ("success", "retry", "error", "dropped")
NOT_WATCHED_KINDS: Final = ("module_not_evaluated", "target_error", "table_error", "attribute_unresolved")
"""Every value of ``driftwatch_not_watched``'s ``kind`` label: a fixed set (the reasons
themselves are free text from git and AWS, in the reports, never in a label)."""
OUTBOX_STATUSES: Final = ("pending", "sent", "dropped")


def _unix(at: datetime) -> float:
    """Unix seconds; a naive datetime is taken as UTC (driftwatch only produces UTC times)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.timestamp()


def table_label(result: TableResult) -> str:
    """The ``table`` label of a report row: the AWS table name, else the Terraform address.

    The name can be missing (declared name Unknown, or an error before it was resolved); the
    address is stable and unique within a target, so the row still gets its own series.
    This is also the ``table`` of the ``first_seen`` keys ``(target, region, table, attribute)``.
    """
    return result.table_name if result.table_name is not None else (result.address or "")


@dataclass(frozen=True)
class _TableRow:
    target: str
    table: str
    region: str
    status: TableStatus
    unresolved: int
    alerts: bool


@dataclass(frozen=True)
class _AttributeRow:
    target: str
    table: str
    region: str
    attribute: str
    first_seen: float


@dataclass(frozen=True)
class _ReportView:
    """Everything the per-report families need, precomputed once per scan and immutable.

    Built outside the lock in ``observe_scan`` so a scrape never waits for the reduction of a
    large report, and copied out of the caller's ``first_seen`` mapping so later mutations of
    that mapping (by history) cannot change what a scrape shows.
    """

    tables: tuple[_TableRow, ...]
    attributes: tuple[_AttributeRow, ...]
    ignored: tuple[tuple[str, str, str, str], ...]
    expired_rules: int
    table_counts: tuple[tuple[str, TableStatus, int], ...]
    scan_errors: tuple[tuple[str, int], ...]
    commit: str | None
    unevaluated: tuple[tuple[str, int], ...] = ()
    not_watched: tuple[tuple[str, str, int], ...] = ()  # (target, kind, count)
    pending_unavailable: tuple[tuple[str, int], ...] = ()  # (target, 1 or 0)
    roots_not_covered: int = 0
    checkout_stale: int = 0

    @classmethod
    def build(
        cls,
        report: ScanReport,
        first_seen: Mapping[tuple[str, str | None, str, str], datetime],
        open_tables: Iterable[tuple[str, str | None, str]] = (),
        missing_tables: Iterable[tuple[str, str | None, str]] = (),
    ) -> _ReportView:
        fallback = _unix(report.generated_at)
        statuses: dict[tuple[str, str, str], TableStatus] = {}
        unresolved: dict[tuple[str, str, str], set[str]] = {}
        attributes: dict[tuple[str, str, str, str], float] = {}
        alerting: set[tuple[str, str, str]] = set()
        ignored: set[tuple[str, str, str, str]] = set()
        unread: set[tuple[str, str, str]] = set()
        uncompared: dict[tuple[str, str, str], set[str]] = {}  # (target, table, region) -> unresolved
        counts: Counter[tuple[str, TableStatus]] = Counter()
        targets: set[str] = set()
        for row in report.tables:
            table = table_label(row)
            key = (row.target, table, row.region or "")
            targets.add(row.target)
            counts[(row.target, row.status)] += 1
            previous = statuses.get(key)
            if previous is None or _STATUS_SEVERITY.index(row.status) < _STATUS_SEVERITY.index(previous):
                statuses[key] = row.status
            unresolved.setdefault(key, set()).update(u.attribute for u in row.unresolved)
            ignored.update((*key, item.attribute) for item in row.ignored)
            if row.alerts:
                alerting.add(key)
            # Only drift that alerts: an unmanaged table of a target without `alert` is a status only.
            for drift in row.drift if row.alerts else ():
                seen = first_seen.get((row.target, row.region, table, drift.attribute))
                stamp = _unix(seen) if seen is not None else fallback
                attr_key = (*key, drift.attribute)
                attributes[attr_key] = min(stamp, attributes.get(attr_key, stamp))
            if row.status is TableStatus.ERROR and row.table_name is not None:
                unread.add((row.target, row.table_name, row.region or ""))
            elif row.unresolved and row.table_name is not None:
                uncompared.setdefault((row.target, row.table_name, row.region or ""), set()).update(
                    u.attribute for u in row.unresolved
                )
        # A table that could not be read this scan (AccessDenied, throttling) keeps its open
        # drift, as the history does: not read is not fixed, and dropping the series would
        # resolve DriftwatchTableDrifted until the next scan fires it again. A missing
        # table's "table" drift is carried below, beside its error status.
        # Likewise a table a target that failed to evaluate did not list (a file that stopped
        # parsing, a worker that died, a module call not evaluated): its absence proves
        # nothing (the history's rule too).
        # A table is (target, table, region) here as in the history: the same name in two
        # regions is two tables, and one region unread carries only its own drift.
        carried = set(unread)
        incomplete = report.incomplete_targets
        listed = {(row.target, row.table_name, row.region or "") for row in report.tables}
        for target, region, table in open_tables:
            if target in incomplete and (target, table, region or "") not in listed:
                carried.add((target, table, region or ""))
        # An unknown region (a row's or an episode's) stands for every region of the name.
        carried_names = {(target, table) for target, table, _ in carried}
        carried_everywhere = {(target, table) for target, table, region in carried if not region}
        # A missing or unmanaged table not listed keeps its ``table`` drift and that status:
        # both series went, so DriftwatchTableMissing resolved for a table still missing (and
        # paged again once its target evaluated), and DriftwatchTableDrifted would take the
        # drift alone for an unmanaged table.
        missing = {(target, table, region or "") for target, region, table in missing_tables}
        for (target, region, table, attribute), seen in first_seen.items():
            place = (target, table, region or "")
            name = (target, table)
            if attribute == "table" and place in carried and place not in listed:
                attributes.setdefault((*place, attribute), _unix(seen))
                statuses.setdefault(place, TableStatus.MISSING if place in missing else TableStatus.UNMANAGED)
                unresolved.setdefault(place, set())
                alerting.add(place)
                continue
            if attribute == "table" and place in unread and place in missing:
                # A missing table that could not be read this scan (DescribeTable denied): not
                # found again, so it stays missing beside its ``error`` status (the history's
                # rule); dropping the series said "resolved" for it (DriftwatchTableMissing).
                attributes.setdefault((*place, attribute), _unix(seen))
                continue
            if attribute != "table" and (
                place in carried or name in carried_everywhere or (not region and name in carried_names)
            ):
                attributes.setdefault((*place, attribute), _unix(seen))
                continue
            # An attribute this scan could not compare (its autoscaling listing refused, the
            # table UPDATING, one read denied) keeps its open drift too: the history's rule.
            unresolved_here = uncompared.get(place, set())
            if unresolved_here and nested_in(attribute, unresolved_here):
                attributes.setdefault((*place, attribute), _unix(seen))
        errors: Counter[str] = Counter(error.target for error in report.errors)
        targets.update(errors)
        skipped: Counter[str] = Counter(item.target for item in report.not_evaluated)
        targets.update(skipped)
        pending_off = {item.target for item in report.pending_unavailable}
        targets.update(pending_off)
        ordered_targets = sorted(targets)
        gaps: Counter[tuple[str, str]] = Counter()
        for target, count in skipped.items():
            gaps[(target, "module_not_evaluated")] += count
        for target, count in errors.items():
            gaps[(target, "target_error")] += count
        for row in report.tables:
            if row.status is TableStatus.ERROR:
                gaps[(row.target, "table_error")] += 1
            if row.status is not TableStatus.UNMANAGED:  # counted as ScanReport.unresolved_count
                gaps[(row.target, "attribute_unresolved")] += len({u.attribute for u in row.unresolved})
        return cls(
            tables=tuple(
                _TableRow(
                    target,
                    table,
                    region,
                    status,
                    len(unresolved[(target, table, region)]),
                    (target, table, region) in alerting,
                )
                for (target, table, region), status in statuses.items()
            ),
            attributes=tuple(_AttributeRow(*attr_key, stamp) for attr_key, stamp in attributes.items()),
            ignored=tuple(sorted(ignored)),
            expired_rules=len(report.expired_ignore_rules),
            roots_not_covered=len(report.roots_not_covered),
            checkout_stale=int(report.checkout_stale is not None),
            table_counts=tuple(
                (target, status, counts[(target, status)])
                for target in ordered_targets
                for status in _STATUS_ORDER
            ),
            scan_errors=tuple((target, errors[target]) for target in ordered_targets),
            commit=report.commit,
            unevaluated=tuple((target, skipped[target]) for target in ordered_targets),
            pending_unavailable=tuple((target, int(target in pending_off)) for target in ordered_targets),
            not_watched=tuple(
                (target, kind, gaps[(target, kind)])
                for target in ordered_targets
                for kind in NOT_WATCHED_KINDS
            ),
        )


class _Collector(Collector):
    """Adapter so the registry calls back into ``DriftwatchMetrics`` at scrape time."""

    def __init__(self, metrics: DriftwatchMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterable[Metric]:
        return self._metrics._collect()

    def describe(self) -> Iterable[Metric]:
        # Empty: otherwise the registry would call collect() at register time to learn the
        # names, before there is anything to collect.
        return []


class _FamiliesCollector(Collector):
    def __init__(self, families: Callable[[], Iterable[Metric]]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families()

    def describe(self) -> Iterable[Metric]:
        return []


class DriftwatchMetrics:
    """Everything /metrics shows.

    Per-table and per-attribute series come from a custom collector over the LATEST report
    (swapped in atomically under a lock), so a table or attribute that is fixed or no longer
    declared disappears instead of going stale. A failed scan without a report keeps the
    previous report's series: the last known state is still the best answer, and staleness is
    visible through ``driftwatch_last_successful_scan_timestamp_seconds``.

    Thread-safe: the scan thread calls ``scan_started``/``observe_scan``/``notification`` while
    the HTTP thread calls ``render``; all shared state is read and written under one lock, and
    the heavy work (reducing a report, formatting the text) happens outside it.
    """

    CONTENT_TYPE: Final[str] = "text/plain; version=0.0.4; charset=utf-8"
    """What ``render()`` produces. Spelled out rather than ``CONTENT_TYPE_LATEST``, which newer
    prometheus-client releases changed to ``version=1.0.0`` although ``generate_latest`` still
    writes the classic 0.0.4 format for names like ours."""

    def __init__(
        self,
        *,
        version: str,
        recorder: ApiCallRecorder | None = None,
        worker_stops: Callable[[], Mapping[str, int]] | None = None,
        registry: CollectorRegistry | None = None,
    ) -> None:
        """Create the metrics and register their collector.

        Without ``registry`` a fresh one is made (never the global ``REGISTRY``, so tests and
        several instances cannot collide) and the process/platform collectors are added to it.
        With a ``registry`` only driftwatch's own collector is registered: the caller owns the
        rest (the global registry, for one, already has process/platform collectors and would
        reject duplicates). ``worker_stops`` reads the evaluation worker's stops by reason
        (``WorkerEvaluator.stops``) at scrape time.
        """
        self._version = version
        self._recorder = recorder
        self._worker_stops = worker_stops
        self._lock = threading.Lock()
        self._view: _ReportView | None = None
        # The per-table families change once per scan but are most of the text (28k samples at
        # 1,000 tables): they are formatted once per report and the bytes reused by every scrape.
        self._report_text: tuple[_ReportView | None, bytes] | None = None
        self._rendering = threading.local()
        self._scans: dict[str, int] = dict.fromkeys(SCAN_RESULTS, 0)
        self._bucket_counts = [0] * (len(DURATION_BUCKETS) + 1)  # last one is +Inf
        self._duration_sum = 0.0
        self._last_scan = 0.0
        self._last_success = 0.0
        self._overdue_started = 0
        self._scans_skipped = 0
        self._config_not_applied = 0
        self._notifications: Counter[tuple[str, str]] = Counter()
        # channel -> (pending, sent, dropped, unix time of the oldest pending message or None)
        self._outbox: dict[str, tuple[int, int, int, float | None, int]] = {}
        self._module_cache: tuple[int, int, int] | None = None  # bytes, bound, evictions
        if registry is None:
            registry = CollectorRegistry()
            ProcessCollector(registry=registry)
            PlatformCollector(registry=registry)
        self.registry = registry
        registry.register(_Collector(self))

    # --- updates (scan thread) ---

    def scan_started(self, at: datetime) -> None:
        """Move ``driftwatch_last_scan_timestamp_seconds`` to the start of a scan.

        Start time, not finish time, for both scan timestamps: what a scan reports is at
        least as fresh as its start, so that is the honest age of the data; and a wedged
        scheduler shows up as this timestamp no longer advancing. The latest scan's, even if
        earlier than the one before (the wall clock set back): a start stamped while the clock
        ran ahead would otherwise hold both timestamps in the future, and DriftwatchScansStale
        silent, until the clock caught up.
        """
        stamp = _unix(at)
        with self._lock:
            self._last_scan = stamp

    def observe_scan(
        self,
        report: ScanReport | None,
        *,
        first_seen: Mapping[tuple[str, str | None, str, str], datetime],
        result: str,
        duration_seconds: float,
        started_at: datetime,
        open_tables: Iterable[tuple[str, str | None, str]] = (),
        missing_tables: Iterable[tuple[str, str | None, str]] = (),
    ) -> None:
        """Record a finished scan and, when there is a report, make it the one /metrics shows.

        ``result`` is ``success`` (everything checked), ``partial`` (some tables or targets
        errored) or ``failure`` (the scan itself crashed; ``report`` may then be None and only
        counters and timestamps change). ``first_seen`` maps ``(target, region, table,
        attribute)`` (``table`` as in ``table_label``) to when history first saw that drift; a
        drift without an entry falls back to ``report.generated_at``. ``open_tables``: (target,
        region, table) of the history's open drift, for the drift of tables a target that
        failed to evaluate did not list (see ``_ReportView.build``); ``missing_tables``: those
        of them whose open ``table`` drift is a missing table (else an unmanaged one).
        """
        if result not in SCAN_RESULTS:
            # A label value outside the fixed set would be a new, unbounded series: fail loudly.
            raise ValueError(f"result must be one of {SCAN_RESULTS}, not {result!r}")
        view = (
            _ReportView.build(report, first_seen, open_tables, missing_tables) if report is not None else None
        )
        stamp = _unix(started_at)
        bucket = next((i for i, bound in enumerate(DURATION_BUCKETS) if duration_seconds <= bound), -1)
        with self._lock:
            if view is not None:
                self._view = view
            self._scans[result] += 1
            self._bucket_counts[bucket] += 1
            self._duration_sum += duration_seconds
            self._last_scan = stamp  # the latest scan's, as in scan_started
            if result == "success":
                self._last_success = stamp
        if view is not None:
            self._report_bytes(view)  # format now, in the scan thread, not in the first scrape

    def overdue_scan_started(self) -> None:
        """Count a scan the daemon started itself because the schedule held it up."""
        with self._lock:
            self._overdue_started += 1

    def scan_skipped(self) -> None:
        """Count a scheduled scan not started because the previous one was still running."""
        with self._lock:
            self._scans_skipped += 1

    def config_not_applied(self, differs: bool) -> None:
        """Whether the configuration file differs from (or no longer loads as) what runs."""
        with self._lock:
            self._config_not_applied = int(differs)

    def notification(self, channel: str, outcome: str) -> None:
        """Count one notification attempt; callers pass small fixed sets (e.g. slack/sent)."""
        with self._lock:
            self._notifications[(channel, outcome)] += 1

    def notification_channel(self, channel: str) -> None:
        """Export every outcome of ``channel`` at 0 from the start: a counter that appears at
        1 has no earlier sample, and ``increase()`` would never see that first failure."""
        with self._lock:
            for outcome in NOTIFICATION_OUTCOMES:
                self._notifications[(channel, outcome)] += 0

    def observe_outbox(
        self,
        channel: str,
        *,
        pending: int,
        sent: int,
        dropped: int,
        oldest_pending: datetime | None,
        oldest_attempts: int = 0,
    ) -> None:
        """The outbox of ``channel`` as the database holds it now (after a scan or a delivery)."""
        oldest = _unix(oldest_pending) if oldest_pending is not None else None
        with self._lock:
            self._outbox[channel] = (
                pending,
                sent,
                dropped,
                oldest,
                oldest_attempts if oldest is not None else 0,
            )

    def observe_module_cache(self, *, held: int, limit: int, evictions: int) -> None:
        """The module download cache as measured after a scan (driftwatch.terraform.cache)."""
        with self._lock:
            self._module_cache = (held, limit, evictions)

    # --- reads (HTTP thread) ---

    def render(self) -> bytes:
        """The registry in Prometheus text format 0.0.4 (see ``CONTENT_TYPE``), as one copy."""
        return b"".join(self.render_parts())

    def render_parts(self) -> tuple[bytes, bytes]:
        """The exposition as (per-scan body, live tail), to be written one after the other.

        The per-scan body -- every per-table series, most of the text and all of its growth
        with the estate -- is formatted once per report and the *same* immutable bytes object
        is handed to every scrape until the next report: /metrics never builds a copy per
        request (the endpoint writes it in slices without joining). The tail (counters,
        timestamps, process metrics: a few KB whatever the estate) is formatted fresh, so a
        scrape is never stale.
        """
        with self._lock:
            view = self._view
        report = self._report_bytes(view)
        self._rendering.cached_report = True
        try:
            rest = generate_latest(self.registry)
        finally:
            self._rendering.cached_report = False
        return report, rest

    def _report_bytes(self, view: _ReportView | None) -> bytes:
        with self._lock:
            cached = self._report_text
        if cached is not None and cached[0] is view:
            return cached[1]
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_FamiliesCollector(lambda: self._report_families(view)))
        text = generate_latest(registry)
        with self._lock:
            if self._view is view:
                self._report_text = (view, text)
        return text

    def _collect(self) -> Iterable[Metric]:
        with self._lock:
            view = self._view
            scans = dict(self._scans)
            bucket_counts = list(self._bucket_counts)
            duration_sum = self._duration_sum
            last_scan = self._last_scan
            last_success = self._last_success
            overdue_started = self._overdue_started
            scans_skipped = self._scans_skipped
            config_not_applied = self._config_not_applied
            notifications = sorted(self._notifications.items())
            outbox = sorted(self._outbox.items())
            module_cache = self._module_cache
        # The recorder has its own lock; reading it at scrape time means the counter is
        # current even while a long scan is still making calls.
        api_calls = sorted(self._recorder.snapshot().items()) if self._recorder is not None else []
        api_retries = sorted(self._recorder.retries().items()) if self._recorder is not None else []
        throttled = sorted(self._recorder.throttled().items()) if self._recorder is not None else []
        worker_stops = sorted(self._worker_stops().items()) if self._worker_stops is not None else []

        if not getattr(self._rendering, "cached_report", False):
            yield from self._report_families(view)  # a caller formatting the registry directly

        scans_total = CounterMetricFamily(
            "driftwatch_scans_total",
            "Scans finished, by result (success, partial, failure).",
            labels=["result"],
        )
        for result in SCAN_RESULTS:
            scans_total.add_metric([result], scans[result])
        yield scans_total

        cumulative: list[tuple[str, float]] = []
        running = 0
        for bound, count in zip((*DURATION_BUCKETS, float("inf")), bucket_counts, strict=True):
            running += count
            cumulative.append(("+Inf" if bound == float("inf") else repr(float(bound)), running))
        yield HistogramMetricFamily(
            "driftwatch_scan_duration_seconds",
            "Wall-clock duration of each scan, whatever its result.",
            buckets=cumulative,
            sum_value=duration_sum,
        )

        yield GaugeMetricFamily(
            "driftwatch_last_scan_timestamp_seconds",
            "Unix time the most recent scan attempt started (0 before the first).",
            value=last_scan,
        )
        yield GaugeMetricFamily(
            "driftwatch_last_successful_scan_timestamp_seconds",
            "Unix time the most recent scan with result=success started (0 if none yet).",
            value=last_success,
        )

        yield CounterMetricFamily(
            "driftwatch_overdue_scans_started_total",
            "Scans the daemon started itself because none had started within an interval (+ jitter "
            "+ a margin) of real time: the wall clock was set back, or the scheduler stalled.",
            value=overdue_started,
        )
        yield CounterMetricFamily(
            "driftwatch_scans_skipped_total",
            "Scheduled scans not started because the previous scan was still running: scans take "
            "longer than schedule.interval, so they run less often than configured.",
            value=scans_skipped,
        )
        yield GaugeMetricFamily(
            "driftwatch_config_not_applied",
            "1 when the configuration file differs from the one this process started with (edited, "
            "broken or removed while it runs): it is read at start only, so the file is not what "
            "runs until a restart. 0 otherwise.",
            value=config_not_applied,
        )

        calls = CounterMetricFamily(
            "driftwatch_aws_api_calls_total",
            "AWS API calls after botocore retries, by operation and outcome (success or error code); "
            'outcome="throttled" counts throttled attempts instead, retried ones included.',
            labels=["operation", "outcome"],
        )
        for (operation, outcome), count in api_calls:
            calls.add_metric([operation, outcome], count)
        for operation, count in throttled:
            calls.add_metric([operation, THROTTLED], count)
        yield calls

        retries = CounterMetricFamily(
            "driftwatch_aws_api_retries_total",
            "AWS API attempts botocore retried (throttling, timeouts, connection resets), by operation.",
            labels=["operation"],
        )
        for operation, count in api_retries:
            retries.add_metric([operation], count)
        yield retries

        if self._worker_stops is not None:
            stops = CounterMetricFamily(
                "driftwatch_evaluation_worker_restarts_total",
                "Evaluation workers stopped and replaced because of what an evaluation did, by reason: "
                "timeout (parse.max_seconds), died (a signal, the CPU limit, an exit), memory "
                "(parse.max_memory), reply (too large or unreadable).",
                labels=["reason"],
            )
            for reason, count in worker_stops:
                stops.add_metric([reason], count)
            yield stops

        if module_cache is not None:
            held, limit, evictions = module_cache
            yield GaugeMetricFamily(
                "driftwatch_module_cache_bytes",
                "Bytes of fetched modules the module download cache holds (modules.cache_dir).",
                value=held,
            )
            yield GaugeMetricFamily(
                "driftwatch_module_cache_max_bytes",
                "The module download cache's bound (modules.cache_max_bytes).",
                value=limit,
            )
            yield CounterMetricFamily(
                "driftwatch_module_cache_evictions_total",
                "Modules evicted (least recently used first) to keep the module cache under its bound.",
                value=evictions,
            )

        sent = CounterMetricFamily(
            "driftwatch_notifications_total",
            "Notification delivery attempts, by channel and outcome.",
            labels=["channel", "outcome"],
        )
        for (channel, outcome), count in notifications:
            sent.add_metric([channel, outcome], count)
        yield sent

        messages = GaugeMetricFamily(
            "driftwatch_outbox_messages",
            "Messages in the outbox by status: pending (not delivered yet), sent, dropped (refused "
            "for good); finished ones until state.retention deletes them.",
            labels=["channel", "status"],
        )
        oldest_age = GaugeMetricFamily(
            "driftwatch_outbox_oldest_pending_age_seconds",
            "Age of the oldest message not delivered yet (0 when none is pending).",
            labels=["channel"],
        )
        oldest_attempts = GaugeMetricFamily(
            "driftwatch_outbox_oldest_pending_attempts",
            "Failed delivery attempts of the oldest message not delivered yet (0 when none is "
            "pending): above 0, the channel's delivery is failing now.",
            labels=["channel"],
        )
        now = time.time()
        for channel, (pending, delivered, dropped, oldest, attempts) in outbox:
            for status_name, count in zip(OUTBOX_STATUSES, (pending, delivered, dropped), strict=True):
                messages.add_metric([channel, status_name], count)
            oldest_age.add_metric([channel], max(0.0, now - oldest) if oldest is not None else 0.0)
            oldest_attempts.add_metric([channel], attempts)
        yield messages
        yield oldest_age
        yield oldest_attempts

        repo = GaugeMetricFamily(
            "driftwatch_repo_info",
            "Git commit of the repository the latest report scanned.",
            labels=["commit"],
        )
        if view is not None and view.commit is not None:
            repo.add_metric([view.commit], 1)
        yield repo

        build = GaugeMetricFamily("driftwatch_build_info", "driftwatch version.", labels=["version"])
        build.add_metric([self._version], 1)
        yield build

    @staticmethod
    def _report_families(view: _ReportView | None) -> Iterable[Metric]:
        """Families over the latest report; empty (HELP/TYPE only) before the first report."""
        drifted = GaugeMetricFamily(
            "driftwatch_table_drifted",
            "1 if the table differs from git and that alerts (drifted, missing, or unmanaged with "
            "unmanaged.alert), else 0; pending and ignored drift are 0.",
            labels=list(_TABLE_LABELS),
        )
        status = GaugeMetricFamily(
            "driftwatch_table_status",
            "1 for the table's current status (in_sync, drifted, missing, error, pending, unmanaged), "
            "0 for the others.",
            labels=[*_TABLE_LABELS, "status"],
        )
        unresolved = GaugeMetricFamily(
            "driftwatch_table_unresolved_attributes",
            "Attributes not compared because their declared value could not be resolved.",
            labels=list(_TABLE_LABELS),
        )
        attribute = GaugeMetricFamily(
            "driftwatch_attribute_drift",
            "1 for each attribute that differs between git and AWS.",
            labels=[*_TABLE_LABELS, "attribute"],
        )
        ignored = GaugeMetricFamily(
            "driftwatch_ignored_drift",
            "1 for each attribute that differs but that an ignore rule accepts (never alerted).",
            labels=[*_TABLE_LABELS, "attribute"],
        )
        expired = GaugeMetricFamily(
            "driftwatch_ignore_rules_expired",
            "Ignore rules of the configuration whose `until` date has passed; they no longer apply.",
        )
        first_seen = GaugeMetricFamily(
            "driftwatch_drift_first_seen_timestamp_seconds",
            "Unix time this attribute drift was first seen.",
            labels=[*_TABLE_LABELS, "attribute"],
        )
        tables = GaugeMetricFamily(
            "driftwatch_tables",
            "Declared tables in the latest scan, by target and status.",
            labels=["target", "status"],
        )
        errors = GaugeMetricFamily(
            "driftwatch_scan_errors",
            "Target-level errors (parse errors, bad var files) in the latest scan.",
            labels=["target"],
        )
        unevaluated = GaugeMetricFamily(
            "driftwatch_unevaluated_module_calls",
            "Module calls and resources that may declare tables and were not evaluated (not watched).",
            labels=["target"],
        )
        not_watched = GaugeMetricFamily(
            "driftwatch_not_watched",
            "What the latest scan did not watch, by kind: module calls and resources not evaluated, "
            "target-level errors, tables not compared (error), attributes not compared (unresolved).",
            labels=["target", "kind"],
        )
        not_covered = GaugeMetricFamily(
            "driftwatch_roots_not_covered",
            "Directories of the repository that declare DynamoDB tables and that no target evaluates "
            "(a survey cut short counts one), in the latest scan: tables nobody compares.",
        )
        stale = GaugeMetricFamily(
            "driftwatch_checkout_stale",
            "1 when the latest scan found the repository sync's error file (repo_sync_error_file): "
            "the checkout it compared may be stale. 0 otherwise, or when not configured.",
        )
        pending_off = GaugeMetricFamily(
            "driftwatch_pending_unavailable",
            "1 when the latest scan could not tell pending applies for the target (see the report).",
            labels=["target"],
        )
        if view is not None:
            for target, off in view.pending_unavailable:
                pending_off.add_metric([target], off)
            for target, kind, count in view.not_watched:
                not_watched.add_metric([target, kind], count)
            for row in view.tables:
                labels = [row.target, row.table, row.region]
                drifted.add_metric(labels, 1 if row.alerts else 0)
                for candidate in _STATUS_ORDER:
                    status.add_metric([*labels, candidate.value], 1 if candidate is row.status else 0)
                unresolved.add_metric(labels, row.unresolved)
            for attr in view.attributes:
                labels = [attr.target, attr.table, attr.region, attr.attribute]
                attribute.add_metric(labels, 1)
                first_seen.add_metric(labels, attr.first_seen)
            for key in view.ignored:
                ignored.add_metric(list(key), 1)
            expired.add_metric([], view.expired_rules)
            not_covered.add_metric([], view.roots_not_covered)
            stale.add_metric([], view.checkout_stale)
            for target, table_status, count in view.table_counts:
                tables.add_metric([target, table_status.value], count)
            for target, count in view.scan_errors:
                errors.add_metric([target], count)
            for target, count in view.unevaluated:
                unevaluated.add_metric([target], count)
        return (
            drifted, status, unresolved, attribute, first_seen, ignored, expired, tables, errors, unevaluated,
            not_watched, pending_off, not_covered, stale,
        )  # fmt: skip
