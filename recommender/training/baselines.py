"""Baselines the learned ranker must beat, scored on the very same candidates.

- ``random``: a seeded coin per pair.
- ``popularity``: how often the item was taken up (applied or better) in training.
- ``content``: cosine similarity of the worker's and the item's canonical skills.
- ``als``: implicit-feedback collaborative filtering (the ``implicit`` package's
  ALS) on training take-ups, with popularity for workers or items it never saw.

Each has ``fit(train_pairs, pairs_context)`` and ``score(pairs) -> ndarray``,
where ``pairs`` is a :class:`recommender.features.PairSet`.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender import columns as C


class PairScorer(Protocol):
    name: str

    def fit(self, train: pd.DataFrame) -> PairScorer: ...

    def score(self, pairs: Any) -> np.ndarray: ...


def _pair_ids(pairs: Any) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(pairs.workers.ids)[pairs.w], np.asarray(pairs.items.ids)[pairs.i]


class RandomScorer:
    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def fit(self, train: pd.DataFrame) -> RandomScorer:
        return self

    def score(self, pairs: Any) -> np.ndarray:
        return np.random.default_rng(self.seed).random(len(pairs.w))


class PopularityScorer:
    name = "popularity"

    def __init__(self, min_relevance: int = 1) -> None:
        self.min_relevance = min_relevance

    def fit(self, train: pd.DataFrame) -> PopularityScorer:
        taken = train.loc[train[C.RELEVANCE] >= self.min_relevance]
        self.counts_ = taken.groupby(C.ITEM).size().astype(float)
        return self

    def score(self, pairs: Any) -> np.ndarray:
        _, items = _pair_ids(pairs)
        base = self.counts_.reindex(items).fillna(0.0).to_numpy()
        # a tiny deterministic tie-break so unseen items are not ordered by position
        return base + 1e-6 * np.random.default_rng(1).random(len(base))


class ContentScorer:
    name = "content"

    def fit(self, train: pd.DataFrame) -> ContentScorer:
        return self

    def score(self, pairs: Any) -> np.ndarray:
        w = sp.csr_matrix(pairs.workers.skills)[pairs.w]
        i = sp.csr_matrix(pairs.items.skills)[pairs.i]
        dot = np.asarray(w.multiply(i).sum(axis=1)).ravel()
        wn = np.sqrt(np.asarray(w.multiply(w).sum(axis=1)).ravel())
        inn = np.sqrt(np.asarray(i.multiply(i).sum(axis=1)).ravel())
        with np.errstate(invalid="ignore", divide="ignore"):
            cos = np.where((wn > 0) & (inn > 0), dot / (wn * inn), 0.0)
        return cos + 1e-6 * np.random.default_rng(2).random(len(cos))


class ALSScorer:
    """Matrix factorisation on take-ups; popularity where it has no factors."""

    name = "als"

    def __init__(self, factors: int = 32, iterations: int = 15, regularization: float = 0.05, seed: int = 0) -> None:
        self.factors = factors
        self.iterations = iterations
        self.regularization = regularization
        self.seed = seed

    def fit(self, train: pd.DataFrame) -> ALSScorer:
        from implicit.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        taken = train.loc[train[C.RELEVANCE] >= 1]
        self.popularity_ = PopularityScorer().fit(train)
        self.workers_ = pd.Index(taken[C.WORKER].unique())
        self.items_ = pd.Index(taken[C.ITEM].unique())
        self.model_ = None
        if len(self.workers_) < 2 or len(self.items_) < 2:
            return self
        rows = self.workers_.get_indexer(taken[C.WORKER])
        cols = self.items_.get_indexer(taken[C.ITEM])
        weights = taken[C.RELEVANCE].to_numpy(dtype=np.float32)
        matrix = sp.csr_matrix((weights, (rows, cols)), shape=(len(self.workers_), len(self.items_)))
        model = AlternatingLeastSquares(
            factors=self.factors, iterations=self.iterations, regularization=self.regularization, random_state=self.seed
        )
        with threadpool_limits(1, "blas"):
            model.fit(matrix, show_progress=False)
        self.model_ = model
        return self

    def score(self, pairs: Any) -> np.ndarray:
        workers, items = _pair_ids(pairs)
        fallback = self.popularity_.score(pairs)
        if self.model_ is None:
            return fallback
        wi = self.workers_.get_indexer(workers)
        ii = self.items_.get_indexer(items)
        known = (wi >= 0) & (ii >= 0)
        out = np.full(len(workers), -1e3) + fallback * 1e-3  # unknown pairs rank after known ones, by popularity
        uf = np.asarray(self.model_.user_factors)
        itf = np.asarray(self.model_.item_factors)
        out[known] = np.einsum("ij,ij->i", uf[wi[known]], itf[ii[known]])
        cold_worker = wi < 0
        out[cold_worker] = fallback[cold_worker]
        return out


def all_baselines(seed: int = 0) -> list[Any]:
    return [RandomScorer(seed), PopularityScorer(), ContentScorer(), ALSScorer(seed=seed)]
