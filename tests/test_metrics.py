"""Ranking metrics against a plain-Python reference and at their limits."""

from __future__ import annotations

import math

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.evaluation.metrics import catalogue_coverage, per_worker_metrics


def ref_metrics(ranked: list[str], rel: dict[str, int], k: int) -> tuple[float, float, float]:
    rel = {i: r for i, r in rel.items() if r > 0}
    dcg = sum((2**rel.get(item, 0) - 1) / math.log2(pos + 2) for pos, item in enumerate(ranked[:k]))
    ideal = sorted(rel.values(), reverse=True)[:k]
    idcg = sum((2**r - 1) / math.log2(pos + 2) for pos, r in enumerate(ideal))
    hits = [item for item in ranked[:k] if item in rel]
    recall = len(hits) / min(len(rel), k)
    mrr = next((1 / (pos + 1) for pos, item in enumerate(ranked[:k]) if item in rel), 0.0)
    return dcg / idcg, recall, mrr


def frames(ranked: dict[str, list[str]], rel: dict[str, dict[str, int]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    recs = pd.DataFrame(
        [(w, item, pos + 1) for w, items in ranked.items() for pos, item in enumerate(items)],
        columns=["worker_id", "item_id", "rank"],
    )
    truth = pd.DataFrame(
        [(w, item, r) for w, d in rel.items() for item, r in d.items()], columns=["worker_id", "item_id", "relevance"]
    )
    return recs, truth


def test_perfect_ranking_scores_one():
    recs, truth = frames({"a": ["x", "y", "z"]}, {"a": {"x": 3, "y": 1}})
    m = per_worker_metrics(recs, truth, k=10).iloc[0]
    assert m.ndcg == 1.0 and m.recall == 1.0 and m.mrr == 1.0


def test_no_hit_scores_zero_and_missing_recs_count_as_zero():
    recs, truth = frames({"a": ["q", "r"]}, {"a": {"x": 1}, "b": {"y": 2}})
    m = per_worker_metrics(recs, truth, k=10).set_index("worker_id")
    assert set(m.index) == {"a", "b"}
    assert (m[["ndcg", "recall", "mrr"]] == 0).all().all()


def test_workers_without_relevant_items_are_not_evaluated():
    recs, truth = frames({"a": ["x"]}, {"a": {"x": 0}})
    assert per_worker_metrics(recs, truth).empty


items = st.sampled_from([f"i{n}" for n in range(12)])


@settings(max_examples=200, deadline=None)
@given(
    ranked=st.lists(items, min_size=0, max_size=12, unique=True),
    rel=st.dictionaries(items, st.integers(0, 4), min_size=1, max_size=8),
    k=st.integers(1, 12),
)
def test_matches_plain_python_reference(ranked, rel, k):
    if not any(r > 0 for r in rel.values()):
        return
    recs, truth = frames({"w": ranked}, {"w": rel})
    got = per_worker_metrics(recs, truth, k=k).iloc[0]
    want = ref_metrics(ranked, rel, k)
    assert math.isclose(got.ndcg, want[0], abs_tol=1e-9)
    assert math.isclose(got.recall, want[1], abs_tol=1e-9)
    assert math.isclose(got.mrr, want[2], abs_tol=1e-9)


def test_coverage():
    recs, _ = frames({"a": ["x", "y"], "b": ["x", "z"]}, {})
    assert catalogue_coverage(recs, 10) == 0.3
    assert catalogue_coverage(recs, 0) == 0.0
