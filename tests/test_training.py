"""Training recipe: labels, time split without leakage, feasible negatives, and the learned ranker winning."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender import columns as C
from recommender.candidates import check_pairs
from recommender.snapshot import Snapshot
from recommender.training.jobs import training_pairs
from recommender.training.labels import JOB_GRADES, graded_pairs
from recommender.training.split import LeakageError, choose_split, guard_no_leakage, split_pairs
from recommender.training.world import EncodedWorld, Encoders


def outcomes(rows):
    return pd.DataFrame(rows, columns=["worker_id", "job_id", "outcome", "date"]).assign(date=lambda f: pd.to_datetime(f["date"]))


def test_graded_pairs_keep_the_furthest_outcome_and_the_first_day():
    g = graded_pairs(
        outcomes([("w", "j", "referred", "2024-01-01"), ("w", "j", "hired", "2024-01-20"), ("w", "k", "applied", "2024-02-01")]),
        "job_id",
        JOB_GRADES,
    ).set_index(C.ITEM)
    assert g.loc["j", C.RELEVANCE] == 2 and g.loc["j", "first_date"] == pd.Timestamp("2024-01-01")
    assert g.loc["k", C.RELEVANCE] == 1


def test_time_split_puts_each_pair_on_one_side():
    days = pd.date_range("2024-01-01", periods=400, freq="D")
    pairs = pd.DataFrame({C.WORKER: [f"w{i % 50}" for i in range(400)], C.ITEM: [f"j{i}" for i in range(400)],
                          C.RELEVANCE: 1, "first_date": days, "last_date": days})
    split = choose_split(pairs, test_days=90)
    train, test = split_pairs(pairs, split)
    assert train["first_date"].max() < split.cutoff <= test["first_date"].min()
    assert len(train) + len(test) == len(pairs)
    guard_no_leakage(train, test)
    with pytest.raises(LeakageError, match="both the training and the test set"):
        guard_no_leakage(train, pd.concat([test, train.head(1)]))


@pytest.fixture(scope="module")
def world(sample_store) -> EncodedWorld:
    return EncodedWorld.build(Snapshot.from_store(sample_store), Encoders.fit())


def test_sampled_negatives_are_feasible_open_jobs_not_acted_on(world):
    graded = graded_pairs(world.snapshot.placements, "job_id", JOB_GRADES)
    tp = training_pairs(world, graded, negatives=5, seed=1)
    n_real = len(graded)
    neg_w, neg_j, neg_d = tp.pairs.w[n_real:], tp.pairs.i[n_real:], tp.day[n_real:]
    assert len(neg_w) > n_real  # several per query
    assert (tp.y[n_real:] == 0).all()
    assert check_pairs(world.worker_view, world.job_pool, neg_w, neg_j, neg_d).feasible("strict").all()
    seen = set(zip(tp.pairs.w[:n_real].tolist(), tp.pairs.i[:n_real].tolist()))
    assert not seen & set(zip(neg_w.tolist(), neg_j.tolist()))


@pytest.mark.slow
def test_learned_ranker_beats_every_baseline_on_the_sample_world(sample_store):
    from recommender.training.pipeline import TrainConfig, evaluate_snapshot

    cfg = TrainConfig(negatives=6, eval_max_queries=600, policy_weights=(0.0,))
    evaluation = evaluate_snapshot(Snapshot.from_store(sample_store), cfg)
    table = evaluation.jobs.set_index(["segment", "method"])["ndcg@10"]
    learned = table.loc[("all", "learned")]
    for method in ("random", "popularity", "content", "als"):
        assert learned > table.loc[("all", method)], (method, table.loc["all"])
    assert (evaluation.jobs["infeasible"] == 0).all()
    assert set(evaluation.jobs["segment"]) >= {"all", "age under 30", "age 30-49", "age 50+", "cold start", "warm"}
    assert np.isfinite(evaluation.tradeoff["ndcg@10 50+"]).all()


class _Columns:
    """A stand-in featuriser for PairRanker fitted on a ready matrix: only the column names are read."""

    def __init__(self, names: list[str]) -> None:
        self.names = names

    def get_feature_names_out(self) -> list[str]:
        return self.names


def _older_data(n: int = 6000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Grades that fall with distance, twice as steeply for workers 50+ (an interaction a small forest underfits)."""
    rng = np.random.default_rng(seed)
    age = rng.uniform(20, 65, n)
    dist = rng.uniform(0, 5, n)
    noise = rng.normal(0, 0.3, (n, 3))
    X = np.column_stack([age, dist, noise]).astype(np.float32)
    y = 2.0 - dist * np.where(age >= 50, 0.6, 0.3) + rng.normal(0, 0.2, n)
    return X, y


