"""One scan: targets -> declared tables -> live tables (bounded concurrency) -> diff -> report.

The scan never stops at the first problem: a file that does not parse, a table whose describe
call fails, a region whose autoscaling cannot be read, a role that cannot be assumed -- each is
recorded with its cause on the rows it affects, and every other table is still checked.

After the diff, each table's drift is settled in this order:

1. drift that an unexpired ignore rule accepts moves to ``ignored`` (shown, never alerted);
2. drift that is a merge not applied yet moves to ``pending``: the live value is what the
   declaration said at the last commit older than the target's ``pending_grace``, and the
   current declaration changed it (driftwatch.settle decides; driftwatch.baseline reads that
   previous declaration from git);
3. what is left is drift (``drifted``, or ``missing`` for an absent table).

Targets may live in different accounts (``role_arn``, assumed once per scan and role before any
table is read) and their tables in different regions: clients are per (region, role) and
autoscaling is fetched once per (region, role). Targets that ask for it also get the live
tables that no declaration covers, as ``unmanaged`` rows.

Every scan has an overall deadline (``ScanSettings.scan_timeout``, config ``aws.scan_timeout``).
botocore's timeouts and retries bound one call, but not a scan: a black-holed endpoint costs
each call up to ``max_attempts x (connect + read timeout)`` plus backoff, times the number of
tables. So every AWS step -- assuming roles, listing autoscaling, reading tables, listing
unmanaged tables -- runs on daemon worker threads that the scan waits for only until the
deadline. What is not finished by then is reported with the cause (a table becomes ``error``:
"scan deadline of N s exceeded before this table was read"), and the scan returns. Every AWS
call made on those workers also ends by the scan deadline (``aws/deadline.py`` closes its
socket), so its worker ends with it: neither threads nor sockets outlive the scan. Daemon threads
(not ``ThreadPoolExecutor``, whose workers are joined at interpreter exit) also let the
one-shot CLI exit at once after writing its report.
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Generic, Literal, TypeVar

from driftwatch import accounts, waiting
from driftwatch.aws.autoscaling import AutoscalingIndex, apply_autoscaling
from driftwatch.aws.clients import AwsClients, Role, role_session_name
from driftwatch.aws.deadline import calls_end_by
from driftwatch.aws.dynamodb import PART_ATTRIBUTES, LiveReadError, call_aws, list_table_names, read_table
from driftwatch.baseline import Baseline, SeenCommits, baselines_and_reasons
from driftwatch.bounds import bounded
from driftwatch.checkout import sync_error
from driftwatch.config import DEFAULT_CONCURRENCY, DEFAULT_MAX_REGIONS
from driftwatch.diff import DiffResult, diff
from driftwatch.log import get_logger
from driftwatch.secrets import scrub_message
from driftwatch.settle import settle
from driftwatch.spec import (
    Autoscaling,
    DeclaredTable,
    Drift,
    IgnoreRule,
    NotEvaluated,
    PendingUnavailable,
    RootNotCovered,
    ScalingTarget,
    ScanReport,
    TableResult,
    TableSpec,
    TableStatus,
    TargetError,
    Unknown,
    Unresolved,
    nested_in,
)
from driftwatch.terraform.parse import ParseCache
from driftwatch.terraform.roots import RepoSurvey
from driftwatch.terraform.target import TargetInput
from driftwatch.terraform.validate_table import rejection_error
from driftwatch.terraform.worker import Evaluator, InProcessEvaluator

log = get_logger(__name__)

Parity = Literal["default", "strict"]
R = TypeVar("R")

DEFAULT_SCAN_TIMEOUT_SECONDS: Final = 600.0
# How long run_bounded waits past its deadline for workers whose AWS calls the deadline is
# aborting (they unwind in milliseconds); a worker stuck elsewhere is left behind after that.
UNWIND_GRACE_SECONDS: Final = 1.0
# run_bounded waits for results in slices of at most this long and asks the deadline again
# after each: a Deadline on a clock other than time.monotonic (the tests hold theirs until the
# work they race against is done) is honoured within this, for a few wakeups a second.
DEADLINE_RECHECK_SECONDS: Final = 0.25


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class ScanSettings:
    parity: Parity = "default"
    concurrency: int = DEFAULT_CONCURRENCY  # calls in flight per (region, role): aws.concurrency
    progress: Callable[[int, int], None] | None = None  # (done, total), for a terminal progress bar
    ignore: Sequence[IgnoreRule] = ()  # the config's ignore rules, expired ones included
    clock: Callable[[], datetime] = _utcnow  # "now" for rule expiry and pending grace
    scan_timeout: float = DEFAULT_SCAN_TIMEOUT_SECONDS  # overall deadline of one scan, seconds
    max_regions: int = DEFAULT_MAX_REGIONS  # distinct regions one scan reads: aws.max_regions
    seen_commits: SeenCommits | None = None  # the daemon's first sightings of commits (pending grace)
    # The repository survey (a configuration's scans): directories no target evaluates.
    survey: RepoSurvey | None = None
    # git-sync's error file (repo_sync_error_file): present, the checkout may be stale.
    sync_error_file: Path | None = None


class Deadline:
    """The overall deadline of one scan, on the monotonic clock (see the module docstring)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        if seconds <= 0:
            raise ValueError("a scan deadline must be longer than 0 seconds")
        self.seconds = seconds
        self._clock = clock
        self._at = clock() + seconds

    def remaining(self) -> float:
        return max(0.0, self._at - self._clock())

    def expired(self) -> bool:
        return self.remaining() <= 0

    def exceeded(self, before: str) -> str:
        """The cause reported for work the deadline cut off, e.g. ``before this table was read``."""
        return f"scan deadline of {self.seconds:g} s exceeded {before}"


class _Unfinished:
    """Marks a task that the deadline cut off (it may still be running on its worker)."""


UNFINISHED: Final = _Unfinished()


