"""Rows per second for generating a world and for ingesting it into SQLite.

    python benchmarks/bench_ingest.py --workers 1000000

Generates a world of N workers (and its jobs, employers, courses and outcomes)
with the calibrated generator, imports it through the one import path into a
fresh SQLite store, imports it again (the idempotent re-import), and prints
rows per second for each step.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from recommender.ingest import ingest
from recommender.store import Store
from recommender.world import generate_world


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dir", type=Path, help="working folder (default: a temporary one)")
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        out = Path(tmp) / "world"
        t0 = time.perf_counter()
        counts = generate_world(out, workers=args.workers, seed=args.seed, fmt=args.format)
        gen_s = time.perf_counter() - t0
        total = sum(counts.values())
        print(f"world: {args.workers:,} workers; rows per file: " + ", ".join(f"{k}={v:,}" for k, v in counts.items()))
        print(f"generate: {total:,} rows in {gen_s:.1f} s = {total / gen_s:,.0f} rows/s")

        store = Store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        t0 = time.perf_counter()
        report = ingest(out, store)
        ing_s = time.perf_counter() - t0
        print(f"ingest (new store): {report.taken:,} rows taken, {report.rejected:,} rejected in {ing_s:.1f} s "
              f"= {report.rows_read / ing_s:,.0f} rows/s")
        for f in report.files:
            print(f"  {f.file:<18} {f.rows_read:>11,} read {f.taken:>11,} taken {f.rejected:>7,} rejected")
        t0 = time.perf_counter()
        again = ingest(out, store)
        re_s = time.perf_counter() - t0
        print(f"re-import (unchanged): {again.unchanged:,} unchanged, {again.inserted + again.updated:,} written "
              f"in {re_s:.1f} s = {again.rows_read / re_s:,.0f} rows/s")
        t0 = time.perf_counter()
        frame = store.read_table("workers")
        rd_s = time.perf_counter() - t0
        print(f"read workers table into pandas: {len(frame):,} rows in {rd_s:.1f} s = {len(frame) / rd_s:,.0f} rows/s")
        print(f"peak resident memory: {peak_rss_mb():,.0f} MB")
        store.dispose()


if __name__ == "__main__":
    main()
