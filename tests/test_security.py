"""Security properties, each asserted on what driftwatch actually produces.

- No code is ever run from data: no ``eval``/``exec``/``compile``/``__import__``, no unsafe
  YAML or pickle, no shell -- checked on the syntax tree of every module.
- Secrets (the Slack webhook URL, AWS credentials) never leave memory: a scan, the daemon's
  scans, Slack deliveries that fail in every way (a 500 whose body echoes the URL, a refused
  connection, a rate limit) and a bad configuration are run with recognisable fake secrets,
  and everything they produce is searched: stdout, stderr, every log record (at DEBUG),
  metrics, JSON/SARIF/text reports, exception texts, the SQLite files' bytes.
- The HTTP endpoint answers GET and HEAD on its three paths only, binds to the configured
  address, and drops idle connections.
"""

from __future__ import annotations

import ast
import http.client
import io
import json
import logging
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from driftwatch import endpoint as endpoint_module
from driftwatch import log as driftwatch_log
from driftwatch.cli import main
from driftwatch.config import parse_config
from driftwatch.daemon import Daemon
from driftwatch.demo.provision import create_table
from driftwatch.endpoint import Endpoint
from driftwatch.scan import declare
from driftwatch.spec import TableStatus
from driftwatch.terraform.modules import TargetInput
from driftwatch.terraform.parse import ParseCache
from tests.ports import free_port

PACKAGE = Path(__file__).resolve().parents[1] / "driftwatch"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
REGION = "us-east-1"

# Recognisable fakes. The key id has the shape of a real one (AKIA + 16), so redaction by pattern
# is exercised as well as redaction by value.
AWS_KEY_ID = "AKIAZZZZLEAKCANARY42"
AWS_SECRET = "zZ9/leakCanarySecretAccessKey+DoNotPrint0000"
SLACK_TOKEN = "LeakCanaryWebhookToken0123456789"
SLACK_PATH = f"/services/T0LEAKCANARY/B0LEAKCANARY/{SLACK_TOKEN}"
SECRETS = (AWS_KEY_ID, AWS_SECRET, SLACK_TOKEN, "T0LEAKCANARY", "B0LEAKCANARY")


def assert_no_secret(where: str, text: str | bytes) -> None:
    data = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    for secret in SECRETS:
        assert secret not in data, f"{secret!r} leaked into {where}"


# --------------------------------------------------------------------------- no code from data

_FORBIDDEN_BUILTINS = {"eval", "exec", "compile", "__import__", "breakpoint"}
# The evaluation worker and its parent exchange pickles over a private socket pair: requests
# the parent built, replies the worker built from evaluated values, read through an unpickler
# that refuses any class outside driftwatch and plain data (test_worker.py proves it).
_PICKLES_ITS_OWN_MESSAGES = {"terraform/worker.py"}


