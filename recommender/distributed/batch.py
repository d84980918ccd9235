"""Batch recommendations on a Dask cluster.

The client splits the worker ids into contiguous partitions and submits one
task per partition; every Dask worker process holds one
:class:`~recommender.service.Recommender` (the same pinned model version over
the same shared store), loaded once by :class:`RecommenderPlugin` and cached in
the process, and scores its partitions with exactly the code of the
single-process path (``Recommender.recommend_jobs`` / ``recommend_courses``).
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

The job ids and caps are computed once (on one worker) and sent to every
partition; a worker whose store shows other jobs refuses to score (the store's
jobs changed during the run).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from distributed import WorkerPlugin

from recommender.errors import RecommenderError
from recommender.policy import ExposureLedger
from recommender.distributed.rows import OUTPUT_COLUMNS, to_rows  # noqa: F401 - re-exported
from recommender.settings import Settings



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


LOCKED_WAIT_SECONDS = 1_800.0  # how long a worker waits for another one's snapshot read of a SQLite store


def _load_recommender(spec: RecommenderSpec, *, wait_seconds: float = LOCKED_WAIT_SECONDS) -> Any:
    """``Recommender.load``, waiting while another process holds the SQLite store's lock.

    A snapshot read takes the store's transaction lock (``BEGIN IMMEDIATE`` on
    SQLite), so the Dask workers of one host load one after the other; on a
    1 M-worker store a load takes longer than SQLite's 30 s busy timeout, and
    the next worker would fail with "database is locked" instead of waiting.
    """
    import sqlalchemy.exc

    from recommender.service import Recommender
    from recommender.store import Store

    deadline = time.monotonic() + wait_seconds
    pause = 1.0
    while True:
        try:
            return Recommender.load(spec.settings, store=Store(spec.settings.db, create=False), version=spec.version)
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
            _CACHE.clear()
            rec = _load_recommender(spec)
            _CACHE[key] = rec
        return rec


class RecommenderPlugin(WorkerPlugin):
    """Loads the Recommender when a worker joins (and on every worker already there)."""

    name = "recommender"

    def __init__(self, spec: RecommenderSpec) -> None:
        self.spec = spec

    def setup(self, worker: Any) -> None:
        worker_recommender(self.spec)


class _PartitionLedger(ExposureLedger):
    """The sequential ledger on this partition's shares of each job's cap (a share may be 0)."""

    def __init__(self, cfg: Any, capacity: dict[str, int]) -> None:
        super().__init__(cfg)
        self.capacity = capacity
        self._closed = {item for item, n in capacity.items() if n <= 0}

    def full(self) -> set[str]:
        return super().full() | self._closed


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
    ids, caps = job_capacities(rec)
    day = str(pd.Timestamp(as_of).date()) if as_of is not None else str(rec.default_as_of())
    return {"as_of": day, "ids": ids, "caps": caps}


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
    job_ids: np.ndarray | None,
    caps: np.ndarray | None,
    item_type: str,
    k: int,
    scope: str,
    as_of: str,
    age_policy: str | None,
    output: str = "objects",
    lang: str = "zh",
) -> Any:
    """Score one partition on the worker's cached Recommender (runs on a Dask worker)."""
    rec = worker_recommender(spec)
    ledger = None
    if caps is not None and item_type == "job":
        ids = rec.world.job_pool.ids
        if len(ids) != len(job_ids) or not np.array_equal(np.asarray(ids, dtype=object), job_ids):
            raise RecommenderError("the store's jobs changed during the batch run: every partition must see the same jobs; run it again")
        part = shares(caps, start, start + len(workers), total)
        ledger = _PartitionLedger(rec.policy, dict(zip(job_ids.tolist(), part.tolist(), strict=True)))
    results = recommend_sequential(rec, workers, item_type=item_type, k=k, scope=scope, as_of=as_of, age_policy=age_policy, ledger=ledger)
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
    job_ids = caps_arr = None
    if caps and item_type == "job":
        job_ids, caps_arr = client.scatter([info["ids"], info["caps"]], broadcast=True)
    parts = partitions(n, size)
    window = in_flight or max(2, n_procs * 3)
    pending: list[tuple[int, int, Any]] = []

    def submit(a: int, b: int) -> tuple[int, int, Any]:
        fut = client.submit(
            score_partition, spec, list(workers[a:b]), start=a, total=n, job_ids=job_ids, caps=caps_arr,
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
