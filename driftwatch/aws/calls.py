"""Accounting of every AWS API call driftwatch makes.

driftwatch promises to be read-only and least-privilege; counting calls at the botocore layer
(rather than around our own functions) is what lets a test prove it, and what feeds the
``driftwatch_aws_api_calls_total{operation,outcome}`` metric with the truth -- including calls
that failed at the transport level and never produced an AWS error code.

The counters hang off botocore's ``after-call`` / ``after-call-error`` events, which fire once
per logical API call (after botocore's own retries), so a throttled call that eventually
succeeded counts as one success. The retries behind it are counted separately
(``driftwatch_aws_api_retries_total{operation}``): botocore keeps the attempt number of the
call in its request context (``context["retries"]["attempt"]``, the same number it reports as
``ResponseMetadata.RetryAttempts`` + 1), and both events carry that context -- so retries are
counted for calls that succeeded, failed with an AWS error, or failed in transport after
exhausting their attempts alike. A call answered before it was sent (a ``before-call`` hook,
botocore's Stubber) has no attempts and counts no retries.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import (
    ConnectionError as BotocoreConnectionError,
)
from botocore.exceptions import (
    ConnectTimeoutError,
    HTTPClientError,
    ReadTimeoutError,
)
from botocore.parsers import ResponseParserError

from driftwatch.aws.deadline import CallDeadlineExceeded, ResponseTooLarge
from driftwatch.aws.responses import INVALID_RESPONSE

SUCCESS = "success"
TIMEOUT = "Timeout"
CONNECTION_ERROR = "ConnectionError"
THROTTLED = "throttled"
"""The outcome label of throttled *attempts* (each one, retried or not), next to the outcomes of
calls: ``driftwatch_aws_api_calls_total{outcome="throttled"}`` shows throttling that retries
absorbed, which the calls' outcomes (``success`` after a retry) hide."""

# What AWS answers when it throttles (botocore's list for its standard retry mode, which
# retries all of them with the throttling backoff), plus HTTP 429 without a code.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)


OTHER_ERROR = "OtherError"
"""The outcome of an error whose code cannot be a label of its own (see ``error_outcome``)."""

MAX_OUTCOMES = 32
"""Distinct outcomes one operation may have in ``driftwatch_aws_api_calls_total``: AWS answers a
handful (success, throttling, access denied, a few transport failures); past this, a new one is
counted as ``OTHER_ERROR``."""

# An AWS error code (``ResourceNotFoundException``), or the HTTP status botocore names a
# code-less answer after (``503``).
_ERROR_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def error_outcome(code: str) -> str:
    """The outcome label of a call that failed with ``code``, as the answer named it.

    The code is the answer's own ``__type``: a proxy that puts a request id in it made one
    metric series per call, for the life of the daemon; ``success`` made a failure count as a
    success; ``throttled`` doubled the throttled attempts' series, and Prometheus refuses a
    scrape holding one series twice. Such a code is ``OTHER_ERROR`` (the error message still
    quotes it)."""
    if code in (SUCCESS, THROTTLED, OTHER_ERROR) or not (code.isascii() and _ERROR_CODE.fullmatch(code)):
        return OTHER_ERROR
    return code


def is_throttling(response: Any) -> bool:
    """Whether one attempt's answer (botocore's ``(http_response, parsed)``) is a throttle."""
    if not isinstance(response, tuple) or len(response) != 2:
        return False
    http_response, parsed = response
    status = getattr(http_response, "status_code", None)
    if not isinstance(status, int) or status < 400:
        return False
    error = parsed.get("Error") if isinstance(parsed, dict) else None
    return _is_throttle(error.get("Code") if isinstance(error, dict) else None, status)


def _is_throttle(code: Any, status: Any) -> bool:
    # HTTP 429 is "Too Many Requests" whatever the body: botocore names a code-less 429 "429".
    return code in THROTTLING_CODES or status == 429


# Calls answered with HTTP 2xx inside ``outcome_checked()``: their outcome waits for the check.
_unchecked: ContextVar[list[tuple[ApiCallRecorder, str, int]] | None] = ContextVar(
    "driftwatch_unchecked_calls", default=None
)


@contextmanager
def outcome_checked() -> Iterator[Callable[[str], None]]:
    """Counts the calls made inside with an outcome the caller decides after checking the answer.

    botocore calls an HTTP 200 a success, but driftwatch does not trust the body: an answer that
    is truncated, ``{}`` or lacks what the operation must return is an ``InvalidResponse``
    error of its table, and counting it as a success would hide a broken endpoint or proxy from
    the metric. A call is counted once, when the block ends, with the outcome passed to the
    yielded function (``success`` if none was): never counted as a success first and corrected
    after, which a scrape in between would see as a counter going down. Calls that failed
    (an AWS error, a transport error) are counted as they end, as everywhere else.
    """
    pending: list[tuple[ApiCallRecorder, str, int]] = []
    decided: list[str] = []
    token = _unchecked.set(pending)
    try:
        yield decided.append
    finally:
        _unchecked.reset(token)
        outcome = decided[-1] if decided else SUCCESS
        for recorder, operation, retries in pending:
            recorder.record(operation, outcome, retries)


def is_throttled_attempt(context: Any) -> bool:
    """The same question as ``is_throttling``, about botocore's retry context of one attempt
    (the retry handler's view), for the limiter mode's checker, backoff and quota."""
    status = getattr(getattr(context, "http_response", None), "status_code", None)
    return _is_throttle(context.get_error_code(), status)


