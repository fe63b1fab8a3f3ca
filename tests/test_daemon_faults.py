"""Faults that used to make the daemon go quiet: a Slack webhook that never finishes answering,
a wall clock that jumps back, a state file deleted under the running daemon.

Slack is a local socket server (never the internet); the scan is a stand-in returning a report,
so each test takes well under a second.
"""

from __future__ import annotations

import dataclasses
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import driftwatch.daemon as daemon_module
from driftwatch.config import load_config
from driftwatch.daemon import Daemon
from driftwatch.history import History, HistoryError, StateLockedError
from driftwatch.metrics import DriftwatchMetrics
from driftwatch.notify.slack import SlackNotifier
from driftwatch.spec import Drift, NotEvaluated, ScanReport, TableStatus, TargetError, Unresolved
from tests.test_daemon_shutdown import drifted_report
from tests.test_outbox_alerting import samples

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)


class DripSlack:
    """A webhook that accepts the request and then sends its answer one byte every 50 ms, forever:
    no single read ever waits long enough for a socket timeout."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(8)
        self.requests = 0
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.getsockname()[1]}/services/T0/B0/drip-secret"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.requests += 1
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            answer = b"HTTP/1.1 200 OK\r\nX-Pad: " + b"a" * 10_000_000
            for byte in answer:
                if self._stop.wait(0.05):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    def close(self) -> None:
        self._stop.set()
        self.server.close()


@pytest.fixture
def drip() -> Iterator[DripSlack]:
    server = DripSlack()
    yield server
    server.close()


class Accepting:
    """A webhook handler that accepts every message and keeps its body."""

    def __init__(self) -> None:
        self.posted: list[bytes] = []

    def __call__(self, request: Request) -> Response:
        self.posted.append(request.get_data())
        return Response("ok", status=200)


class NoEndpoint:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.port = 0

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


def make_daemon(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    webhook: str | None,
    slack: str = "{webhook_url_env: DW_FAULTS_HOOK}",
) -> Daemon:
    path = tmp_path / "driftwatch.yaml"
    path.write_text(
        f"repo: {ROOT / 'examples'}\n"
        "targets:\n  - {name: prod, root: envs/prod, var_files: [prod.tfvars], region: us-east-1}\n"
        "schedule: {interval: 1h, jitter: 0s}\n"
        "http: {host: 127.0.0.1, port: 1}\n"
        f"state: {{path: {tmp_path / 'state.db'}}}\n"
        f"slack: {slack}\n"
    )
    if webhook is None:
        monkeypatch.delenv("DW_FAULTS_HOOK", raising=False)
    else:
        monkeypatch.setenv("DW_FAULTS_HOOK", webhook)
    monkeypatch.setattr(daemon_module, "Endpoint", NoEndpoint)  # no port needed
    monkeypatch.setattr(daemon_module, "scan", lambda *args, **kwargs: drifted_report())
    return Daemon(*load_config(path))


# --- Slack that never finishes answering --------------------------------------------------------


def test_a_webhook_that_drip_feeds_its_answer_is_cut_off_and_the_message_kept(
    tmp_path: Path, drip: DripSlack
) -> None:
    """Each read gets a byte within the socket timeout, so only a bound on the whole exchange
    ends it. The message stays queued; since Slack may have posted it, the resend is marked."""
    with History.open(tmp_path / "state.db") as history:
        outcomes: list[str] = []
        notifier = SlackNotifier(drip.url, history, timeout=1, on_outcome=outcomes.append)
        queued = history.enqueue("slack", {"text": "drift", "blocks": []}, T0)
        # The drip never ends on its own: the 30 s bound (the exchange's is 2 s) only stops a
        # broken test; a stopwatch on the 2 s can fail on a loaded machine.
        sent: list[int] = []
        delivery = threading.Thread(target=lambda: sent.append(notifier.deliver_pending(T0)), daemon=True)
        delivery.start()
        delivery.join(30)
        assert sent == [0], "the delivery was still waiting for the drip after 30 s"
        assert outcomes == ["error"]
        left = history.message(queued)
        assert left is not None and left.status == "pending"
        assert left.last_error is not None and "drip-secret" not in left.last_error
        assert "no complete answer" in left.last_error
        # While that request still hangs, no second one is opened (one stuck thread and socket
        # per webhook at most, however long the drip lasts); the message waits, not counted as
        # possibly delivered again.
        assert notifier.deliver_pending(T0 + timedelta(hours=2)) == 0
        assert outcomes == ["error", "error"] and drip.requests == 1
        again = history.begin_attempt(queued, T0 + timedelta(hours=4))
        assert again is not None and again.interrupted == 1  # resent as a possible repeat


def test_a_delivery_stuck_on_slack_does_not_stop_the_scans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, drip: DripSlack
) -> None:
    """The delivery job holds the notifier while Slack hangs; a scan must neither wait for it
    nor leave the outbox gauges blind to the messages it just queued."""
    daemon = make_daemon(tmp_path, monkeypatch, drip.url)
    try:
        assert daemon.slack is not None
        assert daemon.slack._lock.acquire(timeout=1)  # a delivery in progress, stuck on Slack
        try:
            finished = threading.Event()
            result: list[Any] = []
            worker = threading.Thread(
                target=lambda: (result.append(daemon.scan_once()), finished.set()), daemon=True
            )
            worker.start()
            # The delivery never ends (the lock is held until the finally): 30 s bounds a hang.
            assert finished.wait(30), "the scan waited for a Slack delivery that never ends"
            assert result and result[0] is not None
            outbox = ("driftwatch_outbox_messages", (("channel", "slack"), ("status", "pending")))
            assert samples(daemon.metrics)[outbox] == 1
        finally:
            daemon.slack._lock.release()
    finally:
        daemon.history.close()


# --- the wall clock jumps -----------------------------------------------------------------------


def test_a_retry_dated_by_a_clock_that_ran_ahead_is_due_once_the_clock_is_corrected(tmp_path: Path) -> None:
    """The node's clock ran a day ahead while Slack failed, then NTP set it back: the retry was
    due a day "later". No retry waits longer than an hour, so a date further out than that is
    the clock's error, not a backoff: the message (and the ones queued behind it) go out now."""
    with History.open(tmp_path / "state.db") as history:
        first = history.enqueue("slack", {"text": "new drift"}, T0)
        second = history.enqueue("slack", {"text": "resolved"}, T0)
        ahead = T0 + timedelta(days=1)
        history.mark_retry(first, ahead, 30.0, "HTTP 500: oops")
        corrected = T0 + timedelta(minutes=1)
        assert [m.id for m in history.pending("slack", corrected)] == [first, second]
        # An honest backoff within the hour still holds the channel back, in order.
        history.mark_retry(first, corrected, 600.0, "HTTP 500: oops")
        assert history.pending("slack", corrected + timedelta(minutes=5)) == []
        assert [m.id for m in history.pending("slack", corrected + timedelta(minutes=11))] == [first, second]