@dataclass
class _Outcome(Generic[R]):
    value: R | None = None
    error: BaseException | None = None


def run_bounded(
    tasks: Sequence[Callable[[], R]],
    *,
    workers: int,
    deadline: Deadline,
    lanes: Sequence[Hashable] | None = None,
    progress: Callable[[int, int], None] | None = None,
    name: str = "driftwatch-read",
) -> list[R | _Unfinished]:
    """Run ``tasks`` on at most ``workers`` daemon threads per lane; wait for them until ``deadline``.

    ``lanes`` (one key per task, e.g. its (region, role)) gives each lane its own queue and its
    own ``workers`` threads: AWS throttles per account and region, so a bound per lane keeps
    each region's request rate in check while regions proceed side by side -- one slow region
    does not hold the others' workers. Without ``lanes`` all tasks share one lane. Threads
    pulling from a lane's own queue, rather than taking a per-region semaphore, keep every
    wait bounded by the deadline: no worker sits blocked on a slot past it.

    Returns each task's result in order, or ``UNFINISHED`` for a task that had not finished
    (or not started) by the deadline. Workers start no new task once the deadline has passed;
    a task still running then is left to finish on its own (its result is discarded), so the
    caller waits past the deadline only for ``UNWIND_GRACE_SECONDS`` at most, while the AWS
    calls still running are aborted at the deadline (``calls_end_by``) and their workers end.
    When every task finished, the workers are gone too when this returns. A task's exception
    is raised here, in the caller.
    Each task runs in a copy of the caller's context, so log lines carry the scan's ``scan_id``.
    """
    results: list[R | _Unfinished] = [UNFINISHED] * len(tasks)
    if not tasks or deadline.expired():
        return results
    if lanes is not None and len(lanes) != len(tasks):
        raise ValueError("run_bounded needs one lane per task")
    queues: dict[Hashable, queue.SimpleQueue[int]] = {}
    for index in range(len(tasks)):
        lane = lanes[index] if lanes is not None else None
        queues.setdefault(lane, queue.SimpleQueue()).put(index)
    finished: queue.SimpleQueue[tuple[int, _Outcome[R]]] = queue.SimpleQueue()
    stop = threading.Event()
    calls_end_at = time.monotonic() + deadline.remaining()

    def work(todo: queue.SimpleQueue[int]) -> None:
        while not stop.is_set():
            try:
                index = todo.get_nowait()
            except queue.Empty:
                return
            context = contextvars.copy_context()
            try:
                outcome: _Outcome[R] = _Outcome(value=context.run(_ending_by, calls_end_at, tasks[index]))
            except BaseException as error:  # handed to the caller, raised there
                outcome = _Outcome(error=error)
            finished.put((index, outcome))

    threads = [
        threading.Thread(target=work, args=(todo,), name=f"{name}-{lane_number}-{number}", daemon=True)
        for lane_number, todo in enumerate(queues.values())
        for number in range(min(max(1, workers), todo.qsize()))
    ]
    for thread in threads:
        thread.start()
    done = 0
    try:
        while done < len(tasks):
            try:
                index, outcome = finished.get(timeout=min(deadline.remaining(), DEADLINE_RECHECK_SECONDS))
            except queue.Empty:
                if deadline.expired():  # anything finished is already queued
                    break
                continue
            if outcome.error is not None:
                raise outcome.error
            results[index] = outcome.value  # type: ignore[assignment]  # R, possibly None
            done += 1
            if progress is not None:
                progress(done, len(tasks))
    finally:
        stop.set()
    if done == len(tasks):
        # Every task is done, so each worker is only finding the queue empty: joining costs
        # nothing and leaves no thread behind a scan that finished in time.
        for thread in threads:
            thread.join()
    else:
        # The deadline has aborted the AWS calls still running; give their workers a moment.
        until = time.monotonic() + UNWIND_GRACE_SECONDS
        for thread in threads:
            thread.join(max(0.0, until - time.monotonic()))
    return results


def _ending_by(at: float, task: Callable[[], R]) -> R:
    """``task()`` with every AWS call in it ending by ``at`` (monotonic seconds)."""
    with calls_end_by(at):
        return task()


def target_role(target: TargetInput) -> Role | None:
    """The role a target's AWS calls assume (session ``driftwatch-<target>``), or None."""
    if target.role_arn is None:
        return None
    return Role(target.role_arn, target.external_id, role_session_name(target.name))


@dataclass
class _Job:
    target: str
    table: DeclaredTable
    region: str
    name: str
    role: Role | None = None
    repo: Path | None = None
    grace: timedelta = timedelta(0)
    baseline: Baseline | None = None  # the target's previous declaration (None: no pending applies)


@dataclass
class DeclaredSet:
    """Everything the targets declare, ready to be checked against AWS."""

    jobs: list[_Job] = field(default_factory=list)
    early: list[TableResult] = field(default_factory=list)  # rows decided without AWS (no region, ...)
    errors: list[TargetError] = field(default_factory=list)
    not_evaluated: list[NotEvaluated] = field(default_factory=list)  # may declare tables, not watched
    # The remote module sources that declared a table (the repository survey's evidence).
    table_sources: set[str] = field(default_factory=set)
    # Jobs not read because the account the scan reads could not be told (driftwatch.accounts):
    # still declared in their target's account as far as anyone knows, so they cover their
    # names for unmanaged discovery. (Tables declared for another account cover nothing there.)
    held: list[_Job] = field(default_factory=list)


