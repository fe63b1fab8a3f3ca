"""Deliveries you can alert on (issue 14, item 6), the webhook operator mistakes of item 9, and
the superseded drift of issue 13 as Slack shows it.

- Slack's documented status codes decide retry or drop: a broken webhook or channel keeps the
  message and retries (loudly); only a message Slack can never accept is dropped, counted, and
  kept visible in the outbox and in ``driftwatch_outbox_messages{status="dropped"}``;
- the outbox's pending count and the age of its oldest message are metrics; every outcome
  counter exists at 0 from the start;
- the top-level ``text`` (push notifications) is escaped like the blocks;
- a webhook URL pasted into ``slack.webhook_url_file`` is refused by ``validate`` and ``run``
  in one line, and never printed; a malformed webhook URL is one line, not a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog
from prometheus_client.parser import text_string_to_metric_families
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from driftwatch.cli import main
from driftwatch.history import History, ResolveReason, Transition, TransitionKind, Transitions
from driftwatch.metrics import DriftwatchMetrics
from driftwatch.notify.slack import (
    SlackConfigError,
    SlackNotifier,
    build_message,
    classify_rejection,
    load_webhook_url,
)
from driftwatch.spec import SourceLocation

HOOK = "/services/T0ALERT/B0ALERT/alerting-secret-token"
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def history(tmp_path: Path) -> Iterator[History]:
    with History.open(tmp_path / "state.db") as h:
        yield h


class Script:
    def __init__(self, *responses: tuple[int, str]) -> None:
        self.responses = list(responses)
        self.received: list[dict[str, Any]] = []

    def __call__(self, request: Request) -> Response:
        self.received.append(json.loads(request.get_data()))
        status, body = self.responses.pop(0) if self.responses else (200, "ok")
        return Response(body, status=status)


def samples(metrics: DriftwatchMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


# --- retry or drop, the way Slack documents its status codes -----------------------------------


@pytest.mark.parametrize(
    ("status", "body", "verdict"),
    [
        (400, "invalid_payload", "drop"),
        (400, "too_many_attachments", "drop"),
        (400, "invalid_blocks", "drop"),  # an unknown 400 is about the request itself
        (413, "", "drop"),
        (400, "user_not_found", "webhook"),
        (400, "no_service_id", "webhook"),
        (403, "action_prohibited", "webhook"),
        (403, "invalid_token", "webhook"),
        (403, "posting_to_general_channel_denied", "webhook"),
        (404, "channel_not_found", "webhook"),
        (404, "no_service", "webhook"),
        (404, "team_disabled", "webhook"),
        (410, "channel_is_archived", "webhook"),
        (400, '{"ok":false,"error":"no_service_id"}', "webhook"),  # the word inside JSON
        (404, '{"ok":false,"error":"invalid_payload"}', "drop"),
        (401, "", "webhook"),
        (408, "", "retry"),
        (500, "rollup_error", "retry"),
        (503, "", "retry"),
    ],
)
def test_slack_status_codes_decide_retry_or_drop(status: int, body: str, verdict: str) -> None:
    assert classify_rejection(status, body) == verdict


def test_a_broken_webhook_keeps_the_message_and_retries_it(httpserver: HTTPServer, history: History) -> None:
    script = Script((404, "channel_not_found"), (410, "channel_is_archived"))
    httpserver.expect_request(HOOK, method="POST").respond_with_handler(script)
    outcomes: list[str] = []
    slack = SlackNotifier(httpserver.url_for(HOOK), history, on_outcome=outcomes.append)
    message_id = history.enqueue("slack", {"text": "drift", "blocks": []}, T0)
    with structlog.testing.capture_logs() as events:
        assert slack.deliver_pending(T0) == 0
        assert slack.deliver_pending(T0 + timedelta(hours=2)) == 0
        assert slack.deliver_pending(T0 + timedelta(hours=4)) == 1  # fixed: delivered after all
    assert outcomes == ["retry", "retry", "success"]
    rejected = [e for e in events if e["event"] == "slack_webhook_rejected"]
    assert len(rejected) == 2 and rejected[0]["log_level"] == "error" and "hint" in rejected[0]
    message = history.message(message_id)
    assert message is not None and message.status.value == "sent" and message.attempts == 3


def test_a_message_slack_refuses_for_good_is_dropped_counted_and_kept_visible(
    httpserver: HTTPServer, history: History
) -> None:
    httpserver.expect_request(HOOK, method="POST").respond_with_handler(Script((400, "invalid_payload")))
    metrics = DriftwatchMetrics(version="test")
    metrics.notification_channel("slack")
    slack = SlackNotifier(
        httpserver.url_for(HOOK), history, on_outcome=lambda o: metrics.notification("slack", o)
    )
    message_id = history.enqueue("slack", {"text": "drift", "blocks": []}, T0)
    with structlog.testing.capture_logs() as events:
        slack.deliver_pending(T0)
    (dropped,) = [e for e in events if e["event"] == "slack_message_dropped"]
    assert dropped["log_level"] == "error" and dropped["status"] == 400
    message = history.message(message_id)
    assert message is not None and message.status.value == "dropped"
    assert message.last_error == "HTTP 400: invalid_payload"
    stats = history.stats()["slack"]
    assert (stats.pending, stats.sent, stats.dropped) == (0, 0, 1)
    metrics.observe_outbox("slack", pending=0, sent=0, dropped=1, oldest_pending=None)
    found = samples(metrics)
    assert found[("driftwatch_notifications_total", (("channel", "slack"), ("outcome", "dropped")))] == 1
    assert found[("driftwatch_outbox_messages", (("channel", "slack"), ("status", "dropped")))] == 1


def test_outbox_backlog_metrics_and_zero_filled_counters(history: History) -> None:
    metrics = DriftwatchMetrics(version="test")
    metrics.notification_channel("slack")
    found = samples(metrics)
    for outcome in ("success", "retry", "error", "dropped"):  # there before the first delivery
        assert found[("driftwatch_notifications_total", (("channel", "slack"), ("outcome", outcome)))] == 0
    now = datetime.now(UTC)
    history.enqueue("slack", {"text": "old"}, now - timedelta(minutes=40))
    history.enqueue("slack", {"text": "new"}, now)
    stats = history.stats()["slack"]
    assert stats.pending == 2 and stats.oldest_pending == now - timedelta(minutes=40)
    metrics.observe_outbox(
        "slack",
        pending=stats.pending,
        sent=stats.sent,
        dropped=stats.dropped,
        oldest_pending=stats.oldest_pending,
    )
    found = samples(metrics)
    assert found[("driftwatch_outbox_messages", (("channel", "slack"), ("status", "pending")))] == 2
    age = found[("driftwatch_outbox_oldest_pending_age_seconds", (("channel", "slack"),))]
    assert 40 * 60 <= age < 41 * 60  # computed at scrape time
    metrics.observe_outbox("slack", pending=0, sent=2, dropped=0, oldest_pending=None)
    assert samples(metrics)[("driftwatch_outbox_oldest_pending_age_seconds", (("channel", "slack"),))] == 0


FAILING = ("driftwatch_outbox_oldest_pending_attempts", (("channel", "slack"),))


def test_a_failing_channel_is_on_metrics_between_hourly_retries_and_after_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The failed attempts of the oldest undelivered message, from the outbox: above 0 while
    its retries wait an hour apart (a count of recent failures reads 0 there, and
    DriftwatchSlackDeliveryFailing resolved and paged again at each retry), and right after a
    restart, before any new attempt; 0 once a delivery gets through."""
    from tests.test_daemon_faults import make_daemon

    daemon = make_daemon(tmp_path, monkeypatch, "http://127.0.0.1:1/services/T0/B0/unreachable")
    try:
        assert samples(daemon.metrics)[FAILING] == 0
        daemon.history.enqueue("slack", {"text": "drift"}, datetime.now(UTC))
        daemon.deliver()  # connection refused: retried with backoff
        assert samples(daemon.metrics)[FAILING] == 1
    finally:
        daemon.history.close()
    restarted = make_daemon(tmp_path, monkeypatch, "http://127.0.0.1:1/services/T0/B0/unreachable")
    try:
        assert samples(restarted.metrics)[FAILING] == 1  # nothing attempted by this process yet
        (message,) = restarted.history.undelivered()
        restarted.history.mark_sent(message.id, datetime.now(UTC))
        restarted.history.enqueue("slack", {"text": "next"}, datetime.now(UTC))
        restarted.deliver(wait=False, budget=0)  # nothing sent: the gauges are read again
        assert samples(restarted.metrics)[FAILING] == 0  # the new head was never tried
    finally:
        restarted.history.close()


