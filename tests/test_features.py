"""Feature pipelines: encoders, pair features, their fast paths and their promises.

The small world below goes through the real import path (CSV -> ingest ->
SQLite store -> read_table), so the encoders see exactly the dtypes they get
in production.
"""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn import config_context
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import estimator_checks as ec

from recommender.features import (
    COURSE_NUM_COLUMNS,
    COURSE_PAIR_FEATURES,
    JOB_NUM_COLUMNS,
    JOB_PAIR_FEATURES,
    WORKER_NUM_COLUMNS,
    CourseEncoder,
    CoursePairFeatures,
    EntityBlock,
    JobEncoder,
    JobPairFeatures,
    LivingCosts,
    PairSet,
    SkillDemand,
    WorkerEncoder,
)
from recommender.ingest import ingest
from recommender.store import Store

AS_OF = "2024-06-01"

WORKERS = """worker_id,birth_year,gender,education,home_region,current_region,skills,certificates,experience_years,expected_wage,mobility,registered_on
W1,1980,M,junior_high,510107,,电焊;二保焊,,10,6000,anywhere,2024-03-18
W2,1968,F,primary,411625,,保洁,,20,3500,local,2024-04-01
W3,1962,F,junior_high,510107,,保洁;做饭,,30,3000,anywhere,
W4,1990,M,senior_high,510107,440305,开叉车,焊工证;A1驾驶证,5,7000,anywhere,
W5,1985,,,510107,,,,,,,
"""

JOBS = """job_id,employer_id,title,skills,certificates,region,wage_min,wage_max,age_min,age_max,education_min,housing,social_insurance,employment_type,openings,posted_on,closes_on
J1,E1,电焊工（二保焊）,电焊,焊工证,440305,6000,8000,18,50,,是,1,full_time,3,2024-05-01,2024-09-01
J2,E2,保洁员,保洁,,510107,3000,3500,,55,,否,0,part_time,1,2024-05-10,
J3,E1,电焊工（二保焊）,电焊,焊工证,440305,6000,8000,18,50,,否,1,full_time,3,2024-05-01,2024-09-01
J4,,急招普工18-45岁包吃住月薪6000-8000,,,441900,,,,,,,,,,2024-05-20,
J5,E1,电焊工,电焊;氩弧焊,焊工证,510112,5000,7000,,,,1,1,full_time,20,2024-05-01,
J6,E1,焊工,电焊,,510104,5500,6500,,,,1,,full_time,10,2024-05-01,
J7,E2,货车司机,货车驾驶,C1驾驶证,510107,6000,9000,,,senior_high,0,1,full_time,2,2024-05-01,
"""

EMPLOYERS = """employer_id,name,industry,wage_arrears_listed
E1,某机械厂,制造业,0
E2,某物业公司,居民服务,false
"""

COURSES = """course_id,title,skills,certificate,region,mode,start_on,duration_days,fee,subsidy,age_min,age_max,seats
C1,焊工（初级）培训班,电焊;氩弧焊,焊工证,510112,in_person,2024-07-01,30,2000,1800,16,55,30
C2,茶艺师培训,茶艺,茶艺师证,510112,in_person,2024-07-01,20,1500,1000,16,60,20
C3,保洁员线上培训,保洁,,440305,online,2024-05-01,5,300,300,,,
"""


@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("world")
    for name, text in (("workers", WORKERS), ("jobs", JOBS), ("employers", EMPLOYERS), ("courses", COURSES)):
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    store = Store(f"sqlite:///{folder / 'store.db'}")
    try:
        report = ingest(folder, store, today=dt.date(2024, 6, 1))
        assert report.rejected == 0, report.to_dict()
        jobs = store.read_table("jobs").merge(
            store.read_table("employers")[["employer_id", "industry", "wage_arrears_listed"]], on="employer_id", how="left"
        )
        return {"workers": store.read_table("workers"), "jobs": jobs, "courses": store.read_table("courses")}
    finally:
        store.dispose()


@pytest.fixture(scope="module")
def encoders() -> dict[str, object]:
    return {"workers": WorkerEncoder().fit(), "jobs": JobEncoder().fit(), "courses": CourseEncoder().fit()}


@pytest.fixture(scope="module")
def blocks(frames, encoders) -> dict[str, EntityBlock]:
    return {k: encoders[k].transform(frames[k]) for k in frames}


def all_pairs(workers: EntityBlock, items: EntityBlock) -> PairSet:
    w, i = np.meshgrid(np.arange(len(workers)), np.arange(len(items)), indexing="ij")
    return PairSet(workers, items, w.ravel(), i.ravel(), AS_OF)


