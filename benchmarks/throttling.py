"""Benchmark 10: scans under throttling, by retry mode.

moto's server in its own process, and in front of it one loopback proxy per throttling model
(``_delay_proxy.py``, 30 ms per call, ``total`` latency model), each answering refused requests
as AWS does (HTTP 400, ``ThrottlingException``):

- ``random``: every request is refused with probability 0.3, whatever the rate (seeded).
- ``rate``: a token bucket of ``--rate`` requests/s (burst ``--burst``) over all connections:
  above that rate, requests are refused.
- ``none``: no throttling, the reference.

Each mode scans the same tables (``check_live``, the AWS phase of a scan, 16 workers as by
default) through each model, with a fresh set of clients per run:

- ``adaptive``: botocore's adaptive retries (standard retries plus a client-side rate that
  throttles cut), driftwatch's limiter at its default 500 requests/s;
- ``standard``: botocore's standard retries, the limiter at 500 requests/s;
- ``limiter``: driftwatch's ``limiter`` mode: standard retries with a short throttling backoff
  (0.1 s scale instead of botocore's 1 s), the rate left to driftwatch's limiter (500/s);
- ``limiter-sized``: the same with the limiter set below the throttling rate (``--rate`` x
  0.8), i.e. ``aws.max_requests_per_second`` sized for what the account has to spare.

Reported per run: wall time (and its ratio to the unthrottled scan), attempts and throttles as
the proxy saw them, throttles as driftwatch counted them (``driftwatch_aws_api_calls_total
{outcome="throttled"}``, which must match), and tables read vs failed.

    python benchmarks/throttling.py            # about 2 minutes
    python benchmarks/throttling.py --quick    # about 1 minute

Ends with ``TARGET ... PASS|MISS``: under 30% random throttling, the 20-table scan with the
default retry mode within 5x its unthrottled time, with every table read.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _harness as h

MODES = ("adaptive", "standard", "limiter", "limiter-sized")


def start_proxy(moto_port: int, delay_ms: float, extra: list[str]) -> tuple[Any, str]:
    argv = [str(h.HERE / "_delay_proxy.py"), "--upstream-port", str(moto_port), "--delay-ms", str(delay_ms)]
    process, port = h._start([*argv, "--model", "total", *extra], "delay proxy")
    return process, f"http://127.0.0.1:{port}"


def proxy_stats(url: str, reset: bool = False) -> dict[str, int]:
    import json
    import urllib.request

    request = urllib.request.Request(f"{url}/__proxy_stats", method="POST" if reset else "GET")
    with urllib.request.urlopen(request, timeout=10) as response:
        data: dict[str, int] = json.loads(response.read())
    return data


def clients_for(url: str, mode: str, rate: float, concurrency: int, recorder: Any) -> Any:
    import boto3

    from driftwatch.aws.clients import AwsClients

    os.environ["AWS_ENDPOINT_URL"] = url
    try:
        clients = AwsClients(
            boto3.Session(),
            max_pool_connections=max(16, concurrency),
            recorder=recorder,
            retry_mode=mode.split("-")[0],  # type: ignore[arg-type]
            max_requests_per_second=rate * 0.8 if mode == "limiter-sized" else 500.0,
            request_burst=concurrency,
        )
        clients.dynamodb(h.REGION)
        clients.autoscaling(h.REGION)
    finally:
        os.environ.pop("AWS_ENDPOINT_URL", None)
    return clients


def run(url: str, jobs: list[Any], mode: str, rate: float, concurrency: int) -> dict[str, Any]:
    from driftwatch.aws.calls import ApiCallRecorder
    from driftwatch.scan import ScanSettings, check_live
    from driftwatch.spec import TableStatus

    recorder = ApiCallRecorder()
    clients = clients_for(url, mode, rate, concurrency, recorder)
    proxy_stats(url, reset=True)
    time.sleep(1.1)  # the proxy's token bucket refills between runs
    proxy_stats(url, reset=True)
    start = time.perf_counter()
    rows, errors = check_live(jobs, clients, ScanSettings(concurrency=concurrency))
    wall = time.perf_counter() - start
    seen = proxy_stats(url)
    throttled_proxy = seen.pop("throttled", 0)
    calls = recorder.snapshot()
    return {
        "mode": mode,
        "wall_seconds": wall,
        "attempts": sum(seen.values()),
        "calls": sum(calls.values()),
        "throttled_proxy": throttled_proxy,
        "throttled_counted": sum(recorder.throttled().values()),
        "failed_calls": sum(n for (_, outcome), n in calls.items() if outcome != "success"),
        "tables_read": sum(1 for row in rows if row.status is TableStatus.IN_SYNC),
        "tables_failed": sum(1 for row in rows if row.status is not TableStatus.IN_SYNC) + len(errors),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tables", type=int, default=20, help="tables of the random-throttling scan")
    parser.add_argument("--rate-tables", type=int, default=100, help="tables of the rate-throttling scan")
    parser.add_argument("--probability", type=float, default=0.3)
    parser.add_argument("--rate", type=float, default=100.0, help="requests/s the rate model accepts")
    parser.add_argument("--burst", type=float, default=20.0)
    parser.add_argument("--delay-ms", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3, help="runs per mode and model (median)")
    parser.add_argument("--default-mode", default=None, help="the mode the target is judged on")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    if args.quick:
        args.rate_tables, args.repeat = 50, 1

    h.use_fake_aws_env()
    h.print_machine()
    from driftwatch.aws.clients import DEFAULT_RETRY_MODE
    from driftwatch.scan import declare
    from driftwatch.terraform.parse import ParseCache

    default_mode = args.default_mode or DEFAULT_RETRY_MODE
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, h.services(None) as services:
        root = h.write_plain_repo(Path(tmp) / "root", max(args.tables, args.rate_tables))
        h.provision(root, services.moto_url)
        jobs = declare([h.target_for(root)], ParseCache()).jobs
        models = {
            "none": [],
            "random": ["--throttle-random", str(args.probability), "--seed", "16"],
            "rate": ["--throttle-rate", str(args.rate), "--throttle-burst", str(args.burst)],
        }
        proxies = {
            name: start_proxy(services.moto_port, args.delay_ms, extra) for name, extra in models.items()
        }
        try:
            run(proxies["none"][1], jobs[: args.tables], "limiter", args.rate, args.concurrency)  # warm-up
            for model, tables in (("random", args.tables), ("rate", args.rate_tables)):
                subset = jobs[:tables]
                for mode in MODES:
                    for throttling in ("none", model):
                        key = f"{model}/{mode}/{throttling}"
                        runs = [
                            run(proxies[throttling][1], subset, mode, args.rate, args.concurrency)
                            for _ in range(args.repeat)
                        ]
                        runs.sort(key=lambda r: r["wall_seconds"])
                        results[key] = runs[len(runs) // 2] | {
                            "tables": tables,
                            "walls": [r["wall_seconds"] for r in runs],
                        }
        finally:
            for process, _ in proxies.values():
                h._stop(process)

    print(
        f"\n30 ms per call, {args.concurrency} workers; random: p={args.probability}, {args.tables} tables; "
        f"rate: {args.rate:g} requests/s (burst {args.burst:g}), {args.rate_tables} tables; "
        f"median of {args.repeat} run(s)\n"
    )
    header = (
        f"{'model':<8}{'mode':<14}{'wall':>8}{'vs none':>9}{'attempts':>10}{'throttled':>11}"
        f"{'counted':>9}{'read':>6}{'failed':>8}"
    )
    print(header)
    for model in ("random", "rate"):
        for mode in MODES:
            base = results[f"{model}/{mode}/none"]
            r = results[f"{model}/{mode}/{model}"]
            ratio = r["wall_seconds"] / base["wall_seconds"]
            print(
                f"{model:<8}{mode:<14}{r['wall_seconds']:>7.2f}s{ratio:>8.1f}x"
                f"{r['attempts']:>10}{r['throttled_proxy']:>11}{r['throttled_counted']:>9}"
                f"{r['tables_read']:>6}{r['tables_failed']:>8}"
            )
            r["vs_unthrottled"] = r["wall_seconds"] / base["wall_seconds"]
        print(
            f"{'(none)':<8}{'':<14}"
            + "".join(f"  {mode} {results[f'{model}/{mode}/none']['wall_seconds']:.2f}s" for mode in MODES)
        )
    h.write_json(args.json, {"machine": h.machine(), "args": vars(args), "results": results})

    counted = all(r["throttled_counted"] == r["throttled_proxy"] for r in results.values())
    print(
        f"\nTARGET every throttle counted in driftwatch_aws_api_calls_total {'PASS' if counted else 'MISS'}"
    )
    r = results[f"random/{default_mode}/random"]
    ok = r["vs_unthrottled"] <= 5 and r["tables_failed"] == 0
    print(
        f"TARGET 30% random throttling, {args.tables} tables, default mode {default_mode}: "
        f"{r['vs_unthrottled']:.1f}x the unthrottled scan, {r['tables_failed']} failed (at most 5x, none) "
        f"{'PASS' if ok else 'MISS'}"
    )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main())
