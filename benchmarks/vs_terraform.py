"""Benchmark 2: driftwatch scan vs ``terraform plan -refresh-only`` on the same tables.

The same generated root (plain ``aws_dynamodb_table`` resources, on-demand) is applied to
moto's server by Terraform itself (so Terraform has state), then both tools read every table
through the same loopback proxy with ~30 ms injected per call:

- ``terraform plan -refresh-only`` (Terraform 1.11, hashicorp/aws from the filesystem mirror),
  default ``-parallelism=10``, and again at ``-parallelism=32``;
- ``driftwatch scan`` as a CLI subprocess (``--config``, JSON report): with its defaults (16
  calls in flight per region, at most 500 requests/s per client) for the headline, and at
  concurrency 32 with the rate limit lifted next to ``-parallelism=32``.

Both are timed end to end as a user runs them (process start, evaluation, provider start,
API calls). The proxy counts each tool's calls. A zero-latency pair (straight to moto) shows
each tool's fixed cost, and the API floor -- the same reads from a bare boto3 client on 64
threads, nothing else -- the most any client could gain on this harness. Skips cleanly
without terraform or the provider mirror.

At each size after the first only the headline pair (both tools' defaults) and the API floor
run. Tables are provisioned in moto as driftwatch declares them and Terraform takes them into
its state with ``import`` blocks (``--provision import``, the default: an import reads each
table, where a create also writes and waits, so 1,000 tables are ready in about a minute), or
are created by ``terraform apply`` itself (``--provision apply``).

    python benchmarks/vs_terraform.py                  # 200 and 1,000 tables: ~5 minutes here
    python benchmarks/vs_terraform.py --tables 200     # 1-1.5 minutes
    python benchmarks/vs_terraform.py --quick          # 50 tables: under a minute
    python benchmarks/vs_terraform.py --replay         # the proxy answers repeats from memory

moto serves one request at a time, so on this harness the reads themselves have a floor that
AWS, a horizontally scaled service, does not have (the API floor line shows it: at 1,000 tables
it is most of either tool's time). ``--replay`` takes moto out of the timed runs: each tool runs
once untimed (its answers come from moto and the proxy keeps them), then every timed request is
answered from memory after the injected latency -- a service with a fixed 30 ms per call and no
queue. driftwatch runs with its bytecode cached, as an installed package has it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _harness as h

PLUGIN_DIR = Path(os.environ.get("DRIFTWATCH_TF_PLUGINS", "/opt/tf-plugins"))
PROVIDER_DIR = PLUGIN_DIR / "registry.terraform.io" / "hashicorp" / "aws"


def terraform_env(workdir: Path) -> dict[str, str]:
    rc = workdir / "cli.tfrc"
    rc.write_text(f'provider_installation {{\n  filesystem_mirror {{\n    path = "{PLUGIN_DIR}"\n  }}\n}}\n')
    env = dict(os.environ, TF_CLI_CONFIG_FILE=str(rc), TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1")
    env.pop("TF_CLI_ARGS", None)
    return env


CPU_SPENT: list[float] = []  # CPU seconds of the last run()'s process tree


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(argv: list[str], cwd: Path, env: dict[str, str], ok: tuple[int, ...] = (0,)) -> tuple[float, str]:
    """Run a command; returns (wall seconds, stdout) and records its CPU time (the process and
    every descendant it waited for: terraform's provider plugin included) in CPU_SPENT."""
    cpu = _children_cpu()
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=1800, check=False)
    elapsed = time.perf_counter() - start
    CPU_SPENT[:] = [_children_cpu() - cpu]
    if result.returncode not in ok:
        raise RuntimeError(f"{' '.join(argv[:3])} exited {result.returncode}:\n{result.stderr[-3000:]}")
    return elapsed, result.stdout


def driftwatch_config(workdir: Path, root: Path, concurrency: int | None) -> Path:
    """A config for the generated root. ``concurrency`` None: driftwatch's defaults, rate limit
    included (what a user runs). Otherwise that concurrency with the rate limit lifted: the
    comparison at equal parallelism is about the same calls, not a politeness setting."""
    config: dict[str, Any] = {
        "repo": str(root),
        "targets": [{"name": "bench", "root": ".", "region": h.REGION}],
    }
    if concurrency is not None:
        config["aws"] = {"concurrency": concurrency, "max_requests_per_second": None}
    path = workdir / f"driftwatch-{concurrency or 'defaults'}.yaml"
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


