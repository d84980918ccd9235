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


# ---- one worker: the row path against the frame path -------------------------------------------

import datetime as dt  # noqa: E402

import scipy.sparse as sp  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from recommender.contract import Kind  # noqa: E402
from recommender.features.workers import worker_columns, worker_row  # noqa: E402
from recommender.service import _Fallback, _stored_value  # noqa: E402
from recommender.snapshot import Snapshot  # noqa: E402
from recommender.store import _coerce  # noqa: E402
from recommender.contract import WORKERS as WORKERS_SPEC  # noqa: E402


def _same_matrix(a: sp.csr_matrix, b: sp.csr_matrix, what: str) -> None:
    assert a.shape == b.shape and a.dtype == b.dtype, what
    for part in ("indptr", "indices", "data"):
        x, y = getattr(a, part), getattr(b, part)
        assert x.dtype == y.dtype, f"{what}.{part}"
        np.testing.assert_array_equal(x, y, err_msg=f"{what}.{part}")


def _same_block(a, b, what: str = "") -> None:  # type: ignore[no-untyped-def]
    assert a.ids.tolist() == b.ids.tolist(), what
    for name in ("skills", "certs", "occupations"):
        _same_matrix(getattr(a, name), getattr(b, name), f"{what} {name}")
    assert list(a.num) == list(b.num), what
    for key in a.num:
        assert a.num[key].dtype == b.num[key].dtype, f"{what} {key}"
        np.testing.assert_array_equal(a.num[key], b.num[key], err_msg=f"{what} {key}")
    assert (a.skill_ids, a.cert_ids, a.occupation_codes) == (b.skill_ids, b.cert_ids, b.occupation_codes)


def _same_worker(a, b, what: str = "") -> None:  # type: ignore[no-untyped-def]
    assert a.worker_id == b.worker_id and a.expected_wage == b.expected_wage, what
    _same_block(a.block, b.block, what)
    for name in ("ids", "mobility", "birth_year"):
        x, y = getattr(a.view, name), getattr(b.view, name)
        assert x.dtype == y.dtype, f"{what} view.{name}"
        np.testing.assert_array_equal(x, y, err_msg=f"{what} view.{name}")
    for name in ("home_region", "current_region"):
        for part in ("code", "level"):
            x, y = getattr(getattr(a.view, name), part), getattr(getattr(b.view, name), part)
            assert x.dtype == y.dtype
            np.testing.assert_array_equal(x, y, err_msg=f"{what} view.{name}.{part}")
    _same_matrix(a.view.certs, b.view.certs, f"{what} view.certs")


@pytest.fixture(scope="module")
def snapshot_rec(rec: Recommender) -> Recommender:
    """The same model over the same snapshot, without a store: stored workers come from the snapshot."""
    return Recommender(rec.bundle, rec.manifest, rec.snapshot, store=None, settings=rec.settings)


@pytest.fixture(scope="module")
def bulk(rec: Recommender):  # type: ignore[no-untyped-def]
    """All sample workers encoded at once: the many-rows path of the encoder (sparse products over the matrix)."""
    frame = rec.snapshot.workers_as_of(None)
    return frame["worker_id"].tolist(), rec.bundle.encoders.workers.transform(frame)


@pytest.mark.parametrize("source", ["store", "snapshot"])
def test_stored_workers_row_path_equals_frame_path(rec: Recommender, snapshot_rec: Recommender, bulk, source: str) -> None:
    """Every sample worker (certified enrolments included): the row read, the one-row encoder and the
    one-row view give what the typed frame, ``transform`` and ``WorkerView.build`` give, and the row
    of the many-rows encoding."""
    r = rec if source == "store" else snapshot_rec
    ids, all_block = bulk
    extra = rec.snapshot.workers_as_of(None)["extra_certificates"].notna().to_numpy()
    with_extra = 0
    for k, wid in enumerate(ids):
        if k % 3 and not extra[k]:  # a third of the workers, and every one with a certified enrolment
            continue
        row = r._stored_row(wid)
        assert row is not None, wid
        with_extra += row["extra_certificates"] is not None
        fast = r._encode_row(wid, row)
        _same_worker(fast, r._worker_general(wid), wid)
        _same_block(fast.block, all_block.take([k]), wid)
    assert with_extra >= 20  # certified enrolments are exercised


def test_unknown_worker_is_not_found_on_both_paths(rec: Recommender, snapshot_rec: Recommender) -> None:
    from recommender.errors import NotFoundError

    for r in (rec, snapshot_rec):
        with pytest.raises(NotFoundError):
            r._stored_row("W-nobody")
        with pytest.raises(NotFoundError):
            r._worker_general("W-nobody")


