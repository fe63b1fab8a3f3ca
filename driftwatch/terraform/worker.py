"""Each target's evaluation in a separate, bounded worker process, kept warm between scans.

The evaluator's own limits (step budget, value sizes, nesting) are checked between Python
operations. One C call -- a regular expression, a big-number operation, a parse -- runs to its
end holding the GIL, and nothing in the same process can stop it: not the budget, not a thread
serving ``/healthz``, not SIGTERM. So the CLI and the daemon evaluate targets in a child
process, which the parent can always kill:

* **wall clock** -- the parent waits ``max_seconds`` for an answer, then kills the worker;
* **CPU** -- the worker sets ``RLIMIT_CPU`` to the CPU it has used plus ``max_seconds`` before
  each evaluation: a worker whose parent is gone (or stuck) still dies of SIGXCPU;
* **memory** -- the worker sets ``RLIMIT_AS`` to its current address space plus ``max_memory``
  before each evaluation: an allocation past it fails (MemoryError, or the worker dies), and
  that is the target's error;
* **the OOM killer** -- the worker raises its own ``oom_score_adj``, so a container at its memory
  limit loses the worker (one target's error, replaced), not the daemon;
* **everything else** -- any exception is caught in the worker and returned as the target's
  error; a worker that dies (a segfault in a C extension, a signal) is one too.

The worker is started once and kept: its ParseCache (with the declaration memo) lives there,
so a daemon's rescan of an unchanged checkout costs one round trip per target. A worker that
was killed, died or ran out of memory is replaced by a fresh one at the next evaluation.

The entry point is generic: ``call(fn, target)`` runs ``fn(target, cache)`` in the worker,
where ``fn`` is any picklable callable (a module-level function, or a ``functools.partial`` of
one) -- evaluating a target at another revision, or with module downloads, is another ``fn``.
Requests and replies are pickles over a socket pair: the worker evaluates untrusted
configuration but runs only driftwatch's code (there is no eval of repository content), and
each reply is bounded (``MAX_REPLY_BYTES``) before the parent reads it.

``InProcessEvaluator`` is the same contract without a process (tests of the pure evaluator,
tools): exceptions are still contained per target, but a C call cannot be interrupted.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import functools
import hashlib
import io
import os
import pickle
import resource
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Final, Protocol, TypeVar

from driftwatch.bounds import safe_text
from driftwatch.log import get_logger
from driftwatch.spec import TargetError
from driftwatch.terraform import launch
from driftwatch.terraform.parse import HclSyntaxError, ParseCache, cyclic_gc_paused
from driftwatch.terraform.target import TargetDeclarations, TargetInput
from driftwatch.terraform.vet import vet_declarations

log = get_logger(__name__)

T = TypeVar("T")
V = TypeVar("V")
TargetCall = Callable[[TargetInput, ParseCache], T]

# Sized from benchmarks/isolation.py (benchmarks/RESULTS.md): the 2,000-file benchmark
# repository (200 tables) evaluates cold in ~4-5 s of CPU and grows an idle worker (56 MiB of
# address space) by ~90 MiB; a file at the parse limits (100,000 tokens) peaks at ~200 MiB.
# The defaults leave >10x the time and 2.5x the largest legitimate file's memory, and keep the
# worker within the pod's memory limit beside the daemon (deploy/kubernetes).
DEFAULT_MAX_SECONDS: Final = 60.0
DEFAULT_MAX_MEMORY: Final = 512 * 1024 * 1024
MAX_REPLY_BYTES: Final = 64 * 1024 * 1024  # one target's pickled declarations
WORKER_STOP_REASONS: Final = ("timeout", "died", "memory", "reply")
START_TIMEOUT: Final = 60.0  # seconds for a new worker to import driftwatch and say it is ready


@dataclass(frozen=True)
class WorkerOptions:
    """How the worker bounds each evaluation, and the limits of its parse cache."""

    max_seconds: float = DEFAULT_MAX_SECONDS
    max_memory: int = DEFAULT_MAX_MEMORY
    cache: Mapping[str, int] = field(default_factory=dict)  # ParseCache keyword arguments

    def key(self) -> tuple[float, int, tuple[tuple[str, int], ...]]:
        return (self.max_seconds, self.max_memory, tuple(sorted(self.cache.items())))


@dataclass(frozen=True)
class Failure:
    """An evaluation that did not produce a value: the message (and place, where known) that
    becomes the target's error."""

    message: str
    file: str | None = None
    line: int | None = None

    def declarations(self, target: TargetInput) -> TargetDeclarations:
        return TargetDeclarations(errors=[TargetError(target.name, self.message, self.file, self.line)])