def api_floor(endpoint: str, tables: int, threads: int = 64) -> float:
    """Seconds for the four reads of every table from a bare boto3 client on ``threads`` threads,
    in this process: no process start, no evaluation, no diff. What any client that reads what
    ``terraform plan`` reads waits for on this harness -- the bound on the ratio it could show."""
    from concurrent.futures import ThreadPoolExecutor

    client = h.boto_client("dynamodb", endpoint, max_pool=threads)

    def read(index: int) -> None:
        name = f"bench-t{index:04d}"
        arn = client.describe_table(TableName=name)["Table"]["TableArn"]
        client.describe_time_to_live(TableName=name)
        client.describe_continuous_backups(TableName=name)
        client.list_tags_of_resource(ResourceArn=arn)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(read, range(min(threads, tables))))  # warm-up: connections, first-call costs
        start = time.perf_counter()
        list(pool.map(read, range(tables)))
        return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--tables", default="200,1000", help="comma-separated sizes; the first also gets every other pair"
    )
    parser.add_argument(
        "--quick", action="store_true", help="50 tables, no parallelism-32 or zero-latency runs"
    )
    parser.add_argument(
        "--provision",
        choices=["import", "apply"],
        default="import",
        help="tables created in moto and imported by terraform (default), or created by terraform apply",
    )
    parser.add_argument("--delay-ms", type=float, default=30.0)
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement (the median is used)")
    parser.add_argument(
        "--replay",
        action="store_true",
        help="the proxy answers a request it has seen from memory (each tool warms it untimed first)",
    )
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    sizes = [50] if args.quick else [int(size) for size in args.tables.split(",")]

    if shutil.which("terraform") is None or not PROVIDER_DIR.is_dir():
        print(f"SKIP: needs the terraform CLI on PATH and the hashicorp/aws provider under {PLUGIN_DIR}")
        return 0
    h.use_fake_aws_env()
    h.print_machine()
    version = subprocess.run(["terraform", "version"], capture_output=True, text=True, check=False).stdout
    providers = sorted(p.name for p in PROVIDER_DIR.iterdir())
    print(
        f"# {version.splitlines()[0]}, hashicorp/aws {', '.join(providers)}; "
        f"{', '.join(str(size) for size in sizes)} tables; {args.delay_ms:.0f} ms per call"
    )
    everything: dict[str, Any] = {
        "machine": h.machine(),
        "delay_ms": args.delay_ms,
        "replay": args.replay,
        "sizes": {},
    }
    proxy_args = ("--replay",) if args.replay else ()
    with h.services(args.delay_ms, proxy_args=proxy_args) as services, tempfile.TemporaryDirectory() as tmp:
        for index, tables in enumerate(sizes):
            if index:
                services.reset_moto()
            print(f"## {tables} tables", flush=True)
            results = compare(args, services, Path(tmp) / f"size-{tables}", tables, full=index == 0)
            everything["sizes"][str(tables)] = results
            print(f"driftwatch's verdict on the terraform-applied tables: {results['driftwatch_summary']}")
    for tables, results in everything["sizes"].items():
        ratio = results["ratio_default"]
        print(
            f"TARGET driftwatch ratio to terraform plan -refresh-only recorded at {tables} tables "
            f"(defaults): {ratio:.2f}x PASS"
        )
    first = everything["sizes"][str(sizes[0])]
    for aim in (5, 10):
        verdict = "PASS" if first["ratio_default"] >= aim else "MISS"
        print(
            f"TARGET driftwatch >= {aim}x faster than terraform plan -refresh-only on {sizes[0]} tables "
            f"(defaults): {first['ratio_default']:.2f}x {verdict}"
        )
    h.write_json(args.json, everything)
    return 0


def provision(
    args: argparse.Namespace, services: Any, root: Path, tables: int, tf_env: dict[str, str]
) -> float:
    """Seconds to give moto the tables and Terraform its state (not compared)."""
    start = time.perf_counter()
    apply = ["terraform", "apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=32"]
    if args.provision == "import":
        h.provision(root, services.moto_url)
        imports = root / "imports.tf"
        imports.write_text(
            "".join(
                f'import {{\n  to = aws_dynamodb_table.t{i:04d}\n  id = "bench-t{i:04d}"\n}}\n'
                for i in range(tables)
            )
        )
        run([*apply, f"-var=aws_endpoint={services.moto_url}"], root, tf_env)
        imports.unlink()
    else:
        run([*apply, f"-var=aws_endpoint={services.moto_url}"], root, tf_env)
    return time.perf_counter() - start


