"""Soak test: steady load on the real service over loopback, with a retrain and a promotion mid-way.

    python benchmarks/soak/soak.py                 # 5 minutes at 50 requests/s
    python benchmarks/soak/soak.py --minutes 1     # a shorter run

Sets up a private store (the sample world in data_samples/) and registry in a
temporary folder, trains and promotes a first model, starts uvicorn on
127.0.0.1 (never another interface), then sends requests at a steady rate
(recommendations by profile and by worker id, courses, record reads) from one
asyncio client. At 1/4 of the run a retrain is registered and promoted (by
default the served bundle saved again through the registry; ``--retrain
train`` runs ``recommender train --promote always`` in a subprocess at nice
10), and the service swaps the new model in; from then on the other version
is promoted through ``POST /v1/models/{version}/promote`` every
``--swap-every`` seconds, so the memory figures cover many swaps.

Prints, per minute: requests sent, failed (any transport error or status
other than 200), p50/p99 latency and the server's resident memory; then the
totals. Exits 1 when any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
RETRAIN_NICE = 10
KEYS = {"admin": "soak-admin-key-0123456789abcdef", "counsellor": "soak-counsellor-key-0123456789", "portal": "soak-portal-key-0123456789abcd"}
SKILLS = ["电焊", "钢筋绑扎", "开叉车", "保洁", "做饭", "水电安装", "外卖配送", "仓库管理", "砌砖", "缝纫"]
REGIONS = ["510112", "440305", "411625", "成都市武侯区", "广东省深圳市", "330106"]


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Minute:
    sent: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)
    rss_kib: int = 0
    failures: dict[str, int] = field(default_factory=dict)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "recommender", *args], env=env, cwd=ROOT, capture_output=True, text=True, check=True)


def request_for(rnd: random.Random, worker_ids: list[str]) -> tuple[str, str, str, dict | None]:
    """(role, method, path, json) for one request of the mix."""
    x = rnd.random()
    profile = {"birth_year": rnd.randint(1960, 2004), "home_region": rnd.choice(REGIONS),
               "skills": rnd.sample(SKILLS, rnd.randint(1, 3)), "expected_wage": rnd.choice([None, 4000, 6000])}
    if x < 0.55:
        return "portal", "POST", "/v1/recommendations/jobs", {"profile": profile, "k": 10}
    if x < 0.80:
        return "counsellor", "POST", "/v1/recommendations/jobs", {"worker_id": rnd.choice(worker_ids), "k": 10, "scope": "balanced"}
    if x < 0.90:
        return "counsellor", "POST", "/v1/recommendations/courses", {"worker_id": rnd.choice(worker_ids), "k": 5}
    return "counsellor", "GET", f"/v1/workers/{rnd.choice(worker_ids)}", None


REREGISTER = """
from recommender.registry import Registry
from recommender.settings import get_settings
reg = Registry(get_settings().models)
bundle, manifest = reg.load()
mv = reg.save(bundle, {k: v for k, v in manifest.items() if k not in ("version", "created", "libraries")})
reg.promote(mv.version, reason="soak retrain")
print(f"saved model {mv.version} (promoted)")
"""


async def soak(base: str, server: subprocess.Popen[bytes], env: dict[str, str], minutes: float, rate: float, seed: int,
               retrain_mode: str = "registry", swap_every: float = 60.0) -> int:
    rnd = random.Random(seed)
    # keep-alive shorter than the server's (uvicorn: 5 s), so the client never reuses a connection the server is closing
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64, keepalive_expiry=2.0)
    async with httpx.AsyncClient(base_url=base, timeout=30.0, limits=limits) as client:
        ids = (await client.get("/v1/workers", params={"limit": 1000}, headers={"X-API-Key": KEYS["counsellor"]})).json()
        worker_ids = [w["worker_id"] for w in ids["data"]]
        for _ in range(20):  # warm-up, not counted
            role, method, path, body = request_for(rnd, worker_ids)
            await client.request(method, path, json=body, headers={"X-API-Key": KEYS[role]})
        start_rss = rss_kib(server.pid)
        total = minutes * 60.0
        n_minutes = max(1, int(-(-total // 60)))
        per_minute = [Minute() for _ in range(n_minutes)]
        events: list[str] = []
        t0 = time.perf_counter()
        pending: set[asyncio.Task[None]] = set()

        async def one(i: int) -> None:
            role, method, path, body = request_for(rnd, worker_ids)
            started = time.perf_counter()
            bucket = per_minute[min(n_minutes - 1, int((started - t0) // 60))]
            bucket.sent += 1
            try:
                r = await client.request(method, path, json=body, headers={"X-API-Key": KEYS[role]})
                ok, why = r.status_code == 200, f"{r.status_code} {path}"
            except httpx.HTTPError as exc:
                ok, why = False, f"{type(exc).__name__} {path}"
            bucket.latencies.append((time.perf_counter() - started) * 1000)
            if not ok:
                bucket.failed += 1
                bucket.failures[why] = bucket.failures.get(why, 0) + 1

        retrained = asyncio.Event()

        async def retrain() -> None:
            await asyncio.sleep(total / 4)
            if retrain_mode == "train":
                command = ["-m", "recommender", "train", "--no-evaluate", "--negatives", "4", "--promote", "always"]
            else:  # the registry directly: the served bundle saved again as a new version and promoted
                command = ["-c", REREGISTER]
            events.append(f"{time.perf_counter() - t0:6.1f}s retrain started ({retrain_mode}, nice {RETRAIN_NICE})")
            # a retrain is batch work: at lower CPU priority than serving, as an operator would run it on a shared host
            proc = await asyncio.create_subprocess_exec(
                sys.executable, *command, env=env, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                preexec_fn=lambda: os.nice(RETRAIN_NICE))
            out, err = await proc.communicate()
            events.append(f"{time.perf_counter() - t0:6.1f}s retrain finished (exit {proc.returncode}): {out.decode().strip().splitlines()[-1] if out else err.decode()[-300:]}")
            retrained.set()

        async def swap_versions() -> None:
            """After the retrain, promote the other version through the API every ``swap_every`` seconds."""
            await retrained.wait()
            h = {"X-API-Key": KEYS["admin"]}
            while time.perf_counter() - t0 + swap_every < total:
                await asyncio.sleep(swap_every)
                models = (await client.get("/v1/models", headers=h)).json()
                others = [m["version"] for m in models["data"] if not m["promoted"]]
                if not others:
                    events.append(f"{time.perf_counter() - t0:6.1f}s promotion skipped: only one version")
                    return
                r = await client.post(f"/v1/models/{others[0]}/promote", json={"reason": "soak test"}, headers=h)
                events.append(f"{time.perf_counter() - t0:6.1f}s promoted {others[0]} through the API: {r.status_code} serving={r.json().get('serving')}")

        side = [asyncio.create_task(retrain()), asyncio.create_task(swap_versions())]
        i = 0
        while True:
            due = t0 + i / rate
            now = time.perf_counter()
            if due - t0 >= total:
                break
            if due > now:
                await asyncio.sleep(due - now)
            task = asyncio.create_task(one(i))
            pending.add(task)
            task.add_done_callback(pending.discard)
            i += 1
            m = int((time.perf_counter() - t0) // 60)
            if m < n_minutes and per_minute[m].rss_kib == 0:
                per_minute[m].rss_kib = rss_kib(server.pid)
        await asyncio.gather(*pending)
        await asyncio.gather(*side)
        end_rss = rss_kib(server.pid)
        elapsed = time.perf_counter() - t0

    print(f"\nsoak: {minutes:g} min at {rate:g} req/s on {base} (server pid {server.pid})")
    for e in events:
        print("  event", e)
    print(f"\n{'minute':>6} {'sent':>6} {'failed':>6} {'p50 ms':>8} {'p99 ms':>8} {'RSS MiB':>8}")
    for k, b in enumerate(per_minute):
        print(f"{k + 1:>6} {b.sent:>6} {b.failed:>6} {pct(b.latencies, 50):>8.1f} {pct(b.latencies, 99):>8.1f} {b.rss_kib / 1024:>8.1f}")
        for why, n in sorted(b.failures.items()):
            print(f"{'':>6} failed {n} x {why}")
    sent = sum(b.sent for b in per_minute)
    failed = sum(b.failed for b in per_minute)
    lat = [x for b in per_minute for x in b.latencies]
    print(f"\ntotal: sent {sent} in {elapsed:.0f}s ({sent / elapsed:.1f}/s), failed {failed}, "
          f"p50 {pct(lat, 50):.1f} ms, p99 {pct(lat, 99):.1f} ms")
    print(f"server RSS: start {start_rss / 1024:.1f} MiB, end {end_rss / 1024:.1f} MiB ({(end_rss - start_rss) / 1024:+.1f} MiB)")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=5.0, help="length of the load phase (default 5)")
    p.add_argument("--rate", type=float, default=50.0, help="requests per second (default 50)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", type=Path, default=ROOT / "data_samples", help="contract files to serve (default data_samples/)")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (store, models, server log)")
    p.add_argument("--retrain", choices=["registry", "train"], default="registry",
                   help="mid-run retrain: re-save the served bundle as a new version through the registry (default), "
                   "or run `recommender train --promote always` in a subprocess (minutes on 2 cores)")
    p.add_argument("--swap-every", type=float, default=60.0,
                   help="after the retrain, promote the other version through the API every this many seconds (default 60)")
    p.add_argument("--models", type=Path, help="copy this registry instead of training a first model (e.g. a --keep run's models/)")
    args = p.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="soak-"))
    env = {**os.environ, "RECOMMENDER_DB": f"sqlite:///{work / 'store.db'}", "RECOMMENDER_MODELS": str(work / "models"),
           "RECOMMENDER_API_KEYS": json.dumps({role: [key] for role, key in KEYS.items()}),
           "RECOMMENDER_RATE_LIMIT_PER_MINUTE": "0", "RECOMMENDER_MODEL_POLL_SECONDS": "1", "PYTHONUNBUFFERED": "1"}
    server = None
    try:
        t = time.perf_counter()
        run_cli(env, "ingest", str(args.data))
        if args.models:
            shutil.copytree(args.models, work / "models")
        else:
            run_cli(env, "train", "--no-evaluate", "--negatives", "4", "--promote", "always")
        print(f"setup: imported {args.data} and trained a first model in {time.perf_counter() - t:.0f}s ({work})", flush=True)
        port = free_port()
        log = open(work / "server.log", "wb")
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory", "--host", "127.0.0.1", "--port", str(port),
             "--log-level", "warning"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 120
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline or server.poll() is not None:
                print((work / "server.log").read_text(errors="replace")[-3000:], file=sys.stderr)
                return 2
            time.sleep(0.5)
        return asyncio.run(soak(base, server, env, args.minutes, args.rate, args.seed, args.retrain, args.swap_every))
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
