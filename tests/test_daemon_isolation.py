"""The daemon while one target's evaluation never ends (one C call holding the GIL for hours).

Two targets: ``prod`` has real drift (point-in-time recovery switched off in the console);
``hang`` makes the evaluation worker spin in an exponential regular expression (the hook in
tests/worker_hooks.py, standing in for any hostile input that loops inside C). The daemon
kills the worker after ``parse.max_seconds`` (1 s here) every scan: meanwhile /healthz,
/readyz and /metrics answer within 1 s, ``hang`` is an error, prod's drift reaches Slack, and
SIGTERM in the middle of an evaluation exits within ``--grace``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from pytest_httpserver import HTTPServer

from tests.test_daemon import (
    EXAMPLES,
    FAKE_AWS,
    REGION,
    client,
    drift_series,
    free_port,
    http_get,
    moto_server,
    provision_examples,
    wait_for,
)

__all__ = ["moto_server"]  # the fixture, used by name

REPO_ROOT = Path(__file__).resolve().parents[1]
GRACE = 3.0
# The daemon, with its evaluation worker running the hook that hangs on the target "hang".
LAUNCHER = """
import sys
import driftwatch.daemon
from driftwatch.terraform.worker import WorkerEvaluator
from tests.worker_hooks import hang_if_named_hang

driftwatch.daemon.shared_worker = lambda options: WorkerEvaluator(options, evaluate=hang_if_named_hang)
from driftwatch.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _timed_get(url: str) -> tuple[int, str, float]:
    started = time.monotonic()
    status, body = http_get(url)
    return status, body, time.monotonic() - started


def _hang_errors(metrics_text: str) -> float:
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == "driftwatch_scan_errors" and sample.labels.get("target") == "hang":
                return float(sample.value)
    return 0.0


def _worker_restarts(metrics_text: str) -> dict[str, float]:
    return {
        sample.labels["reason"]: sample.value
        for family in text_string_to_metric_families(metrics_text)
        for sample in family.samples
        if sample.name == "driftwatch_evaluation_worker_restarts_total"
    }


def test_a_target_that_never_finishes_evaluating_stops_nothing_else(
    tmp_path: Path, moto_server: str, httpserver: HTTPServer
) -> None:
    provision_examples(moto_server)
    client("dynamodb", moto_server).update_continuous_backups(
        TableName="acme-prod-mimir-index",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False},
    )
    received: list[dict[str, Any]] = []

    def slack_handler(request: Any) -> Any:
        from werkzeug import Response

        received.append(json.loads(request.get_data()))
        return Response("ok", status=200)

    httpserver.expect_request("/hook", method="POST").respond_with_handler(slack_handler)
    port = free_port()
    config = tmp_path / "driftwatch.yaml"
    config.write_text(
        f"""
repo: {EXAMPLES}
targets:
  - {{name: hang, root: envs/staging, var_files: [staging.tfvars], region: {REGION}}}
  - {{name: prod, root: envs/prod, var_files: [prod.tfvars], region: {REGION}}}
schedule: {{interval: 2s, jitter: 0s}}
http: {{host: 127.0.0.1, port: {port}}}
state: {{path: {tmp_path / "state.db"}}}
slack: {{webhook_url_env: TEST_SLACK_URL}}
parse: {{max_seconds: 1}}
"""
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        **FAKE_AWS,
        "AWS_ENDPOINT_URL": moto_server,
        "TEST_SLACK_URL": httpserver.url_for("/hook"),
        "PYTHONPATH": str(REPO_ROOT),
    }
    log_path = tmp_path / "daemon.log"
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, "run", "--config", str(config), "--log-format", "json",
             "--grace", str(GRACE)],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(lambda: http_get(f"{base}/readyz")[0] == 200, 60, "/readyz")
            # Prod's drift is recorded and alerted although "hang" never finishes evaluating.
            wait_for(lambda: received, 20, "the Slack message about prod")
            assert "acme-prod-mimir-index" in json.dumps(received[0])
            status, metrics_text, _ = _timed_get(f"{base}/metrics")
            assert drift_series(metrics_text) == {("acme-prod-mimir-index", "point_in_time_recovery")}
            assert _hang_errors(metrics_text) >= 1
            restarts = _worker_restarts(metrics_text)
            assert restarts["timeout"] >= 1  # one per scan: the worker is killed every time
            assert {reason: n for reason, n in restarts.items() if reason != "timeout"} == {
                "died": 0,
                "memory": 0,
                "reply": 0,
            }
            # Scans go on, each spending 1 s in the hanging evaluation: the endpoint answers
            # promptly throughout.
            slowest = 0.0
            for _ in range(12):
                for path in ("/healthz", "/readyz", "/metrics"):
                    status, _, took = _timed_get(f"{base}{path}")
                    assert status == 200, path
                    slowest = max(slowest, took)
                time.sleep(0.15)
            assert slowest < 1.0
        finally:
            # SIGTERM (most likely during an evaluation: it fills half of every 2 s interval).
            process.send_signal(signal.SIGTERM)
            try:
                # Had shutdown waited for the evaluation (it never ends), this would raise. No
                # stopwatch on how soon within the bound: took < GRACE + 2 would time a loaded machine.
                code = process.wait(timeout=GRACE + 10)
            except subprocess.TimeoutExpired:
                process.kill()
                raise
    log_text = log_path.read_text()
    assert code == 0, log_text[-3000:]
    events = [json.loads(line) for line in log_text.splitlines() if line.startswith("{")]
    assert any(e.get("event") == "target_evaluation_killed" and e.get("target") == "hang" for e in events)
    assert "Traceback" not in log_text