def declare(
    targets: Sequence[TargetInput],
    cache: ParseCache | Evaluator,
    *,
    max_regions: int = DEFAULT_MAX_REGIONS,
    deadline: Deadline | None = None,
) -> DeclaredSet:
    """Evaluate every target's configuration (no AWS calls): what ``driftwatch inspect`` shows.

    ``cache`` is where targets are evaluated: an Evaluator (the CLI's and the daemon's bounded
    worker process, driftwatch.terraform.worker), or a ParseCache to evaluate in this process.
    Either way a target whose evaluation fails in any way is that target's error, and the
    others are declared as usual. Tables in more than ``max_regions`` distinct regions are
    errors (each region costs clients and threads), in the order the targets declare them.
    Targets not started by ``deadline`` (the scan's) are errors: many targets that each take
    their whole ``parse.max_seconds`` cannot hold a scan forever.
    """
    evaluator = InProcessEvaluator(cache) if isinstance(cache, ParseCache) else cache
    result = DeclaredSet()
    regions: set[str] = set()
    for target in targets:
        if deadline is not None and deadline.expired():
            late = deadline.exceeded("before this target was evaluated")
            result.errors.append(TargetError(target.name, f"not evaluated: {late}"))
            continue
        declared = evaluator.declare(target)
        result.errors.extend(declared.errors)
        result.not_evaluated.extend(declared.not_evaluated)
        result.table_sources.update(declared.table_sources)
        if not (declared.tables or declared.not_evaluated or declared.errors or target.allow_empty):
            result.errors.append(
                TargetError(
                    target.name,
                    "the target declares no table (a wrong root?); set allow_empty: true on the "
                    "target if that is intended",
                )
            )
        for table in declared.tables:
            spec = table.spec
            name, region = spec.name, spec.region
            if table.problem is not None:
                result.early.append(_row(target.name, table, TableStatus.ERROR, error=table.problem))
            elif isinstance(name, Unknown) or not name:
                reason = name.reason if isinstance(name, Unknown) else "the table name is empty"
                result.early.append(
                    _row(target.name, table, TableStatus.ERROR, error=f"table name unknown: {reason}")
                )
            elif isinstance(region, Unknown) or not region:
                reason = region.reason if isinstance(region, Unknown) else "no region configured"
                result.early.append(
                    _row(
                        target.name,
                        table,
                        TableStatus.ERROR,
                        error=f"region unknown: {reason}; set `region` on the target",
                    )
                )
            elif region not in regions and len(regions) >= max_regions:
                message = (
                    f"the scan already reads {max_regions} regions (aws.max_regions); "
                    f"tables in {region} are not read"
                )
                result.early.append(_row(target.name, table, TableStatus.ERROR, error=message))
            else:
                regions.add(region)
                result.jobs.append(
                    _Job(
                        target.name,
                        table,
                        region,
                        name,
                        role=target_role(target),
                        repo=target.repo,
                        grace=target.pending_grace,
                    )
                )
    return result


def _row(target: str, table: DeclaredTable, status: TableStatus, **fields: Any) -> TableResult:
    name = table.spec.name if isinstance(table.spec.name, str) else None
    region = table.spec.region if isinstance(table.spec.region, str) else None
    return TableResult(
        target=target,
        address=table.address,
        source=table.source,
        table_name=name,
        region=region,
        status=status,
        locations=table.locations,
        **fields,
    )


def scan(
    targets: Sequence[TargetInput],
    clients: AwsClients,
    *,
    cache: ParseCache | Evaluator | None = None,
    settings: ScanSettings | None = None,
    commit: str | None = None,
    dirty: bool = False,
    repo_subdir: str = "",
) -> ScanReport:
    settings = settings or ScanSettings()
    started = time.monotonic()
    deadline = Deadline(settings.scan_timeout)
    generated_at = datetime.now(UTC)
    now = settings.clock()
    evaluator = InProcessEvaluator(cache) if isinstance(cache, ParseCache) else cache or InProcessEvaluator()
    survey = settings.survey
    checkout_stale = sync_error(settings.sync_error_file)  # before reading the checkout
    # Beside the evaluation and the reads: it reads the repository's files, nothing of AWS.
    uncovered = _Background(survey.walk) if survey is not None else None
    declared = declare(targets, evaluator, max_regions=settings.max_regions, deadline=deadline)
    rows = list(declared.early)
    found, no_pending = baselines_and_reasons(targets, evaluator, now, settings.seen_commits)
    for job in declared.jobs:
        job.baseline = found.get(job.target)
    judge = _Judge(settings.ignore, now)
    # Before any role is assumed or table read: a table declared for another account costs no call.
    rows.extend(bind_accounts(declared, clients, deadline))
    role_errors = _assume_roles(_role_regions(targets, declared.jobs), clients, deadline)
    live_rows, live_errors = check_live(declared.jobs, clients, settings, judge, role_errors, deadline)
    rows.extend(live_rows)
    unmanaged_rows, unmanaged_errors = find_unmanaged(
        targets, declared, clients, role_errors, deadline, settings.max_regions
    )
    rows.extend(unmanaged_rows)
    rows.sort(key=_row_order)
    not_covered: tuple[RootNotCovered, ...] = ()
    declaring: frozenset[str] | None = None
    if survey is not None and uncovered is not None:
        walked = uncovered.result()
        roots, declaring = survey.judge(walked, declared.table_sources)
        not_covered = tuple(roots)
    # Every string that leaves the scan is bounded and encodable (driftwatch.bounds).
    return bounded(
        ScanReport(
            generated_at=generated_at,
            commit=commit,
            dirty=dirty,
            tables=tuple(rows),
            errors=(*declared.errors, *live_errors, *unmanaged_errors),
            duration_seconds=time.monotonic() - started,
            expired_ignore_rules=tuple(rule for rule in settings.ignore if rule.expired(now)),
            not_evaluated=tuple(declared.not_evaluated),
            pending_unavailable=tuple(PendingUnavailable(t, r) for t, r in sorted(no_pending.items())),
            roots_not_covered=not_covered,
            roots_declaring=declaring,
            checkout_stale=checkout_stale,
            repo_subdir=repo_subdir,
        )
    )


