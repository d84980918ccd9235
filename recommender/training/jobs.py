"""Training pairs and the two-stage job ranker.

Recipe (no leakage): pairs seen before the cutoff are labelled with their
furthest outcome; each pair's features are computed as of the day it was first
seen; negatives are the referrals that were not taken up, the jobs the service
showed the worker that they did not take up (``labels.add_impressions``), plus
jobs that were open and feasible for that worker on that day but not acted on,
sampled at random. The pre-score and the ranker are fitted on the same pairs.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from recommender import columns as C
from recommender.candidates import check_pairs, to_days
from recommender.features import JobPairFeatures, PairSet
from recommender.ranking import PairRanker, PreScorer
from recommender.training.world import EncodedWorld, positions


@dataclass
class TrainingPairs:
    pairs: PairSet
    y: np.ndarray  # graded relevance
    scope: np.ndarray  # int8 scope per pair
    day: np.ndarray  # as-of day number per pair


def sample_negatives(
    world: EncodedWorld,
    queries: pd.DataFrame,
    *,
    per_query: int,
    rng: np.random.Generator,
    exclude: set[tuple[int, int]] | np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feasible open jobs not acted on, per (worker row, day) query, vectorised.

    Draws many random jobs per query, keeps the ones open and feasible on that
    day, and caps them at ``per_query``; queries with few feasible jobs (local
    mobility) get fewer. ``exclude`` holds (worker row, job row) pairs, or their
    keys ``w * (n_jobs + 1) + j`` as an int64 array (cheaper per partition).
    Only ``world.worker_view`` and ``world.job_pool`` are read, so a Dask worker
    can be sent just those two.
    """
    if queries.empty or per_query <= 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z
    draws = per_query * 12
    q = np.repeat(np.arange(len(queries)), draws)
    w = queries["w"].to_numpy()[q]
    day = queries["day"].to_numpy()[q]
    j = rng.integers(0, len(world.job_pool), size=len(q))
    f = check_pairs(world.worker_view, world.job_pool, w, j, day)
    ok = f.feasible("strict")
    if len(exclude):
        keys = w.astype(np.int64) * (len(world.job_pool) + 1) + j
        if isinstance(exclude, np.ndarray):
            ex = exclude.astype(np.int64, copy=False)
        else:
            ex = np.fromiter((a * (len(world.job_pool) + 1) + b for a, b in exclude), dtype=np.int64, count=len(exclude))
        ok &= ~np.isin(keys, ex)
    frame = pd.DataFrame({"q": q[ok], "w": w[ok], "j": j[ok], "day": day[ok]}).drop_duplicates(["q", "j"])
    frame = frame.groupby("q", sort=False).head(per_query)
    return frame["w"].to_numpy(), frame["j"].to_numpy(), frame["day"].to_numpy()


