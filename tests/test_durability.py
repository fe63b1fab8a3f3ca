"""The daemon killed with SIGKILL, many times, at random points of a scan and of a Slack delivery.

``driftwatch run`` runs as a subprocess against moto's server (in this process, behind a hook
that can kill the daemon at its n-th AWS request) and a Slack webhook on pytest-httpserver
(that answers 200, 500 or 429, and can kill the daemon while it holds a request, or just after
answering it). Between restarts someone changes the live table: a new tag (new drift) or a tag
removed (drift resolved), each with a key never used before, so every transition is unique.

After every kill the SQLite history passes ``PRAGMA integrity_check`` and every episode has
exactly the messages its transitions queued. At the end the daemon runs to quiescence, and:

- the history is intact; exactly the drift open in AWS has an open episode;
- every queued message arrived at least once (nothing lost);
- no transition was queued twice, and no message arrived twice *unmarked*: a message whose
  delivery was interrupted by a kill (``History.begin_attempt`` recorded it, the outcome was
  lost) is resent marked "possible repeat" -- Slack's webhooks take no idempotency key, so a
  kill between Slack's 200 and ``mark_sent`` committing cannot be undone, only made visible.
  The test checks the bound: marked copies <= interrupted attempts recorded for that message.

Time is compressed in the daemon (scan every second, Slack backoff of a fraction of a second)
by a small wrapper; nothing else is changed. ``DRIFTWATCH_DURABILITY_SEED`` replays a run;
``DRIFTWATCH_DURABILITY_KILLS`` (16: every kind of kill at least twice) asks for a longer one.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from driftwatch.demo import moto_patches
from driftwatch.notify.slack import REPEAT_NOTICE
from tests.ports import free_port

REGION = "us-east-1"
KILLS = int(os.environ.get("DRIFTWATCH_DURABILITY_KILLS", "16"))
SEED = int(os.environ.get("DRIFTWATCH_DURABILITY_SEED", "20261125"))
HARNESS_AGENT = "driftwatch-durability-harness"  # the test's own AWS calls never trigger a kill
TABLES = ("durable-orders", "durable-users")
WEBHOOK_PATH = "/services/T0DURABLE/B0DURABLE/durability-secret-token"

MAIN_TF = """
resource "aws_dynamodb_table" "%(label)s" {
  name         = "%(name)s"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }

  tags = {
    Team = "durability"
  }
}
"""

# Time compression for the daemon under test: scans every second (config), Slack retries after
# fractions of a second instead of 30 s doubling, the delivery job every half second.
WRAPPER = """
import sys
from datetime import timedelta
import driftwatch.daemon
import driftwatch.notify.slack as slack
slack.BACKOFF_BASE = 0.2
slack.MAX_DELAY = 1.0
slack.DEFAULT_RETRY_AFTER = 1.0
driftwatch.daemon.DELIVERY_INTERVAL = timedelta(seconds=0.5)
from driftwatch.cli import main
sys.exit(main(sys.argv[1:]))
"""


# --------------------------------------------------------------------------- moto, with a hook


class HookedApp:
    """moto's WSGI app; ``hook`` is called for each request the daemon makes (not the harness)."""

    def __init__(self, app: Any):
        self.app = app
        self.hook: Callable[[], None] | None = None
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if HARNESS_AGENT not in environ.get("HTTP_USER_AGENT", ""):
            with self.lock:
                hook = self.hook
            if hook is not None:
                hook()
        return self.app(environ, start_response)


@pytest.fixture
def moto_endpoint(moto_patches_undone: None) -> Iterator[tuple[str, HookedApp]]:
    import moto.server
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    moto_patches.apply()
    app = HookedApp(DomainDispatcherApplication(create_backend_app))
    # moto's server serves with its own handler from 5.2.5 on, with werkzeug's before: as the
    # installed moto's own `moto_server` does (an older moto is within the version range).
    handler = getattr(moto.server, "MotoRequestHandler", None)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app
    finally:
        server.shutdown()
        thread.join(timeout=5)


def harness_client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=BotoConfig(user_agent_extra=HARNESS_AGENT),
    )


