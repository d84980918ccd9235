"""Scale benchmark: a 1 M-worker world in SQLite and PostgreSQL, batch recommendations with and without Dask.

    python benchmarks/bench_scale.py --workers 1000000 --workers-sample 2000

Steps, each timed and printed:

1. generate the world (``generate_world(out, workers=N, seed=0)``: ~200 k jobs at 1 M workers);
2. import it through the one import path into a fresh SQLite store and into
   PostgreSQL (a fresh schema on ``--pg``), rows/s for each;
3. train a model on the shipped sample world (the encoders come from the
   taxonomy, so a bundle serves any store) into a temporary registry;
4. batch recommendations (jobs, k=10, exposure caps on) for ``--workers-sample``
   workers drawn at random (all workers if 0): in this process with
   ``Recommender.recommend_batch``, and on a ``LocalCluster`` of ``--processes``
   processes with ``recommender.distributed``; workers/s for each (model and
   store loading timed separately) and the time all N workers would take at
   that rate. The sample is honest only as a rate: the full run is the same
   per-worker work repeated.

5. with ``--train-pairs``: the job training pairs (negative sampling) and their
   feature matrix on the generated world, in this process and on the
   ``LocalCluster`` (``recommender.distributed.training``), timed, and checked
   identical.

``--skip-pg`` / ``--skip-sqlite`` / ``--skip-reimport`` / ``--skip-dask`` / ``--skip-recommend`` drop a step; ``--recommend-db``
picks the store the recommendations read (``sqlite`` by default: same for both paths); ``--keep`` keeps
the stores for a later ``--store`` run. The in-process pass runs as ``recommender recommend`` does
(slices of 5,000 workers through one exposure ledger, each turned into output rows), the Dask pass as
``recommender recommend --cluster local`` does; a long run prints its progress every 100,000 workers.

The must-show run, all 1 M workers both ways (about 1.5 h on this 2-core machine):

    python benchmarks/bench_scale.py --workers 1000000 --workers-sample 0 --skip-reimport

    python benchmarks/bench_scale.py --workers 20000 --skip-pg --skip-recommend --train-pairs

``--store URL --models DIR`` runs step 4 only, over an existing store and model registry
(no generation, import or training), and ``--processes`` takes a list: one process against
LocalClusters of 1 and 2 processes on the same sample of a 20,000-worker store:

    python benchmarks/bench_scale.py --store sqlite:////tmp/world-20000.db --models /tmp/models-20000 \
        --workers-sample 2000 --processes 1,2

Each Dask line gives the start-up (cluster, then the Recommender loaded on every
worker), workers/s without and with the start-up, per process, and the Dask
workers' CPU seconds (user + system) and minor page faults over the timed batch.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import numpy as np

DEFAULT_PG = "postgresql+psycopg://recommender:recommender@127.0.0.1:5432/recommender_test"
SAMPLES = Path(__file__).resolve().parent.parent / "data_samples"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def ingest_into(url: str, world: Path, label: str, *, reimport: bool = True) -> None:
    from recommender.ingest import ingest
    from recommender.store import Store

    store = Store(url)
    t0 = time.perf_counter()
    report = ingest(world, store)
    s = time.perf_counter() - t0
    print(f"ingest {label}: {report.rows_read:,} rows read, {report.taken:,} taken, {report.rejected:,} rejected in {s:.1f} s "
          f"= {report.rows_read / s:,.0f} rows/s", flush=True)
    if reimport:
        t0 = time.perf_counter()
        again = ingest(world, store)
        s = time.perf_counter() - t0
        print(f"re-import {label}: {again.unchanged:,} unchanged, {again.inserted + again.updated:,} written in {s:.1f} s "
              f"= {again.rows_read / s:,.0f} rows/s", flush=True)
    t0 = time.perf_counter()
    n = len(store.read_table("workers"))
    s = time.perf_counter() - t0
    print(f"read workers {label}: {n:,} rows in {s:.1f} s = {n / s:,.0f} rows/s", flush=True)
    store.dispose()


def training_pairs_step(url: str, processes: int, negatives: int, seed: int) -> None:
    """Training pairs and features in this process and on Dask: times, and the check that they are identical."""
    import numpy as np

    from recommender.distributed.cluster import close, connect
    from recommender.distributed.training import distributed_training_pairs
    from recommender.features import JobPairFeatures
    from recommender.snapshot import Snapshot
    from recommender.store import Store
    from recommender.training.jobs import training_pairs
    from recommender.training.labels import JOB_GRADES, graded_pairs
    from recommender.training.world import EncodedWorld, Encoders

    t0 = time.perf_counter()
    store = Store(url)
    snapshot = Snapshot.from_store(store)
    world = EncodedWorld.build(snapshot, Encoders.fit())
    graded = graded_pairs(snapshot.placements, "job_id", JOB_GRADES)
    print(f"training pairs: encoded world of {len(world.workers):,} workers, {len(world.jobs):,} jobs, "
          f"{len(graded):,} graded pairs in {time.perf_counter() - t0:.1f} s", flush=True)
    t0 = time.perf_counter()
    local = training_pairs(world, graded, negatives=negatives, seed=seed)
    t_pairs = time.perf_counter() - t0
    t0 = time.perf_counter()
    featurizer = JobPairFeatures().fit(local.pairs)
    X = featurizer.transform(local.pairs)
    t_x = time.perf_counter() - t0
    print(f"  single process: {len(local.y):,} pairs sampled in {t_pairs:.1f} s; features {X.shape[0]:,} x {X.shape[1]} "
          f"in {t_x:.1f} s; total {t_pairs + t_x:.1f} s", flush=True)
    t0 = time.perf_counter()
    client = connect("local", n_workers=processes, threads_per_worker=1)
    start_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    dist = distributed_training_pairs(client, world, graded, negatives=negatives, seed=seed)
    s = time.perf_counter() - t0
    close(client)
    same = (np.array_equal(dist.pairs.w, local.pairs.w) and np.array_equal(dist.pairs.i, local.pairs.i)
            and np.array_equal(dist.y, local.y) and np.array_equal(dist.X, X, equal_nan=True))
    print(f"  Dask LocalCluster({processes} processes): start {start_s:.1f} s; pairs + features in {s:.1f} s "
          f"(speed-up {(t_pairs + t_x) / s:.2f}x); identical to one process: {same}", flush=True)
    store.dispose()


SLICE = 5_000  # workers per recommend_batch call in this process (as the CLI's IN_PROCESS_SLICE)


class Progress:
    """A line every ``every`` workers of a long run: how far, how fast so far, the load."""

    def __init__(self, total: int, label: str, every: int = 100_000) -> None:
        self.total, self.label, self.every = total, label, every
        self.t0, self.next = time.perf_counter(), every

    def done(self, n: int) -> None:
        if n >= self.next and n < self.total:
            s = time.perf_counter() - self.t0
            print(f"    {self.label}: {n:,} of {self.total:,} workers in {s:,.0f} s = {n / s:,.1f} workers/s; "
                  f"load average {load_average()}", flush=True)
            self.next = (n // self.every + 1) * self.every


def _usage() -> tuple[float, int]:
    """CPU seconds (user + system) and minor page faults of the calling process so far."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime, r.ru_minflt


