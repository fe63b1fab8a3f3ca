"""Benchmark 6: the cost of evaluating targets in the bounded worker process.

On the generated 2,000-file repository of benchmark 3 (200 tables through modules), measured:

- **worker start**: a new worker (the CLI's first target, and the replacement of a killed one):
  a Python start, driftwatch's imports and lark's grammar;
- **cold**: ``driftwatch.scan.declare`` with an empty cache, in this process and in the worker;
- **warm rescan**: ``declare`` again with nothing changed (a daemon's every scan), in this
  process (a kept ParseCache) and through the worker (its own kept cache), interleaved: the
  target is within 10 % of the in-process figure. Compared in CPU time (of both processes for
  the worker): wall time on a shared 2-core machine moves by 2x between identical runs;
- **memory**: the worker's address space (what ``RLIMIT_AS`` counts) idle, after the cold
  evaluation, and at its peak, which sizes ``parse.max_memory``'s default.

    python benchmarks/isolation.py            # 2,000 files: about 1 minute here
    python benchmarks/isolation.py --quick    # 500 files
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _harness as h
from evaluation import generate


def _status(pid: int) -> dict[str, int]:
    """VmSize / VmPeak / VmRSS of a process, in bytes."""
    found: dict[str, int] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmSize", "VmPeak", "VmRSS"):
                found[key] = int(value.split()[0]) * 1024
    return found


def _measure(run: Any, check: Any, pid: int) -> tuple[float, float]:
    """(wall, CPU) seconds of one declare; CPU of this process and of the worker (``pid``)."""
    worker_cpu = h.cpu_seconds(pid)
    started, cpu = time.perf_counter(), time.process_time()
    check(run())
    wall = time.perf_counter() - started
    return wall, time.process_time() - cpu + h.cpu_seconds(pid) - worker_cpu


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--tables", type=int, default=200)
    parser.add_argument("--warm-runs", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="500 files / 50 tables")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    files_wanted, tables = (500, 50) if args.quick else (args.files, args.tables)

    from driftwatch.scan import declare
    from driftwatch.terraform.modules import TargetInput
    from driftwatch.terraform.parse import ParseCache
    from driftwatch.terraform.worker import WorkerEvaluator, WorkerOptions

    h.print_machine()
    results: dict[str, Any] = {"machine": h.machine(), "files": files_wanted, "tables": tables}
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "monorepo"
        files = generate(repo, tables, files_wanted)
        print(f"# {len(files)} .tf files, {tables} tables")
        env = {k: v for k, v in os.environ.items() if not k.startswith("TF_VAR_")}

        def target() -> TargetInput:
            return TargetInput(name="prod", repo=repo, root=repo / "envs" / "prod", env=env)

        def check(declared: Any) -> None:
            if declared.errors or declared.early or len(declared.jobs) != tables:
                raise RuntimeError(f"{len(declared.jobs)} tables, errors {declared.errors[:3]}")

        # Lark's grammar loaded first, in this process as the worker does at start.
        warm_up = Path(tmp) / "warm-up"
        generate(warm_up, 2, 30)
        declare([TargetInput(name="w", repo=warm_up, root=warm_up / "envs" / "prod", env={})], ParseCache())
        cache = ParseCache()
        worker = WorkerEvaluator(WorkerOptions())
        try:
            start, _ = h.timed(
                lambda: worker.declare(
                    TargetInput(name="w", repo=warm_up, root=warm_up / "envs" / "prod", env={})
                )
            )
            assert worker._process is not None
            pid = worker._process.pid
            idle = _status(pid)
            cold_in = _measure(lambda: declare([target()], cache), check, pid)
            cold_worker = _measure(lambda: declare([target()], worker), check, pid)
            after_cold = _status(pid)
            # Interleaved, so that the machine's noise hits both alike.
            warm_in: list[tuple[float, float]] = []
            warm_worker: list[tuple[float, float]] = []
            for _ in range(args.warm_runs):
                warm_in.append(_measure(lambda: declare([target()], cache), check, pid))
                warm_worker.append(_measure(lambda: declare([target()], worker), check, pid))
        finally:
            worker.close()

    mib = 1024**2

    def median(runs: list[tuple[float, float]], which: int) -> float:
        return statistics.median(run[which] for run in runs) * 1000

    wall_in, wall_worker = median(warm_in, 0), median(warm_worker, 0)
    cpu_in, cpu_worker = median(warm_in, 1), median(warm_worker, 1)
    results.update(
        worker_start_s=start,
        cold_in_process_s=cold_in,
        cold_worker_s=cold_worker,
        warm_in_process_ms={"wall": wall_in, "cpu": cpu_in},
        warm_worker_ms={"wall": wall_worker, "cpu": cpu_worker},
        warm_cpu_ratio=cpu_worker / cpu_in,
        warm_wall_ratio=wall_worker / wall_in,
        worker_vmsize_idle_mib=idle["VmSize"] / mib,
        worker_vmsize_after_cold_mib=after_cold["VmSize"] / mib,
        worker_vmpeak_mib=after_cold["VmPeak"] / mib,
        worker_rss_after_cold_mib=after_cold["VmRSS"] / mib,
    )
    print(f"worker start (first target, or a replacement): {start:.2f} s")
    print(
        f"cold evaluation (wall, CPU): in process {cold_in[0]:.2f} s, {cold_in[1]:.2f} s; "
        f"in the worker {cold_worker[0]:.2f} s, {cold_worker[1]:.2f} s"
    )
    print(
        f"warm rescan (median of {args.warm_runs}, interleaved): in process {cpu_in:.1f} ms CPU "
        f"({wall_in:.1f} ms wall); through the worker {cpu_worker:.1f} ms CPU, both processes "
        f"({wall_worker:.1f} ms wall): {cpu_worker / cpu_in:.2f}x CPU, {wall_worker / wall_in:.2f}x wall "
        "(target: within 1.10x)"
    )
    print(
        f"worker address space: idle {idle['VmSize'] / mib:.0f} MiB, after the cold evaluation "
        f"{after_cold['VmSize'] / mib:.0f} MiB, peak {after_cold['VmPeak'] / mib:.0f} MiB "
        f"(RSS {after_cold['VmRSS'] / mib:.0f} MiB); growth at peak "
        f"{(after_cold['VmPeak'] - idle['VmSize']) / mib:.0f} MiB"
    )
    ratio = cpu_worker / cpu_in
    print(f"TARGET warm rescan through the worker within 1.10x of in process (CPU): {ratio:.2f}x "
          f"{'PASS' if ratio <= 1.10 else 'MISS'}")  # fmt: skip
    h.write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
