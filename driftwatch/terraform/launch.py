"""Starting the evaluation worker's process (driftwatch.terraform.worker), and one started
ahead of need.

A new worker costs a Python interpreter and the import of the evaluator (~0.2-0.3 s of CPU).
The one-shot CLI calls ``prestart()`` first thing, before it imports its configuration and
boto3, so that the worker's start-up runs on another core meanwhile; the worker is adopted,
whatever its options, by the first ``WorkerEvaluator`` that needs one (options are sent after
the start). Nothing here imports more than the standard library: it runs before everything
else.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import subprocess
import sys
import threading
import weakref
from multiprocessing.connection import Connection
from pathlib import Path

# Secrets of the parent that the evaluation never needs (a TargetInput carries its own env).
_SECRET_ENV = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ACCESS_KEY_ID")

Started = tuple["subprocess.Popen[bytes]", Connection]

_lock = threading.Lock()
_spare: list[tuple[Started, dict[str, str]]] = []  # with the environment it was started with
_running: weakref.WeakSet[subprocess.Popen[bytes]] = weakref.WeakSet()  # every worker launched here


def worker_env() -> dict[str, str]:
    """The worker's environment: the parent's, without AWS keys and webhook URLs, and with this
    driftwatch first on the path (the worker must run the same code as its parent)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _SECRET_ENV and "WEBHOOK" not in key.upper() and "SLACK" not in key.upper()
    }
    package = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package, env.get("PYTHONPATH")) if p)
    return env


def launch() -> Started:
    """A new worker process and the parent's end of its socket; raises OSError."""
    parent, child = socket.socketpair()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "driftwatch.terraform.worker", str(child.fileno())],
            pass_fds=(child.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            env=worker_env(),
            start_new_session=True,  # a terminal's Ctrl-C reaches the parent, which decides
        )
    except BaseException:
        parent.close()
        raise
    finally:
        child.close()
    _running.add(process)
    return process, Connection(parent.detach())


def prestart() -> None:
    """Start a worker now for the first evaluation to adopt, unless a worker of this process is
    running already (a command called again in one process reuses it). A failure here is left
    to that evaluation, which starts its own and reports why it could not."""
    with _lock:
        if _spare or any(process.poll() is None for process in list(_running)):
            return
        with contextlib.suppress(OSError):
            _spare.append((launch(), worker_env()))


def take() -> Started:
    """The worker started ahead of need if it is alive and was started with the environment a
    new one would get now, else a new one."""
    with _lock:
        spare = _spare.pop() if _spare else None
    if spare is not None:
        started, env = spare
        if started[0].poll() is None and env == worker_env():
            return started
        _discard(started)
    return launch()


def _discard(started: Started) -> None:
    process, conn = started
    conn.close()
    if process.poll() is None:
        with contextlib.suppress(OSError):
            process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=1)


@atexit.register
def _discard_spare() -> None:
    with _lock:
        spares, _spare[:] = list(_spare), []
    for started, _ in spares:
        _discard(started)
