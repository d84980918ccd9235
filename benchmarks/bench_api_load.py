"""HTTP load test of ``POST /v1/recommendations/jobs`` among 100,000 open jobs.

    python benchmarks/bench_api_load.py --cache /tmp/bench-rec                  # 16 clients, 30 s
    python benchmarks/bench_api_load.py --cache /tmp/bench-rec --promote-after 10

What it does, on 127.0.0.1 only:

1. the world and model of ``bench_recommend.py`` (generated, imported, trained;
   reused from ``--cache``), with the store's jobs resampled into ``--jobs``
   open postings (new ids, real places) in a separate store;
2. empties that store's served log (each run writes its lists there), starts the
   service (``python -m api.runner``, as ``recommender serve`` does, ``--workers``
   processes) on that store and a copy of the registry, with bench API keys and
   the per-key rate limit off (one client key sends hundreds of requests per
   second), and waits for ``/readyz``;
3. ``--clients`` concurrent keep-alive connections (a minimal asyncio HTTP/1.1
   client, cheaper than a full client library on a 2-core machine) send
   requests for random stored workers (counsellor key) and inline profiles
   (portal key) until ``--requests`` or ``--seconds`` is reached;
4. prints requests/s, latency percentiles, errors by status, the mean group of
   requests ranked in one pass (from /metrics), the service's CPU
   time per request and the load average; with ``--promote-after S`` a second
   version is promoted through ``POST /v1/models/{version}/promote`` S seconds
   in, and the versions named in ``X-Model-Version`` are tallied per second.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_recommend import load_average, pct, profiles_of, trained_world, widen_jobs  # noqa: E402

from recommender.ingest import ingest  # noqa: E402
from recommender.registry import Registry  # noqa: E402
from recommender.served_log import prune  # noqa: E402
from recommender.snapshot import Snapshot  # noqa: E402
from recommender.store import Store  # noqa: E402

KEYS = {
    "admin": "bench-admin-key-0123456789abcdef",
    "counsellor": "bench-counsellor-key-0123456789abcdef",
    "portal": "bench-portal-key-0123456789abcdef",
}
PATH = "/v1/recommendations/jobs"


def wide_store(root: Path, store: Store, n_jobs: int, seed: int, tag: str) -> tuple[str, pd.Timestamp]:
    """A store with the world's workers, employers and courses and ``n_jobs`` open postings (cached)."""
    snap = Snapshot.from_store(store)
    day = pd.Timestamp(snap.jobs["posted_on"].max())
    folder = root / f"wide-{tag}-{n_jobs}"
    url = f"sqlite:///{folder}.db"
    if (folder / ".done").exists():
        return url, day
    shutil.rmtree(folder, ignore_errors=True)
    Path(f"{folder}.db").unlink(missing_ok=True)
    folder.mkdir(parents=True)
    for name in ("workers", "employers", "courses"):
        getattr(snap, name).to_csv(folder / f"{name}.csv", index=False)
    jobs = widen_jobs(snap.jobs, n_jobs, day, seed)
    for col in ("posted_on", "closes_on"):
        jobs[col] = pd.to_datetime(jobs[col]).dt.strftime("%Y-%m-%d")
    jobs.to_csv(folder / "jobs.csv", index=False)
    t0 = time.perf_counter()
    report = ingest(folder, Store(url))
    print(f"wide store: {report.taken:,} rows taken, {report.rejected:,} rejected in {time.perf_counter() - t0:.0f} s")
    (folder / ".done").touch()
    return url, day


