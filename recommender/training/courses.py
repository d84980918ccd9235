"""Training recommendations: which subsidised courses a worker should take.

A course is feasible for a worker when its age limits admit them, it starts
soon (or has no fixed start), and it is online or held where the worker can
go (their mobility from home, or the province of their home or of where
they live now: training is taken where one lives, whatever one's job mobility). The label
is the furthest enrolment outcome, plus one grade when the worker was later
hired into a job that needs a skill the course teaches: a course is good when
it leads to work, not only when it is finished.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender import columns as C
from recommender.candidates import EPOCH, MOBILITY_CODES, WorkerView, region_codes, to_days
from recommender.features import CoursePairFeatures, PairSet
from recommender.ranking import PairRanker
from recommender.regions import SCOPE_LOCAL, SCOPE_OUTBOUND, PlaceCodes, scope_prepared
from recommender.training.labels import JOB_GRADES
from recommender.training.world import EncodedWorld, positions

START_WINDOW_DAYS = (-120, 180)  # outcome dates often fall at the end of a course; a recommendation came before


@dataclass(slots=True)
class CoursePool:
    ids: np.ndarray
    region: PlaceCodes
    online: np.ndarray
    start: np.ndarray  # day number, -1 when none
    age_min: np.ndarray
    age_max: np.ndarray

    @classmethod
    def build(cls, courses: pd.DataFrame) -> CoursePool:
        n = len(courses)
        return cls(
            ids=courses["course_id"].to_numpy(dtype=object),
            region=region_codes(courses["region"]),
            online=(courses["mode"].fillna("in_person") == "online").to_numpy(),
            start=to_days(courses["start_on"], missing=-1) if n else np.zeros(0, dtype=np.int64),
            age_min=pd.to_numeric(courses["age_min"], errors="coerce").to_numpy(dtype=float, na_value=np.nan),
            age_max=pd.to_numeric(courses["age_max"], errors="coerce").to_numpy(dtype=float, na_value=np.nan),
        )

    def __len__(self) -> int:
        return len(self.ids)


def course_feasible(view: WorkerView, pool: CoursePool, w: np.ndarray, c: np.ndarray, day: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    """(feasible mask, scope) per (worker, course) pair."""
    w = np.asarray(w, dtype=np.int64)
    c = np.asarray(c, dtype=np.int64)
    day = np.broadcast_to(np.asarray(day, dtype=np.int64), c.shape)
    place = pool.region.take(c)
    scope = scope_prepared(view.home_region.take(w), place)
    same_province = (view.current_region.code[w] // 10000 == place.code // 10000) | (view.home_region.code[w] // 10000 == place.code // 10000)
    mobility = view.mobility[w]
    reachable = (mobility == MOBILITY_CODES["anywhere"]) | (
        (mobility == MOBILITY_CODES["province"]) & (scope != SCOPE_OUTBOUND)
    ) | ((mobility == MOBILITY_CODES["local"]) & (scope == SCOPE_LOCAL))
    place_ok = pool.online[c] | reachable | same_province
    start = pool.start[c]
    timely = (start < 0) | ((start - day >= START_WINDOW_DAYS[0]) & (start - day <= START_WINDOW_DAYS[1]))
    years = (EPOCH + day.astype("timedelta64[D]")).astype("datetime64[Y]").astype(int) + 1970
    age = years - view.birth_year[w]
    with np.errstate(invalid="ignore"):
        age_ok = ~(age < pool.age_min[c]) & ~(age > pool.age_max[c])
    return place_ok & timely & age_ok, np.asarray(scope, dtype=np.int8)


def course_grades(world: EncodedWorld, graded: pd.DataFrame, placements: pd.DataFrame) -> np.ndarray:
    """Enrolment grade, +1 when a hire into a job needing a taught skill followed."""
    base = graded[C.RELEVANCE].to_numpy(dtype=float)
    hires = placements.loc[placements["outcome"].map(JOB_GRADES) >= JOB_GRADES["hired"], ["worker_id", "job_id", "date"]]
    if hires.empty or graded.empty:
        return base
    merged = graded[[C.WORKER, C.ITEM, "first_date"]].reset_index().merge(hires, left_on=C.WORKER, right_on="worker_id")
    merged = merged.loc[merged["date"] > merged["first_date"]]
    if merged.empty:
        return base
    ci = positions(world.courses, merged[C.ITEM].to_numpy())
    ji = positions(world.jobs, merged["job_id"].to_numpy())
    ok = (ci >= 0) & (ji >= 0)
    merged, ci, ji = merged.loc[ok], ci[ok], ji[ok]
    cs = sp.csr_matrix(world.courses.skills)[ci]
    js = sp.csr_matrix(world.jobs.skills)[ji]
    shared = np.asarray((cs > 0).multiply(js > 0).sum(axis=1)).ravel() > 0
    led = merged.loc[shared, "index"].unique()
    bonus = np.zeros(len(graded))
    bonus[np.isin(graded.index.to_numpy(), led)] = 1.0
    return base + bonus * (base > 0)


@dataclass
class CourseTrainingPairs:
    pairs: PairSet
    y: np.ndarray
    day: np.ndarray


def course_training_pairs(
    world: EncodedWorld, pool: CoursePool, graded: pd.DataFrame, placements: pd.DataFrame, *, negatives: int = 5, seed: int = 0
) -> CourseTrainingPairs:
    rng = np.random.default_rng(seed)
    graded = graded.reset_index(drop=True)
    w = positions(world.workers, graded[C.WORKER].to_numpy())
    c = positions(world.courses, graded[C.ITEM].to_numpy())
    known = (w >= 0) & (c >= 0)
    graded, w, c = graded.loc[known].reset_index(drop=True), w[known], c[known]
    y = course_grades(world, graded, placements)
    day = to_days(graded["first_date"]) if len(graded) else np.zeros(0, dtype=np.int64)
    queries = pd.DataFrame({"w": w, "day": day}).drop_duplicates().reset_index(drop=True)
    draws = negatives * 8
    q = np.repeat(np.arange(len(queries)), draws)
    qw = queries["w"].to_numpy()[q]
    qd = queries["day"].to_numpy()[q]
    qc = rng.integers(0, max(1, len(pool)), size=len(q))
    ok, _ = course_feasible(world.worker_view, pool, qw, qc, qd) if len(q) else (np.zeros(0, bool), None)
    seen = set(zip(w.tolist(), c.tolist()))
    ok &= np.array([(a, b) not in seen for a, b in zip(qw.tolist(), qc.tolist())], dtype=bool)
    neg = pd.DataFrame({"q": q[ok], "w": qw[ok], "c": qc[ok], "day": qd[ok]}).drop_duplicates(["q", "c"]).groupby("q").head(negatives)
    all_w = np.concatenate([w, neg["w"].to_numpy()])
    all_c = np.concatenate([c, neg["c"].to_numpy()])
    all_d = np.concatenate([day, neg["day"].to_numpy()])
    all_y = np.concatenate([y, np.zeros(len(neg))])
    pairs = PairSet(world.workers, world.courses, all_w, all_c, EPOCH + all_d.astype("timedelta64[D]"))
    return CourseTrainingPairs(pairs, all_y, all_d)


@dataclass
class CourseModel:
    ranker: PairRanker

    def feature_names(self) -> list[str]:
        return list(self.ranker.feature_names_)


def fit_course_model(world: EncodedWorld, tp: CourseTrainingPairs, *, seed: int = 0) -> CourseModel:
    openings = world.snapshot.jobs["openings"].fillna(1).to_numpy(dtype=float)
    featurizer = CoursePairFeatures().fit(tp.pairs, jobs=world.jobs, openings=openings)
    X = featurizer.transform(tp.pairs)
    # the course ranker keeps its own measured settings (the job ranker's defaults changed for serving cost)
    ranker = PairRanker(featurizer, objective="regression", random_state=seed, max_iter=200, learning_rate=0.06,
                        max_leaf_nodes=31, min_samples_leaf=20)
    ranker.fit(tp.pairs, tp.y, X=X)
    return CourseModel(ranker)
