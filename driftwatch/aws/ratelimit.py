"""Client-side limit on how hard a scan leans on AWS: a request rate per client.

It is one of two independent bounds, because they protect different things:

- ``RateLimiter`` caps *requests per second*. DynamoDB and Application Auto Scaling throttle
  control-plane calls per account and region, and that budget is shared with everything else
  in the account (Terraform, the console, other tools). A big scan must not eat it, so each
  client gets a token bucket that every HTTP attempt (retries included) has to pass. It hangs
  off botocore's ``before-send`` event, so nothing in ``dynamodb.py`` / ``autoscaling.py``
  changes and the limit also covers calls added later.
- the scan's worker lanes (``driftwatch.scan.run_bounded``) cap *calls in flight per region
  and account*: with a per-call latency L and C workers a region is read at about C / L calls
  per second at most, and regions do not wait for each other (each lane has its own workers).

Effective rate per region = min(rate limit, concurrency / latency). In AWS, with ~10-30 ms
per call, 16 workers could do 500-1,600 calls per second, so the rate limit is the bound
that normally applies; concurrency matters for latency-bound links and for tests.

The limiter is thread-safe and keeps no per-request state, which keeps shared boto3 clients
thread-safe (boto3's caveat about custom event hooks is about handlers with state).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
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
        adaptive retry mode (``aws.retry_mode: adaptive``) keeps its own, throttling-driven
        bucket on the same event, after this one.
        """
        client.meta.events.register_first("before-send", self._before_send, unique_id=self._unique_id)

    def _before_send(self, **_: Any) -> None:
        self.acquire()
