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
_NO_DAY = np.datetime64("1970-01-01", "D")  # pre-score features do not depend on the date
_WAGE_RANGE = (1e-30, 1e30)  # expected wages for which log(wage_mid / e) is finite exactly when wage_mid is finite and > 0


def _haversine(lat1: np.ndarray | float, lon1: np.ndarray | float, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * _EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def _column_entries(csc: sp.csc_matrix, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stored entries of columns ``cols`` of ``csc``, column after column: (rows, values, count per column)."""
    starts, ends = csc.indptr[cols], csc.indptr[cols + 1]
    counts = ends - starts
    total = int(counts.sum())
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    idx = np.repeat(starts, counts) + offsets
    return csc.indices[idx], csc.data[idx], counts


def _few_columns(csc: sp.csc_matrix, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``_column_entries`` by slices (quicker for the handful of columns of one worker's row), rows as intp
    (numpy indexes with them several times; with int32 each indexing converts them first)."""
    if len(cols) > 32:
        rows, data, counts = _column_entries(csc, cols)
        return rows.astype(np.intp, copy=False), data, counts
    bounds = csc.indptr[np.concatenate([cols, cols + 1])].tolist()
    k = len(cols)
    parts = [(a, b) for a, b in zip(bounds[:k], bounds[k:], strict=True)]
    rows = np.concatenate([csc.indices[a:b] for a, b in parts]).astype(np.intp, copy=False)
    data = np.concatenate([csc.data[a:b] for a, b in parts])
    return rows, data, np.array([b - a for a, b in parts], dtype=np.intp)


def _row_dense(m: sp.csr_matrix, row: int) -> np.ndarray:
    """Row ``row`` of a CSR matrix as a dense vector, as ``m[row].todense()`` gives it (duplicates summed)."""
    out = np.zeros(m.shape[1], dtype=m.dtype)
    lo, hi = m.indptr[row], m.indptr[row + 1]
    if hi > lo:
        np.add.at(out, m.indices[lo:hi], m.data[lo:hi])
    return out


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
    cols = np.flatnonzero(x)
    if len(cols) == 0:
        return np.zeros(n_rows, dtype=dtype)
    rows, data, counts = _column_entries(derived_csc(items, name), cols)
    if len(rows) == 0:
        return np.zeros(n_rows, dtype=dtype)
    terms = data.astype(dtype) * np.repeat(x[cols].astype(dtype), counts)
    if dtype == np.float64:
        return np.bincount(rows, weights=terms, minlength=n_rows)
    out = np.zeros(n_rows, dtype=dtype)
    np.add.at(out, rows, terms)
    return out


def top_n(scores: np.ndarray, n: int) -> np.ndarray:
    """``np.argsort(-scores, kind="stable")[:n]``: the ``n`` best, ties in index order, without sorting them all.

    A strided sample of the scores gives a cut that some ``2 n`` of them pass (on
    average); only those are sorted. Whenever fewer than ``n`` pass, the exact
    ``n``-th value is the cut. Every score at least as good as the ``n``-th best
    passes either cut, and the passing ones keep their index order, so the stable
    sort of them starts with exactly the full stable sort's first ``n`` (NaN last
    in both).
    """
    y = -np.asarray(scores, dtype=np.float64)
    m = len(y)
    if n <= 0:
        return np.zeros(0, dtype=np.intp)
    if m <= 4 * n:
        return np.argsort(y, kind="stable")[:n]
    step = max(1, m // 2048)
    sample = y[::step]
    q = min(len(sample) - 1, (2 * n * len(sample)) // m + 8)
    keep = np.flatnonzero(y <= np.partition(sample, q)[q])
    if len(keep) < n:
        keep = np.flatnonzero(y <= np.partition(y, n - 1)[n - 1])
        if len(keep) < n:  # fewer than n scores that are not NaN
            return np.argsort(y, kind="stable")[:n]
    return keep[np.argsort(y[keep], kind="stable")[:n]]


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
        """``features(pairs, scope) @ coef_ + intercept_``; one worker's pairs take :meth:`score_one`'s path."""
        n = len(pairs)
        if n and bool((pairs.w == pairs.w[0]).all()):
            fast = self._score_one(pairs.workers, int(pairs.w[0]), pairs.items, pairs.i, scope)
            if fast is not None:
                return fast
        return self.features(pairs, scope) @ self.coef_ + self.intercept_

    def score_one(self, workers: Any, items: Any, items_idx: np.ndarray, scope: np.ndarray, *, worker: int = 0) -> np.ndarray:
        """The score of worker row ``worker`` against items ``items_idx`` (valid row positions), as
        ``score(PairSet.one_to_many(workers, items, day, worker=worker, items_idx=items_idx), scope)``
        gives it (to ~1e-15: the same terms summed in another order), without building the pairs.

        The linear score splits into parts that cost far less than the eight feature columns:

        - per item, independent of the worker (cached per block and coefficients): the wage term
          ``coef * log(wage_mid) + coef_known`` of items with a positive wage; the worker adds
          ``-coef * log(expected_wage)`` on those items (both vanish when the expected wage is
          unknown: the ratio is then NaN for every item);
        - per distinct item place: distance, and per scope code the scope terms, one small table;
        - skill IDF overlap, cosine and occupation match, non-zero only on the items sharing a
          skill or occupation column with the worker: computed on those entries (the same sums
          as :meth:`features`, float32 where it sums in float32) and scattered.

        Any input this does not cover (no fitted IDF, non-float32 matrices, unsorted indices,
        scope codes outside 0-2, an expected wage that is zero, negative, infinite or extreme)
        goes through :meth:`features`.
        """
        idx = np.asarray(items_idx, dtype=np.intp).ravel()
        fast = self._score_one(workers, int(worker), items, idx, scope)
        if fast is not None:
            return fast
        pairs = PairSet(workers, items, np.full(len(idx), worker, dtype=np.intp), idx, _NO_DAY)
        return self.features(pairs, scope) @ self.coef_ + self.intercept_

    def _serving_tables(self, items: Any) -> tuple[np.ndarray, ...] | None:
        """Per item (cached per block and fitted coefficients): wage term, place group, place-and-wage key,
        skill norm and IDF mass; ``None`` when the block's matrices are not what the fast path assumes."""
        idf = self.idf_
        coef = np.asarray(self.coef_, dtype=np.float64)
        key = ("prescore-serving", coef.tobytes(), float(self.intercept_), idf.tobytes())

        def build() -> tuple[np.ndarray, ...] | None:
            sk, occ = items.skills, items.occupations
            if sk.dtype != np.float32 or occ.dtype != np.float32 or not (sk.has_sorted_indices and occ.has_sorted_indices):
                return None
            wage = np.asarray(items.num["wage_mid"], dtype=np.float64)
            with np.errstate(invalid="ignore"):
                known = np.isfinite(wage) & (wage > 0)  # log(wage / e) is finite, for any e in _WAGE_RANGE
            c_ratio, c_known = coef[PRESCORE_FEATURES.index("log_wage_ratio")], coef[PRESCORE_FEATURES.index("wage_known")]
            wage_term = np.where(known, c_ratio * np.log(np.where(known, wage, 1.0)) + c_known, 0.0)
            _, inverse, _, _ = region_groups(items)
            group = inverse.astype(np.intp)
            jn, j_idf = self._item_stats(items, idf)
            # the skill terms' per-item factors: idf_overlap = overlap / j_idf, cosine = dot / (jn * |w|),
            # both 0 where the item's IDF mass or norm is not positive
            with np.errstate(divide="ignore"):
                per_overlap = np.where(j_idf > 0, coef[0] / np.where(j_idf > 0, j_idf, 1), 0.0)
                per_dot = np.where(jn > 0, coef[1] / np.where(jn > 0, jn, 1).astype(np.float64), 0.0)
            # row offsets into the per-request tables: [place, scope] and [place, wage known, scope]
            return wage_term, group * 3, (group * 2 + known) * 3, per_overlap, per_dot

        return items._cached(key, build)

    def _score_one(self, W: Any, wrow: int, J: Any, idx: np.ndarray, scope: np.ndarray) -> np.ndarray | None:
        if not hasattr(self, "idf_") or W.skills.dtype != np.float32 or W.occupations.dtype != np.float32:
            return None
        n = len(idx)
        sc = np.asarray(scope)
        if sc.shape != (n,) or sc.dtype.kind not in "biu":
            return None
        if n == 0:
            return np.zeros(0)
        if sc.dtype.kind != "b" and (int(sc.min()) < 0 or int(sc.max()) > 2):
            return None
        tables = self._serving_tables(J)
        if tables is None:
            return None
        wage_term, at_place, at_place_wage, per_overlap, per_dot = tables
        coef = np.asarray(self.coef_, dtype=np.float64)
        c = dict(zip(PRESCORE_FEATURES, coef.tolist(), strict=True))
        expected = float(W.num["expected_wage"][wrow])
        if expected != expected:
            shift = None  # unknown: no wage terms on any item
        elif _WAGE_RANGE[0] < expected < _WAGE_RANGE[1]:
            shift = -c["log_wage_ratio"] * float(np.log(expected))
        else:
            return None
        # per distinct place: distance (as features() computes it per region group) and scope
        _, _, ulat, ulon = region_groups(J)
        dist = _haversine(W.num["lat"][wrow], W.num["lon"][wrow], ulat, ulon)
        place = c["log_distance_km"] * np.log1p(np.nan_to_num(dist, nan=500.0)) + float(self.intercept_)
        by_scope = np.array([c["scope_local"], c["scope_province"], 0.0])
        if shift is None:
            table = (place[:, None] + by_scope[None, :]).ravel()
            at = at_place.take(idx)
            at += sc
            out = table.take(at)
        else:
            table = (place[:, None, None] + np.array([0.0, shift])[None, :, None] + by_scope[None, None, :]).ravel()
            at = at_place_wage.take(idx)
            at += sc
            out = table.take(at)
            out += wage_term.take(idx)
        sparse = self._sparse_terms(W, wrow, J, c["occupation_match"], per_overlap, per_dot)
        if sparse is not None:
            out += sparse.take(idx)
        return out

    def _sparse_terms(self, W: Any, wrow: int, J: Any, c_occ: float, per_overlap: np.ndarray, per_dot: np.ndarray) -> np.ndarray | None:
        """Skill overlap, cosine and occupation terms per item (dense over the block, non-zero only on the
        items sharing a column with the worker); ``None`` when there are none.

        The sums are those of :meth:`features` (``_column_sums``): the overlap in float64, the skill dot
        product and the occupation match in float32, each row's terms in ascending column order.
        """
        n_items = len(J)
        out = None
        w_dense = _row_dense(W.skills, wrow)
        cols = np.flatnonzero(w_dense)
        if len(cols):
            rows, data, counts = _few_columns(derived_csc(J, "skills"), cols)
            if len(rows):
                out = np.bincount(rows, weights=data * np.repeat((w_dense * self.idf_)[cols], counts), minlength=n_items)
                dot = np.zeros(n_items, dtype=np.float32)
                np.add.at(dot, rows, data.astype(np.float32) * np.repeat(w_dense[cols], counts))
                wn = float(np.sqrt((w_dense**2).sum()))
                term = out[rows] * per_overlap[rows]
                if wn > 0:
                    term += dot[rows] * per_dot[rows] / wn
                out[rows] = term  # every entry of a row writes the same value (all read before any write)
        w_occ = _row_dense(W.occupations, wrow)
        cols = np.flatnonzero(w_occ)
        if len(cols):
            rows, data, counts = _few_columns(derived_csc(J, "occupations"), cols)
            if len(rows):
                occ = np.zeros(n_items, dtype=np.float32)
                np.add.at(occ, rows, data.astype(np.float32) * np.repeat(w_occ[cols], counts))
                if out is None:
                    out = np.zeros(n_items)
                out[rows] += c_occ * occ[rows].astype(np.float64)  # the same value per entry of a row
        return out


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
