"""Batch recommendations on a Dask cluster.

The client splits the worker ids into contiguous partitions and submits one
task per partition; every Dask worker process holds one
:class:`~recommender.service.Recommender` (the same pinned model version over
the same shared store), loaded once by :class:`RecommenderPlugin` and cached in
the process, and scores its partitions with exactly the code of the
single-process path (``Recommender.recommend_batch``).
Results come back in input order; a bounded number of partitions is in flight,
so neither the client nor the workers hold the whole output.

The exposure ledger (a job with ``openings`` places is recommended to at most
``ceil(exposure_per_opening * openings)`` workers of the batch) cannot be one
sequential counter across processes without serialising the run. Instead each
job's cap is **split between partitions in proportion to their number of
workers** (cumulative-floor apportionment: partition ``p`` of a batch of ``N``
workers, holding positions ``[a, b)``, gets ``floor(cap*b/N) - floor(cap*a/N)``
of it, so the shares add up to the cap exactly), and each partition runs the
ordinary sequential ledger on its shares. What that guarantees:

- every job is recommended at most ``cap`` times over the whole batch, as in
  the single-process path (the shares sum to the cap);
- with one partition the result is identical to ``Recommender.recommend_batch``;
- without caps (``caps=False``) every worker's list is identical to the
  single-process path whatever the partitioning: lists do not depend on each other;
- with caps and several partitions a worker's list can differ from the
  sequential run only where a job's cap binds: a popular job is spread over the
  whole batch (each partition gets its share) instead of going to the first
  workers in file order.

The caps are computed once (on one worker) and sent to every partition with a
digest of the job ids they belong to; a worker whose store shows other jobs
refuses to score (the store's jobs changed during the run).

What a worker process does differently from one process, and must not (see
docs/scale.md, "Dask per-process rate"): it restores glibc's malloc thresholds
(the nanny's ``MALLOC_TRIM_THRESHOLD_`` made every large array a fresh mmap),
keeps the partition ledger's full set up to date instead of rebuilding it per
worker, hands the Recommender the batch date as a ``datetime.date``, and reads
its snapshot in a read transaction (:class:`SnapshotReadStore`), not under the
writers' lock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from distributed import WorkerPlugin

from recommender.distributed.cluster import restore_malloc_thresholds
from recommender.distributed.rows import OUTPUT_COLUMNS, to_rows  # noqa: F401 - re-exported
from recommender.errors import RecommenderError
from recommender.policy import ExposureLedger
from recommender.settings import Settings
from recommender.store import Store


@dataclass(frozen=True)
class RecommenderSpec:
    """What every Dask worker needs to build the same Recommender: settings (store URL,
    registry, policy) and the model version, pinned by the client so a promotion during
    the run cannot mix models."""

    settings: Settings
    version: str

    def key(self) -> str:
        return f"{self.version}|{self.settings.model_dump_json()}"


# ---- worker side ------------------------------------------------------------------

_CACHE: dict[str, Any] = {}
_CACHE_LOCK = threading.Lock()


LOCKED_WAIT_SECONDS = 1_800.0  # how long a worker waits while its store reports "database is locked"


class SnapshotReadStore(Store):
    """The store of a Dask worker's Recommender, which only reads: its snapshot read
    (``Store.begin``) is a read-only transaction instead of the writers' lock.

    ``Store.begin`` serialises writers from the start (``BEGIN IMMEDIATE`` on
    SQLite, a transaction-level advisory lock on PostgreSQL), and
    ``Snapshot.from_store`` reads through it, so the Dask processes of a host
    used to load their Recommender one after the other (111 s for 2 processes
    on the 1 M-worker SQLite store, 300 s on PostgreSQL). A read transaction
    gives the same consistent view of all tables without the lock: a deferred
    ``BEGIN`` on SQLite (in WAL mode readers neither wait for a writer nor block
    one; the view is fixed at the first read), ``REPEATABLE READ, READ ONLY`` on
    PostgreSQL (one snapshot for the whole transaction). An import running at
    the same time is seen either entirely or not at all, as before.
    """

    def __init__(self, url: str) -> None:
        super().__init__(url, create=False)

    @contextmanager
    def begin(self) -> Iterator[Any]:
        with self.engine.begin() as conn:
            if self.dialect == "sqlite":
                conn.exec_driver_sql("BEGIN")
            elif self.dialect == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield conn


def _load_recommender(spec: RecommenderSpec, *, wait_seconds: float = LOCKED_WAIT_SECONDS) -> Any:
    """``Recommender.load`` over a :class:`SnapshotReadStore`, waiting while the store reports itself locked.

    The snapshot read no longer takes the writers' lock, so the workers of one host
    load side by side; "database is locked" can still come from SQLite (switching
    a file to WAL, a writer's checkpoint), and a worker then waits (with backoff,
    ``wait_seconds`` at most) instead of failing after the 30 s busy timeout.
    """
    import sqlalchemy.exc

    from recommender.service import Recommender

    deadline = time.monotonic() + wait_seconds
    pause = 1.0
    while True:
        try:
            return Recommender.load(spec.settings, store=SnapshotReadStore(spec.settings.db), version=spec.version)
        except sqlalchemy.exc.OperationalError as exc:
            if "database is locked" not in str(exc) or time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 30.0)


def worker_recommender(spec: RecommenderSpec) -> Any:
    """The process's Recommender for ``spec``, loaded on first use (one model per process)."""
    key = spec.key()
    with _CACHE_LOCK:
        rec = _CACHE.get(key)
        if rec is None:
            restore_malloc_thresholds()  # before the load: its frames are allocated under the same rule
            _CACHE.clear()
            rec = _load_recommender(spec)
            _CACHE[key] = rec
        return rec