def empty_served_log(url: str) -> None:
    """Start every run with the cached store's served log empty: each run adds its lists to it,
    and inserts into a table of millions of rows (three indexes) cost more, so runs drifted."""
    store = Store(url)
    try:
        n = prune(store, dt.datetime.max)
        if n and store.dialect == "sqlite":
            with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM")
        if n:
            print(f"served log of the cached store emptied ({n:,} rows from earlier runs)")
    finally:
        store.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_service(url: str, models: Path, port: int, workers: int, access_log: bool) -> subprocess.Popen:
    env = {
        **os.environ,
        "RECOMMENDER_DB": url,
        "RECOMMENDER_MODELS": str(models),
        "RECOMMENDER_API_KEYS": json.dumps({role: [key] for role, key in KEYS.items()}),
        "RECOMMENDER_RATE_LIMIT_PER_MINUTE": "0",
        "RECOMMENDER_MODEL_POLL_SECONDS": "1",
    }
    # as `recommender serve --workers N` runs it: one SO_REUSEPORT socket per process (api.runner)
    cmd = [sys.executable, "-m", "api.runner", "--host", "127.0.0.1",
           "--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    if not access_log:
        cmd.append("--no-access-log")
    return subprocess.Popen(cmd, env=env, cwd=Path(__file__).resolve().parents[1], start_new_session=True)


def service_cpu(proc: subprocess.Popen) -> float:
    """User + system CPU seconds of the service process and its workers."""
    total = 0.0
    try:
        parent = psutil.Process(proc.pid)
        for p in [parent, *parent.children(recursive=True)]:
            t = p.cpu_times()
            total += t.user + t.system
    except psutil.NoSuchProcess:
        pass
    return total


class Conn:
    """One keep-alive HTTP/1.1 connection (enough of the protocol for this service)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, key: str, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {key}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        self.writer.write(head + body)
        await self.writer.drain()
        raw = await self.reader.readuntil(b"\r\n\r\n")  # type: ignore[union-attr]
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        data = await self.reader.readexactly(int(headers.get("content-length", "0")))  # type: ignore[union-attr]
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def wait_ready(port: int, proc: subprocess.Popen, timeout: float) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"the service exited with {proc.returncode}")
        conn = Conn(port)
        try:
            status, _, _ = await conn.request("GET", "/readyz", KEYS["admin"])
            if status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        await asyncio.sleep(1.0)
    raise RuntimeError("the service did not become ready in time")


async def ranking_counts(port: int) -> tuple[int, int]:
    """(ranking passes, queries ranked) over all the service's processes, from ``/metrics``."""
    await asyncio.sleep(1.5)  # each process publishes its counters every second
    conn = Conn(port)
    try:
        _, _, data = await conn.request("GET", "/metrics", KEYS["admin"])
    finally:
        conn.close()
    values = dict(line.rsplit(" ", 1) for line in data.decode().splitlines() if line and not line.startswith("#"))
    return int(float(values.get("recommender_ranking_passes_total", 0))), int(float(values.get("recommender_ranked_queries_total", 0)))


def bodies(worker_ids: list[str], profiles: list[dict], day: str, mix: str, seed: int, n: int) -> list[tuple[str, bytes]]:
    """``n`` (key, JSON body) pairs: stored workers by id and inline profiles, k=10, scope all."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        by_id = mix == "id" or (mix == "both" and i % 2 == 0)
        if by_id:
            payload = {"worker_id": worker_ids[int(rng.integers(len(worker_ids)))], "k": 10, "as_of": day}
            out.append((KEYS["counsellor"], json.dumps(payload).encode()))
        else:
            payload = {"profile": profiles[int(rng.integers(len(profiles)))], "k": 10, "as_of": day}
            out.append((KEYS["portal"], json.dumps(payload, ensure_ascii=False, default=str).encode()))
    return out


async def load(port: int, reqs: list[tuple[str, bytes]], clients: int, max_requests: int, seconds: float,
               promote: tuple[float, str] | None) -> dict:
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    timeline: dict[int, Counter[str]] = defaultdict(Counter)
    sent = 0
    t_start = time.perf_counter()
    deadline = t_start + seconds
    promoted_at: list[float] = []

    async def client(c: int) -> None:
        nonlocal sent
        conn = Conn(port)
        k = c
        while sent < max_requests and time.perf_counter() < deadline:
            sent += 1
            key, body = reqs[k % len(reqs)]
            k += clients
            t = time.perf_counter()
            try:
                status, headers, _ = await conn.request("POST", PATH, key, body)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                statuses[type(exc).__name__] += 1
                conn.close()
                continue
            latencies.append(time.perf_counter() - t)
            statuses[str(status)] += 1
            timeline[int(t - t_start)][headers.get("x-model-version", "-")] += 1
        conn.close()

    async def promoter() -> None:
        assert promote is not None
        await asyncio.sleep(promote[0])
        conn = Conn(port)
        t = time.perf_counter()
        status, _, data = await conn.request("POST", f"/v1/models/{promote[1]}/promote", KEYS["admin"], b"{}")
        conn.close()
        promoted_at.append(t - t_start)
        print(f"promoted {promote[1]} at {t - t_start:.1f} s: HTTP {status} {data[:160].decode(errors='replace')}")

    tasks = [client(c) for c in range(clients)] + ([promoter()] if promote else [])
    await asyncio.gather(*tasks)
    return {"latencies": latencies, "statuses": statuses, "elapsed": time.perf_counter() - t_start,
            "timeline": timeline, "promoted_at": promoted_at}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", default=None, help="folder to keep the world, stores and model in between runs")
    parser.add_argument("--workers", type=int, default=20_000, help="workers of the generated world")
    parser.add_argument("--jobs", type=int, default=100_000, help="open postings served")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=20_000, help="stop after this many requests")
    parser.add_argument("--seconds", type=float, default=30.0, help="stop after this long")
    parser.add_argument("--warmup", type=int, default=200, help="requests sent (and not counted) first")
    parser.add_argument("--mix", choices=["id", "profile", "both"], default="both")
    parser.add_argument("--server-workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--access-log", action="store_true", help="keep uvicorn's per-request access log on")
    parser.add_argument("--promote-after", type=float, default=None, help="promote a second model version after S seconds")
    parser.add_argument("--ready-timeout", type=float, default=900.0)
    args = parser.parse_args()
    if args.requests > 1_000_000 or args.seconds > 600 or args.clients > 256:
        parser.error("bounded on purpose: at most 1,000,000 requests, 600 s and 256 clients")

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        root = Path(args.cache) if args.cache else tmp
        store, registry = trained_world(root, args.workers, args.seed)
        url, day = wide_store(root, store, args.jobs, args.seed, f"{args.workers}-{args.seed}")
        snap = Snapshot.from_store(store)
        models = tmp / "models"
        shutil.copytree(registry.root, models)
        second = None
        if args.promote_after is not None:
            reg = Registry(models)
            bundle, manifest = reg.load()
            manifest = {k: v for k, v in manifest.items() if k not in ("version", "created")}
            second = reg.save(bundle, {**manifest, "note": "bench_api_load: same bundle, new version"}).version
        empty_served_log(url)
        port = free_port()
        proc = start_service(url, models, port, args.server_workers, args.access_log)
        try:
            t0 = time.perf_counter()
            asyncio.run(wait_ready(port, proc, args.ready_timeout))
            print(f"service ready with {args.server_workers} worker process(es) in {time.perf_counter() - t0:.0f} s")
            rng = np.random.default_rng(args.seed)
            ids = [str(x) for x in rng.permutation(snap.workers["worker_id"].to_numpy())]  # all stored workers: mostly cache misses
            profiles = profiles_of(snap.workers.iloc[rng.integers(0, len(snap.workers), 5000)])
            reqs = bodies(ids, profiles, str(day.date()), args.mix, args.seed, min(args.requests, 40_000) + args.warmup)
            # warm up every worker process (first requests build per-day caches)
            asyncio.run(load(port, reqs[-args.warmup:], args.clients, args.warmup, 120.0, None))
            print(load_average())
            passes0, ranked0 = asyncio.run(ranking_counts(port))
            cpu0, c0 = service_cpu(proc), time.process_time()
            promote = (args.promote_after, second) if second else None
            res = asyncio.run(load(port, reqs, args.clients, args.requests, args.seconds, promote))
            cpu = service_cpu(proc) - cpu0
            client_cpu = time.process_time() - c0
            print(load_average())
            passes, ranked = (b - a for a, b in zip((passes0, ranked0), asyncio.run(ranking_counts(port)), strict=True))
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
    n = len(res["latencies"])
    errors = sum(v for s, v in res["statuses"].items() if s != "200")
    print(f"{args.clients} clients, mix {args.mix}, {args.server_workers} server process(es), {args.jobs:,} open jobs: "
          f"{n:,} responses in {res['elapsed']:.1f} s = {n / res['elapsed']:.0f} requests/s")
    print(f"  latency: {pct(res['latencies'])}, max {max(res['latencies']) * 1000:.0f} ms")
    print(f"  status: {dict(res['statuses'])}; errors (non-200 or failed): {errors}")
    print(f"  service CPU {cpu:.1f} s = {cpu / max(n, 1) * 1000:.2f} ms per request; client CPU {client_cpu / max(n, 1) * 1000:.2f} ms per request")
    print(f"  ranking passes: {passes:,} for {ranked:,} requests (mean group {ranked / max(passes, 1):.2f}; see api/coalesce.py)")
    if second:
        print("  served versions per second (X-Model-Version):")
        for sec in sorted(res["timeline"]):
            counts = ", ".join(f"{v}: {c}" for v, c in sorted(res["timeline"][sec].items()))
            print(f"    {sec:3d} s  {counts}")


if __name__ == "__main__":
    main()