def _row_order(row: TableResult) -> tuple[str, bool, str, str, str]:
    """By target, declared tables by address first, then unmanaged tables by region and name."""
    return (row.target, row.address is None, row.address or "", row.region or "", row.table_name or "")


# --------------------------------------------------------------------------- accounts


def bind_accounts(declared: DeclaredSet, clients: AwsClients, deadline: Deadline) -> list[TableResult]:
    """Take out of ``declared.jobs`` every table whose provider binds it to an account the scan
    does not read there (driftwatch.accounts), as its error row; the rest are read as usual.

    The account read is the target's role_arn's (no call), else the base credentials', asked
    with one ``sts:GetCallerIdentity`` -- only when a table of a target without a role is bound
    to an account, so an ordinary scan makes no extra call. When that call fails, the bound
    tables are errors with its cause (``held``); every other table is read."""
    unbound = [job for job in declared.jobs if job.role is None and accounts.checkable(job.table.account)]
    identity = _caller_account(clients, unbound[0].region, deadline) if unbound else None
    kept: list[_Job] = []
    rows: list[TableResult] = []
    for job in declared.jobs:
        binding = job.table.account
        if binding is None or not accounts.checkable(binding):
            kept.append(job)
            continue
        if job.role is not None:
            account = accounts.role_account(job.role.arn)
            if account is None:  # not a role ARN: AssumeRole will say so; compared as before
                kept.append(job)
                continue
            how = "the target's role_arn"
        elif isinstance(identity, str):
            account, how = identity, "its base credentials, by sts:GetCallerIdentity"
        else:
            reason = identity.reason if isinstance(identity, Unknown) else "not asked"
            error = (
                f"cannot tell which account driftwatch reads ({reason}); the table is declared for "
                f"{accounts.describe(binding)}, so it is not compared"
            )
            rows.append(_row(job.target, job.table, TableStatus.ERROR, error=error))
            declared.held.append(job)
            continue
        problem = accounts.problem(binding, account, how)
        if problem is None:
            kept.append(job)
        else:
            log.warning("table_in_other_account", target=job.target, table=job.name, error=problem)
            rows.append(_row(job.target, job.table, TableStatus.ERROR, error=problem))
    declared.jobs[:] = kept
    return rows


def _caller_account(clients: AwsClients, region: str, deadline: Deadline) -> str | Unknown:
    """The base credentials' account, or Unknown with why it cannot be told (within the deadline)."""
    try:
        (outcome,) = run_bounded(
            [functools.partial(clients.caller_account, region)],
            workers=1,
            deadline=deadline,
            name="driftwatch-identity",
        )
    except LiveReadError as error:
        log.warning("caller_identity_failed", region=region, error=str(error))
        return Unknown(str(error))
    except Exception as error:  # unexpected: still only the bound tables' error
        log.error("caller_identity_crashed", region=region, error=repr(error))
        return Unknown(_unexpected(error))
    if isinstance(outcome, _Unfinished):
        return Unknown(deadline.exceeded("before GetCallerIdentity answered"))
    return outcome


# --------------------------------------------------------------------------- settling drift


@dataclass(frozen=True)
class _Judge:
    """Settles a table's drift into drift, ignored and pending (driftwatch.settle)."""

    rules: Sequence[IgnoreRule]
    now: datetime

    def settle(
        self,
        job: _Job,
        drift: Sequence[Drift],
        created_at: datetime | None,
        compare: Callable[[TableSpec], DiffResult] | None = None,
        **fields: Any,
    ) -> TableResult:
        """``compare`` diffs a declared spec with the live table (None: the table is absent)."""
        base = job.baseline
        previous = base.previous_values(job.region, job.name, drift, compare) if base else None
        settled = settle(
            job.name,
            drift,
            previous=previous,
            rules=self.rules,
            now=self.now,
            grace=job.grace,
            change=base.change_for(job.table) if base else None,
            created_at=created_at,
        )
        return _row(
            job.target,
            job.table,
            settled.status,
            drift=settled.drift,
            ignored=settled.ignored,
            pending=settled.pending,
            **fields,
        )


# --------------------------------------------------------------------------- live side


def check_live(
    jobs: Sequence[_Job],
    clients: AwsClients,
    settings: ScanSettings,
    judge: _Judge | None = None,
    role_errors: Mapping[Role, str] | None = None,
    deadline: Deadline | None = None,
) -> tuple[list[TableResult], list[TargetError]]:
    """Read and compare every declared table; autoscaling is fetched once per (region, role).

    Each role is assumed once first: the tables of a role that cannot be assumed are errors
    with the cause, and cost no further calls. A region whose autoscaling cannot be read is
    reported as an error of each target with tables there (the scan could not check
    everything, so it exits 1), while its tables are still compared on every other attribute.
    The autoscaling listings of all (region, role) pairs run concurrently, so one unreachable
    region delays the others by its own timeouts at most, not by the sum. A table not read
    by ``deadline`` is an error with that cause.
    """
    judge = judge or _Judge(settings.ignore, settings.clock())
    deadline = deadline or Deadline(settings.scan_timeout)
    if role_errors is None:
        role_errors = _assume_roles(_role_regions((), jobs), clients, deadline)
    results: list[TableResult] = []
    readable: list[_Job] = []
    for job in jobs:
        if job.role is not None and job.role in role_errors:
            results.append(_row(job.target, job.table, TableStatus.ERROR, error=role_errors[job.role]))
        else:
            readable.append(job)
    by_account: dict[tuple[str, Role | None], list[_Job]] = defaultdict(list)
    for job in readable:
        by_account[(job.region, job.role)].append(job)
    # The autoscaling listings run while the tables are read (they are only needed to compare),
    # so they add no latency of their own in front of the table reads. A worker compares its
    # table when the listings are in (normally long before its four reads are); otherwise it
    # hands the live table back and it is compared here, so a hung listing never holds a read.
    listing = _Background(lambda: _fetch_all_autoscaling(clients, list(by_account), deadline))
    refused: list[tuple[_Job, LiveReadError]] = []  # (table, a read after DescribeTable that failed)
    outcomes = run_bounded(
        [functools.partial(_check_one, job, clients, listing, settings, judge, refused) for job in readable],
        workers=settings.concurrency,
        lanes=[(job.region, job.role) for job in readable],
        deadline=deadline,
        progress=settings.progress,
    )
    autoscaling = listing.result()
    errors = [
        TargetError(target, f"{index.reason}; autoscaling and capacity of its tables are unresolved")
        for key, index in autoscaling.items()
        if isinstance(index, Unknown)
        for target in sorted({job.target for job in by_account[key]})
    ]
    late = deadline.exceeded("before this table was read")
    rows: dict[int, TableResult] = {}  # id(job) -> its row
    for job, outcome in zip(readable, outcomes, strict=True):
        if isinstance(outcome, _Unfinished):
            row = _row(job.target, job.table, TableStatus.ERROR, error=late)
        elif isinstance(outcome, _Deferred):
            key = (job.region, job.role)
            row = _compare(job, outcome.live, autoscaling[key], settings, judge)
        else:
            row = outcome
        rows[id(job)] = row
        results.append(row)
    failed = [(job.target, rows[id(job)], error) for job, error in list(refused)]
    errors.extend(_refused_errors(_costly(failed)))
    unfinished = sum(isinstance(outcome, _Unfinished) for outcome in outcomes)
    if unfinished:
        log.warning(
            "scan_deadline_exceeded",
            scan_timeout_seconds=deadline.seconds,
            tables_not_read=unfinished,
            tables=len(outcomes),
        )
    return results, errors


