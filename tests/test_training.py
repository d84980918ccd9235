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
