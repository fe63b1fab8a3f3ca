"""A total deadline for every AWS call, enforced by closing the call's socket.

botocore bounds a call by a connect timeout and a *read* timeout, and the read timeout is an
idle timeout: it restarts with every byte. An endpoint (or a proxy, or a half-broken network)
that drip-feeds one byte a second never trips it, so a call can last for ever. Waiting for the
call on another thread only moves the problem: the abandoned thread and its socket stay
behind, one more per scan.

So each call gets a deadline -- ``call_timeout`` seconds, and never later than the deadline of
the scan it belongs to -- and one watchdog thread per process enforces it:

- ``before-call`` opens a guard for the call on the calling thread (the scan's deadline comes
  from ``calls_end_by``, a context variable that ``scan.run_bounded`` sets in each worker);
- the connection pool classes of each client are swapped for subclasses that hand every
  connection a call takes to the call's guard;
- at the deadline the watchdog shuts the guard's sockets down. The blocked ``recv`` returns at
  once, botocore sees a closed connection, and the ``needs-retry`` hook (first in line) raises
  ``CallDeadlineExceeded`` instead of letting botocore retry. The calling thread unwinds, the
  connection is closed and dropped from the pool: no thread and no socket survive the call.

The same pools bound what one answer may hold: botocore reads a whole body into memory before
parsing it, so an endpoint (or a proxy) that streams without end would be held until the
deadline -- gigabytes at loopback speed. Past ``MAX_RESPONSE_BYTES`` the response is closed
and the call fails with ``ResponseTooLarge`` (outcome ``InvalidResponse``), not retried.

Only a retry backoff that botocore already started (at most a few seconds) can run past the
deadline. ``CallDeadlineExceeded`` is a ``BotoCoreError``, so ``call_aws`` reports it like any
transport failure (outcome ``Timeout``).
"""

from __future__ import annotations

import contextlib
import contextvars
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSHTTPConnectionPool, AWSHTTPSConnectionPool
from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError

from driftwatch.log import get_logger

log = get_logger(__name__)

DEFAULT_CALL_TIMEOUT_SECONDS = 60.0
_CONTEXT_KEY = "driftwatch_call_guard"
_ATTACHED = "_driftwatch_call_deadline"
_POLL_SECONDS = 0.1  # how often an expired call still connecting is looked at again

_scan_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "driftwatch_scan_deadline", default=None
)


MAX_RESPONSE_BYTES = 16 * 2**20
"""The most one answer may hold. The largest real ones are tens of kilobytes: a ListTables page
(100 names of at most 255 characters), a DescribeTable with 20 GSIs of 100 projected
attributes each, a page of 50 scaling policies."""


class ResponseTooLarge(BotoCoreError):
    """An answer longer than ``MAX_RESPONSE_BYTES``: closed unread, never parsed."""

    fmt = "the answer is larger than {limit} bytes; it was not read further"


def _bounded(response: Any) -> Any:
    """``response`` (urllib3's) with a ``stream()`` that stops past ``MAX_RESPONSE_BYTES``:
    botocore reads a body through it (``AWSResponse.content``)."""
    stream = response.stream
    limit = MAX_RESPONSE_BYTES

    def bounded(*args: Any, **kwargs: Any) -> Iterator[bytes]:
        read = 0
        for chunk in stream(*args, **kwargs):
            read += len(chunk)
            if read > limit:
                response.close()  # the connection too: the rest of the body is never read
                raise ResponseTooLarge(limit=limit)
            yield chunk

    setattr(response, "stream", bounded)  # noqa: B010 - an instance attribute, over the method
    return response


class CallDeadlineExceeded(BotoCoreError):
    """An AWS call ran out of its total time (``aws.call_timeout`` or the scan deadline)."""

    fmt = "the call did not finish within {limit}"


@contextlib.contextmanager
def calls_end_by(at: float | None) -> Iterator[None]:
    """Every AWS call made in this context ends by ``at`` (``time.monotonic()`` seconds)."""
    token = _scan_deadline.set(at)
    try:
        yield
    finally:
        _scan_deadline.reset(token)


@dataclass(eq=False)
class _Guard:
    """One call in flight: its deadline and the connections it has used."""

    at: float
    limit: str  # what the deadline is, for the error message
    connections: list[Any] = field(default_factory=list)
    expired: bool = False
    done: bool = False


