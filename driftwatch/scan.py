"""One scan: targets -> declared tables -> live tables (bounded concurrency) -> diff -> report.

The scan never stops at the first problem: a file that does not parse, a table whose describe
call fails, a region whose autoscaling cannot be read -- each is recorded with its cause on the
rows it affects, and every other table is still checked.
"""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import structlog

from driftwatch.aws.autoscaling import AutoscalingIndex, apply_autoscaling
from driftwatch.aws.clients import AwsClients
from driftwatch.aws.dynamodb import LiveReadError, read_table
from driftwatch.diff import diff
from driftwatch.spec import (
    Autoscaling,
    DeclaredTable,
    Drift,
    ScalingTarget,
    ScanReport,
    TableResult,
    TableSpec,
    TableStatus,
    TargetError,
    Unknown,
    Unresolved,
)
from driftwatch.terraform.modules import TargetInput, declare_target
from driftwatch.terraform.parse import ParseCache

log = structlog.get_logger(__name__)

Parity = Literal["default", "strict"]


@dataclass
class ScanSettings:
    parity: Parity = "default"
    concurrency: int = 8
    progress: Callable[[int, int], None] | None = None  # (done, total), for a terminal progress bar


@dataclass
class _Job:
    target: str
    table: DeclaredTable
    region: str
    name: str


@dataclass
class DeclaredSet:
    """Everything the targets declare, ready to be checked against AWS."""

    jobs: list[_Job] = field(default_factory=list)
    early: list[TableResult] = field(default_factory=list)  # rows decided without AWS (no region, ...)
    errors: list[TargetError] = field(default_factory=list)


def declare(targets: Sequence[TargetInput], cache: ParseCache) -> DeclaredSet:
    """Evaluate every target's configuration (no AWS calls): what ``driftwatch inspect`` shows."""
    result = DeclaredSet()
    for target in targets:
        declared = declare_target(target, cache)
        result.errors.extend(declared.errors)
        for table in declared.tables:
            spec = table.spec
            name, region = spec.name, spec.region
            if isinstance(name, Unknown) or not name:
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
            else:
                result.jobs.append(_Job(target.name, table, region, name))
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
        **fields,
    )


def scan(
    targets: Sequence[TargetInput],
    clients: AwsClients,
    *,
    cache: ParseCache | None = None,
    settings: ScanSettings | None = None,
    commit: str | None = None,
) -> ScanReport:
    settings = settings or ScanSettings()
    started = time.monotonic()
    generated_at = datetime.now(UTC)
    declared = declare(targets, cache or ParseCache())
    rows = list(declared.early)
    live_rows, live_errors = check_live(declared.jobs, clients, settings)
    rows.extend(live_rows)
    rows.sort(key=lambda r: (r.target, r.address))
    return ScanReport(
        generated_at=generated_at,
        commit=commit,
        tables=tuple(rows),
        errors=(*declared.errors, *live_errors),
        duration_seconds=time.monotonic() - started,
    )


def check_live(
    jobs: Sequence[_Job], clients: AwsClients, settings: ScanSettings
) -> tuple[list[TableResult], list[TargetError]]:
    """Read and compare every declared table; autoscaling is fetched once per region.

    A region whose autoscaling cannot be read is reported as an error of each target with
    tables there (the scan could not check everything, so it exits 1), while its tables are
    still compared on every other attribute.
    """
    by_region: dict[str, list[_Job]] = defaultdict(list)
    for job in jobs:
        by_region[job.region].append(job)
    autoscaling = {region: _fetch_autoscaling(clients, region) for region in by_region}
    errors = [
        TargetError(target, f"{index.reason}; autoscaling and capacity of its tables are unresolved")
        for region, index in autoscaling.items()
        if isinstance(index, Unknown)
        for target in sorted({job.target for job in by_region[region]})
    ]
    done = 0
    results: list[TableResult] = []
    with ThreadPoolExecutor(max_workers=settings.concurrency, thread_name_prefix="driftwatch-read") as pool:
        futures = [pool.submit(_check_one, job, clients, autoscaling[job.region], settings) for job in jobs]
        for future in futures:
            results.append(future.result())
            done += 1
            if settings.progress is not None:
                settings.progress(done, len(futures))
    return results, errors


def _fetch_autoscaling(clients: AwsClients, region: str) -> AutoscalingIndex | Unknown:
    try:
        return AutoscalingIndex.fetch(clients.autoscaling(region))
    except Exception as error:  # any failure: autoscaling becomes unresolved, never drift
        log.warning("autoscaling_unavailable", region=region, error=str(error))
        return Unknown(f"application-autoscaling could not be read in {region}: {error}")


def _check_one(
    job: _Job, clients: AwsClients, autoscaling: AutoscalingIndex | Unknown, settings: ScanSettings
) -> TableResult:
    log_ = log.bind(target=job.target, table=job.name, region=job.region)
    try:
        live = read_table(clients.dynamodb(job.region), job.name, job.region)
    except LiveReadError as error:
        log_.warning("table_read_failed", error=str(error))
        return _row(job.target, job.table, TableStatus.ERROR, error=str(error))
    except Exception as error:  # unexpected: still one table's error, never the whole scan
        log_.error("table_read_crashed", error=repr(error))
        return _row(job.target, job.table, TableStatus.ERROR, error=f"unexpected error: {error!r}")
    if live is None:
        return _row(
            job.target,
            job.table,
            TableStatus.MISSING,
            drift=(Drift("table", job.name, None),),
            unresolved=job.table.notes,
        )
    declared = job.table.spec
    if isinstance(autoscaling, Unknown):
        declared = _autoscaling_unknown(declared, autoscaling)
    else:
        live = apply_autoscaling(live, autoscaling)
    result = diff(declared, live, parity=settings.parity)
    drift, unresolved = list(result.drift), [*job.table.notes, *result.unresolved]
    if live.status not in (None, "ACTIVE") and drift:
        # A table being changed is not comparable yet; show it, do not alert on it.
        unresolved.extend(
            Unresolved(d.attribute, f"table is {live.status}; compared again next scan") for d in drift
        )
        drift = []
    status = TableStatus.DRIFTED if drift else TableStatus.IN_SYNC
    return _row(job.target, job.table, status, drift=tuple(drift), unresolved=tuple(unresolved))


def _autoscaling_unknown(spec: TableSpec, reason: Unknown) -> TableSpec:
    """When autoscaling cannot be read, nothing it owns may be judged: its targets and capacity."""

    def unknown_targets(scaling: Autoscaling) -> Autoscaling:
        def one(target: ScalingTarget | None) -> ScalingTarget | None:
            if target is None:
                return None
            return ScalingTarget(reason, reason, reason if target.target is not None else None)

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
