"""Slack: messages built from transitions, delivered from the outbox to a local webhook server.

pytest-httpserver plays Slack (never the internet). Delivery is driven with a fake ``now`` so
that Retry-After and backoff need no real sleeping. The webhook URL carries a fake secret path
that must never show up in logs or in the database file.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
import structlog
from pytest_httpserver import HTTPServer
from slack_sdk.webhook import WebhookClient
from werkzeug import Request, Response

from driftwatch.history import History, Transition, TransitionKind, Transitions
from driftwatch.notify import SlackConfigError, SlackNotifier, build_message, build_reminder, load_webhook_url
from driftwatch.notify.slack import (
    MAX_BLOCKS,
    MAX_SECTION_CHARS,
    backoff_seconds,
    console_url,
    retry_after_seconds,
)
from driftwatch.spec import Drift, ScanReport, SourceLocation, TableResult, TableStatus

SECRET = "SECRETxyz"
HOOK_PATH = f"/services/T000/B000/{SECRET}"
REPO = "https://github.com/acme/infra"
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
PITR = Drift("point_in_time_recovery", True, False)


def table(name: str, *drift: Drift, status: TableStatus | None = None) -> TableResult:
    if status is None:
        status = TableStatus.DRIFTED if drift else TableStatus.IN_SYNC
    return TableResult(
        target="prod",
        address=f"module.{name}",
        source=SourceLocation("modules/storage/main.tf", 12),
        table_name=name,
        region="eu-west-1",
        status=status,
        drift=drift,
    )


def scan(*rows: TableResult, commit: str = "0123456789abcdef") -> ScanReport:
    return ScanReport(generated_at=T0, commit=commit, tables=rows)


@dataclass
class FakeSlack:
    """A webhook endpoint that answers from a script (then 200) and records what it got."""

    url: str
    script: list[Response] = field(default_factory=list)
    requests: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def handle(self, request: Request) -> Response:
        payload = json.loads(request.get_data())
        response = self.script.pop(0) if self.script else Response("ok", status=200)
        self.requests.append((response.status_code, payload))
        return response

    @property
    def accepted(self) -> list[dict[str, Any]]:
        return [payload for status, payload in self.requests if status == 200]


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """slack_sdk honours HTTP(S)_PROXY (and ignores NO_PROXY): keep the local server local."""
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def slack(httpserver: HTTPServer) -> FakeSlack:
    fake = FakeSlack(httpserver.url_for(HOOK_PATH))
    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_handler(fake.handle)
    return fake


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "driftwatch.db"


@pytest.fixture
def history(db_path: Path) -> Iterator[History]:
    with History.open(db_path) as h:
        yield h


def notifier(url: str, history: History, outcomes: list[str] | None = None) -> SlackNotifier:
    sink = outcomes if outcomes is not None else []
    return SlackNotifier(url, history, timeout=5, on_outcome=sink.append, repo_url=REPO)


def all_text(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False)


# --- delivery ---------------------------------------------------------------------------------------


def test_429_then_500_then_200_delivers_each_message_exactly_once(slack: FakeSlack, history: History) -> None:
    outcomes: list[str] = []
    slack_notifier = notifier(slack.url, history, outcomes)
    slack.script = [
        Response("ok", status=200),
        Response("rate_limited", status=429, headers={"Retry-After": "1"}),
        Response("internal error", status=500),
        Response("ok", status=200),
    ]
    history.record_scan(scan(table("orders", PITR)), T0)
    assert slack_notifier.deliver_pending(T0) == 1

    history.record_scan(scan(table("orders", PITR), table("users", Drift("billing_mode", "A", "B"))), T0)
    assert slack_notifier.deliver_pending(T0) == 0  # 429
    assert slack_notifier.deliver_pending(T0 + timedelta(milliseconds=500)) == 0  # Retry-After not over
    assert len(slack.requests) == 2
    assert slack_notifier.deliver_pending(T0 + timedelta(seconds=1)) == 0  # 500
    assert slack_notifier.deliver_pending(T0 + timedelta(seconds=2)) == 0  # backing off (>= 24 s)
    assert len(slack.requests) == 3
    assert slack_notifier.deliver_pending(T0 + timedelta(hours=2)) == 1
    assert slack_notifier.deliver_pending(T0 + timedelta(days=1)) == 0

    assert outcomes == ["success", "retry", "retry", "success"]
    assert [status for status, _ in slack.requests] == [200, 429, 500, 200]
    first, second = slack.accepted
    assert "point_in_time_recovery" in all_text(first) and "point_in_time_recovery" not in all_text(second)
    assert "billing_mode" in all_text(second)
    assert history.pending_count() == 0

    blocks = first["blocks"]
    assert blocks[0]["type"] == "header"
    text = all_text(first)
    assert "`true` → `false`" in text
    assert console_url("orders", "eu-west-1") in text
    console = "https://eu-west-1.console.aws.amazon.com/dynamodbv2/home?region=eu-west-1#table?name=orders"
    assert console in text
    assert f"<{REPO}/blob/0123456789abcdef/modules/storage/main.tf#L12|modules/storage/main.tf:12>" in text
    assert first["text"].startswith("DynamoDB drift: 1 new")


def test_a_restart_between_failure_and_recovery_still_delivers_once(slack: FakeSlack, db_path: Path) -> None:
    slack.script = [Response("upstream down", status=503)]
    with History.open(db_path) as before:
        first = notifier(slack.url, before)
        before.record_scan(scan(table("orders", PITR)), T0)
        assert first.deliver_pending(T0) == 0

    with History.open(db_path) as after:  # the pod restarted
        second = notifier(slack.url, after)
        assert not after.record_scan(scan(table("orders", PITR)), T0 + timedelta(minutes=5))  # no re-alert
        assert second.deliver_pending(T0 + timedelta(minutes=5)) == 1  # the backoff (~30 s) is over
        assert second.deliver_pending(T0 + timedelta(hours=3)) == 0
    assert len(slack.accepted) == 1
    assert "point_in_time_recovery" in all_text(slack.accepted[0])


def test_unchanged_drift_is_not_repeated_and_a_fix_is_announced(slack: FakeSlack, history: History) -> None:
    slack_notifier = notifier(slack.url, history)
    history.record_scan(scan(table("orders", PITR)), T0)
    slack_notifier.deliver_pending(T0)
    history.record_scan(scan(table("orders", PITR)), T0 + timedelta(minutes=5))
    slack_notifier.deliver_pending(T0 + timedelta(minutes=5))
    assert len(slack.accepted) == 1

    history.record_scan(scan(table("orders")), T0 + timedelta(minutes=10))  # someone fixed the table
    slack_notifier.deliver_pending(T0 + timedelta(minutes=10))
    assert len(slack.accepted) == 2
    resolved = slack.accepted[1]
    assert "Resolved" in all_text(resolved) and "point_in_time_recovery" in all_text(resolved)
    assert resolved["text"].startswith("DynamoDB drift: 1 resolved")


def test_a_rejected_message_is_dropped_not_retried(slack: FakeSlack, history: History) -> None:
    outcomes: list[str] = []
    slack_notifier = notifier(slack.url, history, outcomes)
    slack.script = [Response("invalid_blocks", status=400)]
    history.record_scan(scan(table("orders", PITR)), T0)
    history.record_scan(scan(table("orders")), T0 + timedelta(minutes=5))
    # the first is dropped, the second is still delivered (a bad message does not block the queue)
    assert slack_notifier.deliver_pending(T0 + timedelta(minutes=5)) == 1
    assert slack_notifier.deliver_pending(T0 + timedelta(days=2)) == 0
    assert outcomes == ["dropped", "success"]
    assert len(slack.requests) == 2
    dropped = history.message(1)
    assert dropped is not None and dropped.status.value == "dropped"
    assert dropped.last_error == "HTTP 400: invalid_blocks"


def test_retry_after_as_an_http_date_is_honoured(slack: FakeSlack, history: History) -> None:
    slack_notifier = notifier(slack.url, history)
    retry_at = format_datetime(T0 + timedelta(minutes=2))
    slack.script = [Response("rate_limited", status=429, headers={"Retry-After": retry_at})]
    history.record_scan(scan(table("orders", PITR)), T0)
    slack_notifier.deliver_pending(T0)
    message = history.message(1)
    assert message is not None and message.next_attempt_at == T0 + timedelta(minutes=2)
    assert slack_notifier.deliver_pending(T0 + timedelta(minutes=1)) == 0
    assert slack_notifier.deliver_pending(T0 + timedelta(minutes=2)) == 1


def test_a_retry_after_header_echoing_the_webhook_is_not_stored(
    slack: FakeSlack, history: History, db_path: Path
) -> None:
    """A proxy in front of Slack that echoes the request URL in its 429's ``Retry-After``:
    the header was stored as the message's error unscrubbed (every other stored error is
    scrubbed), so the webhook's secret path sat in the state file."""
    slack_notifier = notifier(slack.url, history)
    slack.script = [Response("rate_limited", status=429, headers={"Retry-After": slack.url})]
    history.record_scan(scan(table("orders", PITR)), T0)
    assert slack_notifier.deliver_pending(T0) == 0
    message = history.message(1)
    assert message is not None and message.last_error is not None
    assert "429" in message.last_error and SECRET not in message.last_error
    history.close()
    assert SECRET.encode() not in b"".join(p.read_bytes() for p in db_path.parent.glob(f"{db_path.name}*"))