@pytest.fixture(scope="module")
def job_features(blocks) -> JobPairFeatures:
    return JobPairFeatures().fit(all_pairs(blocks["workers"], blocks["jobs"]))


@pytest.fixture(scope="module")
def course_features(blocks) -> CoursePairFeatures:
    return CoursePairFeatures().fit(all_pairs(blocks["workers"], blocks["courses"]), jobs=blocks["jobs"])


def table(featurizer, pairs: PairSet) -> pd.DataFrame:
    """Features as a frame indexed by (worker_id, item_id)."""
    x = featurizer.transform(pairs)
    index = pd.MultiIndex.from_arrays([pairs.workers.ids[pairs.w], pairs.items.ids[pairs.i]])
    return pd.DataFrame(x, columns=featurizer.get_feature_names_out(), index=index)


@pytest.fixture(scope="module")
def jf(blocks, job_features) -> pd.DataFrame:
    return table(job_features, all_pairs(blocks["workers"], blocks["jobs"]))


@pytest.fixture(scope="module")
def cf(blocks, course_features) -> pd.DataFrame:
    return table(course_features, all_pairs(blocks["workers"], blocks["courses"]))


# ----------------------------------------------------------------------------- encoders


@pytest.mark.parametrize(
    ("kind", "columns"), [("workers", WORKER_NUM_COLUMNS), ("jobs", JOB_NUM_COLUMNS), ("courses", COURSE_NUM_COLUMNS)]
)
def test_encoders_give_aligned_blocks_and_names(kind, columns, frames, encoders, blocks):
    block, enc = blocks[kind], encoders[kind]
    n = len(frames[kind])
    assert list(block.ids) == list(frames[kind].iloc[:, 0])
    assert block.skills.shape == (n, len(enc.vocab_.skill_ids))
    assert block.certs.shape == (n, len(enc.vocab_.cert_ids))
    assert block.occupations.shape == (n, len(enc.vocab_.occupation_codes))
    assert tuple(block.num) == columns
    assert all(len(a) == n for a in block.num.values())
    names = enc.get_feature_names_out()
    assert len(names) == block.skills.shape[1] + block.certs.shape[1] + block.occupations.shape[1] + len(columns)
    assert names[0].startswith("skills__") and names[-1] == f"num__{columns[-1]}"
    assert block.skills.data.min() > 0 and block.skills.data.max() <= 1.0


def test_worker_skills_follow_the_taxonomy(blocks, encoders):
    workers, vocab = blocks["workers"], encoders["workers"].vocab_
    s = vocab.skill_index()
    w1 = workers.skills[workers.index_of("W1")].toarray().ravel()
    assert w1[s["co2_welding"]] == 1.0 and w1[s["welding"]] == 1.0
    w4 = workers.index_of("W4")
    w4_skills = workers.skills[w4].toarray().ravel()
    assert 0 < w4_skills[s["welding"]] < 1.0  # attested by 焊工证, not written
    c = vocab.cert_index()
    w4_certs = workers.certs[w4].toarray().ravel()
    assert w4_certs[c["dl_a1"]] == 1.0 and w4_certs[c["dl_c1"]] == 1.0  # A1 covers C1
    occ = vocab.occupation_index()
    assert workers.occupations[workers.index_of("W1"), occ["6-18-02-04"]] == 1.0  # welder from skills


def test_extra_certificates_are_unioned(frames, encoders):
    frame = frames["workers"].copy()
    frame["extra_certificates"] = [None, "健康证", None, None, None]
    block = encoders["workers"].transform(frame)
    c = encoders["workers"].vocab_.cert_index()
    assert block.certs[1, c["health_certificate"]] == 1.0
    assert block.num["n_certs"][1] == 1.0
    assert block.certs[3, c["so_welding"]] == 1.0  # untouched rows keep their own


def test_missing_columns_read_as_unknown(encoders):
    frame = pd.DataFrame({"job_id": ["X"], "title": ["保安 月薪5000"], "region": ["510107"]})
    block = encoders["jobs"].transform(frame)
    assert block.num["wage_min"][0] == 5000 and block.num["parsed_wage"][0] == 1
    assert np.isnan(block.num["posted_on"][0]) and block.num["openings"][0] == 1
    assert block.num["employment_type"][0] == -1
    with pytest.raises(ValueError, match="job_id"):
        encoders["jobs"].transform(frame.drop(columns="job_id"))


