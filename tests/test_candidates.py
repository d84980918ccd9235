"""Feasibility: open, employer not listed, mobility, certificates, age policy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recommender.candidates import JobPool, WorkerView, candidates_for, check_pairs, to_days

# certificate vocabulary: 0 welding, 1 forklift, 2 electrician
JOBS = pd.DataFrame(
    {
        "job_id": ["J_local", "J_prov", "J_out", "J_closed", "J_arrears", "J_weld", "J_old", "J_elec"],
        "region": ["510107", "510703", "440305", "510107", "510107", "510107", "510107", "510107"],
        "posted_on": pd.to_datetime(["2024-01-01"] * 8),
        "closes_on": pd.to_datetime([None, None, None, "2024-02-01", None, None, None, None]),
        "wage_arrears_listed": [False, False, False, False, True, False, False, False],
        "age_min": [None, None, None, None, None, None, 18, None],
        "age_max": [None, None, None, None, None, None, 45, None],
    }
)
REQUIRED = sp.csr_matrix(np.array([[0, 0, 0]] * 5 + [[1, 0, 0], [0, 0, 0], [0, 0, 1]], dtype=np.float32))
WORKERS = pd.DataFrame(
    {
        "worker_id": ["anywhere", "local", "province", "welder"],
        "home_region": ["510107"] * 4,
        "current_region": [None] * 4,
        "mobility": ["anywhere", "local", "province", None],
        "birth_year": [1970, 1990, 1990, 1990],
    }
)
HELD = sp.csr_matrix(np.array([[0, 0, 0], [0, 0, 0], [0, 0, 0], [1, 0, 0]], dtype=np.float32))
DAY = int(to_days(pd.Timestamp("2024-06-01"))[0])


@pytest.fixture()
def pool():
    return JobPool.build(JOBS, REQUIRED), WorkerView.build(WORKERS, HELD)


def ids(pool, idx):
    return set(pool.ids[idx])


def test_strict_feasibility_per_worker(pool):
    jobs, workers = pool
    idx, f, _ = candidates_for(workers, jobs, 0, DAY)
    # 54-year-old, anywhere: not the closed, listed, certificate or age-limited jobs
    assert ids(jobs, idx) == {"J_local", "J_prov", "J_out"}
    assert ids(jobs, candidates_for(workers, jobs, 1, DAY)[0]) == {"J_local", "J_old"}
    assert ids(jobs, candidates_for(workers, jobs, 2, DAY)[0]) == {"J_local", "J_prov", "J_old"}
    assert ids(jobs, candidates_for(workers, jobs, 3, DAY)[0]) == {"J_local", "J_prov", "J_out", "J_weld", "J_old"}


def test_flag_policy_keeps_age_limited_jobs_marked(pool):
    jobs, workers = pool
    idx, f, _ = candidates_for(workers, jobs, 0, DAY, age_policy="flag")
    assert "J_old" in ids(jobs, idx)
    flagged = set(jobs.ids[idx][f.above_age])
    assert flagged == {"J_old"}


def test_course_reachable_jobs_are_kept_aside(pool):
    jobs, workers = pool
    awardable = np.array([True, False, False])  # a course awards the welding certificate only
    _, _, reach = candidates_for(workers, jobs, 0, DAY, awardable=awardable)
    assert ids(jobs, reach) == {"J_weld"}


def test_pairwise_equals_single_worker_path(pool):
    jobs, workers = pool
    w = np.repeat(np.arange(len(workers)), len(jobs))
    j = np.tile(np.arange(len(jobs)), len(workers))
    f = check_pairs(workers, jobs, w, j, DAY)
    feasible = f.feasible("strict")
    for k in range(len(workers)):
        single = candidates_for(workers, jobs, k, DAY)[0]
        assert set(j[(w == k) & feasible]) == set(single)


def test_unknown_age_policy_is_an_error(pool):
    jobs, workers = pool
    with pytest.raises(ValueError, match="age_policy"):
        candidates_for(workers, jobs, 0, DAY, age_policy="lenient")
