"""Benchmark 4: render /metrics for 1,000 tables with 10 drifted attributes each.

A synthetic report (4 targets x 250 tables, every table drifted on 10 attributes, a few
unresolved attributes, every drift with a first-seen time) is handed to DriftwatchMetrics as
the daemon does after a scan; then the text exposition is rendered repeatedly, as Prometheus
scrapes it. Reported: the median render as CPU time of the process (what the render costs,
whatever else runs on the machine) and as wall time, the slowest render, the size of the body
and the number of samples, and the one-off cost of swapping the report in (``observe_scan``).

    python benchmarks/metrics_render.py            # 50 renders: about 10 seconds here
    python benchmarks/metrics_render.py --quick    # 10 renders
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import _harness as h

ATTRIBUTES = (
    "point_in_time_recovery",
    "ttl.enabled",
    "ttl.attribute",
    "table_class",
    "deletion_protection",
    "stream.enabled",
    "tags.Owner",
    "tags.CostCenter",
    "gsi.by-tenant.read_capacity",
    "gsi.by-tenant.write_capacity",
)


def synthetic_report(
    tables: int, attributes: int, targets: int
) -> tuple[Any, dict[tuple[str, str, str], datetime]]:
    from driftwatch.spec import Drift, ScanReport, SourceLocation, TableResult, TableStatus, Unresolved

    now = datetime.now(UTC)
    rows = []
    first_seen: dict[tuple[str, str, str], datetime] = {}
    for i in range(tables):
        target = f"env-{i % targets}"
        name = f"acme-{target}-service-{i:04d}-table"
        drift = tuple(
            Drift(ATTRIBUTES[k % len(ATTRIBUTES)] + ("" if k < len(ATTRIBUTES) else f"-{k}"), True, False)
            for k in range(attributes)
        )
        for item in drift:
            first_seen[(target, name, item.attribute)] = now - timedelta(minutes=i % 600)
        rows.append(
            TableResult(
                target=target,
                address=f'module.tables["service-{i:04d}"].module.table',
                source=SourceLocation(f"services/service-{i:04d}/main.tf", 3),
                table_name=name,
                region=("us-east-1", "eu-west-1")[i % 2],
                status=TableStatus.DRIFTED,
                drift=drift,
                unresolved=(Unresolved("sse.kms_key_arn", "var.kms_key_arn has no value"),)
                if i % 4 == 0
                else (),
            )
        )
    return ScanReport(generated_at=now, commit="0" * 40, tables=tuple(rows)), first_seen


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tables", type=int, default=1000)
    parser.add_argument("--attributes", type=int, default=10, help="drifted attributes per table")
    parser.add_argument("--renders", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="10 renders")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    renders = 10 if args.quick else args.renders

    from driftwatch import __version__
    from driftwatch.aws.calls import ApiCallRecorder
    from driftwatch.metrics import DriftwatchMetrics

    h.print_machine()
    report, first_seen = synthetic_report(args.tables, args.attributes, targets=4)
    recorder = ApiCallRecorder()
    for operation in (
        "DescribeTable",
        "DescribeTimeToLive",
        "DescribeContinuousBackups",
        "ListTagsOfResource",
    ):
        recorder.record(operation, "success")
    metrics = DriftwatchMetrics(version=__version__, recorder=recorder)
    started = datetime.now(UTC)
    observe_seconds, _ = h.timed(
        lambda: metrics.observe_scan(
            report, first_seen=first_seen, result="success", duration_seconds=42.0, started_at=started
        )
    )
    metrics.render()  # first render: warms imports and caches, not counted
    walls, cpus = [], []
    body = b""
    for _ in range(renders):
        wall, cpu, body = h.timed_cpu(metrics.render)
        walls.append(wall)
        cpus.append(cpu)
    samples = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
    median_cpu, median_wall, worst_wall = h.median(cpus), h.median(walls), max(walls)
    result = {
        "machine": h.machine(),
        "tables": args.tables,
        "attributes_per_table": args.attributes,
        "samples": samples,
        "body_bytes": len(body),
        "observe_scan_seconds": observe_seconds,
        "render_median_cpu_seconds": median_cpu,
        "render_median_wall_seconds": median_wall,
        "render_max_wall_seconds": worst_wall,
        "renders_wall": walls,
        "renders_cpu": cpus,
    }
    print(
        f"{args.tables} tables x {args.attributes} drifted attributes: {samples} samples, "
        f"{len(body) / 1e6:.1f} MB body"
    )
    print(f"observe_scan (report swapped in, once per scan): {observe_seconds * 1000:.0f} ms")
    print(
        f"render: median {median_cpu * 1000:.0f} ms CPU, {median_wall * 1000:.0f} ms wall "
        f"(slowest {worst_wall * 1000:.0f} ms wall) over {renders} renders"
    )
    verdict = "PASS" if median_cpu < 0.1 else "MISS"
    print(f"TARGET /metrics render under 100 ms: median {median_cpu * 1000:.0f} ms CPU {verdict}")
    h.write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
