"""What a one-shot command costs before it does anything: the modules it imports and the
evaluation worker started ahead of need (benchmarks/oneshot.py measures the time; nothing
here is timed).

A one-shot ``driftwatch scan`` must not import what only the daemon, the demo or another
report format needs (moto, APScheduler, the HTTP server, Prometheus, Slack), nor what only the
evaluation worker needs (python-hcl2, lark, the evaluator): each is tens of milliseconds of
every CI run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from driftwatch.terraform import launch
from driftwatch.terraform.ahead import EvaluatedAhead
from driftwatch.terraform.modules import TargetDeclarations, TargetInput
from driftwatch.terraform.parse import ParseCache
from driftwatch.terraform.worker import InProcessEvaluator, WorkerEvaluator, WorkerOptions
from tests.ports import moto_server_url

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"

# Never needed by a one-shot command that does not use them (the daemon, the demo, Slack).
NEVER_ONE_SHOT = {"moto", "apscheduler", "slack_sdk", "prometheus_client", "http.server", "driftwatch.daemon"}
# Only the evaluation worker evaluates.
WORKER_ONLY = {"hcl2", "lark", "driftwatch.terraform.modules", "driftwatch.terraform.evaluate"}


def _modules_after(code: str, env: dict[str, str] | None = None, cwd: Path = REPO) -> set[str]:
    """sys.modules of a fresh interpreter after ``code`` (which may print before the marker)."""
    script = f"{code}\nimport json, sys\nprint('MODULES ' + json.dumps(sorted(sys.modules)))\n"
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    marker = [line for line in result.stdout.splitlines() if line.startswith("MODULES ")]
    assert marker, result.stdout[-2000:] + result.stderr[-2000:]
    return set(json.loads(marker[-1][len("MODULES ") :]))


def _imported(modules: set[str], names: set[str]) -> set[str]:
    """Which of ``names`` (packages or modules) were imported."""
    return {name for name in names if any(m == name or m.startswith(name + ".") for m in modules)}


def test_importing_the_cli_imports_no_library_a_command_may_not_need() -> None:
    modules = _modules_after("import driftwatch.cli")
    heavy = NEVER_ONE_SHOT | WORKER_ONLY | {"boto3", "botocore", "pydantic", "yaml", "structlog", "rich"}
    assert _imported(modules, heavy) == set()
    assert "driftwatch.cli" in modules


@pytest.fixture
def moto_endpoint() -> Iterator[str]:
    with moto_server_url() as url:
        yield url


def test_a_piped_json_scan_imports_neither_the_evaluator_nor_logging_nor_rich(
    moto_endpoint: str, tmp_path: Path
) -> None:
    """The whole scan, in a fresh process against moto's server: the report is complete, and
    the process never imported the evaluator (its worker did), structlog (nothing was logged),
    rich (the report is JSON), nor anything of the daemon."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DRIFTWATCH_"))}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="us-east-1",
        AWS_ENDPOINT_URL=moto_endpoint,
        PYTHONPATH=str(REPO),
    )
    report = tmp_path / "report.json"
    argv = ["scan", "--config", "config/driftwatch.yaml", "--format", "json", "-o", str(report)]
    modules = _modules_after(f"from driftwatch.cli import main\nprint('EXIT', main({argv!r}))", env)
    summary = json.loads(report.read_text())["summary"]
    # Nothing was created in moto: every declared table is missing (read, not skipped).
    assert summary["tables"] == summary["missing"] > 0
    assert summary["error"] == 0
    assert "driftwatch.scan" in modules and "boto3" in modules
    assert _imported(modules, NEVER_ONE_SHOT | WORKER_ONLY | {"structlog", "rich"}) == set()


def test_logging_before_structlog_is_needed(tmp_path: Path) -> None:
    """Loggers import structlog on their first event that is shown; an event below the level
    is dropped without it, and a shown one keeps its bound context and its redaction."""
    code = (
        "import io, sys\n"
        "from driftwatch import log\n"
        "stream = io.StringIO()\n"
        "log.configure(json_output=True, level='WARNING', stream=stream)\n"
        "logger = log.get_logger('driftwatch.test').bind(table='orders')\n"
        "logger.info('not_shown')\n"
        "print('BEFORE', 'structlog' in sys.modules)\n"
        "logger.warning('shown', api_token='hunter2')\n"
        "print('EVENT', stream.getvalue().strip())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60, check=True
    )
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert lines["BEFORE"] == "False"
    event = json.loads(lines["EVENT"])
    assert event["event"] == "shown" and event["table"] == "orders" and event["level"] == "warning"
    assert event["api_token"] != "hunter2"
    assert "not_shown" not in result.stdout


def _target(name: str = "prod") -> TargetInput:
    return TargetInput(
        name=name,
        repo=EXAMPLES,
        root=EXAMPLES / "envs" / name,
        var_files=(f"{name}.tfvars",),
        region="us-east-1",
        env={},
    )


@pytest.fixture
def no_running_workers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This test's view of the workers launched so far: none (other tests' workers in this
    process would make prestart() wait for them to be reused)."""
    monkeypatch.setattr(launch, "_running", weakref.WeakSet())
    monkeypatch.setattr(launch, "_spare", [])
    yield
    launch._discard_spare()


def test_the_worker_started_ahead_evaluates_the_first_target(no_running_workers: None) -> None:
    launch.prestart()
    assert len(launch._spare) == 1
    spare = launch._spare[0][0][0]
    evaluator = WorkerEvaluator(WorkerOptions(max_seconds=30))
    try:
        declared = evaluator.declare(_target())
        assert declared.errors == [] and len(declared.tables) > 0
        assert evaluator._process is spare and evaluator.starts == 1
        assert launch._spare == []
        launch.prestart()  # a worker of this process is running: it is reused, none is started
        assert launch._spare == []
    finally:
        evaluator.close()


def test_a_worker_started_with_another_environment_is_not_adopted(
    no_running_workers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    launch.prestart()
    spare = launch._spare[0][0][0]
    monkeypatch.setenv("DRIFTWATCH_TEST_CHANGED", "1")
    evaluator = WorkerEvaluator(WorkerOptions(max_seconds=30))
    try:
        assert evaluator.declare(_target()).errors == []
        assert evaluator._process is not spare
        assert spare.poll() is not None  # the stale one was stopped, not leaked
    finally:
        evaluator.close()


class _Counting(InProcessEvaluator):
    def __init__(self) -> None:
        super().__init__(ParseCache())
        self.declared: list[str] = []

    def declare(self, target: TargetInput, fn: object = None) -> TargetDeclarations:
        self.declared.append(target.name)
        return super().declare(target)


def test_targets_evaluated_ahead_are_evaluated_once_each() -> None:
    inner = _Counting()
    prod, staging = _target("prod"), _target("staging")
    ahead = EvaluatedAhead(inner, [prod, staging])
    first, second = ahead.declare(prod), ahead.declare(staging)
    assert sorted(inner.declared) == ["prod", "staging"]
    direct = InProcessEvaluator().declare(prod)
    assert {t.spec.name for t in first.tables} == {t.spec.name for t in direct.tables}
    assert second.tables and second.errors == []
    ahead.declare(prod)  # asked again: evaluated again, as without EvaluatedAhead
    assert sorted(inner.declared) == ["prod", "prod", "staging"]