def test_retry_after_and_backoff_rules() -> None:
    assert retry_after_seconds("1", T0) == 1.0
    assert retry_after_seconds(" 2.5 ", T0) == 2.5
    assert retry_after_seconds(format_datetime(T0 + timedelta(seconds=90)), T0) == 90.0
    assert retry_after_seconds(format_datetime(T0 - timedelta(seconds=90)), T0) == 0.0
    assert retry_after_seconds("99999999", T0) == 3600.0
    assert retry_after_seconds("soon", T0) is None
    assert retry_after_seconds(None, T0) is None
    assert retry_after_seconds("nan", T0) is None
    assert 24 <= backoff_seconds(0) <= 36
    assert 48 <= backoff_seconds(1) <= 72
    assert backoff_seconds(50) <= 3600


def test_a_connection_error_is_retried_later(db_path: Path, slack: FakeSlack) -> None:
    outcomes: list[str] = []
    with History.open(db_path) as h:
        dead = SlackNotifier(f"http://127.0.0.1:1{HOOK_PATH}", h, on_outcome=outcomes.append)
        h.record_scan(scan(table("orders", PITR)), T0)
        assert dead.deliver_pending(T0) == 0
        message = h.message(1)
        assert message is not None and message.status.value == "pending" and message.attempts == 1
        assert message.last_error is not None and SECRET not in message.last_error
        assert outcomes == ["error"]
    with History.open(db_path) as h:  # e.g. the network is back after a restart
        alive = notifier(slack.url, h)
        assert alive.deliver_pending(T0 + timedelta(hours=1)) == 1


