"""AWS faults: the scan holds up, says what failed, and never turns a fault into drift.

The estate is the bundled ``examples/`` (targets prod and staging, five tables) created in the
embedded AWS (moto in-process) exactly as declared, plus the demo's console changes, so a
fault-free scan already finds drift; every fault run is compared with that fault-free run.

Faults are injected at the HTTP layer with a botocore ``before-send`` handler registered on
every session created from now on (the way moto hooks itself in) and ahead of moto's own
handler. ``before-send`` fires once per *attempt*, inside botocore's retry loop, so injected
throttling, 500s, timeouts and resets go through the real retry machinery (backoff, the
client-side rate limiting of the default ``limiter`` mode, the retry quota) -- unlike a
``before-call`` answer, which skips it. A rule either answers like AWS does when it refuses
(an error response), rewrites the request's URL to a local socket that misbehaves for real
(black hole, connection reset, closed port), or waits (a hung endpoint). Randomness is seeded
and decided per logical call, never per thread interleaving, so every run injects exactly the
same faults.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import logging
import random
import re
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import boto3
import botocore.handlers
import pytest
import structlog
from botocore.awsrequest import AWSPreparedRequest, AWSResponse, HTTPHeaders
from prometheus_client.parser import text_string_to_metric_families

import driftwatch.scan
from driftwatch.aws.calls import ApiCallRecorder
from driftwatch.aws.clients import AwsClients
from driftwatch.cli import main
from driftwatch.config import ConfigError, parse_config
from driftwatch.daemon import Daemon
from driftwatch.demo.run import apply_declared, console_changes, demo_targets
from driftwatch.metrics import DriftwatchMetrics
from driftwatch.scan import ScanSettings, scan
from driftwatch.spec import ScanReport, TableStatus
from driftwatch.terraform.modules import TargetInput

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
REGION = "us-east-1"
OTHER_REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's default account
MIMIR, ORDERS, SESSIONS = "acme-prod-mimir-index", "acme-prod-orders", "acme-prod-sessions"
STAGING_MIMIR, STAGING_ORDERS = "acme-staging-mimir-index", "acme-staging-orders"
SEED = 20260101
MAX_ATTEMPTS = 5  # AwsClients' default (config aws.max_attempts)

# --------------------------------------------------------------------------- fault injection


@dataclass(frozen=True)
class Attempt:
    """One HTTP attempt as it left botocore (retries are attempts too)."""

    service: str  # dynamodb, application-autoscaling, sts
    operation: str
    resource: str  # the table for table calls, the role for AssumeRole, "" for listings
    region: str
    number: int  # 1 for the first attempt of this logical call, 2 for its first retry, ...

    @property
    def call(self) -> tuple[str, str, str, str]:
        """The logical call: every attempt of one API call has the same key."""
        return (self.service, self.operation, self.resource, self.region)


Rule = Callable[[Attempt, AWSPreparedRequest], AWSResponse | None]


class _Raw(io.BytesIO):
    """The raw body botocore reads an ``AWSResponse`` from."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.getvalue()


def json_error(request: AWSPreparedRequest, code: str, message: str, status: int = 400) -> AWSResponse:
    """What a JSON-protocol service (dynamodb, application-autoscaling) answers when it refuses."""
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message})
    headers = HTTPHeaders()
    headers["Content-Type"] = "application/x-amz-json-1.0"
    return AWSResponse(request.url, status, headers, _Raw(body.encode()))


def query_error(request: AWSPreparedRequest, code: str, message: str, status: int = 400) -> AWSResponse:
    """What a query-protocol service (sts) answers when it refuses."""
    body = (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        "<RequestId>fault</RequestId></ErrorResponse>"
    )
    return AWSResponse(request.url, status, HTTPHeaders(), _Raw(body.encode()))


_REGION_IN_HOST = re.compile(r"\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com")


class Faults:
    """``before-send`` rules for every botocore session created after the fixture started.

    Rules are tried in order; the first answer wins. Every attempt is recorded (``attempts``),
    whether a rule touched it or not, so tests can count exactly what went over the wire.
    """

    SERVICES = ("dynamodb", "application-autoscaling", "sts")

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.rules: list[Rule] = []
        self.attempts: list[Attempt] = []
        self.enabled = True
        self._numbers: Counter[tuple[str, str, str, str]] = Counter()
        self._lock = threading.Lock()
        handlers = [(f"before-send.{service}", self._before_send) for service in self.SERVICES]
        monkeypatch.setattr(
            botocore.handlers, "BUILTIN_HANDLERS", [*botocore.handlers.BUILTIN_HANDLERS, *handlers]
        )

    def add(self, rule: Rule) -> None:
        self.rules.append(rule)

    def reset(self) -> None:
        """Forget rules and attempts (the next attempt of any call is number 1 again)."""
        with self._lock:
            self.rules.clear()
            self.attempts.clear()
            self._numbers.clear()

    def calls(self) -> set[tuple[str, str, str, str]]:
        return {attempt.call for attempt in self.attempts}

    def _before_send(self, request: AWSPreparedRequest, event_name: str, **_: Any) -> AWSResponse | None:
        service, operation = event_name.split(".", 2)[1:]
        region = _REGION_IN_HOST.search(request.url)
        call = (service, operation, _resource(service, request), region.group(1) if region else "")
        with self._lock:
            self._numbers[call] += 1
            attempt = Attempt(*call, number=self._numbers[call])
            self.attempts.append(attempt)
            rules = list(self.rules) if self.enabled else []
        for rule in rules:
            answer = rule(attempt, request)
            if answer is not None:
                return answer
        return None  # moto answers