class _Watchdog:
    """One thread per process that shuts down the sockets of calls past their deadline."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._heap: list[tuple[float, int, _Guard]] = []
        self._expired: list[_Guard] = []  # expired, still running: their sockets may appear late
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, guard: _Guard) -> None:
        with self._lock:
            heapq.heappush(self._heap, (guard.at, next(self._order), guard))
            if self._thread is None or not self._thread.is_alive():
                name = "driftwatch-call-deadline"
                self._thread = threading.Thread(target=self._run, name=name, daemon=True)
                self._thread.start()
            # Woken only when this deadline is now the first: otherwise the watchdog already
            # sleeps until an earlier one. Waking it for every call cost a thread switch (and
            # a GIL hand-over) per call.
            if self._heap[0][2] is guard:
                self._lock.notify()

    def watch(self, guard: _Guard, connection: Any) -> None:
        with self._lock:
            guard.connections.append(connection)
            if guard.expired:
                _shut(connection)

    def finish(self, guard: _Guard) -> None:
        with self._lock:
            guard.done = True
            aborted = list(guard.connections) if guard.expired else []
            guard.connections.clear()
            # Finished calls leave the heap here, from its front, rather than when the watchdog
            # next wakes (up to call_timeout later): the heap holds about the calls in flight.
            while self._heap and self._heap[0][2].done:
                heapq.heappop(self._heap)
        # On the calling thread, once the call is over: a connection the deadline shut down is
        # closed now, whether or not urllib3 put it back in its pool, so its descriptor goes
        # at once instead of when the pool next notices it is dead.
        for connection in aborted:
            with contextlib.suppress(Exception):
                connection.close()

    def _run(self) -> None:
        with self._lock:
            while True:
                now = time.monotonic()
                while self._heap and (self._heap[0][0] <= now or self._heap[0][2].done):
                    _, _, guard = heapq.heappop(self._heap)
                    if not guard.done:
                        guard.expired = True
                        self._expired.append(guard)
                self._expired = [g for g in self._expired if not g.done]
                for guard in self._expired:
                    for connection in guard.connections:
                        _shut(connection)
                timeout: float | None = self._heap[0][0] - now if self._heap else None
                if self._expired:
                    timeout = _POLL_SECONDS if timeout is None else min(timeout, _POLL_SECONDS)
                self._lock.wait(timeout)


def _shut(connection: Any) -> None:
    """Make every blocked read or write on the connection's socket return now.

    ``shutdown`` rather than ``close``: the socket's owner (the calling thread) closes it as
    it unwinds, so the file descriptor is never reused under its feet.
    """
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


_WATCHDOG = _Watchdog()
_local = threading.local()


def _stack() -> list[_Guard]:
    stack: list[_Guard] | None = getattr(_local, "guards", None)
    if stack is None:
        stack = _local.guards = []
    return stack


def _current_guard() -> _Guard | None:
    stack = _stack()
    return stack[-1] if stack else None


class _Guarded:
    """Watches each connection a guarded call takes, and bounds what it reads (mixed into both
    of botocore's pools, before them, so these methods run first)."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        connection = super()._get_conn(timeout)  # type: ignore[misc]
        guard = _current_guard()
        if guard is not None:
            _WATCHDOG.watch(guard, connection)
        return connection

    def _make_request(self, *args: Any, **kwargs: Any) -> Any:
        return _bounded(super()._make_request(*args, **kwargs))  # type: ignore[misc]


class _GuardedHTTPPool(_Guarded, AWSHTTPConnectionPool):
    pass


class _GuardedHTTPSPool(_Guarded, AWSHTTPSConnectionPool):
    pass


class CallDeadlines:
    """Gives every call of the clients it is attached to a total deadline of ``seconds``."""

    def __init__(self, seconds: float = DEFAULT_CALL_TIMEOUT_SECONDS) -> None:
        if seconds <= 0:
            raise ValueError("call_timeout must be longer than 0")
        self.seconds = seconds

    def cover(self, core: Any) -> None:
        """Attach every client the botocore session ``core`` makes from now on, and watch the
        connections its credential providers fetch with.

        Besides driftwatch's own clients, botocore's credential providers make clients of
        their own inside the first call that needs credentials: STS for web identity (IRSA's
        AssumeRoleWithWebIdentity) and a profile's ``role_arn``, SSO for an SSO profile. The
        container provider (EKS Pod Identity, ECS) and instance metadata fetch over HTTP
        sessions of their own, as the first client is made and inside a call to refresh. None
        of their sockets was anybody's to shut, so a drip-fed answer held that call, its worker
        thread and botocore's credential lock for ever, and every later call waited on it."""
        create = core.create_client

        def create_client(*args: Any, **kwargs: Any) -> Any:
            client = create(*args, **kwargs)
            self.attach(client)
            return client

        core.create_client = create_client
        for provider in getattr(core.get_component("credential_provider"), "providers", ()):
            for fetcher in (getattr(provider, "_fetcher", None), getattr(provider, "_role_fetcher", None)):
                _watch_pools(getattr(fetcher, "_session", None))  # a connection the guard on top watches

    def attach(self, client: BaseClient) -> None:
        if getattr(client, _ATTACHED, False):  # a client of a covered session: attached when made
            return
        setattr(client, _ATTACHED, True)
        events = client.meta.events
        events.register_first("before-call", self._before_call)
        events.register_first("needs-retry", self._needs_retry)
        events.register("after-call", self._after_call)
        events.register("after-call-error", self._after_call)
        events.register_first("before-parse", self._before_parse)
        http_session = getattr(getattr(client, "_endpoint", None), "http_session", None)
        if not _watch_pools(http_session):  # pragma: no cover - a botocore that changed its internals
            log.warning("aws_call_deadline_degraded", reason="cannot watch botocore's connections")

    @contextlib.contextmanager
    def guarding(self) -> Iterator[None]:
        """The block's connections (those of HTTP sessions ``cover`` or ``attach`` watch) end by
        the deadline of a call; a botocore error once it is past is ``CallDeadlineExceeded``.
        For what is not a call: making a client, which fetches the first credentials."""
        guard = self._open()
        try:
            yield
        except BotoCoreError:
            if guard.expired:
                raise CallDeadlineExceeded(limit=guard.limit) from None
            raise
        finally:
            self._close(guard)

    def _open(self) -> _Guard:
        now = time.monotonic()
        at, limit = now + self.seconds, f"aws.call_timeout ({self.seconds:g} s)"
        scan_at = _scan_deadline.get()
        if scan_at is not None and scan_at < at:
            at, limit = scan_at, "the scan deadline"
        if at <= now:
            raise CallDeadlineExceeded(limit=limit)
        guard = _Guard(at, limit)
        _stack().append(guard)
        _WATCHDOG.add(guard)
        return guard

    @staticmethod
    def _close(guard: _Guard) -> None:
        _WATCHDOG.finish(guard)
        stack = _stack()
        if guard in stack:
            stack.remove(guard)

    def _before_call(self, context: Any = None, **_: Any) -> None:
        guard = self._open()
        if isinstance(context, dict):
            context[_CONTEXT_KEY] = guard

    def _needs_retry(self, request_dict: Any = None, caught_exception: Any = None, **_: Any) -> None:
        """Called after every attempt, answered or not: past the deadline, nothing more; and an
        answer too large to read is not asked for again (botocore wraps the error of a body it
        could not read in ``HTTPClientError``, which it retries)."""
        wrapped = getattr(caught_exception, "kwargs", {}).get("error") if caught_exception else None
        if isinstance(wrapped, ResponseTooLarge):
            raise wrapped
        context = request_dict.get("context") if isinstance(request_dict, dict) else None
        guard = context.get(_CONTEXT_KEY) if isinstance(context, dict) else None
        if isinstance(guard, _Guard) and (guard.expired or time.monotonic() >= guard.at):
            raise CallDeadlineExceeded(limit=guard.limit)

    @staticmethod
    def _before_parse(**_: Any) -> None:
        """An answer whose connection the deadline shut is cut short, not broken: botocore
        1.44 hands the bytes read until then (a drip's first spaces) to the parser as if they
        were the whole body, and that parse error read as ``InvalidResponse``. Raised before
        parsing on the thread that made the call, so the cause is the deadline."""
        guard = _current_guard()
        if guard is not None and guard.expired:
            raise CallDeadlineExceeded(limit=guard.limit)

    def _after_call(self, context: Any = None, **_: Any) -> None:
        guard = context.pop(_CONTEXT_KEY, None) if isinstance(context, dict) else None
        if isinstance(guard, _Guard):
            self._close(guard)


def _watch_pools(http_session: Any) -> bool:
    """Make botocore's HTTP session ``http_session`` hand each connection to the guard on top
    of the calling thread's stack, and bound what each answer holds; False when it has no
    pool classes to swap (not a botocore ``URLLib3Session``)."""
    classes = getattr(http_session, "_pool_classes_by_scheme", None)
    if not isinstance(classes, dict):
        return False
    # shared with botocore's pool managers: edited in place
    classes["http"] = _GuardedHTTPPool
    classes["https"] = _GuardedHTTPSPool
    return True
