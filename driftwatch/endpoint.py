"""The daemon's HTTP endpoint: /metrics, /healthz, /readyz -- and nothing else.

A small standard-library server is enough for three read-only paths scraped every few
seconds; it answers only GET and HEAD (405 for any other method, even an unknown one) and 404
for any other path, so the port exposes nothing beyond what Kubernetes and Prometheus need.
A connection that sends nothing is closed after ``IDLE_TIMEOUT`` seconds, so idle or
half-open clients cannot pile up threads and file descriptors. ``host`` may be IPv4 or IPv6.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import structlog

log = structlog.get_logger(__name__)

# (status, content type, body) for a path
Route = Callable[[], tuple[int, str, bytes]]

IDLE_TIMEOUT = 10.0  # seconds a connection may stay silent (before a request, or between two)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = IDLE_TIMEOUT  # socket timeout: an idle connection ends instead of holding a thread

    def _respond(self, include_body: bool) -> None:
        path = self.path.split("?", 1)[0]
        route = self.server.routes.get(path)
        if route is None:
            status, content_type, body = 404, "text/plain; charset=utf-8", b"not found\n"
        else:
            try:
                status, content_type, body = route()
            except Exception as error:  # a failing route must not kill the server thread
                log.error("http_route_failed", path=path, error=repr(error))
                status, content_type, body = 500, "text/plain; charset=utf-8", b"internal error\n"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if include_body:
            self.wfile.write(body)

    def do_GET(self) -> None:
        self._respond(include_body=True)

    def do_HEAD(self) -> None:
        self._respond(include_body=False)

    def _not_allowed(self) -> None:
        body = b"method not allowed\n"
        self.send_response(405)
        self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")  # its body (if any) is never read: do not reuse
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _not_allowed

    def __getattr__(self, name: str) -> Any:
        """Any other method (``FOO``) is 405 too, not the standard library's 501."""
        if name.startswith("do_"):
            return self._not_allowed
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http_request", request=format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], routes: dict[str, Route]):
        self.routes = routes
        if ":" in address[0]:  # an IPv6 address such as "::" or "::1"
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)


class Endpoint:
    """Serves ``routes`` on ``host:port`` in a background thread until ``stop()``."""

    def __init__(self, host: str, port: int, routes: dict[str, Route]):
        try:
            self._server = _Server((host, port), routes)
        except OSError as error:  # port in use, an address this host does not have, a bad name
            raise OSError(
                error.errno, f"http.host/http.port {host}:{port}: cannot listen: {error.strerror or error}"
            ) from None
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="driftwatch-http", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        # shutdown() waits for serve_forever() to notice; never started, it would wait forever.
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
