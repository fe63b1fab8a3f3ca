"""Throttling and the per-call path of driftwatch's AWS clients, against a stub DynamoDB on
127.0.0.1 that throttles as AWS does (HTTP 400 with the service's JSON error body).

What is held: a call throttled and then answered gives the table exactly as answered; every
throttled attempt is counted (``driftwatch_aws_api_calls_total{outcome="throttled"}``),
retried ones included; the default ``limiter`` retry mode retries a throttle past
``max_attempts`` with its own short backoff while botocore's modes keep their own; and the
clients and their hooks are built once, not per call or per table.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from driftwatch.aws import clients as clients_module
from driftwatch.aws.calls import THROTTLED, ApiCallRecorder
from driftwatch.aws.clients import (
    THROTTLE_MAX_ATTEMPTS,
    AwsClients,
    _ThrottleBackoff,
    _ThrottleChecker,
    _ThrottleQuota,
)
from driftwatch.aws.dynamodb import LiveReadError, list_table_names, read_table
from driftwatch.metrics import DriftwatchMetrics
from driftwatch.spec import BillingMode

REGION = "us-east-1"
ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/{name}"

THROTTLES = {
    "ThrottlingException": "com.amazon.coral.availability#ThrottlingException",
    "ProvisionedThroughputExceededException": (
        "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
    ),
}


def answer(operation: str, body: dict[str, Any]) -> dict[str, Any]:
    """What DynamoDB answers for the table named in the request (any name exists)."""
    name = body.get("TableName") or str(body.get("ResourceArn", "")).rsplit("/", 1)[-1]
    if operation == "DescribeTable":
        return {
            "Table": {
                "TableName": name,
                "TableStatus": "ACTIVE",
                "TableArn": ARN.format(name=name),
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
                "ProvisionedThroughput": {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0},
            }
        }
    if operation == "DescribeTimeToLive":
        return {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}}
    if operation == "DescribeContinuousBackups":
        return {
            "ContinuousBackupsDescription": {
                "ContinuousBackupsStatus": "ENABLED",
                "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "ENABLED"},
            }
        }
    if operation == "ListTagsOfResource":
        return {"Tags": [{"Key": "team", "Value": f"owner-of-{name}"}]}
    if operation == "ListTables":
        return {"TableNames": ["orders"], "LastEvaluatedTableName": 5}  # not a string: broken
    raise AssertionError(f"unexpected operation {operation}")


@dataclass
class Stub:
    """The stub's script (throttles per operation, in order) and what it saw."""

    url: str = ""
    throttle: dict[str, list[str | None]] = field(default_factory=dict)  # codes to answer (None: 200)
    attempts: Counter[str] = field(default_factory=Counter)
    agents: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, operation: str, agent: str) -> tuple[int, dict[str, Any] | None]:
        with self.lock:
            self.attempts[operation] += 1
            self.agents.add(agent)
            codes = self.throttle.get(operation)
            code = codes.pop(0) if codes else None
        if code is None:
            return 200, None
        if code == "429":  # a bare HTTP 429, as a proxy or gateway in front of AWS may answer
            return 429, {}
        return 400, {"__type": THROTTLES[code], "message": "Rate of requests exceeds the allowed throughput."}


