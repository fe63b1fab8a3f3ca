"""``driftwatch run``: scheduled scans, the HTTP endpoint, Slack delivery, graceful shutdown.

APScheduler 3.x runs one scan job (never two at once: ``max_instances=1``, coalesced, with a
misfire grace) and one outbox-delivery job, so a Slack outage delays messages without
delaying scans. Each scan re-reads the checkout (git-sync updates it in Kubernetes), records
transitions in the history database and queues their messages in one transaction, then
swaps the report into the metrics collector.

One daemon per state file: the history is opened with its writer lock (see
``driftwatch.history.store``), so a second daemon on the same file stops at start.

Shutdown (SIGTERM) takes at most ``--grace`` seconds, a scan in progress included. A scan
that finishes within the grace is recorded whole; one that does not is abandoned: it is never
recorded (its transitions are found again by the next start's first scan), because the
database is closed behind a gate the recording holds. The jobs' work runs on daemon threads
(APScheduler's pool threads only wait for it), so an abandoned scan cannot keep the process
alive either. Messages still undelivered are logged, and stay queued for the next start.
"""

from __future__ import annotations

import fnmatch
import signal
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import structlog
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobSubmissionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from driftwatch import __version__
from driftwatch.aws.calls import ApiCallRecorder
from driftwatch.aws.clients import AwsClients, AwsConfigError
from driftwatch.checkout import CheckoutChangedError, replaced, snapshot
from driftwatch.config import Config
from driftwatch.config_watch import config_change
from driftwatch.endpoint import Endpoint
from driftwatch.errors import DriftwatchError
from driftwatch.gitinfo import head_commit, is_dirty, path_in_checkout
from driftwatch.history import History, HistoryError
from driftwatch.history.outbox import ChannelStats
from driftwatch.log import get_logger
from driftwatch.metrics import DriftwatchMetrics, table_label
from driftwatch.notify.coverage import Listing, NotWatched, failed_scan, not_watched, payloads, reconcile
from driftwatch.notify.routes import Route, selector, slack_routes
from driftwatch.notify.slack import CHANNEL as SLACK_CHANNEL
from driftwatch.notify.slack import (
    SlackConfigError,
    SlackNotifier,
    build_expired_rules_message,
    load_webhook_url,
)
from driftwatch.overdue import Mark, check_period, limit_seconds, overdue
from driftwatch.scan import ScanSettings, scan
from driftwatch.secrets import register_secret
from driftwatch.spec import IgnoreRule, ScanReport, TableStatus
from driftwatch.targets import repo_survey, resolved_repo, targets_from_config
from driftwatch.terraform import cache as module_cache
from driftwatch.terraform.target import TargetInput
from driftwatch.terraform.worker import shared_worker
from driftwatch.waiting import wait_for

log = get_logger(__name__)

DELIVERY_INTERVAL = timedelta(seconds=15)
# How long a scan job may spend delivering after its scan (the message under way is finished):
# the delivery job sends the rest, since a scan job still delivering holds up the next scans.
SCAN_DELIVERY_BUDGET = timedelta(seconds=15)
HEALTHY_INTERVALS = 3
PRUNE_INTERVAL = timedelta(hours=1)  # retention runs after a scan, at most this often
# Scans of one job when the checkout is swapped or removed under them (git-sync publishing a
# commit): the first is not trusted, the next reads the new checkout (driftwatch.checkout).
CHECKOUT_ATTEMPTS = 2
SCAN_JOB_MARGIN = timedelta(minutes=5)  # a scan job's work outside the scan deadline, at most


@dataclass
class DaemonState:
    """What /healthz and /readyz decide on; written by the scan thread, read by HTTP threads."""

    started_monotonic: float
    last_scan_started: float | None = None
    last_scan_finished: float | None = None
    scans_completed: int = 0
    # The last scan start or finish (else the daemon's start), on both clocks: the next scan
    # is due within an interval of it, however the wall clock moved (driftwatch.overdue).
    mark: Mark | None = None


def commit_sightings_kept(config: Config) -> timedelta:
    """How long commit sightings are kept: the retention, and at least twice the longest pending
    grace, since a sighting decides pending applies while its commit can be inside a grace."""
    graces = [config.pending_grace, *(t.pending_grace for t in config.targets if t.pending_grace is not None)]
    return max(config.state.retention, 2 * max(graces))


DriftKey = tuple[str, str | None, str, str]  # (target, region, table label, attribute) as on /metrics
Where = tuple[str, str | None, str]  # (target, region, table name)
# The history's open drift for /metrics: first sightings, the tables with open drift, and those
# of them open as missing tables.
OpenDrift = tuple[dict[DriftKey, datetime], set[Where], set[Where]]


def scan_job_limit_seconds(config: Config) -> float:
    """How long one scan job may run before it counts as stuck: its scans (one more when the
    checkout changes under the first) each bounded by ``aws.scan_timeout``, plus a margin for
    what runs outside that deadline (git reads, recording, a busy database)."""
    return CHECKOUT_ATTEMPTS * config.aws.scan_timeout.total_seconds() + SCAN_JOB_MARGIN.total_seconds()