def _role_regions(targets: Sequence[TargetInput], jobs: Sequence[_Job]) -> dict[Role, str]:
    """Every role of the scan, with the region to assume it in (its first table's, else its
    target's region): targets without tables may still list unmanaged ones."""
    regions: dict[Role, str] = {}
    for job in jobs:
        if job.role is not None:
            regions.setdefault(job.role, job.region)
    for target in targets:
        role = target_role(target)
        if role is not None and target.region and target.unmanaged_prefixes is not None:
            regions.setdefault(role, target.region)
    return regions


def _assume_roles(roles: Mapping[Role, str], clients: AwsClients, deadline: Deadline) -> dict[Role, str]:
    """Assume each role once (concurrently), before anything else is read; role -> error message."""
    pairs = list(roles.items())
    outcomes = run_bounded(
        [functools.partial(_assume_one, clients, role, region) for role, region in pairs],
        workers=len(pairs),
        deadline=deadline,
        name="driftwatch-assume",
    )
    errors: dict[Role, str] = {}
    for (role, _), outcome in zip(pairs, outcomes, strict=True):
        if isinstance(outcome, _Unfinished):
            log.warning("assume_role_failed", role_arn=role.arn, error="scan deadline exceeded")
            errors[role] = f"cannot assume role {role.arn}: {deadline.exceeded('before AssumeRole answered')}"
        elif outcome is not None:
            errors[role] = outcome
    return errors


def _unexpected(error: Exception) -> str:
    """An exception driftwatch did not anticipate, for a report row: its text is not ours and
    may echo a URL with credentials or a token (botocore and urllib3 put URLs in their
    messages), so it is scrubbed as AWS's own messages are; logs are redacted on their own."""
    return f"unexpected error: {scrub_message(repr(error))}"


def _assume_one(clients: AwsClients, role: Role, region: str) -> str | None:
    """Assume ``role``; None when that worked, else the error message for its tables."""
    try:
        call_aws("AssumeRole", None, region, clients.assume, role=role, region=region)
    except LiveReadError as error:
        log.warning("assume_role_failed", role_arn=role.arn, error=str(error))
        return f"cannot assume role {role.arn}: {error}"
    except Exception as error:  # unexpected: still this role's tables only
        log.error("assume_role_crashed", role_arn=role.arn, error=repr(error))
        return f"cannot assume role {role.arn}: {_unexpected(error)}"
    return None


def _fetch_all_autoscaling(
    clients: AwsClients, keys: Sequence[tuple[str, Role | None]], deadline: Deadline
) -> dict[tuple[str, Role | None], AutoscalingIndex | Unknown]:
    """Every (region, role)'s autoscaling index, fetched concurrently within the deadline."""
    outcomes = run_bounded(
        [functools.partial(_fetch_autoscaling, clients, region, role) for region, role in keys],
        workers=len(keys),
        deadline=deadline,
        name="driftwatch-autoscaling",
    )
    result: dict[tuple[str, Role | None], AutoscalingIndex | Unknown] = {}
    for (region, role), outcome in zip(keys, outcomes, strict=True):
        if isinstance(outcome, _Unfinished):
            log.warning("autoscaling_unavailable", region=region, error="scan deadline exceeded")
            reason = deadline.exceeded("before it answered")
            outcome = Unknown(f"application-autoscaling could not be read in {region}: {reason}")
        result[(region, role)] = outcome
    return result


def _fetch_autoscaling(clients: AwsClients, region: str, role: Role | None) -> AutoscalingIndex | Unknown:
    try:
        return AutoscalingIndex.fetch(clients.autoscaling(region, role))
    except Exception as error:  # any failure: autoscaling becomes unresolved, never drift
        log.warning("autoscaling_unavailable", region=region, error=str(error))
        return Unknown(f"application-autoscaling could not be read in {region}: {scrub_message(str(error))}")


