"""Which jobs a worker may be recommended at a date: vectorised feasibility.

A job is *feasible* for a worker on a day when it is open (posted on or
before, not closed), its employer is not on the wage-arrears list, its place
respects the worker's mobility, the worker holds every certificate it
requires, and (under the ``strict`` age policy) the worker's age is within its
posted limits. A job blocked only by certificates that some course awards is
*course-reachable*: kept aside as a target for training recommendations.

Everything is numpy over arrays of pairs, so the same function checks one
worker against 100,000 open jobs and a million training pairs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender.regions import SCOPE_LOCAL, SCOPE_OUTBOUND, SCOPE_PROVINCE, PlaceCodes, place_codes, scope_prepared

AgePolicy = Literal["strict", "flag"]
AGE_POLICIES: tuple[str, ...] = ("strict", "flag")
MOBILITY_CODES: dict[str, int] = {"local": 0, "province": 1, "anywhere": 2}
_FAR_FUTURE = np.iinfo(np.int32).max
EPOCH = np.datetime64("1970-01-01", "D")


def to_days(values: pd.Series | np.ndarray | pd.Timestamp | str, *, missing: int | None = None) -> np.ndarray:
    """Dates as int day numbers (days since 1970-01-01); NaT becomes ``missing``."""
    arr = pd.to_datetime(pd.Series(np.atleast_1d(values))).to_numpy(dtype="datetime64[D]")
    nat = np.isnat(arr)
    days = (arr - EPOCH).astype("timedelta64[D]").astype(np.int64)
    if missing is not None:
        days = np.where(nat, missing, days)
    return days


def region_codes(codes: pd.Series) -> PlaceCodes:
    """Validated 6-digit codes (as the store holds them), prepared once per pool."""
    if len(codes) == 0:
        return PlaceCodes(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int8))
    return place_codes(codes.astype(str).to_numpy())


def _float(values: pd.Series | np.ndarray | None, n: int) -> np.ndarray:
    if values is None:
        return np.full(n, np.nan)
    return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float, na_value=np.nan)


@dataclass(slots=True)
class JobPool:
    """The arrays feasibility needs, one entry per job."""

    ids: np.ndarray
    region: PlaceCodes  # prepared once: scope arithmetic needs no string parsing per request
    posted: np.ndarray  # day numbers
    closes: np.ndarray  # day numbers (far future when open-ended)
    arrears: np.ndarray  # bool
    age_min: np.ndarray  # float, nan when none
    age_max: np.ndarray
    required: sp.csr_matrix  # jobs × certificates, binary
    cert_ids: tuple[str, ...] = ()
    _open_cache: dict[int, np.ndarray] | None = None

    @classmethod
    def build(
        cls,
        jobs: pd.DataFrame,
        required: sp.csr_matrix,
        *,
        age_min: np.ndarray | None = None,
        age_max: np.ndarray | None = None,
        cert_ids: tuple[str, ...] = (),
    ) -> JobPool:
        """From the jobs frame (employers merged) and the encoded certificate matrix.

        ``age_min``/``age_max`` may come from the encoder, which fills empty
        columns from limits written in the title ("45岁以下").
        """
        n = len(jobs)
        arrears = jobs["wage_arrears_listed"] if "wage_arrears_listed" in jobs.columns else pd.Series([False] * n)
        req = sp.csr_matrix(required, dtype=np.float32)
        req.data = (req.data > 0).astype(np.float32)
        return cls(
            ids=jobs["job_id"].to_numpy(dtype=object),
            region=region_codes(jobs["region"]),
            posted=to_days(jobs["posted_on"], missing=0),
            closes=to_days(jobs["closes_on"], missing=_FAR_FUTURE),
            arrears=arrears.fillna(False).to_numpy(dtype=bool),
            age_min=_float(age_min if age_min is not None else jobs.get("age_min"), n),
            age_max=_float(age_max if age_max is not None else jobs.get("age_max"), n),
            required=req,
            cert_ids=cert_ids,
        )

    def __len__(self) -> int:
        return len(self.ids)

    def open_on(self, day: int) -> np.ndarray:
        return (self.posted <= day) & (self.closes >= day)

    def open_listable(self, day: int) -> np.ndarray:
        """Indices of jobs open on ``day`` whose employer is not listed; cached per day."""
        return self.open_view(day).idx

    def open_view(self, day: int) -> OpenView:
        """What one-worker feasibility needs of the jobs open and listable on ``day``; cached per day."""
        if self._open_cache is None:
            self._open_cache = {}
        hit = self._open_cache.get(day)
        if hit is None:
            if len(self._open_cache) > 64:
                self._open_cache.clear()
            hit = self._open_cache[day] = OpenView.build(self, np.flatnonzero(self.open_on(day) & ~self.arrears))
        return hit


@dataclass(slots=True)
class OpenView:
    """The open, listable jobs of one day, gathered once: regions as distinct places plus the
    position of each job among them, age limits, and the rows that require certificates."""

    idx: np.ndarray
    places: PlaceCodes  # distinct prepared places of the open jobs
    place_of: np.ndarray  # position of each open job among ``places``
    age_min: np.ndarray
    age_max: np.ndarray
    req_rows: np.ndarray  # positions (in idx) of the open jobs that require a certificate
    required: sp.csr_matrix  # their rows of JobPool.required
    _age_ok: dict[float, np.ndarray] | None = None  # per worker age: within the posted limits

    def age_ok(self, age: float) -> np.ndarray:
        """``~(age < age_min) & ~(age > age_max)`` per open job, cached per age (a few dozen
        distinct ages, one 100,000-job mask each); read-only, callers copy."""
        if self._age_ok is None:
            self._age_ok = {}
        hit = self._age_ok.get(age)
        if hit is None:
            with np.errstate(invalid="ignore"):
                hit = ~(age < self.age_min) & ~(age > self.age_max)
            hit.flags.writeable = False
            if age == age:  # NaN never matches a key: not stored
                if len(self._age_ok) > 160:
                    self._age_ok.clear()
                self._age_ok[age] = hit
        return hit

    @classmethod
    def build(cls, pool: JobPool, idx: np.ndarray) -> OpenView:
        region = pool.region.take(idx)
        keys = region.code * 8 + region.level.astype(np.int64)
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        has_req = np.diff(pool.required.indptr)[idx] > 0
        req_rows = np.flatnonzero(has_req)
        return cls(
            idx=idx,
            places=region.take(first),
            place_of=inverse.astype(np.intp).ravel(),
            age_min=pool.age_min[idx],
            age_max=pool.age_max[idx],
            req_rows=req_rows,
            required=pool.required[idx[req_rows]],
        )


@dataclass(slots=True)
class WorkerView:
    """What feasibility needs of workers, one entry per worker."""

    ids: np.ndarray
    home_region: PlaceCodes
    current_region: PlaceCodes
    mobility: np.ndarray  # 0 local, 1 province, 2 anywhere
    birth_year: np.ndarray  # float
    certs: sp.csr_matrix  # workers × certificates, binary

    @classmethod
    def build(cls, workers: pd.DataFrame, certs: sp.csr_matrix) -> WorkerView:
        held = sp.csr_matrix(certs, dtype=np.float32)
        held.data = (held.data > 0).astype(np.float32)
        if len(workers) <= 8:  # one worker per request: the same mapping without pandas
            mobility = np.array([2 if pd.isna(v) else MOBILITY_CODES.get(v, 2)
                                 for v in workers["mobility"].tolist()], dtype=np.int8)
        else:
            mobility = workers["mobility"].fillna("anywhere").map(MOBILITY_CODES).fillna(2).to_numpy(dtype=np.int8)
        return cls(
            ids=workers["worker_id"].to_numpy(dtype=object),
            home_region=region_codes(workers["home_region"]),
            current_region=region_codes(workers["current_region"].fillna(workers["home_region"])),
            mobility=mobility,
            birth_year=_float(workers["birth_year"], len(workers)),
            certs=held,
        )

    @classmethod
    def from_row(cls, row: Mapping[str, object], certs: sp.csr_matrix) -> WorkerView:
        """One worker from a ``worker_columns`` row (``recommender.features.workers``): what
        ``build`` gives for the one-row frame, without pandas (serving builds one per request)."""
        held = sp.csr_matrix(certs, dtype=np.float32)
        held.data = (held.data > 0).astype(np.float32)
        home, current, mobility = row["home_region"], row["current_region"], row["mobility"]
        if current is None:
            current = home
        places = place_codes(np.array([str(home), str(current)]))
        birth = row["birth_year"]
        return cls(
            ids=np.array([row["worker_id"]], dtype=object),
            home_region=places.take(np.array([0])),
            current_region=places.take(np.array([1])),
            mobility=np.array([2 if mobility is None else MOBILITY_CODES.get(mobility, 2)], dtype=np.int8),  # type: ignore[call-overload]
            birth_year=np.array([np.nan if birth is None else birth], dtype=np.float64),
            certs=held,
        )

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(slots=True)
class Feasibility:
    """Per pair: feasible or not, and why not."""

    scope: np.ndarray  # int8 SCOPE_*
    open: np.ndarray
    arrears: np.ndarray
    mobility_ok: np.ndarray
    missing_certs: np.ndarray  # count of required certificates not held
    below_age: np.ndarray
    above_age: np.ndarray
    course_reachable: np.ndarray  # blocked only by certificates a course awards

    @property
    def age_ok(self) -> np.ndarray:
        return ~self.below_age & ~self.above_age

    def feasible(self, age_policy: str = "strict") -> np.ndarray:
        base = self.open & ~self.arrears & self.mobility_ok & (self.missing_certs == 0)
        if age_policy == "strict":
            return base & self.age_ok
        if age_policy == "flag":
            return base
        raise ValueError(f"age_policy must be one of {', '.join(AGE_POLICIES)}")


def _missing_required(
    required: sp.csr_matrix, held: sp.csr_matrix, j: np.ndarray, w: np.ndarray, one_worker: bool
) -> tuple[np.ndarray, sp.csr_matrix]:
    """Count of certificates job j requires that worker w lacks, per pair; and the lacking matrix."""
    if one_worker:
        # one matrix-vector product over the whole pool, then pick the rows
        have = np.asarray(held[int(w[0])].toarray()).ravel()
        missing = np.asarray(required @ (1.0 - have)).ravel()[j].astype(np.int32)
        if not missing.any():
            return missing, sp.csr_matrix((len(j), required.shape[1]), dtype=np.float32)
        lacking = required[j].multiply(sp.csr_matrix(1.0 - have))
        lacking = sp.csr_matrix(lacking)
        lacking.eliminate_zeros()
        return missing, lacking
    req = required[j]
    if req.nnz == 0:
        return np.zeros(len(j), dtype=np.int32), req
    else:
        lacking = req - req.multiply(held[w])
    lacking = sp.csr_matrix(lacking)
    lacking.eliminate_zeros()
    return np.asarray(lacking.sum(axis=1)).ravel().astype(np.int32), lacking


def check_pairs(
    workers: WorkerView,
    jobs: JobPool,
    w: np.ndarray,
    j: np.ndarray,
    day: np.ndarray | int,
    *,
    awardable: np.ndarray | None = None,
) -> Feasibility:
    """Feasibility of worker ``w[k]`` for job ``j[k]`` on ``day[k]`` (vectorised)."""
    w = np.asarray(w, dtype=np.int64)
    j = np.asarray(j, dtype=np.int64)
    day = np.broadcast_to(np.asarray(day, dtype=np.int64), j.shape)
    one_worker = len(w) > 0 and bool((w == w[0]).all())
    home = workers.home_region.take(w[:1] if one_worker else w)
    scope = scope_prepared(home, jobs.region.take(j))
    scope = np.broadcast_to(scope, j.shape)
    mobility = workers.mobility[w[:1]] if one_worker else workers.mobility[w]
    mobility_ok = (mobility == 2) | ((mobility == 1) & (scope != SCOPE_OUTBOUND)) | ((mobility == 0) & (scope == SCOPE_LOCAL))
    missing, lacking = _missing_required(jobs.required, workers.certs, j, w, one_worker)
    if awardable is not None and lacking.nnz and missing.any():
        not_awardable = lacking.multiply(sp.csr_matrix(~awardable.astype(bool), dtype=np.float32))
        hard = np.asarray(not_awardable.sum(axis=1)).ravel() > 0
        course_reachable = (missing > 0) & ~hard
    else:
        course_reachable = np.zeros(len(j), dtype=bool)
    if len(day) and bool((day == day.flat[0]).all()):
        years = int((EPOCH + np.timedelta64(int(day.flat[0]), "D")).astype("datetime64[Y]").astype(int)) + 1970
    else:
        years = (EPOCH + day.astype("timedelta64[D]")).astype("datetime64[Y]").astype(int) + 1970
    age = years - (workers.birth_year[w[:1]] if one_worker else workers.birth_year[w])
    with np.errstate(invalid="ignore"):
        below = age < jobs.age_min[j]
        above = age > jobs.age_max[j]
    return Feasibility(
        scope=np.asarray(scope, dtype=np.int8),
        open=(jobs.posted[j] <= day) & (jobs.closes[j] >= day),
        arrears=jobs.arrears[j],
        mobility_ok=mobility_ok,
        missing_certs=missing,
        below_age=below,
        above_age=above,
        course_reachable=course_reachable,
    )


def candidates_for(
    workers: WorkerView,
    jobs: JobPool,
    w: int,
    day: int,
    *,
    age_policy: str = "strict",
    awardable: np.ndarray | None = None,
) -> tuple[np.ndarray, Feasibility, np.ndarray]:
    """Feasible open jobs for one worker: (job indices, their feasibility, course-reachable job indices)."""
    view = jobs.open_view(day)
    open_idx = view.idx
    if len(open_idx):
        return _one_worker(workers, view, w, day, age_policy, awardable)
    if not len(open_idx):
        empty = np.zeros(0, dtype=np.int64)
        return empty, check_pairs(workers, jobs, empty, empty, day), empty
    f = check_pairs(workers, jobs, np.full(len(open_idx), w), open_idx, day, awardable=awardable)
    keep = f.feasible(age_policy)
    reach = open_idx[f.course_reachable & f.mobility_ok]
    return open_idx[keep], _subset(f, keep), reach


def _one_worker(
    workers: WorkerView, view: OpenView, w: int, day: int, age_policy: str, awardable: np.ndarray | None
) -> tuple[np.ndarray, Feasibility, np.ndarray]:
    """``check_pairs`` of one worker against the day's open jobs, with the per-day work cached.

    The same rules as ``check_pairs`` (a test compares both): scope and mobility per distinct
    place, missing certificates only over the jobs that require some, age limits as posted.
    Open, listable jobs are open and not in arrears by construction.
    """
    if age_policy not in AGE_POLICIES:
        raise ValueError(f"age_policy must be one of {', '.join(AGE_POLICIES)}")
    home = workers.home_region.take(np.array([w]))
    scope_u = scope_prepared(home, view.places)
    mob = workers.mobility[w]
    mob_u = (mob == 2) | ((mob == 1) & (scope_u != SCOPE_OUTBOUND)) | ((mob == 0) & (scope_u == SCOPE_LOCAL))
    year = int((EPOCH + np.timedelta64(int(day), "D")).astype("datetime64[Y]").astype(int)) + 1970
    age = year - workers.birth_year[w : w + 1]
    # keep: mobility, certificates held, (strict) age; built from per-place and per-age parts,
    # and from the rows that require certificates only
    keep = view.age_ok(float(age[0])).copy() if age_policy == "strict" else np.ones(len(view.idx), dtype=bool)
    if not mob_u.all():
        keep &= mob_u[view.place_of]
    reach = _NO_JOBS
    if len(view.req_rows):
        lo, hi = workers.certs.indptr[w], workers.certs.indptr[w + 1]
        lack = np.ones(workers.certs.shape[1])
        lack[workers.certs.indices[lo:hi][workers.certs.data[lo:hi] != 0]] = 0.0
        miss_req = np.asarray(view.required @ lack).ravel().astype(np.int32)
        lacking = miss_req != 0
        keep[view.req_rows[lacking]] = False
        if awardable is not None and lacking.any():
            hard = np.asarray(view.required @ (lack * ~awardable.astype(bool))).ravel() > 0
            rows = view.req_rows[(miss_req > 0) & ~hard]
            reach = view.idx[rows[mob_u[view.place_of[rows]]]]
    pos = np.flatnonzero(keep)
    m = len(pos)
    with np.errstate(invalid="ignore"):
        below = age < view.age_min[pos]
        above = age > view.age_max[pos]
    feas = Feasibility(
        scope=scope_u[view.place_of[pos]],
        open=np.ones(m, dtype=bool),
        arrears=np.zeros(m, dtype=bool),
        mobility_ok=np.ones(m, dtype=bool),
        missing_certs=np.zeros(m, dtype=np.int32),
        below_age=below,
        above_age=above,
        course_reachable=np.zeros(m, dtype=bool),
    )
    return view.idx[pos], feas, reach


_NO_JOBS = np.zeros(0, dtype=np.int64)


def _subset(f: Feasibility, mask: np.ndarray) -> Feasibility:
    return Feasibility(**{name: getattr(f, name)[mask] for name in Feasibility.__dataclass_fields__})


SCOPE_NAMES_BY_CODE = {SCOPE_LOCAL: "local", SCOPE_PROVINCE: "province", SCOPE_OUTBOUND: "outbound"}