def test_tree_sum_is_the_forest_prediction_bit_for_bit():
    from sklearn.ensemble import HistGradientBoostingRegressor

    from recommender.ranking import _tree_sum

    X, y = _older_data(3000)
    X[::7, 2] = np.nan  # missing values take the trees' learned side
    model = HistGradientBoostingRegressor(max_iter=20, early_stopping=False, random_state=0).fit(X, y)
    fast = _tree_sum(model, X[:300])
    assert fast is not None and np.array_equal(fast, model.predict(X[:300]))
    assert _tree_sum(model, X[:300, :2]) is None  # wrong width: the caller falls back to sklearn (which raises)


def test_older_worker_correction_learns_older_workers_and_leaves_the_rest_alone():
    from recommender.ranking import PairRanker

    X, y = _older_data()
    names = ["age", "distance", "a", "b", "c"]
    kw = dict(max_iter=5, learning_rate=0.1, max_leaf_nodes=4)  # deliberately too small to fit the interaction
    plain = PairRanker(_Columns(names), **kw).fit(None, y, X=X)
    corrected = PairRanker(_Columns(names), older_shrink=0.8, **kw).fit(None, y, X=X)
    Xt, yt = _older_data(seed=1)
    old = Xt[:, 0] >= 50
    p0, p1 = plain.predict_features(Xt), corrected.predict_features(Xt)
    assert np.array_equal(p0[~old], p1[~old])  # nobody under the age threshold is touched
    mse = lambda p: float(np.mean((p[old] - yt[old]) ** 2))  # noqa: E731
    assert mse(p1) < 0.9 * mse(p0)
    assert PairRanker(_Columns(names), older_shrink=0.0, **kw).fit(None, y, X=X).older_model_ is None


def test_fit_job_model_sets_the_older_worker_correction_from_the_weight(world):
    from recommender.training.jobs import fit_job_model, older_shrink

    graded = graded_pairs(world.snapshot.placements, "job_id", JOB_GRADES)
    tp = training_pairs(world, graded, negatives=2, seed=0)
    keep = np.random.default_rng(0).choice(len(tp.y), min(len(tp.y), 4000), replace=False)
    tp.pairs.w, tp.pairs.i, tp.y, tp.scope, tp.day = tp.pairs.w[keep], tp.pairs.i[keep], tp.y[keep], tp.scope[keep], tp.day[keep]
    tp.pairs.as_of = tp.pairs.as_of[keep] if tp.pairs.as_of.ndim else tp.pairs.as_of
    assert older_shrink(0) == 0 and older_shrink(1.0) == 0.5 and older_shrink(4.0) == 0.8
    model = fit_job_model(tp, older_weight=1.0)
    assert model.ranker.older_shrink == 0.5 and model.ranker.older_model_ is not None
    off = fit_job_model(tp)
    assert off.ranker.older_model_ is None
    # the correction only adds to older workers' scores: the global trees are the same fit
    X = model.ranker.featurizer_.transform(tp.pairs)
    young = X[:, model.ranker.feature_names_.index("age")] < 50
    np.testing.assert_array_equal(model.ranker.predict_features(X)[young], off.ranker.predict_features(X)[young])
    # the trade-off curve derives every weight from one fit: the same scores as a refit at that weight
    from recommender.training.jobs import at_older_weight

    refit = fit_job_model(tp, older_weight=4.0)
    np.testing.assert_array_equal(at_older_weight(model, 4.0).ranker.predict_features(X), refit.ranker.predict_features(X))
    np.testing.assert_array_equal(at_older_weight(model, 0.0).ranker.predict_features(X), off.ranker.predict_features(X))
    assert model.ranker.older_shrink == 0.5  # the original is left as it was