def test_reminders_go_through_the_outbox(slack: FakeSlack, history: History) -> None:
    slack_notifier = notifier(slack.url, history)
    history.record_scan(scan(table("orders", PITR)), T0)
    due = history.due_reminders(T0 + timedelta(hours=24), timedelta(hours=24))
    history.record_reminders(due, T0 + timedelta(hours=26))
    assert slack_notifier.deliver_pending(T0 + timedelta(hours=26)) == 2
    reminder = slack.accepted[1]
    assert "still open" in reminder["text"]
    assert "open for 1d 2h" in all_text(reminder)


# --- the secret ---------------------------------------------------------------------------------------


def test_the_webhook_url_is_never_logged_or_stored(
    slack: FakeSlack,
    db_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)  # slack_sdk logs the URL at debug level unless silenced
    slack.script = [
        Response("rate_limited", status=429, headers={"Retry-After": "1"}),
        Response(f"oops at {HOOK_PATH}", status=500),  # a body that echoes the path
        Response("invalid_blocks", status=400),
    ]
    with structlog.testing.capture_logs() as events, History.open(db_path) as h:
        slack_notifier = notifier(slack.url, h)
        h.record_scan(scan(table("orders", PITR)), T0)
        slack_notifier.deliver_pending(T0)
        slack_notifier.deliver_pending(T0 + timedelta(seconds=1))
        slack_notifier.deliver_pending(T0 + timedelta(hours=1))  # 400 -> dropped

        url = slack.url

        def leaky_send(self: WebhookClient, body: dict[str, Any], headers: Any = None) -> Any:
            raise OSError(f"cannot reach {url}: connection reset")  # like urllib errors can

        monkeypatch.setattr(WebhookClient, "send_dict", leaky_send)
        h.record_scan(scan(table("orders")), T0 + timedelta(hours=2))
        slack_notifier.deliver_pending(T0 + timedelta(hours=2))
        assert SECRET not in repr(slack_notifier)
        errors = [h.message(i) for i in (1, 2)]
        assert all(m is not None and m.last_error and SECRET not in m.last_error for m in errors)

    # werkzeug's access log belongs to the fake Slack server, not to driftwatch
    ours = [record.getMessage() for record in caplog.records if not record.name.startswith("werkzeug")]
    logged = "\n".join([*(str(event) for event in events), *ours, *capsys.readouterr()])
    assert "slack_send_failed" in logged and "slack_server_error" in logged and "slack_rate_limited" in logged
    assert SECRET not in logged
    assert "<secret>" in logged  # scrubbed, not just absent
    for file in db_path.parent.glob(db_path.name + "*"):  # the database and its WAL
        assert SECRET.encode() not in file.read_bytes(), file


