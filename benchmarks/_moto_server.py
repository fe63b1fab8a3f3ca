"""moto's server in its own process, with driftwatch's moto corrections applied.

A separate process (not ThreadedMotoServer inside the benchmark) so that moto's CPU work does
not share the benchmark's GIL, as AWS would not. Prints ``READY <port>`` on stdout once it
listens on 127.0.0.1, then serves until killed.

    python benchmarks/_moto_server.py [--port N]
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    from moto.server import ThreadedMotoServer
    from werkzeug.serving import make_server

    from driftwatch.demo import moto_patches

    moto_patches.apply()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log per request

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    if args.port:
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
        server.start()
        port = args.port
        shutdown = server.stop
    else:  # let the OS pick the port, without a race between choosing and binding it
        from moto.server import DomainDispatcherApplication, create_backend_app

        app = DomainDispatcherApplication(create_backend_app)
        httpd = make_server("127.0.0.1", 0, app, threaded=True)
        port = httpd.server_port
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        shutdown = httpd.shutdown
    print(f"READY {port}", flush=True)
    stop.wait()
    shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
