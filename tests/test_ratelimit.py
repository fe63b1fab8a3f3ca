"""RateLimiter: token accounting on a fake clock, thread safety, botocore wiring.

No test here sleeps for real or asserts on wall time: the limiter's clock and sleep are
injected, and concurrency is checked with barriers and events. Timings live in benchmarks/.
"""

from __future__ import annotations

import threading
from collections import Counter

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError

from driftwatch.aws.ratelimit import RateLimiter


class FakeClock:
    """A monotonic clock that only moves when told to, or when a limiter 'sleeps' on it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


def limiter(clock: FakeClock, rate: float, burst: int) -> RateLimiter:
    return RateLimiter(rate, burst, clock=clock, sleep=clock.sleep)


def test_burst_goes_at_once_then_one_token_per_interval() -> None:
    clock = FakeClock()
    bucket = limiter(clock, rate=10, burst=3)
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    # The clock has not moved: the next callers queue 0.1 s apart, in arrival order.
    assert bucket.reserve() == pytest.approx(0.1)
    assert bucket.reserve() == pytest.approx(0.2)
    assert bucket.acquired == 5
    assert bucket.delayed == 2
    assert bucket.waited_seconds == pytest.approx(0.3)


def test_tokens_refill_with_time_but_never_beyond_burst() -> None:
    clock = FakeClock()
    bucket = limiter(clock, rate=2, burst=4)
    for _ in range(4):
        assert bucket.try_acquire()
    assert not bucket.try_acquire()
    clock.advance(0.5)  # one token earned
    assert bucket.try_acquire()
    assert not bucket.try_acquire()
    clock.advance(3600)  # an idle hour saves at most `burst` tokens
    assert [bucket.try_acquire() for _ in range(5)] == [True, True, True, True, False]


def test_acquire_sleeps_exactly_until_its_token_is_due() -> None:
    clock = FakeClock()
    bucket = limiter(clock, rate=4, burst=1)
    waits = [bucket.acquire() for _ in range(5)]
    assert waits == [0.0, pytest.approx(0.25), pytest.approx(0.25), pytest.approx(0.25), pytest.approx(0.25)]
    assert clock.sleeps == pytest.approx([0.25] * 4)
    # Over the fake second that passed, 1 (burst) + 4 (rate x 1 s) requests went out.
    assert clock.now - 1000.0 == pytest.approx(1.0)


def test_long_run_rate_matches_the_limit() -> None:
    clock = FakeClock()
    bucket = limiter(clock, rate=20, burst=8)
    for _ in range(1008):
        bucket.acquire()
    # 8 free, then 1000 at 20/s: 50 fake seconds.
    assert clock.now - 1000.0 == pytest.approx(50.0)


def test_try_acquire_does_not_queue_behind_reservations() -> None:
    clock = FakeClock()
    bucket = limiter(clock, rate=1, burst=1)
    assert bucket.reserve() == 0.0
    assert bucket.reserve() == pytest.approx(1.0)  # balance is now -1
    clock.advance(1.5)
    assert not bucket.try_acquire()  # the token earned belongs to the waiting caller
    clock.advance(1.0)
    assert bucket.try_acquire()


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (float("nan"), 1), (1, 0)])
def test_invalid_settings_are_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError):
        RateLimiter(rate, burst)


def test_concurrent_callers_each_get_a_distinct_slot() -> None:
    """No lost updates: with the clock frozen, the waits handed out are exactly 0 (burst times)
    and then 1/rate, 2/rate, ... -- whatever the interleaving of the threads."""
    clock = FakeClock()
    rate, burst, threads, per_thread = 100.0, 5, 8, 50
    bucket = RateLimiter(rate, burst, clock=clock, sleep=lambda _: None)
    waits: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def worker() -> None:
        start.wait(timeout=5)
        mine = [bucket.acquire() for _ in range(per_thread)]
        with lock:
            waits.extend(mine)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=10)
    total = threads * per_thread
    assert len(waits) == total
    assert bucket.acquired == total
    slots = Counter(round(w * rate) for w in waits)
    assert slots[0] == burst
    assert sorted(k for k in slots if k) == list(range(1, total - burst + 1))
    assert all(count == 1 for k, count in slots.items() if k)


def test_attached_client_takes_a_token_per_call(embedded_aws: None) -> None:
    clock = FakeClock()
    bucket = limiter(clock, rate=2, burst=1)
    client = boto3.client("dynamodb", region_name="us-east-1")
    bucket.attach(client)
    bucket.attach(client)  # idempotent: still one token per call
    client.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "h", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "h", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for _ in range(3):
        assert client.describe_table(TableName="t")["Table"]["TableName"] == "t"
    assert bucket.acquired == 4
    assert clock.sleeps == pytest.approx([0.5, 0.5, 0.5])
    # Another client is not limited by this bucket.
    boto3.client("dynamodb", region_name="us-east-1").list_tables()
    assert bucket.acquired == 4


def test_every_retry_attempt_takes_a_token(aws_env: None) -> None:
    """before-send fires per HTTP attempt, so retries are rate-limited too."""
    clock = FakeClock()
    bucket = limiter(clock, rate=1000, burst=100)
    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",  # discard port: connection refused at once
        config=Config(retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=0.2),
    )
    bucket.attach(client)
    with pytest.raises(EndpointConnectionError):
        client.list_tables()
    assert bucket.acquired == 3