# --- the top-level text is escaped like the blocks ---------------------------------------------


def _transition(kind: TransitionKind, table: str, attribute: str, declared: Any, live: Any) -> Transition:
    return Transition(
        kind,
        "prod",
        table,
        attribute,
        "us-east-1",
        f"module.{table}",
        SourceLocation("main.tf", 3),
        declared,
        live,
        first_seen=T0,
        at=T0 + timedelta(hours=1),
    )


def test_the_top_level_text_neutralises_mentions_and_disguised_links() -> None:
    hostile = _transition(
        TransitionKind.NEW, "orders", "tags.Owner", "<!channel> ping", "<https://evil.example/|click me>"
    )
    message = build_message(Transitions((hostile,), "abc", T0), repo_url=None, commit="abc")
    assert message is not None
    text = message["text"]
    assert "<!channel>" not in text and "<https://evil.example/" not in text
    assert "&lt;!channel&gt;" in text and "&lt;https://evil.example/|click me&gt;" in text
    blocks = json.dumps(message["blocks"])
    assert "<!channel>" not in blocks and "<https://evil.example" not in blocks


# --- superseded drift (issue 13) in Slack --------------------------------------------------------


def test_slack_says_the_table_is_missing_and_does_not_list_its_old_drift_as_resolved(
    history: History,
) -> None:
    from driftwatch.spec import Drift, ScanReport, TableResult, TableStatus

    def row(status: TableStatus, *drift: Drift) -> TableResult:
        return TableResult(
            "prod", "module.orders", SourceLocation("main.tf", 3), "orders", "us-east-1", status, drift
        )

    payloads: list[dict[str, Any]] = []

    def on_scan(transitions: Transitions) -> dict[str, Any] | None:
        payload = build_message(transitions, repo_url=None, commit=transitions.commit)
        if payload is not None:
            payloads.append(payload)
        return payload

    history.add_channel("slack", on_scan, lambda episodes, now: None)
    history.record_scan(
        ScanReport(T0, "c1", (row(TableStatus.DRIFTED, Drift("point_in_time_recovery", True, False)),))
    )
    history.record_scan(
        ScanReport(
            T0 + timedelta(minutes=5), "c1", (row(TableStatus.MISSING, Drift("table", "orders", None)),)
        )
    )
    gone = payloads[-1]
    everything = json.dumps(gone)
    assert "Tables missing in AWS" in everything and "Resolved drift" not in everything
    assert "the table itself is missing now" in everything  # its old drift, under the missing table
    assert gone["text"].startswith("DynamoDB drift: 1 missing")
    assert "resolved" not in gone["text"]
    assert "superseded: prod/orders point_in_time_recovery" in gone["text"]