_JOB_DIGESTS: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def job_digest(rec: Any) -> str:
    """A digest of the Recommender's job ids in pool order (computed once per Recommender:
    its jobs are fixed for its life). Partitions compare it with the client's instead of
    comparing every job id (200,000 at 1 M workers) per partition."""
    hit = _JOB_DIGESTS.get(rec)
    if hit is None:
        ids = rec.world.job_pool.ids
        h = hashlib.sha1(f"{len(ids)}\n".encode())
        h.update("\x1f".join(map(str, ids.tolist())).encode("utf-8", "surrogatepass"))
        hit = _JOB_DIGESTS[rec] = h.hexdigest()
    return hit


class RecommenderPlugin(WorkerPlugin):
    """Loads the Recommender when a worker joins (and on every worker already there)."""

    name = "recommender"

    def __init__(self, spec: RecommenderSpec) -> None:
        self.spec = spec

    def setup(self, worker: Any) -> None:
        restore_malloc_thresholds()
        worker_recommender(self.spec)


class _PartitionLedger(ExposureLedger):
    """The sequential ledger on this partition's shares of each job's cap (a share may be 0):
    ``full()`` also holds the jobs whose share is 0. ``ExposureLedger`` keeps the set up to
    date as jobs are recorded, so it is never rebuilt per worker (that cost ~15 ms per worker
    at 200,000 jobs when partitions are small and most shares are 0)."""

    def __init__(self, cfg: Any, capacity: dict[str, int]) -> None:
        super().__init__(cfg)
        self.capacity = capacity
        self._full = {item for item, n in capacity.items() if n <= 0}


def job_capacities(rec: Any) -> tuple[np.ndarray, np.ndarray]:
    """Job ids and their batch caps, exactly as ``Recommender.recommend_batch`` registers them."""
    ledger = rec.new_ledger()
    ids = rec.world.job_pool.ids
    caps = np.fromiter((ledger.capacity[i] for i in ids.tolist()), dtype=np.int64, count=len(ids))
    return np.asarray(ids, dtype=object), caps


def shares(caps: np.ndarray, start: int, stop: int, total: int) -> np.ndarray:
    """This partition's share of every cap (cumulative floor: shares over all partitions sum to ``caps``)."""
    caps = caps.astype(np.int64)
    return caps * stop // total - caps * start // total


def _batch_info(spec: RecommenderSpec, as_of: str | None) -> dict[str, Any]:
    rec = worker_recommender(spec)
    _, caps = job_capacities(rec)
    day = str(pd.Timestamp(as_of).date()) if as_of is not None else str(rec.default_as_of())
    return {"as_of": day, "jobs": job_digest(rec), "caps": caps}


def recommend_sequential(
    rec: Any,
    workers: Sequence[Any],
    *,
    item_type: str = "job",
    k: int = 10,
    scope: str = "all",
    as_of: dt.date | str | None = None,
    age_policy: str | None = None,
    ledger: ExposureLedger | None = None,
) -> list[Any]:
    """``Recommender.recommend_batch`` with the ledger given (or none: no caps)."""
    return rec.recommend_batch(
        workers, item_type=item_type, k=k, scope=scope, as_of=as_of, age_policy=age_policy, ledger=ledger, caps=ledger is not None
    )


