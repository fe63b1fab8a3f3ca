"""A loopback HTTP proxy that adds a fixed latency to every request, in its own process.

Sits between a client (driftwatch's boto3, or terraform's AWS provider) and moto's server.
Two latency models (``--model``):

- ``before`` (default): sleep ``--delay-ms``, then forward. Every call costs the delay *plus*
  moto's own time, and moto, one Python process, serves requests one at a time -- so under
  concurrency its queue adds latency that AWS, a horizontally scaled service, would not.
- ``total``: forward at once, then hold the reply until ``--delay-ms`` have passed since the
  request arrived. A call costs max(delay, moto's time): a fixed end-to-end latency that
  includes the service's work, as a call to AWS does.

Only 127.0.0.1 is used, on both sides.

- ``disable_nagle_algorithm = True``: without it, Nagle plus delayed ACKs add ~40 ms per call
  (the classic Nagle / delayed-ACK interaction of small request-response exchanges).
- HTTP/1.1 keep-alive on both sides; one upstream connection per downstream connection.
- Counts requests per operation (``X-Amz-Target``, or the Query ``Action``): ``GET
  /__proxy_stats`` returns them as JSON and ``POST /__proxy_stats`` resets them.

Prints ``READY <port>`` once it listens.

    python benchmarks/_delay_proxy.py --upstream-port 5000 --delay-ms 30
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}
)


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: Counter[str] = Counter()

    def add(self, operation: str) -> None:
        with self.lock:
            self.calls[operation] += 1

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return dict(self.calls)

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()


def _operation(headers: object, body: bytes) -> str:
    target = getattr(headers, "get", lambda _k, _d=None: None)("X-Amz-Target")
    if target:
        return str(target).rsplit(".", 1)[-1]
    try:
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
    except Exception:
        action = None
    return action[0] if action else "unknown"


def make_handler(upstream_port: int, delay: float, model: str, stats: Stats) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        _upstream: http.client.HTTPConnection | None = None

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _connection(self) -> http.client.HTTPConnection:
            if self._upstream is None:
                self._upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
            return self._upstream

        def _reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.path == "/__proxy_stats":
                if self.command == "POST":
                    stats.reset()
                self._reply(200, json.dumps(stats.snapshot()).encode())
                return
            stats.add(_operation(self.headers, body))
            arrived = time.monotonic()
            if model == "before":
                time.sleep(delay)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            for attempt in (1, 2):
                connection = self._connection()
                try:
                    connection.request(self.command, self.path, body=body, headers=headers)
                    response = connection.getresponse()
                    payload = response.read()
                    break
                except (http.client.HTTPException, OSError):
                    connection.close()  # a stale keep-alive connection: reconnect once
                    self._upstream = None
                    if attempt == 2:
                        raise
            if model == "total":
                remaining = delay - (time.monotonic() - arrived)
                if remaining > 0:
                    time.sleep(remaining)
            self.send_response(response.status, response.reason)
            for key, value in response.getheaders():
                if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # terraform and 16+ workers may open many connections at once


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream-port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=30.0)
    parser.add_argument("--model", choices=["before", "total"], default="before")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    stats = Stats()
    server = _Server(
        ("127.0.0.1", args.port), make_handler(args.upstream_port, args.delay_ms / 1000, args.model, stats)
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"READY {server.server_address[1]}", flush=True)
    stop.wait()
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
