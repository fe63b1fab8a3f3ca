"""The main thread's waits for other threads end when a signal arrives (driftwatch.waiting).

The kernel may hand a process' SIGINT or SIGTERM to any thread; Python runs the handler only
when the main thread wakes. Each test sends the signal to another thread on purpose while the
main thread waits in the code under test, with a handler that raises. A wait without a timeout
never wakes for it: the rescue thread then ends the wait after 15 s, and the test fails on
``rescued`` instead of hanging.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from driftwatch import waiting
from driftwatch.scan import _Background
from driftwatch.terraform.ahead import EvaluatedAhead
from driftwatch.terraform.target import TargetInput


class Interrupted(Exception):
    """What the test's SIGUSR1 handler raises in the main thread."""


@pytest.fixture
def raising_handler() -> Iterator[None]:
    def handler(_signum: int, _frame: Any) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGUSR1, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGUSR1, previous)


def interrupted_from_elsewhere(wait: Callable[[], None], release: threading.Event) -> bool:
    """Runs ``wait()`` in the main thread while another thread receives SIGUSR1.

    True when the handler's exception ended the wait; False when only the rescue (setting
    ``release`` after 15 s) did."""
    rescued = threading.Event()

    def deliver_elsewhere() -> None:
        # Give the main thread time to block in wait(); sent earlier, the exception is only
        # raised sooner (the test still passes), never missed.
        release.wait(0.5)
        signal.pthread_kill(threading.get_ident(), signal.SIGUSR1)  # to this thread, not main
        if not release.wait(15):
            rescued.set()
            release.set()

    sender = threading.Thread(target=deliver_elsewhere)
    try:
        sender.start()
        wait()
    except Interrupted:
        return not rescued.is_set()
    finally:
        release.set()
        sender.join(30)
    return False


@pytest.mark.usefixtures("raising_handler")
def test_waiting_for_an_event_ends_on_a_signal_another_thread_received() -> None:
    release = threading.Event()
    assert interrupted_from_elsewhere(lambda: waiting.wait_for(release), release)


@pytest.mark.usefixtures("raising_handler")
def test_joining_a_thread_ends_on_a_signal_another_thread_received() -> None:
    release = threading.Event()
    busy = threading.Thread(target=release.wait, daemon=True)
    busy.start()
    assert interrupted_from_elsewhere(lambda: waiting.join(busy), release)


@pytest.mark.usefixtures("raising_handler")
def test_the_scan_waiting_for_the_autoscaling_listing_can_be_interrupted() -> None:
    release = threading.Event()
    listing = _Background(lambda: release.wait())
    assert interrupted_from_elsewhere(listing.result, release)


@pytest.mark.usefixtures("raising_handler")
def test_the_scan_waiting_for_an_evaluation_begun_ahead_can_be_interrupted(tmp_path: Path) -> None:
    release = threading.Event()

    class SlowEvaluator:
        def declare(self, target: TargetInput, fn: Any = None) -> Any:
            release.wait()
            return None  # read as "ask again": the test never gets that far

        def call(self, fn: Any, target: TargetInput) -> Any:
            raise AssertionError("not used")

        def close(self) -> None:
            pass

    target = TargetInput(name="t", repo=tmp_path, root=tmp_path)
    ahead = EvaluatedAhead(SlowEvaluator(), [target])  # type: ignore[arg-type]
    assert interrupted_from_elsewhere(lambda: ahead.declare(target), release)


def test_a_wait_whose_thread_ends_returns_its_result() -> None:
    assert _Background(lambda: 42).result() == 42
