"""Client-side limits on how hard a scan leans on AWS: a request rate and per-region concurrency.

Two independent bounds, because they protect different things:

- ``RateLimiter`` caps *requests per second*. DynamoDB and Application Auto Scaling throttle
  control-plane calls per account and region, and that budget is shared with everything else
  in the account (Terraform, the console, other tools). A big scan must not eat it, so each
  client gets a token bucket that every HTTP attempt (retries included) has to pass. It hangs
  off botocore's ``before-send`` event, so nothing in ``dynamodb.py`` / ``autoscaling.py``
  changes and the limit also covers calls added later.
- ``RegionConcurrency`` caps *calls in flight per region*: with a per-call latency L and C
  slots a region is read at about C / L calls per second at most, and regions do not wait
  for each other (each has its own slots).

Effective rate per region = min(rate limit, concurrency / latency). In AWS, with ~10-30 ms
per call, 8 workers could do several hundred calls per second, so the rate limit is the bound
that normally applies; concurrency matters for latency-bound links and for tests.

Both are thread-safe and keep no per-request state, which keeps shared boto3 clients
thread-safe (boto3's caveat about custom event hooks is about handlers with state).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from botocore.client import BaseClient

R = TypeVar("R")
T = TypeVar("T")

_ids = itertools.count(1)


class RateLimiter:
    """A thread-safe token bucket: ``rate_per_second`` tokens per second, at most ``burst`` saved.

    ``acquire()`` takes one token, sleeping until it is available. Waiting is by reservation:
    the caller takes its token at once (the balance may go negative), computes when that token
    is due, and sleeps *outside* the lock. So waiters are served in the order they arrived, no
    thread spins, and N concurrent callers are spread exactly ``1 / rate`` seconds apart once
    the burst is used up.

    ``clock`` and ``sleep`` are injectable so tests run on a fake clock without real waiting.
    """

    def __init__(
        self,
        rate_per_second: float,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not rate_per_second > 0:  # also rejects NaN
            raise ValueError("rate_per_second must be greater than 0")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = float(rate_per_second)
        self.burst = int(burst)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(burst)  # starts full: a scan's first `burst` calls go at once
        self._updated = clock()
        self._unique_id = f"driftwatch-rate-limit-{next(_ids)}"
        self.acquired = 0
        self.delayed = 0
        self.waited_seconds = 0.0

    def _refill(self, now: float) -> None:
        """Add the tokens earned since the last update (called with the lock held)."""
        elapsed = now - self._updated
        if elapsed > 0:
            self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
            self._updated = now

    def reserve(self) -> float:
        """Take one token now; return how many seconds the caller must wait before using it."""
        with self._lock:
            self._refill(self._clock())
            self._tokens -= 1.0
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
            self.acquired += 1
            if wait > 0:
                self.delayed += 1
                self.waited_seconds += wait
            return wait

    def acquire(self) -> float:
        """Block until one request may be sent; returns the seconds waited (0.0 if none)."""
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return wait

    def try_acquire(self) -> bool:
        """Take a token only if one is available right now; never waits."""
        with self._lock:
            self._refill(self._clock())
            if self._tokens < 1.0:
                return False
            self._tokens -= 1.0
            self.acquired += 1
            return True

    def attach(self, client: BaseClient) -> None:
        """Make every HTTP attempt of ``client`` (retries too) take a token first.

        Registered first on ``before-send`` so that it runs before any handler that answers the
        request itself (moto's in-process mock does that); the handler returns None, so the
        request then goes on as usual. Attaching the same limiter twice is a no-op.

        The wait happens after SigV4 signing, which tolerates minutes of clock skew; with at most
        C workers per client no request waits longer than about C / rate seconds. botocore's
        adaptive retry mode keeps its own, throttling-driven bucket on the same event, after
        this one.
        """
        client.meta.events.register_first("before-send", self._before_send, unique_id=self._unique_id)

    def _before_send(self, **_: Any) -> None:
        self.acquire()


class RegionConcurrency:
    """At most ``per_region`` calls in flight per region; regions proceed side by side.

    The key is whatever AWS throttles by: a region, or a ``(region, role)`` pair when targets
    read other accounts through roles. Made for a worker pool of ``workers(keys)`` threads
    (the scan's deadline-aware ``run_bounded``) running tasks wrapped with ``bounded``: each
    task first takes a slot of its key's semaphore. Jobs should be ``interleave``-d by key
    first, so that the pool's first threads do not all pick one region's jobs and wait on its
    semaphore while another region's jobs queue behind them. Even in the worst case (one region
    far slower than the rest) at least ``per_region`` calls are in flight, as with one pool of
    ``per_region`` threads; normally ``per_region`` per key.
    """

    def __init__(self, per_region: int) -> None:
        if per_region < 1:
            raise ValueError("per_region must be at least 1")
        self.per_region = per_region
        self._lock = threading.Lock()
        self._slots: dict[Hashable, threading.BoundedSemaphore] = {}

    def _semaphore(self, key: Hashable) -> threading.BoundedSemaphore:
        with self._lock:
            semaphore = self._slots.get(key)
            if semaphore is None:
                semaphore = threading.BoundedSemaphore(self.per_region)
                self._slots[key] = semaphore
            return semaphore

    @contextmanager
    def slot(self, key: Hashable) -> Iterator[None]:
        """Hold one of ``key``'s slots for the duration of the block (waits for a free one)."""
        semaphore = self._semaphore(key)
        with semaphore:
            yield

    def bounded(self, key: Hashable, fn: Callable[[], R]) -> Callable[[], R]:
        """``fn`` wrapped to run only while holding a slot of ``key``."""

        def run() -> R:
            with self.slot(key):
                return fn()

        return run

    def workers(self, keys: int) -> int:
        """Threads a pool needs so that every key can use all its slots at once."""
        return self.per_region * max(1, keys)

    @staticmethod
    def interleave(items: Iterable[T], key: Callable[[T], Hashable]) -> list[T]:
        """``items`` round-robin by key (first key's first item, second key's first, ...),
        each key's items in their original order."""
        groups: dict[Hashable, list[T]] = {}
        for item in items:
            groups.setdefault(key(item), []).append(item)
        longest = max((len(group) for group in groups.values()), default=0)
        return [group[i] for i in range(longest) for group in groups.values() if i < len(group)]