class _Background(Generic[R]):
    """One call on a daemon thread (in a copy of the caller's context), its result collected
    later; the call's exception is raised in ``result()``."""

    def __init__(self, fn: Callable[[], R]) -> None:
        self._outcome: _Outcome[R] = _Outcome()
        context = contextvars.copy_context()

        def run() -> None:
            try:
                self._outcome.value = context.run(fn)
            except BaseException as error:  # handed to result()'s caller
                self._outcome.error = error

        self._thread = threading.Thread(target=run, name="driftwatch-background", daemon=True)
        self._thread.start()

    def done(self) -> bool:
        return not self._thread.is_alive()

    def result(self) -> R:
        waiting.join(self._thread)  # the main thread waits here; a Ctrl-C must still reach it
        if self._outcome.error is not None:
            raise self._outcome.error
        return self._outcome.value  # type: ignore[return-value]  # set by run(), possibly None


def _costly(refused: Sequence[tuple[str, TableResult, LiveReadError]]) -> list[tuple[str, LiveReadError]]:
    """The failed reads that cost an attribute the table's row compares: its row lists one of
    the attributes the read supplies (``PART_ATTRIBUTES``) as unresolved. A read whose
    attributes the table does not manage (no ``point_in_time_recovery`` or ``ttl`` block,
    ``ignore_changes = [tags]`` without default tags) hides nothing: ``terraform plan`` would
    plan nothing there whatever AWS answered, so it is no "could not check everything" (no
    target error, no exit 1). It is still logged with its cause (``table_read_partial``) and
    counted in ``driftwatch_aws_api_calls_total``; a table whose row is an error for another
    reason says so itself."""
    kept = []
    for target, row, error in refused:
        supplied = PART_ATTRIBUTES[error.operation]
        if any(nested_in(item.attribute, supplied) for item in row.unresolved):
            kept.append((target, error))
        else:
            log.info(
                "table_read_partial_costs_nothing",
                target=target,
                table=error.table_name,
                region=error.region,
                operation=error.operation,
                code=error.code,
                reason=f"the table does not manage {_attributes(supplied)}",
            )
    return kept


def _attributes(names: Sequence[str]) -> str:
    return " and ".join(names)


def _refused_errors(refused: Sequence[tuple[str, LiveReadError]]) -> list[TargetError]:
    """One error per (target, region, operation, code) for the reads after DescribeTable that
    failed (denied, broken, not implemented, ...), each costing its attributes: the scan could
    not check everything (exit 1), said once however many tables it cost, with what is lost."""
    grouped: dict[tuple[str, str | None, str, str], list[LiveReadError]] = defaultdict(list)
    for target, error in refused:
        grouped[(target, error.region, error.operation, error.code)].append(error)
    errors = []
    for (target, _, operation, _), group in sorted(grouped.items(), key=lambda item: str(item[0])):
        # The first by name, not by which read finished first: the same denial reads the same
        # from one scan to the next (Slack keys a target error on its text).
        group.sort(key=lambda error: error.table_name or "")
        supplied = PART_ATTRIBUTES[operation]
        # "its tags are", "its point_in_time_recovery is": tags is a collection, read as plural.
        verb = "are" if len(supplied) > 1 or supplied == ("tags",) else "is"
        lost = f"{_attributes(supplied)} {verb} unresolved"
        if len(group) == 1:
            message = f"{group[0]}; its {lost}, the rest of the table was compared"
        else:
            more = f"(and {len(group) - 1} more tables)"
            message = f"{group[0]} {more}; their {lost}, the rest of each table was compared"
        errors.append(TargetError(target, message))
    return errors


def _check_one(
    job: _Job,
    clients: AwsClients,
    listing: _Background[dict[tuple[str, Role | None], AutoscalingIndex | Unknown]],
    settings: ScanSettings,
    judge: _Judge,
    refused: list[tuple[_Job, LiveReadError]],
) -> TableResult | _Deferred:
    failed: list[LiveReadError] = []
    live = _read_one(job, clients, failed)
    if isinstance(live, TableResult):  # the whole table is the error: nothing partial to say
        return live
    if live is not None:  # (None: gone since DescribeTable, missing: nothing partial to say)
        refused.extend((job, error) for error in failed)  # list.extend is atomic
    if not listing.done():
        return _Deferred(live)
    return _compare(job, live, listing.result()[(job.region, job.role)], settings, judge)


@dataclass(frozen=True)
class _Deferred:
    """A table read before the autoscaling listings were in: compared once they are."""

    live: TableSpec | None


def _read_one(
    job: _Job, clients: AwsClients, refused: list[LiveReadError] | None = None
) -> TableSpec | TableResult | None:
    """The live table (None: it does not exist), or the error row when it cannot be read;
    reads after DescribeTable that failed go to ``refused`` (``read_table``)."""
    log_ = log.bind(target=job.target, table=job.name, region=job.region)
    try:
        live = read_table(clients.dynamodb(job.region, job.role), job.name, job.region, refused)
        for error in refused or ():
            log_.warning("table_read_partial", error=str(error))
        return live
    except LiveReadError as error:
        log_.warning("table_read_failed", error=str(error))
        return _row(job.target, job.table, TableStatus.ERROR, error=str(error))
    except Exception as error:  # unexpected: still one table's error, never the whole scan
        log_.error("table_read_crashed", error=repr(error))
        return _row(job.target, job.table, TableStatus.ERROR, error=_unexpected(error))


def _compare(
    job: _Job,
    live: TableSpec | None,
    autoscaling: AutoscalingIndex | Unknown,
    settings: ScanSettings,
    judge: _Judge,
) -> TableResult:
    """The table's row; an exception while comparing it is that table's error, as in
    ``_read_one``: raised on a read worker, it used to end the whole scan (``run_bounded``
    hands a task's exception to the caller), every other table unreported."""
    try:
        return _compare_one(job, live, autoscaling, settings, judge)
    except Exception as error:
        log.error(
            "table_compare_crashed", target=job.target, table=job.name, region=job.region, error=repr(error)
        )
        return _row(job.target, job.table, TableStatus.ERROR, error=_unexpected(error))