def test_jobs_fill_empty_fields_from_text_and_say_so(blocks):
    jobs = blocks["jobs"]
    j4, j1 = jobs.index_of("J4"), jobs.index_of("J1")
    num = jobs.num
    assert (num["age_min"][j4], num["age_max"][j4], num["wage_min"][j4], num["wage_max"][j4]) == (18, 45, 6000, 8000)
    assert num["housing"][j4] == 1 and num["meals"][j4] == 1
    assert num["parsed_wage"][j4] == num["parsed_age"][j4] == num["parsed_housing"][j4] == num["parsed_any"][j4] == 1
    assert num["parsed_any"][j1] == 0  # structured values are never overwritten
    assert num["occupation_from_title"][j4] == 1  # 普工 -> a CSCO group
    j2 = jobs.index_of("J2")
    assert num["wage_mid"][j2] == 3250 and num["housing"][j2] == 0


def test_encoding_reuses_distinct_strings(encoders):
    enc = JobEncoder().fit()
    frame = pd.DataFrame(
        {"job_id": [f"J{k}" for k in range(3000)], "title": ["电焊工", "保洁员", "外卖骑手"] * 1000, "region": ["510107"] * 3000}
    )
    block = enc.transform(frame)
    assert len(enc._titles) == 3 and len(block) == 3000
    assert (block.occupations[0] != block.occupations[3]).nnz == 0


def test_take_and_index_of(blocks):
    jobs = blocks["jobs"]
    sub = jobs.take(jobs.index_of(["J5", "J1"]))
    assert list(sub.ids) == ["J5", "J1"]
    assert sub.num["openings"].tolist() == [20, 3]
    with pytest.raises(LookupError, match="nope"):
        jobs.index_of(["nope"])


# ----------------------------------------------------------------------------- job pairs


def test_welder_fits_welding_better_than_cleaning(jf):
    weld, clean = jf.loc[("W1", "J1")], jf.loc[("W1", "J2")]
    for name in ("skill_overlap_idf", "skill_share", "occupation_match", "occupation_group_match"):
        assert weld[name] > clean[name], name
    assert weld["skills_missing"] == 0 and clean["skills_missing"] == 1
    assert jf.loc[("W2", "J2"), "skill_overlap_idf"] > jf.loc[("W2", "J1"), "skill_overlap_idf"]
    general = jf.loc[("W1", "J4")]  # 普工: only a CSCO major group (production)
    assert general["occupation_match"] == 0 and general["occupation_major_match"] > 0
    assert jf.loc[("W2", "J4"), "occupation_major_match"] == 0  # a cleaner's skills are services


def test_missing_certificates_are_counted(jf):
    assert jf.loc[("W1", "J1"), "certs_missing"] == 1 and jf.loc[("W1", "J1"), "certs_missing_any"] == 1
    assert jf.loc[("W4", "J1"), "certs_missing"] == 0  # holds 焊工证
    assert jf.loc[("W4", "J7"), "certs_missing"] == 0  # A1 licence covers the C1 the job asks for
    assert jf.loc[("W1", "J7"), "certs_missing"] == 1
    assert jf.loc[("W1", "J2"), "certs_missing_any"] == 0  # nothing required


def test_scope_and_distance_for_known_places(jf):
    out = jf.loc[("W1", "J1")]  # 成都武侯 510107 -> 深圳南山 440305
    assert out["scope_outbound"] == 1 and out["scope_local"] == out["scope_province"] == 0
    assert 1250 < out["distance_km"] < 1400 and out["distance_km"] == pytest.approx(out["distance_home_km"])
    home = jf.loc[("W1", "J2")]  # same county
    assert home["scope_local"] == 1 and home["distance_km"] == 0
    assert jf.loc[("W1", "J5"), "scope_province"] == 1  # 龙泉驿 510112, same province
    w4 = jf.loc[("W4", "J1")]  # lives in Shenzhen, hukou in Chengdu
    assert w4["distance_km"] < 20 and w4["distance_home_km"] > 1250 and w4["scope_outbound"] == 1


def test_mobility_against_scope(jf):
    assert jf.loc[("W2", "J1"), "mobility_ok"] == 0 and jf.loc[("W2", "J1"), "mobility_excess"] == 2
    assert jf.loc[("W1", "J1"), "mobility_ok"] == 1
    assert jf.loc[("W5", "J1"), "mobility_ok"] == 1  # mobility defaults to anywhere


def test_age_limits_are_flagged(jf):
    w1 = jf.loc[("W1", "J1")]  # born 1980, 44 in 2024; limits 18-50
    assert w1["age"] == 44 and w1["age_band"] == 2 and w1["age_margin_years"] == 6
    assert w1["age_below_min"] == 0 and w1["age_above_max"] == 0
    w3 = jf.loc[("W3", "J2")]  # born 1962, 62; max 55
    assert w3["age_above_max"] == 1 and w3["age_margin_years"] == -7 and w3["age_band"] == 5
    assert np.isnan(jf.loc[("W1", "J5"), "age_margin_years"])  # no limits posted
    assert jf.loc[("W2", "J4"), "age_above_max"] == 1  # limit parsed from the title


