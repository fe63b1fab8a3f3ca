"""Evaluations started before the scan asks for them.

A one-shot scan evaluates its targets (in the worker process, driftwatch.terraform.worker)
before it can read a table, and it needs boto3, its clients and the scan's own modules only
after that. ``EvaluatedAhead`` sends the targets to the worker on a background thread as soon
as they are known; the CLI imports boto3 and builds its clients meanwhile (this thread only
waits on the worker's socket), and the scan's ``declare`` then takes each answer as it comes.
Each target is evaluated once, as before: the scan gets that very result.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TypeVar

from driftwatch.terraform.target import TargetDeclarations, TargetInput
from driftwatch.terraform.worker import Evaluator, Failure, TargetCall
from driftwatch.waiting import wait_for

T = TypeVar("T")


class _Slot:
    def __init__(self, target: TargetInput) -> None:
        self.target = target
        self.done = threading.Event()
        self.result: TargetDeclarations | None = None


class EvaluatedAhead:
    """The Evaluator contract over ``evaluator``, with ``targets`` already being declared."""

    def __init__(self, evaluator: Evaluator, targets: Sequence[TargetInput]) -> None:
        self.evaluator = evaluator
        slots = tuple(_Slot(target) for target in targets)
        self._waiting = list(slots)  # not asked for yet
        self._lock = threading.Lock()
        name = "driftwatch-evaluate-ahead"
        threading.Thread(target=self._run, args=(slots,), name=name, daemon=True).start()

    def _run(self, slots: Sequence[_Slot]) -> None:
        for slot in slots:
            try:
                slot.result = self.evaluator.declare(slot.target)
            except Exception:  # declare does not raise; should it, the scan's declare asks again
                slot.result = None
            finally:
                slot.done.set()

    def call(self, fn: TargetCall[T], target: TargetInput) -> T | Failure:
        return self.evaluator.call(fn, target)

    def declare(
        self, target: TargetInput, fn: TargetCall[TargetDeclarations] | None = None
    ) -> TargetDeclarations:
        if fn is None:
            with self._lock:
                slot = next((s for s in self._waiting if s.target is target), None)
                if slot is not None:
                    self._waiting.remove(slot)
            if slot is not None:
                wait_for(slot.done)  # the main thread, for up to parse.max_seconds
                if slot.result is not None:
                    return slot.result
        return self.evaluator.declare(target, fn)

    def close(self) -> None:
        self.evaluator.close()
