"""Soak: a real ``driftwatch run`` process for hundreds of scan cycles; memory, file descriptors
and threads must stay flat.

The daemon runs as it does in production (its own process, the scheduler, the HTTP endpoint,
SQLite history, Slack delivery) against moto's server and a local Slack stub, scanning every
second. Meanwhile someone keeps changing the live tables (tags added and removed, PITR toggled),
so transitions are recorded and messages delivered all along, and the stub answers 500 now and
then, so retries happen too. The daemon's ``/proc/<pid>`` is sampled every second; after a
warm-up the figures must not grow (RSS by at most ``--rss-growth``, fds and threads not at all).

    python benchmarks/soak.py                          # 300 cycles, ~6 minutes
    python benchmarks/soak.py --cycles 2000 --tables 50 --json soak.json

Exit code 0: flat; 1: something grew (the table printed says what). Linux only (/proc).
Everything listens on 127.0.0.1 and uses fake AWS credentials. ``tests/test_soak.py`` is the
quick in-process version that CI runs.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
}
TABLE = """
resource "aws_dynamodb_table" "t%(i)d" {
  name         = "soak-%(i)03d"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  tags = {
    Team = "soak"
  }
}
"""
# Slack retries within a second instead of 30 s doubling, so a 500 does not stall the outbox
# for the rest of the run; the delivery job every 2 s instead of 15 s. Nothing else changes.
WRAPPER = """
import sys
from datetime import timedelta
import driftwatch.daemon
import driftwatch.notify.slack as slack
slack.BACKOFF_BASE = 0.5
slack.MAX_DELAY = 2.0
driftwatch.daemon.DELIVERY_INTERVAL = timedelta(seconds=2)
from driftwatch.cli import main
sys.exit(main(sys.argv[1:]))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_moto() -> str:
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    from driftwatch.demo import moto_patches

    moto_patches.apply()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log line per request
    server = make_server("127.0.0.1", 0, DomainDispatcherApplication(create_backend_app), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}"


