"""The HTTP endpoint is bounded: whatever a client sends (or does not read), it costs a capped
number of connections, no thread of its own, a bounded head and bounded time."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from driftwatch.endpoint import Endpoint, Limits
from driftwatch.metrics import DriftwatchMetrics
from driftwatch.spec import ScanReport

BIG = b"x" * (4 * 1024 * 1024)


def routes() -> dict[str, object]:
    return {
        "/healthz": lambda: (200, "text/plain", b"ok\n"),
        "/metrics": lambda: (200, "text/plain", (BIG, b"tail\n")),
    }


@contextlib.contextmanager
def serving(**limits: float) -> Iterator[Endpoint]:
    server = Endpoint("127.0.0.1", 0, routes(), Limits(**limits))  # type: ignore[arg-type]
    server.start()
    try:
        yield server
    finally:
        server.stop()


def connect(server: Endpoint) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=5)


def exchange(server: Endpoint, raw: bytes) -> bytes:
    """Send ``raw``, read until the server closes the connection."""
    with connect(server) as sock:
        sock.sendall(raw)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def get_healthz(server: Endpoint) -> bytes:
    return exchange(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")


def closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_too_many_headers_are_431_and_the_connection_closes() -> None:
    with serving(max_header_lines=8) as server:
        headers = b"".join(b"X-%d: y\r\n" % i for i in range(20))
        answer = exchange(server, b"GET /healthz HTTP/1.1\r\n" + headers + b"\r\n")
        assert answer.startswith(b"HTTP/1.1 431 ")
        assert get_healthz(server).startswith(b"HTTP/1.1 200 ")


def test_a_huge_header_line_is_431_without_being_buffered_whole() -> None:
    with serving(max_line_bytes=1024) as server:
        answer = exchange(server, b"GET /healthz HTTP/1.1\r\nX-Big: " + b"a" * 65536 + b"\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 431 ")


def test_headers_over_the_total_budget_are_431() -> None:
    with serving(max_head_bytes=2048) as server:
        headers = b"".join(b"X-%d: %s\r\n" % (i, b"v" * 500) for i in range(8))
        assert exchange(server, b"GET /healthz HTTP/1.1\r\n" + headers + b"\r\n").startswith(b"HTTP/1.1 431 ")


def test_an_overlong_request_line_is_414() -> None:
    with serving(max_line_bytes=1024) as server:
        answer = exchange(server, b"GET /" + b"a" * 4096 + b" HTTP/1.1\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 414 ")


def test_garbage_is_400() -> None:
    with serving() as server:
        assert exchange(server, b"\x16\x03\x01 hello\r\n\r\n").startswith(b"HTTP/1.1 400 ")


def test_a_head_dribbled_a_byte_at_a_time_is_cut_off_at_the_head_timeout() -> None:
    """Slowloris: bytes keep coming, so an idle timeout alone would never fire."""
    with serving(head_timeout=0.5) as server, connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        dribbled = 0
        with contextlib.suppress(OSError):
            for _ in range(400):  # 20 s of dribble; the head timeout is 0.5 s
                sock.sendall(b"X")
                dribbled += 1
                time.sleep(0.05)
        # Cut off long before the dribble ended (counted, not timed: a stopwatch of < 2.5 s
        # can fail on a loaded machine); a server without the head timeout takes all 400 bytes.
        assert dribbled < 400
        assert closed_by_server(sock)
        assert server.open_connections == 0


def test_connections_over_the_cap_are_refused_and_cost_no_thread() -> None:
    with serving(max_connections=4) as server:
        threads = set(threading.enumerate())
        silent = [connect(server) for _ in range(4)]
        try:
            time.sleep(0.2)
            assert server.open_connections == 4
            assert not set(threading.enumerate()) - threads  # no thread per connection
            with connect(server) as extra:
                assert closed_by_server(extra)
            assert server.refused_connections >= 1
        finally:
            for sock in silent:
                sock.close()
        time.sleep(0.2)
        assert get_healthz(server).startswith(b"HTTP/1.1 200 ")


def test_one_address_cannot_take_every_slot() -> None:
    with serving(max_connections_per_peer=3) as server:
        silent = [connect(server) for _ in range(3)]
        try:
            time.sleep(0.2)
            with connect(server) as extra:
                assert closed_by_server(extra)
            other = socket.create_connection(("127.0.0.1", server.port), 5, ("127.0.0.2", 0))
            with other:
                other.sendall(b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n")
                assert other.recv(64).startswith(b"HTTP/1.1 200 ")
        finally:
            for sock in silent:
                sock.close()


def test_the_thread_count_is_fixed_from_the_start() -> None:
    """The event loop and every route worker exist once started; traffic adds none."""
    before = set(threading.enumerate())

    def ours() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t not in before and t.name.startswith("driftwatch-http")}

    with serving(workers=2) as server:
        started = ours()
        assert len(started) == 3  # the event loop and two route workers
        hold = threading.Event()
        server.routes["/slow"] = lambda: (hold.wait(5), (200, "text/plain", b"ok\n"))[1]
        socks = [connect(server) for _ in range(4)]
        for sock in socks:
            sock.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.2)
        assert ours() == started  # both workers busy, four requests waiting: no thread added
        hold.set()
        for sock in socks:
            assert sock.recv(64).startswith(b"HTTP/1.1 200 ")
            sock.close()


def test_keep_alive_serves_several_requests_on_one_connection() -> None:
    with serving() as server, connect(server) as sock:
        for _ in range(3):
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = b""
            while not answer.endswith(b"ok\n"):
                answer += sock.recv(4096)
            assert answer.startswith(b"HTTP/1.1 200 ")


def test_a_client_that_never_reads_a_big_body_does_not_stop_others_and_is_dropped() -> None:
    with serving(write_timeout=0.5) as server, connect(server) as hoarder:
        hoarder.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        hoarder.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.1)
        assert get_healthz(server).startswith(b"HTTP/1.1 200 ")  # served meanwhile
        deadline = time.monotonic() + 20  # ends at the drop; generous for a loaded runner
        while server.open_connections and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.open_connections == 0  # dropped at the write timeout


def test_a_body_in_parts_arrives_whole_with_the_right_length() -> None:
    with serving() as server:
        answer = exchange(server, b"GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n")
        head, _, body = answer.partition(b"\r\n\r\n")
        assert f"Content-Length: {len(BIG) + 5}".encode() in head
        assert body == BIG + b"tail\n"


def test_metrics_hand_every_scrape_the_same_per_scan_body() -> None:
    """One immutable body per scan: the bytes object is the same for every request until the
    next report, then a new one."""
    metrics = DriftwatchMetrics(version="test")
    report = ScanReport(generated_at=datetime.now(UTC), commit="abc", tables=())
    now = datetime.now(UTC)
    metrics.observe_scan(report, first_seen={}, result="success", duration_seconds=1, started_at=now)
    first, _ = metrics.render_parts()
    assert metrics.render_parts()[0] is first
    metrics.observe_scan(
        ScanReport(generated_at=now, commit="def", tables=()),
        first_seen={},
        result="success",
        duration_seconds=1,
        started_at=now,
    )
    assert metrics.render_parts()[0] is not first
    body, tail = metrics.render_parts()
    assert metrics.render().startswith(body) and b"driftwatch_build_info" in tail  # the tail is live


@pytest.mark.parametrize("method", ["POST", "BREW"])
def test_a_request_with_a_body_gets_405_and_the_connection_closes(method: str) -> None:
    with serving() as server:
        raw = f"{method} /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello".encode()
        answer = exchange(server, raw)
        assert answer.startswith(b"HTTP/1.1 405 ") and b"Allow: GET, HEAD" in answer