# --------------------------------------------------------------------------- the harness


@dataclass
class Harness:
    tmp: Path
    endpoint: str
    moto: HookedApp
    slack_url: str
    rng: random.Random  # the Slack server's own: its thread must not disturb the schedule's
    process: subprocess.Popen[bytes] | None = None
    received: list[dict[str, Any]] = field(default_factory=list)  # what Slack accepted (posted)
    slack_mode: str = "normal"  # normal | kill-before-answer | kill-after-answer | always-200
    live_tags: dict[str, set[str]] = field(default_factory=lambda: {t: set() for t in TABLES})
    next_key: int = 0
    kills: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def db(self) -> Path:
        return self.tmp / "state.db"

    # --- the daemon

    def start(self) -> None:
        config = self.tmp / "driftwatch.yaml"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": self.endpoint,
            "DURABILITY_SLACK_URL": self.slack_url,
        }
        log = (self.tmp / "daemon.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-c", WRAPPER, "run", "--config", str(config), "--log-format", "json"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def kill(self, why: str, only: subprocess.Popen[bytes] | None = None) -> None:
        """SIGKILL the daemon (``only``: if it is still that process; a late timer spares the next)."""
        with self.lock:
            process = self.process
            if process is None or process.poll() is not None or (only is not None and process is not only):
                return
            process.send_signal(signal.SIGKILL)
            self.kills[why] += 1
        process.wait(timeout=10)

    def wait_dead(self, timeout: float) -> bool:
        assert self.process is not None
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    # --- faults

    def arm_aws(self, nth: int, delay: float = 0.0) -> None:
        """Kill the daemon just started at its ``nth`` AWS request from now (after ``delay``
        seconds). Only that daemon: a request of it that moto serves late (it was killed by the
        round's timer meanwhile) must not kill the next round's daemon, or the last one's."""
        count = [0]
        armed = self.process

        def hook() -> None:
            count[0] += 1
            if count[0] == nth:
                self.moto.hook = None
                if delay:
                    threading.Timer(delay, self.kill, ("aws-after-reads", armed)).start()
                else:
                    self.kill("aws-mid-scan", armed)

        self.moto.hook = hook

    def slack_handler(self, request: Request) -> Response:
        payload = json.loads(request.get_data())
        mode = self.slack_mode
        if mode == "kill-before-answer":  # Slack posts it; the daemon never hears back
            self.slack_mode = "normal"
            self.received.append(payload)
            self.kill("slack-before-answer")
            return Response("ok", status=200)
        if mode == "kill-after-answer":  # killed a few ms after Slack's 200: before or after mark_sent
            self.slack_mode = "normal"
            self.received.append(payload)
            delay = self.rng.uniform(0.0, 0.02)
            threading.Timer(delay, self.kill, ("slack-after-answer", self.process)).start()
            return Response("ok", status=200)
        roll = self.rng.random() if mode == "normal" else 0.0
        if roll < 0.6:
            self.received.append(payload)
            return Response("ok", status=200)
        if roll < 0.8:
            return Response("internal_error", status=500)
        return Response("rate_limited", status=429, headers={"Retry-After": "1"})

    # --- someone in the console

    def change_drift(self, rng: random.Random) -> None:
        """Add a never-used tag to a table (new drift), or remove one (drift resolved)."""
        table = rng.choice(TABLES)
        dynamodb = harness_client("dynamodb", self.endpoint)
        arn = dynamodb.describe_table(TableName=table)["Table"]["TableArn"]
        if self.live_tags[table] and rng.random() < 0.45:
            key = rng.choice(sorted(self.live_tags[table]))
            dynamodb.untag_resource(ResourceArn=arn, TagKeys=[key])
            self.live_tags[table].discard(key)
        else:
            self.next_key += 1
            key = f"K{self.next_key:03d}"
            dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": key, "Value": "console"}])
            self.live_tags[table].add(key)

    def open_drift(self) -> set[tuple[str, str]]:
        return {(table, f"tags.{key}") for table, keys in self.live_tags.items() for key in keys}


# --------------------------------------------------------------------------- the database


def read_db(path: Path) -> dict[str, Any]:
    """Integrity, episodes, outbox and interrupted attempts, read while no daemon runs (or in WAL).

    A daemon killed before it created its schema leaves no file, or one without tables (each
    migration step is one transaction): an empty history.
    """
    empty: dict[str, Any] = {"integrity": ["ok"], "episodes": [], "outbox": [], "interrupted": {}}
    if not path.exists():
        return empty
    conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=10)  # never creates the file
    conn.row_factory = sqlite3.Row
    try:
        integrity = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"episodes", "outbox", "meta"} <= tables:
            assert not tables & {"episodes", "outbox", "meta"}, f"half a schema: {tables}"
            return {**empty, "integrity": integrity}
        episodes = [dict(row) for row in conn.execute("SELECT * FROM episodes ORDER BY id")]
        outbox = [dict(row) for row in conn.execute("SELECT * FROM outbox ORDER BY id")]
        interrupted = {
            int(row["id"]): int(row["interrupted"])
            for row in conn.execute("SELECT id, interrupted FROM outbox WHERE interrupted > 0")
        }
    finally:
        conn.close()
    return {"integrity": integrity, "episodes": episodes, "outbox": outbox, "interrupted": interrupted}


