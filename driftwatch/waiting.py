"""Waits of the main thread that a signal can end.

The kernel may hand a process' SIGTERM or SIGINT to any of its threads. Python then only sets
a flag, and runs the handler (or raises ``KeyboardInterrupt``) when the main thread next wakes.
A main thread blocked in ``Event.wait()`` or ``Thread.join()`` without a timeout never wakes:
the daemon ignored such a SIGTERM until the kubelet's SIGKILL, and a one-shot scan ignored a
Ctrl-C while it waited for an evaluation or the autoscaling listing. Every wait the main
thread makes for another thread therefore wakes at least every ``SIGNAL_POLL_SECONDS``.
"""

from __future__ import annotations

import threading

# How soon the main thread notices a signal another thread received.
SIGNAL_POLL_SECONDS = 0.2


def wait_for(event: threading.Event) -> None:
    """``event.wait()``, waking to let a pending signal's handler run."""
    while not event.wait(SIGNAL_POLL_SECONDS):
        pass


def join(thread: threading.Thread) -> None:
    """``thread.join()``, waking to let a pending signal's handler run."""
    while thread.is_alive():
        thread.join(SIGNAL_POLL_SECONDS)
