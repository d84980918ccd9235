"""The serving fast paths give exactly what the general code gives.

One worker against the day's open jobs (cached per day), the pre-score's
column gathers, per-region distances and the array form of the policy layer
are compared with the general functions, element for element.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender.candidates import _subset, candidates_for, check_pairs, to_days
from recommender.features import PairSet
from recommender.policy import PolicyConfig, rerank, rerank_arrays
from recommender.ranking import _column_sums, _haversine
from recommender.service import Recommender


@pytest.fixture(scope="module")
def rec(recommender_service: Recommender) -> Recommender:
    return recommender_service


@pytest.fixture(scope="module")
def workers(rec: Recommender, sample_store):  # type: ignore[no-untyped-def]
    ids = sample_store.read_table("workers")["worker_id"].tolist()[:120]
    return [rec._worker(w) for w in ids]


def _reference(w, pool, day, policy, awardable):  # type: ignore[no-untyped-def]
    open_idx = np.flatnonzero(pool.open_on(day) & ~pool.arrears)
    f = check_pairs(w.view, pool, np.zeros(len(open_idx), dtype=np.int64), open_idx, day, awardable=awardable)
    keep = f.feasible(policy)
    return open_idx[keep], _subset(f, keep), open_idx[f.course_reachable & f.mobility_ok]


@pytest.mark.parametrize("policy", ["strict", "flag"])
def test_one_worker_candidates_match_check_pairs(rec: Recommender, workers, policy: str) -> None:
    pool = rec.world.job_pool
    last = int(to_days(pd.Timestamp(rec.default_as_of()))[0])
    for day in (last, last - 45, last - 200):
        for awardable in (None, rec.world.awardable):
            for w in workers:
                got = candidates_for(w.view, pool, 0, day, age_policy=policy, awardable=awardable)
                want = _reference(w, pool, day, policy, awardable)
                np.testing.assert_array_equal(got[0], want[0])
                np.testing.assert_array_equal(got[2], want[2])
                for name in want[1].__dataclass_fields__:
                    a, b = getattr(got[1], name), getattr(want[1], name)
                    assert a.dtype == b.dtype, name
                    np.testing.assert_array_equal(a, b, err_msg=name)


def test_prescore_sums_and_distances_are_bit_identical(rec: Recommender, workers) -> None:
    J = rec.world.jobs
    idf = rec.bundle.jobs.prescorer.idf_
    from recommender.features._pairs import region_groups

    _, inverse, ulat, ulon = region_groups(J)
    for w in workers:
        W = w.block
        w_dense = np.asarray(W.skills[0].todense()).ravel()
        for name, x in (("skills", w_dense * idf), ("skills", w_dense),
                        ("occupations", np.asarray(W.occupations[0].todense()).ravel())):
            want = np.asarray(getattr(J, name) @ x).ravel()
            got = _column_sums(J, name, x)
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
        lat, lon = W.num["lat"][0], W.num["lon"][0]
        np.testing.assert_array_equal(_haversine(lat, lon, ulat, ulon)[inverse], _haversine(lat, lon, J.num["lat"], J.num["lon"]))


def test_prescore_one_worker_path_matches_general_ranking(rec: Recommender, workers) -> None:
    """The one-worker pre-score keeps the same order as the many-pairs formulas (up to rounding)."""
    pool, J = rec.world.job_pool, rec.world.jobs
    day = int(to_days(pd.Timestamp(rec.default_as_of()))[0])
    as_of = np.datetime64("1970-01-01", "D") + np.timedelta64(day, "D")
    for w in workers[:30]:
        cand, feas, _ = candidates_for(w.view, pool, 0, day)
        if len(cand) < 2:
            continue
        one = PairSet.one_to_many(w.block, J, as_of, items_idx=cand)
        many = PairSet(w.block.take([0, 0]), J, np.arange(len(cand)) % 2, cand, as_of)  # two copies: the general path
        a = rec.bundle.jobs.prescorer.features(one, feas.scope)
        b = rec.bundle.jobs.prescorer.features(many, feas.scope)
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_rerank_arrays_equals_rerank_frame() -> None:
    rng = np.random.default_rng(3)
    for trial in range(200):
        n = int(rng.integers(0, 60))
        frame = pd.DataFrame(
            {
                "item_id": [f"J{i}" for i in range(n)],
                "score": np.round(rng.random(n), 2),  # ties on purpose
                "scope": rng.choice(["local", "province", "outbound"], n),
                "employer_id": rng.choice(np.array(["E1", "E2", "E3", None, np.nan], dtype=object), n),
                "occupation": rng.choice(np.array(["O1", "O2", None], dtype=object), n),
                "age_friendly": rng.random(n) < 0.5,
                "public_welfare": rng.random(n) < 0.2,
            }
        )
        k = int(rng.integers(1, 15))
        scope = str(rng.choice(["all", "balanced", "local", "province", "outbound"]))
        age = float(rng.choice([30, 55]))
        cfg = PolicyConfig(older_worker_weight=float(rng.choice([0, 1, 2])))
        blocked = {"J1", "J5"} if trial % 3 == 0 else None
        want = rerank(frame, age=age, k=k, scope=scope, cfg=cfg, blocked=blocked)
        got = rerank_arrays(
            frame["score"].to_numpy(), frame["scope"].to_numpy(), frame["item_id"].to_numpy(), age=age, k=k,
            scope_request=scope, cfg=cfg, blocked=blocked, employer=frame["employer_id"].to_numpy(),
            occupation=frame["occupation"].to_numpy(), age_friendly=frame["age_friendly"].to_numpy(),
            public_welfare=frame["public_welfare"].to_numpy(),
        )
        assert frame["item_id"].to_numpy()[got.positions].tolist() == want["item_id"].tolist()
        np.testing.assert_array_equal(got.final_score[got.positions], want["final_score"].to_numpy())
        np.testing.assert_array_equal(got.policy_boost[got.positions], want["policy_boost"].to_numpy())
