"""Per-target Slack routing (``slack.routes``), end to end: the daemon scans the embedded AWS
(moto), records its transitions, and delivers to two fake Slack webhooks on a local HTTP server.

Each route is its own outbox channel: its messages, its retries and its metric; a route whose
webhook fails keeps its message queued while the others are delivered.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import structlog
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from driftwatch.config import ConfigError, load_config, parse_config
from driftwatch.daemon import Daemon
from driftwatch.notify.routes import Route, route_of
from driftwatch.notify.slack import SlackConfigError
from tests.ports import free_port

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


class FakeSlack:
    """A webhook that records what it got and answers from a script (then 200)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.script: list[int] = []

    def handle(self, request: Request) -> Response:
        # The body is read whatever the answer: a server that answers and closes with the body
        # unread resets the connection (TCP RST), and the client may then see
        # ConnectionResetError instead of the 500 it was scripted to get.
        body = request.get_data()
        status = self.script.pop(0) if self.script else 200
        if status == 200:
            self.received.append(json.loads(body))
        return Response("ok" if status == 200 else "error", status=status)

    def tables(self) -> set[str]:
        text = json.dumps(self.received)
        return {name for name in _TABLES if name in text}


_TABLES = (
    "acme-prod-mimir-index",
    "acme-prod-orders",
    "acme-prod-sessions",
    "acme-staging-mimir-index",
    "acme-staging-orders",
)


def _config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "driftwatch.yaml"
    path.write_text(
        f"""
repo: {EXAMPLES}
targets:
  - {{name: prod, root: envs/prod, var_files: [prod.tfvars], region: us-east-1, pending_grace: 0s}}
  - {{name: staging, root: envs/staging, var_files: [staging.tfvars], region: us-east-1, pending_grace: 0s}}
schedule: {{interval: 10m, jitter: 0s}}
http: {{host: 127.0.0.1, port: {free_port()}}}
state: {{path: {tmp_path / "state.db"}}}
slack:
  webhook_url_env: TEST_DEFAULT_WEBHOOK
  routes:
    - {{name: staging, targets: [staging], webhook_url_env: TEST_STAGING_WEBHOOK}}
    - {{name: sessions, tables: ["acme-*-sessions"], webhook_url_env: TEST_SESSIONS_WEBHOOK}}
{extra}"""
    )
    return path


@pytest.fixture
def hooks(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, FakeSlack]:
    fakes = {name: FakeSlack() for name in ("default", "staging", "sessions")}
    for name, fake in fakes.items():
        httpserver.expect_request(f"/hook/{name}", method="POST").respond_with_handler(fake.handle)
        monkeypatch.setenv(f"TEST_{name.upper()}_WEBHOOK", httpserver.url_for(f"/hook/{name}"))
    return fakes


@pytest.fixture
def daemon(embedded_aws: None, hooks: dict[str, FakeSlack], tmp_path: Path) -> Iterator[Daemon]:
    from driftwatch.demo.run import apply_declared, console_changes, demo_targets

    apply_declared(demo_targets(EXAMPLES))
    console_changes()  # prod: mimir PITR off and GSI capacity, orders TTL, sessions tag
    boto3.client("dynamodb", region_name="us-east-1").update_continuous_backups(
        TableName="acme-staging-orders",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False},
    )
    config, base = load_config(_config(tmp_path))
    instance = Daemon(config, base)
    yield instance
    instance.endpoint.stop()
    instance.history.close()


def test_each_route_gets_its_tables_and_the_default_the_rest(
    daemon: Daemon, hooks: dict[str, FakeSlack]
) -> None:
    report = daemon.scan_once()
    assert report is not None and report.exit_code == 2
    daemon.deliver()
    assert hooks["default"].tables() == {"acme-prod-mimir-index", "acme-prod-orders"}
    assert hooks["staging"].tables() == {"acme-staging-orders"}
    # first match wins: a prod table whose name matches the sessions route goes there only
    assert hooks["sessions"].tables() == {"acme-prod-sessions"}
    assert all(len(fake.received) == 1 for fake in hooks.values())
    metrics = daemon.metrics.render().decode()
    for channel in ("slack", "slack:staging", "slack:sessions"):
        assert f'driftwatch_notifications_total{{channel="{channel}",outcome="success"}} 1.0' in metrics


def test_a_failing_route_keeps_its_own_messages_queued(daemon: Daemon, hooks: dict[str, FakeSlack]) -> None:
    hooks["staging"].script = [500]
    daemon.scan_once()
    daemon.deliver()
    assert hooks["staging"].received == [] and len(hooks["default"].received) == 1
    assert daemon.history.pending_count("slack:staging") == 1
    assert daemon.history.pending_count("slack") == 0 and daemon.history.pending_count("slack:sessions") == 0
    metrics = daemon.metrics.render().decode()
    assert 'driftwatch_notifications_total{channel="slack:staging",outcome="retry"} 1.0' in metrics


