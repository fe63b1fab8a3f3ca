"""A loopback HTTP proxy that adds a fixed latency to every request, in its own process.

Sits between a client (driftwatch's boto3, or terraform's AWS provider) and moto's server.
Two latency models (``--model``):

- ``before`` (default): sleep ``--delay-ms``, then forward. Every call costs the delay *plus*
  moto's own time, and moto, one Python process, serves requests one at a time -- so under
  concurrency its queue adds latency that AWS, a horizontally scaled service, would not.
- ``total``: forward at once, then hold the reply until ``--delay-ms`` have passed since the
  request arrived. A call costs max(delay, moto's time): a fixed end-to-end latency that
  includes the service's work, as a call to AWS does.

Two optional throttling models answer some requests the way AWS refuses them -- HTTP 400 with
the JSON error body of the service (``ThrottlingException``; for DynamoDB optionally
``ProvisionedThroughputExceededException``) -- without forwarding them:

- ``--throttle-rate N [--throttle-burst B]``: a token bucket shared by all connections, as
  AWS's per-account quota is. A request that finds the bucket empty is throttled (and takes no
  token), so the accepted rate never exceeds N per second whatever the client does.
- ``--throttle-random P [--seed S]``: every request is throttled with probability P,
  independently of rate (a busy account whose budget other tools are eating).

``--replay`` answers a request the proxy has already forwarded (same path, target and body)
with moto's earlier answer, without asking moto again: for read-only benchmarks that measure
the client's CPU, so that moto's one-request-at-a-time server is not the bottleneck.
``GET /__proxy_stats`` also reports ``throttled`` (requests refused by either model).

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
import random
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


# What AWS answers when it throttles a control-plane call (HTTP 400, awsJson error shape);
# botocore takes the code from the part of ``__type`` after "#".
THROTTLING_BODY = {
    "ThrottlingException": {
        "__type": "com.amazon.coral.availability#ThrottlingException",
        "message": "Rate of requests exceeds the allowed throughput.",
    },
    "ProvisionedThroughputExceededException": {
        "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        "message": "The level of configured provisioned throughput for the table was exceeded.",
    },
}


class Throttle:
    """Decides which requests are refused: a token bucket over all connections, random refusals,
    or both (a request passes only if both let it)."""

    def __init__(self, rate: float | None, burst: float, probability: float, seed: int | None) -> None:
        self.rate = rate
        self.burst = burst
        self.probability = probability
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._tokens = burst
        self._updated = time.monotonic()

    def refuse(self) -> bool:
        with self._lock:
            if self.probability and self._random.random() < self.probability:
                return True
            if self.rate is None:
                return False
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            if self._tokens < 1:
                return True
            self._tokens -= 1
            return False


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: Counter[str] = Counter()

    def add(self, operation: str, throttled: bool = False) -> None:
        with self.lock:
            self.calls[operation] += 1
            if throttled:
                self.calls["throttled"] += 1

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


def make_handler(
    upstream_port: int,
    delay: float,
    model: str,
    stats: Stats,
    throttle: Throttle | None = None,
    throttle_code: str = "ThrottlingException",
    replay: bool = False,
) -> type[BaseHTTPRequestHandler]:
    answers: dict[tuple[str, str, bytes], tuple[int, str, list[tuple[str, str]], bytes]] = {}
    answers_lock = threading.Lock()

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
            operation = _operation(self.headers, body)
            arrived = time.monotonic()
            if throttle is not None and throttle.refuse():
                stats.add(operation, throttled=True)
                # autoscaling's awsJson 1.1 has no DynamoDB-specific codes: ThrottlingException.
                dynamodb = str(self.headers.get("X-Amz-Target", "")).startswith("DynamoDB_")
                code = throttle_code if dynamodb else "ThrottlingException"
                if delay:
                    time.sleep(delay)  # a refusal still costs a round trip
                self.send_response(400)
                self.send_header("x-amzn-RequestId", "throttled-by-delay-proxy")
                payload = json.dumps(THROTTLING_BODY[code]).encode()
                self.send_header("Content-Type", f"application/x-amz-json-{'1.0' if dynamodb else '1.1'}")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            stats.add(operation)
            key = (self.path, str(self.headers.get("X-Amz-Target", "")), body)
            if replay:
                with answers_lock:
                    cached = answers.get(key)
                if cached is not None:
                    status, reason, cached_headers, payload = cached
                    if delay:
                        time.sleep(delay)
                    self.send_response(status, reason)
                    for name, value in cached_headers:
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
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
            kept = [
                (name, value)
                for name, value in response.getheaders()
                if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length"
            ]
            if replay and response.status == 200:
                with answers_lock:
                    answers[key] = (response.status, response.reason, kept, payload)
            self.send_response(response.status, response.reason)
            for name, value in kept:
                self.send_header(name, value)
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
    parser.add_argument("--throttle-rate", type=float, default=None, help="requests/s accepted")
    parser.add_argument("--throttle-burst", type=float, default=10.0)
    parser.add_argument("--throttle-random", type=float, default=0.0, help="probability of a refusal")
    parser.add_argument("--throttle-code", choices=sorted(THROTTLING_BODY), default="ThrottlingException")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--replay", action="store_true", help="answer repeated requests from a cache")
    args = parser.parse_args()
    stats = Stats()
    throttle = None
    if args.throttle_rate is not None or args.throttle_random:
        throttle = Throttle(args.throttle_rate, args.throttle_burst, args.throttle_random, args.seed)
    handler = make_handler(
        args.upstream_port,
        args.delay_ms / 1000,
        args.model,
        stats,
        throttle=throttle,
        throttle_code=args.throttle_code,
        replay=args.replay,
    )
    server = _Server(("127.0.0.1", args.port), handler)
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
