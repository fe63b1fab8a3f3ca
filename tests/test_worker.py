"""The evaluation worker: whatever one target's evaluation does, it is that target's error.

The misbehaving evaluation functions are in tests/worker_hooks.py; the worker runs them as it
runs ``declare_target``. Each test that kills the worker pays for one restart (~0.5 s).
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from driftwatch.scan import declare
from driftwatch.terraform.modules import TargetInput, declare_target
from driftwatch.terraform.parse import ParseCache
from driftwatch.terraform.worker import Failure, InProcessEvaluator, WorkerEvaluator, WorkerOptions
from tests import worker_hooks as hooks

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
MAX_MEMORY = 256 * 1024**2
R = TypeVar("R")
# The shared worker's parse.max_seconds: only a hang reaches it. It was 1.5 s, the limit of every
# declaration of the module: a cold worker parsing the examples on a loaded machine (load 5-7
# on 2 cores) can take that long, and the declaration then fails "took longer than 1.5 s".
MAX_SECONDS = 60
SHORT_SECONDS = 1.5  # the one test that waits for a timeout has its own worker with this


def _target(name: str = "prod") -> TargetInput:
    return TargetInput(
        name=name,
        repo=EXAMPLES,
        root=EXAMPLES / "envs" / "prod",
        var_files=("prod.tfvars",),
        region="us-east-1",
        env={},
    )


@pytest.fixture(scope="module")
def worker() -> Iterator[WorkerEvaluator]:
    evaluator = WorkerEvaluator(WorkerOptions(max_seconds=MAX_SECONDS, max_memory=MAX_MEMORY))
    yield evaluator
    evaluator.close()


def _within(seconds: float, work: Callable[[], R]) -> R:
    """``work()``, failing the test if it has not returned within ``seconds`` (a bound on a
    hang, far above what the work takes: never a measure of speed)."""
    outcome: list[R] = []
    thread = threading.Thread(target=lambda: outcome.append(work()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"still running after {seconds} s"
    return outcome[0]


def test_the_worker_declares_what_the_process_declares(worker: WorkerEvaluator) -> None:
    in_process = InProcessEvaluator().declare(_target())
    assert worker.declare(_target()) == in_process
    assert in_process.tables and not in_process.errors


def test_a_warm_worker_keeps_its_parse_cache(worker: WorkerEvaluator) -> None:
    worker.declare(_target())
    parsed = worker.call(hooks.cached_files, _target())
    worker.declare(_target())
    assert worker.call(hooks.cached_files, _target()) == parsed  # nothing parsed again


@pytest.mark.parametrize("evaluator", ["worker", "in_process"])
def test_any_exception_is_the_targets_error(evaluator: str, worker: WorkerEvaluator) -> None:
    chosen = worker if evaluator == "worker" else InProcessEvaluator()
    declared = chosen.declare(_target(), hooks.overflow)
    (error,) = declared.errors
    assert error.target == "prod" and not declared.tables
    assert error.message == (
        "the target could not be evaluated (OverflowError: integer division result too large for a float)"
    )


def test_each_evaluation_runs_under_cpu_and_memory_limits(
    worker: WorkerEvaluator, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = worker.call(hooks.limits, _target())
    assert not isinstance(seen, Failure)
    assert seen["cpu"] <= seen["cpu_used"] + MAX_SECONDS + 3
    assert seen["held"] < seen["as"] <= seen["held"] + MAX_MEMORY
    # The kernel's OOM killer (a container at its memory limit) takes the worker before the
    # daemon: a dead worker is one target's error and is replaced; a dead daemon is a pod restart.
    # At most the kernel's 1000: a runner already near it (a BestEffort pod: 1000) is no failure.
    parent = int(Path("/proc/self/oom_score_adj").read_text())
    assert int(seen["oom_score_adj"]) == min(1000, parent + 500)


def test_the_worker_gets_no_aws_keys_or_webhooks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-for-the-worker")
    monkeypatch.setenv("DRIFTWATCH_SLACK_WEBHOOK_URL", "https://hooks.slack.invalid/x")
    evaluator = WorkerEvaluator(WorkerOptions(max_seconds=10))
    try:
        seen = evaluator.call(hooks.limits, _target())
    finally:
        evaluator.close()
    assert not isinstance(seen, Failure)
    assert "AWS_SECRET_ACCESS_KEY" not in seen["env"] and "DRIFTWATCH_SLACK_WEBHOOK_URL" not in seen["env"]


def test_a_slow_worker_start_is_not_counted_against_the_evaluation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """parse.max_seconds bounds what the repository makes the worker do, not the worker's own
    start: on a loaded node (or under a small CPU limit) a start may take seconds, and counted
    in, it failed a quick evaluation as "took longer than ... and was stopped" (seen in a full
    run at load 6, on the test below). Here every worker start sleeps past the limit."""
    (tmp_path / "sitecustomize.py").write_text(f"import time\ntime.sleep({SHORT_SECONDS + 0.5})\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    worker = WorkerEvaluator(WorkerOptions(max_seconds=SHORT_SECONDS, max_memory=MAX_MEMORY))
    try:
        seen = worker.call(hooks.limits, _target())
        assert not isinstance(seen, Failure), seen
        assert worker.stops()["timeout"] == 0
    finally:
        worker.close()


def test_an_evaluation_that_never_ends_is_stopped_and_the_worker_replaced() -> None:
    """sleep_forever sleeps an hour: the worker is stopped at parse.max_seconds (never before;
    a bound of 60 s fails the test if it is not stopped at all, with no stopwatch on how soon),
    and a new worker answers the next call. Its own worker: a short max_seconds there would be
    every other test's limit too (the replacement is checked with a call, not a declaration,
    for the same reason: a cold parse of the examples may take longer than 1.5 s)."""
    worker = WorkerEvaluator(WorkerOptions(max_seconds=SHORT_SECONDS, max_memory=MAX_MEMORY))
    try:
        stops = worker.stops()
        first = worker.call(hooks.limits, _target())
        started = time.monotonic()
        declared = _within(60, lambda: worker.declare(_target(), hooks.sleep_forever))
        assert time.monotonic() - started >= SHORT_SECONDS
        (error,) = declared.errors
        assert "took longer than 1.5 s (parse.max_seconds) and was stopped" in error.message
        after = worker.call(hooks.limits, _target())
        assert not isinstance(first, Failure) and not isinstance(after, Failure)
        assert after["pid"] != first["pid"]
        assert worker.stops() == {**stops, "timeout": stops["timeout"] + 1}  # what /metrics shows
    finally:
        worker.close()


def test_running_out_of_memory_is_the_targets_error(worker: WorkerEvaluator) -> None:
    stops = worker.stops()
    (error,) = worker.declare(_target(), hooks.allocate).errors
    assert "ran out of memory (parse.max_memory)" in error.message
    assert worker.declare(_target()).tables  # a fresh worker
    assert worker.stops() == {**stops, "memory": stops["memory"] + 1}


def test_a_worker_that_dies_is_the_targets_error(worker: WorkerEvaluator) -> None:
    stops = worker.stops()
    (error,) = worker.declare(_target(), hooks.segfault).errors
    assert "the evaluation worker died of SIGSEGV" in error.message
    assert worker.declare(_target()).tables
    assert worker.stops() == {**stops, "died": stops["died"] + 1}


def test_a_target_that_is_only_an_error_stops_no_worker(worker: WorkerEvaluator) -> None:
    stops = worker.stops()
    assert set(stops) == {"timeout", "died", "memory", "reply"}  # every reason, from 0
    (error,) = worker.declare(_target(), hooks.overflow).errors
    assert "OverflowError" in error.message
    assert worker.stops() == stops


def test_a_reply_naming_a_foreign_class_is_refused(worker: WorkerEvaluator) -> None:
    outcome = worker.call(hooks.foreign_class, _target())
    assert isinstance(outcome, Failure)
    assert "may not name collections.Counter" in outcome.message


def test_close_stops_an_evaluation_in_progress_at_once() -> None:
    evaluator = WorkerEvaluator(WorkerOptions(max_seconds=60))
    evaluator.call(hooks.limits, _target())  # started and warm
    threading.Timer(0.3, evaluator.close).start()
    # Had close() not stopped it, the evaluation would end only at max_seconds, and say so.
    (error,) = _within(30, lambda: evaluator.declare(_target(), hooks.sleep_forever).errors)
    assert "shutting down" in error.message
    assert "shutting down" in evaluator.declare(_target()).errors[0].message


def test_declare_isolates_targets(worker: WorkerEvaluator) -> None:
    """One target failing leaves the next one declared (scan.declare over the worker)."""
    broken = TargetInput(name="broken", repo=EXAMPLES, root=EXAMPLES / "nowhere", env={})
    declared = declare([broken, _target()], worker)
    assert {job.target for job in declared.jobs} == {"prod"}
    assert [error.target for error in declared.errors] == ["broken"]


def test_a_partial_of_a_module_function_is_a_valid_entry_point(worker: WorkerEvaluator) -> None:
    """The entry point is generic: another revision or view is another picklable callable."""
    declared = worker.declare(_target(), functools.partial(declare_target))
    assert declared == InProcessEvaluator(ParseCache()).declare(_target())


def test_an_unchanged_rescan_is_not_sent_again_and_callers_get_their_own_lists(
    worker: WorkerEvaluator,
) -> None:
    first = worker.declare(_target())
    first.tables.clear()  # a caller changing what it got
    again = worker.declare(_target())
    assert again.tables and again == worker.declare(_target())
    assert again.tables is not worker.declare(_target()).tables


def test_the_config_keys_set_the_workers_limits() -> None:
    from driftwatch.config import parse_config

    config = parse_config(
        {"targets": [{"name": "a", "root": "."}], "parse": {"max_seconds": 5, "max_memory": "1GiB"}}
    )
    options = config.parse.worker_options()
    assert (options.max_seconds, options.max_memory) == (5.0, 1024**3)
    assert options.cache["max_file_tokens"] == config.parse.max_file_tokens


def test_a_same_reply_the_parent_cannot_match_is_asked_again_in_full(worker: WorkerEvaluator) -> None:
    expected = worker.declare(_target())
    worker._last.clear()  # as if the parent had evicted what the worker still refers to
    assert worker.declare(_target()) == expected


def test_an_exception_quoting_invalid_text_is_reported_safely() -> None:
    from driftwatch.terraform.worker import describe

    failure = describe(ValueError("bad \ud800 " + "x" * 1000))
    assert "\\ud800" in failure.message and len(failure.message) < 400
    failure.message.encode("utf-8")