def _resource(service: str, request: AWSPreparedRequest) -> str:
    body = request.body or b""
    text = body.decode() if isinstance(body, bytes) else str(body)
    if service == "sts":
        return parse_qs(text).get("RoleArn", [""])[0]
    params = json.loads(text or "{}")
    name = params.get("TableName") or params.get("ResourceArn") or ""
    return str(name).rsplit("/", 1)[-1]  # a table ARN ends in table/<name>


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch) -> Faults:
    return Faults(monkeypatch)


# --------------------------------------------------------------------------- misbehaving sockets


def closed_port() -> int:
    """A local port with nothing listening: connection refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def black_hole() -> Iterator[str]:
    """Accepts connections (the kernel's backlog) and never answers: a read timeout."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(32)
        yield f"http://127.0.0.1:{server.getsockname()[1]}/"


@pytest.fixture
def resetter() -> Iterator[str]:
    """Reads each request, then resets the connection (RST, not FIN): a connection reset."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(32)
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    conn.recv(65536)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/"
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()


def redirect(request: AWSPreparedRequest, url: str) -> None:
    """Send this attempt to ``url`` instead (moto's handler only answers AWS hostnames)."""
    request.url = url


# --------------------------------------------------------------------------- the estate


@pytest.fixture
def estate(embedded_aws: None, faults: Faults) -> list[TargetInput]:
    """The examples' five tables created as declared, then the demo's console changes."""
    targets = demo_targets(EXAMPLES)
    apply_declared(targets)
    console_changes()
    return targets


Row = tuple[str, tuple[tuple[str, Any, Any], ...], frozenset[str], str | None]


def comparable(report: ScanReport) -> dict[tuple[str, str | None, str | None], Row]:
    """Per (target, table, region): status, drift, unresolved attributes and error."""
    return {
        (row.target, row.table_name, row.region): (
            row.status.value,
            tuple(sorted((d.attribute, repr(d.declared), repr(d.live)) for d in row.drift)),
            frozenset(u.attribute for u in row.unresolved),
            row.error,
        )
        for row in report.tables
    }


def run_scan(
    targets: list[TargetInput], recorder: ApiCallRecorder | None = None, timeout: float = 120, **clients: Any
) -> ScanReport:
    aws = AwsClients(recorder=recorder, **clients)
    return scan(targets, aws, settings=ScanSettings(scan_timeout=timeout))


@pytest.fixture
def baseline(estate: list[TargetInput], faults: Faults) -> dict[tuple[str, str | None, str | None], Row]:
    """The fault-free result; ``faults.calls()`` then holds every logical call of a scan."""
    faults.reset()  # forget the provisioning calls
    report = run_scan(estate)
    assert report.errors == () and report.count(TableStatus.ERROR) == 0
    assert report.exit_code == 2  # the console changes are drift
    return comparable(report)


def key(table: str, target: str | None = None, region: str = REGION) -> tuple[str, str, str]:
    return (target or ("prod" if "-prod-" in table else "staging"), table, region)


def others(
    result: dict[tuple[str, str | None, str | None], Row], *tables: str
) -> dict[tuple[str, str | None, str | None], Row]:
    return {k: v for k, v in result.items() if k[1] not in tables}


def metric(text: str, name: str, **labels: str) -> float | None:
    """The value of one series in Prometheus text, or None when it is not there."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return None


# --------------------------------------------------------------------------- throttling


def test_throttling_bursts_on_30_percent_of_calls_give_exactly_the_fault_free_result(
    estate: list[TargetInput], faults: Faults, baseline: dict[Any, Row]
) -> None:
    """30% of the scan's API calls (a seeded sample) are throttled -- ThrottlingException or
    LimitExceededException -- for a burst of 1 or 2 attempts each. Retries absorb it:
    the report is exactly the fault-free one, and the cost is bounded and counted.

    Bound (count-based, no wall clock): every call makes at most ``max_attempts`` attempts,
    so attempts <= calls x max_attempts; here exactly calls + injected throttles, because each
    throttled attempt is followed by one retry and nothing else is retried. Each retry is
    counted, by operation,
    in ``driftwatch_aws_api_retries_total``. Time is bounded by botocore's capped backoff
    (throttling: rand x 1 s x 2^i, at most 20 s) and, whatever happens, by the scan deadline --
    which must not fire here.
    """
    calls = sorted(faults.calls())
    assert len(faults.attempts) == len(calls)  # fault-free: one attempt per call
    rng = random.Random(SEED)
    throttled = rng.sample(calls, round(0.3 * len(calls)))
    plan = {
        call: (rng.choice(["ThrottlingException", "LimitExceededException"]), rng.randint(1, 2))
        for call in throttled
    }
    faults.reset()

    def throttle(attempt: Attempt, request: AWSPreparedRequest) -> AWSResponse | None:
        code, burst = plan.get(attempt.call, ("", 0))
        return json_error(request, code, "Rate exceeded") if attempt.number <= burst else None

    faults.add(throttle)
    recorder = ApiCallRecorder()
    report = run_scan(estate, recorder)

    assert comparable(report) == baseline
    injected = sum(burst for _, burst in plan.values())
    assert {code for code, _ in plan.values()} == {"ThrottlingException", "LimitExceededException"}
    assert len(faults.calls()) == len(calls)
    assert len(faults.attempts) == len(calls) + injected <= len(calls) * MAX_ATTEMPTS
    # Every call succeeded exactly once (after its retries), and every retry was counted.
    assert sum(recorder.snapshot().values()) == len(calls)
    assert {outcome for _, outcome in recorder.snapshot()} == {"success"}
    expected_retries: Counter[str] = Counter()
    for (_, operation, _, _), (_, burst) in plan.items():
        expected_retries[operation] += burst
    assert recorder.retries() == dict(expected_retries)

    metrics = DriftwatchMetrics(version="test", recorder=recorder).render().decode()
    for operation, count in expected_retries.items():
        assert metric(metrics, "driftwatch_aws_api_retries_total", operation=operation) == count


@pytest.mark.parametrize(
    ("code", "attempts"),
    [("AccessDeniedException", 1), ("LimitExceededException", 3)],
    ids=["access-denied", "throttled-beyond-max-attempts"],
)
def test_autoscaling_that_cannot_be_read_is_unresolved_never_drift(
    estate: list[TargetInput], faults: Faults, baseline: dict[Any, Row], code: str, attempts: int
) -> None:
    """application-autoscaling refuses (AccessDenied: not retried) or throttles every attempt
    (retried up to max_attempts = 3 in botocore's standard retry mode, then given up; the
    default limiter mode retries a throttle to the 10th attempt: tests/test_aws_throttling.py).
    Tables are still compared on everything else; what the autoscaler owns (its targets, the
    capacity inside them) is unresolved with the cause -- the GSI capacity the console pushed
    beyond its range is no longer claimed as drift -- and the scan exits 1 with the cause in ``errors``."""
    faults.reset()
    faults.add(
        lambda attempt, request: (
            json_error(request, code, "refused by the fault injector")
            if attempt.operation == "DescribeScalableTargets"
            else None
        )
    )
    recorder = ApiCallRecorder()
    report = run_scan(estate, recorder, max_attempts=3, retry_mode="standard")

    assert report.exit_code == 1
    assert report.count(TableStatus.ERROR) == 0
    messages = [error.message for error in report.errors]
    assert len(messages) == 2 and all("DescribeScalableTargets" in m and code in m for m in messages)
    result = comparable(report)
    for where, (_, drift, unresolved, error) in result.items():
        base_drift = baseline[where][1]
        assert error is None and set(drift) <= set(base_drift)
        assert not any("autoscaling" in d[0] or "capacity" in d[0] for d in drift)
        # Whatever is no longer drift is unresolved instead: a missed finding, never a false one.
        assert {d[0] for d in base_drift} - {d[0] for d in drift} <= unresolved
    mimir = next(row for row in report.tables if row.table_name == MIMIR)
    assert {d.attribute for d in mimir.drift} == {"point_in_time_recovery"}
    reasons = {u.attribute: u.reason for u in mimir.unresolved}
    assert code in reasons["gsi.tenant-index.read_capacity"] and code in reasons["autoscaling.read.min"]
    tried = [a for a in faults.attempts if a.operation == "DescribeScalableTargets"]
    assert len(tried) == attempts
    assert recorder.snapshot()[("DescribeScalableTargets", code)] == 1
    assert recorder.retries().get("DescribeScalableTargets", 0) == attempts - 1


# --------------------------------------------------------------------------- one table refused


def test_access_denied_on_one_table_is_its_error_and_every_other_table_is_checked(
    estate: list[TargetInput], faults: Faults, baseline: dict[Any, Row]
) -> None:
    faults.reset()
    message = (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/driftwatch/ci is not authorized to perform: "
        "dynamodb:DescribeTable"
    )
    faults.add(
        lambda attempt, request: (
            json_error(request, "AccessDeniedException", message)
            if (attempt.operation, attempt.resource) == ("DescribeTable", ORDERS)
            else None
        )
    )
    recorder = ApiCallRecorder()
    report = run_scan(estate, recorder)

    result = comparable(report)
    status, _, _, error = result[key(ORDERS)]
    assert status == "error" and error is not None
    assert error.startswith(f"DescribeTable failed for table '{ORDERS}' in {REGION}: AccessDeniedException: ")
    assert others(result, ORDERS) == others(baseline, ORDERS)
    assert report.exit_code == 1
    assert recorder.snapshot()[("DescribeTable", "AccessDeniedException")] == 1
    assert "DescribeTable" not in recorder.retries()  # refused is final: not retried
    # The refused table costs no further call.
    assert {a.operation for a in faults.attempts if a.resource == ORDERS} == {"DescribeTable"}


def test_a_read_iam_denies_after_describe_table_costs_only_its_attributes_and_is_said(
    estate: list[TargetInput], faults: Faults, baseline: dict[Any, Row]
) -> None:
    """A policy without ``dynamodb:ListTagsOfResource`` (or DescribeContinuousBackups,
    DescribeTimeToLive) made every table an error: the PITR switched off in the console went
    unreported for want of the tags. Now what the denied read supplies is unresolved with the
    cause, the rest of each table is compared as without the fault, and the scan says it once
    per (target, region, operation) and exits 1."""
    denied = {
        ("ListTagsOfResource", ORDERS),
        ("DescribeContinuousBackups", MIMIR),
        ("DescribeTimeToLive", STAGING_ORDERS),
        ("DescribeTimeToLive", STAGING_MIMIR),
    }
    faults.reset()
    faults.add(
        lambda attempt, request: (
            json_error(
                request, "AccessDeniedException", f"not authorized to perform: dynamodb:{attempt.operation}"
            )
            if (attempt.operation, attempt.resource) in denied
            else None
        )
    )
    recorder = ApiCallRecorder()
    report = run_scan(estate, recorder)

    result = comparable(report)
    lost = {ORDERS: "tags", MIMIR: "point_in_time_recovery", STAGING_ORDERS: "ttl", STAGING_MIMIR: "ttl"}
    for table, attribute in lost.items():
        _, base_drift, _, _ = baseline[key(table)]
        status, drift, _, error = result[key(table)]
        kept = tuple(d for d in base_drift if d[0] != attribute and not d[0].startswith(f"{attribute}."))
        assert (drift, error) == (kept, None)
        assert status == ("drifted" if kept else "in_sync")
        reasons = {
            u.attribute: u.reason for row in report.tables if row.table_name == table for u in row.unresolved
        }
        hidden = [a for a in reasons if a == attribute or a.startswith(f"{attribute}.")]
        assert hidden and all("AccessDeniedException" in reasons[a] for a in hidden)
    assert {d[0] for d in baseline[key(MIMIR)][1]} >= {"point_in_time_recovery"}  # the drift it hid
    assert others(result, *lost) == others(baseline, *lost)
    messages = sorted((error.target, error.message) for error in report.errors)
    assert [(target, message.split(" failed")[0]) for target, message in messages] == [
        ("prod", "DescribeContinuousBackups"),
        ("prod", "ListTagsOfResource"),
        ("staging", "DescribeTimeToLive"),
    ]
    pitr = "its point_in_time_recovery is unresolved, the rest of the table was compared"
    assert messages[0][1].endswith(pitr)
    assert messages[1][1].endswith("its tags are unresolved, the rest of the table was compared")
    assert "(and 1 more tables); their ttl.enabled and ttl.attribute are unresolved" in messages[2][1]
    assert report.exit_code == 1
    calls = recorder.snapshot()
    assert calls[("ListTagsOfResource", "AccessDeniedException")] == 1
    assert calls[("DescribeTimeToLive", "AccessDeniedException")] == 2


# --------------------------------------------------------------------------- transport faults


def test_timeouts_and_connection_resets_error_only_the_affected_tables(
    estate: list[TargetInput], faults: Faults, baseline: dict[Any, Row], black_hole: str, resetter: str
) -> None:
    """Real sockets: one table's calls go to an endpoint that never answers (read timeout),
    another's to one that resets the connection. Both are retried (transient), then reported
    as that table's error with the cause; every other table is checked as before."""
    faults.reset()

    def misroute(attempt: Attempt, request: AWSPreparedRequest) -> None:
        if attempt.resource == SESSIONS:
            redirect(request, black_hole)
        elif attempt.resource == STAGING_ORDERS:
            redirect(request, resetter)

    faults.add(misroute)
    recorder = ApiCallRecorder()
    report = run_scan(estate, recorder, max_attempts=2, connect_timeout=0.5, read_timeout=0.5)

    result = comparable(report)
    timed_out, reset = result[key(SESSIONS)], result[key(STAGING_ORDERS)]
    assert timed_out[0] == "error" and f"DescribeTable failed for table '{SESSIONS}'" in str(timed_out[3])
    assert ": Timeout: " in str(timed_out[3])
    assert reset[0] == "error" and f"DescribeTable failed for table '{STAGING_ORDERS}'" in str(reset[3])
    assert ": ConnectionError: " in str(reset[3])
    assert others(result, SESSIONS, STAGING_ORDERS) == others(baseline, SESSIONS, STAGING_ORDERS)
    assert report.exit_code == 1
    calls = recorder.snapshot()
    assert calls[("DescribeTable", "Timeout")] == 1 and calls[("DescribeTable", "ConnectionError")] == 1
    assert recorder.retries()["DescribeTable"] == 2  # each retried once (max_attempts 2)
    assert len([a for a in faults.attempts if a.resource in (SESSIONS, STAGING_ORDERS)]) == 4


def test_an_unreachable_region_errors_its_tables_and_the_other_region_is_checked(
    embedded_aws: None, faults: Faults
) -> None:
    """staging lives in eu-west-1, whose endpoints (dynamodb and application-autoscaling) are
    a closed port: connection refused, retried, then each staging table is an error naming the
    region and the cause, its autoscaling an error of the target; prod, in us-east-1, is
    checked exactly as in a fault-free scan."""
    prod, staging = demo_targets(EXAMPLES)
    # The root's provider takes var.region (as Terraform, it wins over the target's region).
    targets = [prod, dataclasses.replace(staging, vars={**staging.vars, "region": OTHER_REGION})]
    apply_declared(targets)
    before = comparable(run_scan(targets))
    assert {where[2] for where in before} == {REGION, OTHER_REGION}
    unreachable = f"http://127.0.0.1:{closed_port()}/"
    faults.reset()
    faults.add(
        lambda attempt, request: redirect(request, unreachable) if attempt.region == OTHER_REGION else None
    )
    recorder = ApiCallRecorder()
    report = run_scan(targets, recorder, max_attempts=3)

    result = comparable(report)
    for table in (STAGING_MIMIR, STAGING_ORDERS):
        status, _, _, error = result[key(table, region=OTHER_REGION)]
        assert status == "error"
        assert f"DescribeTable failed for table '{table}' in {OTHER_REGION}: ConnectionError: " in str(error)
    assert {k: v for k, v in result.items() if k[2] == REGION} == {
        k: v for k, v in before.items() if k[2] == REGION
    }
    assert [
        (e.target, OTHER_REGION in e.message and "ConnectionError" in e.message) for e in report.errors
    ] == [("staging", True)]
    assert report.exit_code == 1
    assert all(a.number <= 3 for a in faults.attempts)
    assert recorder.retries()["DescribeTable"] == 2 * 2  # two tables, three attempts each


# --------------------------------------------------------------------------- credentials


def test_expired_credentials_make_each_table_an_error_with_a_clear_cause(
    estate: list[TargetInput], faults: Faults
) -> None:
    faults.reset()
    faults.add(
        lambda attempt, request: json_error(
            request, "ExpiredTokenException", "The security token included in the request is expired"
        )
    )
    recorder = ApiCallRecorder()
    report = run_scan(estate, recorder)

    assert report.exit_code == 1
    assert {row.status for row in report.tables} == {TableStatus.ERROR} and len(report.tables) == 5
    for row in report.tables:
        assert row.error == (
            f"DescribeTable failed for table '{row.table_name}' in {REGION}: ExpiredTokenException: "
            "The security token included in the request is expired "
            "(hint: the AWS credentials have expired; renew them)"
        )
    assert all("ExpiredTokenException" in error.message for error in report.errors)
    assert recorder.retries() == {}  # not retryable: one attempt per call
    # One call per table and one for the region's autoscaling (its listing stops at the first).
    assert len(faults.attempts) == 5 + 1


def test_expired_base_credentials_when_assuming_a_role_error_that_targets_tables_only(
    estate: list[TargetInput], faults: Faults, baseline: dict[Any, Row]
) -> None:
    """STS (a query-protocol service) says ``ExpiredToken``: the role's target is an error on
    each of its tables, at the cost of one AssumeRole; the other target is checked."""
    role = f"arn:aws:iam::{ACCOUNT}:role/driftwatch-read-only"
    prod, staging = estate
    targets = [dataclasses.replace(prod, role_arn=role), staging]
    faults.reset()
    faults.add(
        lambda attempt, request: (
            query_error(request, "ExpiredToken", "The security token included in the request is expired")
            if attempt.operation == "AssumeRole"
            else None
        )
    )
    report = run_scan(targets)

    result = comparable(report)
    for table in (MIMIR, ORDERS, SESSIONS):
        status, _, _, error = result[key(table)]
        assert status == "error"
        assert str(error).startswith(
            f"cannot assume role {role}: AssumeRole failed in {REGION}: ExpiredToken: "
        )
        assert "hint: the AWS credentials have expired" in str(error)
    assert {k: v for k, v in result.items() if k[0] == "staging"} == {
        k: v for k, v in baseline.items() if k[0] == "staging"
    }
    assert [a.operation for a in faults.attempts if a.service == "sts"] == ["AssumeRole"]
    assert not [a for a in faults.attempts if a.resource in (MIMIR, ORDERS, SESSIONS)]
    assert report.exit_code == 1


# --------------------------------------------------------------------------- races


def test_a_table_deleted_between_two_of_its_calls_is_missing_not_an_error(
    estate: list[TargetInput], faults: Faults, baseline: dict[Any, Row]
) -> None:
    """DescribeTable finds the table; before DescribeTimeToLive it is deleted. The truth is
    that the table is gone (``terraform plan`` would create it), so the row is ``missing`` --
    a finding, exit 2 -- never an error row or a half-read table compared as drift."""
    console = boto3.client("dynamodb", region_name=REGION)
    faults.reset()

    def delete_before_ttl(attempt: Attempt, request: AWSPreparedRequest) -> None:
        if (attempt.operation, attempt.resource, attempt.number) == ("DescribeTimeToLive", STAGING_ORDERS, 1):
            console.delete_table(TableName=STAGING_ORDERS)

    faults.add(delete_before_ttl)
    report = run_scan(estate)

    result = comparable(report)
    assert result[key(STAGING_ORDERS)] == (
        "missing",
        (("table", repr(STAGING_ORDERS), "None"),),
        frozenset(),
        None,
    )
    assert others(result, STAGING_ORDERS) == others(baseline, STAGING_ORDERS)
    assert [a.operation for a in faults.attempts if a.resource == STAGING_ORDERS][:2] == [
        "DescribeTable",
        "DescribeTimeToLive",
    ]
    assert report.exit_code == 2


def test_an_exception_while_comparing_one_table_is_its_error_and_the_scan_goes_on(
    estate: list[TargetInput], faults: Faults, baseline: dict[Any, Row], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever a live value can still do to the comparison (a bug in ``diff`` meeting a shape
    no test foresaw) stays that table's error. Reading already was guarded so; comparing ran
    on the same read worker unguarded, and ``run_bounded`` raised it in the scan: no report at
    all, every other table unchecked."""
    real_diff = driftwatch.scan.diff

    def diff_failing_on_orders(declared: Any, live: Any, **kwargs: Any) -> Any:
        if live.name == ORDERS:
            raise TypeError("'<' not supported between instances of 'str' and 'int'")
        return real_diff(declared, live, **kwargs)

    monkeypatch.setattr(driftwatch.scan, "diff", diff_failing_on_orders)
    faults.reset()
    report = run_scan(estate)

    result = comparable(report)
    status, _, _, error = result[key(ORDERS)]
    assert status == "error"
    assert error == "unexpected error: TypeError(\"'<' not supported between instances of 'str' and 'int'\")"
    assert others(result, ORDERS) == others(baseline, ORDERS)
    assert report.exit_code == 1


def test_a_table_dynamodb_cannot_use_is_an_error_and_a_table_or_gsi_being_changed_waits(
    estate: list[TargetInput], faults: Faults, baseline: dict[Any, Row], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table whose KMS key is inaccessible (DynamoDB archives it after seven days), archived,
    or in a status the API reference does not list is not changing towards anything: its
    drift used to be held back as "compared again next scan" and the row was ``in_sync``, on
    every scan, for ever. It is an error naming the status (exit 1). A table being changed
    (UPDATING) still has its drift held back for the scan, and now so has a GSI being changed
    in an ACTIVE table (a GSI removed from git and being deleted was an extra GSI: drift);
    the table's other drift still alerts."""
    statuses = {
        ORDERS: "INACCESSIBLE_ENCRYPTION_CREDENTIALS",
        STAGING_ORDERS: "MIGRATING",
        SESSIONS: "UPDATING",
    }

    def describe_as(parsed: Any, **_: Any) -> None:
        table = parsed.get("Table") if isinstance(parsed, dict) else None
        if not isinstance(table, dict):
            return
        if table.get("TableName") in statuses:
            table["TableStatus"] = statuses[table["TableName"]]
        for index in table.get("GlobalSecondaryIndexes", []) if table.get("TableName") == MIMIR else []:
            index["IndexStatus"] = "UPDATING"

    handlers = [*botocore.handlers.BUILTIN_HANDLERS, ("after-call.dynamodb.DescribeTable", describe_as)]
    monkeypatch.setattr(botocore.handlers, "BUILTIN_HANDLERS", handlers)
    faults.reset()
    # DynamoDB may say "not found" of a table that is not ACTIVE ("When a Table is ARCHIVED,
    # ListTags returns ResourceNotFoundException": the Terraform provider). Such a table was
    # `missing` (exit 2), so an unusable table never got its error, a table being changed was
    # a false alarm. DescribeTable is asked again, and finds it: its status decides.
    not_found = {(ORDERS, "ListTagsOfResource"), (SESSIONS, "DescribeTimeToLive")}
    faults.add(
        lambda attempt, request: (
            json_error(request, "ResourceNotFoundException", "Requested resource not found")
            if (attempt.resource, attempt.operation) in not_found
            else None
        )
    )
    report = run_scan(estate)

    result = comparable(report)
    for table in (ORDERS, STAGING_ORDERS):
        error = f"the table is {statuses[table]}: DynamoDB cannot use it as it is, so it is not compared"
        assert result[key(table)][:2] == ("error", ()) and result[key(table)][3] == error
    held_back = {attribute for attribute, _, _ in baseline[key(SESSIONS)][1]}
    assert held_back and result[key(SESSIONS)][:2] == ("in_sync", ())
    assert held_back | {"ttl.enabled"} <= result[key(SESSIONS)][2]
    assert [a.operation for a in faults.attempts if a.resource == SESSIONS].count("DescribeTable") == 2
    mimir_drift = {attribute for attribute, _, _ in baseline[key(MIMIR)][1]}
    gsi = {a for a in mimir_drift if a.startswith("gsi.tenant-index.")}
    assert gsi and {a for a, _, _ in result[key(MIMIR)][1]} == mimir_drift - gsi == {"point_in_time_recovery"}
    reasons = {
        u.attribute: u.reason for row in report.tables if row.table_name == MIMIR for u in row.unresolved
    }
    assert all(reasons[a] == "GSI tenant-index is UPDATING; compared again next scan" for a in gsi)
    assert others(result, MIMIR, ORDERS, STAGING_ORDERS, SESSIONS) == others(
        baseline, MIMIR, ORDERS, STAGING_ORDERS, SESSIONS
    )
    assert report.exit_code == 1


# --------------------------------------------------------------------------- the scan deadline


HANG_SECONDS = 30  # how long a Hang holds at most, so nothing leaks: only a broken scan waits it out

# The threads a scan does its AWS work on (scan.run_bounded's workers, the autoscaling listing).
SCAN_THREADS = ("driftwatch-read", "driftwatch-assume", "driftwatch-autoscaling", "driftwatch-list")
LISTING_THREAD = "driftwatch-background"  # waits for the driftwatch-autoscaling workers
_holding: set[threading.Thread] = set()  # the threads a Hang is holding right now
_holding_lock = threading.Lock()


class Hang:
    """A rule that holds matching attempts until released (or HANG_SECONDS)."""

    def __init__(self, operation: str, resource: str | None = None) -> None:
        self.operation, self.resource = operation, resource
        self.released = threading.Event()
        self.held = 0

    def __call__(self, attempt: Attempt, request: AWSPreparedRequest) -> None:
        if attempt.operation == self.operation and self.resource in (None, attempt.resource):
            self.held += 1
            with _holding_lock:
                _holding.add(threading.current_thread())
            try:
                self.released.wait(timeout=HANG_SECONDS)
            finally:
                with _holding_lock:
                    _holding.discard(threading.current_thread())


class HeldDeadline(driftwatch.scan.Deadline):
    """A scan deadline that passes exactly when the scan has nothing left to do but wait for
    the hung calls: a Hang is holding and every other thread of the scan has finished.

    On the wall clock, a deadline of a few seconds races the rest of the scan (evaluating the
    Terraform, reading the other tables): on a loaded machine the other tables were late too,
    and the test failed for nothing. Held like this, what the deadline cuts off is decided by
    the scan's order of work alone. Until then it is a deadline of HANG_SECONDS, so a scan that
    never reaches the hung call still ends; ``seconds`` (what the errors say) is the configured
    one. scan.run_bounded asks the deadline again every DEADLINE_RECHECK_SECONDS while it waits.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(seconds, clock)
        self._existing = set(threading.enumerate())  # an earlier scan's threads are not this one's
        self._bound = time.monotonic() + HANG_SECONDS
        self._passed = False

    def remaining(self) -> float:
        if self._passed or self._only_hung_calls_left():
            self._passed = True
            return 0.0
        return max(0.0, self._bound - time.monotonic())

    def _only_hung_calls_left(self) -> bool:
        with _holding_lock:
            holding = _holding - self._existing
        if not holding:
            return False
        listing_hung = any(thread.name.startswith("driftwatch-autoscaling") for thread in holding)
        for thread in threading.enumerate():
            if thread in self._existing or thread in holding:
                continue
            if thread.name.startswith(SCAN_THREADS) or (thread.name == LISTING_THREAD and not listing_hung):
                return False
        return True


@pytest.fixture
def hang(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Hang]]:
    """Hung calls, and the scan deadline held until they are all that is left (HeldDeadline)."""
    monkeypatch.setattr(driftwatch.scan, "Deadline", HeldDeadline)
    made: list[Hang] = []

    def make(operation: str, resource: str | None = None) -> Hang:
        made.append(Hang(operation, resource))
        return made[-1]

    yield make
    for item in made:
        item.released.set()
    # Let the released calls finish while moto is still in place (they were cut off by the
    # deadline and run on driftwatch's daemon worker threads; their answers are discarded).
    for thread in threading.enumerate():
        if thread.name.startswith((*SCAN_THREADS, LISTING_THREAD)):
            thread.join(timeout=10)


@pytest.fixture
def _restore_logging() -> Iterator[None]:
    """main() points the root logger at the captured stderr; give later tests theirs back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    structlog_config = structlog.get_config()
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.configure(**structlog_config)


def write_config(tmp_path: Path, aws: str, extra: str = "") -> Path:
    path = tmp_path / "driftwatch.yaml"
    path.write_text(
        f"repo: {EXAMPLES}\n"
        "targets:\n"
        "  - {name: prod, root: envs/prod, var_files: [prod.tfvars], region: us-east-1}\n"
        "  - {name: staging, root: envs/staging, var_files: [staging.tfvars], region: us-east-1}\n"
        "pending_grace: 0s\n"
        f"aws: {aws}\n{extra}"
    )
    return path


@pytest.mark.usefixtures("_restore_logging")
def test_a_hung_endpoint_cannot_outlast_the_scan_deadline_and_the_one_shot_exits_1(
    estate: list[TargetInput],
    faults: Faults,
    baseline: dict[Any, Row],
    hang: Callable[..., Hang],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`aws.scan_timeout: 2s` and one table's DescribeTable never answering (longer than any
    botocore timeout would allow): `driftwatch scan` returns after the deadline, that table is
    an error saying so, every other table is checked, exit 1."""
    faults.reset()
    stuck = hang("DescribeTable", MIMIR)
    faults.add(stuck)
    output = tmp_path / "report.json"
    code = main(
        [
            "scan",
            "--config",
            str(write_config(tmp_path, "{scan_timeout: 2s}")),
            "--format",
            "json",
            "--output",
            str(output),
        ]
    )

    assert code == 1
    # Still hanging when the scan returned: had the scan waited for the call instead, the Hang
    # would have let it through after HANG_SECONDS and MIMIR would be read, not an error.
    assert stuck.held == 1 and not stuck.released.is_set()
    tables = {t["table_name"]: t for t in json.loads(output.read_text())["tables"]}
    assert tables[MIMIR]["status"] == "error"
    assert tables[MIMIR]["error"] == "scan deadline of 2 s exceeded before this table was read"
    statuses = {name: t["status"] for name, t in tables.items() if name != MIMIR}
    assert statuses == {where[1]: row[0] for where, row in baseline.items() if where[1] != MIMIR}
    assert "Traceback" not in capsys.readouterr().err


LATE = "scan deadline of 1.5 s exceeded"


@pytest.mark.parametrize("phase", ["AssumeRole", "DescribeScalableTargets", "ListTables"])
def test_the_deadline_bounds_every_aws_phase_of_a_scan(
    estate: list[TargetInput],
    faults: Faults,
    baseline: dict[Any, Row],
    hang: Callable[..., Hang],
    phase: str,
) -> None:
    """Roles are assumed before any table is read; autoscaling is listed while the tables are
    read; unmanaged tables are listed after. Whichever of them hangs, the scan returns at its
    deadline and says what the deadline cut off: a hung AssumeRole leaves every table of that
    role unread (an error each), a hung autoscaling listing only the autoscaling (every table
    is still read and compared, its capacity unresolved), a hung ListTables only the unmanaged
    discovery (tables are as before)."""
    role = f"arn:aws:iam::{ACCOUNT}:role/driftwatch-read-only"
    prod, staging = estate
    targets = [
        dataclasses.replace(prod, role_arn=role) if phase == "AssumeRole" else prod,
        dataclasses.replace(staging, unmanaged_prefixes=("acme-",)) if phase == "ListTables" else staging,
    ]
    faults.reset()
    stuck = hang(phase)
    faults.add(stuck)
    report = run_scan(targets, timeout=1.5)

    assert stuck.held == 1
    assert report.exit_code == 1
    errors = {row.table_name: row.error for row in report.tables}
    table_late = f"{LATE} before this table was read"
    autoscaling_late = f"application-autoscaling could not be read in {REGION}: {LATE} before it answered"
    if phase == "AssumeRole":
        role_late = f"cannot assume role {role}: {LATE} before AssumeRole answered"
        assert errors == {MIMIR: role_late, ORDERS: role_late, SESSIONS: role_late} | {
            STAGING_MIMIR: table_late,
            STAGING_ORDERS: table_late,
        }
        # staging's autoscaling was never listed either: the deadline had passed.
        assert [(e.target, e.message.split(";")[0]) for e in report.errors] == [("staging", autoscaling_late)]
    elif phase == "DescribeScalableTargets":
        assert set(errors.values()) == {None}
        assert {row.status for row in report.tables} <= {TableStatus.IN_SYNC, TableStatus.DRIFTED}
        assert any("autoscaling" in u.reason for row in report.tables for u in row.unresolved)
        assert [(e.target, e.message.split(";")[0]) for e in report.errors] == [
            ("prod", autoscaling_late),
            ("staging", autoscaling_late),
        ]
    else:
        assert comparable(report) == baseline
        assert [(e.target, e.message) for e in report.errors] == [
            (
                "staging",
                f"unmanaged tables could not be listed in {REGION}: {LATE} before ListTables answered",
            )
        ]


def test_scan_timeout_is_a_validated_config_key_with_a_ten_minute_default(tmp_path: Path) -> None:
    base: dict[str, Any] = {"targets": [{"name": "prod", "root": "."}]}
    assert parse_config(base).aws.scan_timeout.total_seconds() == 600
    assert parse_config({**base, "aws": {"scan_timeout": "90s"}}).aws.scan_timeout.total_seconds() == 90
    with pytest.raises(ConfigError, match=r"aws\.scan_timeout: .*longer than 0"):
        parse_config({**base, "aws": {"scan_timeout": "0s"}})
    with pytest.raises(ConfigError, match=r"aws\.scan_timeout: .*not a duration"):
        parse_config({**base, "aws": {"scan_timeout": "soon"}})
    assert ScanSettings().scan_timeout == 600


# --------------------------------------------------------------------------- the daemon


def test_the_daemon_carries_on_through_faults_says_what_failed_and_recovers(
    estate: list[TargetInput],
    faults: Faults,
    baseline: dict[Any, Row],
    hang: Callable[..., Hang],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One scheduled scan with three faults -- AccessDenied on one table, a 500 that botocore
    retries away on another, a third table hung past the deadline -- is ``partial``, and
    /metrics says what failed; the next, fault-free scan is a ``success`` again."""
    monkeypatch.delenv("DRIFTWATCH_TEST_UNSET_WEBHOOK", raising=False)
    config = parse_config(
        {
            "repo": str(EXAMPLES),
            "targets": [
                {"name": env, "root": f"envs/{env}", "var_files": [f"{env}.tfvars"], "region": REGION}
                for env in ("prod", "staging")
            ],
            "pending_grace": "0s",
            "http": {"host": "127.0.0.1", "port": closed_port()},  # never started here
            "state": {"path": str(tmp_path / "state.db")},
            "slack": {"webhook_url_env": "DRIFTWATCH_TEST_UNSET_WEBHOOK"},
            "aws": {"scan_timeout": "5s"},  # the others must finish first, on a loaded runner too
        }
    )
    daemon = Daemon(config, tmp_path)
    faults.reset()
    stuck = hang("DescribeTable", STAGING_MIMIR)
    faults.add(stuck)
    faults.add(
        lambda attempt, request: (
            json_error(request, "AccessDeniedException", "not authorized")
            if (attempt.operation, attempt.resource) == ("DescribeTable", ORDERS)
            else None
        )
    )
    faults.add(
        lambda attempt, request: (
            json_error(request, "InternalServerError", "try again", status=500)
            if (attempt.operation, attempt.resource, attempt.number) == ("DescribeTimeToLive", SESSIONS, 1)
            else None
        )
    )
    try:
        first = daemon.scan_once()
        text = daemon.metrics.render().decode()

        assert first is not None and first.exit_code == 1
        errors = {row.table_name: row.error for row in first.tables if row.status is TableStatus.ERROR}
        assert set(errors) == {ORDERS, STAGING_MIMIR}
        assert "scan deadline of 5 s exceeded" in str(errors[STAGING_MIMIR])
        assert metric(text, "driftwatch_scans_total", result="partial") == 1
        assert metric(text, "driftwatch_scans_total", result="success") == 0
        assert metric(text, "driftwatch_last_successful_scan_timestamp_seconds") == 0
        calls = "driftwatch_aws_api_calls_total"
        assert metric(text, calls, operation="DescribeTable", outcome="AccessDeniedException") == 1
        assert metric(text, calls, operation="DescribeTimeToLive", outcome="success") is not None
        assert metric(text, "driftwatch_aws_api_retries_total", operation="DescribeTimeToLive") == 1
        for table, target in ((ORDERS, "prod"), (STAGING_MIMIR, "staging")):
            labels = {"target": target, "table": table, "region": REGION, "status": "error"}
            assert metric(text, "driftwatch_table_status", **labels) == 1
        assert metric(text, "driftwatch_tables", target="prod", status="error") == 1
        assert metric(text, "driftwatch_tables", target="staging", status="error") == 1

        faults.enabled = False
        stuck.released.set()
        second = daemon.scan_once()
        text = daemon.metrics.render().decode()

        assert second is not None and comparable(second) == baseline
        assert metric(text, "driftwatch_scans_total", result="partial") == 1
        assert metric(text, "driftwatch_scans_total", result="success") == 1
        assert (metric(text, "driftwatch_last_successful_scan_timestamp_seconds") or 0) > 0
        assert metric(text, "driftwatch_tables", target="prod", status="error") == 0
        assert metric(text, "driftwatch_tables", target="staging", status="error") == 0
    finally:
        stuck.released.set()
        daemon.history.close()