def test_certified_enrolments_as_add_certified(rec: Recommender) -> None:
    """Synthetic enrolments (certified, failed, unknown course, course without certificate, the
    same certificate twice): the one-worker reading gives add_certified's certificates."""
    snap = rec.snapshot
    courses = snap.courses
    with_cert = courses.loc[courses["certificate"].notna(), "course_id"].tolist()
    without = courses.loc[courses["certificate"].isna(), "course_id"].tolist()
    wids = snap.workers["worker_id"].tolist()[:40]
    rng = np.random.default_rng(5)
    rows = []
    for wid in wids:
        for _ in range(int(rng.integers(0, 5))):
            course = str(rng.choice(with_cert + without[:3] + ["C-unknown"]))
            rows.append({"worker_id": wid, "course_id": course, "outcome": str(rng.choice(["certified", "completed", "dropped"])),
                         "date": pd.Timestamp("2024-01-01")})
    enrol = pd.DataFrame(rows, columns=["worker_id", "course_id", "outcome", "date"]).astype({"worker_id": object, "course_id": object, "outcome": object})
    other = Snapshot(workers=snap.workers, jobs=snap.jobs, courses=snap.courses, placements=snap.placements, enrolments=enrol, employers=snap.employers)
    r = Recommender(rec.bundle, rec.manifest, other, store=None, settings=rec.settings)
    seen = 0
    for wid in wids:
        row = r._stored_row(wid)
        seen += row["extra_certificates"] is not None
        _same_worker(r._encode_row(wid, row), r._worker_general(wid), wid)
    assert seen >= 5


def _profiles(rec: Recommender, n: int) -> list[dict]:
    frame = rec.snapshot.workers.iloc[:n]
    return [
        {k: (None if pd.isna(v) else (str(v.date()) if isinstance(v, pd.Timestamp) else v)) for k, v in r.items() if k not in ("worker_id", "gender")}
        for r in frame.to_dict("records")
    ]


EDGE_PROFILES: list[dict] = [
    {"birth_year": 1968, "home_region": "河南省周口市郸城县", "skills": "电焊;会开叉车", "expected_wage": 5000},
    {"birth_year": 1970, "home_region": "成都市武侯区", "skills": "电悍;二宝焊;叉车司几;开挖掘机", "certificates": "焊工证;A1驾照"},  # typos
    {"birth_year": 1975, "home_region": "510107"},  # no skills, no current_region
    {"birth_year": 1975, "home_region": "510107", "skills": "", "certificates": ""},
    {"birth_year": 1990, "home_region": "510107", "current_region": "440305", "skills": "zzzz;qqq 不知道", "mobility": "local"},
    {"birth_year": 1960, "home_region": "411625", "skills": ["保洁", "做饭"], "education": "primary", "experience_years": 30.5},
    {"birth_year": 1985, "home_region": "440301", "skills": "电工", "registered_on": "2024-03-18", "mobility": "province"},  # 市辖区 alias
    {"birth_year": 1980, "home_region": "not a place anywhere", "skills": "电焊"},  # unknown region: rejected by both
    {"birth_year": 1980, "home_region": "510107", "skills": "电焊", "gender": "F", "worker_id": "P1"},
]


def test_profiles_row_path_equals_frame_path(rec: Recommender) -> None:
    """Inline profiles (stored workers as profiles, and edge cases): same worker, or the same rejection."""
    for p in _profiles(rec, 300) + EDGE_PROFILES:
        try:
            want = rec._worker_general(p)
        except Exception as exc:  # noqa: BLE001 - the fast path must fail the same way
            with pytest.raises(type(exc)):
                rec._worker(p)
            continue
        _same_worker(rec._worker(p), want, str(p))


def test_recommendations_identical_on_both_paths(snapshot_rec: Recommender, monkeypatch: pytest.MonkeyPatch) -> None:
    r = snapshot_rec
    wids = r.snapshot.workers["worker_id"].tolist()[:150]
    profiles = _profiles(r, 40) + [p for p in EDGE_PROFILES if p["home_region"] != "not a place anywhere"]

    def run() -> list[dict]:
        r.invalidate()
        out = [r.recommend_jobs(w, k=10, scope=s).model_dump() for w in wids for s in ("all", "balanced")]
        out += [r.recommend_jobs(p, k=10).model_dump() for p in profiles]
        out += [r.recommend_courses(w, k=5).model_dump() for w in wids[:30]]
        return out

    fast = run()
    monkeypatch.setattr(r, "_worker", r._worker_general)
    slow = run()
    r.invalidate()
    assert fast == slow