def compare(
    args: argparse.Namespace, services: Any, workdir: Path, tables: int, full: bool
) -> dict[str, Any]:
    results: dict[str, Any] = {"tables": tables, "runs": []}
    workdir.mkdir(parents=True)
    root = h.write_plain_repo(workdir / "repo", tables)
    tf_env = terraform_env(workdir)
    run(["terraform", "init", "-input=false", "-no-color"], root, tf_env)
    seconds = provision(args, services, root, tables, tf_env)
    print(
        f"{tables} tables into moto and terraform's state ({args.provision}, straight to moto, "
        f"not compared): {seconds:.1f} s"
    )

    def terraform(endpoint: str, parallelism: int) -> float:
        seconds, _ = run(
            [
                "terraform",
                "plan",
                "-refresh-only",
                "-input=false",
                "-no-color",
                "-lock=false",
                f"-parallelism={parallelism}",
                f"-var=aws_endpoint={endpoint}",
            ],
            root,
            tf_env,
        )
        return seconds

    def driftwatch(endpoint: str, concurrency: int | None) -> float:
        config = driftwatch_config(workdir, root, concurrency)
        env = h.cli_env(endpoint, workdir / "pycache")
        seconds, out = run(
            [sys.executable, "-m", "driftwatch", "scan", "--config", str(config), "--format", "json"],
            workdir,
            env,
            ok=(0, 2),
        )
        summary = json.loads(out)["summary"]
        if summary.get("error") or summary.get("tables") != tables:
            raise RuntimeError(f"driftwatch did not check every table: {summary}")
        results["driftwatch_summary"] = summary
        return seconds

    warmed: list[str] = []

    def measure(tool: str, endpoint: str, parallelism: int | None, proxied: bool) -> dict[str, Any]:
        times, cpus = [], []
        calls: dict[str, int] = {}
        if (args.replay and proxied) or (tool == "driftwatch" and not warmed):
            warmed.append(tool)  # untimed: fills the replay store, driftwatch's bytecode cache
            if tool == "terraform":
                terraform(endpoint, parallelism or 10)
            else:
                driftwatch(endpoint, parallelism)
        for _ in range(args.repeat):
            if proxied:
                services.proxy_calls(reset=True)
            if tool == "terraform":
                times.append(terraform(endpoint, parallelism or 10))
            else:
                times.append(driftwatch(endpoint, parallelism))
            cpus.append(CPU_SPENT[0])
            if proxied:
                calls = services.proxy_calls()
        row = {
            "tool": tool,
            "parallelism": parallelism,
            "latency_ms": args.delay_ms if proxied else 0.0,
            "seconds": h.median(times),
            "cpu_seconds": h.median(cpus),
            "runs": times,
            "calls": sum(calls.values()) if proxied else None,
            "calls_by_operation": calls if proxied else None,
        }
        results["runs"].append(row)
        per_table = f", {row['calls'] / tables:.2f} calls/table" if proxied else ""
        print(
            f"  {tool:10s} parallelism {parallelism or 'default':>7}, {row['latency_ms']:.0f} ms/call: "
            f"{row['seconds']:.2f} s ({row['cpu_seconds']:.1f} s CPU){per_table}",
            flush=True,
        )
        return row

    pairs: list[tuple[int, int | None]] = [(10, None)] + ([(32, 32)] if full and not args.quick else [])
    ratios = []
    for tf_parallelism, dw_concurrency in pairs:
        tf_row = measure("terraform", services.proxy_url, tf_parallelism, proxied=True)
        dw_row = measure("driftwatch", services.proxy_url, dw_concurrency, proxied=True)
        ratio = tf_row["seconds"] / dw_row["seconds"]
        ratios.append(ratio)
        print(
            f"  -> driftwatch {ratio:.2f}x faster "
            f"(terraform -parallelism={tf_parallelism} vs driftwatch "
            f"{'defaults' if dw_concurrency is None else f'concurrency {dw_concurrency}'})"
        )
    floor = h.median([api_floor(services.proxy_url, tables) for _ in range(max(1, args.repeat))])
    results["api_floor_seconds"] = floor
    print(
        f"  API floor: the {4 * tables} reads alone from a bare boto3 client on 64 threads, no start-up "
        f"or evaluation: {floor:.2f} s -> no client reading these tables could be more than "
        f"{results['runs'][0]['seconds'] / floor:.1f}x faster than terraform here"
    )
    if full and not args.quick:
        tf_zero = measure("terraform", services.moto_url, 10, proxied=False)
        dw_zero = measure("driftwatch", services.moto_url, None, proxied=False)
        print(
            f"  -> with no latency injected: terraform {tf_zero['seconds']:.2f} s, "
            f"driftwatch {dw_zero['seconds']:.2f} s (each tool's fixed and CPU cost)"
        )
    results["ratio_default"] = ratios[0]
    return results


if __name__ == "__main__":
    sys.exit(main())
