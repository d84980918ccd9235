"""Training and evaluation on Dask: negative sampling and the pair-feature matrix, partitioned by worker; held-out queries in slices.

The two costs of building a training set that grow with the number of workers
run on Dask workers; the fits themselves (a logistic pre-score and one
HistGradientBoosting ranker on sampled pairs, bounded by outcomes, not by
workers) stay in the calling process, where scikit-learn's own OpenMP threads
do the work (neither estimator dispatches through joblib, so joblib's Dask
backend has nothing to distribute there).

Same results as one process, by construction:

- **negatives**: :func:`recommender.training.jobs.training_pairs` samples per
  partition of worker rows with a generator seeded by ``(seed, partition)``
  and concatenates in partition order, in one process too; here the same
  partitions run on Dask workers (grouped, in order), so the pairs are
  identical whatever the cluster;
- **features**: the featuriser is fitted once on all pairs (the skill IDF) in
  this process, then each Dask task transforms a contiguous slice of the
  pairs; pair features are computed row by row, so the concatenated slices are
  the single-process matrix bit for bit (a slice holding one worker only would
  take the featuriser's one-worker path, so such slices are merged with a
  neighbour).

``tests/test_dask.py`` compares pairs, matrix and fitted-model predictions
with the single-process path on the sample world.

Wiring: ``recommender train --cluster local|tcp://...`` (or
``RECOMMENDER_TRAIN_CLUSTER``) opens a client and runs the ordinary pipeline
inside :func:`use_cluster`; the pipeline calls :func:`job_training_pairs` and
:func:`fit_jobs`, which use the active client if there is one and the
single-process functions otherwise. With a client the feature matrix is also
computed once and reused by every refit of the older-worker trade-off, and
``evaluate_jobs`` ranks slices of the held-out queries on the Dask workers
(:func:`rank_queries_on`; each query is independent, so the lists joined in
order are the single-process lists).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recommender.distributed.cluster import restore_malloc_thresholds
from recommender.features import JobPairFeatures, PairSet
from recommender.training.jobs import JobModel, TrainingPairs, fit_job_model, sample_negatives, training_pairs

_CLIENT: ContextVar[Any | None] = ContextVar("recommender_training_client", default=None)

FEATURE_ROWS = 100_000  # pairs per feature task: ~20 MB of float32 back per task


@contextmanager
def use_cluster(client: Any) -> Iterator[Any]:
    """Run the training pipeline's pair building and features on ``client`` inside the block."""
    token = _CLIENT.set(client)
    try:
        yield client
    finally:
        _CLIENT.reset(token)


def active_client() -> Any | None:
    """The client set by :func:`use_cluster`, or None (single process)."""
    return _CLIENT.get()


@dataclass
class SamplingView:
    """What negative sampling reads (worker view and job pool): all a Dask worker is sent."""

    worker_view: Any
    job_pool: Any


@dataclass
class FeaturedPairs(TrainingPairs):
    """Training pairs with their feature matrix, computed once (on Dask) and reused by every refit."""

    X: np.ndarray
    featurizer: JobPairFeatures


def _n_workers(client: Any) -> int:
    return max(1, len(client.scheduler_info().get("workers", {})))


def _groups(n: int, k: int) -> list[tuple[int, int]]:
    """``k`` contiguous, near-equal ``[a, b)`` ranges over ``n`` items (fewer if n < k)."""
    k = max(1, min(k, n))
    edges = np.linspace(0, n, k + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]


