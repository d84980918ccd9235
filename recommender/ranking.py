"""The two learned stages that order feasible items for a worker.

1. ``PreScorer``: a logistic regression over a handful of signals that cost one
   sparse matrix-vector product each (skill overlap, occupation match, scope,
   distance, wage). It runs over every feasible open job, so one worker among
   100,000 jobs stays within a few milliseconds, and keeps the best few hundred.
2. ``PairRanker``: gradient-boosted trees over the full pair features
   (``recommender.features``) of those few hundred, trained on graded outcomes.

Both are fitted on the same training pairs, so the first stage learns what the
data says matters rather than a hand-set formula.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from recommender.features import PairSet
from recommender.features._pairs import derived_csc, region_groups

try:  # the compiled per-tree routine behind HistGradientBoosting's predict (see _tree_sum)
    from sklearn.ensemble._hist_gradient_boosting._predictor import _predict_from_raw_data
except ImportError:  # pragma: no cover - another scikit-learn layout: the public predict is used
    _predict_from_raw_data = None

PRESCORE_FEATURES: tuple[str, ...] = (
    "skill_idf_overlap",
    "skill_cosine",
    "occupation_match",
    "scope_local",
    "scope_province",
    "log_distance_km",
    "log_wage_ratio",
    "wage_known",
)
_EARTH_KM = 6371.0088


def _haversine(lat1: np.ndarray | float, lon1: np.ndarray | float, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * _EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def _column_sums(items: Any, name: str, x: np.ndarray) -> np.ndarray:
    """``items.<name> @ x`` for a sparse ``x`` (one worker's row), bit for bit.

    Only the item entries in the columns where ``x`` is non-zero are touched (a
    gather on the block's cached CSC copy). The sums run in the same order and
    precision as scipy's CSR matrix-vector product (ascending column within a row;
    float32 accumulation for a float32 ``x``, float64 otherwise), and the skipped
    terms are exact zeros, so the result is identical.
    """
    m = getattr(items, name)
    n_rows = m.shape[0]
    dtype = np.result_type(m.dtype, x.dtype)
    if not m.has_sorted_indices or dtype not in (np.float32, np.float64):
        return np.asarray(m @ x).ravel()
    csc = derived_csc(items, name)
    cols = np.flatnonzero(x)
    if len(cols) == 0:
        return np.zeros(n_rows, dtype=dtype)
    starts, ends = csc.indptr[cols], csc.indptr[cols + 1]
    counts = ends - starts
    total = int(counts.sum())
    if total == 0:
        return np.zeros(n_rows, dtype=dtype)
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    idx = np.repeat(starts, counts) + offsets
    rows = csc.indices[idx]
    terms = csc.data[idx].astype(dtype) * np.repeat(x[cols].astype(dtype), counts)
    if dtype == np.float64:
        return np.bincount(rows, weights=terms, minlength=n_rows)
    out = np.zeros(n_rows, dtype=dtype)
    np.add.at(out, rows, terms)
    return out


def _rowwise_dot(a: sp.csr_matrix, b: sp.csr_matrix) -> np.ndarray:
    return np.asarray(a.multiply(b).sum(axis=1)).ravel()


class PreScorer(BaseEstimator):
    """Cheap learned pre-score; ``fit(pairs, y)`` then ``score(pairs, scope)``."""

    def __init__(self, *, C: float = 1.0) -> None:
        self.C = C

    def _idf(self, items: Any) -> np.ndarray:
        df = np.asarray((items.skills > 0).sum(axis=0)).ravel()
        return np.log((1.0 + len(items)) / (1.0 + df)) + 1.0

    def features(self, pairs: PairSet, scope: np.ndarray) -> np.ndarray:
        """The pre-score inputs, one row per pair (fast path for one worker)."""
        W, J = pairs.workers, pairs.items
        idf = self.idf_ if hasattr(self, "idf_") else self._idf(J)
        n = len(pairs)
        one = n > 0 and bool((pairs.w == pairs.w[0]).all())
        if one:
            # one worker against many items: gather only the item entries in the worker's
            # skill / occupation columns (cached CSC copies, the same sums as the full
            # matrix-vector products), then pick the candidate rows; distances once per
            # distinct item region
            wrow = int(pairs.w[0])
            wv = W.skills[wrow]
            w_dense = np.asarray(wv.todense()).ravel()
            overlap = _column_sums(J, "skills", w_dense * idf)[pairs.i]
            dot = _column_sums(J, "skills", w_dense)[pairs.i]
            wn = float(np.sqrt((w_dense**2).sum()))
            occ = _column_sums(J, "occupations", np.asarray(W.occupations[wrow].todense()).ravel())[pairs.i]
            wlat, wlon = W.num["lat"][wrow], W.num["lon"][wrow]
            expected = W.num["expected_wage"][wrow]
            jn, j_idf = self._item_stats(J, idf)
            jn, j_idf = jn[pairs.i], j_idf[pairs.i]
            _, inverse, ulat, ulon = region_groups(J)
            dist = _haversine(wlat, wlon, ulat, ulon)[inverse[pairs.i]]
        else:
            js = J.skills[pairs.i]
            ws = W.skills[pairs.w]
            overlap = _rowwise_dot(js, ws.multiply(idf.reshape(1, -1)).tocsr())
            dot = _rowwise_dot(js, ws)
            wn = np.sqrt(np.asarray(ws.multiply(ws).sum(axis=1)).ravel())
            occ = _rowwise_dot(J.occupations[pairs.i], W.occupations[pairs.w])
            wlat, wlon = W.num["lat"][pairs.w], W.num["lon"][pairs.w]
            expected = W.num["expected_wage"][pairs.w]
            jn = np.sqrt(np.asarray(js.multiply(js).sum(axis=1)).ravel())
            j_idf = np.asarray(js @ idf).ravel()
            dist = _haversine(wlat, wlon, J.num["lat"][pairs.i], J.num["lon"][pairs.i])
        with np.errstate(invalid="ignore", divide="ignore"):
            idf_overlap = np.where(j_idf > 0, overlap / np.where(j_idf > 0, j_idf, 1), 0.0)
            cosine = np.where((jn > 0) & (wn > 0), dot / (jn * np.where(wn > 0, wn, 1)), 0.0)
            wage = J.num["wage_mid"][pairs.i]
            ratio = np.log(np.asarray(wage, dtype=float) / np.asarray(expected, dtype=float))
        wage_known = np.isfinite(ratio)
        out = np.column_stack(
            [
                idf_overlap,
                cosine,
                occ,
                scope == 0,
                scope == 1,
                np.log1p(np.nan_to_num(dist, nan=500.0)),
                np.where(wage_known, ratio, 0.0),
                wage_known,
            ]
        ).astype(np.float64, copy=False)
        return out

    @staticmethod
    def _item_stats(items: Any, idf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per item: skill-vector norm and IDF mass, computed once per block."""

        def build() -> tuple[np.ndarray, np.ndarray]:
            sk = items.skills
            return np.sqrt(np.asarray(sk.multiply(sk).sum(axis=1)).ravel()), np.asarray(sk @ idf).ravel()

        return items._cached(f"prescore:{id(idf)}", build)

    def fit(self, pairs: PairSet, y: np.ndarray, *, scope: np.ndarray, sample_weight: np.ndarray | None = None) -> PreScorer:
        self.idf_ = self._idf(pairs.items)
        X = self.features(pairs, scope)
        target = (np.asarray(y) > 0).astype(int)
        model = make_pipeline(StandardScaler(), LogisticRegression(C=self.C, max_iter=500))
        if len(np.unique(target)) < 2:
            raise ValueError("the pre-score needs both positive and negative training pairs")
        model.fit(X, target, logisticregression__sample_weight=sample_weight)
        scaler, logit = model[0], model[1]
        # fold the scaler into one weight vector: the serving path is a dot product
        self.coef_ = logit.coef_.ravel() / scaler.scale_
        self.intercept_ = float(logit.intercept_[0] - (logit.coef_.ravel() * scaler.mean_ / scaler.scale_).sum())
        return self

    def score(self, pairs: PairSet, scope: np.ndarray) -> np.ndarray:
        return self.features(pairs, scope) @ self.coef_ + self.intercept_


def _tree_sum(model: Any, X: np.ndarray) -> np.ndarray | None:
    """Raw prediction of a fitted single-output HistGradientBoosting model, tree by tree.

    The same compiled per-tree routine and the same float64 summation order as
    ``model._raw_predict`` (so the result is identical), without scikit-learn's
    per-call validation and the per-tree ``functools.partial``, which dominate on the
    few hundred rows of one request. ``None`` when the model's internals are not
    the expected ones (another scikit-learn version): the caller falls back.
    """
    if _predict_from_raw_data is None:
        return None
    try:
        predictors = model._predictors
        if model.n_trees_per_iteration_ != 1 or getattr(model, "is_categorical_", None) is not None:
            return None
        if X.ndim != 2 or X.shape[1] != model.n_features_in_:
            return None
        known_cat, f_idx_map = model._bin_mapper.make_known_categories_bitsets()
        Z = np.ascontiguousarray(X, dtype=np.float64)
        total = np.full(len(Z), float(np.ravel(model._baseline_prediction)[0]))
        out = np.empty(len(Z), dtype=np.float64)
        for (tree,) in predictors:
            _predict_from_raw_data(tree.nodes, Z, tree.raw_left_cat_bitsets, known_cat, f_idx_map, 1, out)
            total += out
        return total
    except (AttributeError, TypeError, ValueError):
        return None


class PairRanker(BaseEstimator):
    """Pair features -> gradient-boosted trees on graded relevance.

    ``objective='regression'`` fits the grade (0 referred/not taken ... 3 retained
    or certified); ``'classification'`` fits P(taken up). Chosen by measurement
    in the evaluation (see README).

    150 trees of up to 63 leaves at learning rate 0.1 (not 300 of 31 at 0.06):
    serving cost is per tree, and on the time-split evaluation of two generated
    20,000-worker worlds the smaller forest is within 0.002 NDCG@10 overall
    (README, "Evaluation").

    Older-worker correction (regression only, ``older_shrink > 0``): after the
    global trees, a small boosted model is fitted to their residuals on the pairs
    whose ``older_feature`` (the worker's age) is at least ``older_age``; for such
    pairs the prediction adds ``older_shrink`` times that correction. It learns
    where older workers' outcomes depart from everyone's, from data only, and it
    cannot change anyone else's ranking.
    """

    def __init__(
        self,
        featurizer: Any = None,
        *,
        objective: str = "regression",
        max_iter: int = 150,
        learning_rate: float = 0.1,
        max_leaf_nodes: int = 63,
        min_samples_leaf: int = 40,
        l2_regularization: float = 1.0,
        random_state: int = 0,
        older_age: float = 50.0,
        older_shrink: float = 0.0,
        older_feature: str = "age",
        older_max_iter: int = 50,
    ) -> None:
        self.featurizer = featurizer
        self.objective = objective
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.random_state = random_state
        self.older_age = older_age
        self.older_shrink = older_shrink
        self.older_feature = older_feature
        self.older_max_iter = older_max_iter

    def _model(self) -> Any:
        params = dict(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            random_state=self.random_state,
            early_stopping=False,
        )
        if self.objective == "classification":
            return HistGradientBoostingClassifier(**params)
        if self.objective == "regression":
            return HistGradientBoostingRegressor(**params)
        raise ValueError("objective must be 'regression' or 'classification'")

    def _correction_model(self) -> HistGradientBoostingRegressor:
        """Small on purpose: it corrects the global trees on a quarter of the pairs, it does not replace them."""
        return HistGradientBoostingRegressor(
            max_iter=self.older_max_iter, learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=100,
            l2_regularization=self.l2_regularization, random_state=self.random_state, early_stopping=False,
        )

    def fit(
        self, pairs: PairSet, y: np.ndarray, *, X: np.ndarray | None = None, sample_weight: np.ndarray | None = None
    ) -> PairRanker:
        self.featurizer_ = self.featurizer.fit(pairs) if X is None else self.featurizer
        X = self.featurizer_.transform(pairs) if X is None else X
        y = np.asarray(y, dtype=float)
        target = (y > 0).astype(int) if self.objective == "classification" else y
        self.model_ = self._model().fit(X, target, sample_weight=sample_weight)
        self.feature_names_ = list(self.featurizer_.get_feature_names_out())
        self.older_model_ = None
        self.older_column_ = None
        if self.objective == "regression" and self.older_shrink > 0 and self.older_feature in self.feature_names_:
            col = self.feature_names_.index(self.older_feature)
            older = np.asarray(X[:, col] >= self.older_age)
            if older.sum() >= 2 * self._correction_model().min_samples_leaf:
                residual = y[older] - self._raw(X[older])
                self.older_model_ = self._correction_model().fit(X[older], residual)
                self.older_column_ = col
        return self

    def _raw(self, X: np.ndarray) -> np.ndarray:
        fast = _tree_sum(self.model_, X) if self.objective == "regression" else None
        if fast is not None:
            return fast
        if self.objective == "classification":
            return self.model_.predict_proba(X)[:, 1]
        return self.model_.predict(X)

    def predict_features(self, X: np.ndarray) -> np.ndarray:
        scores = self._raw(X)
        extra = getattr(self, "older_model_", None)  # absent in bundles saved before the correction existed
        if extra is not None and len(scores):
            older = np.flatnonzero(X[:, self.older_column_] >= self.older_age)
            if len(older):
                sub = X[older]
                corr = _tree_sum(extra, sub)
                scores[older] += self.older_shrink * (extra.predict(sub) if corr is None else corr)
        return scores

    def predict(self, pairs: PairSet) -> np.ndarray:
        return self.predict_features(self.featurizer_.transform(pairs))