def announced(outbox: list[dict[str, Any]]) -> Counter[tuple[str, str, str]]:
    """(kind, table, attribute) of every transition line in the queued messages' fallback text."""
    found: Counter[tuple[str, str, str]] = Counter()
    for row in outbox:
        for line in json.loads(row["payload"])["text"].splitlines():
            kind, _, rest = line.partition(": ")
            if kind in ("new", "changed", "resolved", "missing") and "/" in rest:
                where, _, attribute_and_detail = rest.partition(" ")
                attribute = attribute_and_detail.split(":", 1)[0].rsplit(" in ", 1)[0]  # " in <region>"
                found[(kind, where.split("/", 1)[1], attribute)] += 1
    return found


def check_consistent(state: dict[str, Any]) -> None:
    """What must hold after any kill: an intact file, and episodes and messages in step."""
    assert state["integrity"] == ["ok"]
    queued = announced(state["outbox"])
    for episode in state["episodes"]:
        key = (episode["table_name"], episode["attribute"])
        assert queued[("new", *key)] == 1, (episode, queued)  # queued with the episode, once
        if episode["resolved_at"] is not None:
            assert queued[("resolved", *key)] == 1, (episode, queued)
        else:
            assert queued[("resolved", *key)] == 0, (episode, queued)
    assert sum(queued.values()) == len(state["episodes"]) + sum(
        1 for e in state["episodes"] if e["resolved_at"] is not None
    )


