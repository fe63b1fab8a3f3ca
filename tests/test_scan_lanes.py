"""Per-region (per account and region) concurrency: ``run_bounded``'s lanes, and the scan using them.

AWS throttles control-plane calls per account and region, so the scan bounds the calls in flight
per (region, role) -- ``aws.concurrency`` each -- while regions proceed side by side.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from realestate import provision, run_scan, table_tf, target, write_repo
from test_accounts_regions import add_botocore_handler

from driftwatch.aws.clients import AwsClients
from driftwatch.scan import UNFINISHED, Deadline, run_bounded
from driftwatch.spec import TableStatus


class InFlight:
    """Counts tasks running at once, per lane and in total, and remembers the peaks."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.now: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        self.total_peak = 0

    def enter(self, lane: str) -> None:
        with self.changed:
            self.now[lane] += 1
            self.peak[lane] = max(self.peak[lane], self.now[lane])
            self.total_peak = max(self.total_peak, sum(self.now.values()))
            self.changed.notify_all()

    def leave(self, lane: str) -> None:
        with self.changed:
            self.now[lane] -= 1
            self.changed.notify_all()


def test_each_lane_has_its_own_bound_and_a_blocked_lane_does_not_hold_another() -> None:
    gate = threading.Event()
    flight = InFlight()
    finished: list[str] = []

    def task(lane: str, number: int) -> str:
        flight.enter(lane)
        if lane == "a":
            gate.wait(timeout=10)
        flight.leave(lane)
        finished.append(lane)
        return f"{lane}{number}"

    lanes = ["a"] * 5 + ["b"] * 3
    tasks = [lambda lane=lane, n=n: task(lane, n) for n, lane in enumerate(lanes)]
    results: list[Any] = []
    runner = threading.Thread(
        target=lambda: results.extend(run_bounded(tasks, workers=2, lanes=lanes, deadline=Deadline(30)))
    )
    runner.start()
    with flight.changed:
        # lane b finishes all its tasks while lane a is saturated and blocked
        assert flight.changed.wait_for(lambda: finished.count("b") == 3, timeout=10)
        assert flight.now["a"] == 2  # a's other three wait for one of its own workers
    gate.set()
    runner.join(timeout=10)
    assert results == ["a0", "a1", "a2", "a3", "a4", "b5", "b6", "b7"]
    assert flight.peak["a"] == 2 and 1 <= flight.peak["b"] <= 2


def test_without_lanes_all_tasks_share_one_bound() -> None:
    flight = InFlight()

    def task(number: int) -> int:
        flight.enter(str(number % 3))
        time.sleep(0.01)
        flight.leave(str(number % 3))
        return number

    results = run_bounded([lambda n=n: task(n) for n in range(12)], workers=2, deadline=Deadline(30))
    assert results == list(range(12))
    assert flight.total_peak == 2


def test_a_lane_stuck_past_the_deadline_loses_only_its_own_unread_tasks() -> None:
    """The deadline passes once the fast lane's results are in (its clock, not the wall's: a
    0.3 s wall deadline raced the fast lane on a loaded machine), and run_bounded returns while
    the stuck task still waits -- had it waited for it, the task would have returned "late"."""
    release = threading.Event()
    returned: list[str] = []

    def stuck() -> str:
        release.wait(timeout=10)
        returned.append("late")
        return "late"

    collected: list[int] = []
    deadline = Deadline(0.3, clock=lambda: 1.0 if len(collected) >= 2 else 0.0)
    lanes = ["slow", "slow", "fast", "fast"]
    tasks = [stuck, stuck, lambda: "f1", lambda: "f2"]
    try:
        results = run_bounded(
            tasks, workers=1, lanes=lanes, deadline=deadline, progress=lambda done, _: collected.append(done)
        )
        assert returned == []
    finally:
        release.set()
    assert results == [UNFINISHED, UNFINISHED, "f1", "f2"]


def test_lanes_must_match_the_tasks() -> None:
    with pytest.raises(ValueError, match="one lane per task"):
        run_bounded([lambda: 1, lambda: 2], workers=1, lanes=["a"], deadline=Deadline(5))


def test_a_scan_bounds_the_calls_in_flight_per_region_not_in_total(
    embedded_aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three regions, concurrency 2: never more than 2 DynamoDB calls at once in a region, and
    the regions are read side by side (more than 2 at once in total)."""
    regions = ("us-east-1", "eu-west-1", "ap-southeast-2")
    files = {
        f"envs/{region}/main.tf": "\n".join(table_tf(f"acme-t{n}") for n in range(4)) for region in regions
    }
    repo = write_repo(tmp_path / "repo", files)
    targets = [target(repo, region, f"envs/{region}", region=region) for region in regions]
    provision(targets)
    flight = InFlight()

    def before(request_signer: Any, **_: Any) -> None:
        flight.enter(request_signer.region_name)
        time.sleep(0.02)  # long enough for the workers to overlap

    def after(context: Any, **_: Any) -> None:
        flight.leave(context["client_region"])

    add_botocore_handler(monkeypatch, "before-call.dynamodb", before)
    add_botocore_handler(monkeypatch, "after-call.dynamodb", after)
    report = run_scan(targets, AwsClients(), concurrency=2)

    assert {row.status for row in report.tables} == {TableStatus.IN_SYNC}
    assert len(report.tables) == 12
    assert set(flight.peak) == set(regions)
    assert max(flight.peak.values()) == 2
    assert flight.total_peak > 2
