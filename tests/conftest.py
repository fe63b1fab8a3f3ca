"""Shared fixtures: a fake, offline AWS environment for tests that touch boto3."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from moto import mock_aws
from moto_state import moto_classes_restored
from pytest_httpserver import HTTPServer

from driftwatch.aws.calls import ApiCallRecorder
from driftwatch.aws.clients import AwsClients
from driftwatch.demo.run import embedded_aws as _embedded_aws

# Hypothesis fails an example that takes longer than its deadline (200 ms by default): on a loaded
# machine that is a preemption, not a bug, and timings belong in benchmarks/. No deadline for any
# property test; each still fails on its assertions.
settings.register_profile("driftwatch", deadline=None)
settings.load_profile("driftwatch")

FAKE_REGION = "us-east-1"
# AWS's documented example credentials: shaped like real ones, so redaction tests are meaningful.
FAKE_ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
FAKE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


# The git command: the tests that build real repositories with it need it, as driftwatch does for
# pending applies and git module sources; where it is absent they skip, saying so.
REQUIRES_GIT = pytest.mark.skipif(
    shutil.which("git") is None,
    reason="git is not installed: these tests build real git repositories with it "
    "(driftwatch itself needs git for pending applies and git module sources)",
)


@pytest.fixture(autouse=True)
def _modules_offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never reach the internet: remote module sources are not fetched (the fetching tests
    build their own ModuleSettings pointing at a local registry), and no test reads or fills the
    developer's module cache."""
    monkeypatch.setenv("DRIFTWATCH_MODULES_OFFLINE", "1")
    monkeypatch.setenv("DRIFTWATCH_MODULE_CACHE", str(tmp_path / "module-cache"))


@pytest.fixture(autouse=True, scope="session")
def _structlog_through_stdlib() -> None:
    """structlog configured as the CLI and the daemon configure it (events through the stdlib
    loggers, so ``caplog`` sees them), whatever test runs first in a process. Without it, a
    test asserting a structlog event with ``caplog`` passed only after some earlier test had
    run the CLI: alone, or first on its xdist worker, it saw nothing. The root handlers and
    level are left as pytest set them."""
    import structlog  # noqa: F401  (imported, so configure() applies its structlog part at once)

    import driftwatch.log

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    driftwatch.log.configure(json_output=True)
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """A test that runs the CLI (``driftwatch.log.configure``) under ``capsys`` leaves the root
    handler writing to that test's stderr, closed once it ends: the next test in the process
    then got "--- Logging error --- Traceback" in its own stderr (test order decided which)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials and no trace of the developer's real AWS configuration: no profile,
    config file, endpoint, web identity or instance metadata can point boto3 at a real account."""
    for var in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING",
        "AWS_ENDPOINT_URL_STS",
        "AWS_MAX_ATTEMPTS",
        "AWS_RETRY_MODE",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", FAKE_REGION)
    monkeypatch.setenv("AWS_REGION", FAKE_REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def mocked_aws(aws_env: None) -> Iterator[None]:
    """moto in-process, unpatched (the live-side tests check moto's own answers)."""
    with mock_aws():
        yield


@pytest.fixture
def recorder() -> ApiCallRecorder:
    return ApiCallRecorder()


@pytest.fixture
def aws_clients(mocked_aws: None, recorder: ApiCallRecorder) -> AwsClients:
    """The code under test's clients; setup uses separate plain clients, so is not counted."""
    return AwsClients(recorder=recorder, max_attempts=1)


@pytest.fixture
def moto_patches_undone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Undo driftwatch's moto patches after the test.

    ``driftwatch.demo.moto_patches.apply()`` (run by ``embedded_aws()`` and ``driftwatch demo``)
    patches moto's DynamoDB classes for the rest of the process. Tests that run moto as an
    in-process server for Terraform (the plan oracle) must see plain moto, so the classes are
    put back as they were and the patches are re-applied by the next ``embedded_aws()``.

    The test's monkeypatches are undone first: a test that monkeypatches a patched moto method
    (``report_replicas``) would otherwise put the patched method back after this fixture
    restored the class, since ``monkeypatch`` is torn down last.
    """
    with moto_classes_restored(before_restore=monkeypatch.undo):
        yield


@pytest.fixture
def embedded_aws(aws_env: None, moto_patches_undone: None) -> Iterator[None]:
    """moto in-process with driftwatch's moto patches (the same embedded AWS as `driftwatch demo`)."""
    with _embedded_aws():
        yield


@pytest.fixture(scope="session")
def make_httpserver(
    httpserver_listen_address: tuple[str | None, int | None], httpserver_ssl_context: None
) -> Iterator[HTTPServer]:
    """pytest-httpserver's shared server (its own fixture, but for one line): the listening socket
    is non-blocking. socketserver waits for a connection with select() and then accept()s it; a
    connection a client abandons in between (a test's client closing early, on a loaded machine)
    left accept() blocking, so the server thread never saw shutdown() and the xdist worker hung
    in the session's teardown with every test passed (seen once, in a full run under load). With
    a non-blocking socket that accept() raises BlockingIOError, which socketserver passes over."""
    host, port = httpserver_listen_address
    server = HTTPServer(
        host=host or HTTPServer.DEFAULT_LISTEN_HOST,
        port=port or HTTPServer.DEFAULT_LISTEN_PORT,
        ssl_context=httpserver_ssl_context,
    )
    server.start()
    assert server.server is not None
    server.server.socket.setblocking(False)
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker more than the cores this process may use. Some of the suite
    waits rather than computes (a SIGKILLed daemon's restart, terraform's plugin handshakes,
    deadlines held on purpose), and a spare worker fills those waits: on 2 cores the full suite
    took 293 s with 3 workers and 313 s with 2, measured back to back (CPU 545 s either way)."""
    return len(os.sched_getaffinity(0)) + 1