# ---- the store reader's conversions against read_table's ---------------------------------------

_KIND_VALUES = {
    Kind.ID: st.one_of(st.none(), st.text(max_size=6), st.integers(), st.floats()),
    Kind.INT: st.one_of(st.none(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=4)),
    Kind.NUMBER: st.one_of(st.none(), st.integers(-10**6, 10**6), st.floats(allow_nan=False), st.text(max_size=4)),
    Kind.DATE: st.one_of(
        st.none(), st.dates(min_value=dt.date(1, 1, 1)).map(str), st.dates(), st.text(max_size=12),
        st.sampled_from(["2024-02-30", "2024-1-5", "2024-01-05T10:00", "2024-01-05 ", "1677-01-01", "2262-12-31", "０２０２-01-01"]),
    ),
}


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_stored_value_matches_read_table_coercion(data: st.DataObject) -> None:
    """A raw driver value is either declined (the general path reads it) or converted exactly as
    ``read_table`` (``_coerce``) then ``worker_columns`` convert it."""
    name = data.draw(st.sampled_from(["worker_id", "skills", "birth_year", "expected_wage", "experience_years", "registered_on"]))
    kind = next(c.kind for c in WORKERS_SPEC.columns if c.name == name)
    value = data.draw(_KIND_VALUES.get(kind, _KIND_VALUES[Kind.ID]))
    try:
        got = _stored_value(kind, value)
    except _Fallback:
        return
    frame = _coerce(pd.DataFrame({name: np.array([value], dtype=object)}, dtype=object), WORKERS_SPEC)
    want = worker_columns(frame)[name][0]
    if isinstance(want, float) or isinstance(got, float):
        assert np.isnan(want) and np.isnan(got) if np.isnan(want) else got == want, (value, got, want)
    else:
        assert got == want, (value, got, want)


# ---- the encoder's one-row path against its many-rows path (Hypothesis) --------------------------

_SKILL_WORDS = ["电焊", "二保焊", "电悍", "会开叉车", "叉车", "保洁", "做饭", "sewing", "整烫", "低压电工", "穿线",
                "electrical maintenance", "瓦工", "砌砖", "木工", "开挖掘机", "zzz", "不知道", " ", "CO2焊", "氩弧焊"]
_CERT_WORDS = ["焊工证", "A1驾驶证", "驾驶证C1", "C1", "电工证", "低压电工作业证", "叉车证", "假证", "健康证"]
_REGIONS = [None, "510107", "440305", "411625", "440301", "433125", "110101", "999999", "810000", " 510107 "]


def _cells(words: list[str]) -> st.SearchStrategy:
    return st.one_of(st.none(), st.just(""), st.lists(st.sampled_from(words), max_size=5).map(";".join))


_worker_rows = st.fixed_dictionaries({
    "skills": _cells(_SKILL_WORDS),
    "certificates": _cells(_CERT_WORDS),
    "extra_certificates": _cells(_CERT_WORDS),
    "home_region": st.sampled_from(_REGIONS),
    "current_region": st.sampled_from(_REGIONS),
    "education": st.sampled_from([None, "primary", "junior_high", "Senior_High ", "bachelor_plus", "phd"]),
    "mobility": st.sampled_from([None, "local", "province", "anywhere", "Local", "nowhere"]),
    "birth_year": st.one_of(st.none(), st.integers(1940, 2010)),
    "experience_years": st.one_of(st.none(), st.floats(0, 60, allow_nan=False)),
    "expected_wage": st.one_of(st.none(), st.integers(0, 40000)),
    "registered_on": st.one_of(st.none(), st.dates(dt.date(2000, 1, 1), dt.date(2030, 1, 1))),
})


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_worker_rows, min_size=2, max_size=6))
def test_encode_row_equals_many_rows_transform(rec: Recommender, rows: list[dict]) -> None:
    """Typed frames as the store gives them: each row encoded alone (row path, and a one-row frame)
    equals its row of the many-rows encoding (sparse products over the whole matrix)."""
    enc = rec.bundle.encoders.workers
    frame = pd.DataFrame({
        "worker_id": [f"W{k}" for k in range(len(rows))],
        **{c: pd.Series([r[c] for r in rows], dtype=object) for c in
           ("skills", "certificates", "extra_certificates", "home_region", "current_region", "education", "mobility")},
        "birth_year": pd.array([r["birth_year"] for r in rows], dtype="Int64"),
        "experience_years": pd.array([r["experience_years"] for r in rows], dtype="Float64"),
        "expected_wage": pd.array([r["expected_wage"] for r in rows], dtype="Int64"),
        "registered_on": pd.to_datetime(pd.Series([r["registered_on"] for r in rows], dtype=object)).astype("datetime64[ns]"),
    })
    many = enc.transform(frame)
    cols = worker_columns(frame)
    for k in range(len(rows)):
        one = enc.encode_row(worker_row(cols, k))
        _same_block(one, many.take([k]), str(rows[k]))
        _same_block(enc.transform(frame.iloc[[k]].reset_index(drop=True)), one, str(rows[k]))