def _sample_group(
    view: SamplingView, group: list[tuple[list[int], pd.DataFrame, np.ndarray]], per_query: int
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """On a Dask worker: the partitions of one group, each with its own seeded generator (as in one process)."""
    restore_malloc_thresholds()
    return [sample_negatives(view, q, per_query=per_query, rng=np.random.default_rng(s), exclude=ex)  # type: ignore[arg-type]
            for s, q, ex in group]


class DaskNegatives:
    """``map_partitions`` for :func:`training_pairs`: the partitions' sampling on Dask, results in partition order."""

    def __init__(self, client: Any, world: Any, per_query: int, *, tasks_per_worker: int = 4) -> None:
        self.client = client
        self.world = world
        self.per_query = per_query
        self.tasks_per_worker = tasks_per_worker

    def __call__(
        self, tasks: list[tuple[list[int], pd.DataFrame, np.ndarray]]
    ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        if not tasks:
            return []
        view = self.client.scatter(SamplingView(self.world.worker_view, self.world.job_pool), broadcast=True, hash=False)
        futures = [
            self.client.submit(_sample_group, view, tasks[a:b], self.per_query, pure=False)
            for a, b in _groups(len(tasks), _n_workers(self.client) * self.tasks_per_worker)
        ]
        out: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for part in self.client.gather(futures):
            out.extend(part)
        return out


def feature_slices(w: np.ndarray, rows: int = FEATURE_ROWS) -> list[tuple[int, int]]:
    """Contiguous ``[a, b)`` slices of about ``rows`` pairs, none holding a single worker unless all do."""
    n = len(w)
    if n == 0:
        return []
    edges = list(range(0, n, max(1, rows))) + [n]
    slices = [(edges[k], edges[k + 1]) for k in range(len(edges) - 1)]
    merged: list[tuple[int, int]] = []
    for a, b in slices:
        one_worker = bool((w[a:b] == w[a]).all())
        if merged and (one_worker or bool((w[merged[-1][0]:merged[-1][1]] == w[merged[-1][0]]).all())):
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


@dataclass
class FeatureBlocks:
    """What a feature task reads (both encoded blocks and the fitted featuriser): sent once per Dask worker."""

    workers: Any
    items: Any
    featurizer: JobPairFeatures


def _transform_slice(blocks: FeatureBlocks, w: np.ndarray, i: np.ndarray, as_of: np.ndarray) -> np.ndarray:
    """On a Dask worker: the (features x pairs) buffer of one slice (C-contiguous, as the featuriser builds it)."""
    restore_malloc_thresholds()
    X = blocks.featurizer.transform(PairSet(blocks.workers, blocks.items, w, i, as_of))
    return np.ascontiguousarray(X.T)


def pair_features(client: Any, pairs: PairSet, featurizer: JobPairFeatures, *, rows: int = FEATURE_ROWS) -> np.ndarray:
    """``featurizer.transform(pairs)`` computed in slices on Dask; same values and memory layout.

    ``featurizer`` must be fitted (on all the pairs: the skill IDF is global).
    """
    n = len(pairs.w)
    if n == 0:
        return featurizer.transform(pairs)
    blocks = client.scatter(FeatureBlocks(pairs.workers, pairs.items, featurizer), broadcast=True, hash=False)
    as_of = pairs.as_of if pairs.as_of.ndim == 1 else np.full(n, pairs.as_of)
    futures = [
        client.submit(_transform_slice, blocks, pairs.w[a:b], pairs.i[a:b], as_of[a:b], pure=False)
        for a, b in feature_slices(pairs.w, rows)
    ]
    # the featuriser returns buf.T of a (features x pairs) buffer: rebuild the same layout
    return np.concatenate(client.gather(futures), axis=1).T


def distributed_training_pairs(
    client: Any, world: Any, graded: pd.DataFrame, *, negatives: int = 10, seed: int = 0, partition_workers: int = 2_000,
    feature_rows: int = FEATURE_ROWS,
) -> FeaturedPairs:
    """:func:`training_pairs` with its sampling on Dask, plus the feature matrix computed on Dask."""
    tp = training_pairs(world, graded, negatives=negatives, seed=seed, partition_workers=partition_workers,
                        map_partitions=DaskNegatives(client, world, negatives))
    featurizer = JobPairFeatures().fit(tp.pairs)
    X = pair_features(client, tp.pairs, featurizer, rows=feature_rows)
    return FeaturedPairs(tp.pairs, tp.y, tp.scope, tp.day, X=X, featurizer=featurizer)


@dataclass
class EvalState:
    """What ranking held-out queries reads: sent once to every Dask worker."""

    world: Any
    model: Any
    baselines: Any


def _rank_slice(state: EvalState, queries: list[Any], kw: dict[str, Any]) -> pd.DataFrame:
    from recommender.training.evaluate import rank_queries

    restore_malloc_thresholds()
    return rank_queries(state.world, state.model, queries, baselines=state.baselines, **kw)


def rank_queries_on(
    client: Any, world: Any, model: Any, queries: list[Any], *, baselines: Any, tasks_per_worker: int = 4, **kw: Any
) -> pd.DataFrame:
    """:func:`recommender.training.evaluate.rank_queries` over contiguous slices of the queries on Dask.

    Each query is ranked independently (fitted baselines and the model only read), so
    the slices' rows joined in order are exactly the single-process rows.
    """
    state = client.scatter(EvalState(world, model, list(baselines)), broadcast=True, hash=False)
    futures = [
        client.submit(_rank_slice, state, queries[a:b], kw, pure=False)
        for a, b in _groups(len(queries), _n_workers(client) * tasks_per_worker)
    ]
    frames = client.gather(futures)
    if not frames:
        from recommender.training.evaluate import RankedLists

        return RankedLists().frame()
    return pd.concat(frames, ignore_index=True)


# ---- what the training pipeline calls ------------------------------------------------------


def job_training_pairs(world: Any, graded: pd.DataFrame, cfg: Any) -> TrainingPairs:
    """The pipeline's job training pairs: on the active Dask client (with features), else in this process."""
    client = active_client()
    if client is None:
        return training_pairs(world, graded, negatives=cfg.negatives, seed=cfg.seed)
    return distributed_training_pairs(client, world, graded, negatives=cfg.negatives, seed=cfg.seed)


def fit_jobs(
    tp: TrainingPairs, cfg: Any, *, sample_weight: np.ndarray | None = None, older_weight: float = 0.0
) -> JobModel:
    """The pipeline's job-model fit: ``fit_job_model``, reusing the matrix when the pairs carry one (Dask path)."""
    X = tp.X if isinstance(tp, FeaturedPairs) else None
    return fit_job_model(tp, objective=cfg.objective, seed=cfg.seed, sample_weight=sample_weight,
                         older_weight=older_weight, older_age=cfg.older_worker_age, X=X)