def test_load_webhook_url(tmp_path: Path) -> None:
    secret_file = tmp_path / "slack"
    secret_file.write_text(f"  https://hooks.slack.com{HOOK_PATH}\n")
    assert load_webhook_url("DW_HOOK", str(secret_file), {}) == f"https://hooks.slack.com{HOOK_PATH}"
    # a configured file wins over the (always configured, defaulted) variable
    assert load_webhook_url("DW_HOOK", str(secret_file), {"DW_HOOK": "https://x.test/a"}) == (
        f"https://hooks.slack.com{HOOK_PATH}"
    )
    assert load_webhook_url("DW_HOOK", None, {"DW_HOOK": " https://x.test/hook "}) == "https://x.test/hook"
    assert load_webhook_url("DW_HOOK", None, {}) is None
    assert load_webhook_url("DW_HOOK", None, {"DW_HOOK": ""}) is None
    assert load_webhook_url(None, None, {"DW_HOOK": "https://x.test/hook"}) is None

    absent = tmp_path / "absent"
    with pytest.raises(SlackConfigError, match=str(absent)):
        load_webhook_url("DW_HOOK", str(absent), {})
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(SlackConfigError, match="empty"):
        load_webhook_url("DW_HOOK", str(empty), {})
    garbage = tmp_path / "garbage"
    garbage.write_text(f"token-{SECRET}")
    with pytest.raises(SlackConfigError) as caught:
        load_webhook_url("DW_HOOK", str(garbage), {})
    assert SECRET not in str(caught.value) and str(garbage) in str(caught.value)


# --- message building ---------------------------------------------------------------------------------


def _transition(kind: TransitionKind, name: str, attribute: str = "tags.Team", **kw: Any) -> Transition:
    values: dict[str, Any] = {"declared": "storage", "live": "platform"} | kw
    return Transition(
        kind=kind,
        target="prod",
        table=name,
        attribute=attribute,
        region="us-east-1",
        address=f"module.{name}",
        source=SourceLocation("envs/prod/main.tf", 7),
        first_seen=T0,
        at=T0 + timedelta(hours=3),
        **values,
    )


def test_nothing_changed_means_no_message() -> None:
    assert build_message(Transitions((), None, T0), repo_url=REPO, commit="abc") is None
    assert build_message([], repo_url=None, commit=None) is None
    assert build_reminder([]) is None


def test_message_sections_links_and_escaping() -> None:
    items = (
        _transition(TransitionKind.MISSING, "audit", "table", declared="audit", live=None),
        _transition(TransitionKind.NEW, "orders", declared="<b>&", live="x`y"),
        _transition(
            TransitionKind.CHANGED,
            "orders",
            "read_capacity",
            declared=5,
            live=7,
            previous_declared=5,
            previous_live=6,
        ),
        _transition(TransitionKind.RESOLVED, "users", "billing_mode", reason="fixed"),
    )
    message = build_message(Transitions(items, "abc", T0), repo_url=None, commit="abc")
    assert message is not None
    text = all_text(message)
    for heading in ("Tables missing in AWS", "New drift", "Changed drift", "Resolved drift"):
        assert heading in text
    assert "`&lt;b&gt;&amp;` → `x'y`" in text  # mrkdwn escaped, backticks cannot break out
    assert "`7`  (was `5` → `6`)" in text
    assert "fixed after 3h 0m" in text
    assert "`envs/prod/main.tf:7`" in text and "/blob/" not in text  # no repo_url: plain text
    assert message["blocks"][0]["type"] == "header"
    assert "1 missing, 1 new, 1 changed, 1 resolved" in message["text"]