def strip_notice(payload: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The payload as queued, and whether it carried the possible-repeat notice."""
    marked = payload["text"].startswith("(possible repeat) ")
    if not marked:
        return payload, False
    blocks = [b for b in payload["blocks"] if REPEAT_NOTICE not in json.dumps(b)]
    return {**payload, "text": payload["text"][len("(possible repeat) ") :], "blocks": blocks}, True


# --------------------------------------------------------------------------- the test


def test_sigkill_at_random_points_loses_nothing_and_repeats_nothing_unmarked(
    tmp_path: Path, moto_endpoint: tuple[str, HookedApp], httpserver: HTTPServer
) -> None:
    endpoint, moto = moto_endpoint
    rng = random.Random(SEED)  # the schedule of faults and changes
    print(f"seed {SEED} (DRIFTWATCH_DURABILITY_SEED replays it)")
    harness = Harness(tmp_path, endpoint, moto, httpserver.url_for(WEBHOOK_PATH), random.Random(SEED + 1))
    httpserver.expect_request(WEBHOOK_PATH, method="POST").respond_with_handler(harness.slack_handler)

    repo = tmp_path / "repo"
    (repo / "root").mkdir(parents=True)
    (repo / "root" / "main.tf").write_text(
        "".join(MAIN_TF % {"label": name.replace("-", "_"), "name": name} for name in TABLES)
    )
    dynamodb = harness_client("dynamodb", endpoint)
    for name in TABLES:
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            Tags=[{"Key": "Team", "Value": "durability"}],
        )
    (tmp_path / "driftwatch.yaml").write_text(
        f"repo: {repo}\n"
        f"targets:\n  - {{name: prod, root: root, region: {REGION}}}\n"
        "schedule: {interval: 1s, jitter: 0s}\n"
        f"http: {{host: 127.0.0.1, port: {free_port()}}}\n"
        f"state: {{path: {harness.db}}}\n"
        "slack: {webhook_url_env: DURABILITY_SLACK_URL}\n"
    )

    modes = ["timer", "aws-mid-scan", "aws-after-reads", "slack-before-answer", "slack-after-answer"]
    try:
        for round_ in range(KILLS):
            mode = modes[round_ % len(modes)] if round_ < len(modes) else rng.choice(modes)
            if mode.startswith("slack") or rng.random() < 0.6:
                harness.change_drift(rng)  # a transition for the first scan to queue and deliver
            harness.slack_mode = {"slack-before-answer": "kill-before-answer"}.get(
                mode, "kill-after-answer" if mode == "slack-after-answer" else "normal"
            )
            harness.start()  # armed after: a daemon makes no AWS request before its imports
            if mode == "aws-mid-scan":
                harness.arm_aws(rng.randint(1, 9))
            elif mode == "aws-after-reads":
                harness.arm_aws(rng.randint(8, 10), delay=rng.uniform(0.0, 0.05))
            limit = rng.uniform(0.5, 3.5) if mode == "timer" else 8.0
            if not harness.wait_dead(limit):  # the timer, or an armed fault that did not fire
                harness.kill("timer" if mode == "timer" else f"{mode} (did not fire; timer)")
            moto.hook = None
            harness.slack_mode = "normal"
            assert harness.process is not None and harness.process.returncode == -signal.SIGKILL, (
                tmp_path / "daemon.log"
            ).read_text()[-3000:]
            check_consistent(read_db(harness.db))

        # Quiescence: Slack healthy, no more changes, until everything is delivered and seen.
        harness.slack_mode = "always-200"
        log_path = tmp_path / "daemon.log"
        scans_before = log_path.read_text().count('"scan_finished"')
        harness.start()
        # Generous: it ends as soon as the state has held for 2.5 s (under 10 s on a quiet
        # machine); a loaded CI runner (terraform in the other workers) needs far more.
        deadline = time.monotonic() + 120
        settled_since: float | None = None
        open_now: set[tuple[str, str]] = set()
        while time.monotonic() < deadline:
            # Settled counts only once this daemon has scanned: the state the last round left
            # may already look settled, and a SIGTERM before the daemon has installed its
            # handler (still importing, on a loaded machine) kills it by default (-15).
            if log_path.read_text().count('"scan_finished"') == scans_before:
                time.sleep(0.25)
                continue
            state = read_db(harness.db)
            open_now = {
                (e["table_name"], e["attribute"]) for e in state["episodes"] if e["resolved_at"] is None
            }
            settled = open_now == harness.open_drift() and all(r["status"] == "sent" for r in state["outbox"])
            if settled and settled_since is None:
                settled_since = time.monotonic()
            elif not settled:
                settled_since = None
            if settled_since is not None and time.monotonic() - settled_since > 2.5:
                break
            time.sleep(0.25)
        else:
            state = read_db(harness.db)
            unsent = [
                {key: row[key] for key in ("id", "status", "attempts", "next_attempt_at", "last_error")}
                for row in state["outbox"]
                if row["status"] != "sent"
            ]
            scans = log_path.read_text().count('"scan_finished"') - scans_before
            raise AssertionError(
                f"no quiescence after {scans} scans: open {open_now} vs AWS {harness.open_drift()}; "
                f"not sent: {unsent}; settled for the last "
                f"{0 if settled_since is None else round(time.monotonic() - settled_since, 1)} s; "
                f"the daemon's log ends: {log_path.read_text()[-3000:]}"
            )
        assert harness.process is not None
        harness.process.send_signal(signal.SIGTERM)
        assert harness.process.wait(timeout=30) == 0
    finally:
        if harness.process is not None and harness.process.poll() is None:
            harness.process.kill()
            harness.process.wait()

    log_text = (tmp_path / "daemon.log").read_text()
    # Nothing here touches the state files: a restore means the daemon lost track of its own
    # (its SQLite locks dropped, the harness's reads then deleting the log it wrote into).
    for bad in (
        "Traceback",
        '"scan_failed"',
        '"slack_delivery_failed"',
        '"history_file_restored"',
        '"history_wal_lost"',
        "durability-secret-token",
    ):
        assert bad not in log_text, bad

    state = read_db(harness.db)
    check_consistent(state)
    # Exactly the drift open in AWS is open in the history: none forgotten, none stale.
    open_episodes = {(e["table_name"], e["attribute"]) for e in state["episodes"] if e["resolved_at"] is None}
    assert open_episodes == harness.open_drift()
    # Every queued message arrived at least once; unmarked at most once; marked copies only for
    # attempts a kill interrupted, and no more of them than such attempts.
    copies: dict[int, list[bool]] = {row["id"]: [] for row in state["outbox"]}
    by_payload = {
        json.dumps(json.loads(row["payload"]), sort_keys=True): row["id"] for row in state["outbox"]
    }
    for payload in harness.received:
        original, marked = strip_notice(payload)
        message_id = by_payload.get(json.dumps(original, sort_keys=True))
        assert message_id is not None, f"Slack received a message that was never queued: {payload['text']}"
        copies[message_id].append(marked)
    for row in state["outbox"]:
        seen = copies[row["id"]]
        interrupted = state["interrupted"].get(row["id"], 0)
        assert row["status"] == "sent"
        assert seen, f"message {row['id']} was never delivered: {row['payload'][:200]}"
        assert seen.count(False) <= 1, f"message {row['id']} arrived twice unmarked"
        assert seen.count(True) <= interrupted, (row["id"], seen, interrupted)

    duplicates = sum(len(seen) - 1 for seen in copies.values())
    print(
        f"{sum(harness.kills.values())} SIGKILLs {dict(harness.kills)}; {len(state['episodes'])} episodes, "
        f"{len(state['outbox'])} messages, {len(harness.received)} Slack posts, "
        f"{sum(state['interrupted'].values())} interrupted deliveries, {duplicates} marked repeats"
    )
    assert sum(harness.kills.values()) >= KILLS
    assert len(state["episodes"]) >= 5  # the run did exercise transitions


# --------------------------------------------------------------------------- the mechanism, directly


def test_an_attempt_whose_outcome_was_lost_is_counted_and_the_resend_is_marked(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    from datetime import UTC, datetime

    from driftwatch.history import History
    from driftwatch.notify.slack import SlackNotifier

    received: list[dict[str, Any]] = []
    httpserver.expect_request("/hook", method="POST").respond_with_handler(
        lambda request: received.append(json.loads(request.get_data())) or Response("ok", status=200)
    )
    now = datetime.now(UTC)
    first = History.open(tmp_path / "state.db")
    message_id = first.enqueue("slack", {"text": "drift", "blocks": []}, now)
    claimed = first.begin_attempt(message_id, now)  # ... and the process dies before any outcome
    assert claimed is not None and claimed.interrupted == 0
    first.close()

    second = History.open(tmp_path / "state.db")  # the restart
    SlackNotifier(httpserver.url_for("/hook"), second).deliver_pending(now)
    (sent,) = received
    assert sent["text"] == "(possible repeat) drift"
    assert REPEAT_NOTICE in json.dumps(sent["blocks"])
    message = second.message(message_id)
    assert message is not None and message.status.value == "sent" and message.attempts == 2
    assert second.interrupted_attempts() == {message_id: 1}
    assert second.begin_attempt(message_id, now) is None  # sent: nothing more to attempt

    other = second.enqueue("slack", {"text": "clean", "blocks": []}, now)
    SlackNotifier(httpserver.url_for("/hook"), second).deliver_pending(now)
    assert received[-1]["text"] == "clean"  # an attempt that ended normally leaves no mark
    assert other not in second.interrupted_attempts()
    second.close()