class Evaluator(Protocol):
    """Evaluates targets without ever raising for what a repository contains."""

    def call(self, fn: TargetCall[T], target: TargetInput) -> T | Failure: ...

    def declare(
        self, target: TargetInput, fn: TargetCall[TargetDeclarations] | None = None
    ) -> TargetDeclarations:
        """``fn`` (default: the evaluator's own, ``declare_target``) on ``target``, vetted;
        any failure is the target's error."""

    def close(self) -> None: ...


def declare_target(target: TargetInput, cache: ParseCache) -> TargetDeclarations:
    """driftwatch.terraform.modules.declare_target, imported where it runs. The process that
    only sends targets to the worker (the one-shot CLI) never imports the evaluator, python-hcl2
    or lark -- a third of its start-up -- while the worker imports them as it starts."""
    from driftwatch.terraform.modules import declare_target as declare

    return declare(target, cache)


def describe(error: BaseException) -> Failure:
    """An exception raised while evaluating a target, as that target's error."""
    if isinstance(error, HclSyntaxError):
        return Failure(safe_text(error.message), safe_text(error.file), error.line)
    if isinstance(error, MemoryError):
        return Failure("the evaluation ran out of memory (parse.max_memory); the target was not evaluated")
    if isinstance(error, RecursionError):
        return Failure("the configuration is nested too deeply to evaluate; the target was not evaluated")
    text = safe_text(str(error), 300)  # its text may quote repository content
    detail = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return Failure(f"the target could not be evaluated ({detail})")


def vetted(fn: TargetCall[TargetDeclarations], target: TargetInput, cache: ParseCache) -> TargetDeclarations:
    """``fn``'s declarations, with what may not leave the evaluation turned into errors
    (driftwatch.terraform.vet): run where ``fn`` runs, so nothing oversized crosses over."""
    return vet_declarations(fn(target, cache), target.name)


class InProcessEvaluator:
    """The Evaluator contract in this process: exceptions contained, C calls not bounded."""

    def __init__(
        self, cache: ParseCache | None = None, evaluate: TargetCall[TargetDeclarations] = declare_target
    ):
        self.cache = cache if cache is not None else ParseCache()
        self.evaluate = evaluate

    def call(self, fn: TargetCall[T], target: TargetInput) -> T | Failure:
        try:
            return fn(target, self.cache)
        except Exception as error:  # anything a repository makes the evaluation raise
            log.warning("target_evaluation_failed", target=target.name, error=repr(error)[:500])
            return describe(error)

    def declare(
        self, target: TargetInput, fn: TargetCall[TargetDeclarations] | None = None
    ) -> TargetDeclarations:
        outcome = self.call(functools.partial(vetted, fn or self.evaluate), target)
        return outcome.declarations(target) if isinstance(outcome, Failure) else outcome

    def close(self) -> None:
        pass