def test_limits_sixty_drifts_fit_in_fifty_blocks() -> None:
    items = tuple(_transition(TransitionKind.NEW, f"table-{i:02d}") for i in range(60))
    message = build_message(Transitions(items, "abc", T0), repo_url=REPO, commit="abc")
    assert message is not None
    assert len(message["blocks"]) <= MAX_BLOCKS
    assert any("more" in json.dumps(block) for block in message["blocks"][-3:])
    assert "more" in message["text"] and len(message["text"]) <= 3000
    shown = sum("table-" in json.dumps(block) for block in message["blocks"])
    assert shown >= 40


def test_limits_one_table_with_many_long_values_stays_under_3000_chars() -> None:
    items = tuple(
        _transition(TransitionKind.NEW, "orders", f"tags.Key{i}", declared="v" * 500, live="w" * 500)
        for i in range(60)
    )
    message = build_message(Transitions(items, "abc", T0), repo_url=REPO, commit="abc")
    assert message is not None
    sections = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert all(len(s) <= MAX_SECTION_CHARS for s in sections)
    assert any(s.rstrip().endswith("more") for s in sections)
    assert "…" in all_text(message)  # long values are cut


def test_reminder_message() -> None:
    with History.open(":memory:") as h:
        drifts = scan(table("orders", PITR), table("audit", Drift("table", "audit", None)))
        h.record_scan(drifts, T0)
        h.record_scan(drifts, T0 + timedelta(days=2, hours=1))  # the scan the reminder follows
        episodes = h.episodes(open_only=True)
    message = build_reminder(episodes, repo_url=REPO, now=T0 + timedelta(days=2, hours=1))
    assert message is not None
    text = all_text(message)
    assert "still open" in message["blocks"][0]["text"]["text"]
    assert "`point_in_time_recovery`: `true` → `false`  (open for 2d 1h)" in text
    assert "missing in AWS for 2d 1h" in text
    assert f"{REPO}/blob/0123456789abcdef/modules/storage/main.tf#L12" in text
    # a repo below the checkout's top (``repo: /checkout/terraform``): links count from the top
    below = build_reminder(episodes, repo_url=REPO, now=T0, repo_subdir="terraform")
    assert below is not None
    assert f"{REPO}/blob/0123456789abcdef/terraform/modules/storage/main.tf#L12" in all_text(below)
    items = (_transition(TransitionKind.NEW, "orders"),)
    message = build_message(
        Transitions(items, "abc", T0), repo_url=REPO, commit="abc", repo_subdir="infra/tf"
    )
    assert message is not None and f"{REPO}/blob/abc/infra/tf/envs/prod/main.tf#L7" in all_text(message)


def test_a_slow_pass_dates_each_answer_when_it_came(httpserver: HTTPServer, history: History) -> None:
    """A pass whose sends take ten minutes each: the 429 at the end of it asked for a minute from
    then. Dated with the pass's starting clock, its Retry-After had already run out, so the
    next pass (15 s later) hammered the rate-limited webhook again."""
    elapsed = [0.0]
    slack = FakeSlack(httpserver.url_for(HOOK_PATH))
    slack.script = [
        Response("ok", status=200),
        Response("rate_limited", status=429, headers={"Retry-After": "60"}),
    ]

    def slow(request: Request) -> Response:
        elapsed[0] += 600.0
        return slack.handle(request)

    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_handler(slow)
    slack_notifier = notifier(slack.url, history)
    history.record_scan(scan(table("orders", PITR)), T0)
    history.record_scan(scan(table("orders", PITR), table("users", PITR)), T0)
    assert slack_notifier.deliver_pending(lambda: T0 + timedelta(seconds=elapsed[0])) == 1
    waiting = history.message(2)
    assert waiting is not None and waiting.next_attempt_at == T0 + timedelta(minutes=21)
    assert slack_notifier.deliver_pending(T0 + timedelta(minutes=20, seconds=15)) == 0
    assert len(slack.requests) == 2
