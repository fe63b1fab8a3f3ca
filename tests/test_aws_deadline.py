"""Every AWS call has a total deadline: an endpoint that drip-feeds its answer cannot hold a
call, a thread or a socket past it.

The endpoint is a real local socket server (one thread, ``selectors``): it reads each request,
sends a 200 status line and headers promising a large body, then one byte every 50 ms --
always well inside botocore's read timeout, so only a total deadline can end the call.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import botocore.utils
import pytest

import driftwatch.aws.deadline
import driftwatch.scan
from driftwatch.aws.calls import ApiCallRecorder
from driftwatch.aws.clients import AwsClients
from driftwatch.aws.dynamodb import LiveReadError, read_table
from driftwatch.cli import _aws_configuration_problem
from driftwatch.demo.run import demo_targets
from driftwatch.scan import ScanSettings, scan
from driftwatch.spec import TableStatus
from tests.ports import free_port

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
DRIP_INTERVAL = 0.05
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 1000000\r\n\r\n"


class DripServer:
    """Answers every request with headers, then one body byte per ``DRIP_INTERVAL``, for ever."""

    def __init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self._listener.setblocking(False)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._clients: dict[socket.socket, bool] = {}  # -> headers sent
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="drip-server", daemon=True)
        self.accepted = 0

    @property
    def open_sockets(self) -> int:
        """Sockets the server itself holds open (its listener and its side of each client)."""
        return 1 + len(self._clients)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in list(self._clients):
            conn.close()
        self._clients.clear()
        self._listener.close()

    def _drop(self, conn: socket.socket, selector: selectors.BaseSelector) -> None:
        selector.unregister(conn)
        del self._clients[conn]
        conn.close()

    def _serve(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            while not self._stop.is_set():
                for key, _ in selector.select(DRIP_INTERVAL):
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    if sock is self._listener:
                        with contextlib.suppress(BlockingIOError):
                            conn, _ = self._listener.accept()
                            conn.setblocking(False)
                            self._clients[conn] = False
                            selector.register(conn, selectors.EVENT_READ)
                            self.accepted += 1
                        continue
                    try:
                        data = sock.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        self._drop(sock, selector)
                    elif not self._clients[sock]:
                        self._clients[sock] = True
                        with contextlib.suppress(OSError):
                            sock.send(HEAD)
                for conn, started in list(self._clients.items()):
                    if started:
                        try:
                            conn.send(b" ")
                        except OSError:
                            self._drop(conn, selector)


@pytest.fixture
def drip(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[DripServer]:
    server = DripServer()
    server.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    try:
        yield server
    finally:
        server.stop()


def client_sockets(server: DripServer) -> int:
    """Open socket descriptors of this process that are not the drip server's."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                count += 1
    return count - server.open_sockets


def settled(server: DripServer, before: set[threading.Thread]) -> tuple[set[str], int]:
    """(names of threads started since ``before`` and still alive, client sockets), once the
    server has noticed the closed connections. Threads of other tests that end meanwhile do
    not count; sockets are compared as "no more than"."""
    time.sleep(3 * DRIP_INTERVAL)
    return {t.name for t in threading.enumerate() if t not in before}, client_sockets(server)


def _read_errors_in_a_thread(clients: AwsClients) -> list[LiveReadError]:
    """The errors of reading one table in a thread of its own, which must end (30 s bounds a
    hang only: a drip never ends on its own; no test checks a figure against it)."""
    errors: list[LiveReadError] = []

    def read() -> None:
        try:
            read_table(clients.dynamodb("us-east-1"), "orders", "us-east-1")
        except LiveReadError as error:
            errors.append(error)

    caller = threading.Thread(target=read, daemon=True)
    caller.start()
    caller.join(timeout=30)
    assert not caller.is_alive()
    return errors


def test_a_drip_fed_call_ends_at_its_call_timeout_with_a_clear_cause(drip: DripServer) -> None:
    clients = AwsClients(call_timeout=0.5, read_timeout=2, connect_timeout=1, max_attempts=3)
    started = time.monotonic()
    errors = _read_errors_in_a_thread(clients)  # without a deadline it never returns
    elapsed = time.monotonic() - started

    assert elapsed > 0.4  # not before the call timeout
    # Ended by the call timeout, not by the read timeout (2 s, which the drip never trips): the
    # cause says so. No stopwatch on how soon (elapsed < 2 can fail on a loaded machine).
    assert [error.code for error in errors] == ["Timeout"]
    assert "did not finish within aws.call_timeout (0.5 s)" in str(errors[0])
    assert drip.accepted == 1  # aborted at the deadline, not retried