def training_pairs(
    world: EncodedWorld,
    graded: pd.DataFrame,
    *,
    negatives: int = 10,
    seed: int = 0,
    partition_workers: int = 2_000,
    map_partitions: Callable[[list[tuple[list[int], pd.DataFrame, np.ndarray]]], list[tuple[np.ndarray, np.ndarray, np.ndarray]]]
    | None = None,
) -> TrainingPairs:
    """Labelled pairs (real outcomes + sampled negatives) with their as-of days.

    Negatives are sampled per partition of workers (worker rows
    ``[p * partition_workers, (p + 1) * partition_workers)``), each partition
    with its own generator seeded by ``(seed, p)``, and concatenated in
    partition order: the pairs depend only on the data, ``seed`` and
    ``partition_workers``, never on where a partition runs. ``map_partitions``
    runs the list of ``(seed sequence, queries, excluded keys)`` tasks, by
    default in this process; :mod:`recommender.distributed.training` passes one
    that runs them on Dask and gets the same pairs.
    """
    w = positions(world.workers, graded[C.WORKER].to_numpy())
    j = positions(world.jobs, graded[C.ITEM].to_numpy())
    known = (w >= 0) & (j >= 0)
    graded = graded.loc[known]
    w, j = w[known], j[known]
    day = to_days(graded["first_date"])
    y = graded[C.RELEVANCE].to_numpy(dtype=float)
    queries = pd.DataFrame({"w": w, "day": day}).drop_duplicates().reset_index(drop=True)
    keys = w.astype(np.int64) * (len(world.job_pool) + 1) + j
    # group rows by partition with one stable sort each (a mask per partition is O(partitions x rows))
    q_part = queries["w"].to_numpy() // max(1, partition_workers)
    k_part = w // max(1, partition_workers)
    q_order = np.argsort(q_part, kind="stable")
    q_ids, q_start = np.unique(q_part[q_order], return_index=True)
    k_order = np.argsort(k_part, kind="stable")
    k_ids, k_start = np.unique(k_part[k_order], return_index=True)
    k_rows = dict(zip(k_ids.tolist(), np.split(k_order, k_start[1:]), strict=True))
    tasks = [
        ([seed, p], queries.iloc[rows].reset_index(drop=True), np.unique(keys[k_rows.get(p, rows[:0])]))
        for p, rows in zip(q_ids.tolist(), np.split(q_order, q_start[1:]), strict=True)
    ]

    def run_here(items: list[tuple[list[int], pd.DataFrame, np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        return [sample_negatives(world, q, per_query=negatives, rng=np.random.default_rng(s), exclude=ex) for s, q, ex in items]

    parts = (map_partitions or run_here)(tasks)
    z = np.zeros(0, dtype=np.int64)
    nw = np.concatenate([z, *(p[0] for p in parts)])
    nj = np.concatenate([z, *(p[1] for p in parts)])
    nd = np.concatenate([z, *(p[2] for p in parts)])
    all_w = np.concatenate([w, nw])
    all_j = np.concatenate([j, nj])
    all_d = np.concatenate([day, nd])
    all_y = np.concatenate([y, np.zeros(len(nw))])
    scope = check_pairs(world.worker_view, world.job_pool, all_w, all_j, all_d).scope
    as_of = (np.datetime64("1970-01-01", "D") + all_d.astype("timedelta64[D]"))
    pairs = PairSet(world.workers, world.jobs, all_w, all_j, as_of)
    return TrainingPairs(pairs, all_y, scope, all_d)


@dataclass
class JobModel:
    """What serving needs to rank jobs: the fitted first and second stage."""

    prescorer: PreScorer
    ranker: PairRanker

    def feature_names(self) -> list[str]:
        return list(self.ranker.feature_names_)


def older_shrink(weight: float) -> float:
    """How much of the older-worker correction is applied: ``w / (1 + w)``.

    0 turns the correction off, 1 applies half of it, 4 four fifths; it never
    exceeds the correction the data fitted.
    """
    w = max(0.0, float(weight))
    return w / (1.0 + w)


def at_older_weight(model: JobModel, weight: float) -> JobModel:
    """The same fitted model at another older-worker weight, without refitting.

    The weight only sets the share of the older-worker correction that is added
    (the global trees and the correction are fitted without it), so this equals a
    refit at ``weight`` provided ``model`` was fitted with a weight above 0 (or
    ``weight`` is 0). The trade-off curve uses it: one fit, not one per weight.
    """
    ranker = copy.copy(model.ranker)
    ranker.older_shrink = older_shrink(weight)
    return JobModel(model.prescorer, ranker)


def fit_job_model(
    tp: TrainingPairs,
    *,
    objective: str = "regression",
    seed: int = 0,
    sample_weight: np.ndarray | None = None,
    older_weight: float = 0.0,
    older_age: int = 50,
    X: np.ndarray | None = None,
) -> JobModel:
    """Pre-score and ranker on the same pairs, with the older-worker correction.

    ``older_weight`` sets the ranker's older-worker correction (``older_shrink``).
    Older workers' pairs are not up-weighted: on a generated 20,000-worker world a
    weight of ``1 + w`` on them lowered their held-out NDCG@10 (README, "Evaluation").
    ``X``: the pairs' feature matrix when already computed by
    ``JobPairFeatures().fit(tp.pairs)``; the featuriser is still fitted here (the
    skill IDF, cheap) because serving transforms with it.
    """
    prescorer = PreScorer().fit(tp.pairs, tp.y, scope=tp.scope, sample_weight=sample_weight)
    featurizer = JobPairFeatures()
    if X is not None:
        featurizer.fit(tp.pairs)
    ranker = PairRanker(
        featurizer, objective=objective, random_state=seed, older_age=older_age, older_shrink=older_shrink(older_weight)
    ).fit(tp.pairs, tp.y, X=X, sample_weight=sample_weight)
    return JobModel(prescorer, ranker)