def test_an_expired_ignore_rule_is_announced_where_its_tables_alert(
    embedded_aws: None, hooks: dict[str, FakeSlack], tmp_path: Path
) -> None:
    """The drift an expired rule hid alerts again in its tables' channels: the announcement goes
    there too. A rule that covers no table goes to the default webhook."""
    from driftwatch.demo.run import apply_declared, demo_targets

    apply_declared(demo_targets(EXAMPLES))
    today = datetime.now(UTC).date().isoformat()
    ignore = (
        "ignore:\n"
        f"  - {{table: acme-staging-orders, attribute: ttl.*, reason: staging-ttl-rule, until: {today}}}\n"
        f"  - {{table: 'acme-*-sessions', attribute: 'tags.*', reason: sessions-tags-rule, until: {today}}}\n"
        f"  - {{table: 'gone-*', attribute: '*', reason: nobody-rule, until: {today}}}\n"
    )
    config, base = load_config(_config(tmp_path, ignore))
    daemon = Daemon(config, base)
    try:
        daemon.scan_once()
        daemon.deliver()
    finally:
        daemon.endpoint.stop()
        daemon.history.close()

    def announced(name: str) -> str:
        return " ".join(p["text"] for p in hooks[name].received if "ignore rule(s) expired" in p["text"])

    assert "staging-ttl-rule" in announced("staging")
    assert "sessions-tags-rule" in announced("sessions")
    assert "nobody-rule" in announced("default")
    assert "staging-ttl-rule" not in announced("default") + announced("sessions")
    assert "sessions-tags-rule" not in announced("default") + announced("staging")
    assert "nobody-rule" not in announced("staging") + announced("sessions")


def test_routes_are_validated() -> None:
    base = {"targets": [{"name": "prod", "root": "."}]}
    for routes, message in (
        ([{"name": "a", "webhook_url_env": "X"}], "a route needs targets or tables"),
        ([{"name": "a", "targets": ["prod"]}], "a route needs webhook_url_env or webhook_url_file"),
        ([{"name": "a", "targets": ["nope"], "webhook_url_env": "X"}], "names no such target: nope"),
        ([{"name": "a", "tables": ["*"], "webhook_url_env": "X"}] * 2, "route names must be unique"),
        ([{"name": "a b", "tables": ["*"], "webhook_url_env": "X"}], "slack.routes.0.name"),
    ):
        with pytest.raises(ConfigError, match=message):
            parse_config({**base, "slack": {"routes": routes}})


def test_route_of_tries_routes_in_order() -> None:
    routes = [Route("payments", targets=("payments",)), Route("orders", tables=("acme-*-orders",))]
    assert route_of(routes, "payments", "acme-prod-orders") is routes[0]
    assert route_of(routes, "prod", "acme-prod-orders") is routes[1]
    assert route_of(routes, "prod", "acme-prod-users") is None


def test_a_route_whose_variable_is_unset_stops_the_start_naming_it(
    embedded_aws: None, hooks: dict[str, FakeSlack], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The route's tables are taken from the default webhook by the route: with its variable
    unset (a Secret not mounted) they would have been announced nowhere, and nobody told."""
    monkeypatch.delenv("TEST_SESSIONS_WEBHOOK")
    config, base = load_config(_config(tmp_path))
    with pytest.raises(SlackConfigError) as raised:
        Daemon(config, base)
    assert str(raised.value).startswith(
        "slack.routes.1 (sessions): environment variable TEST_SESSIONS_WEBHOOK is not set or empty"
    )
    assert not (tmp_path / "state.db").exists()  # refused before anything is opened


def test_drift_no_route_takes_is_said_once_when_there_is_no_default_webhook(
    daemon: Daemon, hooks: dict[str, FakeSlack], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    daemon.endpoint.stop()
    daemon.history.close()
    monkeypatch.delenv("TEST_DEFAULT_WEBHOOK")  # routes only: prod's tables match no route
    config, base = load_config(_config(tmp_path))
    routes_only = Daemon(config, base)
    try:
        with structlog.testing.capture_logs() as logs:
            routes_only.scan_once()
            routes_only.scan_once()
        routes_only.deliver()
    finally:
        routes_only.endpoint.stop()
        routes_only.history.close()
    said = [entry for entry in logs if entry["event"] == "slack_drift_unrouted"]
    assert len(said) == 1  # once per table, not every scan
    assert said[0]["tables"] == ["prod/acme-prod-mimir-index", "prod/acme-prod-orders"]
    assert said[0]["log_level"] == "warning"
    assert hooks["default"].received == []
    assert hooks["staging"].tables() == {"acme-staging-orders"}
    assert hooks["sessions"].tables() == {"acme-prod-sessions"}