def test_drift_of_a_table_no_longer_watched_is_not_announced_as_resolved(history: History) -> None:
    """A table whose drift is still open when its target leaves the config (or the table leaves
    git) is no longer compared: nothing was fixed. Its episodes closed as "no longer declared",
    even for a target removed from the config whose files still declare the table, and Slack
    listed them under ":white_check_mark: Resolved drift" with a green header. Now a target
    no longer configured closes them as "target no longer configured", and both reasons are
    said under "No longer watched", never "resolved"."""
    from driftwatch.spec import Drift, ScanReport, TableResult, TableStatus

    def row(target: str, table: str) -> TableResult:
        return TableResult(
            target,
            f"aws_dynamodb_table.{table}",
            SourceLocation("main.tf", 3),
            table,
            "us-east-1",
            TableStatus.DRIFTED,
            (Drift("point_in_time_recovery", True, False),),
        )

    payloads: list[dict[str, Any]] = []

    def on_scan(transitions: Transitions) -> dict[str, Any] | None:
        payload = build_message(transitions, repo_url=None, commit=transitions.commit)
        if payload is not None:
            payloads.append(payload)
        return payload

    history.add_channel("slack", on_scan, lambda episodes, now: None)
    both = {"prod", "staging"}
    first = ScanReport(T0, "c1", (row("prod", "orders"), row("staging", "users")))
    history.record_scan(first, configured=both)
    # "staging" leaves the config; in "prod", the orders table leaves git.
    history.record_scan(ScanReport(T0 + timedelta(minutes=5), "c2", ()), configured={"prod"})
    reasons = {(e.target, e.resolved_reason) for e in history.episodes()}
    assert reasons == {("prod", "no longer declared"), ("staging", "target no longer configured")}
    gone = payloads[-1]
    everything = json.dumps(gone)
    assert "No longer watched" in everything and "Resolved drift" not in everything
    assert ":white_check_mark:" not in everything
    assert gone["text"].startswith("DynamoDB drift: 2 no longer watched")
    assert "resolved" not in gone["text"]
    line = "no longer watched: staging/users point_in_time_recovery in us-east-1: target no longer configured"
    assert line in gone["text"]
    blocks = json.dumps(gone["blocks"], ensure_ascii=False)
    assert "drift (`true` → `false`) is no longer compared: target no longer configured" in blocks
    unmanaged = Transition(
        TransitionKind.RESOLVED,
        "prod",
        "t",
        "table",
        "us-east-1",
        None,
        None,
        None,
        "t",
        T0,
        T0,
        reason=ResolveReason.NOT_ALERTED.value,
    )
    quiet = build_message([unmanaged], repo_url=None, commit=None)
    assert quiet is not None and "Resolved drift" not in json.dumps(quiet)
    assert "in AWS but not declared in git: unmanaged, no longer alerted" in json.dumps(quiet)


