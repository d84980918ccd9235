"""Run the service in several processes, each accepting on its own ``SO_REUSEPORT`` socket.

``uvicorn --workers N`` binds one socket in its supervisor and shares it: the
process that happens to be awake takes each new connection, and keep-alive
clients stay where they landed. Measured with 16 keep-alive clients on 4
processes: 11 / 3 / 2 / 0 connections, one process saturated and the CPUs 40%
idle. Here every process binds the port itself with ``SO_REUSEPORT`` (Linux),
so the kernel spreads new connections over the processes by hashing their
addresses. The supervisor restarts a process that dies (and gives up, exiting
non-zero, when they keep dying: a broken store or model fails at start-up) and
stops them all on SIGINT / SIGTERM. It also gives them a fresh folder to publish
their metrics in (``RECOMMENDER_METRICS_DIR``), so a scrape of any one reports
all of them. Where ``SO_REUSEPORT`` is missing, ``uvicorn.run`` with
``workers`` is used instead.

    python -m api.runner --host 127.0.0.1 --port 8000 --workers 4
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import time
from typing import Any

APP = "api.main:create_app"
MAX_RESTARTS, RESTART_WINDOW = 5, 60.0  # more restarts than this within the window: give up


def reuse_port_supported() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def _socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _serve_one(host: str, port: int, options: dict[str, Any]) -> None:
    import uvicorn

    sock = _socket(host, port)
    config = uvicorn.Config(APP, factory=True, host=host, port=port, **options)
    uvicorn.Server(config).run(sockets=[sock])


def run(host: str, port: int, workers: int, **options: Any) -> None:
    """Serve with ``workers`` processes (one: plain uvicorn in this process)."""
    import uvicorn

    if workers <= 1 or not reuse_port_supported():
        uvicorn.run(APP, factory=True, host=host, port=port, workers=workers, **options)
        return
    _socket(host, port).close()  # fail here, once, if the address is taken or not allowed
    # the processes publish their counters here, so that /metrics on any of them reports all of them
    metrics_dir = tempfile.mkdtemp(prefix="recommender-metrics-")
    os.environ["RECOMMENDER_METRICS_DIR"] = metrics_dir  # the spawned processes' settings read it
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_serve_one, args=(host, port, options), daemon=False) for _ in range(workers)]
    stopping = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    old = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for p in procs:
            p.start()
        restarts: list[float] = []
        while not stopping:
            time.sleep(0.5)
            for n, p in enumerate(procs):
                if not p.is_alive() and not stopping:  # a process died: start another in its place
                    now = time.monotonic()
                    restarts = [t for t in restarts if now - t < RESTART_WINDOW] + [now]
                    if len(restarts) > MAX_RESTARTS:  # dying at start-up (store, model, settings): say so and stop
                        raise SystemExit(f"service processes died {len(restarts)} times in {RESTART_WINDOW:.0f} s "
                                         f"(last exit code {p.exitcode}); stopping, see the log above")
                    procs[n] = ctx.Process(target=_serve_one, args=(host, port, options), daemon=False)
                    procs[n].start()
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()  # SIGTERM: uvicorn finishes its requests and runs the lifespan's shutdown
        deadline = time.monotonic() + 30
        for p in procs:
            p.join(max(0.1, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
        for sig, handler in old.items():
            signal.signal(sig, handler)
        os.environ.pop("RECOMMENDER_METRICS_DIR", None)
        shutil.rmtree(metrics_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--no-access-log", action="store_true")
    args = parser.parse_args()
    run(args.host, args.port, args.workers, log_level=args.log_level, access_log=not args.no_access_log)


if __name__ == "__main__":
    main()
