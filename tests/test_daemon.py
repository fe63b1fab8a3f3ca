"""The daemon as a user runs it: a subprocess against moto's server, Slack on a local server.

It becomes ready, /metrics shows the drift someone made in the console, Slack hears about it
once, fixing the table makes the series disappear and a resolved message arrive, and SIGTERM
ends it cleanly with exit code 0.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pytest_httpserver import HTTPServer

from driftwatch.demo import moto_patches
from driftwatch.demo.provision import create_table
from driftwatch.scan import declare
from driftwatch.terraform.modules import TargetInput
from driftwatch.terraform.parse import ParseCache
from tests.ports import free_port

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
REGION = "us-east-1"
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@pytest.fixture
def moto_server(moto_patches_undone: None) -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    moto_patches.apply()
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        yield endpoint
    finally:
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
        server.stop()


def client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def provision_examples(endpoint: str) -> None:
    targets = [
        TargetInput(name=e, repo=EXAMPLES, root=EXAMPLES / "envs" / e, var_files=(f"{e}.tfvars",), env={})
        for e in ("prod", "staging")
    ]
    for job in declare(targets, ParseCache()).jobs:
        create_table(
            client("dynamodb", endpoint), client("application-autoscaling", endpoint), job.table.spec
        )


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except (urllib.error.URLError, ConnectionError):  # not listening yet
        return 0, ""


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def drift_series(metrics_text: str) -> set[tuple[str, str]]:
    found = set()
    for family in text_string_to_metric_families(metrics_text):
        if family.name == "driftwatch_attribute_drift":
            for sample in family.samples:
                found.add((sample.labels["table"], sample.labels["attribute"]))
    return found


def test_daemon_end_to_end(tmp_path: Path, moto_server: str, httpserver: HTTPServer) -> None:
    provision_examples(moto_server)
    dynamodb = client("dynamodb", moto_server)
    dynamodb.update_continuous_backups(
        TableName="acme-prod-mimir-index",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False},
    )
    received: list[dict[str, Any]] = []

    def slack_handler(request: Any) -> Any:
        from werkzeug import Response

        received.append(json.loads(request.get_data()))
        return Response("ok", status=200)

    webhook_path = "/services/T000/B000/SECRETxyz"
    httpserver.expect_request(webhook_path, method="POST").respond_with_handler(slack_handler)
    port = free_port()
    config = tmp_path / "driftwatch.yaml"
    config.write_text(
        f"""
repo: {EXAMPLES}
targets:
  - {{name: prod, root: envs/prod, var_files: [prod.tfvars], region: {REGION}}}
  - {{name: staging, root: envs/staging, var_files: [staging.tfvars], region: {REGION}}}
schedule: {{interval: 2s, jitter: 0s}}
http: {{host: 127.0.0.1, port: {port}}}
state: {{path: {tmp_path / "state.db"}}}
slack: {{webhook_url_env: TEST_SLACK_URL}}
"""
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        **FAKE_AWS,
        "AWS_ENDPOINT_URL": moto_server,
        "TEST_SLACK_URL": httpserver.url_for(webhook_path),
    }
    log_file = (tmp_path / "daemon.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "driftwatch", "run", "--config", str(config), "--log-format", "json"],
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: http_get(f"{base}/readyz")[0] == 200, 60, "/readyz")
        assert http_get(f"{base}/healthz")[0] == 200
        status, metrics_text = http_get(f"{base}/metrics")
        assert status == 200
        assert drift_series(metrics_text) == {("acme-prod-mimir-index", "point_in_time_recovery")}
        wait_for(lambda: received, 20, "the Slack message")
        first = json.dumps(received[0])
        assert "point_in_time_recovery" in first and "acme-prod-mimir-index" in first

        # The endpoint answers only GET/HEAD on its three paths.
        assert http_get(f"{base}/nothing")[0] == 404
        request = urllib.request.Request(f"{base}/metrics", data=b"x", method="POST")
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=5)
        assert caught.value.code == 405

        # Fixing the table: the series disappears and a resolved message arrives.
        dynamodb.update_continuous_backups(
            TableName="acme-prod-mimir-index",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
        wait_for(
            lambda: not drift_series(http_get(f"{base}/metrics")[1]), 30, "the drift series to disappear"
        )
        wait_for(lambda: len(received) >= 2, 30, "the resolved message")
        assert "resolved" in json.dumps(received[1]).lower()
        time.sleep(3)  # more scans with nothing new: no more messages
        assert len(received) == 2
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        log_file.close()
    log_text = (tmp_path / "daemon.log").read_text()
    assert code == 0, log_text[-3000:]
    assert "SECRETxyz" not in log_text
    events = [json.loads(line) for line in log_text.splitlines() if line.startswith("{")]
    finished = [e for e in events if e.get("event") == "scan_finished"]
    assert finished and all(e.get("scan_id") for e in finished)
    assert any(e.get("event") == "daemon_stopped" for e in events)
