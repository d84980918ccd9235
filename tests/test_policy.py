"""Policy re-ranking: older-worker assistance, scope mixes, variety, exposure caps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender.policy import ExposureLedger, PolicyConfig, rerank


def cands(n: int = 30, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "item_id": [f"J{i}" for i in range(n)],
            "score": np.sort(rng.random(n))[::-1],
            "scope": ["outbound"] * (n // 2) + ["province"] * (n // 4) + ["local"] * (n - n // 2 - n // 4),
            "employer_id": [f"E{i % 10}" for i in range(n)],
            "occupation": [f"O{i % 7}" for i in range(n)],
            "age_friendly": [i % 3 == 0 for i in range(n)],
            "public_welfare": [i % 11 == 0 for i in range(n)],
            "openings": [1 + i % 3 for i in range(n)],
        }
    )


def test_scope_filter_keeps_only_that_scope():
    out = rerank(cands(), age=30, k=10, scope="local")
    assert set(out["scope"]) == {"local"}
    with pytest.raises(ValueError):
        rerank(cands(), age=30, k=10, scope="mars")


def test_balanced_holds_local_and_outbound():
    plain = rerank(cands(), age=30, k=10, scope="all")
    assert "local" not in set(plain["scope"])  # the best scores are all outbound here
    out = rerank(cands(), age=30, k=10, scope="balanced")
    assert len(out) == 10
    assert (out["scope"] == "local").sum() >= 3
    assert (out["scope"] == "outbound").sum() >= 1
    assert list(out["rank"]) == list(range(1, 11))
    assert out["final_score"].is_monotonic_decreasing


def test_balanced_with_one_scope_only_still_fills_k():
    c = cands()
    c["scope"] = "outbound"
    assert len(rerank(c, age=30, k=10, scope="balanced")) == 10


def test_older_worker_boost_moves_local_up_only_for_50_plus():
    strong = PolicyConfig(older_worker_weight=16.0)  # up to 4.8 standard deviations of the scores
    young = rerank(cands(), age=35, k=10, cfg=strong)
    old = rerank(cands(), age=55, k=10, cfg=strong)
    assert (young["policy_boost"] == 0).all()
    assert (old["scope"] == "local").sum() > (young["scope"] == "local").sum()
    off = rerank(cands(), age=55, k=10, cfg=PolicyConfig(older_worker_weight=0))
    assert off["item_id"].tolist() == young["item_id"].tolist()


def test_employer_cap_gives_variety_but_never_a_short_list():
    c = cands()
    c["employer_id"] = "E1"
    out = rerank(c, age=30, k=10, cfg=PolicyConfig(max_per_employer=2, max_per_occupation=100))
    assert len(out) == 10
    c["employer_id"] = [f"E{i // 5}" for i in range(len(c))]
    out = rerank(c, age=30, k=6, cfg=PolicyConfig(max_per_employer=2, max_per_occupation=100))
    assert out["employer_id"].value_counts().max() <= 2


def test_exposure_ledger_caps_a_job_across_a_batch():
    c = cands(n=5)
    ledger = ExposureLedger(PolicyConfig(exposure_per_opening=1.0))
    ledger.register(c)
    shown = []
    for _ in range(20):
        out = rerank(c, age=30, k=1, blocked=ledger.full())
        if out.empty:
            break
        ledger.record(out["item_id"])
        shown.extend(out["item_id"])
    counts = pd.Series(shown).value_counts()
    capacity = dict(zip(c["item_id"], c["openings"]))
    assert all(counts[j] <= capacity[j] for j in counts.index)
    assert len(shown) == sum(capacity.values())


def test_exposure_ledger_full_set_follows_every_record_and_registration():
    """full() is kept up to date (not rebuilt per call): the rule shown >= cap, cap 1 when unregistered."""
    rng = np.random.default_rng(5)
    c = cands(n=30)
    c["openings"] = rng.integers(1, 3, len(c))
    ledger = ExposureLedger(PolicyConfig(exposure_per_opening=1.0))
    ids = c["item_id"].tolist()
    ledger.record(ids[:3])  # shown before being registered: cap 1 until registered
    assert ledger.full() == set(ids[:3])
    ledger.register(c)
    for _ in range(60):
        rule = {i for i, n in ledger.shown.items() if n >= ledger.capacity.get(i, 1)}
        assert ledger.full() == rule
        ledger.record(rng.choice(ids + ["OTHER"], size=int(rng.integers(0, 5))).tolist())
    assert ledger.full() == {i for i, n in ledger.shown.items() if n >= ledger.capacity.get(i, 1)}
