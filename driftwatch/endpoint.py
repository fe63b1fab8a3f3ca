"""The daemon's HTTP endpoint: /metrics, /healthz, /readyz -- and nothing else.

It answers only GET and HEAD (405 for any other method, even an unknown one) and 404 for any
other path, so the port exposes nothing beyond what Kubernetes and Prometheus need.

Every cost a client can cause is bounded, because anything that can reach the port can be
slow or hostile (the NetworkPolicy in ``deploy/`` is the first line, this is the second):

- one event-loop thread serves every connection, and at most ``max_connections`` are open at
  once, ``max_connections_per_peer`` from one address (one more is closed at once): no thread
  per connection, and one noisy address cannot take the slots of Prometheus or the kubelet;
- routes run on a fixed pool of ``workers`` threads;
- a request head (request line and headers) must arrive whole within ``head_timeout`` seconds
  of the connection going quiet (a client dribbling one header byte at a time gets no more),
  with at most ``max_header_lines`` lines of at most ``max_line_bytes`` each and
  ``max_head_bytes`` in all -- 431 otherwise; request bodies are never read;
- a response must be taken within ``write_timeout`` seconds, and is written in slices of the
  body the route returned: bytes shared by every request (/metrics' per-scan body) are never
  copied per client, so a client that asks and never reads costs a socket buffer, not a body.

``host`` may be IPv4 or IPv6.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http import HTTPStatus

from driftwatch.log import get_logger

log = get_logger(__name__)

Body = bytes | Sequence[bytes]
"""A response body: bytes, or parts written one after another (never joined into a copy)."""

# (status, content type, body) for a path
Route = Callable[[], tuple[int, str, Body]]

IDLE_TIMEOUT = 10.0  # seconds for a whole request head to arrive (before a request, or between two)


@dataclass(frozen=True)
class Limits:
    """What one client may cost the daemon (see the module docstring)."""

    max_connections: int = 256
    max_connections_per_peer: int = 32
    workers: int = 2
    head_timeout: float = IDLE_TIMEOUT
    write_timeout: float = 30.0
    max_line_bytes: int = 8 * 1024
    max_header_lines: int = 32
    max_head_bytes: int = 16 * 1024
    write_slice_bytes: int = 64 * 1024


_PLAIN = "text/plain; charset=utf-8"


class _Refused(Exception):
    """A request that is answered with ``status`` and the connection closed."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    keep_alive: bool