# --- webhook operator mistakes (item 9) ---------------------------------------------------------


def write_config(tmp_path: Path, slack: str) -> Path:
    root = Path(__file__).resolve().parents[1] / "examples"
    path = tmp_path / "driftwatch.yaml"
    path.write_text(
        f"repo: {root}\ntargets:\n  - {{name: prod, root: envs/prod, var_files: [prod.tfvars]}}\n"
        f"state: {{path: {tmp_path / 'state.db'}}}\nslack: {slack}\n"
    )
    return path


def test_a_webhook_url_pasted_into_the_file_setting_is_refused_by_validate_and_run_unechoed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"https://hooks.slack.com{HOOK}"
    config = write_config(tmp_path, f"{{webhook_url_file: '{url}'}}")
    for command in (["validate", "--config", str(config)], ["run", "--config", str(config)]):
        assert main(command) == 1
        captured = capsys.readouterr()
        output = captured.out + captured.err
        assert "alerting-secret-token" not in output and "T0ALERT" not in output
        assert "slack.webhook_url_file: Value error, holds a URL, not a file path" in output
        assert "Traceback" not in output
    assert not (tmp_path / "state.db").exists()  # stopped before anything was opened
    with pytest.raises(SlackConfigError) as caught:  # the loader refuses it too, unechoed
        load_webhook_url(None, url, {})
    assert "alerting-secret-token" not in str(caught.value)