class SlackStub(BaseHTTPRequestHandler):
    posts = 0
    failures = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        fail = random.random() < 0.1
        type(self).failures += fail
        type(self).posts += not fail
        self.send_response(500 if fail else 200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Sample:
    at: float
    scans: int
    rss: int
    fds: int
    threads: int


def sample(pid: int, metrics_url: str, started: float) -> Sample | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        text = urllib.request.urlopen(metrics_url, timeout=5).read().decode()
    except (OSError, ValueError):
        return None
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    scans = sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("driftwatch_scans_total{")
    )
    return Sample(
        at=time.monotonic() - started,
        scans=int(scans),
        rss=int(fields["VmRSS"].split()[0]) * 1024,
        fds=fds,
        threads=int(fields["Threads"]),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=300, help="scans to run (default 300)")
    parser.add_argument("--warm-up", type=int, default=30, help="scans before the baseline (default 30)")
    parser.add_argument("--tables", type=int, default=20, help="declared tables (default 20)")
    parser.add_argument("--rss-growth", type=float, default=0.10, help="allowed RSS growth (default 0.10)")
    parser.add_argument("--json", help="also write the samples and the verdict to this file")
    args = parser.parse_args()
    if not Path("/proc/self/status").exists():
        print("soak: needs Linux /proc", file=sys.stderr)
        return 2

    import boto3

    os.environ.update(FAKE_AWS)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        os.environ.pop(key, None)
    random.seed(1)
    endpoint = start_moto()
    dynamodb = boto3.client("dynamodb", region_name=REGION, endpoint_url=endpoint)
    slack = ThreadingHTTPServer(("127.0.0.1", 0), SlackStub)
    threading.Thread(target=slack.serve_forever, daemon=True).start()

    with tempfile.TemporaryDirectory(prefix="driftwatch-soak-") as tmp:
        work = Path(tmp)
        (work / "repo" / "root").mkdir(parents=True)
        (work / "repo" / "root" / "main.tf").write_text("".join(TABLE % {"i": i} for i in range(args.tables)))
        for i in range(args.tables):
            name = f"soak-{i:03d}"
            dynamodb.create_table(
                TableName=name,
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
                Tags=[{"Key": "Team", "Value": "soak"}],
            )
            dynamodb.update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )
        port = free_port()
        (work / "driftwatch.yaml").write_text(
            f"repo: {work / 'repo'}\n"
            f"targets:\n  - {{name: soak, root: root, region: {REGION}}}\n"
            "schedule: {interval: 1s, jitter: 0s}\n"
            f"http: {{host: 127.0.0.1, port: {port}}}\n"
            f"state: {{path: {work / 'state.db'}}}\n"
            "slack: {webhook_url_env: SOAK_SLACK_URL}\n"
        )
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL": endpoint,
            "SOAK_SLACK_URL": f"http://127.0.0.1:{slack.server_port}/services/T0/B0/soak",
            "PYTHONPATH": str(REPO_ROOT),
        }
        log = (work / "daemon.log").open("wb")
        daemon = subprocess.Popen(
            [
                sys.executable,
                "-c",
                WRAPPER,
                "run",
                "--config",
                str(work / "driftwatch.yaml"),
                "--log-level",
                "WARNING",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started = time.monotonic()
        samples: list[Sample] = []
        changes = 0
        try:
            metrics_url = f"http://127.0.0.1:{port}/metrics"
            while True:
                if daemon.poll() is not None:
                    print(f"soak: the daemon exited with {daemon.returncode}", file=sys.stderr)
                    return 1
                now = sample(daemon.pid, metrics_url, started)
                if now is not None:
                    samples.append(now)
                    if now.scans >= args.cycles:
                        break
                # Someone in the console: a tag and PITR on one random table, every few seconds.
                if random.random() < 0.35:
                    name = f"soak-{random.randrange(args.tables):03d}"
                    arn = dynamodb.describe_table(TableName=name)["Table"]["TableArn"]
                    tags = dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"]
                    if any(t["Key"] == "Soak" for t in tags):
                        dynamodb.untag_resource(ResourceArn=arn, TagKeys=["Soak"])
                    else:
                        dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": "Soak", "Value": str(changes)}])
                    backups = dynamodb.describe_continuous_backups(TableName=name)
                    enabled = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
                    dynamodb.update_continuous_backups(
                        TableName=name,
                        PointInTimeRecoverySpecification={
                            "PointInTimeRecoveryEnabled": enabled["PointInTimeRecoveryStatus"] != "ENABLED"
                        },
                    )
                    changes += 1
                time.sleep(1.0)
        finally:
            daemon.send_signal(signal.SIGTERM)
            try:
                code = daemon.wait(timeout=60)
            except subprocess.TimeoutExpired:
                daemon.kill()
                code = -9
            log.close()
            slack.shutdown()

        baseline = next((s for s in samples if s.scans >= args.warm_up), samples[0])
        end = samples[-1]
        peak = max(samples, key=lambda s: s.rss)
        growth = (end.rss - baseline.rss) / baseline.rss
        verdict = {
            "rss": growth <= args.rss_growth,
            "fds": end.fds <= baseline.fds,
            "threads": end.threads <= baseline.threads,
            "clean exit": code == 0,
        }
        print(
            f"# soak: {end.scans} scans of {args.tables} tables in {end.at:.0f} s, "
            f"{changes} console changes, {SlackStub.posts} Slack posts ({SlackStub.failures} answered 500)"
        )
        print(f"{'':22}{'after warm-up':>16}{'end':>12}{'peak':>12}")
        print(f"{'scans':22}{baseline.scans:>16}{end.scans:>12}{'':>12}")
        print(
            f"{'RSS (MiB)':22}{baseline.rss / 2**20:>16.1f}{end.rss / 2**20:>12.1f}{peak.rss / 2**20:>12.1f}"
            f"   growth {growth:+.1%} (allowed {args.rss_growth:+.0%})"
        )
        print(f"{'open fds':22}{baseline.fds:>16}{end.fds:>12}{max(s.fds for s in samples):>12}")
        print(f"{'threads':22}{baseline.threads:>16}{end.threads:>12}{max(s.threads for s in samples):>12}")
        print(f"{'exit code (SIGTERM)':22}{code:>16}")
        failed = [name for name, ok in verdict.items() if not ok]
        print("# verdict:", "flat" if not failed else "GREW: " + ", ".join(failed))
        if args.json:
            Path(args.json).write_text(
                json.dumps(
                    {"samples": [s.__dict__ for s in samples], "verdict": verdict, "growth": growth}, indent=2
                )
            )
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
