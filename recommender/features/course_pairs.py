"""Worker x course pair features: what the course adds that employers want, and its cost.

The central question for a course is whether it closes a gap that matters
where the worker would work: the course's skills the worker lacks, weighted
by :class:`SkillDemand` of the worker's current province (and home province,
and the nation), and a certificate the worker lacks that openings require.
Then the practical side: own cost after subsidy, age eligibility, whether the
worker must travel to it (online courses never), when it starts and how long
it takes. Neither gender nor ids are inputs.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from recommender.contract import COURSE_MODES
from recommender.features._pairs import (
    HAS,
    PairFeaturizer,
    PairView,
    age_band,
    derived,
    education_rank,
)
from recommender.features.block import EntityBlock, PairSet
from recommender.features.demand import SkillDemand

__all__ = ["CoursePairFeatures", "COURSE_PAIR_FEATURES"]

COURSE_PAIR_FEATURES: tuple[str, ...] = (
    "gap_demand_current",  # sum over the course's skills the worker lacks of their demand in the current province
    "gap_demand_home",  # ... in the home province
    "gap_demand_national",
    "new_skills",  # course skills the worker lacks
    "new_skills_share",
    "course_n_skills",
    "skill_overlap",  # share of the course's skills the worker already has (confidence-weighted)
    "cert_new",  # the course awards a certificate the worker lacks
    "cert_new_demand",  # demand (share of openings, current province) for the new certificate(s)
    "cert_new_in_demand",  # ... at least ``min_cert_demand``
    "occupation_match",
    "occupation_group_match",
    "occupation_major_match",  # same at CSCO major-group level (普工 vs any production job)
    "fee",
    "subsidy",
    "own_cost",  # fee - subsidy, floored at 0
    "own_cost_share",  # own cost / fee
    "free",  # own cost is 0
    "age",
    "age_band",
    "age_below_min",
    "age_above_max",
    "age_eligible",  # within the posted limits (1 when none)
    *(f"mode_{m}" for m in COURSE_MODES),
    "distance_km",
    "log_distance_km",
    "travel_distance_km",  # 0 for online courses, else the distance
    "scope_local",
    "scope_province",
    "scope_outbound",
    "days_to_start",  # NaN: no start date
    "started",  # already started at as_of
    "duration_days",
    "log_seats",
    "worker_experience_years",
    "worker_education",
)


class CoursePairFeatures(PairFeaturizer):
    """Features of (worker, course) pairs.

    Parameters
    ----------
    demand : a fitted :class:`SkillDemand`, or ``None``. When ``fit`` gets
        ``jobs=`` (a jobs block), a clone of ``demand`` (or a new SkillDemand)
        is fitted on it. Without either, demand is flat (every skill 1), so the
        gap features count new skills.
    min_cert_demand : share of openings from which a certificate counts as in demand.
    """

    FEATURES = COURSE_PAIR_FEATURES

    def __init__(self, *, demand: SkillDemand | None = None, min_cert_demand: float = 0.005) -> None:
        self.demand = demand
        self.min_cert_demand = min_cert_demand

    def fit(self, pairs: PairSet, y: object = None, *, jobs: EntityBlock | None = None, openings: np.ndarray | None = None) -> CoursePairFeatures:
        """Check vocabularies and settle the demand model (see the class docstring)."""
        pairs = self._check_pairs(pairs)
        self._fit_vocab(pairs)
        if jobs is not None:
            base = self.demand if self.demand is not None else SkillDemand()
            self.demand_ = clone(base).fit(jobs, openings=openings)
        elif self.demand is not None:
            try:
                check_is_fitted(self.demand, "skills_")
            except NotFittedError as exc:
                raise NotFittedError(
                    "CoursePairFeatures.demand is not fitted: fit it on a jobs block first, "
                    "or pass jobs=... to CoursePairFeatures.fit"
                ) from exc
            self.demand_ = self.demand
        else:
            warnings.warn(
                "CoursePairFeatures fitted without skill demand: gap features count new skills; "
                "pass jobs=... to fit or a fitted SkillDemand as demand=",
                UserWarning,
                stacklevel=2,
            )
            self.demand_ = None
        if self.demand_ is not None and (self.demand_.skill_ids_, self.demand_.cert_ids_) != (self.skill_ids_, self.cert_ids_):
            raise ValueError("the SkillDemand was fitted on jobs encoded with another taxonomy vocabulary")
        return self

    def _demand_tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(province codes, skill demand rows, cert demand rows); last row national."""
        d = self.demand_
        if d is None:
            return (
                np.zeros(0, dtype=np.int64),
                np.ones((1, len(self.skill_ids_)), dtype=np.float64),
                np.ones((1, len(self.cert_ids_)), dtype=np.float64),
            )
        return d.provinces_, d.skills_.astype(np.float64), d.certs_.astype(np.float64)

    def _rows(self, region: np.ndarray | float) -> np.ndarray:
        if self.demand_ is None:
            return np.zeros(np.shape(region), dtype=np.intp)
        return self.demand_.rows(np.asarray(region, dtype=np.int64))

    def transform(self, pairs: PairSet) -> np.ndarray:
        """(n_pairs x n_features) float32."""
        pairs = self._check_pairs(pairs)
        self._check_vocab(pairs)
        check_is_fitted(self, "groups_")
        v = PairView(pairs)
        items, workers = pairs.items, pairs.workers
        buf = self._buffer(v.n)
        col = {name: k for k, name in enumerate(self.FEATURES)}

        def put(name: str, values: object) -> None:
            buf[col[name]] = values

        self._set_groups(items, workers)
        _, skill_d, cert_d = self._demand_tables()
        national = skill_d.shape[0] - 1
        cv, cb = items.skills, derived(items, "skills_bin")
        n_course_skills = v.item("n_skills").astype(np.float64)
        certs_held = derived(workers, "certs_held")
        course_certs = derived(items, "certs_bin")
        if v.one_worker:
            wvec = v.worker_row(workers.skills)
            lack = 1.0 - np.minimum(wvec, 1.0)
            rows = self._rows(np.array([v.worker("region"), v.worker("home_region")]))
            gap_cur = v.per_item(cv @ (lack * skill_d[rows[0]]))
            gap_home = v.per_item(cv @ (lack * skill_d[rows[1]]))
            gap_nat = v.per_item(cv @ (lack * skill_d[national]))
            have = v.per_item(cb @ (wvec >= HAS).astype(np.float64))
            share = v.per_item(cb @ wvec)
            c_lack = 1.0 - v.worker_row(certs_held)
            cert_new = v.per_item(course_certs @ c_lack)
            cert_dem = v.per_item(course_certs @ (c_lack * cert_d[rows[0]]))
        else:
            w = pairs.w
            wrows = workers.skills[w]
            c_i = v.item_rows(cv)
            r_cur = self._rows(workers.num["region"])[w]
            r_home = self._rows(workers.num["home_region"])[w]
            owned = c_i.multiply(wrows).tocsr()  # course value x worker confidence
            gap_cur = _gap(c_i, owned, skill_d, r_cur)
            gap_home = _gap(c_i, owned, skill_d, r_home)
            gap_nat = _gap(c_i, owned, skill_d, np.full(len(w), national))
            pb = v.item_rows(cb).multiply(wrows).tocsr()
            share = np.asarray(pb.sum(axis=1)).ravel()
            pb.data = (pb.data >= HAS).astype(np.float32)
            have = np.asarray(pb.sum(axis=1)).ravel()
            cc = v.item_rows(course_certs)
            both = cc.multiply(certs_held[w]).tocsr()
            cert_new = np.asarray(cc.sum(axis=1)).ravel() - np.asarray(both.sum(axis=1)).ravel()
            cert_dem = _gap(cc, both, cert_d, r_cur)
        new = np.maximum(n_course_skills - have, 0.0)
        put("gap_demand_current", gap_cur)
        put("gap_demand_home", gap_home)
        put("gap_demand_national", gap_nat)
        put("new_skills", new)
        put("new_skills_share", np.where(n_course_skills > 0, new / np.maximum(n_course_skills, 1.0), 0.0))
        put("course_n_skills", n_course_skills)
        put("skill_overlap", np.where(n_course_skills > 0, share / np.maximum(n_course_skills, 1.0), 0.0))
        put("cert_new", cert_new > 0)
        put("cert_new_demand", cert_dem)
        put("cert_new_in_demand", (cert_new > 0) & (cert_dem >= float(self.min_cert_demand)))
        put("occupation_match", v.dot("occupations", "occupations"))
        put("occupation_group_match", v.dot("occ_groups", "occ_groups"))
        put("occupation_major_match", v.dot("occ_majors", "occ_majors"))

        fee = v.item("fee").astype(np.float64)
        own = v.item("own_cost").astype(np.float64)
        put("fee", fee)
        put("subsidy", v.item("subsidy"))
        put("own_cost", own)
        put("own_cost_share", np.where(fee > 0, own / np.where(fee > 0, fee, 1.0), np.where(fee == 0, 0.0, np.nan)))
        put("free", own == 0)

        age = np.asarray(v.age(), dtype=np.float64)
        below = age < v.item("age_min")
        above = age > v.item("age_max")
        put("age", age)
        put("age_band", age_band(age))
        put("age_below_min", below)
        put("age_above_max", above)
        put("age_eligible", ~below & ~above)

        mode = v.item("mode")
        for k, m in enumerate(COURSE_MODES):
            put(f"mode_{m}", mode == k)
        dist, _, scope = v.distance_and_scope("lat", "lon", "home_region")
        put("distance_km", dist)
        put("log_distance_km", np.log1p(dist))
        put("travel_distance_km", np.where(mode == COURSE_MODES.index("online"), 0.0, dist))
        put("scope_local", scope == 0)
        put("scope_province", scope == 1)
        put("scope_outbound", scope == 2)
        to_start = v.item("start_on") - v.as_of_days
        put("days_to_start", to_start)
        put("started", to_start < 0)
        put("duration_days", v.item("duration_days"))
        put("log_seats", np.log1p(v.item("seats")))
        put("worker_experience_years", v.worker("experience_years"))
        put("worker_education", education_rank(v.worker("education")))
        return self._finish(buf)


def _gap(course: sp.csr_matrix, owned: sp.csr_matrix, demand: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``sum_s (course[p, s] - owned[p, s]) * demand[rows[p], s]`` for every pair ``p``.

    ``owned`` is course x worker confidence (same or sparser pattern), so the
    difference is the part of the course the worker does not have yet.
    """
    return _rowwise_dense(course, demand, rows) - _rowwise_dense(owned, demand, rows)


def _rowwise_dense(m: sp.csr_matrix, dense: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``sum_k m[p, k] * dense[rows[p], k]`` per row ``p`` of a sparse ``m``."""
    m = sp.csr_matrix(m)
    counts = np.diff(m.indptr)
    entry_rows = np.repeat(np.asarray(rows, dtype=np.intp), counts)
    contrib = m.data.astype(np.float64) * dense[entry_rows, m.indices]
    return np.bincount(np.repeat(np.arange(m.shape[0]), counts), weights=contrib, minlength=m.shape[0])