def test_net_income_is_lower_without_housing(jf):
    housed, unhoused = jf.loc[("W1", "J1")], jf.loc[("W1", "J3")]
    assert housed["wage_mid"] == unhoused["wage_mid"] == 7000
    assert unhoused["net_income"] < housed["net_income"] < housed["wage_mid"]
    assert unhoused["living_cost"] - housed["living_cost"] == pytest.approx(LivingCosts().rent[0])
    assert housed["travel_cost"] > 0  # outbound: trips home cost money
    local = jf.loc[("W1", "J2")]
    assert local["travel_cost"] == 0 and local["living_cost"] == pytest.approx(LivingCosts().other[1] * 0.85)  # at home: no rent
    assert housed["wage_to_expected"] == pytest.approx(7000 / 6000)
    assert jf.loc[("W4", "J1"), "wage_shortfall"] == 0 and jf.loc[("W4", "J2"), "wage_shortfall"] == 7000 - 3250


def test_posting_fields(jf):
    row = jf.loc[("W1", "J1")]
    assert row["emp_full_time"] == 1 and row["emp_part_time"] == 0
    assert row["days_since_posted"] == 31 and row["days_to_close"] == 92
    assert row["housing_provided"] == 1 and row["social_insurance"] == 1
    assert row["log_openings"] == pytest.approx(np.log1p(3))
    assert jf.loc[("W1", "J4"), "parsed_from_text"] == 1 and jf.loc[("W1", "J4"), "housing_provided"] == 1
    assert jf.loc[("W1", "J2"), "housing_unknown"] == 0 and jf.loc[("W1", "J4"), "social_insurance_unknown"] == 1
    assert jf.loc[("W1", "J7"), "education_gap"] == -1 and jf.loc[("W1", "J7"), "education_below_min"] == 1
    assert jf.loc[("W4", "J7"), "education_gap"] == 0
    assert np.isnan(jf.loc[("W5", "J1"), "wage_to_expected"])  # no expectation: unknown, not 0


def test_idf_weights_rare_skills_more(job_features, encoders):
    s = encoders["jobs"].vocab_.skill_index()
    idf = job_features.idf_
    assert idf[s["argon_arc_welding"]] > idf[s["welding"]]  # 1 of 7 jobs vs 4 of 7
    assert idf[s["tea_art"]] == idf.max() > idf[s["argon_arc_welding"]]  # asked by no job


def test_gender_is_never_read(frames, encoders, job_features, course_features, blocks):
    changed = frames["workers"].copy()
    changed["gender"] = changed["gender"].map({"M": "F", "F": "M"}).fillna("F")
    variants = [changed, frames["workers"].drop(columns="gender")]
    base_j = job_features.transform(all_pairs(blocks["workers"], blocks["jobs"]))
    base_c = course_features.transform(all_pairs(blocks["workers"], blocks["courses"]))
    for frame in variants:
        w = encoders["workers"].transform(frame)
        for key, arr in blocks["workers"].num.items():
            np.testing.assert_array_equal(w.num[key], arr, err_msg=key)
        np.testing.assert_array_equal(job_features.transform(all_pairs(w, blocks["jobs"])), base_j)
        np.testing.assert_array_equal(course_features.transform(all_pairs(w, blocks["courses"])), base_c)


def test_ids_do_not_change_features(blocks, job_features):
    workers = blocks["workers"]
    renamed = EntityBlock(
        ids=np.array([f"other-{k}" for k in range(len(workers))], dtype=object),
        skills=workers.skills,
        certs=workers.certs,
        occupations=workers.occupations,
        num=workers.num,
        skill_ids=workers.skill_ids,
        cert_ids=workers.cert_ids,
        occupation_codes=workers.occupation_codes,
    )
    np.testing.assert_array_equal(
        job_features.transform(all_pairs(renamed, blocks["jobs"])), job_features.transform(all_pairs(workers, blocks["jobs"]))
    )


# ----------------------------------------------------------------------------- course pairs


