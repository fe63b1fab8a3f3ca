"""Benchmark 7: the daemon's HTTP endpoint under 100 slow or hostile clients.

A child process serves driftwatch's real ``Endpoint`` with a real ``DriftwatchMetrics`` over a
synthetic report big enough for a ~10 MB /metrics body (as an estate of ~10,000 tables gives).
The parent then attacks it, one phase at a time, and samples the child's RSS from /proc every
20 ms. Each phase:

Every attacking client connects from its own loopback address (127.0.1.1, 127.0.1.2, ...), so
the per-address cap does not help: all of them count against the global limits.

- ``huge-headers``: 100 connections each sending 98 headers of 65 KB (the largest the standard
  library accepts), as fast as the server takes them;
- ``never-read``: 60 clients ask for /metrics and never read a byte of the answer;
- ``slowloris``: 100 connections dribbling one header byte every 200 ms;
- ``idle``: 100 connections that connect and say nothing.

While a phase runs, /healthz is requested every 200 ms from another address (127.0.0.2, as a
kubelet probe comes from the node's): the figures say how many answered. Target: peak RSS
within +100 MB of the idle baseline in every phase.

    python benchmarks/http_hostile.py                # about 30 s
    python benchmarks/http_hostile.py --quick        # 2 MB body, shorter phases
    PYTHONPATH=/path/to/old/checkout python benchmarks/http_hostile.py   # the same, another build
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _harness as h

TARGET_GROWTH_MB = 100.0
REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import sys, time
from datetime import UTC, datetime
from driftwatch.endpoint import Endpoint
from driftwatch.metrics import DriftwatchMetrics
from driftwatch.spec import Drift, ScanReport, TableResult, TableStatus

tables = int(sys.argv[1])
rows = tuple(
    TableResult(target="prod", address=f"module.t{i}.aws_dynamodb_table.this", source=None,
                table_name=f"acme-prod-table-with-a-long-name-{i:06d}", region="us-east-1",
                status=TableStatus.DRIFTED,
                drift=tuple(Drift(f"tags.Key{j}", "a", "b") for j in range(3)))
    for i in range(tables)
)
metrics = DriftwatchMetrics(version="bench")
now = datetime.now(UTC)
metrics.observe_scan(ScanReport(generated_at=now, commit="c0ffee", tables=rows), first_seen={},
                     result="success", duration_seconds=1.0, started_at=now)
del rows
parts = getattr(metrics, "render_parts", None)
def metrics_route():
    return 200, DriftwatchMetrics.CONTENT_TYPE, (parts() if parts else metrics.render())
endpoint = Endpoint("127.0.0.1", 0, {
    "/metrics": metrics_route,
    "/healthz": lambda: (200, "text/plain", b"ok\n"),
})
endpoint.start()
print(endpoint.port, flush=True)
sys.stdin.read()
"""


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def probe(port: int) -> bool:
    try:
        with socket.create_connection(
            ("127.0.0.1", port), timeout=2, source_address=("127.0.0.2", 0)
        ) as sock:
            sock.settimeout(2)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = sock.recv(64)
            return answer.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200"))
    except OSError:
        return False


def huge_headers(port: int, stop: threading.Event, source: str) -> None:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 10, (source, 0)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        value = b"v" * 65000
        for i in range(98):
            if stop.is_set():
                return
            sock.sendall(b"X-H%d: " % i + value + b"\r\n")
        stop.wait()


def never_read(port: int, stop: threading.Event, source: str) -> None:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 10, (source, 0)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        stop.wait()


def slowloris(port: int, stop: threading.Event, source: str) -> None:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 10, (source, 0)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        while not stop.wait(0.2):
            sock.sendall(b"X")


def idle(port: int, stop: threading.Event, source: str) -> None:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 10, (source, 0)):
        stop.wait()


PHASES: dict[str, tuple[Callable[[int, threading.Event, str], None], int]] = {
    "huge-headers": (huge_headers, 100),
    "never-read": (never_read, 60),
    "slowloris": (slowloris, 100),
    "idle": (idle, 100),
}


def run_phase(
    pid: int, port: int, attack: Callable[[int, threading.Event, str], None], clients: int, seconds: float
) -> dict[str, Any]:
    stop = threading.Event()
    threads = [
        threading.Thread(target=attack, args=(port, stop, f"127.0.1.{n + 1}"), daemon=True)
        for n in range(clients)
    ]
    peak = 0.0
    probes = answered = 0
    started = time.monotonic()
    for thread in threads:
        thread.start()
    next_probe = started
    while time.monotonic() - started < seconds:
        peak = max(peak, rss_mb(pid))
        if time.monotonic() >= next_probe:
            probes += 1
            answered += probe(port)
            next_probe += 0.2
        time.sleep(0.02)
    stop.set()
    for thread in threads:
        thread.join(timeout=5)
    time.sleep(0.5)
    return {
        "peak_rss_mb": round(peak, 1),
        "after_rss_mb": round(rss_mb(pid), 1),
        "probes": probes,
        "answered": answered,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tables", type=int, default=10_000, help="report rows (10,000 = ~10 MB /metrics)")
    parser.add_argument("--seconds", type=float, default=6.0, help="length of each phase")
    parser.add_argument("--quick", action="store_true", help="2,000 tables, 3 s phases")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    tables, seconds = (2_000, 3.0) if args.quick else (args.tables, args.seconds)
    h.print_machine()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tables)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        # The driftwatch measured is this checkout's, or PYTHONPATH's when set (to compare
        # builds); the child runs elsewhere so that the working directory cannot shadow it.
        env={**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH") or str(REPO)},
        cwd=tempfile.gettempdir(),
    )
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        version = subprocess.run(
            [sys.executable, "-c", "import driftwatch.endpoint as e; print(e.__file__)"],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH") or str(REPO)},
            cwd=tempfile.gettempdir(),
        ).stdout.strip()
        print(f"endpoint under test: {version}")
        with socket.create_connection(("127.0.0.1", port)) as sock:  # one full scrape: warm
            sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            size = 0
            while chunk := sock.recv(1 << 20):
                size += len(chunk)
        time.sleep(0.5)
        baseline = rss_mb(child.pid)
        print(f"/metrics response: {size / 1e6:.1f} MB; baseline RSS {baseline:.0f} MB")
        results: dict[str, Any] = {
            "tables": tables,
            "metrics_bytes": size,
            "baseline_rss_mb": round(baseline, 1),
        }
        worst = 0.0
        for name, (attack, clients) in PHASES.items():
            figures = run_phase(child.pid, port, attack, clients, seconds)
            growth = figures["peak_rss_mb"] - baseline
            worst = max(worst, growth)
            results[name] = {**figures, "clients": clients, "growth_mb": round(growth, 1)}
            print(
                f"{name:>13}: {clients} clients, peak RSS {figures['peak_rss_mb']:.0f} MB "
                f"(+{growth:.0f} MB), after {figures['after_rss_mb']:.0f} MB; "
                f"/healthz answered {figures['answered']}/{figures['probes']}"
            )
        results["worst_growth_mb"] = round(worst, 1)
        h.write_json(args.json, results)
        verdict = "PASS" if worst <= TARGET_GROWTH_MB else "MISS"
        print(
            f"TARGET RSS within +{TARGET_GROWTH_MB:.0f} MB under 100 slow or hostile clients: "
            f"+{worst:.0f} MB {verdict}"
        )
        return 0
    finally:
        with contextlib.suppress(Exception):
            child.stdin.close()  # type: ignore[union-attr]
        child.terminate()
        child.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
