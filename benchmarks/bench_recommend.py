"""Latency of ``recommend_jobs`` among 100,000 open jobs, and training time on 1 M labelled pairs.

    python benchmarks/bench_recommend.py                      # both parts
    python benchmarks/bench_recommend.py --skip-train         # latency only
    python benchmarks/bench_recommend.py --skip-train --cache /tmp/bench-rec   # keep world + model between runs

Latency: a generated world (default 20,000 workers) is imported and a model
trained on it; its jobs are then resampled into N open postings (default
100,000, new ids, real places, open on the query day) and the service is
built over them. p50/p95/p99 of ``recommend_jobs`` are printed for stored
workers (by id, from the service's snapshot, then read from the store as the
API reads them) and inline profiles, k=10, one request at a time, as wall
clock and as CPU time of this process (``time.process_time``, less sensitive
to other load on the machine); the load average is printed alongside.
With ``--cache DIR`` the generated world, its store and the trained model are
kept in DIR and reused by the next run (same seed and size), so only the
measurement is repeated.

Training: a larger world (default 100,000 workers, ~1 M outcome pairs) is
imported; the job ranker (pre-score + gradient-boosted trees) is fitted on
1,000,000 labelled pairs (outcomes plus sampled negatives) and the time printed.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from recommender.ingest import ingest
from recommender.registry import Registry
from recommender.service import Recommender
from recommender.settings import Settings
from recommender.snapshot import Snapshot
from recommender.store import Store
from recommender.training.jobs import fit_job_model, training_pairs
from recommender.training.labels import JOB_GRADES, graded_pairs
from recommender.training.pipeline import TrainConfig, train_and_register
from recommender.training.world import EncodedWorld, Encoders
from recommender.world import generate_world


def pct(values: list[float]) -> str:
    a = np.asarray(values) * 1000
    return f"p50 {np.percentile(a, 50):.1f} ms, p95 {np.percentile(a, 95):.1f} ms, p99 {np.percentile(a, 99):.1f} ms, mean {a.mean():.1f} ms"


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


def timed(call, items) -> tuple[list[float], list[float], list]:  # type: ignore[no-untyped-def]
    """Wall-clock and process CPU seconds of ``call(item)`` for each item, one at a time."""
    wall, cpu, out = [], [], []
    for item in items:
        c, t = time.process_time(), time.perf_counter()
        out.append(call(item))
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return wall, cpu, out


def trained_world(root: Path, workers: int, seed: int) -> tuple[Store, Registry]:
    """A generated world imported into a store, with a promoted model; reused when ``root`` has one."""
    root.mkdir(parents=True, exist_ok=True)
    tag = root / f"world-{workers}-{seed}"
    store = Store(f"sqlite:///{tag}.db")
    registry = Registry(root / f"models-{workers}-{seed}")
    if (tag / ".done").exists() and registry.promoted() is not None:
        print(f"reusing the {workers:,}-worker world and model in {root}")
        return store, registry
    generate_world(tag, workers=workers, seed=seed)
    ingest(tag, store)
    t0 = time.perf_counter()
    train_and_register(Snapshot.from_store(store), registry, TrainConfig(), evaluate=False)
    print(f"trained on the {workers:,}-worker world in {time.perf_counter() - t0:.1f} s")
    (tag / ".done").touch()
    return store, registry


def wide_service(store: Store, registry: Registry, n_jobs: int, seed: int, settings: Settings | None = None) -> tuple[Recommender, Snapshot, pd.Timestamp]:
    """The promoted model served over the store's jobs resampled into ``n_jobs`` open postings."""
    snap = Snapshot.from_store(store)
    day = pd.Timestamp(snap.jobs["posted_on"].max())
    snap.jobs = widen_jobs(snap.jobs, n_jobs, day, seed)
    bundle, manifest = registry.load()
    settings = settings or Settings(db=store.url, models=registry.root)
    return Recommender(bundle, manifest, snap, store=None, settings=settings), snap, day


def profiles_of(workers: pd.DataFrame) -> list[dict]:
    """Stored workers as inline profiles (no id, no gender), as an API client would send them."""
    return [
        {k: (None if pd.isna(v) else (str(v.date()) if isinstance(v, pd.Timestamp) else v)) for k, v in r.items() if k not in ("worker_id", "gender")}
        for r in workers.to_dict("records")
    ]


def widen_jobs(jobs: pd.DataFrame, n: int, day: pd.Timestamp, seed: int) -> pd.DataFrame:
    """N open postings resampled from real generated ones (titles, skills, wages, places)."""
    rng = np.random.default_rng(seed)
    out = jobs.iloc[rng.integers(0, len(jobs), n)].reset_index(drop=True).copy()
    out["job_id"] = [f"B{i:07d}" for i in range(n)]
    out["posted_on"] = day - pd.to_timedelta(rng.integers(0, 60, n), unit="D")
    out["closes_on"] = day + pd.to_timedelta(rng.integers(1, 120, n), unit="D")
    return out