# A table whose name ``lifecycle { ignore_changes }`` names (or ``all``), and that no table of
# the configured name answers: Terraform knows it by the name in its state, which may differ
# (the usual reason for the entry: a renamed convention, the tables kept). "Missing" would be
# a false alarm on every scan; which table it is cannot be told without the state.
_NAME_FROM_STATE: Final = (
    "no table has the configured name, and its name is under lifecycle.ignore_changes: Terraform"
    " knows the table by the name in its state, which driftwatch does not read, so it is not compared"
)
# ACTIVE, or being changed (drift is held back for the scan); None: a live spec built without it.
_COMPARABLE_STATUSES: Final = frozenset({None, "ACTIVE", "CREATING", "UPDATING", "DELETING"})


def _compare_one(
    job: _Job,
    live: TableSpec | None,
    autoscaling: AutoscalingIndex | Unknown,
    settings: ScanSettings,
    judge: _Judge,
) -> TableResult:
    rejected = [rule for rule in job.table.rejections if rule.applies(live)]
    if rejected:  # Terraform refuses the declaration: nothing to compare it with
        error = rejection_error(rejected, table_exists=live is not None)
        return _row(job.target, job.table, TableStatus.ERROR, error=error, unresolved=job.table.notes)
    if live is None:
        if job.table.spec.name_from_state:
            return _row(
                job.target, job.table, TableStatus.ERROR, error=_NAME_FROM_STATE, unresolved=job.table.notes
            )
        return judge.settle(job, (Drift("table", job.name, None),), None, unresolved=job.table.notes)
    if live.status not in _COMPARABLE_STATUSES:
        # INACCESSIBLE_ENCRYPTION_CREDENTIALS, ARCHIVING, ARCHIVED, REPLICATION_NOT_AUTHORIZED
        # or a status driftwatch does not know: not on its way to anything, so holding its
        # drift back "until next scan" (as for a table being changed) would hold it for ever.
        error = f"the table is {live.status}: DynamoDB cannot use it as it is, so it is not compared"
        return _row(job.target, job.table, TableStatus.ERROR, error=error, unresolved=job.table.notes)
    if not isinstance(autoscaling, Unknown):
        live = apply_autoscaling(live, autoscaling, job.table.spec)
    compared = live

    def compare(declared: TableSpec) -> DiffResult:
        if isinstance(autoscaling, Unknown):
            declared = _autoscaling_unknown(declared, autoscaling)
        return diff(declared, compared, parity=settings.parity)

    result = compare(job.table.spec)
    drift, unresolved = list(result.drift), [*job.table.notes, *result.unresolved]
    if live.status not in (None, "ACTIVE") and drift:
        # A table being changed is not comparable yet; show it, do not alert on it.
        unresolved.extend(
            Unresolved(d.attribute, f"table is {live.status}; compared again next scan") for d in drift
        )
        drift = []
    # Likewise a GSI being created, updated or deleted while its table stays ACTIVE: a GSI
    # removed from git and being deleted is still listed, and was reported as an extra GSI.
    busy = {name: status for name, status in (live.index_status or {}).items() if status != "ACTIVE"}
    if busy and drift:
        held = [(d, _busy_index(d.attribute, busy)) for d in drift]  # (drift values: unhashable)
        unresolved.extend(
            Unresolved(d.attribute, f"GSI {name} is {busy[name]}; compared again next scan")
            for d, name in held
            if name is not None
        )
        drift = [d for d, name in held if name is None]
    return judge.settle(job, drift, live.created_at, compare, unresolved=tuple(unresolved))


def _busy_index(attribute: str, busy: Mapping[str, str]) -> str | None:
    """The GSI of ``busy`` that ``attribute`` (``gsi.<name>`` or below it) is about, if any;
    matched on whole names, since an index name may hold a dot."""
    return next((n for n in busy if attribute == f"gsi.{n}" or attribute.startswith(f"gsi.{n}.")), None)


# --------------------------------------------------------------------------- unmanaged tables