class WorkerEvaluator:
    """Evaluates in a warm child process under the limits of ``options``; thread-safe (one
    evaluation at a time). ``close()`` kills the worker, and every later call fails at once."""

    def __init__(
        self,
        options: WorkerOptions | None = None,
        evaluate: TargetCall[TargetDeclarations] = declare_target,
    ):
        self.options = options or WorkerOptions()
        self.evaluate = evaluate  # what declare() runs when not told otherwise
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._greeted = False  # the current worker said it is ready
        self._closed = False
        self._last: OrderedDict[_Key, Any] = OrderedDict()  # the last value per (target, fn): see _evaluate
        self.starts = 0  # workers started (the first, and one per replacement)
        # Workers stopped because of what an evaluation did, by reason (WORKER_STOP_REASONS):
        # read by /metrics at any time, so under a lock of its own (``_lock`` is held for as
        # long as an evaluation runs).
        self._stops: Counter[str] = Counter()
        self._stops_lock = threading.Lock()

    # --- the contract ---

    def call(self, fn: TargetCall[T], target: TargetInput) -> T | Failure:
        with self._lock:
            if self._closed:
                return Failure("not evaluated: driftwatch is shutting down")
            try:
                key: _Key | None = (target.name, hashlib.sha256(pickle.dumps(fn)).hexdigest())
                pickle.dumps(target)
            except Exception as error:  # a caller's bug, not the repository's: still contained
                return Failure(f"the target could not be sent to the evaluation worker: {error!r}")
            started: float | None = None
            for _ in range(2):
                try:
                    conn = self._ready()
                    # parse.max_seconds bounds what the repository makes the worker do; its
                    # start (bounded by START_TIMEOUT) is not that, and takes seconds on a
                    # loaded node: counted in, it failed quick evaluations as too long.
                    started = time.monotonic() if started is None else started
                    conn.send_bytes(pickle.dumps((fn, target, key)))
                except (OSError, EOFError, _StartFailed) as error:
                    self._stop_worker()
                    return Failure(f"the evaluation worker could not be started: {error}")
                outcome = self._await(conn, target, started, key)
                if outcome is not _LOST:
                    return outcome  # type: ignore[no-any-return]
                key = None  # the worker refers to a value this process does not hold: ask in full
            return Failure("the evaluation worker's reply cannot be used")

    def declare(
        self, target: TargetInput, fn: TargetCall[TargetDeclarations] | None = None
    ) -> TargetDeclarations:
        outcome = self.call(functools.partial(vetted, fn or self.evaluate), target)
        return outcome.declarations(target) if isinstance(outcome, Failure) else outcome

    def close(self) -> None:
        """Kill the worker now (an evaluation in progress fails at once); safe from any thread."""
        self._closed = True
        process = self._process
        if process is not None and process.poll() is None:
            with contextlib.suppress(OSError):
                process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=1)  # reaped: its resource usage counts as this process' child

    def stops(self) -> dict[str, int]:
        """Workers stopped and replaced because of an evaluation, by reason: ``timeout``
        (parse.max_seconds of wall clock), ``died`` (killed by a signal, the CPU limit
        included, or exited), ``memory`` (parse.max_memory), ``reply`` (a reply too large or
        unreadable); every reason is present, 0 until it happens."""
        with self._stops_lock:
            return {reason: self._stops[reason] for reason in WORKER_STOP_REASONS}

    def _stopped(self, reason: str) -> None:
        with self._stops_lock:
            self._stops[reason] += 1
        self._stop_worker()

    # --- the worker's life ---

    def _spawn(self) -> Connection:
        """The running worker's connection, or a new worker's (options sent, not yet greeted)."""
        if self._process is not None and self._process.poll() is None and self._conn is not None:
            return self._conn
        self._stop_worker()
        self._process, self._conn = launch.take()
        self._greeted = False
        self.starts += 1
        self._conn.send_bytes(pickle.dumps(self.options))
        return self._conn

    def _ready(self) -> Connection:
        conn = self._spawn()
        if self._greeted:
            return conn
        if not conn.poll(START_TIMEOUT):
            raise _StartFailed(f"no answer within {START_TIMEOUT:g} s")
        try:
            hello = conn.recv_bytes(1024)
        except EOFError:
            assert self._process is not None
            raise _StartFailed(f"it exited with code {self._process.wait()}") from None
        if hello != b"ready":
            raise _StartFailed(f"unexpected greeting {hello[:40]!r}")
        self._greeted = True
        return conn

    def _await(self, conn: Connection, target: TargetInput, started: float, key: _Key | None) -> Any:
        limit = self.options.max_seconds
        try:
            answered = conn.poll(max(0.0, limit - (time.monotonic() - started)))
        except (OSError, EOFError):
            answered = True  # the worker is gone: recv_bytes says so
        if not answered:
            self._stopped("timeout")
            log.warning("target_evaluation_killed", target=target.name, max_seconds=limit)
            return Failure(
                f"the evaluation took longer than {limit:g} s (parse.max_seconds) and was stopped; "
                "the target was not evaluated"
            )
        try:
            data = conn.recv_bytes(MAX_REPLY_BYTES)
        except (EOFError, OSError) as error:
            if self._closed:
                self._stop_worker()
                return Failure("not evaluated: driftwatch is shutting down")
            cause = self._exit_cause() if isinstance(error, EOFError) else "its reply exceeds the size limit"
            self._stopped("died" if isinstance(error, EOFError) else "reply")
            log.warning("target_evaluation_worker_died", target=target.name, cause=cause)
            return Failure(f"the evaluation worker {cause}; the target was not evaluated")
        try:
            with cyclic_gc_paused():  # every object it makes is kept: no garbage to look for
                status, payload = _ReplyUnpickler(io.BytesIO(data)).load()
        except Exception as error:
            self._stopped("reply")
            return Failure(f"the evaluation worker's reply cannot be read: {error!r}")
        if status == "restart":  # answered, but its state is not to be trusted (MemoryError)
            self._stopped("memory")
            status = "failure"
        if key is None:
            return payload if status == "failure" else _fresh(payload)
        if status == "failure":
            self._last.pop(key, None)
            assert isinstance(payload, Failure)
            return payload
        if status == "same":  # the very objects of the last reply for this key: not sent again
            if key not in self._last:
                return _LOST
            self._last.move_to_end(key)
            return _fresh(self._last[key])
        _remember(self._last, key, payload)
        return _fresh(payload)

    def _exit_cause(self) -> str:
        process = self._process
        if process is None:
            return "stopped"
        try:
            code = process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "stopped answering"
        if code == -signal.SIGXCPU:
            return f"used more than {self.options.max_seconds:g} s of CPU (parse.max_seconds) and was stopped"
        if code < 0:
            name = signal.Signals(-code).name
            return (
                f"died of {name} (likely out of memory: parse.max_memory is "
                f"{self.options.max_memory // 1024**2} MiB)"
            )
        return f"exited with code {code}"

    def _stop_worker(self) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            conn.close()
        if process is not None:
            if process.poll() is None:
                with contextlib.suppress(OSError):
                    process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)