def latency(args: argparse.Namespace, tmp: Path) -> None:
    store, registry = trained_world(Path(args.cache) if args.cache else tmp, args.workers, args.seed)
    t0 = time.perf_counter()
    rec, snap, day = wide_service(store, registry, args.jobs, args.seed)
    print(f"service built over {len(snap.jobs):,} open jobs in {time.perf_counter() - t0:.1f} s")
    rng = np.random.default_rng(args.seed)
    ids = snap.workers["worker_id"].to_numpy()[rng.integers(0, len(snap.workers), args.requests)]
    for wid in ids[:5]:
        rec.recommend_jobs(str(wid), k=10, as_of=day.date())  # warm-up
    print(load_average())
    wall, cpu, outs = timed(lambda wid: rec.recommend_jobs(str(wid), k=10, as_of=day.date()), ids)
    sizes = [len(o.items) for o in outs]
    print(f"recommend_jobs by worker id, {args.requests} requests: {pct(wall)}; mean items {np.mean(sizes):.1f}")
    print(f"  CPU time per request: {pct(cpu)}")
    rec.store = store  # as the API serves: the worker (and their enrolments) read from the store per request
    rec.invalidate()
    other = np.random.default_rng(args.seed + 1)  # its own draw: the profiles below stay those of earlier runs
    stored = snap.workers["worker_id"].to_numpy()[other.integers(0, len(snap.workers), args.requests)]
    wall, cpu, _ = timed(lambda wid: rec.recommend_jobs(str(wid), k=10, as_of=day.date()), stored)
    print(f"recommend_jobs by worker id read from the store, {args.requests} requests: {pct(wall)}")
    print(f"  CPU time per request: {pct(cpu)}")
    profiles = profiles_of(snap.workers.iloc[rng.integers(0, len(snap.workers), args.requests)])
    wall, cpu, _ = timed(lambda p: rec.recommend_jobs(p, k=10, as_of=day.date()), profiles)
    print(f"recommend_jobs with an inline profile, {args.requests} requests: {pct(wall)}")
    print(f"  CPU time per request: {pct(cpu)}")
    prescore(rec, ids, day)
    print(load_average())


def prescore(rec: Recommender, ids: np.ndarray, day: pd.Timestamp) -> None:
    """The pre-score and the cut to ``max_candidates`` alone, per request: the eight feature columns
    times the coefficients with argpartition (as served before) against ``score_one`` with ``top_n``."""
    from recommender.candidates import candidates_for, to_days
    from recommender.features import PairSet
    from recommender.ranking import top_n
    from recommender.threads import limit_threads

    d = int(to_days(day)[0])
    as_of = np.datetime64("1970-01-01", "D") + np.timedelta64(d, "D")
    pre, jobs, n_keep = rec.bundle.jobs.prescorer, rec.world.jobs, rec.settings.max_candidates
    cases = []
    for wid in ids:
        w = rec._worker(str(wid))
        cand, feas, _ = candidates_for(w.view, rec.world.job_pool, 0, d)
        if len(cand):
            cases.append((w.block, cand, feas.scope))

    def features(case):  # type: ignore[no-untyped-def]
        block, cand, scope = case
        s = pre.features(PairSet.one_to_many(block, jobs, as_of, items_idx=cand), scope) @ pre.coef_ + pre.intercept_
        if len(s) <= n_keep:
            return np.argsort(-s, kind="stable")
        top = np.argpartition(-s, n_keep - 1)[:n_keep]
        return top[np.argsort(-s[top], kind="stable")]

    def fast(case):  # type: ignore[no-untyped-def]
        block, cand, scope = case
        return top_n(pre.score_one(block, jobs, cand, scope), n_keep)

    with limit_threads(1):
        for f in (features, fast):  # warm-up (per-block caches)
            f(cases[0])
        for _ in range(2):
            _, old_cpu, _ = timed(features, cases)
            _, new_cpu, _ = timed(fast, cases)
            print(f"pre-score + keep {n_keep} of {np.mean([len(c[1]) for c in cases]):,.0f} feasible jobs (mean), "
                  f"{len(cases)} workers, CPU time: features @ coef + argpartition {pct(old_cpu)}; "
                  f"score_one + top_n {pct(new_cpu)} ({load_average()})")


def training(args: argparse.Namespace, tmp: Path) -> None:
    data = tmp / "train-world"
    generate_world(data, workers=args.train_workers, seed=args.seed)
    store = Store(f"sqlite:///{tmp / 'train.db'}")
    ingest(data, store)
    snap = Snapshot.from_store(store)
    world = EncodedWorld.build(snap, Encoders.fit())
    pairs = graded_pairs(snap.placements, "job_id", JOB_GRADES)
    tp = training_pairs(world, pairs, negatives=args.negatives, seed=args.seed)
    n = min(len(tp.y), args.pairs)
    keep = np.random.default_rng(args.seed).choice(len(tp.y), n, replace=False)
    tp.pairs.w, tp.pairs.i = tp.pairs.w[keep], tp.pairs.i[keep]
    tp.pairs.as_of = tp.pairs.as_of[keep] if tp.pairs.as_of.ndim else tp.pairs.as_of
    tp.y, tp.scope, tp.day = tp.y[keep], tp.scope[keep], tp.day[keep]
    cfg = TrainConfig()  # as `recommender train` fits it: older-worker correction included
    t0 = time.perf_counter()
    fit_job_model(tp, objective=cfg.objective, seed=cfg.seed, older_weight=cfg.older_worker_weight, older_age=cfg.older_worker_age)
    print(f"training the job ranker on {n:,} labelled pairs ({int((tp.y > 0).sum()):,} positive, "
          f"older-worker weight {cfg.older_worker_weight:g}): {time.perf_counter() - t0:.1f} s ({load_average()})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=20_000)
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--train-workers", type=int, default=100_000)
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--negatives", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-train", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--cache", default=None, help="folder to keep the latency world and model in between runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_latency:
            latency(args, Path(tmp))
        if not args.skip_train:
            training(args, Path(tmp))


if __name__ == "__main__":
    main()
