"""Benchmark 9: one-shot ``driftwatch scan`` as a whole process, start to exit.

Two figures, each the CLI run as a user runs it (``python -m driftwatch scan --config ...``,
a subprocess timed from its start to its exit: interpreter start, imports, the evaluation
worker, the AWS calls, the report, the exit):

1. **one table, no latency** (straight to moto's server): the fixed cost of a one-shot run.
   Runs ``--repeat`` times after one warm-up, in both report formats (``json``, and ``text``,
   the default), the median is the figure. Target: under 0.5 s.
2. **200 tables behind the 30 ms latency proxy**, driftwatch's defaults (16 calls in flight,
   500 requests/s): the whole process against the issue's ideal ``calls x latency /
   concurrency`` (calls counted by the proxy, concurrency 16). Target: within 1.3x. Run with
   both latency models of the harness (``before``: 30 ms then moto's time; ``total``: 30 ms
   including moto's time, as an AWS call's latency includes the service's work).

The CLI runs with its bytecode cached, as an installed package has it (``pip install``
compiles every module): the benchmark unsets PYTHONDONTWRITEBYTECODE for the child and points
PYTHONPYCACHEPREFIX at a temporary directory, and the warm-up run fills it. Without a bytecode
cache every run compiles driftwatch's ~75 modules again (~0.1 s here).

``--code DIR`` runs the CLI from another checkout (e.g. the commit before a change) against
the same services, for a before/after comparison.

    python benchmarks/oneshot.py              # ~1 minute here
    python benchmarks/oneshot.py --quick      # one table only, 5 runs: ~15 s
    python benchmarks/oneshot.py --replay     # 200 tables answered from the proxy's memory

``--replay``: moto serves one request at a time on the same two cores, which AWS does not; with
it, an untimed run first fills the proxy's memory with moto's answers, and the timed runs get
every answer from there after the injected latency (a service with a fixed 30 ms per call and
no queue).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _harness as h

CONCURRENCY = 16  # driftwatch's default aws.concurrency


def run_scan(config: Path, fmt: str, env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the process tree, stdout) of one ``driftwatch scan``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "driftwatch", "scan", "--config", str(config), "--format", fmt],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if result.returncode not in (0, 2):
        raise RuntimeError(f"driftwatch scan exited {result.returncode}:\n{result.stderr[-3000:]}")
    return wall, cpu, result.stdout


def write_config(workdir: Path, root: Path, name: str) -> Path:
    path = workdir / f"{name}.yaml"
    config = {"repo": str(root), "targets": [{"name": "bench", "root": ".", "region": h.REGION}]}
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


def checked(stdout: str, tables: int) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads(stdout)["summary"]
    if summary.get("tables") != tables or summary.get("in_sync") != tables:
        raise RuntimeError(f"driftwatch did not find every table in sync: {summary}")
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tables", type=int, default=200, help="tables of the second figure")
    parser.add_argument("--delay-ms", type=float, default=30.0)
    parser.add_argument("--repeat", type=int, default=10, help="runs of the one-table scan per format")
    parser.add_argument("--repeat-large", type=int, default=3, help="runs of the large scan per model")
    parser.add_argument("--quick", action="store_true", help="one table only, 5 runs")
    parser.add_argument("--code", type=Path, default=h.REPO_ROOT, help="checkout whose CLI is run")
    parser.add_argument(
        "--replay",
        action="store_true",
        help="the proxy answers a request it has seen from memory (moto out of the timed runs)",
    )
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    repeat = 5 if args.quick else args.repeat

    h.use_fake_aws_env()
    h.print_machine()
    print(f"# driftwatch from {args.code}; {args.tables} tables at {args.delay_ms:.0f} ms per call")
    results: dict[str, Any] = {"machine": h.machine(), "code": str(args.code), "one_table": {}, "large": {}}
    models = () if args.quick else ("before", "total")
    proxy_args = ("--replay",) if args.replay else ()
    started = h.services(args.delay_ms, models=models or ("before",), proxy_args=proxy_args)
    with started as services, tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        pycache = workdir / "pycache"
        one = write_config(workdir, h.write_plain_repo(workdir / "one", 1), "one")
        large_root = h.write_plain_repo(workdir / "large", 1 if args.quick else args.tables)
        large = write_config(workdir, large_root, "large")
        h.provision(large_root, services.moto_url)  # bench-t0000, the one table, among them

        env = h.cli_env(services.moto_url, pycache, args.code)
        checked(run_scan(one, "json", env, workdir)[2], 1)  # warm-up: bytecode cache, page cache
        verdicts = []
        for fmt in ("json", "text"):
            walls, cpus = [], []
            for _ in range(repeat):
                wall, cpu, out = run_scan(one, fmt, env, workdir)
                if fmt == "json":
                    checked(out, 1)
                walls.append(wall)
                cpus.append(cpu)
            row = {"median": h.median(walls), "min": min(walls), "cpu_median": h.median(cpus), "runs": walls}
            results["one_table"][fmt] = row
            print(
                f"  one table, no latency, --format {fmt:4s}: median {row['median']:.3f} s "
                f"(min {row['min']:.3f}, max {max(walls):.3f}; CPU of the process tree "
                f"{row['cpu_median']:.2f} s) over {repeat} runs",
                flush=True,
            )
            verdicts.append((fmt, row["median"]))
        for model in models:
            walls, cpus = [], []
            calls = 0
            model_env = h.cli_env(services.proxy_url_for(model), pycache, args.code)
            if args.replay:  # untimed: the proxy keeps moto's answers for the timed runs
                checked(run_scan(large, "json", model_env, workdir)[2], args.tables)
            for _ in range(args.repeat_large):
                services.proxy_calls(reset=True, model=model)
                wall, cpu, out = run_scan(large, "json", model_env, workdir)
                checked(out, args.tables)
                calls = sum(services.proxy_calls(model=model).values())
                walls.append(wall)
                cpus.append(cpu)
            ideal = calls * args.delay_ms / 1000 / CONCURRENCY
            row = {
                "calls": calls,
                "ideal_seconds": ideal,
                "median": h.median(walls),
                "runs": walls,
                "cpu_median": h.median(cpus),
                "ratio": h.median(walls) / ideal,
            }
            results["large"][model] = row
            print(
                f"  [{model}] {args.tables} tables, {calls} calls: "
                f"whole process median {row['median']:.2f} s "
                f"(runs {', '.join(f'{w:.2f}' for w in walls)}; CPU {row['cpu_median']:.2f} s) vs ideal "
                f"{calls} x {args.delay_ms:.0f} ms / {CONCURRENCY} = {ideal:.2f} s -> {row['ratio']:.2f}x",
                flush=True,
            )
    for fmt, seconds in verdicts:
        verdict = "PASS" if seconds < 0.5 else "MISS"
        print(
            f"TARGET one-table scan, no latency, --format {fmt}, whole process < 0.5 s: "
            f"{seconds:.3f} s {verdict}"
        )
    for model, row in results["large"].items():
        verdict = "PASS" if row["ratio"] <= 1.3 else "MISS"
        print(
            f"TARGET [{model}] {args.tables}-table scan, whole process <= 1.3x calls x latency / "
            f"concurrency: {row['ratio']:.2f}x {verdict}"
        )
    h.write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
