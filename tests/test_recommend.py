"""Serving recommendations: feasibility, scopes, profiles, explanations, batches."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender.candidates import check_pairs, to_days
from recommender.errors import NotFoundError
from recommender.service import ProfileError, Recommender


@pytest.fixture(scope="module")
def rec(recommender_service: Recommender) -> Recommender:
    return recommender_service


@pytest.mark.slow
def test_strict_mode_never_recommends_an_infeasible_job(rec: Recommender, sample_store):
    """Every worker of the sample world: open, employer not listed, certificates held, mobility and age respected."""
    workers = sample_store.read_table("workers")["worker_id"].tolist()
    jobs = rec.snapshot.jobs.set_index("job_id")
    listed = set(jobs.index[jobs["wage_arrears_listed"].fillna(False).astype(bool)])
    pool = rec.world.job_pool
    day = int(to_days(pd.Timestamp(rec.default_as_of()))[0])
    checked = 0
    for result in rec.recommend_batch(workers, k=10, scope="all"):
        assert not isinstance(result, Exception), result
        if not result.items:
            continue
        w = rec._worker(result.worker_id)
        idx = rec.world.jobs.index_of([i.item_id for i in result.items])
        f = check_pairs(w.view, pool, np.zeros(len(idx), dtype=np.int64), idx, day)
        assert f.open.all() and not f.arrears.any() and f.mobility_ok.all()
        assert (f.missing_certs == 0).all() and f.age_ok.all()
        assert not ({i.item_id for i in result.items} & listed)
        checked += len(idx)
    assert checked > 1000


def test_balanced_holds_local_and_away_when_both_are_feasible(rec: Recommender, sample_store):
    workers = sample_store.read_table("workers")
    anywhere = workers.loc[workers["mobility"] == "anywhere", "worker_id"].tolist()[:150]
    both = 0
    for wid in anywhere:
        everything = rec.recommend_jobs(wid, k=200, scope="all")
        scopes = {i.scope for i in everything.items}
        if "local" in scopes and scopes & {"province", "outbound"}:
            both += 1
            got = {i.scope for i in rec.recommend_jobs(wid, k=10, scope="balanced").items}
            assert "local" in got and got & {"province", "outbound"}, wid
    assert both >= 5


def test_scope_filter_is_respected(rec: Recommender, sample_store):
    wid = sample_store.read_table("workers")["worker_id"].iloc[0]
    for scope in ("local", "province", "outbound"):
        assert all(i.scope == scope for i in rec.recommend_jobs(wid, k=10, scope=scope).items)


def test_inline_profile_equals_the_stored_worker(rec: Recommender, sample_store):
    row = sample_store.read_table("workers").iloc[3]
    profile = {k: (None if pd.isna(v) else v) for k, v in row.items() if k not in ("worker_id", "gender")}
    profile["registered_on"] = None if profile["registered_on"] is None else str(profile["registered_on"].date())
    by_id = rec.recommend_jobs(row["worker_id"], k=10)
    by_profile = rec.recommend_jobs(profile, k=10)
    assert [i.item_id for i in by_id.items] == [i.item_id for i in by_profile.items]


def test_gender_is_never_an_input(rec: Recommender):
    base = {"birth_year": 1975, "home_region": "411625", "skills": "电焊;钢筋绑扎", "expected_wage": 5000}
    a = rec.recommend_jobs({**base, "gender": "F"}, k=10)
    b = rec.recommend_jobs({**base, "gender": "M"}, k=10)
    assert [(i.item_id, i.score) for i in a.items] == [(i.item_id, i.score) for i in b.items]


def test_unknown_worker_and_bad_profile(rec: Recommender):
    with pytest.raises(NotFoundError, match="W-nobody"):
        rec.recommend_jobs("W-nobody")
    with pytest.raises(ProfileError) as err:
        rec.recommend_jobs({"birth_year": 1975, "home_region": "999999"})
    assert any(e.column == "home_region" for e in err.value.errors)


def test_every_item_is_explained_in_both_languages(rec: Recommender, sample_store):
    wid = sample_store.read_table("workers")["worker_id"].iloc[10]
    out = rec.recommend_jobs(wid, k=10, scope="all")
    assert out.model_version == rec.version
    for item in out.items:
        assert item.reasons and all(r.zh and r.en for r in item.reasons)
        assert item.scope in ("local", "province", "outbound")


def test_courses_show_subsidy_cost_and_certificate(rec: Recommender, sample_store):
    workers = sample_store.read_table("workers")["worker_id"].tolist()[:200]
    seen = 0
    for wid in workers:
        for item in rec.recommend_courses(wid, k=3).items:
            seen += 1
            assert item.item_type == "course"
            if item.fee is not None and item.subsidy is not None:
                assert item.own_cost == max(0, item.fee - item.subsidy)
    assert seen > 50


def test_batch_caps_exposure_by_openings(rec: Recommender, sample_store):
    workers = sample_store.read_table("workers")["worker_id"].tolist()[:600]
    shown: dict[str, int] = {}
    for result in rec.recommend_batch(workers, k=10):
        for item in result.items:
            shown[item.item_id] = shown.get(item.item_id, 0) + 1
    openings = rec.snapshot.jobs.set_index("job_id")["openings"].fillna(1)
    cap = rec.policy.exposure_per_opening
    assert shown and all(n <= np.ceil(cap * max(1, openings[j])) for j, n in shown.items())
