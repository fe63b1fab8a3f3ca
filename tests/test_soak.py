"""A short soak: many scan cycles of the daemon in-process against the embedded AWS, with drift
appearing and going and Slack answering, and memory, file descriptors and threads stay flat.

The cycles run ``Daemon.scan_once`` directly (the scheduler adds nothing that leaks), so the
test is quick; ``benchmarks/soak.py`` is the long run against a real daemon process. Figures
are compared after a warm-up (caches, connection pools, lazily imported modules), and the
assertion is on growth, never on time.
"""

from __future__ import annotations

import gc
import os
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from driftwatch.config import parse_config
from driftwatch.daemon import Daemon
from driftwatch.demo.provision import create_table
from driftwatch.notify import slack as slack_module
from driftwatch.scan import declare
from driftwatch.terraform.modules import TargetInput
from driftwatch.terraform.parse import ParseCache
from tests.ports import free_port

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
REGION = "us-east-1"
WARM_UP = 12
CYCLES = 60
WEBHOOK_PATH = "/services/T0SOAK/B0SOAK/soak-secret"


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def fd_targets() -> dict[str, str]:
    """Each open descriptor and what it is (a socket, a pipe, a file): what a failure names."""
    found = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            found[fd] = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # closed between the listing and the readlink
            continue
    return found


def settled_figures(fds_before: int, seconds: float = 2.0) -> dict[str, int]:
    """figures() once the descriptors of other threads in this process settle: in a full run a
    test server or client left by an earlier test of the same worker may hold a connection for a
    moment. A leak of the daemon's grows with every cycle and does not settle."""
    deadline = time.monotonic() + seconds
    while open_fds() > fds_before and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.1)
    return figures()


def figures() -> dict[str, int]:
    gc.collect()
    return {"rss": rss_bytes(), "fds": open_fds(), "threads": threading.active_count()}


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_many_scan_cycles_keep_memory_fds_and_threads_flat(
    tmp_path: Path, embedded_aws: None, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(slack_module, "BACKOFF_BASE", 0.0)  # a 500 is retried on the next cycle
    targets = [
        TargetInput(name=e, repo=EXAMPLES, root=EXAMPLES / "envs" / e, var_files=(f"{e}.tfvars",), env={})
        for e in ("prod", "staging")
    ]
    for job in declare(targets, ParseCache()).jobs:
        create_table(
            boto3.client("dynamodb", region_name=REGION),
            boto3.client("application-autoscaling", region_name=REGION),
            job.table.spec,
        )
    posts: list[int] = []

    def slack(request: Request) -> Response:
        posts.append(len(request.get_data()))
        return Response("ok", status=500 if len(posts) % 4 == 0 else 200)  # some retries too

    httpserver.expect_request(WEBHOOK_PATH, method="POST").respond_with_handler(slack)
    port = free_port()
    config = parse_config(
        {
            "repo": str(EXAMPLES),
            "targets": [
                {"name": e, "root": f"envs/{e}", "var_files": [f"{e}.tfvars"], "region": REGION}
                for e in ("prod", "staging")
            ],
            "http": {"host": "127.0.0.1", "port": port},
            "state": {"path": str(tmp_path / "soak.db")},
            "slack": {"webhook_url_env": "SOAK_SLACK_URL"},
        }
    )
    daemon = Daemon(config, EXAMPLES, environ={"SOAK_SLACK_URL": httpserver.url_for(WEBHOOK_PATH)})
    dynamodb = boto3.client("dynamodb", region_name=REGION)

    def console(cycle: int) -> None:
        """Drift comes and goes: PITR off/on, and a tag added/removed, on alternating cycles."""
        if cycle % 6 == 0:
            enabled = (cycle // 6) % 2 == 0
            dynamodb.update_continuous_backups(
                TableName="acme-prod-orders",
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": not enabled},
            )
        if cycle % 10 == 5:
            arn = dynamodb.describe_table(TableName="acme-staging-orders")["Table"]["TableArn"]
            if (cycle // 10) % 2 == 0:
                dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": "Soak", "Value": str(cycle)}])
            else:
                dynamodb.untag_resource(ResourceArn=arn, TagKeys=["Soak"])

    def scrape() -> None:  # what Prometheus and the kubelet do between scans
        for path in ("/metrics", "/healthz", "/readyz"):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5).read()
            except urllib.error.HTTPError as error:  # /healthz is 503: no scheduler runs here
                error.read()
                error.close()

    reports: list[Any] = []
    daemon.endpoint.start()
    try:
        for cycle in range(WARM_UP):
            console(cycle)
            reports.append(daemon.scan_once())
            scrape()
        before, fds_before = figures(), fd_targets()
        for cycle in range(WARM_UP, WARM_UP + CYCLES):
            console(cycle)
            reports.append(daemon.scan_once())
            scrape()
        after = settled_figures(before["fds"])
        new_fds = {fd: what for fd, what in fd_targets().items() if fds_before.get(fd) != what}
    finally:
        daemon.endpoint.stop()
        daemon.history.close()

    assert all(r is not None and not r.errors for r in reports)
    assert len(posts) >= 10  # transitions did flow to Slack
    growth = (after["rss"] - before["rss"]) / before["rss"]
    print(
        f"{CYCLES} cycles after {WARM_UP} warm-up: RSS {before['rss'] >> 20} -> {after['rss'] >> 20} MiB "
        f"({growth:+.1%}), fds {before['fds']} -> {after['fds']}, threads {before['threads']} -> "
        f"{after['threads']}, {len(posts)} Slack posts"
    )
    assert after["fds"] <= before["fds"], new_fds
    assert after["threads"] <= before["threads"]
    assert growth < 0.15