# ---- pair features of a few candidates against those of all items ----------------------------------

@pytest.mark.parametrize("kind", ["jobs", "courses"])
def test_candidate_pair_features_equal_all_item_rows(rec: Recommender, workers, kind: str) -> None:
    """Candidates' rows (gathered skill products, distances at their places only) are bit for
    bit the rows of the all-items computation (column products, every place)."""
    items = rec.world.jobs if kind == "jobs" else rec.world.courses
    feat = getattr(rec.bundle, kind).ranker.featurizer_
    as_of = np.datetime64(rec.default_as_of(), "D")
    rng = np.random.default_rng(11)
    for w in workers:
        for size in (1, 7, max(1, len(items) // 3)):
            sub = rng.choice(len(items), size=min(size, len(items)), replace=bool(rng.random() < 0.3))
            got = feat.transform(PairSet.one_to_many(w.block, items, as_of, items_idx=sub))
            want = feat.transform(PairSet.one_to_many(w.block, items, as_of))[sub]
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)


def test_one_worker_candidates_match_check_pairs_all_workers(rec: Recommender, snapshot_rec: Recommender) -> None:
    """Every sample worker (the per-age masks are shared between workers of one age, and reused)."""
    pool = rec.world.job_pool
    day = int(to_days(pd.Timestamp(rec.default_as_of()))[0])
    for wid in rec.snapshot.workers["worker_id"].tolist():
        w = snapshot_rec._encode_row(wid, snapshot_rec._stored_row(wid))
        for policy in ("strict", "flag"):
            got = candidates_for(w.view, pool, 0, day, age_policy=policy, awardable=rec.world.awardable)
            want = _reference(w, pool, day, policy, rec.world.awardable)
            np.testing.assert_array_equal(got[0], want[0])
            assert got[2].dtype == want[2].dtype
            np.testing.assert_array_equal(got[2], want[2])
            for name in want[1].__dataclass_fields__:
                a, b = getattr(got[1], name), getattr(want[1], name)
                assert a.dtype == b.dtype, name
                np.testing.assert_array_equal(a, b, err_msg=name)


# ---- inline profiles: validate_row's record against the one-row table ------------------------


def _profile_cases(rec: Recommender) -> list[dict]:
    hostile = [
        {"birth_year": "19x0", "home_region": "510107", "mobility": "far"},
        {"birth_year": 1890, "home_region": "成都武侯", "registered_on": "2024-02-30", "expected_wage": -5},
        {"birth_year": 1975, "home_region": "510107", "skills": "电" * 20_000},
        {"birth_year": 1975, "home_region": "sichuan chengdu", "skills": "电焊；叉车、木工，瓦工 ;; ", "registered_on": "1950-03-01"},
        {"worker_id": "110101199003077777", "birth_year": 1975, "home_region": "510107"},
        {"home_region": "510107"},
    ]
    return _profiles(rec, 300) + EDGE_PROFILES + hostile


def test_profile_record_row_equals_frame_row(rec: Recommender) -> None:
    """``_record_row(validate_row record)`` is the ``worker_columns`` row of the general path's frame,
    and a bad profile raises the same ``ProfileError`` errors on both."""
    from recommender.features.workers import worker_columns, worker_row
    from recommender.service import ProfileError, _record_row

    taken = 0
    for p in _profile_cases(rec):
        try:
            frame = rec._validated_profile(p)
        except ProfileError as exc:
            with pytest.raises(ProfileError) as got:
                rec._profile_record(p)
            assert got.value.errors == exc.errors and str(got.value) == str(exc)
            continue
        want = worker_row(worker_columns(frame), 0)
        got_row = _record_row(rec._profile_record(p))
        assert got_row.keys() == want.keys()
        for name, w in want.items():
            g = got_row[name]
            if isinstance(w, float) and np.isnan(w):
                assert isinstance(g, float) and np.isnan(g), (name, p)
            else:
                assert type(g) is type(w) or (isinstance(g, float) and isinstance(w, float)), (name, type(g), type(w))
                assert g == w, (name, g, w, p)
        taken += 1
    assert taken >= 300


def test_batch_prefetch_encodes_as_one_worker_at_a_time(rec: Recommender, bulk, monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch's bulk read (two queries per chunk) gives every stored worker the one-by-one encoding,
    leaves unknown ids to the one-by-one path (reported in place), and the lists are the same."""
    import recommender.service as S

    ids, _ = bulk
    extra = rec.snapshot.workers_as_of(None)["extra_certificates"].notna().to_numpy()
    chosen = [w for k, w in enumerate(ids) if extra[k]][:15] + ids[:25]  # certified enrolments included
    fresh = Recommender(rec.bundle, rec.manifest, rec.snapshot, store=rec.store, settings=rec.settings)
    monkeypatch.setattr(S, "PREFETCH_CHUNK", 7)  # several chunks
    fresh._prefetch([*chosen, "W-nobody"])
    assert set(fresh._worker_cache) == set(chosen)
    for wid in chosen:
        _same_worker(fresh._worker_cache[wid][1], rec._encode_row(wid, rec._stored_row(wid)), wid)
    batch_ids = [*chosen[:12], "W-nobody", *chosen[12:20]]
    other = Recommender(rec.bundle, rec.manifest, rec.snapshot, store=rec.store, settings=rec.settings)
    batched = other.recommend_batch(batch_ids, k=5, caps=False)
    one_by_one = []
    for wid in batch_ids:
        try:
            one_by_one.append(rec.recommend_jobs(wid, k=5))
        except Exception as exc:  # noqa: BLE001 - compared below
            one_by_one.append(exc)
    assert isinstance(batched[12], S.NotFoundError) and isinstance(one_by_one[12], S.NotFoundError)
    for a, b in zip(batched, one_by_one, strict=True):
        if not isinstance(a, Exception):
            assert a.model_dump() == b.model_dump()


def test_cached_stored_workers_are_read_again_after_the_cache_period(rec: Recommender, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process may change a worker's record: a cached encoding is reused for WORKER_CACHE_SECONDS only."""
    import recommender.service as S

    wid = str(rec.snapshot.workers["worker_id"].iloc[3])
    reads: list[str] = []
    real_read = rec._stored_row
    monkeypatch.setattr(rec, "_stored_row", lambda w: reads.append(w) or real_read(w))
    rec.invalidate(wid)
    rec._worker(wid)
    rec._worker(wid)
    assert reads == [wid]  # the second request is served from the cache
    monkeypatch.setattr(S, "WORKER_CACHE_SECONDS", -1.0)
    rec._worker(wid)
    assert reads == [wid, wid]  # expired: read again
    rec.invalidate(wid)


@pytest.mark.parametrize("scope", ["all", "balanced", "outbound"])
def test_batch_scoring_in_one_pass_equals_one_worker_at_a_time(rec: Recommender, scope: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch featurises and scores ``SCORE_CHUNK`` workers' shortlists in one pass; with the
    exposure caps on, every list is still the one ``recommend_jobs`` gives when the workers come
    one after the other through one ledger: stored ids, inline profiles, unknown ids and invalid
    profiles mixed, over several score chunks and a short last one."""
    import recommender.service as S

    monkeypatch.setattr(S, "SCORE_CHUNK", 37)
    ids = rec.snapshot.workers["worker_id"].tolist()
    batch: list = [*ids[:300:3], *EDGE_PROFILES, "W-nobody", *_profiles(rec, 12), *ids[1000:1090]]
    as_of = rec.default_as_of()
    fresh = Recommender(rec.bundle, rec.manifest, rec.snapshot, store=rec.store, settings=rec.settings)
    batched = fresh.recommend_batch(batch, k=10, scope=scope, as_of=as_of)
    ledger = rec.new_ledger()
    one_by_one: list = []
    for worker in batch:
        try:
            one_by_one.append(rec.recommend_jobs(worker, k=10, scope=scope, as_of=as_of, ledger=ledger))
        except S.RecommenderError as exc:
            one_by_one.append(exc)
    assert len(batched) == len(batch)
    errors = 0
    for a, b in zip(batched, one_by_one, strict=True):
        if isinstance(b, Exception):
            assert type(a) is type(b) and str(a) == str(b)
            errors += 1
        else:
            assert a.model_dump() == b.model_dump()
    assert errors == 2  # the unknown id and the unknown region
    assert sum(len(r.items) for r in batched if not isinstance(r, Exception)) > 500
