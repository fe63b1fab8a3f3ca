"""Benchmark 5: the daemon's resident memory over 200 short scan cycles.

A real ``Daemon`` (config file, history database, metrics, parse cache, shared AWS clients)
runs ``scan_once()`` back to back against moto's server (its own process, so moto's memory is
not counted), and /metrics is rendered after every scan as a scrape would. To exercise every
path that could keep memory: every 10 cycles a table's tag is changed in moto and changed back
5 cycles later (drift appears and resolves: history transitions), and every 25 cycles a new
commit alternates one .tf file between two versions (one re-parse). RSS is read from /proc after each
cycle; growth is measured from the end of the warm-up (the first 10% of cycles).

(``benchmarks/soak.py`` is the long soak run; this is the short, bounded check.)

    python benchmarks/daemon_memory.py            # 200 cycles x 50 tables: about 2 minutes here
    python benchmarks/daemon_memory.py --quick    # 60 cycles x 20 tables: about 20 seconds
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import _harness as h


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def git(repo: Path, *argv: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid", *argv],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def _worker_rss(daemon: Any) -> int:
    """RSS of the daemon's evaluation worker (driftwatch.terraform.worker), 0 if none runs."""
    process = getattr(daemon.cache, "_process", None)
    if process is None:
        return 0
    for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--tables", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="60 cycles x 20 tables")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    cycles, tables = (60, 20) if args.quick else (args.cycles, args.tables)
    warmup = max(5, cycles // 10)

    from driftwatch import log
    from driftwatch.config import Config, load_config
    from driftwatch.daemon import Daemon

    h.use_fake_aws_env()
    os.environ.pop("DRIFTWATCH_BENCH_UNSET_WEBHOOK", None)
    log.configure(json_output=True, level="WARNING")
    h.print_machine()
    rss: list[int] = []
    statuses: list[dict[str, int]] = []
    with h.services(delay_ms=None) as services, tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        root = h.write_plain_repo(workdir / "repo", tables)
        h.provision(root, services.moto_url)
        git(root, "init", "-q")  # the daemon reads a git checkout (git-sync in Kubernetes)
        git(root, "add", "-A")
        git(root, "commit", "-qm", "tables")
        config_path = workdir / "driftwatch.yaml"
        settings: dict[str, Any] = {
            "repo": str(root),
            "targets": [{"name": "bench", "root": ".", "region": h.REGION}],
            "schedule": {"interval": "10s", "jitter": "0s"},
            "http": {"host": "127.0.0.1", "port": free_port()},
            "state": {"path": str(workdir / "state.db")},
            "slack": {"webhook_url_env": "DRIFTWATCH_BENCH_UNSET_WEBHOOK"},
        }
        if "pending_grace" in Config.model_fields:
            # Drift right after a commit would wait as "pending"; judge it at once here.
            settings["pending_grace"] = "0s"
        config_path.write_text(json.dumps(settings))
        os.environ["AWS_ENDPOINT_URL"] = services.moto_url
        config, base = load_config(config_path)
        daemon = Daemon(config, base)
        dynamodb = h.boto_client("dynamodb", services.moto_url)
        arn = dynamodb.describe_table(TableName="bench-t0001")["Table"]["TableArn"]
        edited = root / "tables_000.tf"
        versions = [edited.read_text(), edited.read_text() + "\n# edited by daemon_memory.py\n"]
        try:
            for cycle in range(cycles):
                if cycle % 10 == 5:
                    dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": "Team", "Value": "console"}])
                elif cycle % 10 == 0 and cycle:
                    dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": "Team", "Value": "platform"}])
                if cycle % 25 == 12:  # a new commit arrives, as git-sync would pull it
                    edited.write_text(versions[(cycle // 25) % 2 == 0])
                    git(root, "commit", "-qam", f"edit {cycle}")
                report = daemon.scan_once()
                if report is None:
                    raise RuntimeError(f"cycle {cycle}: the scan failed")
                daemon.metrics.render()
                rss.append(h.rss_bytes())
                statuses.append({s.value: report.count(s) for s in type(report.tables[0].status)})
                if cycle % 20 == 0 or cycle == cycles - 1:
                    print(
                        f"  cycle {cycle:3d}: RSS {rss[-1] / 2**20:6.1f} MiB (the evaluation worker, "
                        f"which holds the parse cache: {_worker_rss(daemon) / 2**20:6.1f} MiB, "
                        f"started {daemon.cache.starts} time(s))",
                        flush=True,
                    )
        finally:
            daemon.history.close()
            os.environ.pop("AWS_ENDPOINT_URL", None)

    drifted_cycles = sum(1 for s in statuses if s.get("drifted"))
    base_rss, final_rss = rss[warmup - 1], rss[-1]
    peak = max(rss[warmup - 1 :])
    growth = (final_rss - base_rss) / base_rss
    result: dict[str, Any] = {
        "machine": h.machine(),
        "cycles": cycles,
        "tables": tables,
        "warmup_cycles": warmup,
        "rss_after_warmup_mib": base_rss / 2**20,
        "rss_final_mib": final_rss / 2**20,
        "rss_peak_after_warmup_mib": peak / 2**20,
        "growth": growth,
        "peak_growth": (peak - base_rss) / base_rss,
        "cycles_with_drift": drifted_cycles,
        "rss_mib": [r / 2**20 for r in rss],
    }
    print(
        f"{cycles} cycles x {tables} tables ({drifted_cycles} cycles saw drift): RSS after warm-up "
        f"{result['rss_after_warmup_mib']:.1f} MiB, final {result['rss_final_mib']:.1f} MiB "
        f"(peak {result['rss_peak_after_warmup_mib']:.1f} MiB)"
    )
    verdict = "PASS" if growth < 0.05 else "MISS"
    peak_growth = result["peak_growth"]
    print(f"TARGET RSS growth after warm-up under 5%: {growth:+.1%} (peak {peak_growth:+.1%}) {verdict}")
    h.write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