def _calls(tree: ast.AST) -> Iterator[tuple[ast.Call, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            function = node.func
            if isinstance(function, ast.Name):
                yield node, function.id
            elif isinstance(function, ast.Attribute):
                base = function.value
                prefix = base.id if isinstance(base, ast.Name) else "?"
                yield node, f"{prefix}.{function.attr}"


@pytest.mark.parametrize("module", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_code_is_ever_run_from_data(module: Path) -> None:
    tree = ast.parse(module.read_text(), str(module))
    problems = []
    for node, name in _calls(tree):
        where = f"{module.relative_to(PACKAGE)}:{node.lineno}"
        if name in _FORBIDDEN_BUILTINS or name in {f"builtins.{b}" for b in _FORBIDDEN_BUILTINS}:
            problems.append(f"{where}: {name}()")
        if name in {"yaml.load", "yaml.unsafe_load", "yaml.full_load", "os.system", "os.popen"}:
            problems.append(f"{where}: {name}()")
        serialises = name.startswith(("pickle.", "marshal.", "shelve.")) or name == "importlib.import_module"
        if serialises and module.relative_to(PACKAGE).as_posix() not in _PICKLES_ITS_OWN_MESSAGES:
            problems.append(f"{where}: {name}()")
        for keyword in node.keywords:
            if keyword.arg == "shell" and not (
                isinstance(keyword.value, ast.Constant) and keyword.value.value is False
            ):
                problems.append(f"{where}: {name}(shell=...)")
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
            if any(n and n.split(".")[0] in {"pickle", "marshal", "shelve"} for n in names) and (
                module.relative_to(PACKAGE).as_posix() not in _PICKLES_ITS_OWN_MESSAGES
            ):
                problems.append(f"{module.relative_to(PACKAGE)}:{node.lineno}: imports {names}")
    assert problems == []


def test_the_evaluator_never_executes_python_from_hcl() -> None:
    """An expression that would be code in Python is only ever a Terraform value (or Unknown)."""
    from driftwatch.terraform.evaluate import Scope, evaluate_text

    canary = "__import__('os').system('touch /tmp/driftwatch-pwned')"
    for text in [canary, f'"${{{canary}}}"', 'jsondecode("{\\"__class__\\": 1}")', "upper.__class__"]:
        evaluate_text(text, Scope({}))
    assert not Path("/tmp/driftwatch-pwned").exists()


# --------------------------------------------------------------------------- secrets


@pytest.fixture
def leaky_aws(monkeypatch: pytest.MonkeyPatch, moto_patches_undone: None) -> Iterator[None]:
    """The embedded AWS, reached with credentials that look real and must never be printed."""
    from moto import mock_aws

    from driftwatch.demo import moto_patches

    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AWS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    moto_patches.apply()
    with mock_aws():
        targets = [
            TargetInput(name=e, repo=EXAMPLES, root=EXAMPLES / "envs" / e, var_files=(f"{e}.tfvars",), env={})
            for e in ("prod", "staging")
        ]
        for job in declare(targets, ParseCache()).jobs:
            create_table(
                boto3.client("dynamodb", region_name=REGION),
                boto3.client("application-autoscaling", region_name=REGION),
                job.table.spec,
            )
        boto3.client("dynamodb", region_name=REGION).update_continuous_backups(
            TableName="acme-prod-orders",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False},
        )
        yield


@pytest.fixture
def all_logs() -> Iterator[io.StringIO]:
    """Every log record, driftwatch's and the libraries', at DEBUG, through driftwatch's setup."""
    stream = io.StringIO()
    driftwatch_log.configure(json_output=True, level="DEBUG", stream=stream)
    for name in ("botocore", "boto3", "urllib3", "slack_sdk", "apscheduler"):
        logging.getLogger(name).setLevel(logging.DEBUG)  # more than production logs: all of it
    try:
        yield stream
    finally:
        logging.getLogger().handlers[:] = []
        for name in ("botocore", "boto3", "urllib3", "slack_sdk", "apscheduler"):
            logging.getLogger(name).setLevel(logging.WARNING)


def test_a_cli_scan_prints_no_credential(
    leaky_aws: None, capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    outputs = []
    for fmt in ("json", "text", "sarif"):
        argv = ["scan", "--config", str(EXAMPLES.parent / "config" / "driftwatch.yaml"), "--format", fmt]
        assert main([*argv, "--log-level", "DEBUG", "--output", str(tmp_path / f"report.{fmt}")]) == 2
        out, err = capfd.readouterr()
        outputs += [out, err, (tmp_path / f"report.{fmt}").read_text()]
    assert "point_in_time_recovery" in outputs[2]  # the scan did find the drift
    for index, text in enumerate(outputs):
        assert_no_secret(f"scan output {index}", text)


PROXY_PASSWORD = "leakCanaryProxyPassw0rd"


@pytest.mark.parametrize(
    "crashing",
    ["driftwatch.scan.read_table", "driftwatch.scan.list_table_names", "driftwatch.scan.call_aws"],
)
def test_an_unexpected_exception_echoing_a_url_reaches_no_report_unmasked(
    leaky_aws: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, crashing: str
) -> None:
    """An exception driftwatch did not anticipate (here from the table read, the listing of
    unmanaged tables, the role assumption) is one table's or target's error; its text is not
    driftwatch's, and urllib3 or a proxy may have put a URL with credentials in it."""

    def crash(*_: Any, **__: Any) -> Any:
        url = f"https://scanner:{PROXY_PASSWORD}@proxy.internal:3128/"
        raise RuntimeError(f"cannot reach {url} ({AWS_SECRET})")

    monkeypatch.setattr(crashing, crash)
    config = tmp_path / "driftwatch.yaml"
    roles = "    role_arn: arn:aws:iam::123456789012:role/reader\n" if crashing.endswith("call_aws") else ""
    config.write_text(
        f"repo: {EXAMPLES}\ntargets:\n  - name: prod\n    root: envs/prod\n    var_files: [prod.tfvars]\n"
        f"    region: {REGION}\n    unmanaged: {{prefixes: [acme-prod-]}}\n{roles}"
    )
    report = tmp_path / "report.json"
    assert main(["scan", "--config", str(config), "--format", "json", "--output", str(report)]) == 1
    text = report.read_text()
    assert "unexpected error: RuntimeError(" in text  # the crash is reported, as an error
    assert "proxy.internal" in text  # where it happened is kept, the credentials are not
    assert PROXY_PASSWORD not in text
    assert_no_secret("the JSON report", text)


def _daemon_config(tmp_path: Path, port: int) -> Any:
    return parse_config(
        {
            "repo": str(EXAMPLES),
            "targets": [
                {"name": e, "root": f"envs/{e}", "var_files": [f"{e}.tfvars"], "region": REGION}
                for e in ("prod", "staging")
            ],
            "http": {"host": "127.0.0.1", "port": port},
            "state": {"path": str(tmp_path / "state.db")},
            "slack": {"webhook_url_env": "LEAK_TEST_SLACK_URL"},
        }
    )


def test_the_daemon_and_failing_slack_deliveries_leak_nothing(
    leaky_aws: None,
    all_logs: io.StringIO,
    httpserver: HTTPServer,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    answers = iter(
        [
            # A 500 whose body echoes the request URL, as some proxies and error pages do.
            Response(f"upstream error for {httpserver.url_for(SLACK_PATH)}", status=500),
            Response("rate limited", status=429, headers={"Retry-After": "0"}),
            Response(f"invalid_payload at {SLACK_PATH}", status=400),  # dropped: stored error too
        ]
    )

    def slack(request: Request) -> Response:
        return next(answers, Response("ok", status=200))

    httpserver.expect_request(SLACK_PATH, method="POST").respond_with_handler(slack)
    url = httpserver.url_for(SLACK_PATH)
    daemon = Daemon(_daemon_config(tmp_path, free_port()), EXAMPLES, environ={"LEAK_TEST_SLACK_URL": url})
    texts: dict[str, str] = {}
    try:
        assert daemon.slack is not None
        report = daemon.scan_once()  # queues "new drift"; the 500 leaves it pending
        assert report is not None and report.count(TableStatus.DRIFTED) >= 1
        later = datetime.now(UTC) + timedelta(hours=2)
        for _ in range(4):  # 429, then the 400 drops it; a message queued by hand is then sent
            daemon.slack.deliver_pending(later)
        daemon.history.enqueue("slack", {"text": "probe"}, datetime.now(UTC))
        daemon.slack.deliver_pending(later)
        # A webhook that refuses connections: urllib's error names the URL it tried.
        refused = Daemon(
            _daemon_config(tmp_path / "refused", free_port()),
            EXAMPLES,
            environ={"LEAK_TEST_SLACK_URL": f"http://127.0.0.1:{free_port()}{SLACK_PATH}"},
        )
        try:
            assert refused.slack is not None
            refused.scan_once()
            refused.slack.deliver_pending(later)
            texts["refused repr"] = repr(refused.slack)
        finally:
            refused.history.close()
        texts["metrics"] = daemon.metrics.render().decode()
        texts["notifier repr"] = repr(daemon.slack)
        texts["outbox"] = json.dumps(
            [m.__dict__ for m in daemon.history.pending("slack", later, limit=100)], default=str
        )
    finally:
        daemon.history.close()
    texts["logs"] = all_logs.getvalue()
    out, err = capfd.readouterr()
    texts["stdout"], texts["stderr"] = out, err
    assert "slack_server_error" in texts["logs"] and "slack_message_dropped" in texts["logs"]
    assert "slack_send_failed" in texts["logs"]  # the refused connection was tried and logged
    for where, text in texts.items():
        assert_no_secret(where, text)
    for path in sorted(tmp_path.rglob("state.db*")):  # the database, its WAL and shared memory
        assert_no_secret(str(path), path.read_bytes())


def test_a_bad_webhook_configuration_does_not_echo_the_secret(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from driftwatch.notify.slack import SlackConfigError, load_webhook_url

    bad = f"htps://hooks.slack.com{SLACK_PATH}"
    with pytest.raises(SlackConfigError) as caught:
        load_webhook_url("LEAK_TEST_SLACK_URL", None, {"LEAK_TEST_SLACK_URL": bad})
    assert_no_secret("SlackConfigError", str(caught.value))
    secret_file = tmp_path / "slack"
    secret_file.write_text(bad)
    with pytest.raises(SlackConfigError) as caught:
        load_webhook_url(None, str(secret_file), {})
    assert_no_secret("SlackConfigError", str(caught.value))


def test_log_redaction_covers_what_libraries_might_print() -> None:
    """The last line of defence: patterns, not only registered values."""
    from driftwatch.log import redact_text

    text = (
        f"https://hooks.slack.com{SLACK_PATH} aws_secret_access_key = {AWS_SECRET} "
        f"Credential={AWS_KEY_ID}/20260101/us-east-1/dynamodb/aws4_request"
    )
    assert_no_secret("redacted text", redact_text(text))


# --------------------------------------------------------------------------- the HTTP endpoint


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    routes = {
        path: (lambda p=path: (200, "text/plain; charset=utf-8", f"{p} ok\n".encode()))
        for path in ("/metrics", "/healthz", "/readyz")
    }
    server = Endpoint("127.0.0.1", 0, routes)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def request(port: int, method: str, path: str, host: str = "127.0.0.1") -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection(host, port, timeout=5)
    try:
        connection.request(method, path, body=b"x" if method in ("POST", "PUT", "PATCH") else None)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("path", ["/metrics", "/healthz", "/readyz", "/metrics?name[]=x"])
def test_get_and_head_answer_on_the_three_paths(endpoint: Endpoint, path: str) -> None:
    expected = f"{path.split('?')[0]} ok\n".encode()
    status, headers, body = request(endpoint.port, "GET", path)
    assert status == 200 and body == expected
    status, headers, body = request(endpoint.port, "HEAD", path)
    assert status == 200 and body == b"" and headers["Content-Length"] == str(len(expected))


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND", "FOO"])
def test_every_other_method_is_405(endpoint: Endpoint, method: str) -> None:
    status, headers, body = request(endpoint.port, method, "/metrics")
    assert status == 405
    assert headers["Allow"] == "GET, HEAD"
    assert b"ok" not in body


@pytest.mark.parametrize(
    "path",
    ["/", "/metrics/", "/metrics/../healthz", "/METRICS", "/admin", "/debug/pprof", "http://x/metrics"],
)
def test_every_other_path_is_404(endpoint: Endpoint, path: str) -> None:
    for method in ("GET", "HEAD"):
        assert request(endpoint.port, method, path)[0] == 404


def _other_local_address() -> str | None:
    """An address of this host that is not loopback, if it has one."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: no packet is sent for UDP connect
            address = str(probe.getsockname()[0])
    except OSError:
        return None
    return None if address.startswith("127.") else address


def test_the_endpoint_binds_only_the_configured_address(endpoint: Endpoint) -> None:
    assert endpoint.address[0] == "127.0.0.1"
    other = _other_local_address()
    if other is None:
        pytest.skip("this host has no non-loopback address to try")
    with pytest.raises(OSError), socket.create_connection((other, endpoint.port), timeout=2):
        pass


def test_ipv6_hosts_are_accepted() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        server = Endpoint("::1", 0, {"/healthz": lambda: (200, "text/plain", b"ok\n")})
    except OSError:
        pytest.skip("no IPv6 loopback here")
    server.start()
    try:
        assert request(server.port, "GET", "/healthz", host="::1")[0] == 200
    finally:
        server.stop()


def test_idle_connections_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    """A client that connects and says nothing holds a connection only until the idle timeout."""
    limits = endpoint_module.Limits(head_timeout=0.5)
    server = Endpoint("127.0.0.1", 0, {"/healthz": lambda: (200, "text/plain", b"ok\n")}, limits)
    server.start()
    try:
        # Closed by the server: without the idle timeout, recv would raise at the socket's own
        # 30 s timeout (a bound on a hang; a stopwatch of < 4 s can fail on a loaded machine).
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as silent:
            assert silent.recv(1) == b""
        assert request(server.port, "GET", "/healthz")[0] == 200  # still serving
    finally:
        server.stop()