class Endpoint:
    """Serves ``routes`` on ``host:port`` in a background thread until ``stop()``."""

    def __init__(self, host: str, port: int, routes: dict[str, Route], limits: Limits | None = None):
        self.routes = routes
        self.limits = limits or Limits()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.listen(128)
        except OSError as error:  # port in use, an address this host does not have, a bad name
            sock.close()
            raise OSError(
                error.errno, f"http.host/http.port {host}:{port}: cannot listen: {error.strerror or error}"
            ) from None
        sock.setblocking(False)
        self._sock = sock
        self.address: tuple[str, int] = sock.getsockname()[:2]
        self.open_connections = 0
        self._per_peer: dict[str, int] = {}
        self.refused_connections = 0  # over max_connections
        self._loop = asyncio.new_event_loop()
        self._pool = ThreadPoolExecutor(self.limits.workers, thread_name_prefix="driftwatch-http-route")
        self._started = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._thread = threading.Thread(target=self._serve, name="driftwatch-http", daemon=True)

    @property
    def port(self) -> int:
        return int(self.address[1])

    def start(self) -> None:
        # The route threads are all started now (an executor adds them lazily, one per busy
        # moment): the thread count is fixed from the start, not creeping up under load.
        ready = threading.Barrier(self.limits.workers + 1)
        for _ in range(self.limits.workers):
            self._pool.submit(ready.wait, 10)
        ready.wait(10)
        self._thread.start()
        self._started.wait(timeout=10)

    def stop(self) -> None:
        if self._thread.is_alive():
            stopping = self._stopping
            if stopping is not None:
                self._loop.call_soon_threadsafe(stopping.set)
            self._thread.join(timeout=5)
        else:  # never started
            self._sock.close()
            self._loop.close()
        self._pool.shutdown(wait=False, cancel_futures=True)

    # --- the event loop thread ---

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        finally:
            self._loop.close()

    async def _main(self) -> None:
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._accept, sock=self._sock, limit=self.limits.max_line_bytes)
        self._started.set()
        try:
            await self._stopping.wait()
        finally:
            server.close()
            for task in list(self._connections):
                task.cancel()
            await asyncio.gather(*self._connections, return_exceptions=True)
            await server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peername = writer.get_extra_info("peername")
        peer = str(peername[0]) if isinstance(peername, tuple) and peername else ""
        limits = self.limits
        if (
            self.open_connections >= limits.max_connections
            or self._per_peer.get(peer, 0) >= limits.max_connections_per_peer
        ):
            self.refused_connections += 1
            writer.transport.abort()  # no read, no write: the cheapest possible "no"
            return
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        self.open_connections += 1
        self._per_peer[peer] = self._per_peer.get(peer, 0) + 1
        try:
            await self._converse(reader, writer)
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away or was too slow: nothing to answer
        finally:
            self.open_connections -= 1
            left = self._per_peer.pop(peer, 1) - 1
            if left > 0:
                self._per_peer[peer] = left
            self._connections.discard(task)
            writer.transport.abort()

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Requests one after another on one connection (HTTP/1.1 keep-alive), each bounded."""
        limits = self.limits
        while True:
            try:
                request = await asyncio.wait_for(self._read_head(reader), limits.head_timeout)
            except _Refused as refused:
                await self._send(writer, refused.status, _PLAIN, refused.body, True, close=True)
                return
            if request is None:  # the client closed the connection
                return
            status, content_type, body, close = await self._answer(request)
            await self._send(writer, status, content_type, body, request.method != "HEAD", close=close)
            if close:
                return

    async def _read_head(self, reader: asyncio.StreamReader) -> _Request | None:
        limits = self.limits
        try:
            line = await reader.readline()
        except ValueError:  # longer than max_line_bytes (asyncio's LimitOverrunError)
            raise _Refused(HTTPStatus.REQUEST_URI_TOO_LONG, b"request line too long\n") from None
        if not line:
            return None
        parts = line.decode("latin-1").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise _Refused(HTTPStatus.BAD_REQUEST, b"bad request\n")
        method, target, version = parts
        total, count = len(line), 0
        headers: dict[str, str] = {}
        while True:
            try:
                line = await reader.readline()
            except ValueError:
                raise _Refused(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, b"header too large\n") from None
            if not line:
                return None
            total += len(line)
            count += 1
            if count > limits.max_header_lines or total > limits.max_head_bytes:
                raise _Refused(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, b"headers too large\n")
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip().lower()
        # A body is never read, so a connection that announced one cannot carry another request.
        has_body = "transfer-encoding" in headers or headers.get("content-length", "0") not in ("", "0")
        connection = headers.get("connection", "")
        keep_alive = version == "HTTP/1.1" and "close" not in connection and not has_body
        return _Request(method, target.split("?", 1)[0], keep_alive)

    async def _answer(self, request: _Request) -> tuple[int, str, Body, bool]:
        """(status, content type, body, close the connection after it)."""
        log.debug("http_request", method=request.method[:16], path=request.path[:200])
        if request.method not in ("GET", "HEAD"):
            return HTTPStatus.METHOD_NOT_ALLOWED, _PLAIN, b"method not allowed\n", True
        route = self.routes.get(request.path)
        if route is None:
            return HTTPStatus.NOT_FOUND, _PLAIN, b"not found\n", not request.keep_alive
        try:
            status, content_type, body = await asyncio.get_running_loop().run_in_executor(self._pool, route)
        except Exception as error:  # a failing route must not take the endpoint down
            log.error("http_route_failed", path=request.path, error=repr(error))
            status, content_type, body = 500, _PLAIN, b"internal error\n"
        return status, content_type, body, not request.keep_alive

    async def _send(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        content_type: str,
        body: Body,
        include_body: bool,
        *,
        close: bool,
    ) -> None:
        parts = (body,) if isinstance(body, bytes) else tuple(body)
        length = sum(len(part) for part in parts)
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
        head = [f"HTTP/1.1 {status} {reason}", f"Content-Type: {content_type}", f"Content-Length: {length}"]
        if status == HTTPStatus.METHOD_NOT_ALLOWED:
            head.append("Allow: GET, HEAD")
        if close:
            head.append("Connection: close")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        body_parts = parts if include_body else ()
        await asyncio.wait_for(self._write_body(writer, body_parts), self.limits.write_timeout)

    async def _write_body(self, writer: asyncio.StreamWriter, parts: Sequence[bytes]) -> None:
        """Write ``parts`` a slice at a time, waiting for the client to take each one: the
        transport buffers (copies) at most one slice, never the whole shared body."""
        step = self.limits.write_slice_bytes
        for part in parts:
            view = memoryview(part)
            for start in range(0, len(view), step):
                writer.write(view[start : start + step])
                await writer.drain()
        await writer.drain()