UNPARSED: tuple[type[Exception], ...] = (
    AttributeError,
    TypeError,
    ValueError,
    KeyError,
    RecursionError,
    ResponseParserError,
)
"""What botocore's parsers raise on a 2xx body they cannot read, instead of an error of their
own: ``null``, ``[]`` or a string where an object belongs, bytes that are not UTF-8, a
timestamp that is not one, JSON nested past the recursion limit (RecursionError); for STS's
XML, a body that does not parse (``ResponseParserError``, not a ``BotoCoreError``) or another
document (``KeyError('AssumeRoleResult')``). Each is an unusable answer: ``InvalidResponse``."""


def transport_outcome(exc: BaseException) -> str:
    """A stable, low-cardinality name for a failure that produced no AWS error code.

    Metric labels must not grow without bound, so every flavour of "could not talk to the
    endpoint" collapses to ``Timeout`` or ``ConnectionError``; anything else (e.g. missing
    credentials) is named by its exception class, which is also a small fixed set.
    """
    if isinstance(exc, (ReadTimeoutError, ConnectTimeoutError, CallDeadlineExceeded)):
        return TIMEOUT
    if isinstance(exc, (BotocoreConnectionError, HTTPClientError)):
        return CONNECTION_ERROR
    if isinstance(exc, (*UNPARSED, ResponseTooLarge)):
        return INVALID_RESPONSE
    return type(exc).__name__


class ApiCallRecorder:
    """Thread-safe counts of AWS API calls by (operation, outcome).

    One recorder is shared by all clients of a process (and their worker threads). The event
    handlers are stateless apart from the locked counter, which keeps shared clients
    thread-safe (botocore's caveat about custom event hooks is about handlers with state).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()
        self._retries: Counter[str] = Counter()
        self._throttled: Counter[str] = Counter()
        self._outcomes: Counter[str] = Counter()  # distinct outcomes of each operation

    def attach(self, client: BaseClient) -> None:
        """Start counting the calls of ``client`` (each client has its own event emitter).

        Registered once per client, with a ``unique_id`` per recorder: attaching the same
        recorder again (or to a client that already has it) adds no second handler.
        """
        events = client.meta.events
        tag = id(self)
        events.register("after-call", self._after_call, unique_id=f"driftwatch-calls-{tag}")
        events.register("after-call-error", self._after_call_error, unique_id=f"driftwatch-errors-{tag}")
        # ``needs-retry`` follows every attempt (before botocore decides on a retry); first in
        # line, so an attempt is counted even when the call's deadline then stops the retries.
        events.register_first("needs-retry", self._needs_retry, unique_id=f"driftwatch-attempts-{tag}")

    def record(self, operation: str, outcome: str, retries: int = 0) -> None:
        """Count one finished API call and the retries botocore made for it; an operation's
        outcomes past ``MAX_OUTCOMES`` are counted as ``OTHER_ERROR``."""
        with self._lock:
            if (operation, outcome) not in self._counts:
                if self._outcomes[operation] >= MAX_OUTCOMES and outcome != SUCCESS:
                    outcome = OTHER_ERROR
                if (operation, outcome) not in self._counts:
                    self._outcomes[operation] += 1
            self._counts[(operation, outcome)] += 1
            if retries > 0:
                self._retries[operation] += retries

    def snapshot(self) -> dict[tuple[str, str], int]:
        """Finished calls by (operation, outcome): a copy, so that readers (metrics scrapes,
        tests) never see a half-updated view. Throttled attempts are in ``throttled()``."""
        with self._lock:
            return dict(self._counts)

    def throttled(self) -> dict[str, int]:
        """Throttled attempts by operation (every one, also those a retry then made good)."""
        with self._lock:
            return dict(self._throttled)

    def retries(self) -> dict[str, int]:
        """Retries (attempts after the first) by operation; operations without any are absent."""
        with self._lock:
            return dict(self._retries)

    def operations(self) -> set[str]:
        with self._lock:
            return {operation for operation, _ in self._counts}

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._retries.clear()
            self._throttled.clear()
            self._outcomes.clear()

    def _needs_retry(self, response: Any = None, operation: Any = None, **_: Any) -> None:
        if is_throttling(response):
            name = str(getattr(operation, "name", "unknown"))
            with self._lock:
                self._throttled[name] += 1

    def _after_call(self, http_response: Any, parsed: Any, model: Any, context: Any = None, **_: Any) -> None:
        status = getattr(http_response, "status_code", 200)
        if status is not None and status >= 300:
            # Same precedence as botocore uses to pick the exception class it raises.
            error = parsed.get("Error", {}) if isinstance(parsed, dict) else {}
            override = context.get("error_code_override") if isinstance(context, dict) else None
            outcome = error_outcome(str(override or error.get("Code") or status))
        else:
            pending = _unchecked.get()
            if pending is not None:  # its outcome is decided once the answer is checked
                pending.append((self, model.name, _retries(context)))
                return
            outcome = SUCCESS
        self.record(model.name, outcome, _retries(context))

    def _after_call_error(
        self, exception: BaseException, event_name: str, context: Any = None, **_: Any
    ) -> None:
        # The event name is "after-call-error.<service>.<Operation>"; the operation model is
        # not passed to this event, so the name is the only place to read it from.
        operation = event_name.rsplit(".", 1)[-1]
        self.record(operation, transport_outcome(exception), _retries(context))


def _retries(context: Any) -> int:
    """Attempts after the first that botocore made for one call (0 when it never sent one)."""
    retries = context.get("retries") if isinstance(context, dict) else None
    attempt = retries.get("attempt") if isinstance(retries, dict) else None
    return attempt - 1 if isinstance(attempt, int) and attempt > 1 else 0