class _StartFailed(Exception):
    pass


_Key = tuple[str, str]  # (target name, SHA-256 of the pickled evaluation function)
# Last values kept per key, on both sides: a target evaluated at many revisions (one key each)
# must not grow either process without bound. Evicted on both sides alike; should they ever
# disagree, the parent asks again in full (_LOST).
MAX_REMEMBERED = 256
_LOST: Final = object()


def _remember(memory: OrderedDict[_Key, V], key: _Key, value: V) -> None:
    memory[key] = value
    memory.move_to_end(key)
    while len(memory) > MAX_REMEMBERED:
        memory.popitem(last=False)


def _fresh(value: Any) -> Any:
    """``value`` with its list fields copied: what callers get may be extended or sorted
    without changing the value kept for the next "same" reply."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        lists = {
            f.name: list(v)
            for f in dataclasses.fields(value)
            if isinstance(v := getattr(value, f.name), list)
        }
        return dataclasses.replace(value, **lists) if lists else value
    return value


def _identity(value: Any) -> tuple[int, ...]:
    """The objects a value is made of, one level down (dataclass fields, list items): equal
    for two values built from the same objects, as the declaration memo returns them."""
    parts: list[Any] = [type(value)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            field_value = getattr(value, item.name)
            parts.extend(field_value if isinstance(field_value, list) else (field_value,))
    else:
        parts.append(value)
    return tuple(id(part) for part in parts)


# What a reply may name: driftwatch's own types and plain data. The worker builds its replies
# from values it evaluated (there is no way for repository text to name a class), and this
# keeps it so even if the worker were subverted: a reply naming anything else is refused.
_REPLY_MODULES = ("driftwatch.",)
_REPLY_CLASSES = (
    {
        ("builtins", name)
        for name in (
            "set",
            "frozenset",
            "dict",
            "list",
            "tuple",
            "str",
            "bytes",
            "int",
            "float",
            "bool",
            "complex",
        )
    }
    | {("datetime", name) for name in ("datetime", "date", "time", "timedelta", "timezone")}
    | {("pathlib", "PosixPath"), ("pathlib", "PurePosixPath"), ("collections", "OrderedDict")}
    | {
        ("decimal", "Decimal"),
        ("fractions", "Fraction"),
    }
)


class _ReplyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module.startswith(_REPLY_MODULES) or (module, name) in _REPLY_CLASSES:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"a reply may not name {module}.{name}")


_shared: dict[tuple[float, int, tuple[tuple[str, int], ...]], WorkerEvaluator] = {}
_shared_lock = threading.Lock()


def shared_worker(options: WorkerOptions) -> WorkerEvaluator:
    """One warm worker per set of options for this process (the CLI's commands, called again
    in one process, reuse it); killed at exit."""
    with _shared_lock:
        worker = _shared.get(options.key())
        if worker is None or worker._closed:
            worker = _shared[options.key()] = WorkerEvaluator(options)
        return worker


@atexit.register
def _close_shared() -> None:
    for worker in list(_shared.values()):
        worker.close()


# --------------------------------------------------------------------------- the worker process


def _address_space() -> int | None:
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return None


def _cpu_used() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _set_limits(options: WorkerOptions) -> None:
    """This evaluation's CPU and memory, on top of what the worker has used and holds."""
    _lower(resource.RLIMIT_CPU, int(_cpu_used() + options.max_seconds) + 2)
    held = _address_space()
    if held is not None:
        _lower(resource.RLIMIT_AS, held + options.max_memory)


def _lower(which: int, soft: int) -> None:
    _, hard = resource.getrlimit(which)
    resource.setrlimit(which, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))