def score_partition(
    spec: RecommenderSpec,
    workers: Sequence[str],
    *,
    start: int,
    total: int,
    jobs: str | None,
    caps: np.ndarray | None,
    item_type: str,
    k: int,
    scope: str,
    as_of: str | dt.date,
    age_policy: str | None,
    output: str = "objects",
    lang: str = "zh",
) -> Any:
    """Score one partition on the worker's cached Recommender (runs on a Dask worker).

    ``jobs`` is the :func:`job_digest` of the Recommender that computed ``caps``
    (the caps are in its job-pool order); ``as_of`` is an ISO date.
    """
    restore_malloc_thresholds()
    rec = worker_recommender(spec)
    ledger = None
    if caps is not None and item_type == "job":
        if jobs != job_digest(rec):
            raise RecommenderError("the store's jobs changed during the batch run: every partition must see the same jobs; run it again")
        part = shares(caps, start, start + len(workers), total)
        ledger = _PartitionLedger(rec.policy, dict(zip(rec.world.job_pool.ids.tolist(), part.tolist(), strict=True)))
    # a date, not its text: Recommender._day reads a dt.date without pandas (~0.7 ms per worker otherwise)
    day = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    results = recommend_sequential(rec, workers, item_type=item_type, k=k, scope=scope, as_of=day, age_policy=age_policy, ledger=ledger)
    if output == "rows":
        return to_rows(workers, results, lang=lang)
    return results


# ---- client side ------------------------------------------------------------------


def partitions(n: int, size: int) -> list[tuple[int, int]]:
    return [(a, min(a + size, n)) for a in range(0, n, size)]


def pinned_spec(settings: Settings, version: str | None = None) -> RecommenderSpec:
    """The spec with the promoted version resolved now (on the client)."""
    from recommender.errors import NotFoundError
    from recommender.registry import Registry

    version = version or Registry(settings.models).promoted()
    if version is None:
        raise NotFoundError(f"no promoted model in {settings.models}; run `recommender train`")
    return RecommenderSpec(settings, version)


def iter_recommend(
    client: Any,
    workers: Sequence[str],
    spec: RecommenderSpec,
    *,
    item_type: str = "job",
    k: int = 10,
    scope: str = "all",
    as_of: dt.date | str | None = None,
    age_policy: str | None = None,
    caps: bool = True,
    partition_size: int | None = None,
    output: str = "objects",
    lang: str = "zh",
    in_flight: int | None = None,
) -> Iterator[tuple[int, int, Any]]:
    """Yield ``(start, stop, result)`` per partition, in input order.

    ``result`` is a list of ``Recommendations`` / errors (``output='objects'``) or the
    ``(rows, errors)`` of :func:`to_rows` (``output='rows'``, for large runs).
    """
    from distributed import wait

    n = len(workers)
    if n == 0:
        return
    n_procs = max(1, len(client.scheduler_info().get("workers", {})) or 1)
    size = partition_size or max(1, min(2_000, -(-n // (n_procs * 4))))
    plugin = RecommenderPlugin(spec)
    client.register_plugin(plugin, name="recommender-" + hashlib.sha1(spec.key().encode()).hexdigest()[:12])
    info = client.submit(_batch_info, spec, None if as_of is None else str(as_of), pure=False).result()
    jobs = caps_arr = None
    if caps and item_type == "job":
        jobs = info["jobs"]
        caps_arr = client.scatter(info["caps"], broadcast=True)
    parts = partitions(n, size)
    window = in_flight or max(2, n_procs * 3)
    pending: list[tuple[int, int, Any]] = []

    def submit(a: int, b: int) -> tuple[int, int, Any]:
        fut = client.submit(
            score_partition, spec, list(workers[a:b]), start=a, total=n, jobs=jobs, caps=caps_arr,
            item_type=item_type, k=k, scope=scope, as_of=info["as_of"], age_policy=age_policy,
            output=output, lang=lang, pure=False,
        )
        return a, b, fut

    it = iter(parts)
    for a, b in it:
        pending.append(submit(a, b))
        if len(pending) >= window:
            break
    while pending:
        a, b, fut = pending.pop(0)
        wait(fut)
        result = fut.result()
        fut.release()
        nxt = next(it, None)
        if nxt is not None:
            pending.append(submit(*nxt))
        yield a, b, result


def recommend_batch(client: Any, workers: Sequence[str], spec: RecommenderSpec, **kwargs: Any) -> list[Any]:
    """Like ``Recommender.recommend_batch`` but on the cluster: one result per worker, in order."""
    out: list[Any] = []
    for _, _, result in iter_recommend(client, workers, spec, output="objects", **kwargs):
        out.extend(result)
    return out