def unrecorded_sightings(
    recorded: Mapping[DriftKey, datetime], unrecorded: Mapping[DriftKey, datetime], report: ScanReport | None
) -> dict[DriftKey, datetime]:
    """First sightings of the report's alerting drift that the history does not hold (it could
    not be written): the earliest scan of this process that saw each, kept while it is seen.
    Without them /metrics dated such drift at every scan anew, so it never aged into an alert.
    """
    if report is None:
        return dict(unrecorded)
    out: dict[DriftKey, datetime] = {}
    for row in report.tables:
        for drift in row.drift if row.alerts else ():
            key = (row.target, row.region, table_label(row), drift.attribute)
            if key not in recorded:
                out[key] = unrecorded.get(key, report.generated_at)
    return out


def wall_clock() -> datetime:
    return datetime.now(UTC)


def scan_result(report: ScanReport) -> str:
    """success: everything was checked; partial: some tables, files or module calls could not be."""
    if report.errors or report.not_evaluated or report.count(TableStatus.ERROR):
        return "partial"
    return "success"


class Daemon:
    def __init__(
        self,
        config: Config,
        base: Path,
        *,
        clients: AwsClients | None = None,
        environ: Any = None,
        config_path: Path | None = None,
    ):
        import os

        self.config = config
        self.base = base
        # The file ``config`` was read from: compared with it at every scan (driftwatch.config_watch).
        self._config_path = config_path
        self._config_change: str | None = None
        # Where the configured repo lies in its checkout: Slack's file:line links count from the
        # checkout's top (the checkout may not exist yet: then "", as for a repo at the top).
        self._repo_subdir = path_in_checkout(config.repo_path(base))
        self.recorder = ApiCallRecorder()
        self.clients = clients or AwsClients(
            max_attempts=config.aws.max_attempts,
            retry_mode=config.aws.retry_mode,
            connect_timeout=config.aws.connect_timeout,
            read_timeout=config.aws.read_timeout,
            call_timeout=config.aws.call_timeout,
            max_pool_connections=max(16, config.aws.concurrency),
            recorder=self.recorder,
            max_requests_per_second=config.aws.max_requests_per_second,
            request_burst=config.aws.concurrency,
        )
        try:
            self.clients.check_configuration()
        except AwsConfigError as error:
            # Not fatal: exiting would only crash-loop the pod. Each scan reports it on every
            # table (and picks up a fixed file), /metrics shows the failing scans.
            log.error("aws_configuration_invalid", error=str(error))
        # Targets are evaluated in a bounded, warm worker process (driftwatch.terraform.worker).
        self.cache = shared_worker(config.parse.worker_options())
        self.metrics = DriftwatchMetrics(
            version=__version__,
            recorder=self.clients.recorder or self.recorder,
            worker_stops=self.cache.stops,
        )
        # The secret is read before anything is opened, so a bad secret leaves nothing behind.
        webhook_url = load_webhook_url(
            config.slack.webhook_url_env,
            config.slack.webhook_url_file,
            environ if environ is not None else os.environ,
        )
        register_secret(webhook_url)
        routes = slack_routes(config.slack.routes)
        route_urls = {
            route.name: load_webhook_url(
                route.webhook_url_env,
                route.webhook_url_file,
                environ if environ is not None else os.environ,
            )
            for route in routes
        }
        for index, route in enumerate(routes):
            if route_urls[route.name] is None:  # an unset variable: a Secret not mounted
                raise SlackConfigError(
                    f"slack.routes.{index} ({route.name}): environment variable {route.webhook_url_env} "
                    "is not set or empty, so the drift of its tables would be announced nowhere; set "
                    "it or remove the route"
                )
        self._unrouted_said: set[tuple[str, str]] = set()
        self.history = History.open(self._state_path(), exclusive=True)
        self.slack = (
            SlackNotifier(
                webhook_url,
                self.history,
                repo_url=config.slack.repo_url,
                repo_subdir=self._repo_subdir,
                on_outcome=lambda o: self.metrics.notification("slack", o),
                select=selector(routes, None) if routes else None,
            )
            if webhook_url
            else None
        )
        # slack.routes: one notifier (its own outbox channel and metrics) per route with a URL.
        self.notifiers = [n for n in (self.slack,) if n is not None] + [
            self._route_notifier(routes, route, url) for route in routes if (url := route_urls[route.name])
        ]
        for notifier in self.notifiers:
            self.metrics.notification_channel(notifier.channel)
        self._say_unconfigured_channels()
        self.state = DaemonState(started_monotonic=time.monotonic())
        self.state.mark = self._mark()
        self._overdue_reported = False
        self._scan_lock = threading.Lock()
        self._stop = threading.Event()
        # Held while a scan writes the history; shutdown sets ``_closing`` under it, so a write
        # is either finished before the database closes or never starts.
        self._record_lock = threading.Lock()
        self._closing = False
        self._last_prune: float | None = None  # time.monotonic(): a wall clock that jumps holds nothing up
        # /metrics' drift ages when the history cannot be read (the last it said) or written
        # (this process's own first sightings): never "first seen now" for old drift.
        self._recorded_drift: OpenDrift = ({}, set(), set())
        self._unrecorded_drift: dict[DriftKey, datetime] = {}
        # Per channel: the oldest undelivered message's id, and when this process first saw it.
        self._pending_seen: dict[str, tuple[int, float]] = {}
        self._observe_outbox()
        interval = config.schedule.interval.total_seconds()
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": max(30, int(interval))},
        )
        try:
            self.endpoint = Endpoint(
                config.http.host,
                config.http.port,
                {
                    "/metrics": self._metrics_route,
                    "/healthz": self._healthz_route,
                    "/readyz": self._readyz_route,
                },
            )
        except BaseException:
            self.history.close()  # e.g. the port is taken: fail at start without leaking the database
            raise

    def _say_unconfigured_channels(self) -> None:
        """Messages queued for a channel the config no longer names (a slack.routes entry
        renamed or removed, the default webhook unset) are never sent: said at start, at error
        level. They are kept, and sent if that channel is configured again; meanwhile its
        backlog stays on /metrics (DriftwatchOutboxBacklogOld)."""
        configured = {notifier.channel for notifier in self.notifiers}
        try:
            stats = self.history.stats()
        except HistoryError as error:
            log.error("history_read_failed", error=str(error))
            return
        for channel, found in sorted(stats.items()):
            if channel in configured or not found.pending:
                continue
            log.error(
                "outbox_channel_not_configured",
                channel=channel,
                messages=found.pending,
                oldest=found.oldest_pending.isoformat() if found.oldest_pending else None,
                detail="no webhook of the config is this channel, so these messages are not sent; "
                "kept, and sent if it is configured again (slack.routes, or the default webhook for "
                f"{SLACK_CHANNEL!r})",
            )

    def _route_notifier(self, routes: list[Route], route: Route, url: str) -> SlackNotifier:
        channel = route.channel
        return SlackNotifier(
            url,
            self.history,
            repo_url=self.config.slack.repo_url,
            repo_subdir=self._repo_subdir,
            on_outcome=lambda o: self.metrics.notification(channel, o),
            channel=channel,
            select=selector(routes, route),
        )

    def _state_path(self) -> Path:
        path = Path(self.config.state.path)
        return path if path.is_absolute() else Path.cwd() / path

    # --- jobs ---

    def scan_once(self) -> ScanReport | None:
        """One scheduled scan; never raises (a crash is logged and counted as a failed scan)."""
        with self._scan_lock:
            scan_id = uuid.uuid4().hex[:12]
            structlog.contextvars.bind_contextvars(scan_id=scan_id)
            started_at = datetime.now(UTC)
            started = time.monotonic()
            self.state.last_scan_started = started
            self.state.mark = Mark(started, started_at.timestamp())
            self._overdue_reported = False
            self.metrics.scan_started(started_at)
            log.info("scan_started")
            self._check_config_file()
            report: ScanReport | None = None
            result = "failure"
            abandoned = False
            targets: list[TargetInput] = []
            try:
                for attempt in range(1, CHECKOUT_ATTEMPTS + 1):
                    targets = targets_from_config(self.config, self.base)
                    repo = targets[0].repo if targets else resolved_repo(self.config.repo_path(self.base))
                    scanned = snapshot(repo)
                    fresh = self._scan(targets, repo)
                    change = replaced(scanned, snapshot(self.config.repo_path(self.base)))
                    if change is None:
                        break
                    # What it read may be torn: never recorded, nor shown on /metrics.
                    if attempt == CHECKOUT_ATTEMPTS or self._stop.is_set():
                        raise CheckoutChangedError(
                            f"the checkout changed under {attempt} scan(s) in a row ({change}); "
                            "nothing recorded, the next scheduled scan tries again"
                        )
                    log.warning(
                        "scan_checkout_replaced",
                        reason=change,
                        detail="what this scan read may be part old, part gone (a deleted worktree): "
                        "not recorded; the published checkout is scanned again now",
                    )
                report = fresh
                with self._record_lock:
                    if self._closing:
                        abandoned = True
                        log.warning(
                            "scan_abandoned",
                            reason="shutdown: the grace period ended before this scan did; it is "
                            "not recorded, and the next start scans again",
                        )
                        return None
                    recorded_at = datetime.now(UTC)
                    transitions = self.history.record_scan(
                        report, recorded_at, configured=self._configured_targets()
                    )
                    self._announce_expired_rules(report)
                    self._announce_not_watched(report)
                    self._say_unrouted(report)
                    self._queue_reminders(recorded_at)
                    self._prune(datetime.now(UTC))
                result = scan_result(report)
                log.info(
                    "scan_finished",
                    result=result,
                    tables=len(report.tables),
                    drifted=report.count(TableStatus.DRIFTED),
                    missing=report.count(TableStatus.MISSING),
                    pending=report.count(TableStatus.PENDING),
                    unmanaged=report.count(TableStatus.UNMANAGED),
                    ignored=sum(len(row.ignored) for row in report.tables),
                    errors=report.count(TableStatus.ERROR) + len(report.errors),
                    transitions=len(transitions),
                    duration_seconds=round(time.monotonic() - started, 3),
                    commit=report.commit,
                )
            except DriftwatchError as error:  # e.g. the repo path: a known cause, said in one line
                result = "failure"
                log.error("scan_failed", error=str(error))
                if report is None:
                    self._announce_failed_scan(str(error))
            except Exception as error:
                result = "failure"
                log.exception("scan_failed", error=repr(error))
                if report is None:
                    self._announce_failed_scan(repr(error))
            finally:
                if not abandoned:  # an abandoned scan counts for nothing, and reads nothing
                    self._observe_scan(report, targets, result, started, started_at)
                    self.state.last_scan_finished = time.monotonic()
                    if report is not None:
                        self.state.scans_completed += 1
                self.state.mark = self._mark()
                structlog.contextvars.unbind_contextvars("scan_id")
        # Outside the scan lock: shutdown waits for the scan, not for Slack (it flushes itself).
        # Nor does the next scan: a delivery already in progress (stuck on a slow webhook)
        # keeps the rest, and the outbox gauges are updated either way. Within a budget: a
        # Slack that answers slowly to a backlog held the scan job for up to 100 messages per
        # channel, and APScheduler skipped the scans due meanwhile; the delivery job sends the rest.
        self.deliver(wait=False, budget=SCAN_DELIVERY_BUDGET.total_seconds())
        return report

    def _check_config_file(self) -> None:
        """Say when the configuration file no longer says what this process runs (edited, broken
        or removed under it): logged once per change, on /metrics until it matches again. It is
        never applied here: a restart applies it (there is no reload)."""
        if self._config_path is None:
            return
        try:
            change = config_change(self.config, self._config_path)
        except Exception as error:  # never a reason to skip the scan
            change = f"the file could not be compared: {error!r}"
        self.metrics.config_not_applied(change is not None)
        if change is not None and change != self._config_change:
            log.warning(
                "config_changed_not_applied",
                path=str(self._config_path),
                change=change,
                detail="driftwatch reads its configuration at start only: this daemon goes on with "
                "the configuration it started with. Restart it to apply the file (kubectl rollout "
                "restart deployment/driftwatch), or put the file back",
            )
        elif change is None and self._config_change is not None:
            log.info("config_file_matches_again", path=str(self._config_path))
        self._config_change = change

    def _observe_scan(
        self,
        report: ScanReport | None,
        targets: list[TargetInput],
        result: str,
        started: float,
        started_at: datetime,
    ) -> None:
        """The scan onto /metrics. A failure here is logged and the daemon goes on: it used to
        escape the scan thread as a bare traceback on stderr (no JSON, no redaction), skipping
        the schedule's mark and the delivery after the scan."""
        try:
            duration = time.monotonic() - started
            recorded, open_tables, missing_tables = self._open_drift()
            self._unrecorded_drift = unrecorded_sightings(recorded, self._unrecorded_drift, report)
            first_seen = {**self._unrecorded_drift, **recorded}
            self.metrics.observe_scan(
                report,
                first_seen=first_seen,
                open_tables=open_tables,
                missing_tables=missing_tables,
                result=result,
                duration_seconds=duration,
                started_at=started_at,
            )
            self.observe_module_cache(targets)
        except Exception as error:
            log.exception("scan_metrics_failed", error=repr(error))

    def _scan(self, targets: list[TargetInput], repo: Path) -> ScanReport:
        """One scan of ``targets``, read from ``repo`` (the checkout as resolved at its start)."""
        settings = ScanSettings(
            parity=self.config.terraform_parity,
            concurrency=self.config.aws.concurrency,
            ignore=self.config.ignore_rules(),
            scan_timeout=self.config.aws.scan_timeout.total_seconds(),
            max_regions=self.config.aws.max_regions,
            seen_commits=self.history,  # the pending grace runs from a commit's first sighting
            survey=repo_survey(self.config, repo),
            sync_error_file=self.config.sync_error_path(self.base),
        )
        return scan(
            targets,
            self.clients,
            cache=self.cache,
            settings=settings,
            commit=head_commit(repo),
            dirty=is_dirty(repo) is True,
            repo_subdir=path_in_checkout(repo),
        )

    @staticmethod
    def _mark() -> Mark:
        return Mark(time.monotonic(), datetime.now(UTC).timestamp())

    def check_schedule(self) -> bool:
        """Start the scan now if none started within an interval (+ jitter + a margin) of real
        time; True if it did. APScheduler counts its interval on the wall clock, so a clock set
        back holds the next scan up by as much; this counts on the monotonic clock. Said once per
        stall (log and metric); a scan in progress is never overdue (/healthz judges a stuck one).
        """
        if self._stop.is_set() or not self.scheduler.running or self._scan_lock.locked():
            return False
        mark = self.state.mark
        schedule = self.config.schedule
        interval = schedule.interval.total_seconds()
        found = (
            overdue(
                mark,
                now_monotonic=time.monotonic(),
                now_wall=datetime.now(UTC).timestamp(),
                limit=limit_seconds(interval, schedule.jitter.total_seconds()),
            )
            if mark is not None
            else None
        )
        if found is None or self.scheduler.get_job("scan") is None:
            return False
        now = datetime.now(UTC)
        self.scheduler.modify_job("scan", next_run_time=now)
        if self.scheduler.get_job("deliver") is not None:  # held up by the same clock
            self.scheduler.modify_job("deliver", next_run_time=now)
        if not self._overdue_reported:
            self._overdue_reported = True
            self.metrics.overdue_scan_started()
            log.warning("scan_overdue_started_now", reason=found.reason, interval_seconds=interval)
        return True

    def _on_run_skipped(self, event: JobSubmissionEvent) -> None:
        """A scheduled scan not started because the last one still runs (one at a time): the
        scans take longer than the interval and run less often than configured. Counted
        (``driftwatch_scans_skipped_total``) and said, not only in APScheduler's own line."""
        if event.job_id != "scan":
            return
        self.metrics.scan_skipped()
        running = time.monotonic() - (self.state.last_scan_started or self.state.started_monotonic)
        log.warning(
            "scan_skipped_still_running",
            interval_seconds=self.config.schedule.interval.total_seconds(),
            running_seconds=round(running, 1),
            detail="the previous scan is still running, so this scheduled one is skipped: scans "
            "run less often than schedule.interval (see driftwatch_scan_duration_seconds; raise "
            "the interval, or lower aws.scan_timeout)",
        )

    def _watch_schedule(self) -> None:
        """Ask ``check_schedule`` every few seconds until stop; Event.wait is monotonic."""
        period = check_period(self.config.schedule.interval.total_seconds())
        while not self._stop.wait(period):
            try:
                self.check_schedule()
            except Exception as error:  # e.g. the scheduler shut down between check and change
                log.error("schedule_check_failed", error=repr(error))

    def _prune(self, now: datetime) -> None:
        """Retention (``state.retention``): at most once per PRUNE_INTERVAL of real time, after
        a scan. Counted on the wall clock, a prune while the clock ran ahead (a year) held every
        later one back until the clock got there again."""
        started = time.monotonic()
        if self._last_prune is not None and started - self._last_prune < PRUNE_INTERVAL.total_seconds():
            return
        self._last_prune = started
        try:
            episodes, messages = self.history.prune(now - self.config.state.retention)
            commits = self.history.prune_commits(now - commit_sightings_kept(self.config))
        except HistoryError as error:  # the scan is recorded; retention tries again later
            log.error("history_prune_failed", error=str(error))
            return
        if episodes or messages or commits:
            log.info("history_pruned", episodes=episodes, messages=messages, commits=commits)

    def _observe_outbox(self) -> None:
        """Outbox gauges for /metrics: pending and finished messages, age of the oldest pending."""
        if self._closing:
            return
        try:
            stats = self.history.stats()
        except HistoryError as error:
            log.error("history_read_failed", error=str(error))
            return
        channels = {SLACK_CHANNEL} if self.slack is not None else set()
        for channel in channels | set(stats):
            found = stats.get(channel)
            self.metrics.observe_outbox(
                channel,
                pending=found.pending if found else 0,
                sent=found.sent if found else 0,
                dropped=found.dropped if found else 0,
                oldest_pending=self._oldest_pending(channel, found),
                oldest_attempts=found.oldest_pending_attempts if found else 0,
            )

    def _oldest_pending(self, channel: str, found: ChannelStats | None) -> datetime | None:
        """When the channel's oldest undelivered message was queued, for its age on /metrics:
        its ``created_at``, or, if earlier, when this process first saw it pending, counted on
        the monotonic clock. A message queued while the wall clock ran a day ahead was dated
        in the future: its age was 0 for that day, so DriftwatchOutboxBacklogOld stayed silent
        while nothing was delivered."""
        if found is None or found.oldest_pending is None or found.oldest_pending_id is None:
            self._pending_seen.pop(channel, None)
            return None
        now = time.monotonic()
        seen = self._pending_seen.get(channel)
        if seen is None or seen[0] != found.oldest_pending_id:
            seen = self._pending_seen[channel] = (found.oldest_pending_id, now)
        waited = datetime.now(UTC) - timedelta(seconds=now - seen[1])
        return min(found.oldest_pending, waited)

    def observe_module_cache(self, targets: list[TargetInput]) -> None:
        """After a scan: the module cache brought under its bound (a lowered
        ``modules.cache_max_bytes``, resolution records that piled up) and measured for /metrics.
        Fetches keep it bounded as they publish; this is what a scan that fetched nothing needs."""
        settings = targets[0].modules if targets else None  # one `modules` section for all targets
        if settings is None or settings.cache_dir is None or not Path(settings.cache_dir).is_dir():
            return
        try:
            usage = module_cache.trim(Path(settings.cache_dir), settings.cache_max_bytes, settings.timeout)
        except (OSError, module_cache.CacheFull) as error:
            log.warning("module_cache_trim_failed", error=str(error))
            return
        self.metrics.observe_module_cache(
            held=usage.bytes, limit=settings.cache_max_bytes, evictions=usage.evictions
        )

    def _open_drift(self) -> OpenDrift:
        """The history's open drift for /metrics: first sightings, the tables (target, region,
        name) with open drift, and those open as missing tables. When the history cannot be
        read (locked past the busy timeout), what it said last: an empty answer dated every
        drift "now", which resolved DriftwatchTableDrifted for as long as the database was
        locked."""
        try:
            self._recorded_drift = (
                self.history.first_seen_map(),
                self.history.open_tables(),
                self.history.open_missing_tables(),
            )
        except Exception as error:
            if self.history.closed:  # shutdown closed it after this scan was recorded
                return {}, set(), set()
            log.error("history_read_failed", error=repr(error))
        return self._recorded_drift

    def _announce_expired_rules(self, report: ScanReport) -> None:
        """Log (and queue one Slack message about) ignore rules that expired -- once each.

        The history database remembers which rules were announced, so a restart does not
        announce them again; the metric ``driftwatch_ignore_rules_expired`` shows them always.
        """
        rules = {rule.key: rule for rule in report.expired_ignore_rules}
        if not rules:
            return

        def messages(keys: list[str]) -> dict[str, dict[str, Any]]:
            by_channel: dict[str, list[IgnoreRule]] = {}
            for key in keys:
                for channel in self._channels_for_rule(rules[key], report):
                    by_channel.setdefault(channel, []).append(rules[key])
            payloads = {
                channel: build_expired_rules_message(chosen) for channel, chosen in by_channel.items()
            }
            return {channel: payload for channel, payload in payloads.items() if payload is not None}

        try:
            announced = self.history.announce_once(list(rules), datetime.now(UTC), messages)
        except Exception as error:  # the scan itself is recorded; try again next scan
            log.error("expired_rules_announcement_failed", error=repr(error))
            return
        for key in announced:
            rule = rules[key]
            log.warning(
                "ignore_rule_expired",
                table=rule.table,
                attribute=rule.attribute,
                reason=rule.reason,
                until=rule.until.isoformat() if rule.until else None,
            )

    def _announce_not_watched(self, report: ScanReport) -> None:
        """Queue one Slack message per channel about what stopped being watched (after two scans
        in a row) and what is watched again (driftwatch.notify.coverage); the state lives in the
        history database, so a restart neither repeats nor forgets an announcement."""
        listing = Listing.of(
            report,
            self._configured_targets(),
            self.config.coverage.ignore,
            checks_checkout=self.config.repo_sync_error_file is not None,
        )
        self._announce_coverage(not_watched(report), listing, report)

    def _announce_failed_scan(self, error: str) -> None:
        """A scan that failed as a whole (no report) is not watching anything: a "not watched"
        item like the others (announced once it lasts two scans, "watched again" when a scan
        completes), so that Slack's silence through a run of failed scans is not read as "in
        sync". Told to the default webhook, else to every route."""
        with self._record_lock:
            if self._closing:
                return
            self._announce_coverage(failed_scan(error), Listing.nothing(), None)

    def _announce_coverage(
        self, current: dict[str, NotWatched], listing: Listing, report: ScanReport | None
    ) -> None:
        if not self.notifiers:
            return

        def update(state: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
            change = reconcile(current, state, listing)
            channels = [notifier.channel for notifier in self.notifiers]
            return change.state, payloads(change, channels, lambda item: self._channels_for(item, report))

        try:
            self.history.update_state("not_watched", datetime.now(UTC), update)
        except Exception as error:  # the scan itself is recorded; try again next scan
            log.error("not_watched_announcement_failed", error=repr(error))

    def _configured_targets(self) -> frozenset[str]:
        """The targets of the config: what the history and Slack know of any other target (one
        removed from the config) is about a target no longer watched at all."""
        return frozenset(target.name for target in self.config.targets)

    def _say_unrouted(self, report: ScanReport) -> None:
        """With ``slack.routes`` and no default webhook, the drift of a table no route takes is
        posted nowhere (by design: nobody asked for it). Logged once per table and daemon life,
        so that a Slack channel's silence about it is not read as "in sync"."""
        if not self.notifiers or self.slack is not None:
            return
        unrouted = {
            (row.target, row.table_name)
            for row in report.tables
            if row.alerts
            and row.table_name
            and not any(n.takes(row.target, row.table_name) for n in self.notifiers)
        }
        fresh = sorted(unrouted - self._unrouted_said)
        if fresh:
            self._unrouted_said.update(fresh)
            log.warning(
                "slack_drift_unrouted",
                tables=[f"{target}/{table}" for target, table in fresh[:20]],
                count=len(fresh),
                reason="no slack.routes entry takes these tables and there is no default webhook "
                "(slack.webhook_url_env / slack.webhook_url_file): their drift is in /metrics and "
                "the reports, not in Slack",
            )

    def _channels_for(self, item: NotWatched, report: ScanReport | None) -> list[str]:
        """A table's item goes where that table's drift goes (slack.routes); a target's item to
        the channels of that target's tables in this scan, else the default webhook, else every
        route: told twice rather than to nobody. A failed scan's item (no target, no report)
        goes to the default webhook, else to every route."""
        if item.table:
            owners = [n.channel for n in self.notifiers if n.takes(item.target, item.table)]
        elif report is not None:
            tables = {row.table_name for row in report.tables if row.target == item.target and row.table_name}
            owners = [n.channel for n in self.notifiers if any(n.takes(item.target, t) for t in tables)]
        else:
            owners = []
        if owners:
            return owners
        if self.slack is not None:
            return [self.slack.channel]
        return [n.channel for n in self.notifiers]

    def _channels_for_rule(self, rule: IgnoreRule, report: ScanReport) -> list[str]:
        """The Slack channels an expired rule is announced in: those whose tables (slack.routes)
        it covered in this scan, since the drift it hid now alerts there. A rule that covers no
        table of the scan goes to the default webhook, or to every route when there is none:
        told twice rather than to nobody."""
        covered = [
            (row.target, row.table_name)
            for row in report.tables
            if row.table_name and fnmatch.fnmatchcase(row.table_name, rule.table)
        ]
        owners = [
            n.channel for n in self.notifiers if any(n.takes(target, table) for target, table in covered)
        ]
        if owners:
            return owners
        if self.slack is not None:
            return [self.slack.channel]
        return [n.channel for n in self.notifiers]

    def _queue_reminders(self, now: datetime) -> None:
        """Reminders of drift still open, dated by the scan just recorded (``now``): a reminder
        tells the episodes that scan saw from those it could not compare."""
        if not self.notifiers:
            return
        due = self.history.due_reminders(now, self.config.slack.remind_after)
        if due:
            self.history.record_reminders(due, now)

    def deliver(
        self, deadline: float | None = None, *, wait: bool = True, budget: float | None = None
    ) -> None:
        """Send what the outbox holds that is due; failures stay queued for the next run.

        ``wait=False``: skip a notifier whose delivery is already in progress. ``budget``:
        seconds after which no message is started (on any channel); the rest waits for the
        delivery job."""
        if not self.notifiers or (self._closing and deadline is None):
            return
        until = None if budget is None else time.monotonic() + budget
        for notifier in self.notifiers:  # each route on its own: one webhook down holds up no other
            try:
                notifier.deliver_pending(wall_clock, deadline=deadline, wait=wait, until=until)
            except HistoryError as error:
                if self.history.closed:  # shutdown closed it during a send: resent, marked, next start
                    log.warning("slack_delivery_interrupted_by_shutdown", error=str(error))
                    break
                log.error("slack_delivery_failed", channel=notifier.channel, error=repr(error))
            except Exception as error:
                log.error("slack_delivery_failed", channel=notifier.channel, error=repr(error))
        self._observe_outbox()

    def _detached(self, name: str, work: Callable[[], object]) -> Callable[[], None]:
        """A scheduler job that runs ``work`` on a daemon thread and waits for it, or for stop.

        APScheduler's pool threads are joined at interpreter exit: a scan still running there
        would hold the process long past ``--grace``. The pool thread only waits here; once
        shutdown gave up on the work, the process exits without it.
        """

        def job() -> None:
            done = threading.Event()

            def body() -> None:
                try:
                    work()
                except Exception as error:  # said in the log (redacted), never a bare traceback
                    log.exception("job_failed", job=name, error=repr(error))
                finally:
                    done.set()

            threading.Thread(target=body, name=f"driftwatch-{name}", daemon=True).start()
            while not done.wait(0.2):
                if self._stop.is_set():
                    return

        return job

    # --- HTTP routes ---

    def _metrics_route(self) -> tuple[int, str, tuple[bytes, bytes]]:
        # The per-scan body is shared by every scrape, never copied per request.
        return 200, DriftwatchMetrics.CONTENT_TYPE, self.metrics.render_parts()

    def healthy(self) -> tuple[bool, str]:
        """Alive while the scheduler runs, a scan has started (or ended) within 3 intervals, and
        a scan in progress is within what its own deadline allows: a hung scheduler or a scan
        stuck forever gets the pod restarted by Kubernetes. A scan within its deadline is not
        stuck, however short the interval: with ``interval: 1m`` and the default 10-minute
        ``aws.scan_timeout``, /healthz failed 3 minutes into every long scan, so the liveness
        probe killed the pod mid-scan, every time."""
        if not self.scheduler.running:
            return False, "scheduler is not running"
        schedule = self.config.schedule
        limit = HEALTHY_INTERVALS * schedule.interval.total_seconds() + schedule.jitter.total_seconds()
        now = time.monotonic()
        started = self.state.last_scan_started
        if started is not None and self._scan_lock.locked():
            running = max(limit, scan_job_limit_seconds(self.config))
            age = now - started
            if age > running:
                return False, f"the scan in progress has run for {age:.0f}s (limit {running:.0f}s)"
            return True, "ok"
        marks = [m for m in (started, self.state.last_scan_finished) if m is not None]
        reference = max(marks) if marks else self.state.started_monotonic
        age = now - reference
        if age > limit:
            return False, f"no scan started for {age:.0f}s (limit {limit:.0f}s)"
        return True, "ok"

    def _healthz_route(self) -> tuple[int, str, bytes]:
        ok, reason = self.healthy()
        return (200 if ok else 503), "text/plain; charset=utf-8", f"{reason}\n".encode()

    def _readyz_route(self) -> tuple[int, str, bytes]:
        if self.state.scans_completed:
            return 200, "text/plain; charset=utf-8", b"ready\n"
        return 503, "text/plain; charset=utf-8", b"no scan has completed yet\n"

    # --- lifecycle ---

    def request_stop(self, signum: int | None = None, _frame: FrameType | None = None) -> None:
        log.info("stop_requested", signal=signal.Signals(signum).name if signum else None)
        self._stop.set()

    def run(self, grace_seconds: float = 60.0) -> int:
        """Serve until SIGTERM/SIGINT/SIGHUP; then finish the running scan (bounded), flush,
        exit 0. SIGHUP (a terminal closed, ``kill -HUP`` meant as "reload") stops it the same
        way, logged: its default action killed the daemon mid-scan, without a word. There is
        no reload; the restart (the Deployment's, or the operator's) reads the configuration."""
        for stop_signal in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(stop_signal, self.request_stop)
        self.start()
        # Never a wait without a timeout (driftwatch.waiting): about one SIGTERM in ten under
        # load reached another thread and was ignored until the kubelet's SIGKILL.
        wait_for(self._stop)
        return self.shutdown(grace_seconds)

    def start(self) -> None:
        """The endpoint, the scheduled jobs and the schedule's watchdog, all in the background."""
        self.endpoint.start()
        schedule = self.config.schedule
        self.scheduler.add_job(
            self._detached("scan", self.scan_once),
            IntervalTrigger(
                seconds=schedule.interval.total_seconds(), jitter=schedule.jitter.total_seconds() or None
            ),
            id="scan",
            next_run_time=datetime.now(UTC),
        )
        if self.notifiers:
            self.scheduler.add_job(
                self._detached("deliver", self.deliver),
                IntervalTrigger(seconds=DELIVERY_INTERVAL.total_seconds()),
                id="deliver",
            )
        self.scheduler.add_listener(self._on_run_skipped, EVENT_JOB_MAX_INSTANCES)
        self.scheduler.start()
        threading.Thread(target=self._watch_schedule, name="driftwatch-schedule-watch", daemon=True).start()
        log.info(
            "daemon_started",
            port=self.endpoint.port,
            interval_seconds=schedule.interval.total_seconds(),
            targets=[t.name for t in self.config.targets],
            slack=self.slack is not None,
            slack_routes=[n.channel for n in self.notifiers if n is not self.slack],
            version=__version__,
        )

    def shutdown(self, grace_seconds: float) -> int:
        """Stop within ``grace_seconds``: finish or abandon the scan, deliver what time allows,
        log what is left undelivered, close the database."""
        deadline = time.monotonic() + max(0.0, grace_seconds)
        self._stop.set()
        self.cache.close()  # an evaluation in progress fails at once: the scan can finish
        if self.scheduler.running:
            self.scheduler.pause()
        finished = self._scan_lock.acquire(timeout=max(0.0, grace_seconds))
        if finished:
            self._scan_lock.release()
        # A scan past this point is not recorded; one recording now finishes first (milliseconds).
        with self._record_lock:
            self._closing = True
        if not finished:
            log.warning(
                "scan_abandoned_at_shutdown",
                grace_seconds=grace_seconds,
                reason="the scan in progress is not recorded; the next start scans again",
            )
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.notifiers:
            # The last flush gets what is left of the grace. It runs on its own thread so that a
            # send Slack holds open cannot outlast the grace; if the database closes under it,
            # that message stays queued, marked as an interrupted attempt (resent, flagged).
            # Every notifier: with slack.routes alone there is no default one.
            for notifier in self.notifiers:
                notifier.stop()
            flush = threading.Thread(
                target=self.deliver, kwargs={"deadline": deadline}, name="driftwatch-flush", daemon=True
            )
            flush.start()
            flush.join(timeout=max(0.0, deadline - time.monotonic()))
        self._log_undelivered()
        self.endpoint.stop()
        self.history.close()
        log.info("daemon_stopped")
        return 0

    def _log_undelivered(self) -> None:
        """Messages still in the outbox at shutdown: said, so nobody wonders where they went."""
        try:
            count = self.history.pending_count()
            left = self.history.undelivered(limit=20) if count else []
        except HistoryError as error:
            log.error("history_read_failed", error=str(error))
            return
        if not left:
            return
        oldest = left[0]
        log.warning(
            "outbox_undelivered_at_shutdown",
            messages=count,
            channels=sorted({m.channel for m in left}),
            message_ids=[m.id for m in left],
            oldest_age_seconds=round((datetime.now(UTC) - oldest.created_at).total_seconds(), 1),
            last_error=oldest.last_error,
            detail="kept in the state database; delivered after the next start",
        )