def test_course_that_teaches_a_missing_in_demand_skill_wins(cf, course_features):
    cleaner = cf.xs("W3")  # lives in Chengdu, where the welding openings are
    assert cleaner.loc["C1", "gap_demand_current"] > cleaner.loc["C2", "gap_demand_current"]
    assert cleaner.loc["C1", "cert_new_in_demand"] == 1 and cleaner.loc["C2", "cert_new_in_demand"] == 0
    assert cleaner.loc["C1", "cert_new"] == cleaner.loc["C2", "cert_new"] == 1
    welder = cf.xs("W1")
    assert welder.loc["C1", "gap_demand_current"] < cleaner.loc["C1", "gap_demand_current"]
    assert welder.loc["C1", "new_skills"] < cleaner.loc["C1", "new_skills"]
    assert cf.loc[("W4", "C1"), "cert_new"] == 0  # already holds 焊工证
    assert course_features.demand_.provinces_.tolist() == [440000, 510000]


def test_course_cost_eligibility_mode_and_dates(cf):
    c1 = cf.loc[("W1", "C1")]
    assert (c1["fee"], c1["subsidy"], c1["own_cost"], c1["free"]) == (2000, 1800, 200, 0)
    assert c1["own_cost_share"] == pytest.approx(0.1)
    assert c1["days_to_start"] == 30 and c1["started"] == 0 and c1["duration_days"] == 30
    assert c1["scope_province"] == 1 and c1["mode_in_person"] == 1 and c1["travel_distance_km"] == c1["distance_km"] > 0
    assert cf.loc[("W3", "C1"), "age_eligible"] == 0 and cf.loc[("W3", "C1"), "age_above_max"] == 1
    assert cf.loc[("W3", "C2"), "age_eligible"] == 0 and cf.loc[("W1", "C2"), "age_eligible"] == 1
    c3 = cf.loc[("W2", "C3")]  # online, in Shenzhen, far from 411625
    assert c3["mode_online"] == 1 and c3["distance_km"] > 500 and c3["travel_distance_km"] == 0
    assert c3["free"] == 1 and c3["started"] == 1 and c3["age_eligible"] == 1


def test_course_features_without_demand_count_new_skills(blocks):
    pairs = all_pairs(blocks["workers"], blocks["courses"])
    with pytest.warns(UserWarning, match="without skill demand"):
        flat = CoursePairFeatures().fit(pairs)
    x = pd.DataFrame(flat.transform(pairs), columns=flat.get_feature_names_out())
    np.testing.assert_allclose(x["gap_demand_national"], x["gap_demand_current"])
    with pytest.raises(NotFittedError, match="jobs"):
        CoursePairFeatures(demand=SkillDemand()).fit(pairs)


def test_skill_demand(blocks):
    demand = SkillDemand(prior_openings=0.0).fit(blocks["jobs"])
    s = blocks["jobs"].skill_ids.index("welding")
    sichuan = demand.skill_demand(np.array([510107]))[0, s]
    national = demand.skills_[demand.national_row, s]
    assert sichuan == pytest.approx(30 / 33, rel=0.2)  # J5 (20) + J6 (10) of the 33 Sichuan openings
    assert sichuan > national > 0
    np.testing.assert_array_equal(demand.rows(np.array([650102])), [demand.national_row])  # no jobs there
    shrunk = SkillDemand(prior_openings=1e9).fit(blocks["jobs"])
    assert shrunk.skill_demand(np.array([510107]))[0, s] == pytest.approx(shrunk.skills_[shrunk.national_row, s])


# ----------------------------------------------------------------------------- fast path, reference


def test_one_worker_fast_path_equals_general_path(blocks, job_features, course_features):
    workers = blocks["workers"]
    for featurizer, items in ((job_features, blocks["jobs"]), (course_features, blocks["courses"])):
        general = featurizer.transform(all_pairs(workers, items))
        n = len(items)
        for w in range(len(workers)):
            fast = featurizer.transform(PairSet.one_to_many(workers, items, AS_OF, worker=w))
            np.testing.assert_allclose(fast, general[w * n : (w + 1) * n], rtol=1e-6, equal_nan=True)
            subset = np.array([n - 1, 0, 0])
            part = featurizer.transform(PairSet.one_to_many(workers, items, AS_OF, worker=w, items_idx=subset))
            np.testing.assert_allclose(part, general[w * n + subset], rtol=1e-6, equal_nan=True)


def test_per_pair_dates(blocks, job_features):
    pairs = PairSet(blocks["workers"], blocks["jobs"], [0, 0], [0, 0], np.array(["2024-06-01", "2025-06-01"], dtype="datetime64[D]"))
    x = pd.DataFrame(job_features.transform(pairs), columns=job_features.get_feature_names_out())
    assert x["age"].tolist() == [44, 45]
    assert x["days_since_posted"].tolist() == [31, 396]