def recommend_step(db: str, models: Path, workers_sample: int, seed: int, processes: list[int], label: str, *, dask: bool = True) -> None:
    """Batch recommendations for a sample of the store's workers: in this process, then on LocalClusters."""
    from recommender.distributed.batch import iter_recommend, pinned_spec
    from recommender.distributed.cluster import close, connect
    from recommender.distributed.rows import to_rows
    from recommender.service import Recommender
    from recommender.settings import Settings
    from recommender.store import Store

    settings = Settings(db=db, models=models)
    store = Store(db, create=False)
    ids = store.keys("workers").to_numpy(dtype=object)
    rng = np.random.default_rng(seed)
    n_sample = len(ids) if workers_sample <= 0 else min(workers_sample, len(ids))
    sample = ids[np.sort(rng.choice(len(ids), n_sample, replace=False))].tolist()
    print(f"batch recommendations: {n_sample:,} of {len(ids):,} workers, jobs, k=10, exposure caps on, store {label}; "
          f"load average {load_average()}", flush=True)

    t0 = time.perf_counter()
    rec = Recommender.load(settings, store=store)
    load_s = time.perf_counter() - t0
    as_of = rec.default_as_of()
    cpu0, _ = _usage()
    t0 = time.perf_counter()
    # as `recommender recommend` runs without --cluster: slices through one ledger, each turned into output rows
    ledger = rec.new_ledger()
    rows = errors = 0
    report = Progress(n_sample, "single process")
    for a in range(0, n_sample, SLICE):
        part = sample[a : a + SLICE]
        frame, errs = to_rows(part, rec.recommend_batch(part, k=10, as_of=as_of, ledger=ledger))
        rows, errors = rows + len(frame), errors + len(errs)
        report.done(a + len(part))
    s = time.perf_counter() - t0
    cpu = _usage()[0] - cpu0
    rate1 = n_sample / s
    print(f"  single process: load {load_s:.1f} s; {n_sample:,} workers in {s:.1f} s = {rate1:,.1f} workers/s, "
          f"{n_sample / (s + load_s):,.1f} with the load ({rows:,} rows, {errors:,} errors; CPU {cpu:.1f} s); "
          + (f"all {len(ids):,} would take {len(ids) / rate1 / 3600:.2f} h; " if n_sample < len(ids) else "")
          + f"load average {load_average()}", flush=True)
    del rec, ledger

    for n_procs in processes if dask else []:
        t0 = time.perf_counter()
        client = connect("local", n_workers=n_procs, threads_per_worker=1)
        cluster_s = time.perf_counter() - t0
        spec = pinned_spec(settings)
        # warm-up: load the Recommender on every worker (the plugin)
        list(iter_recommend(client, sample[:n_procs], spec, k=10, as_of=as_of, partition_size=1, output="rows"))
        start_s = time.perf_counter() - t0
        before = client.run(_usage)
        t0 = time.perf_counter()
        rows = 0
        report = Progress(n_sample, f"Dask LocalCluster({n_procs} processes)")
        for _, stop, (frame, _errors) in iter_recommend(client, sample, spec, k=10, as_of=as_of, output="rows"):
            rows += len(frame)
            report.done(stop)
        s = time.perf_counter() - t0
        after = client.run(_usage)
        cpu = sum(after[w][0] - before[w][0] for w in after)
        faults = sum(after[w][1] - before[w][1] for w in after)
        rate2 = n_sample / s
        print(f"  Dask LocalCluster({n_procs} processes): start {start_s:.1f} s (cluster {cluster_s:.1f} s, then the loads); "
              f"{n_sample:,} workers in {s:.1f} s = {rate2:,.1f} workers/s ({rate2 / n_procs:,.1f} per process), "
              f"{n_sample / (s + start_s):,.1f} with the start ({rows:,} rows); workers' CPU {cpu:.1f} s, "
              f"{faults / n_sample:,.0f} minor page faults per recommendation; "
              + (f"all {len(ids):,} would take {len(ids) / rate2 / 3600:.2f} h; " if n_sample < len(ids) else "") +
              f"speed-up {rate2 / rate1:.2f}x; load average {load_average()}", flush=True)
        close(client)
    store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers-sample", type=int, default=2_000, help="workers to recommend for (0 = all)")
    parser.add_argument("--processes", default="2", help="LocalCluster processes; a list such as 1,2 runs one cluster of each size")
    parser.add_argument("--pg", default=os.environ.get("RECOMMENDER_TEST_PG", DEFAULT_PG), help="PostgreSQL URL")
    parser.add_argument("--dir", type=Path, help="working folder (default: a temporary one)")
    parser.add_argument("--world", type=Path, help="an already generated world to use instead of generating one")
    parser.add_argument("--recommend-db", choices=["sqlite", "pg"], default="sqlite")
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--skip-reimport", action="store_true", help="import once (no timed second import of the same files)")
    parser.add_argument("--skip-recommend", action="store_true", help="no model training and no batch recommendations")
    parser.add_argument("--train-pairs", action="store_true", help="time the training pairs and features, one process vs Dask")
    parser.add_argument("--negatives", type=int, default=6, help="negatives per query for --train-pairs")
    parser.add_argument("--store", help="recommend over this existing store (URL) only: no generation, import or training")
    parser.add_argument("--models", type=Path, help="with --store: the model registry holding the promoted model")
    parser.add_argument("--keep", action="store_true", help="keep the working folder (world, SQLite stores, models) "
                        "and the PostgreSQL schema, and print where they are")
    args = parser.parse_args()
    processes = [int(p) for p in str(args.processes).split(",") if p.strip()]
    if args.store is not None:
        if args.models is None:
            parser.error("--store needs --models")
        print(f"machine: {os.cpu_count()} cores; load average at start {load_average()}", flush=True)
        recommend_step(args.store, args.models, args.workers_sample, args.seed, processes, "store", dask=not args.skip_dask)
        print(f"load average at end {load_average()}; peak resident memory of this process {peak_rss_mb():,.0f} MB", flush=True)
        return

    from recommender.world import generate_world

    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-", dir=args.dir))
    schema = None
    try:
        print(f"machine: {os.cpu_count()} cores; load average at start {load_average()}", flush=True)
        world = args.world
        if world is None:
            world = tmp / "world"
            t0 = time.perf_counter()
            counts = generate_world(world, workers=args.workers, seed=args.seed)
            s = time.perf_counter() - t0
            print(f"generate: {args.workers:,} workers in {s:.1f} s; " + ", ".join(f"{k}={v:,}" for k, v in counts.items()), flush=True)

        sqlite_url = f"sqlite:///{tmp / 'scale.db'}"
        pg_url = None
        if not args.skip_pg:
            import sqlalchemy as sa

            schema = f"bench_{uuid.uuid4().hex[:8]}"
            admin = sa.create_engine(args.pg)
            with admin.begin() as conn:
                conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
            admin.dispose()
            sep = "&" if "?" in args.pg else "?"
            pg_url = f"{args.pg}{sep}options={quote(f'-csearch_path={schema}')}"
            ingest_into(pg_url, world, "PostgreSQL (COPY)", reimport=not args.skip_reimport)
        if not args.skip_sqlite or args.recommend_db == "sqlite":
            ingest_into(sqlite_url, world, "SQLite (executemany)", reimport=not args.skip_reimport)

        if args.train_pairs:
            imported_sqlite = not args.skip_sqlite or args.recommend_db == "sqlite"
            training_pairs_step(sqlite_url if imported_sqlite or pg_url is None else pg_url, max(processes), args.negatives, args.seed)
        if args.skip_recommend:
            print(f"load average at end {load_average()}; peak resident memory of this process {peak_rss_mb():,.0f} MB", flush=True)
            return

        # ---- a model (trained on the sample world) ----
        from recommender.ingest import ingest
        from recommender.registry import Registry
        from recommender.snapshot import Snapshot
        from recommender.store import Store
        from recommender.training.pipeline import TrainConfig, train_and_register

        t0 = time.perf_counter()
        sample_store = Store(f"sqlite:///{tmp / 'samples.db'}")
        ingest(SAMPLES, sample_store)
        registry = Registry(tmp / "models")
        train_and_register(Snapshot.from_store(sample_store), registry, TrainConfig(negatives=6), evaluate=False)
        print(f"train on the sample world: {time.perf_counter() - t0:.1f} s", flush=True)
        sample_store.dispose()

        db = pg_url if args.recommend_db == "pg" else sqlite_url
        recommend_step(db, registry.root, args.workers_sample, args.seed, processes, args.recommend_db, dask=not args.skip_dask)
        print(f"load average at end {load_average()}; peak resident memory of this process {peak_rss_mb():,.0f} MB", flush=True)
    finally:
        if args.keep:
            print(f"kept: {tmp}" + (f"; PostgreSQL schema {schema}" if schema else ""), flush=True)
            return
        if schema is not None:
            import sqlalchemy as sa

            admin = sa.create_engine(args.pg)
            with admin.begin() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            admin.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
