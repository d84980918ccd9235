"""Batch recommendations over a store on a database server: one query per worker against bulk reads.

    python benchmarks/bench_batch_reads.py --cache /tmp/bench-rec          # PostgreSQL from RECOMMENDER_TEST_PG
    python benchmarks/bench_batch_reads.py --cache /tmp/bench-rec --batch 2000 --rounds 3

The world and model of ``bench_recommend.py`` (generated, imported, trained;
reused from ``--cache``) are imported into a fresh schema of ``--pg``; then
``Recommender.recommend_batch`` runs over ``--batch`` stored workers,
alternating the one-query-per-worker read (the bulk read switched off) and the
bulk read (two queries per 500 workers), each on a freshly loaded Recommender
(empty worker cache). Prints workers/s and CPU seconds per run, and the load
average. The schema is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_recommend import load_average, trained_world  # noqa: E402

from recommender.ingest import ingest  # noqa: E402
from recommender.service import Recommender  # noqa: E402
from recommender.settings import Settings  # noqa: E402
from recommender.store import Store  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://recommender:recommender@127.0.0.1:5432/recommender_test"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", default=os.environ.get("RECOMMENDER_TEST_PG", DEFAULT_PG), help="PostgreSQL URL")
    parser.add_argument("--workers", type=int, default=20_000, help="workers of the generated world")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=1_000, help="stored workers per batch")
    parser.add_argument("--rounds", type=int, default=2, help="alternating pairs of runs")
    parser.add_argument("--cache", default=None, help="folder to keep the world and model in between runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.cache) if args.cache else Path(tmp)
        sqlite_store, registry = trained_world(root, args.workers, args.seed)
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(args.pg)
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        try:
            sep = "&" if "?" in args.pg else "?"
            url = f"{args.pg}{sep}options={quote(f'-csearch_path={schema}')}"
            store = Store(url)
            t0 = time.perf_counter()
            report = ingest(root / f"world-{args.workers}-{args.seed}", store)
            print(f"imported the {args.workers:,}-worker world into PostgreSQL: {report.rejected} rejected, {time.perf_counter() - t0:.1f} s")
            settings = Settings(db=url, models=str(registry.root))
            ids = store.read_table("workers", columns=["worker_id"])["worker_id"].tolist()[: args.batch]
            print(load_average())
            for _ in range(args.rounds):
                for mode in ("one query per worker", "bulk reads"):
                    rec = Recommender.load(settings, store=store)
                    if mode == "one query per worker":
                        rec._prefetch = lambda ids: None  # type: ignore[method-assign]
                    c, t = time.process_time(), time.perf_counter()
                    out = rec.recommend_batch(ids, k=10)
                    wall = time.perf_counter() - t
                    errors = sum(isinstance(o, Exception) for o in out)
                    print(f"{mode}: {len(ids):,} workers in {wall:.1f} s = {len(ids) / wall:.1f} workers/s "
                          f"(CPU {time.process_time() - c:.1f} s), {errors} errors")
            print(load_average())
            store.dispose()
        finally:
            with admin.begin() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            admin.dispose()
            sqlite_store.dispose()


if __name__ == "__main__":
    main()