@pytest.fixture
def stub(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stub]:
    state = Stub()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else Nagle and delayed ACKs add ~40 ms to each call

        def log_message(self, *_: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
            operation = str(self.headers["X-Amz-Target"]).rsplit(".", 1)[-1]
            status, error = state.handle(operation, str(self.headers.get("User-Agent")))
            payload = json.dumps(error if error is not None else answer(operation, body)).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", state.url)
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def metric(text: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return None


def test_a_throttled_then_answered_table_reads_as_answered_and_every_throttle_is_counted(stub: Stub) -> None:
    stub.throttle = {
        "DescribeTable": ["ThrottlingException", "ThrottlingException"],
        "DescribeContinuousBackups": ["ProvisionedThroughputExceededException"],
        "ListTagsOfResource": ["ThrottlingException"] * 3,
    }
    recorder = ApiCallRecorder()
    clients = AwsClients(recorder=recorder)  # the default: limiter mode, max_attempts 5

    spec = read_table(clients.dynamodb(REGION), "orders", REGION)

    assert spec is not None and spec.name == "orders"
    assert spec.billing_mode == BillingMode.PAY_PER_REQUEST
    assert spec.point_in_time_recovery is True
    assert spec.ttl.enabled is True and spec.ttl.attribute == "expires_at"
    assert spec.tags == {"team": "owner-of-orders"}
    assert stub.attempts == {
        "DescribeTable": 3,
        "DescribeTimeToLive": 1,
        "DescribeContinuousBackups": 2,
        "ListTagsOfResource": 4,
    }
    # Calls: one success each. Throttled attempts: every one, by operation.
    assert recorder.snapshot() == {
        (op, "success"): 1
        for op in ("DescribeTable", "DescribeTimeToLive", "DescribeContinuousBackups", "ListTagsOfResource")
    }
    throttled = {"DescribeTable": 2, "DescribeContinuousBackups": 1, "ListTagsOfResource": 3}
    assert recorder.throttled() == throttled
    assert recorder.retries() == throttled

    text = DriftwatchMetrics(version="test", recorder=recorder).render().decode()
    for operation, count in throttled.items():
        assert metric(text, "driftwatch_aws_api_calls_total", operation=operation, outcome=THROTTLED) == count
        assert metric(text, "driftwatch_aws_api_calls_total", operation=operation, outcome="success") == 1
    assert (
        metric(text, "driftwatch_aws_api_calls_total", operation="DescribeTimeToLive", outcome=THROTTLED)
        is None
    )


def test_limiter_mode_retries_a_throttle_past_max_attempts_standard_mode_does_not(
    stub: Stub,
) -> None:
    stub.throttle = {"DescribeTimeToLive": ["ThrottlingException"] * 4}
    recorder = ApiCallRecorder()
    spec = read_table(AwsClients(recorder=recorder, max_attempts=2).dynamodb(REGION), "t", REGION)
    assert spec is not None and spec.ttl.enabled is True
    assert stub.attempts["DescribeTimeToLive"] == 5
    assert recorder.throttled() == {"DescribeTimeToLive": 4}

    stub.attempts.clear()
    stub.throttle = {"DescribeTimeToLive": ["ThrottlingException"] * 4}
    recorder = ApiCallRecorder()
    standard = AwsClients(recorder=recorder, max_attempts=2, retry_mode="standard").dynamodb(REGION)
    with pytest.raises(LiveReadError) as raised:
        read_table(standard, "t", REGION)
    assert raised.value.code == "ThrottlingException" and raised.value.operation == "DescribeTimeToLive"
    assert stub.attempts["DescribeTimeToLive"] == 2
    # Both attempts were throttles, the last one included; the call itself failed with its code.
    assert recorder.throttled() == {"DescribeTimeToLive": 2}
    assert recorder.snapshot()[("DescribeTimeToLive", "ThrottlingException")] == 1


def _retry_handler(client: Any) -> Any:
    return client.meta.events._emitter._unique_id_handlers["retry-config-dynamodb"]["handler"].__self__


def test_sustained_throttling_never_runs_limiter_mode_out_of_retries(stub: Stub) -> None:
    """botocore's retry quota (500 units, 5 per throttle retry, a success giving back 1 or the
    last retry's 5) runs dry after ~13 tables whose every call needs 9 retries; from then on
    botocore fails each throttled call at once. In limiter mode a throttle's retry costs no
    quota (driftwatch's limiter bounds the attempts instead), so every table is read."""
    tables = [f"t{index}" for index in range(16)]
    per_table: list[str | None] = ["ThrottlingException"] * (THROTTLE_MAX_ATTEMPTS - 1)
    stub.throttle = {"DescribeTimeToLive": [*per_table, None] * len(tables)}  # the 10th attempt is answered
    recorder = ApiCallRecorder()
    client = AwsClients(recorder=recorder).dynamodb(REGION)
    _retry_handler(client)._retry_policy._retry_backoff.seconds = 0.0001  # the test's time only
    for name in tables:
        spec = read_table(client, name, REGION)
        assert spec is not None and spec.ttl.enabled is True
    assert recorder.throttled() == {"DescribeTimeToLive": (THROTTLE_MAX_ATTEMPTS - 1) * len(tables)}
    assert recorder.snapshot()[("DescribeTimeToLive", "success")] == len(tables)
    # The quota was not drawn on by the throttles: what is left is botocore's full quota.
    assert _retry_handler(client)._retry_quota.botocore_quota._quota.available_capacity == 500


def test_a_bare_http_429_is_a_throttle_retried_and_counted_as_one(stub: Stub) -> None:
    """HTTP 429 means Too Many Requests whatever its body; botocore names a code-less one
    "429" and would fail the call at once."""
    stub.throttle = {"ListTagsOfResource": ["429", "429", "429"]}
    recorder = ApiCallRecorder()
    spec = read_table(AwsClients(recorder=recorder, max_attempts=2).dynamodb(REGION), "t", REGION)
    assert spec is not None and spec.tags == {"team": "owner-of-t"}
    assert stub.attempts["ListTagsOfResource"] == 4
    assert recorder.throttled() == {"ListTagsOfResource": 3}
    assert recorder.snapshot()[("ListTagsOfResource", "success")] == 1


class _Quota:
    def __init__(self) -> None:
        self.asked: list[str | None] = []

    def acquire_retry_quota(self, context: Any) -> bool:
        self.asked.append(context.get_error_code())
        return False


def test_throttle_retries_cost_no_quota_and_other_retries_still_do() -> None:
    botocore = _Quota()
    quota = _ThrottleQuota(botocore)
    assert quota.acquire_retry_quota(_Context("ThrottlingException", 3))
    assert quota.acquire_retry_quota(_Context("ProvisionedThroughputExceededException", 9))
    assert botocore.asked == []
    assert not quota.acquire_retry_quota(_Context("InternalServerError", 2))  # botocore's answer
    assert botocore.asked == ["InternalServerError"]
    assert quota.asked == ["InternalServerError"]  # anything else is botocore's quota's own


class _Context:
    def __init__(self, code: str | None, attempt: int) -> None:
        self.code, self.attempt_number = code, attempt

    def get_error_code(self) -> str | None:
        return self.code


class _Botocore:
    """Stands in for botocore's own checker and backoff: records what it was asked."""

    def __init__(self) -> None:
        self.asked: list[int] = []

    def delay_amount(self, context: Any) -> float:
        self.asked.append(context.attempt_number)
        return 7.0

    def is_retryable(self, context: Any) -> bool:
        self.asked.append(context.attempt_number)
        return False


def test_limiter_mode_backs_off_throttles_briefly_and_leaves_other_failures_to_botocore() -> None:
    botocore = _Botocore()
    backoff = _ThrottleBackoff(botocore, 0.1)
    for attempt in range(1, 9):
        delays = [backoff.delay_amount(_Context("ThrottlingException", attempt)) for _ in range(200)]
        assert all(0 <= d <= 0.1 * 2 ** (attempt - 1) for d in delays)
        assert max(delays) > 0.05 * 2 ** (attempt - 1)  # jittered over the whole range
    assert botocore.asked == []
    assert backoff.delay_amount(_Context("InternalServerError", 2)) == 7.0
    assert botocore.asked == [2]

    checker = _ThrottleChecker(_Botocore(), THROTTLE_MAX_ATTEMPTS)
    assert checker.is_retryable(_Context("LimitExceededException", THROTTLE_MAX_ATTEMPTS - 1))
    assert not checker.is_retryable(_Context("ThrottlingException", THROTTLE_MAX_ATTEMPTS))
    assert not checker.is_retryable(_Context("ServiceUnavailable", 1))  # botocore's answer


def test_botocore_modes_keep_botocore_policy_and_limiter_mode_wraps_it_once() -> None:
    def policy(client: Any) -> Any:
        handlers = client.meta.events._emitter._unique_id_handlers
        return handlers["retry-config-dynamodb"]["handler"].__self__._retry_policy

    for mode in ("standard", "adaptive"):
        client = AwsClients(retry_mode=mode).dynamodb(REGION)  # type: ignore[arg-type]
        assert not isinstance(policy(client)._retry_backoff, _ThrottleBackoff)
        assert not isinstance(_retry_handler(client)._retry_quota, _ThrottleQuota)
    client = AwsClients().dynamodb(REGION)
    assert isinstance(policy(client)._retry_backoff, _ThrottleBackoff)
    assert clients_module.shorten_throttle_backoff(client)  # again: no wrapper around the wrapper
    assert not isinstance(policy(client)._retry_backoff.botocore_backoff, _ThrottleBackoff)
    assert not isinstance(policy(client)._retry_checker.botocore_checker, _ThrottleChecker)
    assert isinstance(_retry_handler(client)._retry_quota, _ThrottleQuota)
    assert not isinstance(_retry_handler(client)._retry_quota.botocore_quota, _ThrottleQuota)
    with pytest.raises(ValueError, match="retry_mode"):
        AwsClients(retry_mode="fast")  # type: ignore[arg-type]


def test_one_client_and_one_set_of_hooks_serve_every_table_and_thread(
    stub: Stub, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: Counter[str] = Counter()
    new_client = AwsClients._new_client

    def counting(self: AwsClients, session: Any, service: Any, region: str) -> Any:
        built[service] += 1
        return new_client(self, session, service, region)

    monkeypatch.setattr(AwsClients, "_new_client", counting)
    recorder = ApiCallRecorder()
    clients = AwsClients(recorder=recorder, max_requests_per_second=1000)
    first = clients.dynamodb(REGION)
    events = first.meta.events._emitter

    def handlers() -> list[tuple[str, Any]]:
        return [
            (name, h)
            for name in ("before-call", "before-send", "needs-retry", "after-call", "after-call-error")
            for h in events._handlers.prefix_search(f"{name}.dynamodb.DescribeTable")
        ]

    before = handlers()
    names = [f"table-{i}" for i in range(24)]
    with ThreadPoolExecutor(8) as pool:
        specs = list(pool.map(lambda n: read_table(clients.dynamodb(REGION), n, REGION), names))

    assert [s.name for s in specs if s is not None] == names
    assert built == {"dynamodb": 1}
    assert clients.dynamodb(REGION) is first
    # No handler was added per call or per table: the same ones, each of driftwatch's once.
    assert handlers() == before
    ours = [
        (event, h.__func__.__qualname__)
        for event, h in before
        if type(getattr(h, "__self__", None)).__module__.startswith("driftwatch.")
    ]
    assert sorted(ours) == [
        ("after-call", "ApiCallRecorder._after_call"),
        ("after-call", "CallDeadlines._after_call"),
        ("after-call-error", "ApiCallRecorder._after_call_error"),
        ("after-call-error", "CallDeadlines._after_call"),
        ("before-call", "CallDeadlines._before_call"),
        ("before-send", "RateLimiter._before_send"),
        ("needs-retry", "ApiCallRecorder._needs_retry"),
        ("needs-retry", "CallDeadlines._needs_retry"),
    ]
    recorder.attach(first)  # attaching again is a no-op: calls are not counted twice
    read_table(first, "one-more", REGION)
    assert recorder.snapshot()[("DescribeTable", "success")] == len(names) + 1
    assert stub.agents and all(agent.startswith("driftwatch/") for agent in stub.agents)


def test_what_parameter_validation_would_have_refused_is_refused_without_a_call(stub: Stub) -> None:
    client = AwsClients().dynamodb(REGION)
    with pytest.raises(LiveReadError) as raised:
        read_table(client, "", REGION)
    assert raised.value.code == "ParamValidationError"
    with pytest.raises(LiveReadError) as listed:
        list_table_names(client, REGION)  # the page's LastEvaluatedTableName is a number
    assert listed.value.code == "InvalidResponse" and "LastEvaluatedTableName" in str(listed.value)
    assert stub.attempts == {"ListTables": 1}