def find_unmanaged(
    targets: Sequence[TargetInput],
    declared: DeclaredSet,
    clients: AwsClients,
    role_errors: Mapping[Role, str] | None = None,
    deadline: Deadline | None = None,
    max_regions: int = DEFAULT_MAX_REGIONS,
) -> tuple[list[TableResult], list[TargetError]]:
    """Live tables that match a target's ``unmanaged`` prefixes and that no declaration covers.

    A declaration covers its table's name in its region and in each of its replica regions,
    in the account of its target's role -- unless its provider binds it to another account
    (``bind_accounts`` took it out of the jobs: it says nothing of this account, and its error
    row does not make this account's declarations incomplete). Discovery is skipped (with an
    error) for an account whose declarations are incomplete -- a file that did not parse, a
    table name that could not be resolved, a module call not evaluated -- because any live
    table could then be one of them: never a false alarm.

    A target's regions are those of its tables, their replicas and its own ``region``. Replica
    regions come from the repository, so past ``max_regions`` distinct regions in the scan
    (those the scan reads tables in count first) the rest are not listed, and one error per
    target says which: 2,000 replica regions were 2,000 ListTables calls, one after another.
    """
    wanted = [t for t in targets if t.unmanaged_prefixes is not None]
    if not wanted:
        return [], []
    deadline = deadline or Deadline(DEFAULT_SCAN_TIMEOUT_SECONDS)
    role_of = {t.name: target_role(t) for t in targets}
    covered: dict[tuple[Role | None, str], set[str]] = defaultdict(set)
    everywhere: dict[Role | None, set[str]] = defaultdict(set)  # names whose replicas are unknown
    # Tables whose name Terraform takes from its state (ignore_changes): where the configured
    # name is not listed, the table could be any live one (see _NAME_FROM_STATE), in its own
    # region and in each of its replicas' (AWS names a replica as its table); in every region
    # where its replicas are unknown.
    state_named: dict[tuple[Role | None, str], list[_Job]] = defaultdict(list)
    state_named_everywhere: dict[Role | None, list[_Job]] = defaultdict(list)
    regions: dict[str, set[str]] = defaultdict(set)
    for job in (*declared.jobs, *declared.held):
        role = role_of.get(job.target)
        covered[(role, job.region)].add(job.name)
        from_state = job.table.spec.name_from_state
        if from_state:
            state_named[(role, job.region)].append(job)
        regions[job.target].add(job.region)
        replicas = job.table.spec.replicas
        if isinstance(replicas, Unknown):
            everywhere[role].add(job.name)
            if from_state:
                state_named_everywhere[role].append(job)
        else:
            for region in replicas:
                covered[(role, region)].add(job.name)
                regions[job.target].add(region)  # a target's tables live in their replica regions too
                if from_state:
                    state_named[(role, region)].append(job)
    # A module call not evaluated may declare any live table too (an unknown for_each, a
    # source not fetched): calling its tables unmanaged would be a false alarm.
    incomplete = (
        {role_of.get(e.target) for e in declared.errors}
        | {role_of.get(r.target) for r in declared.early}
        | {role_of.get(n.target) for n in declared.not_evaluated}
    )
    rows: list[TableResult] = []
    errors: list[TargetError] = []
    reported: set[tuple[Role | None, str, str]] = set()
    listed = {job.region for job in (*declared.jobs, *declared.held)}  # within max_regions (declare)
    for target in wanted:
        role = role_of[target.name]
        if role is not None and role_errors and role in role_errors:
            message = f"unmanaged tables could not be listed: {role_errors[role]}"
            errors.append(TargetError(target.name, message))
            continue
        if role in incomplete:
            errors.append(
                TargetError(
                    target.name,
                    "unmanaged tables were not looked for: the declarations of this account are "
                    "incomplete (see the other errors and the module calls not evaluated), so any "
                    "live table could be declared",
                )
            )
            continue
        target_regions = regions[target.name] | ({target.region} if target.region else set())
        if not target_regions:
            errors.append(
                TargetError(target.name, "unmanaged tables were not looked for: no region; set `region`")
            )
            continue
        prefixes = target.unmanaged_prefixes or ()
        skipped: list[str] = []
        for region in sorted(target_regions):
            if region not in listed and region != target.region:
                if len(listed) >= max_regions:
                    skipped.append(region)
                    continue
                listed.add(region)
            try:
                (names,) = run_bounded(
                    [functools.partial(_list_names, clients, region, role)],
                    workers=1,
                    deadline=deadline,
                    name="driftwatch-list",
                )
            except LiveReadError as error:
                log.warning("list_tables_failed", target=target.name, region=region, error=str(error))
                errors.append(TargetError(target.name, f"unmanaged tables could not be listed: {error}"))
                continue
            except Exception as error:  # unexpected: this target and region only
                log.error("list_tables_crashed", target=target.name, region=region, error=repr(error))
                errors.append(
                    TargetError(target.name, f"unmanaged tables could not be listed: {_unexpected(error)}")
                )
                continue
            if isinstance(names, _Unfinished):
                late = deadline.exceeded("before ListTables answered")
                log.warning("list_tables_failed", target=target.name, region=region, error=late)
                errors.append(
                    TargetError(target.name, f"unmanaged tables could not be listed in {region}: {late}")
                )
                continue
            state_jobs = (*state_named[(role, region)], *state_named_everywhere[role])
            unnamed = sorted({j.table.address for j in state_jobs if j.name not in names})
            if unnamed:
                errors.append(
                    TargetError(
                        target.name,
                        f"unmanaged tables were not looked for in {region}: no table has the configured"
                        f" name of {unnamed[0]}, whose name is under lifecycle.ignore_changes, so any"
                        " live table could be it",
                    )
                )
                continue
            for name in sorted(names):
                if not any(name.startswith(prefix) for prefix in prefixes):
                    continue
                if name in covered[(role, region)] or name in everywhere[role]:
                    continue
                if (role, region, name) in reported:  # two targets of one account: the first
                    continue
                reported.add((role, region, name))
                rows.append(
                    TableResult(
                        target=target.name,
                        address=None,
                        source=None,
                        table_name=name,
                        region=region,
                        status=TableStatus.UNMANAGED,
                        drift=(Drift("table", None, name),),
                        alert_unmanaged=target.unmanaged_alert,
                    )
                )
        if skipped:
            shown = ", ".join(skipped[:3]) + (", …" if len(skipped) > 3 else "")
            message = (
                f"unmanaged tables were not looked for in {len(skipped):,} regions ({shown}): "
                f"the scan already reads {max_regions} regions (aws.max_regions)"
            )
            errors.append(TargetError(target.name, message))
    return rows, errors


def _list_names(clients: AwsClients, region: str, role: Role | None) -> list[str]:
    return list_table_names(clients.dynamodb(region, role), region)


def _autoscaling_unknown(spec: TableSpec, reason: Unknown) -> TableSpec:
    """When autoscaling cannot be read, nothing it owns may be judged: its targets and capacity."""

    def unknown_targets(scaling: Autoscaling) -> Autoscaling:
        def one(target: ScalingTarget | None) -> ScalingTarget | None:
            if target is None:
                return None
            return ScalingTarget(
                reason, reason, reason if target.target is not None else None, suspended_state=reason
            )

        return Autoscaling(read=one(scaling.read), write=one(scaling.write))

    gsis = spec.gsis
    if not isinstance(gsis, Unknown):
        gsis = tuple(
            dataclasses.replace(
                g,
                read_capacity=reason if g.read_capacity is not None else None,
                write_capacity=reason if g.write_capacity is not None else None,
                autoscaling=unknown_targets(g.autoscaling),
            )
            for g in gsis
        )
    return dataclasses.replace(
        spec,
        read_capacity=reason if spec.read_capacity is not None else None,
        write_capacity=reason if spec.write_capacity is not None else None,
        autoscaling=unknown_targets(spec.autoscaling),
        gsis=gsis,
    )