def test_a_drip_fed_credential_fetch_ends_at_the_call_timeout_too(
    drip: DripServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """IRSA's credentials come from botocore's own STS client (AssumeRoleWithWebIdentity), made
    inside the first call that needs them. Its socket was nobody's to shut: a drip-fed STS held
    that call, its worker thread and botocore's credential lock for ever (every later call of
    the daemon waiting on the lock, a thread more per table per scan)."""
    token = tmp_path / "token"
    token.write_text("a-web-identity-token")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/driftwatch")
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(token))
    clients = AwsClients(call_timeout=0.5, read_timeout=2, connect_timeout=1, max_attempts=2)
    errors = _read_errors_in_a_thread(clients)
    assert [error.code for error in errors] == ["Timeout"]
    assert "did not finish within aws.call_timeout (0.5 s)" in str(errors[0])
    # The credentials failed, not DescribeTable (which was never sent): it read "DescribeTable
    # failed … Timeout", sending the operator to DynamoDB's endpoint and IAM policy.
    said = "Fetching AWS credentials failed for table 'orders' in us-east-1: Timeout"
    assert str(errors[0]).startswith(said)
    assert drip.accepted == 1  # the STS call only: DynamoDB was never asked, nothing retried


def test_a_drip_fed_container_credentials_endpoint_ends_at_the_call_timeout_too(
    drip: DripServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """EKS Pod Identity and ECS give credentials over HTTP (``AWS_CONTAINER_CREDENTIALS_FULL_URI``),
    fetched by botocore while the first client is made, under the lock every worker takes to
    get a client: a drip-fed agent held the first worker, and every other behind the lock, for
    ever (botocore's 2 s timeout restarts with every byte). Now the fetch has the call deadline
    too, and the table's error says the credentials could not be had."""
    monkeypatch.setattr(botocore.utils.ContainerMetadataFetcher, "SLEEP_TIME", 0)  # its retries
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{drip.url}/credentials")
    clients = AwsClients(call_timeout=0.5, read_timeout=2, connect_timeout=1, max_attempts=2)
    errors = _read_errors_in_a_thread(clients)
    assert [error.code for error in errors] == ["Timeout"]
    assert "the AWS credentials were not fetched within aws.call_timeout (0.5 s)" in str(errors[0])


def test_a_container_credentials_endpoint_that_refuses_is_the_tables_error_not_an_unexpected_one(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore's CredentialRetrievalError, raised while the client is made, escaped as the
    table's ``unexpected error: CredentialRetrievalError(...)``."""
    monkeypatch.setattr(botocore.utils.ContainerMetadataFetcher, "SLEEP_TIME", 0)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"http://127.0.0.1:{free_port()}/credentials")
    with pytest.raises(LiveReadError) as caught:
        read_table(AwsClients().dynamodb("us-east-1"), "orders", "us-east-1")
    assert str(caught.value).startswith(
        "Fetching AWS credentials failed in us-east-1: CredentialRetrievalError: Error when retrieving "
        "credentials from container-role"
    )


def test_the_cli_says_in_one_line_that_the_credentials_could_not_be_fetched(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``driftwatch scan`` makes a client before anything is read, which fetches the first
    credentials: a credentials endpoint that refuses is its one line and exit 1, not a traceback."""
    monkeypatch.setattr(botocore.utils.ContainerMetadataFetcher, "SLEEP_TIME", 0)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"http://127.0.0.1:{free_port()}/credentials")
    problem = _aws_configuration_problem(AwsClients())
    assert problem is not None
    assert problem.startswith("Fetching AWS credentials failed in us-east-1: CredentialRetrievalError: ")


def test_threads_and_sockets_do_not_grow_across_scans_against_a_drip_feeding_endpoint(
    drip: DripServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three scans (five tables, two autoscaling listings each) with a 1 s scan deadline:
    every table is an error naming the deadline, and after the first scan (which starts the
    one watchdog thread) the thread and socket counts stay where they were."""
    targets = demo_targets(EXAMPLES)
    clients = AwsClients(read_timeout=5, connect_timeout=1, max_attempts=2)
    settings = ScanSettings(scan_timeout=1.0)
    # Built before any clock runs: under load (five test runs on two cores) building the two
    # botocore clients took the first scan's whole second, and its calls ended unconnected.
    clients.dynamodb("us-east-1")
    clients.autoscaling("us-east-1")
    before = set(threading.enumerate())
    counts = []

    class TalkedDeadline(driftwatch.scan.Deadline):
        """The 1 s deadline, counted from the scan's first connection to the endpoint: on a
        loaded machine the evaluation alone took the wall-clock second, and no call was made
        at all. Until then every asker (a call setting its own deadline) is given the whole
        second; 60 s bound the scan if no call ever connects."""

        def __init__(self, seconds: float, *args: object) -> None:
            super().__init__(seconds)
            self._baseline = drip.accepted
            self._talked_at: float | None = None
            self._bound = time.monotonic() + 60

        def remaining(self) -> float:
            now = time.monotonic()
            if self._talked_at is None and drip.accepted > self._baseline:
                self._talked_at = now
            if self._talked_at is None:  # the whole second is still ahead (60 s: a hang)
                return self.seconds if now < self._bound else 0.0
            return max(0.0, self._talked_at + self.seconds - now)

    monkeypatch.setattr(driftwatch.scan, "Deadline", TalkedDeadline)
    for _ in range(3):
        accepted = drip.accepted
        started = time.monotonic()
        report = scan(targets, clients, settings=settings)
        # A bound on a hang, not a stopwatch: without the deadline the drip holds a scan for ever.
        assert time.monotonic() - started < 60
        assert {row.status for row in report.tables} == {TableStatus.ERROR}
        # "scan deadline of 1 s exceeded before this table was read", or the call's own
        # "Timeout: the call did not finish within the scan deadline" when it won the race
        assert all("scan deadline" in (row.error or "") for row in report.tables)
        assert drip.accepted > accepted  # the scan really talked to the endpoint
        counts.append(settled(drip, before))

    threads = [names for names, _ in counts]
    assert all(names <= {"driftwatch-call-deadline"} for names in threads), counts  # no worker left
    assert all(sockets <= counts[0][1] for _, sockets in counts[1:]), counts


class FloodServer:
    """Answers every request with a chunked 200 whose body never ends: 64 KiB of JSON whitespace
    every millisecond (64 MiB/s), until the client hangs up."""

    def __init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="flood-server", daemon=True)
        self.sent = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def _serve(self) -> None:
        chunk = b"%x\r\n%s\r\n" % (65536, b" " * 65536)
        head = (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                with contextlib.suppress(OSError):
                    conn.recv(65536)
                    conn.sendall(head)
                    while not self._stop.is_set():
                        conn.sendall(chunk)
                        self.sent += 65536
                        time.sleep(0.001)


def test_an_answer_that_never_ends_is_cut_at_the_response_limit_not_held_until_the_deadline(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore reads a whole body into memory before parsing it: an endpoint (or a proxy) that
    streams without end was read until ``call_timeout``, holding everything it sent (64 MiB
    here in one second; gigabytes at loopback speed). Past ``MAX_RESPONSE_BYTES`` (lowered to
    1 MiB here) the call stops, is not retried, and is an InvalidResponse of the table."""
    monkeypatch.setattr(driftwatch.aws.deadline, "MAX_RESPONSE_BYTES", 2**20)
    server = FloodServer()
    server.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    recorder = ApiCallRecorder()
    clients = AwsClients(recorder=recorder, call_timeout=1, read_timeout=2, connect_timeout=1, max_attempts=3)
    try:
        with pytest.raises(LiveReadError) as caught:
            read_table(clients.dynamodb("us-east-1"), "orders", "us-east-1")
    finally:
        server.stop()
    assert caught.value.code == "InvalidResponse"
    assert "the answer is larger than 1048576 bytes" in str(caught.value)
    assert server.sent < 32 * 2**20  # stopped near the limit (plus socket buffers), not a second of 64 MiB
    assert recorder.snapshot() == {("DescribeTable", "InvalidResponse"): 1}
    assert "DescribeTable" not in recorder.retries()


class GzipBombServer:
    """Answers every request with HTTP 200, ``Content-Encoding: gzip`` and 32 MiB of JSON
    whitespace compressed to 140 KiB."""

    def __init__(self) -> None:
        import zlib

        packer = zlib.compressobj(1, zlib.DEFLATED, 31)  # 31: the gzip format
        body = b"".join(packer.compress(b" " * 2**20) for _ in range(32)) + packer.flush()
        self.head = (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n"
            b"Content-Encoding: gzip\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body)
        )
        self.body = body
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="gzip-server", daemon=True)

    def __enter__(self) -> GzipBombServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                continue
            with conn, contextlib.suppress(OSError):
                conn.settimeout(1)
                _read_request(conn)  # all of it: unread bytes at close would reset the answer
                conn.sendall(self.head + self.body)


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.lower().split(b"\r\n")
    lengths = [line.split(b":", 1)[1] for line in lines if line.startswith(b"content-length:")]
    length = int(lengths[0]) if lengths else 0
    while len(body) < length:
        body += conn.recv(65536)


def test_a_gzip_bomb_is_never_inflated(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """An answer in ``Content-Encoding: gzip`` (which botocore does not ask for) is read as the
    bytes that came, never inflated: 140 KiB that would inflate to 32 MiB are an InvalidResponse
    of the table, and the call holds about the 140 KiB. (Were a botocore to inflate it, the
    response limit counts what the stream yields: the inflated bytes.)"""
    import tracemalloc

    with GzipBombServer() as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
        recorder = ApiCallRecorder()
        clients = AwsClients(recorder=recorder, call_timeout=5, max_attempts=1)
        with pytest.raises(LiveReadError):  # once first: the client loads its models
            read_table(clients.dynamodb("us-east-1"), "orders", "us-east-1")
        recorder.reset()
        tracemalloc.start()
        try:
            with pytest.raises(LiveReadError) as caught:
                read_table(clients.dynamodb("us-east-1"), "orders", "us-east-1")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert caught.value.code == "InvalidResponse"
    assert peak < 8 * 2**20, f"{peak} bytes at the peak: the body was inflated"
    assert recorder.snapshot() == {("DescribeTable", "InvalidResponse"): 1}