class Clocks:
    """The wall clock (as APScheduler, its executor and the daemon read it) and the monotonic
    clock (as the daemon reads it), each the real one plus an offset the test moves: hours pass
    without real sleeps."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import apscheduler.executors.base
        import apscheduler.schedulers.base

        self.wall_offset = timedelta()
        self.monotonic_offset = 0.0
        clocks = self

        class WallClock(datetime):
            @classmethod
            def now(cls, tz: Any = None) -> datetime:
                return datetime.now(tz) + clocks.wall_offset

        real_monotonic = time.monotonic
        fake_time = type(
            "FakeTime", (), {"monotonic": staticmethod(lambda: real_monotonic() + self.monotonic_offset)}
        )
        for module in (apscheduler.schedulers.base, apscheduler.executors.base, daemon_module):
            monkeypatch.setattr(module, "datetime", WallClock)
        monkeypatch.setattr(daemon_module, "time", fake_time)

    def elapse(self, real: timedelta, *, wall_set_back: timedelta) -> None:
        self.monotonic_offset += real.total_seconds()
        self.wall_offset += real - wall_set_back


def wait_for(predicate: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_a_wall_clock_set_back_does_not_stop_the_scans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """APScheduler counts the interval on the wall clock: set back 6 h, it holds the next scan up
    by 6 h. The daemon notices on the monotonic clock that no scan started within an interval,
    starts one at once (said once, counted), and the schedule goes on from the new wall clock."""
    clocks = Clocks(monkeypatch)
    daemon = make_daemon(tmp_path, monkeypatch, None)  # interval 1h, jitter 0
    try:
        daemon.start()
        assert wait_for(lambda: daemon.state.scans_completed == 1)
        assert not daemon.check_schedule()  # just scanned: nothing overdue

        clocks.elapse(timedelta(hours=2), wall_set_back=timedelta(hours=6))
        job = daemon.scheduler.get_job("scan")
        held_up = job.next_run_time - daemon_module.datetime.now(UTC)
        assert held_up > timedelta(hours=4)  # the defect: the scheduler alone waits 5 more hours

        daemon.scheduler.pause()  # the started scan cannot run yet: a second check must not re-say it
        with structlog.testing.capture_logs() as events:
            assert daemon.check_schedule()
            assert daemon.check_schedule()
        said = [e for e in events if e["event"] == "scan_overdue_started_now"]
        assert len(said) == 1 and said[0]["log_level"] == "warning"
        assert "set back 21600s" in said[0]["reason"] and "no scan started for 7200s" in said[0]["reason"]
        assert samples(daemon.metrics)[("driftwatch_overdue_scans_started_total", ())] == 1

        daemon.scheduler.resume()
        assert wait_for(lambda: daemon.state.scans_completed == 2), "the overdue scan did not run"
        next_run = daemon.scheduler.get_job("scan").next_run_time
        expected = daemon_module.datetime.now(UTC) + timedelta(hours=1)
        assert abs(next_run - expected) < timedelta(minutes=1)  # the schedule follows the new clock
        assert not daemon.check_schedule()
    finally:
        daemon.shutdown(grace_seconds=2)


def test_overdue_is_judged_on_real_time_only() -> None:
    """A wall clock set forward or back changes nothing; only real time since the last scan does."""
    from driftwatch.overdue import Mark, limit_seconds, overdue

    limit = limit_seconds(300, 30)
    assert limit == 360  # interval + jitter + 10% of the interval (at least 10 s)
    mark = Mark(monotonic=1000.0, wall=1_700_000_000.0)
    assert overdue(mark, now_monotonic=1000.0 + limit, now_wall=mark.wall - 86_400, limit=limit) is None
    assert overdue(mark, now_monotonic=1000.0 + 10, now_wall=mark.wall + 86_400, limit=limit) is None
    stalled = overdue(mark, now_monotonic=1000.0 + 400, now_wall=mark.wall + 400, limit=limit)
    assert stalled is not None and stalled.reason.endswith("the scheduler did not start it")


# --- Slack answers that are not what they seem ---------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirected_webhook_is_not_a_delivery(tmp_path: Path, httpserver: HTTPServer, status: int) -> None:
    """urllib follows a 301/302/303 answer to a POST with a GET *without the message*; the page
    there answers 200, and the message was marked sent though Slack never saw it. A redirect
    means the webhook URL is wrong: the message is kept and retried, loudly, and its body is
    never sent anywhere else."""
    hook = "/services/T0/B0/redirect-secret"
    elsewhere: list[str] = []
    httpserver.expect_request(hook, method="POST").respond_with_response(
        Response("", status=status, headers={"Location": httpserver.url_for("/elsewhere")})
    )

    def record(request: Request) -> Response:
        elsewhere.append(request.method)
        return Response("ok", status=200)

    httpserver.expect_request("/elsewhere").respond_with_handler(record)
    with History.open(tmp_path / "state.db") as history:
        outcomes: list[str] = []
        notifier = SlackNotifier(httpserver.url_for(hook), history, timeout=5, on_outcome=outcomes.append)
        queued = history.enqueue("slack", {"text": "drift", "blocks": []}, T0)
        with structlog.testing.capture_logs() as events:
            assert notifier.deliver_pending(T0) == 0
        assert outcomes == ["retry"]
        assert elsewhere == []
        left = history.message(queued)
        assert left is not None and left.status == "pending"
        assert left.last_error is not None and f"HTTP {status}" in left.last_error
        assert "redirect-secret" not in left.last_error
        assert [e["event"] for e in events if e["log_level"] == "error"] == ["slack_webhook_rejected"]


@pytest.mark.parametrize(
    ("body", "status", "outcome"),
    [
        ("invalid_payload", "dropped", "dropped"),
        ("no_text", "dropped", "dropped"),
        ("channel_is_archived", "pending", "retry"),
        ("no_service", "pending", "retry"),
        ("ok", "sent", "success"),
        ("", "sent", "success"),  # a Slack-compatible endpoint that answers nothing
        # Slack's Web API shape, as a proxy or a workflow webhook answers: the word is "error"
        ('{"ok":false,"error":"invalid_payload"}', "dropped", "dropped"),
        ('{"ok": false, "error": "channel_is_archived", "warning": "x"}', "pending", "retry"),
        ('{"ok":false}', "pending", "retry"),  # refused, no word: kept and retried
        pytest.param(  # longer than the 500 characters of it that are logged and stored
            '{"ok":false,"error":"invalid_payload","response_metadata":{"messages":["' + "x" * 600 + '"]}}',
            "dropped",
            "dropped",
            id="long-json",
        ),
        ('{"ok":true}', "sent", "success"),
    ],
)
def test_a_200_carrying_a_slack_error_word_is_not_a_delivery(
    tmp_path: Path, httpserver: HTTPServer, body: str, status: str, outcome: str
) -> None:
    """A proxy in front of Slack (or an older Slack) answering 200 with Slack's error word: the
    message was not posted, so it is handled as that error says, not marked sent."""
    hook = "/services/T0/B0/status-secret"
    httpserver.expect_request(hook, method="POST").respond_with_response(Response(body, status=200))
    with History.open(tmp_path / "state.db") as history:
        outcomes: list[str] = []
        notifier = SlackNotifier(httpserver.url_for(hook), history, timeout=5, on_outcome=outcomes.append)
        queued = history.enqueue("slack", {"text": "drift", "blocks": []}, T0)
        notifier.deliver_pending(T0)
        assert outcomes == [outcome]
        left = history.message(queued)
        assert left is not None and left.status == status


@pytest.mark.parametrize("charset", ["bogus-xyz", "base64"])  # unknown; not a text encoding
def test_an_answer_in_a_charset_python_cannot_read_is_still_slacks_answer(
    tmp_path: Path, httpserver: HTTPServer, charset: str
) -> None:
    """A 200 ``ok`` labelled with a charset Python does not know (a gateway's typo) raised
    ``LookupError`` while the answer was read: counted an error whose message "may have been
    posted", so it was posted again at every retry, for ever, and every later message of the
    channel waited behind it. The status is Slack's answer; the body is read as UTF-8."""
    hook = "/services/T0/B0/charset-secret"
    accepting = Accepting()

    def answer(request: Request) -> Response:
        accepting(request)
        return Response(b"ok", 200, content_type=f"text/plain; charset={charset}")

    httpserver.expect_request(hook, method="POST").respond_with_handler(answer)
    with History.open(tmp_path / "state.db") as history:
        outcomes: list[str] = []
        notifier = SlackNotifier(httpserver.url_for(hook), history, timeout=5, on_outcome=outcomes.append)
        first = history.enqueue("slack", {"text": "drift", "blocks": []}, T0)
        second = history.enqueue("slack", {"text": "more drift", "blocks": []}, T0)
        assert notifier.deliver_pending(T0) == 2
        assert outcomes == ["success", "success"] and len(accepting.posted) == 2
        for queued in (first, second):
            left = history.message(queued)
            assert left is not None and left.status == "sent"


# --- the state file removed under the running daemon --------------------------------------------


def test_a_state_directory_deleted_while_running_is_restored_with_everything_in_it(tmp_path: Path) -> None:
    """``rm -rf`` of the state directory (a volume cleanup, an operator): SQLite went on writing
    into the deleted file, so every later transition and queued message vanished at the next
    start (open drift re-alerted as new, undelivered alerts lost), and the lock file was gone, so
    a second daemon could start. The next write puts the file back, whole, under a new lock."""
    state = tmp_path / "volume" / "state.db"
    with History.open(state, exclusive=True) as history:
        before = history.enqueue("slack", {"text": "queued before"}, T0)
        shutil.rmtree(state.parent)
        after = history.enqueue("slack", {"text": "queued after"}, T0)
        assert state.exists()
        with History.open(state) as reader:  # what a restart would find
            assert [m.id for m in reader.pending("slack", T0)] == [before, after]
        with pytest.raises(StateLockedError):  # one writer still
            History.open(state, exclusive=True)
        history.mark_sent(before, T0)  # and the restored file is the one written from now on
        with History.open(state) as reader:
            assert [m.id for m in reader.pending("slack", T0)] == [after]


def test_a_lock_file_deleted_while_running_is_taken_again(tmp_path: Path) -> None:
    """Only ``state.db.lock`` deleted: a second daemon could take a new one and write the same
    file (every Slack message twice). The next write takes the lock again."""
    state = tmp_path / "state.db"
    with History.open(state, exclusive=True) as history:
        (tmp_path / "state.db.lock").unlink()
        history.enqueue("slack", {"text": "queued"}, T0)
        with pytest.raises(StateLockedError):
            History.open(state, exclusive=True)


def test_a_lock_file_that_cannot_be_made_again_keeps_the_lock_held_and_the_history_written(
    tmp_path: Path,
) -> None:
    """``state.db.lock`` replaced by a directory (a volume tool, a mistaken ``mkdir``): the lock
    could not be taken again, so every write failed -- every scan a failure, no drift recorded
    or announced -- until a restart, which then could not start either. This process still holds
    its lock, and no other can take one at that path: it goes on writing, and says so once."""
    state = tmp_path / "state.db"
    with History.open(state, exclusive=True) as history:
        (tmp_path / "state.db.lock").unlink()
        (tmp_path / "state.db.lock").mkdir()
        with structlog.testing.capture_logs() as events:
            first = history.enqueue("slack", {"text": "queued"}, T0)
            second = history.enqueue("slack", {"text": "queued too"}, T0)
        with History.open(state) as reader:
            assert [m.id for m in reader.pending("slack", T0)] == [first, second]
        with pytest.raises(HistoryError, match="lock"):  # and still one writer
            History.open(state, exclusive=True)
    said = [e for e in events if e["event"] == "history_lock_not_restored"]
    assert len(said) == 1 and said[0]["log_level"] == "error"


def test_a_state_file_replaced_while_running_is_not_written_behind_its_back(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    with History.open(state, exclusive=True) as history:
        history.enqueue("slack", {"text": "queued"}, T0)
        state.rename(tmp_path / "moved.db")
        with History.open(tmp_path / "other.db") as other:
            other.enqueue("slack", {"text": "someone else's"}, T0)
        (tmp_path / "other.db").rename(state)
        with pytest.raises(HistoryError, match="replaced"):
            history.enqueue("slack", {"text": "lost"}, T0)


# --- the database refuses a write right after Slack accepted a message ---------------------------


def test_a_delivery_slack_accepted_but_the_database_could_not_record_is_not_sent_again(
    tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slack answered 200, then recording it failed (the database locked by another process past
    its 10 s busy timeout, or the disk full). The outcome is known, so the message is not resent
    (it used to be, as a "possible repeat"): the record is retried until it is written."""
    hook = "/services/T0/B0/record-secret"
    slack = Accepting()
    httpserver.expect_request(hook, method="POST").respond_with_handler(slack)
    with History.open(tmp_path / "state.db") as history:
        outcomes: list[str] = []
        notifier = SlackNotifier(httpserver.url_for(hook), history, timeout=5, on_outcome=outcomes.append)
        first = history.enqueue("slack", {"text": "first"}, T0)
        second = history.enqueue("slack", {"text": "second"}, T0)
        real_mark_sent = history.mark_sent

        def locked(message_id: int, now: datetime) -> None:
            raise HistoryError("history database state.db: write failed: database is locked")

        monkeypatch.setattr(history, "mark_sent", locked)
        with structlog.testing.capture_logs() as events:
            notifier.deliver_pending(T0)
        assert len(slack.posted) == 1 and outcomes == ["success"]
        assert "slack_sent_not_recorded" in [e["event"] for e in events]
        monkeypatch.setattr(history, "mark_sent", real_mark_sent)
        notifier.deliver_pending(T0 + timedelta(minutes=1))
        assert [b'"first"' in body for body in slack.posted] == [True, False]
        assert b"possible repeat" not in slack.posted[1]
        assert history.pending_count() == 0
        assert (history.message(first) or pytest.fail()).status == "sent"
        assert (history.message(second) or pytest.fail()).interrupted == 0


# --- shutdown with slack.routes only --------------------------------------------------------------


def test_shutdown_flushes_every_route_when_there_is_no_default_webhook(
    tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last flush at shutdown (and the stop of deliveries in progress) covered only the
    default webhook: with routes alone, their messages waited for the next start, and a route's
    delivery in progress had the database closed under it (its sends then resent as repeats)."""
    hook = "/services/T0/B0/route-secret"
    slack = Accepting()
    httpserver.expect_request(hook, method="POST").respond_with_handler(slack)
    monkeypatch.setenv("DW_FAULTS_ROUTE", httpserver.url_for(hook))
    route = "{routes: [{name: orders, targets: [prod], webhook_url_env: DW_FAULTS_ROUTE}]}"
    daemon = make_daemon(tmp_path, monkeypatch, None, slack=route)
    assert daemon.slack is None and [n.channel for n in daemon.notifiers] == ["slack:orders"]
    queued = daemon.history.enqueue("slack:orders", {"text": "route drift"}, datetime.now(UTC))
    assert daemon.shutdown(grace_seconds=5) == 0
    assert len(slack.posted) == 1
    with History.open(tmp_path / "state.db") as after:
        assert (after.message(queued) or pytest.fail()).status == "sent"


# --- /metrics while drift cannot be looked at ----------------------------------------------------

PITR_SERIES = (
    "driftwatch_drift_first_seen_timestamp_seconds",
    (
        ("attribute", "point_in_time_recovery"),
        ("region", "us-east-1"),
        ("table", "acme-prod-orders"),
        ("target", "prod"),
    ),
)


def record_and_observe(
    history: History, metrics: DriftwatchMetrics, report: ScanReport, at: datetime, result: str = "success"
) -> None:
    """What the daemon does with each scan: the history first, then /metrics from what it holds open."""
    history.record_scan(report, at)
    metrics.observe_scan(
        report,
        first_seen=history.first_seen_map(),
        open_tables=history.open_tables(),
        missing_tables=history.open_missing_tables(),
        result=result,
        duration_seconds=1,
        started_at=T0,
    )


def test_drift_of_a_table_that_cannot_be_read_this_scan_stays_on_metrics() -> None:
    """One scan's AccessDenied or throttling on a drifted table used to drop its drift series:
    DriftwatchTableDrifted resolved (Alertmanager said "resolved") and fired again a scan
    later. The history keeps the drift open, since nobody fixed it; so does /metrics now."""
    metrics = DriftwatchMetrics(version="test")
    drifted = drifted_report()
    first_seen = {("prod", "us-east-1", "acme-prod-orders", "point_in_time_recovery"): T0}
    metrics.observe_scan(drifted, first_seen=first_seen, result="success", duration_seconds=1, started_at=T0)
    assert samples(metrics)[PITR_SERIES] == T0.timestamp()
    (row,) = drifted.tables
    unreadable = dataclasses.replace(
        drifted,
        tables=(
            dataclasses.replace(
                row,
                status=TableStatus.ERROR,
                drift=(),
                error="AccessDeniedException: not authorized to perform dynamodb:DescribeTable",
            ),
        ),
    )
    metrics.observe_scan(
        unreadable, first_seen=first_seen, result="partial", duration_seconds=1, started_at=T0
    )
    after = samples(metrics)
    assert after[PITR_SERIES] == T0.timestamp()
    status = (
        "driftwatch_table_status",
        (("region", "us-east-1"), ("status", "error"), ("table", "acme-prod-orders"), ("target", "prod")),
    )
    assert after[status] == 1
    # Once the history closes the episode (fixed), the series goes.
    metrics.observe_scan(unreadable, first_seen={}, result="partial", duration_seconds=1, started_at=T0)
    assert PITR_SERIES not in samples(metrics)


def test_drift_of_a_target_that_failed_to_evaluate_stays_on_metrics(tmp_path: Path) -> None:
    """A target whose evaluation failed this scan (a file that stopped parsing, a worker that
    died) lists none of its tables; the history keeps their drift open (absence proves
    nothing), and so does /metrics now, instead of resolving every drift alert of the target.
    Through the history, so the region comes from the open episode."""
    metrics = DriftwatchMetrics(version="test")
    with History.open(tmp_path / "state.db") as history:
        history.record_scan(drifted_report(), T0)
        failed = ScanReport(
            generated_at=T0,
            commit=None,
            tables=(),
            errors=(TargetError(target="prod", message="main.tf:3: unexpected end of file"),),
        )
        record_and_observe(history, metrics, failed, T0 + timedelta(minutes=5), result="partial")
    assert PITR_SERIES in samples(metrics)


def test_a_missing_table_of_a_target_that_failed_to_evaluate_stays_missing_on_metrics(tmp_path: Path) -> None:
    """Its drift was carried, but not its ``table`` drift nor its status: both series went, so
    DriftwatchTableMissing (critical) resolved -- a false all-clear for a table still missing --
    and paged again once the target evaluated. The history keeps it open as missing; so does
    /metrics now (the status too: DriftwatchTableDrifted must not take it for drift)."""
    metrics = DriftwatchMetrics(version="test")
    (row,) = drifted_report().tables
    gone = dataclasses.replace(row, status=TableStatus.MISSING, drift=(Drift("table", True, False),))
    missing = dataclasses.replace(drifted_report(), tables=(gone,))
    failed = ScanReport(
        generated_at=T0,
        commit=None,
        tables=(),
        errors=(TargetError(target="prod", message="main.tf:3: unexpected end of file"),),
    )
    labels = (("region", "us-east-1"), ("table", "acme-prod-orders"), ("target", "prod"))
    first_seen = ("driftwatch_drift_first_seen_timestamp_seconds", (("attribute", "table"), *labels))
    status = ("driftwatch_table_status", (*labels[:1], ("status", "missing"), *labels[1:]))
    unmanaged_row = dataclasses.replace(
        gone,
        table_name="acme-prod-scratch",
        address=None,
        status=TableStatus.UNMANAGED,
        drift=(Drift("table", None, "acme-prod-scratch"),),
        alert_unmanaged=True,
    )
    missing = dataclasses.replace(missing, tables=(gone, unmanaged_row))
    scratch = (
        ("region", "us-east-1"),
        ("status", "unmanaged"),
        ("table", "acme-prod-scratch"),
        ("target", "prod"),
    )
    with History.open(tmp_path / "state.db") as history:
        record_and_observe(history, metrics, missing, T0)
        assert samples(metrics)[status] == 1
        record_and_observe(history, metrics, failed, T0 + timedelta(minutes=5), result="partial")
    after = samples(metrics)
    assert after[first_seen] == T0.timestamp()
    assert after[status] == 1
    # An unmanaged table keeps its own status: DriftwatchTableDrifted alerts it, not Missing.
    assert after[("driftwatch_table_status", scratch)] == 1
    assert after[("driftwatch_table_status", (*scratch[:1], ("status", "missing"), *scratch[2:]))] == 0


def test_a_missing_table_that_cannot_be_read_this_scan_stays_missing_on_metrics(tmp_path: Path) -> None:
    """A missing table whose DescribeTable then answers AccessDenied is an error row. The
    history keeps its ``missing`` episode open (not read is not found again), but /metrics
    dropped its ``table`` drift: DriftwatchTableMissing (critical) said "resolved" for a table
    nobody saw come back, and DriftwatchTableUnchecked only fired 15 minutes later. Now the
    ``table`` series is carried beside the ``error`` status, as attribute drift is."""
    metrics = DriftwatchMetrics(version="test")
    (row,) = drifted_report().tables
    gone = dataclasses.replace(row, status=TableStatus.MISSING, drift=(Drift("table", True, False),))
    denied = dataclasses.replace(
        row, status=TableStatus.ERROR, drift=(), error="DescribeTable failed: AccessDeniedException"
    )
    labels = (("region", "us-east-1"), ("table", "acme-prod-orders"), ("target", "prod"))
    first_seen = ("driftwatch_drift_first_seen_timestamp_seconds", (("attribute", "table"), *labels))
    with History.open(tmp_path / "state.db") as history:
        record_and_observe(history, metrics, dataclasses.replace(drifted_report(), tables=(gone,)), T0)
        later = T0 + timedelta(minutes=5)
        unread = dataclasses.replace(drifted_report(), tables=(denied,))
        record_and_observe(history, metrics, unread, later, result="partial")
        assert ("prod", "us-east-1", "acme-prod-orders") in history.open_missing_tables()
    after = samples(metrics)
    assert after[first_seen] == T0.timestamp()
    assert after[("driftwatch_table_status", (*labels[:1], ("status", "error"), *labels[1:]))] == 1


def test_drift_of_a_module_call_not_evaluated_stays_on_metrics(tmp_path: Path) -> None:
    """A module call not evaluated this scan (its source not fetched) lists none of its tables:
    the history keeps their drift open, and so does /metrics, instead of resolving the alert
    for the length of a registry outage."""
    metrics = DriftwatchMetrics(version="test")
    with History.open(tmp_path / "state.db") as history:
        history.record_scan(drifted_report(), T0)
        outage = ScanReport(
            generated_at=T0,
            commit=None,
            tables=(),
            not_evaluated=(NotEvaluated("prod", "module.orders", None, "registry.terraform.io: timed out"),),
        )
        record_and_observe(history, metrics, outage, T0 + timedelta(minutes=5), result="partial")
    assert samples(metrics)[PITR_SERIES] == T0.timestamp()


def test_drift_of_an_attribute_a_scan_could_not_compare_stays_on_metrics(tmp_path: Path) -> None:
    """A scan that reads the table but cannot compare a drifted attribute (its read denied,
    the table UPDATING) keeps the episode open in the history; /metrics used to drop the
    series, resolving DriftwatchTableDrifted until the next full comparison fired it again.
    An unresolved parent (``tags``) holds the attributes below it (``tags.Team``); drift on
    an attribute that *was* compared and is now in sync goes, as does everything once the
    attribute is compared again and found in sync."""
    metrics = DriftwatchMetrics(version="test")
    (row,) = drifted_report().tables
    drifted = dataclasses.replace(
        drifted_report(),
        tables=(
            dataclasses.replace(
                row,
                drift=(
                    Drift("point_in_time_recovery", True, False),
                    Drift("tags.Team", "core", "x"),
                    Drift("ttl.enabled", True, False),
                ),
            ),
        ),
    )
    uncompared = dataclasses.replace(
        drifted,
        tables=(
            dataclasses.replace(
                row,
                status=TableStatus.IN_SYNC,
                drift=(),
                unresolved=(
                    Unresolved("point_in_time_recovery", "DescribeContinuousBackups: AccessDenied"),
                    Unresolved("tags", "ListTagsOfResource: AccessDenied"),
                ),
            ),
        ),
    )
    compared = dataclasses.replace(uncompared.tables[0], unresolved=())
    in_sync = dataclasses.replace(uncompared, tables=(compared,))

    def series(attribute: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        labels = dict(PITR_SERIES[1]) | {"attribute": attribute}
        return PITR_SERIES[0], tuple(sorted(labels.items()))

    with History.open(tmp_path / "state.db") as history:
        for at, report in enumerate((drifted, uncompared)):
            record_and_observe(history, metrics, report, T0 + timedelta(minutes=at))
        after = samples(metrics)
        assert after[series("point_in_time_recovery")] == T0.timestamp()
        assert after[series("tags.Team")] == T0.timestamp()
        assert series("ttl.enabled") not in after  # compared this scan, and in sync: fixed
        record_and_observe(history, metrics, in_sync, T0 + timedelta(minutes=2))
    assert not {key for key in samples(metrics) if key[0] == PITR_SERIES[0]}


def test_a_webhook_that_reads_the_message_and_never_answers_gets_a_marked_resend(tmp_path: Path) -> None:
    """The request reached Slack, then the read timed out: Slack may have posted it, so the
    resend says it may be a repeat (it went out unmarked). A refused connection is different:
    nothing was sent, and the resend is not marked."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    held: list[socket.socket] = []

    def hold() -> None:
        try:
            conn, _ = silent.accept()
        except OSError:
            return
        conn.recv(65536)
        held.append(conn)  # read the whole request, never answer

    threading.Thread(target=hold, daemon=True).start()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    refused_url = f"http://127.0.0.1:{closed.getsockname()[1]}/services/T0/B0/refused-secret"
    closed.close()
    try:
        with History.open(tmp_path / "state.db") as history:
            url = f"http://127.0.0.1:{silent.getsockname()[1]}/services/T0/B0/silent-secret"
            outcomes: list[str] = []
            read_out = SlackNotifier(url, history, timeout=1, on_outcome=outcomes.append)
            queued = history.enqueue("slack", {"text": "drift"}, T0)
            read_out.deliver_pending(T0)
            assert outcomes == ["error"]
            later = history.begin_attempt(queued, T0 + timedelta(hours=2))
            assert later is not None and later.interrupted == 1
            history.mark_retry(queued, T0 + timedelta(hours=2), 0, "reset for the next case")

            other = history.enqueue("slack:refused", {"text": "drift"}, T0)
            refused = SlackNotifier(
                refused_url, history, timeout=1, on_outcome=outcomes.append, channel="slack:refused"
            )
            refused.deliver_pending(T0)
            assert outcomes == ["error", "error"]
            again = history.begin_attempt(other, T0 + timedelta(hours=2))
            assert again is not None and again.interrupted == 0
    finally:
        silent.close()
        for conn in held:
            conn.close()
