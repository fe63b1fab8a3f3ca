"""Benchmark 9: CPU per AWS call, as driftwatch makes them, and the call rate one process sustains.

moto runs in its own process behind the loopback proxy in ``--replay`` mode: after the first
answer to a request, the proxy answers the same request from memory, so neither moto's CPU
nor its one-request-at-a-time server limits the client. What is measured is this process' CPU
(``time.process_time()``: every thread, the call-deadline watchdog included).

1. Per operation, one thread: each of the six read operations driftwatch makes (the four table
   reads, the two autoscaling listings) through ``read_aws`` with its response check, on
   driftwatch's clients (``AwsClients``: call recorder, call deadlines, a non-binding rate
   limiter, exactly as a scan has them), against the same calls from a plain boto3 client
   with botocore's default configuration and no hooks (for scale).
2. Sustained: ``check_live`` over the provisioned tables again and again with 16 workers (the
   default concurrency) and the rate limit lifted: the calls per second of the whole scan path
   (workers, diff, logging) when the process, not AWS, is the bound.

    python benchmarks/call_cpu.py            # about 40 s
    python benchmarks/call_cpu.py --quick    # about 15 s

Ends with ``TARGET CPU per call halved ... PASS|MISS`` against ``--before-ms`` (the CPU per call
measured with this script at the commit before the change, see RESULTS.md).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _harness as h

# Mean CPU ms per call over the six operations, this script at ee3fc8e (before issue 16's
# changes), same VM, 2026-12-06 17:20 UTC: see RESULTS.md.
BEFORE_MS = 1.036


def operations(dynamodb: Any, autoscaling: Any, table: str, arn: str) -> dict[str, Callable[[], Any]]:
    """The six reads, each through read_aws with the check a scan applies to its answer."""
    from driftwatch.aws import responses
    from driftwatch.aws.dynamodb import read_aws

    region = h.REGION
    return {
        "DescribeTable": lambda: read_aws(
            "DescribeTable",
            table,
            region,
            lambda r: responses.describe_table(r, table),
            dynamodb.describe_table,
            TableName=table,
        ),
        "DescribeTimeToLive": lambda: read_aws(
            "DescribeTimeToLive",
            table,
            region,
            responses.describe_time_to_live,
            dynamodb.describe_time_to_live,
            TableName=table,
        ),
        "DescribeContinuousBackups": lambda: read_aws(
            "DescribeContinuousBackups",
            table,
            region,
            responses.describe_continuous_backups,
            dynamodb.describe_continuous_backups,
            TableName=table,
        ),
        "ListTagsOfResource": lambda: read_aws(
            "ListTagsOfResource",
            table,
            region,
            responses.list_tags_of_resource,
            dynamodb.list_tags_of_resource,
            ResourceArn=arn,
        ),
        "DescribeScalableTargets": lambda: read_aws(
            "DescribeScalableTargets",
            None,
            region,
            responses.scalable_targets,
            autoscaling.describe_scalable_targets,
            ServiceNamespace="dynamodb",
        ),
        "DescribeScalingPolicies": lambda: read_aws(
            "DescribeScalingPolicies",
            None,
            region,
            responses.scaling_policies,
            autoscaling.describe_scaling_policies,
            ServiceNamespace="dynamodb",
        ),
    }


def cpu_per_call(calls: dict[str, Callable[[], Any]], count: int, rounds: int) -> dict[str, float]:
    """CPU ms per call of each operation: the median over ``rounds`` interleaved runs."""
    for call in calls.values():  # warm-up: connection, first-call caches, proxy replay cache
        call()
        call()
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            start = time.process_time()
            for _ in range(count):
                call()
            samples[name].append((time.process_time() - start) / count * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def sustained(url: str, jobs: list[Any], concurrency: int, seconds: float) -> dict[str, float]:
    """check_live over ``jobs`` repeatedly for about ``seconds``: calls/s and CPU per call."""
    from driftwatch.aws.calls import ApiCallRecorder
    from driftwatch.scan import ScanSettings, check_live

    recorder = ApiCallRecorder()
    clients = h.make_clients(url, concurrency=concurrency, recorder=recorder)
    h.attach_rate_limit(clients, rate=1_000_000, burst=concurrency)  # wired in, never binding
    settings = ScanSettings(concurrency=concurrency)
    check_live(jobs, clients, settings)  # warm-up
    recorder.reset()
    wall, cpu = time.perf_counter(), time.process_time()
    scans = 0
    while time.perf_counter() - wall < seconds or scans == 0:
        rows, errors = check_live(jobs, clients, settings)
        if errors or any(row.status.value != "in_sync" for row in rows):
            raise RuntimeError(f"scan not clean: {errors[:2]} {[r.status for r in rows][:5]}")
        scans += 1
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    counts = recorder.snapshot()
    failed = {key: n for key, n in counts.items() if key[1] != "success"}
    if failed:
        raise RuntimeError(f"calls failed: {failed}")
    calls = sum(counts.values())
    return {
        "scans": scans,
        "calls": calls,
        "wall_seconds": wall,
        "calls_per_second": calls / wall,
        "cpu_ms_per_call": cpu / calls * 1000,
        "cpu_share_of_one_core": cpu / wall,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tables", type=int, default=100)
    parser.add_argument("--count", type=int, default=200, help="calls per operation and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the sustained run")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--before-ms", type=float, default=BEFORE_MS)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    if args.quick:
        args.tables, args.count, args.rounds, args.seconds = 40, 100, 2, 4.0

    h.use_fake_aws_env()
    h.print_machine()
    from driftwatch.scan import declare
    from driftwatch.terraform.parse import ParseCache

    with tempfile.TemporaryDirectory() as tmp, h.services(0.0, ("total",), ("--replay",)) as services:
        root = h.write_plain_repo(Path(tmp) / "root", args.tables)
        h.provision(root, services.moto_url)
        jobs = declare([h.target_for(root)], ParseCache()).jobs
        table = jobs[0].name
        arn = h.boto_client("dynamodb", services.moto_url).describe_table(TableName=table)["Table"][
            "TableArn"
        ]

        clients = h.make_clients(services.proxy_url, concurrency=args.concurrency)
        h.attach_rate_limit(clients, rate=1_000_000, burst=args.concurrency)
        ours = operations(clients.dynamodb(h.REGION), clients.autoscaling(h.REGION), table, arn)
        plain = operations(
            h.boto_client("dynamodb", services.proxy_url),
            h.boto_client("application-autoscaling", services.proxy_url),
            table,
            arn,
        )
        # The harness' plain client uses standard retries; botocore's default otherwise.
        driftwatch_ms = cpu_per_call(ours, args.count, args.rounds)
        plain_ms = cpu_per_call(plain, args.count, args.rounds)
        load = sustained(services.proxy_url, jobs, args.concurrency, args.seconds)

    print(f"\nCPU per call, one thread, {args.count} x {args.rounds} calls per operation (median round):")
    print(f"{'operation':<28}{'driftwatch':>12}{'plain boto3':>13}")
    for name in driftwatch_ms:
        print(f"{name:<28}{driftwatch_ms[name]:>10.3f} ms{plain_ms[name]:>11.3f} ms")
    mean = statistics.mean(driftwatch_ms.values())
    mean_plain = statistics.mean(plain_ms.values())
    print(f"{'mean':<28}{mean:>10.3f} ms{mean_plain:>11.3f} ms")
    print(
        f"\nSustained, check_live x {load['scans']} over {args.tables} tables, {args.concurrency} workers, "
        f"rate limit lifted: {load['calls']} calls in {load['wall_seconds']:.1f} s = "
        f"{load['calls_per_second']:.0f} calls/s, {load['cpu_ms_per_call']:.3f} ms CPU per call "
        f"(whole scan path), {load['cpu_share_of_one_core']:.2f} cores busy; "
        f"CPU-bound ceiling {1000 / load['cpu_ms_per_call']:.0f} calls/s per core"
    )
    h.write_json(
        args.json,
        {
            "machine": h.machine(),
            "tables": args.tables,
            "cpu_ms_per_call": driftwatch_ms,
            "plain_boto3_cpu_ms_per_call": plain_ms,
            "mean_cpu_ms": mean,
            "sustained": load,
        },
    )
    ratio = mean / args.before_ms
    print(
        f"\nTARGET CPU per call halved ({mean:.3f} ms vs {args.before_ms:.3f} ms before: {ratio:.2f}x) "
        f"{'PASS' if ratio <= 0.5 else 'MISS'}"
    )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main())