def test_empty_pairs(blocks, job_features):
    x = job_features.transform(PairSet(blocks["workers"], blocks["jobs"], [], [], AS_OF))
    assert x.shape == (0, len(JOB_PAIR_FEATURES)) and x.dtype == np.float32


def _reference_job_row(workers: EntityBlock, items: EntityBlock, w: int, i: int) -> dict[str, float]:
    """Slow, obviously right: dictionaries and loops over one pair."""
    wsk = dict(zip(workers.skills[w].indices, workers.skills[w].data))
    jsk = set(items.skills[i].indices)
    wct = {c for c, v in zip(workers.certs[w].indices, workers.certs[w].data) if v >= 0.5}
    jct = set(items.certs[i].indices)
    wocc = dict(zip(workers.occupations[w].indices, workers.occupations[w].data))
    jocc = dict(zip(items.occupations[i].indices, items.occupations[i].data))
    return {
        "skill_share": sum(wsk.get(s, 0.0) for s in jsk) / len(jsk) if jsk else 0.0,
        "skills_missing": sum(1 for s in jsk if wsk.get(s, 0.0) < 0.5),
        "certs_missing": len(jct - wct),
        "occupation_match": sum(v * wocc.get(o, 0.0) for o, v in jocc.items()),
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_pair_features_match_a_slow_reference(blocks, job_features, data):
    workers, jobs = blocks["workers"], blocks["jobs"]
    n = data.draw(st.integers(1, 12))
    w = data.draw(st.lists(st.integers(0, len(workers) - 1), min_size=n, max_size=n))
    i = data.draw(st.lists(st.integers(0, len(jobs) - 1), min_size=n, max_size=n))
    x = pd.DataFrame(job_features.transform(PairSet(workers, jobs, w, i, AS_OF)), columns=job_features.get_feature_names_out())
    for row, (ww, ii) in enumerate(zip(w, i)):
        for name, expected in _reference_job_row(workers, jobs, ww, ii).items():
            assert x.loc[row, name] == pytest.approx(expected, rel=1e-5, abs=1e-6), name


# ----------------------------------------------------------------------------- scikit-learn API

ESTIMATORS = [WorkerEncoder(), JobEncoder(), CourseEncoder(), JobPairFeatures(), CoursePairFeatures(), SkillDemand()]

# Our transformers take a DataFrame of free text (encoders), an EntityBlock
# (SkillDemand) or a PairSet (pair features), never a numeric 2-D array; their
# tags say so (input_tags.two_d_array=False), and parametrize_with_checks then
# runs only check_estimator_cloneable and skips the rest with a SkipTestWarning.
# Declared inapplicable, because each feeds random numeric arrays to fit /
# transform: check_fit_score_takes_y, check_estimators_overwrite_params,
# check_dont_overwrite_parameters, check_estimators_fit_returns_self,
# check_readonly_memmap_input, check_estimators_unfitted,
# check_n_features_in_after_fitting (there is no n_features_in_: inputs are not
# matrices), check_positive_only_tag_during_fit, and every legacy data check
# (dtypes, NaN/inf, empty data, pipeline consistency, transformer general...).
# Their intent is covered on our own inputs below (fit returns self, params not
# overwritten, unfitted transform raises, pickling gives identical output).
DATA_FREE_CHECKS = [
    ec.check_estimator_cloneable,
    ec.check_estimator_repr,
    ec.check_estimator_tags_renamed,
    ec.check_valid_tag_types,
    ec.check_no_attributes_set_in_init,
    ec.check_do_not_raise_errors_in_init_or_set_params,
    ec.check_mixin_order,
    ec.check_get_params_invariance,
    ec.check_set_params,
    ec.check_parameters_default_constructible,
]


with warnings.catch_warnings():  # the skip above is announced once, at collection
    warnings.simplefilter("ignore", category=ec.SkipTestWarning)
    _sklearn_checks = ec.parametrize_with_checks(ESTIMATORS)


@_sklearn_checks
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("check", DATA_FREE_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_data_free_sklearn_checks(estimator, check):
    check(type(estimator).__name__, clone(estimator))


def _fit_inputs(kind: str, frames, blocks):
    if kind == "WorkerEncoder":
        return (frames["workers"],), frames["workers"]
    if kind == "JobEncoder":
        return (frames["jobs"],), frames["jobs"]
    if kind == "CourseEncoder":
        return (frames["courses"],), frames["courses"]
    if kind == "JobPairFeatures":
        p = all_pairs(blocks["workers"], blocks["jobs"])
        return (p,), p
    if kind == "CoursePairFeatures":
        p = all_pairs(blocks["workers"], blocks["courses"])
        return (p,), p
    return (blocks["jobs"],), np.array([510107, 440305])


def _same(a, b) -> None:
    if isinstance(a, EntityBlock):
        np.testing.assert_array_equal(a.ids, b.ids)
        for m in ("skills", "certs", "occupations"):
            assert (getattr(a, m) != getattr(b, m)).nnz == 0, m
        assert a.num.keys() == b.num.keys()
        for key in a.num:
            np.testing.assert_array_equal(a.num[key], b.num[key], err_msg=key)
    else:
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_fit_clone_and_joblib_round_trip(estimator, frames, blocks, tmp_path: Path):
    kind = type(estimator).__name__
    fit_args, x = _fit_inputs(kind, frames, blocks)
    est = clone(estimator)
    params = est.get_params()
    with pytest.raises(NotFittedError):
        est.transform(x)
    kwargs = {"jobs": blocks["jobs"]} if kind == "CoursePairFeatures" else {}
    assert est.fit(*fit_args, **kwargs) is est
    assert est.get_params() == params  # fit never changes a parameter
    before = est.transform(x)
    path = tmp_path / "est.joblib"
    joblib.dump(est, path)
    loaded = joblib.load(path)
    _same(loaded.transform(x), before)
    _same(clone(est).fit(*fit_args, **kwargs).transform(x), before)
    assert len(est.get_feature_names_out()) > 0


def test_pair_features_support_pandas_output(blocks, job_features):
    pairs = PairSet.one_to_many(blocks["workers"], blocks["jobs"], AS_OF)
    with config_context(transform_output="pandas"):
        out = job_features.transform(pairs)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == list(JOB_PAIR_FEATURES)
    assert list(COURSE_PAIR_FEATURES) == list(CoursePairFeatures().get_feature_names_out())


def test_mismatched_vocabularies_are_refused(blocks, job_features):
    jobs = blocks["jobs"]
    other = EntityBlock(
        ids=jobs.ids, skills=jobs.skills, certs=jobs.certs, occupations=jobs.occupations, num=jobs.num,
        skill_ids=jobs.skill_ids[:-1] + ("local_extra",), cert_ids=jobs.cert_ids, occupation_codes=jobs.occupation_codes,
    )
    with pytest.raises(ValueError, match="taxonomy"):
        job_features.transform(PairSet(blocks["workers"], other, [0], [0], AS_OF))


def test_prepare_builds_caches_without_changing_output(blocks, job_features, course_features, encoders, frames):
    fresh_jobs = encoders["jobs"].transform(frames["jobs"])
    pairs = PairSet.one_to_many(blocks["workers"], fresh_jobs, AS_OF, worker=0)
    assert job_features.prepare(fresh_jobs) is fresh_jobs and fresh_jobs._cache
    np.testing.assert_array_equal(
        job_features.transform(pairs), job_features.transform(PairSet.one_to_many(blocks["workers"], blocks["jobs"], AS_OF))
    )
    course_features.prepare(blocks["courses"])


# ---- one-row sparse helpers against the matrix versions ------------------------------------------

import scipy.sparse as sp  # noqa: E402

from recommender.features._sparse import binarise, max_product, one_row_csr, row_max_product, row_maximum  # noqa: E402


def _sparse(draw, rows: int, cols: int, signed: bool) -> sp.csr_matrix:  # type: ignore[no-untyped-def]
    entries = draw(st.lists(st.tuples(st.integers(0, rows - 1), st.integers(0, cols - 1),
                                      st.sampled_from([0.0, 0.25, 0.5, 0.8, 0.9, 1.0, 0.3333] + ([-0.5] if signed else []))),
                            max_size=rows * 3))
    cells = {(r, c): v for r, c, v in entries}  # explicit zeros kept, as a CSR may hold them
    r, c = (np.array([key[j] for key in cells], dtype=np.int64) for j in (0, 1))
    return sp.csr_matrix((np.array(list(cells.values()), dtype=np.float32), (r, c)), shape=(rows, cols))


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_one_row_products_equal_matrix_products(data) -> None:  # type: ignore[no-untyped-def]
    """``max_product`` of one row (its fast path, and ``row_max_product``) is the row of the matrix
    product; ``row_maximum`` is scipy's ``maximum``; explicit and negative values included."""
    n, k, m = data.draw(st.integers(2, 5)), data.draw(st.integers(1, 8)), data.draw(st.integers(1, 8))
    signed = data.draw(st.booleans())
    a, b = _sparse(data.draw, n, k, signed), _sparse(data.draw, k, m, signed)
    full = max_product(a, b)
    c = max_product(a, b[::-1].tocsr())
    for r in range(n):
        row = a[r]
        one = max_product(row, b)
        want = full[r]
        for part in ("data", "indices"):
            np.testing.assert_array_equal(getattr(one, part), getattr(want, part))
        assert one.dtype == want.dtype and one.shape == want.shape
        cols, vals = row_max_product(row.indices, row.data, b)
        np.testing.assert_array_equal(cols, want.indices)
        np.testing.assert_array_equal(vals, want.data)
        other = c[r]
        w = float(data.draw(st.sampled_from([0.8, 0.6, 1.0])))
        want_max = want.maximum(other * w)
        got_cols, got_vals = row_maximum(want.indices, want.data, other.indices, other.data * w)
        assert got_vals.dtype == want_max.dtype
        np.testing.assert_array_equal(got_cols, want_max.indices)
        np.testing.assert_array_equal(got_vals, want_max.data)
        built = one_row_csr(got_cols, got_vals, want_max.shape[1])
        np.testing.assert_array_equal(built.toarray(), want_max.toarray())
        for threshold in (0.0, 0.5 - 1e-9):  # binarise / held: the one-row path against the matrix path
            one_bin, all_bin = binarise(row, threshold), binarise(a, threshold)[r]
            assert one_bin.dtype == all_bin.dtype and one_bin.shape == all_bin.shape
            np.testing.assert_array_equal(one_bin.indices, all_bin.indices)
            np.testing.assert_array_equal(one_bin.data, all_bin.data)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_row_dot_equals_column_dot_rows(data) -> None:  # type: ignore[no-untyped-def]
    """``row_dot`` over chosen rows is ``column_dot``'s result at those rows, bit for bit."""
    from recommender.features._pairs import column_dot, row_dot

    n, m = data.draw(st.integers(1, 30)), data.draw(st.integers(1, 12))
    a = _sparse(data.draw, n, m, False)
    a.sum_duplicates()
    cols = np.array(sorted(data.draw(st.sets(st.integers(0, m - 1), max_size=m))), dtype=np.intp)
    vals = np.array(data.draw(st.lists(st.floats(0, 3, allow_nan=False), min_size=len(cols), max_size=len(cols))), dtype=np.float64)
    rows = np.array(data.draw(st.lists(st.integers(0, n - 1), max_size=40)), dtype=np.intp)
    csc = sp.csc_matrix(a, dtype=np.float64)
    csr = sp.csr_matrix((a.data.astype(np.float64), a.indices, a.indptr), shape=a.shape)
    want = column_dot(csc, cols, vals)[rows]
    got = row_dot(csr, rows, cols, vals)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), dense=st.booleans())
