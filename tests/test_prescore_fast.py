"""The pre-score's serving path gives what ``features(...) @ coef_ + intercept_`` gives.

``PreScorer.score_one`` (and ``score`` on one worker's pairs) sums per-item, per-place and
sparse terms instead of building the eight feature columns; here it is compared with the
features on every sample worker and on inline profiles chosen for the edge cases (unknown
expected wage, no skills, no occupation; the sample jobs include some without a wage), the
kept top-N with the full stable sort, and the served recommendations with those of the
reference pre-score.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from recommender.candidates import candidates_for, to_days
from recommender.features import PairSet
from recommender.ranking import PreScorer, top_n
from recommender.service import Recommender

EPOCH = np.datetime64("1970-01-01", "D")
PROFILES: list[dict] = [
    {"birth_year": 1968, "home_region": "河南省周口市郸城县", "skills": "电焊;会开叉车", "expected_wage": 5000},
    {"birth_year": 1970, "home_region": "成都市武侯区", "skills": "电悍;二宝焊;叉车司几;开挖掘机"},  # no expected wage
    {"birth_year": 1975, "home_region": "510107"},  # no skills, no occupation, no wage
    {"birth_year": 1975, "home_region": "510107", "skills": "", "expected_wage": 3000},
    {"birth_year": 1990, "home_region": "510107", "current_region": "440305", "skills": "zzzz;qqq 不知道", "mobility": "local"},
    {"birth_year": 1960, "home_region": "411625", "skills": ["保洁", "做饭"], "expected_wage": 2500},
    {"birth_year": 1985, "home_region": "440301", "skills": "电工", "expected_wage": 12000, "mobility": "province"},
    {"birth_year": 1980, "home_region": "510107", "skills": "电焊", "expected_wage": 1},
]


@pytest.fixture(scope="module")
def rec(recommender_service: Recommender) -> Recommender:
    return recommender_service


@pytest.fixture(scope="module")
def day(rec: Recommender) -> int:
    return int(to_days(pd.Timestamp(rec.default_as_of()))[0])


@pytest.fixture(scope="module")
def workers(rec: Recommender) -> list:
    ids = rec.snapshot.workers["worker_id"].tolist()
    return [rec._worker(w) for w in ids] + [rec._worker(p) for p in PROFILES]


def _reference(pre: PreScorer, W, J, idx: np.ndarray, scope: np.ndarray, worker: int = 0) -> np.ndarray:
    pairs = PairSet.one_to_many(W, J, EPOCH, worker=worker, items_idx=idx)
    return pre.features(pairs, scope) @ pre.coef_ + pre.intercept_


def _close(got: np.ndarray, want: np.ndarray) -> None:
    assert got.shape == want.shape and got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_fast_prescore_matches_features(rec: Recommender, workers, day: int) -> None:
    pre, J, pool = rec.bundle.jobs.prescorer, rec.world.jobs, rec.world.job_pool
    assert np.isnan(J.num["wage_mid"]).any() and (~np.isnan(J.num["wage_mid"])).any()  # jobs with and without a wage
    seen = {"no wage": 0, "no skills": 0, "no occupation": 0, "all": 0}
    everything = np.arange(len(J))
    for w in workers:
        W = w.block
        seen["all"] += 1
        seen["no wage"] += bool(np.isnan(W.num["expected_wage"][0]))
        seen["no skills"] += W.skills[0].nnz == 0
        seen["no occupation"] += W.occupations[0].nnz == 0
        cand, feas, _ = candidates_for(w.view, pool, 0, day, age_policy="flag")
        _close(pre.score_one(W, J, cand, feas.scope), _reference(pre, W, J, cand, feas.scope))
        # every job, shuffled and repeated, every scope code; and the PairSet entry point
        rng = np.random.default_rng(len(cand))
        idx = rng.permutation(np.concatenate([everything, everything[:7]]))
        scope = rng.integers(0, 3, len(idx)).astype(np.int8)
        want = _reference(pre, W, J, idx, scope)
        _close(pre.score_one(W, J, idx, scope), want)
        _close(pre.score(PairSet.one_to_many(W, J, EPOCH, items_idx=idx), scope), want)
    assert min(seen.values()) >= 2, seen


def test_fast_prescore_on_a_many_worker_block(rec: Recommender, day: int) -> None:
    """Offline evaluation scores row ``w`` of the whole workers block; the other rows must not leak in."""
    pre, J = rec.bundle.jobs.prescorer, rec.world.jobs
    frame = rec.snapshot.workers_as_of(None)
    block = rec.bundle.encoders.workers.transform(frame)
    idx = np.arange(len(J))
    scope = np.random.default_rng(0).integers(0, 3, len(idx)).astype(np.int8)
    for row in range(0, len(block), 97):
        want = _reference(pre, block, J, idx, scope, worker=row)
        _close(pre.score_one(block, J, idx, scope, worker=row), want)
        _close(pre.score(PairSet.one_to_many(block, J, EPOCH, worker=row, items_idx=idx), scope), want)


def test_fallbacks_and_other_coefficients(rec: Recommender, workers) -> None:
    """Expected wages outside the fast path's range, other scope codes, empty candidates, and a second
    model on the same jobs block (the per-item tables are cached per coefficients)."""
    pre, J = rec.bundle.jobs.prescorer, rec.world.jobs
    idx = np.arange(len(J))
    scope = np.random.default_rng(1).integers(0, 3, len(idx)).astype(np.int8)
    W = next(w.block for w in workers if w.block.skills[0].nnz and w.block.occupations[0].nnz).take([0])
    for e in (0.0, -2000.0, np.inf, 1e-40, 4000.0, np.nan):
        W.num["expected_wage"] = np.array([e], dtype=np.float32)
        _close(pre.score_one(W, J, idx, scope), _reference(pre, W, J, idx, scope))
    for other in (np.where(scope == 2, 7, scope).astype(np.int16), scope == 1, scope.astype(np.uint8)):
        _close(pre.score_one(W, J, idx, other), _reference(pre, W, J, idx, other))
    assert pre.score_one(W, J, idx[:0], scope[:0]).shape == (0,)
    second = copy.deepcopy(pre)
    second.coef_ = pre.coef_ * np.linspace(0.5, 1.5, len(pre.coef_))[::-1]
    second.intercept_ = pre.intercept_ - 0.25
    _close(second.score_one(W, J, idx, scope), _reference(second, W, J, idx, scope))
    _close(pre.score_one(W, J, idx, scope), _reference(pre, W, J, idx, scope))


def test_top_n_is_the_stable_sort_prefix() -> None:
    rng = np.random.default_rng(5)
    for trial in range(400):
        m = int(rng.choice([0, 1, 5, 50, 300, 1201, 5000, 30000]))
        n = int(rng.choice([1, 10, 100, 300]))
        kind = trial % 4
        x = rng.standard_normal(m)
        if kind == 1:
            x = np.round(x, 1)  # many ties
        elif kind == 2:
            x[rng.random(m) < 0.5] = np.nan
        elif kind == 3:
            x = np.sort(x)  # scores ordered like the items: a strided sample is not representative
        want = np.argsort(-x, kind="stable")[:n]
        np.testing.assert_array_equal(top_n(x, n), want)
    np.testing.assert_array_equal(top_n(np.zeros(10000), 30), np.arange(30))
    np.testing.assert_array_equal(top_n(np.full(10000, np.nan), 30), np.arange(30))


def test_kept_candidates_as_with_the_reference(rec: Recommender, workers, day: int) -> None:
    pre, J, pool = rec.bundle.jobs.prescorer, rec.world.jobs, rec.world.job_pool
    for w in workers:
        cand, feas, _ = candidates_for(w.view, pool, 0, day)
        if not len(cand):
            continue
        fast = pre.score_one(w.block, J, cand, feas.scope)
        want = _reference(pre, w.block, J, cand, feas.scope)
        for n in (10, 30, 300):
            got, ref = top_n(fast, n), np.argsort(-want, kind="stable")[:n]
            if not np.array_equal(got, ref):  # only where the reference has (near-)ties
                np.testing.assert_allclose(want[got], want[ref], rtol=1e-9, atol=1e-12)


def _reference_rank(pre_scorer: PreScorer):  # type: ignore[no-untyped-def]
    def score_one(W, J, idx, scope, *, worker=0):  # type: ignore[no-untyped-def]
        return _reference(pre_scorer, W, J, np.asarray(idx), scope, worker)

    return score_one


@pytest.mark.parametrize("max_candidates", [300, 30])
def test_recommendations_unchanged(rec: Recommender, monkeypatch: pytest.MonkeyPatch, max_candidates: int) -> None:
    """``recommend_jobs`` with the fast pre-score and ``top_n`` equals it with the features and a full sort."""
    settings = rec.settings.model_copy(update={"max_candidates": max_candidates})
    r = Recommender(rec.bundle, rec.manifest, rec.snapshot, store=None, settings=settings)
    wids = r.snapshot.workers["worker_id"].tolist()[::7]

    def run() -> list[dict]:
        out = [r.recommend_jobs(w, k=10, scope=s).model_dump() for w in wids for s in ("all", "balanced", "local")]
        out += [r.recommend_jobs(p, k=10, age_policy="flag").model_dump() for p in PROFILES]
        return out

    fast = run()
    pre = copy.copy(r.bundle.jobs.prescorer)
    monkeypatch.setattr(pre, "score_one", _reference_rank(pre))
    monkeypatch.setattr(r.bundle.jobs, "prescorer", pre)
    monkeypatch.setattr("recommender.service.top_n", lambda s, n: np.argsort(-s, kind="stable")[:n])
    slow = run()
    assert sum(len(o["items"]) for o in fast) > 0
    assert fast == slow