@pytest.mark.parametrize(
    "url", ["https://[fe80::1/services/x-secret-part", "https://hooks.example:port/x-secret-part"]
)
def test_a_malformed_webhook_url_is_one_line_without_traceback(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SlackConfigError, match="is not a valid URL") as caught:
        load_webhook_url("DW_HOOK", None, {"DW_HOOK": url})
    assert "x-secret-part" not in str(caught.value)
    monkeypatch.setenv("DW_ALERTING_HOOK", url)
    config = write_config(tmp_path, "{webhook_url_env: DW_ALERTING_HOOK}")
    assert main(["run", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "is not a valid URL" in err and "Traceback" not in err and "x-secret-part" not in err
    assert len(err.strip().splitlines()) == 1


def test_the_daemon_exports_its_outbox_after_each_delivery(
    tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from driftwatch.config import load_config
    from driftwatch.daemon import Daemon

    httpserver.expect_request(HOOK, method="POST").respond_with_handler(Script((400, "invalid_payload")))
    monkeypatch.setenv("DW_ALERTING_HOOK", httpserver.url_for(HOOK))
    config = write_config(tmp_path, "{webhook_url_env: DW_ALERTING_HOOK}")
    config.write_text(config.read_text() + "http: {host: 127.0.0.1, port: 1}\n")
    monkeypatch.setattr("driftwatch.daemon.Endpoint", lambda *args, **kwargs: None)  # no port needed
    daemon = Daemon(*load_config(config))
    try:
        before = samples(daemon.metrics)
        assert before[("driftwatch_notifications_total", (("channel", "slack"), ("outcome", "dropped")))] == 0
        assert before[("driftwatch_outbox_messages", (("channel", "slack"), ("status", "pending")))] == 0
        daemon.history.enqueue("slack", {"text": "refused", "blocks": []}, datetime.now(UTC))
        daemon.history.enqueue("slack", {"text": "delivered", "blocks": []}, datetime.now(UTC))
        daemon.deliver()
        after = samples(daemon.metrics)
        assert after[("driftwatch_notifications_total", (("channel", "slack"), ("outcome", "dropped")))] == 1
        assert after[("driftwatch_notifications_total", (("channel", "slack"), ("outcome", "success")))] == 1
        assert after[("driftwatch_outbox_messages", (("channel", "slack"), ("status", "dropped")))] == 1
        assert after[("driftwatch_outbox_messages", (("channel", "slack"), ("status", "sent")))] == 1
        assert after[("driftwatch_outbox_oldest_pending_age_seconds", (("channel", "slack"),))] == 0
    finally:
        daemon.history.close()


def test_a_channel_unreachable_for_long_keeps_its_newest_messages_within_a_bound(
    history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slack down for a week while drift comes and goes queued ~2,000 messages: the database grew
    without bound, and Slack, once back, received hours of stale messages. A channel now keeps
    its newest messages within the bound; the oldest are dropped, said, counted and logged;
    another channel is untouched."""
    from driftwatch.history import outbox

    monkeypatch.setattr(outbox, "MAX_PENDING_PER_CHANNEL", 3)
    with structlog.testing.capture_logs() as logs:
        ids = [history.enqueue("slack", {"text": f"m{i}"}, T0 + timedelta(minutes=i)) for i in range(5)]
        other = history.enqueue("ops", {"text": "o"}, T0)
    assert [m.id for m in history.pending("slack", T0 + timedelta(hours=1))] == ids[2:]
    assert [m.id for m in history.pending("ops", T0 + timedelta(hours=1))] == [other]
    stats = history.stats()
    assert (stats["slack"].pending, stats["slack"].dropped) == (3, 2)
    assert stats["slack"].oldest_pending == T0 + timedelta(minutes=2)
    dropped = history.message(ids[0])
    assert dropped is not None and dropped.last_error is not None
    assert "more than 3 messages waited for this channel" in dropped.last_error
    assert [(e["event"], e["dropped"]) for e in logs if e["event"] == "outbox_overflow"] == [
        ("outbox_overflow", 1),
        ("outbox_overflow", 1),
    ]


def test_the_shared_test_server_never_blocks_in_accept(httpserver: HTTPServer) -> None:
    """The suite's shared Slack stand-in (tests/conftest.py): a wake-up with no connection left
    to accept -- a client that gave up between select() and accept() -- returns at once. With
    pytest-httpserver's blocking socket it blocked forever, and the worker hung at the end of
    a full run."""
    import threading

    assert httpserver.server is not None
    handled = threading.Thread(target=httpserver.server._handle_request_noblock, daemon=True)
    handled.start()
    handled.join(5)
    assert not handled.is_alive()