def test_pairs_dot_is_row_dot_per_worker(data, dense: bool) -> None:  # type: ignore[no-untyped-def]
    """Many workers' pairs in one ``pairs_dot`` give each worker exactly its own ``row_dot``
    (the one-worker serving path), by the dense lookup and by the sorted-key lookup."""
    import recommender.features._pairs as P

    n, m, k = data.draw(st.integers(1, 30)), data.draw(st.integers(1, 12)), data.draw(st.integers(1, 8))
    items = _sparse(data.draw, n, m, False)
    items.sum_duplicates()
    workers = _sparse(data.draw, k, m, False)
    workers.sum_duplicates()
    workers = sp.csr_matrix(workers, dtype=np.float32)
    weights = None if data.draw(st.booleans()) else np.array(
        data.draw(st.lists(st.floats(0.1, 5, allow_nan=False), min_size=m, max_size=m)), dtype=np.float64)
    w = np.array(data.draw(st.lists(st.integers(0, k - 1), max_size=40)), dtype=np.intp)
    i = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=len(w), max_size=len(w))), dtype=np.intp)
    csr = sp.csr_matrix((items.data.astype(np.float64), items.indices, items.indptr), shape=items.shape)
    old = P.DENSE_WORKER_LOOKUP
    P.DENSE_WORKER_LOOKUP = 1 << 30 if dense else 0
    try:
        got = P.pairs_dot(csr, i, workers, w, weights)
    finally:
        P.DENSE_WORKER_LOOKUP = old
    want = np.zeros(len(w))
    for p in range(len(w)):
        lo, hi = workers.indptr[w[p]], workers.indptr[w[p] + 1]
        cols, vals = workers.indices[lo:hi].astype(np.intp), workers.data[lo:hi].astype(np.float64)
        if weights is not None:
            vals = vals * weights[cols]
        want[p] = P.row_dot(csr, i[p : p + 1], cols, vals)[0]
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