def _lift_limits() -> None:
    for which in (resource.RLIMIT_CPU, resource.RLIMIT_AS):
        _, hard = resource.getrlimit(which)
        resource.setrlimit(which, (hard, hard))


def _reply(status: str, payload: Any) -> tuple[bool, bytes]:
    """(whether the reply is the one asked for, its bytes): a payload that cannot be pickled or
    is too large becomes a failure."""
    try:
        data = pickle.dumps((status, payload))
    except Exception as error:
        failure = Failure(f"the evaluation's result cannot be returned: {error!r}")
        return False, pickle.dumps(("failure", failure))
    if len(data) > MAX_REPLY_BYTES:
        message = (
            f"the target's declarations are {len(data):,} bytes, over the {MAX_REPLY_BYTES:,}-byte "
            "limit of one evaluation's result; the target was not evaluated"
        )
        return False, pickle.dumps(("failure", Failure(message)))
    return True, data


def _evaluate(
    request: bytes,
    cache: ParseCache,
    options: WorkerOptions,
    sent: OrderedDict[_Key, tuple[tuple[int, ...], Any]],
) -> tuple[bool, bytes]:
    """(whether the worker may go on, the reply). After a MemoryError the worker's state (its
    cache, half-built objects) is not to be trusted: it replies, then exits.

    A daemon's rescan of an unchanged target gets the memoised declarations: the same objects
    as last time. Then the reply is only "same" and the parent reuses what it unpickled last
    time -- the round trip of a warm rescan carries no declarations. ``sent`` keeps each key's
    last value (so that its objects' ids stay theirs) and their identity."""
    try:
        fn, target, key = pickle.loads(request)
        _set_limits(options)
        try:
            value = fn(target, cache)
        finally:
            _lift_limits()
    except MemoryError as error:
        return False, _reply("restart", describe(error))[1]
    except Exception as error:  # anything a repository makes the evaluation raise
        if key is not None:
            sent.pop(key, None)
        return True, _reply("failure", describe(error))[1]
    if key is None:
        return True, _reply("ok", value)[1]
    identity = _identity(value)
    last = sent.get(key)
    if last is not None and last[0] == identity:
        sent.move_to_end(key)
        return True, _reply("same", None)[1]
    ok, reply = _reply("ok", value)
    if ok:
        _remember(sent, key, (identity, value))
    else:
        sent.pop(key, None)
    return True, reply


def _warm_up(cache: ParseCache) -> None:
    """Load lark's grammar now, not during the first target's time budget."""
    with contextlib.suppress(Exception):
        cache.parse_source(Path("warm-up.tf"), "warm-up.tf", 'locals {\n  a = "b"\n}\n', "warm-up")


# Added to the worker's oom_score_adj (within the kernel's 1000): a container at its memory limit
# (daemon and worker share its cgroup) has the worker killed, not the daemon. A dead worker is one
# target's error and is replaced at the next evaluation; a dead daemon restarts the pod mid-scan.
# Raising one's own score needs no privilege.
OOM_SCORE_ADJ_RAISE = 500


def _prefer_for_oom_kill() -> None:
    path = Path("/proc/self/oom_score_adj")
    with contextlib.suppress(OSError, ValueError):  # no /proc (not Linux), or a read-only one
        current = int(path.read_text(encoding="ascii"))
        path.write_text(str(min(1000, current + OOM_SCORE_ADJ_RAISE)), encoding="ascii")


def serve(fd: int) -> None:
    """The worker's loop: options, then (fn, target) requests answered in order until EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when the worker stops
    os.dup2(2, 1)  # nothing the evaluation prints may reach the parent's report on stdout
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a killed worker leaves no core file
    _prefer_for_oom_kill()
    conn = Connection(fd)
    # Imported before the options are read: the parent may still be busy with its own start.
    import driftwatch.terraform.modules  # noqa: F401

    try:
        options: WorkerOptions = pickle.loads(conn.recv_bytes())
        cache = ParseCache(**options.cache)
        _warm_up(cache)
        conn.send_bytes(b"ready")
        sent: OrderedDict[_Key, tuple[tuple[int, ...], Any]] = OrderedDict()
        while True:
            go_on, reply = _evaluate(conn.recv_bytes(), cache, options, sent)
            conn.send_bytes(reply)
            if not go_on:
                return
    except (EOFError, OSError):
        return


if __name__ == "__main__":
    # Through the package, not this __main__ module: what is pickled must name real classes.
    from driftwatch.terraform import worker

    worker.serve(int(sys.argv[1]))
