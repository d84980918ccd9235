"""The Python API that serves recommendations: ``Recommender``.

Loads the promoted bundle and encodes the store's jobs and courses once with
the bundle's own encoders; per request it encodes one worker (stored, or an
inline profile validated by the import rules), filters feasible items,
pre-scores them, ranks the best few hundred with the learned ranker, applies
the policy layer and explains each item.

    rec = Recommender.load(settings)
    rec.recommend_jobs("W0000001", k=10, scope="balanced")
    rec.recommend_courses({"birth_year": 1970, "home_region": "成都市武侯区", "skills": "电焊"})
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from recommender.threads import limit_threads

from recommender.bundle import ModelBundle
from recommender.candidates import WorkerView, candidates_for, to_days
from recommender.contract import WORKERS, Kind
from recommender.errors import NotFoundError, RecommenderError
from recommender.explain import JOB_REASON_FEATURES, course_reasons, job_reasons
from recommender.features import EntityBlock, PairSet
from recommender.features.workers import ROW_COLUMNS, worker_columns, worker_row
from recommender.io.reader import RawTable
from recommender.io.validate import validate_row, validate_table
from recommender.policy import SCOPE_REQUESTS, ExposureLedger, PolicyConfig, rerank, rerank_arrays
from recommender.ranking import top_n
from recommender.regions import SCOPE_NAMES, RegionIndex
from recommender.registry import Registry
from recommender.schemas import Recommendations, RecommendedItem, WorkerProfile
from recommender.settings import Settings, get_settings
from recommender.snapshot import Snapshot, add_certified
from recommender.store import TABLES, Store
from recommender.training.courses import CoursePool, course_feasible
from recommender.training.evaluate import age_band
from recommender.training.world import EncodedWorld

EPOCH = np.datetime64("1970-01-01", "D")
_EPOCH_DATE = dt.date(1970, 1, 1)
WORKER_CACHE_SIZE = 20_000  # encoded stored workers kept between requests
#: how long an encoded stored worker is reused: a record changed through another process
#: (another API replica, an import) is read again after at most this long
WORKER_CACHE_SECONDS = 60.0
PREFETCH_CHUNK = 500  # stored workers of a batch read per pair of queries
SCORE_CHUNK = 64  # workers of a batch whose shortlists are featurised and scored in one pass
_SCOPE_NAMES = np.asarray(SCOPE_NAMES, dtype=object)
_SCOPE_CODE = {name: code for code, name in enumerate(SCOPE_NAMES)}


@lru_cache(maxsize=16)
def _id_array_cached(ids: tuple[str, ...]) -> np.ndarray:
    return np.asarray(ids, dtype=object)


def _id_array(ids: tuple[str, ...]) -> np.ndarray:
    return _id_array_cached(ids)


@dataclass(frozen=True, slots=True)
class _RankedJobs:
    """The policy's top k, best first: job index, row in the ranker's feature matrix, and the rest."""

    job: np.ndarray
    row: np.ndarray
    item_id: np.ndarray
    scope: np.ndarray
    final_score: np.ndarray
    policy_boost: np.ndarray
    flagged: np.ndarray

    @classmethod
    def empty(cls) -> _RankedJobs:
        z = np.zeros(0, dtype=np.intp)
        return cls(z, z, np.zeros(0, dtype=object), np.zeros(0, dtype=object), np.zeros(0), np.zeros(0), np.zeros(0, dtype=bool))

    def __len__(self) -> int:
        return len(self.job)


@dataclass(frozen=True, slots=True)
class JobQuery:
    """One ``recommend_jobs`` call's arguments (for ``recommend_jobs_many``)."""

    worker: str | WorkerProfile | Mapping[str, Any]
    k: int = 10
    scope: str = "all"
    as_of: dt.date | str | None = None
    age_policy: str | None = None
    older_worker_weight: float | None = None


@dataclass(frozen=True, slots=True)
class _Shortlist:
    """A worker's pre-scored candidates, best first: job index, scope code, age-limit flag."""

    job: np.ndarray
    scope: np.ndarray
    flagged: np.ndarray


def _stack_blocks(blocks: Sequence[EntityBlock]) -> EntityBlock:
    """One-row worker blocks (same encoder, so the same vocabulary) as one block."""
    first = blocks[0]
    return EntityBlock(
        ids=np.concatenate([b.ids for b in blocks]),
        skills=sp.vstack([b.skills for b in blocks], format="csr"),
        certs=sp.vstack([b.certs for b in blocks], format="csr"),
        occupations=sp.vstack([b.occupations for b in blocks], format="csr"),
        num={name: np.concatenate([b.num[name] for b in blocks]) for name in first.num},
        skill_ids=first.skill_ids, cert_ids=first.cert_ids, occupation_codes=first.occupation_codes,
    )


class ProfileError(RecommenderError, ValueError):
    """An inline profile that breaks the data contract; ``errors`` says where."""

    code = "invalid_profile"

    def __init__(self, errors: list[Any]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.column}: {e.reason}" for e in errors) or "invalid profile")


@lru_cache(maxsize=4)
def _names(taxonomy_dir: str | None) -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]]]:
    from recommender.taxonomy import load_taxonomy

    tax = load_taxonomy(taxonomy_dir)
    skills = {r.skill_id: (r.name_zh, r.name_en) for r in tax.skills.itertuples()}
    certs = {r.cert_id: (r.name_zh, r.name_en) for r in tax.certificates.itertuples()}
    return skills, certs


@dataclass
class _Worker:
    worker_id: str | None
    block: EntityBlock
    view: WorkerView
    expected_wage: float | None  # as written (the block holds it as float32)


_TEXT_KINDS = (Kind.ID, Kind.TEXT, Kind.ENUM, Kind.LIST, Kind.REGION)
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_STORED_COLUMNS = tuple(c for c in WORKERS.columns if c.name in ROW_COLUMNS)


class _Fallback(Exception):
    """A stored value the one-row reader does not take: the general (frame) path reads it."""


def _stored_value(kind: Kind, v: Any) -> Any:
    """A value as the store's driver returns it -> as ``worker_columns`` holds it after ``read_table``.

    Only the plain types the importer writes are taken (their conversion is exact);
    anything else raises ``_Fallback`` rather than guessing what ``read_table`` does with it.
    """
    if v is None:
        return np.nan if kind in (Kind.INT, Kind.NUMBER, Kind.DATE) else None
    t = type(v)
    if kind in _TEXT_KINDS and t is str:
        return v
    if kind == Kind.INT and t is int:
        return float(v)
    if kind == Kind.NUMBER and t in (int, float):
        return float(v)
    if kind == Kind.DATE:
        text = v if t is str else v.isoformat() if t is dt.date else None
        if text is not None and len(text) == 10 and _ISO_DAY.fullmatch(text):
            try:
                day = dt.date.fromisoformat(text)
            except ValueError:
                raise _Fallback from None
            if 1678 <= day.year <= 2261:  # inside pandas' nanosecond range: same day, no NaT
                return float((day - _EPOCH_DATE).days)
    raise _Fallback


def _record_row(record: Mapping[str, object]) -> dict[str, object]:
    """A ``validate_row`` worker record -> the ``worker_columns`` row ``encode_row`` takes:
    what ``worker_row(worker_columns(record_frame(WORKERS, record)), 0)`` gives, without the frame.

    Text as is (``None`` missing), numbers as float (NaN missing), dates as days since
    1970-01-01 by ``day_col``'s numpy cast; no ``extra_certificates`` (a profile has no enrolments).
    """
    row: dict[str, object] = {}
    for name in ROW_COLUMNS:
        v = record.get(name)
        if name in _ROW_NUMBERS:
            row[name] = np.nan if v is None else float(v)  # type: ignore[arg-type]
        elif name in _ROW_DAYS:
            row[name] = np.nan if v is None else float(
                (pd.Timestamp(v).to_datetime64().astype("datetime64[ns]").astype("datetime64[D]") - EPOCH).astype(np.float64))
        else:
            row[name] = v
    return row


_ROW_NUMBERS = frozenset({"birth_year", "experience_years", "expected_wage"})
_ROW_DAYS = frozenset({"registered_on"})


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class Recommender:
    """Recommendations from one model version over the store's jobs and courses."""

    def __init__(self, bundle: ModelBundle, manifest: Mapping[str, Any], snapshot: Snapshot, *, store: Store | None = None,
                 settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.bundle = bundle
        self.manifest = dict(manifest)
        self.version = str(manifest.get("version", "unversioned"))
        self.store = store
        self.snapshot = snapshot
        enc = bundle.encoders
        jobs = enc.jobs.transform(snapshot.jobs)
        courses = enc.courses.transform(snapshot.courses)
        empty_workers = snapshot.workers.iloc[:0].assign(extra_certificates=None)
        self.world = EncodedWorld.from_blocks(snapshot, enc, empty_workers, enc.workers.transform(empty_workers), jobs, courses)
        self.course_pool = CoursePool.build(snapshot.courses)
        bundle.jobs.ranker.featurizer_.prepare(jobs)  # item-side caches built now, not on the first request
        if bundle.courses is not None:
            bundle.courses.ranker.featurizer_.prepare(courses)
        self.policy = PolicyConfig(
            older_worker_weight=self.settings.older_worker_weight, older_worker_age=self.settings.older_worker_age
        )
        j = snapshot.jobs
        self._jobs = j.reset_index(drop=True)
        self._courses = snapshot.courses.reset_index(drop=True)
        # plain object arrays: per-item lookups on the request path without pandas indexing
        self._job_cols = {c: self._jobs[c].astype(object).where(self._jobs[c].notna(), None).to_numpy()
                          for c in ("title", "region", "employer_id", "wage_min", "wage_max", "housing",
                                    "social_insurance", "employment_type")}
        names = snapshot.employers.set_index("employer_id")["name"] if len(snapshot.employers) else pd.Series(dtype=object)
        self._employer_names = j["employer_id"].map(names).to_numpy(dtype=object)
        self._employer_ids = self._jobs["employer_id"].to_numpy(dtype=object)
        self._job_feature_names = list(bundle.jobs.feature_names())
        # the features an item's explanation reads (distance and net income among them), and their columns
        reason_names = [f for f in JOB_REASON_FEATURES if f in self._job_feature_names]
        self._reason_columns = (reason_names, np.array([self._job_feature_names.index(f) for f in reason_names], dtype=np.intp))
        self._public_welfare = (j["employment_type"] == "public_welfare").to_numpy()
        self._occupation = self._top_occupation(jobs)
        posted = to_days(j["posted_on"], missing=0) if len(j) else np.zeros(0, dtype=np.int64)
        self.horizon = int(posted.max()) if len(posted) else int(to_days(pd.Timestamp.today())[0])
        self._lock = threading.Lock()
        self._default_as_of: tuple[dt.date, dt.date] | None = None
        self._snap_index: tuple[dict[str, list[int]], dict[str, list[int]]] | None = None
        self._snap_cols: tuple[dict[str, np.ndarray], np.ndarray, np.ndarray] | None = None
        self._course_certs: dict[object, list[str]] | None = None
        self._worker_cache: OrderedDict[str, tuple[float, _Worker]] = OrderedDict()  # id -> (when encoded, encoded)

    # ---- loading --------------------------------------------------------------

    @classmethod
    def load(cls, settings: Settings | None = None, *, store: Store | None = None, version: str | None = None) -> Recommender:
        """The promoted model (or ``version``) over the store's current jobs and courses."""
        settings = settings or get_settings()
        store = store or Store(settings.db)
        bundle, manifest = Registry(settings.models).load(version)
        if not isinstance(bundle, ModelBundle):
            raise RecommenderError(f"model {manifest.get('version')} is not a recommender bundle")
        return cls(bundle, manifest, Snapshot.from_store(store), store=store, settings=settings)

    @staticmethod
    def _top_occupation(block: EntityBlock) -> np.ndarray:
        occ = sp.csr_matrix(block.occupations)
        codes = np.asarray(block.occupation_codes, dtype=object)
        out = np.full(occ.shape[0], None, dtype=object)
        if occ.nnz and len(codes):
            best = np.asarray(occ.argmax(axis=1)).ravel()
            has = np.diff(occ.indptr) > 0
            out[has] = codes[best[has]]
        return out

    # ---- workers ----------------------------------------------------------------

    def _stored_worker(self, worker_id: str) -> pd.DataFrame:
        """The general path: the worker's typed frame with ``extra_certificates``."""
        if self.store is None:
            rows, enrol_rows = self._snapshot_index()
            frame = self.snapshot.workers.iloc[rows.get(worker_id, [])]
            enrol = self.snapshot.enrolments.iloc[enrol_rows.get(worker_id, [])]
        else:
            frame = self.store.read_table("workers", where=TABLES["workers"].c.worker_id == worker_id)
            enrol = self.store.read_table("enrolments", where=TABLES["enrolments"].c.worker_id == worker_id)
        if frame.empty:
            raise NotFoundError(f"unknown worker_id {worker_id}")
        return add_certified(frame.reset_index(drop=True), enrol, self.snapshot.courses, None)

    def _stored_row(self, worker_id: str) -> dict[str, object] | None:
        """The stored worker as one ``worker_columns`` row, with ``extra_certificates``
        as ``add_certified`` gives them; ``None`` when only the general path can read it.

        Without a store: rows of the snapshot's columns, converted once. With one: the
        driver's raw values, converted here (``read_table`` costs milliseconds per row in
        pandas coercion).
        """
        if self.store is None:
            rows, enrol_rows = self._snapshot_index()
            pos = rows.get(worker_id)
            if pos is None:
                raise NotFoundError(f"unknown worker_id {worker_id}")
            if len(pos) != 1:
                return None
            cols, course, outcome = self._snapshot_columns()
            row = worker_row(cols, pos[0])
            row["extra_certificates"] = self._certified((course[k], outcome[k]) for k in enrol_rows.get(worker_id, []))
            return row
        with self.store.engine.connect() as conn:
            found = self.store.raw_rows("workers", worker_id, columns=[c.name for c in _STORED_COLUMNS], conn=conn)
            if len(found) != 1:
                if not found:
                    raise NotFoundError(f"unknown worker_id {worker_id}")
                return None
            enrol = self.store.raw_rows("enrolments", worker_id, columns=("course_id", "outcome"), by="worker_id", conn=conn)
        return self._row_from_raw(found[0], enrol)

    def _row_from_raw(self, found: Sequence[object], enrol: Iterable[Sequence[object]]) -> dict[str, object] | None:
        """A stored worker's raw values and (course_id, outcome) enrolments -> a ``worker_columns`` row."""
        try:
            row = {c.name: _stored_value(c.kind, v) for c, v in zip(_STORED_COLUMNS, found, strict=True)}
            pairs = [(_stored_value(Kind.ID, c), _stored_value(Kind.ENUM, o)) for c, o in enrol]
        except _Fallback:
            return None
        row["extra_certificates"] = self._certified(pairs)
        return row

    def _prefetch(self, worker_ids: Sequence[str]) -> None:
        """Encode a batch's stored workers with two queries per ``PREFETCH_CHUNK`` ids, not two per worker.

        Against a database server each query is a round trip (the 1 M-worker batch
        read PostgreSQL at a quarter of SQLite's rate). Ids that are unknown, stored
        twice or declined by the row reader are left to the one-by-one path, which
        reports them as before.
        """
        if self.store is None:
            return
        with self._lock:
            todo = [w for w in dict.fromkeys(worker_ids) if w not in self._worker_cache]
        columns = [c.name for c in _STORED_COLUMNS]
        for a in range(0, len(todo), PREFETCH_CHUNK):
            chunk = todo[a : a + PREFETCH_CHUNK]
            with self.store.engine.connect() as conn:
                found = self.store.raw_rows_in("workers", chunk, columns=columns, conn=conn)
                enrol = self.store.raw_rows_in("enrolments", chunk, columns=("course_id", "outcome"), by="worker_id", conn=conn)
            rows: dict[object, list[Sequence[object]]] = {}
            for r in found:
                rows.setdefault(r[0], []).append(r[1:])
            enrolments: dict[object, list[Sequence[object]]] = {}
            for r in enrol:
                enrolments.setdefault(r[0], []).append(r[1:])
            for wid, got in rows.items():
                if len(got) != 1 or not isinstance(wid, str):
                    continue
                row = self._row_from_raw(got[0], enrolments.get(wid, ()))
                if row is None:
                    continue
                self._remember(wid, self._encode_row(wid, row))

    def _certified(self, enrolments: Iterable[tuple[object, object]]) -> str | None:
        """``add_certified`` (as of any date) for one worker's (course_id, outcome) pairs."""
        found: set[str] = set()
        certs = self._course_certificates()
        for course, outcome in enrolments:
            if outcome == "certified":
                found.update(certs.get(course, ()))
        return ";".join(sorted(found)) if found else None

    def _course_certificates(self) -> dict[object, list[str]]:
        """Course id -> the certificate(s) it awards (built once)."""
        if self._course_certs is None:
            c = self.snapshot.courses
            out: dict[object, list[str]] = {}
            if len(c):
                for course, cert in zip(c["course_id"].tolist(), c["certificate"].tolist(), strict=True):
                    if not pd.isna(cert):
                        out.setdefault(course, []).append(cert)
            self._course_certs = out
        return self._course_certs

    def _snapshot_columns(self) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
        """The snapshot's workers as ``worker_columns`` arrays, and its enrolments' course
        ids and outcomes as object arrays (built once)."""
        if self._snap_cols is None:
            e = self.snapshot.enrolments
            self._snap_cols = (
                worker_columns(self.snapshot.workers),
                e["course_id"].to_numpy(dtype=object, na_value=None),
                e["outcome"].to_numpy(dtype=object, na_value=None),
            )
        return self._snap_cols

    def _snapshot_index(self) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
        """Row positions of each worker id in the snapshot's workers and enrolments (built once)."""
        if self._snap_index is None:
            def positions(ids: pd.Series) -> dict[str, list[int]]:
                out: dict[str, list[int]] = {}
                for pos, wid in enumerate(ids.tolist()):
                    out.setdefault(wid, []).append(pos)
                return out

            self._snap_index = (positions(self.snapshot.workers["worker_id"]), positions(self.snapshot.enrolments["worker_id"]))
        return self._snap_index

    @staticmethod
    def _profile_cells(profile: WorkerProfile | Mapping[str, Any]) -> dict[str, str | None]:
        """The profile as contract cells (text), as an import file would hold them."""
        data = profile.model_dump() if isinstance(profile, WorkerProfile) else dict(profile)
        data.pop("gender", None)  # never an input
        data["worker_id"] = str(data.get("worker_id") or "profile")
        return {c: _cell(data.get(c)) for c in WORKERS.column_names}

    def _validated_profile(self, profile: WorkerProfile | Mapping[str, Any]) -> pd.DataFrame:
        """The general path: the profile as a one-row ``RawTable`` through ``validate_table``
        (the reference ``_profile_record`` is tested against)."""
        cells = pd.DataFrame({c: [v] for c, v in self._profile_cells(profile).items()}, dtype=object)
        raw = RawTable(file="profile", spec=WORKERS, cells=cells, rows=np.array([1]), rows_read=1)
        table = validate_table(raw, max_cell_chars=self.settings.max_cell_chars)
        if table.errors or table.frame.empty:
            raise ProfileError(table.errors)
        return table.frame

    def _profile_record(self, profile: WorkerProfile | Mapping[str, Any]) -> dict[str, object]:
        """The request path: the same rules by ``validate_row``, without a frame (~15 us, not ~1 ms)."""
        record, errors = validate_row(WORKERS, self._profile_cells(profile), file="profile", row=1,
                                      max_cell_chars=self.settings.max_cell_chars)
        if record is None:
            raise ProfileError(errors)
        return record

    def _profile_frame(self, profile: WorkerProfile | Mapping[str, Any]) -> pd.DataFrame:
        """The general path: the validated profile with (no) ``extra_certificates``."""
        return add_certified(self._validated_profile(profile), self.snapshot.enrolments.iloc[:0], self.snapshot.courses, None)

    def invalidate(self, worker_id: str | None = None) -> None:
        """Forget the encoded form of a stored worker (all, without an id) after their record changed."""
        with self._lock:
            if worker_id is None:
                self._worker_cache.clear()
            else:
                self._worker_cache.pop(worker_id, None)

    def _worker(self, worker: str | WorkerProfile | Mapping[str, Any]) -> _Worker:
        if isinstance(worker, str):
            with self._lock:
                hit = self._worker_cache.get(worker)
                if hit is not None:
                    if time.monotonic() - hit[0] <= WORKER_CACHE_SECONDS:
                        self._worker_cache.move_to_end(worker)
                        return hit[1]
                    del self._worker_cache[worker]
            row = self._stored_row(worker)
            encoded = self._encode_row(worker, row) if row is not None else self._worker_general(worker)
            self._remember(worker, encoded)
            return encoded
        record = self._profile_record(worker)
        wid = worker.worker_id if isinstance(worker, WorkerProfile) else (worker.get("worker_id") if isinstance(worker, Mapping) else None)
        return self._encode_row(wid, _record_row(record))

    def _remember(self, worker_id: str, encoded: _Worker) -> None:
        """Keep an encoded stored worker (least recently used dropped past ``WORKER_CACHE_SIZE``)."""
        with self._lock:
            self._worker_cache[worker_id] = (time.monotonic(), encoded)
            if len(self._worker_cache) > WORKER_CACHE_SIZE:
                self._worker_cache.popitem(last=False)

    def _encode_row(self, worker_id: str | None, row: Mapping[str, object]) -> _Worker:
        """One worker from a ``worker_columns`` row: the one-row fast paths of the encoder and view."""
        block = self.bundle.encoders.workers.encode_row(row)
        wage = float(row["expected_wage"])  # type: ignore[arg-type]
        return _Worker(worker_id, block, WorkerView.from_row(row, block.certs), None if np.isnan(wage) else wage)

    def _worker_general(self, worker: str | WorkerProfile | Mapping[str, Any]) -> _Worker:
        """The frame path (typed frame -> ``transform`` -> ``WorkerView.build``): the reference
        the fast paths are tested against, and the reader of anything they decline."""
        if isinstance(worker, str):
            frame, wid = self._stored_worker(worker), worker
        else:
            frame = self._profile_frame(worker)
            wid = worker.worker_id if isinstance(worker, WorkerProfile) else (worker.get("worker_id") if isinstance(worker, Mapping) else None)
        block = self.bundle.encoders.workers.transform(frame)
        expected = frame["expected_wage"].iloc[0]
        return _Worker(wid, block, WorkerView.build(frame, block.certs), None if pd.isna(expected) else float(expected))

    # ---- dates ------------------------------------------------------------------

    def default_as_of(self) -> dt.date:
        """Today, unless the store is a historical data set with nothing open today: then its last posting day."""
        key = dt.date.today()
        hit = self._default_as_of
        if hit is not None and hit[0] == key:  # jobs are fixed for this object's life: once per calendar day
            return hit[1]
        date = self._compute_default_as_of()
        self._default_as_of = (key, date)
        return date

    def _compute_default_as_of(self) -> dt.date:
        today = int(to_days(pd.Timestamp.today().normalize())[0])
        open_today = self.world.job_pool.open_on(today).any() if len(self.world.job_pool) else False
        day = today if open_today or today <= self.horizon else self.horizon
        return (EPOCH + np.timedelta64(day, "D")).astype(dt.date)

    def _day(self, as_of: dt.date | str | None) -> tuple[int, dt.date]:
        if type(as_of) is dt.date:  # the API's parsed dates: plain arithmetic, no pandas
            return (as_of - _EPOCH_DATE).days, as_of
        date = pd.Timestamp(as_of).date() if as_of is not None else self.default_as_of()
        return int(to_days(pd.Timestamp(date))[0]), date

    # ---- jobs -------------------------------------------------------------------

    def _shortlist(self, w: _Worker, day: int, *, scope: str, age_policy: str) -> _Shortlist | None:
        """The worker's feasible jobs in ``scope``, cut to the best ``max_candidates`` by the
        pre-score (best first, ties in job order, as the offline evaluation keeps them)."""
        cand, feas, _ = candidates_for(w.view, self.world.job_pool, 0, day, age_policy=age_policy)
        if scope in ("local", "province", "outbound"):
            keep_scope = feas.scope == _SCOPE_CODE[scope]
            cand, feas_scope, flagged = cand[keep_scope], feas.scope[keep_scope], feas.above_age[keep_scope] | feas.below_age[keep_scope]
        else:
            feas_scope, flagged = feas.scope, feas.above_age | feas.below_age
        if not len(cand):
            return None
        with limit_threads(1):
            # the pre-score of one worker without building its pairs
            pre = self.bundle.jobs.prescorer.score_one(w.block, self.world.jobs, cand, feas_scope)
        top = top_n(pre, self.settings.max_candidates)
        return _Shortlist(job=cand[top], scope=feas_scope[top], flagged=flagged[top])

    def _score_shortlists(self, workers: Sequence[_Worker], lists: Sequence[_Shortlist], day: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Pair features and ranker scores of several workers' shortlists in one pass.

        Features are computed pair by pair and the trees score row by row, so one
        pass over all the pairs gives each worker exactly the numbers of its own pass
        (a test compares them) at a fraction of the per-call cost: a batch scores
        ``SCORE_CHUNK`` workers at a time.
        """
        model = self.bundle.jobs
        as_of = EPOCH + np.timedelta64(day, "D")
        with limit_threads(1):
            if len(workers) == 1:
                pairs = PairSet.one_to_many(workers[0].block, self.world.jobs, as_of, items_idx=lists[0].job)
            else:
                block = _stack_blocks([w.block for w in workers])
                sizes = np.array([len(s.job) for s in lists])
                pairs = PairSet(block, self.world.jobs, np.repeat(np.arange(len(workers)), sizes),
                                np.concatenate([s.job for s in lists]), as_of)
            X = model.ranker.featurizer_.transform(pairs)
            scores = model.ranker.predict_features(X)
        if len(workers) == 1:
            return [(X, scores)]
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        return [(X[a:b], scores[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

    def _policy_rank(self, w: _Worker, day: int, short: _Shortlist, scores: np.ndarray, *, k: int, scope: str,
                     cfg: PolicyConfig, blocked: set[str] | None = None) -> _RankedJobs:
        """The policy layer over a scored shortlist: older-worker boosts, scopes, diversity, caps."""
        pool, sub = self.world.job_pool, short.job
        age = self._age(w, day)
        scopes = _SCOPE_NAMES[short.scope]
        ranked = rerank_arrays(
            scores, scopes, pool.ids[sub], age=age, k=k, scope_request=scope, cfg=cfg, blocked=blocked,
            employer=self._employer_ids[sub], occupation=self._occupation[sub],
            age_friendly=~(pool.age_max[sub] < age + 5), public_welfare=self._public_welfare[sub],
        )
        pos = ranked.positions
        return _RankedJobs(
            job=sub[pos], row=pos, item_id=pool.ids[sub[pos]], scope=scopes[pos], final_score=ranked.final_score[pos],
            policy_boost=ranked.policy_boost[pos], flagged=short.flagged[pos],
        )

    @staticmethod
    def _age(w: _Worker, day: int) -> float:
        year = int((EPOCH + np.timedelta64(day, "D")).astype("datetime64[Y]").astype(int) + 1970)
        return float(year - float(w.view.birth_year[0]))

    def _job_items(self, w: _Worker, ranked: _RankedJobs, X: np.ndarray, day: int) -> list[RecommendedItem]:
        skills_names, cert_names = _names(self.settings.taxonomy_extra and str(self.settings.taxonomy_extra))
        names, cols = self._reason_columns
        jobs_block = self.world.jobs
        skill_ids, cert_ids = _id_array(w.block.skill_ids), _id_array(w.block.cert_ids)
        ws, wc = w.block.skills, w.block.certs
        w_sk = set(skill_ids[ws.indices[ws.indptr[0]:ws.indptr[1]]])
        w_ct = set(cert_ids[wc.indices[wc.indptr[0]:wc.indptr[1]]])
        expected = w.expected_wage
        older = self._age(w, day) >= self.policy.older_worker_age
        job_skill_ids, job_cert_ids = _id_array(jobs_block.skill_ids), _id_array(jobs_block.cert_ids)
        sk, req = jobs_block.skills, self.world.job_pool.required
        items = []
        for n in range(len(ranked)):
            j, boost, scope = int(ranked.job[n]), float(ranked.policy_boost[n]), str(ranked.scope[n])
            feats = dict(zip(names, X[int(ranked.row[n]), cols].tolist(), strict=True))
            job_sk = job_skill_ids[sk.indices[sk.indptr[j]:sk.indptr[j + 1]]]
            job_ct = job_cert_ids[req.indices[req.indptr[j]:req.indptr[j + 1]]]
            matched = [skills_names.get(s, (s, s)) for s in job_sk if s in w_sk]
            missing = [skills_names.get(s, (s, s)) for s in job_sk if s not in w_sk]
            missing_certs = [cert_names.get(c, (c, c)) for c in job_ct if c not in w_ct]
            reasons, warnings = job_reasons(
                feats, scope=scope, matched=matched, missing=missing, missing_certs=missing_certs,
                expected_wage=expected, older_worker_priority=older and boost > 0, age_flagged=bool(ranked.flagged[n]),
            )
            col = {name: values[j] for name, values in self._job_cols.items()}
            region = str(col["region"])
            items.append(
                RecommendedItem(
                    item_type="job", item_id=str(ranked.item_id[n]), rank=n + 1, score=round(float(ranked.final_score[n]), 5),
                    title=str(col["title"]), region=region, place=_place(region), scope=scope,
                    distance_km=_round(feats.get("distance_km")), reasons=reasons, warnings=warnings,
                    employer_id=_str(col["employer_id"]), employer_name=_str(self._employer_names[j]),
                    wage_min=_int(col["wage_min"]), wage_max=_int(col["wage_max"]),
                    net_income=_round(feats.get("net_income")), housing=_bool(col["housing"]),
                    social_insurance=_bool(col["social_insurance"]), employment_type=_str(col["employment_type"]),
                    older_worker_priority=older and boost > 0,
                )
            )
        return items

    def recommend_jobs(
        self,
        worker: str | WorkerProfile | Mapping[str, Any],
        *,
        k: int = 10,
        scope: str = "all",
        as_of: dt.date | str | None = None,
        age_policy: str | None = None,
        older_worker_weight: float | None = None,
        ledger: ExposureLedger | None = None,
    ) -> Recommendations:
        """Top ``k`` feasible jobs for a stored worker (by id) or an inline profile."""
        query = JobQuery(worker, k=k, scope=scope, as_of=as_of, age_policy=age_policy, older_worker_weight=older_worker_weight)
        (result,) = self._jobs_many([query], ledger)
        if isinstance(result, RecommenderError):
            raise result
        return result

    def recommend_jobs_many(self, queries: Sequence[JobQuery]) -> list[Recommendations | RecommenderError]:
        """Several independent ``recommend_jobs`` calls at once, each result (or its error) the one
        that call gives alone; the shortlists of the same day are featurised and scored in one pass.

        What a server does with the requests that queued while it was busy: no exposure
        ledger between them (they are different callers), one pass instead of one each.
        """
        return self._jobs_many(queries, None)

    def _jobs_many(self, queries: Sequence[JobQuery], ledger: ExposureLedger | None) -> list[Recommendations | RecommenderError]:
        """Each query's shortlist; one scoring pass per day; then the policy layer query by query,
        in input order, through ``ledger`` when there is one (a batch's caps)."""
        out: list[Recommendations | RecommenderError | None] = [None] * len(queries)
        found: list[tuple[int, JobQuery, _Worker, int, dt.date, _Shortlist | None]] = []
        for n, q in enumerate(queries):
            try:
                if q.scope not in SCOPE_REQUESTS:
                    raise RecommenderError(f"scope must be one of {', '.join(SCOPE_REQUESTS)}")
                w = self._worker(q.worker)
                day, date = self._day(q.as_of)
                short = self._shortlist(w, day, scope=q.scope, age_policy=q.age_policy or self.settings.age_policy)
                found.append((n, q, w, day, date, short))
            except RecommenderError as exc:
                out[n] = exc
        by_day: dict[int, list[tuple[int, _Worker, _Shortlist]]] = {}
        for n, _, w, day, _, short in found:
            if short is not None:
                by_day.setdefault(day, []).append((n, w, short))
        scored: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for day, group in by_day.items():
            results = self._score_shortlists([w for _, w, _ in group], [short for _, _, short in group], day)
            scored.update(zip([n for n, _, _ in group], results, strict=True))
        for n, q, w, day, date, short in found:
            cfg = self.policy.with_overrides(older_worker_weight=q.older_worker_weight)
            out[n] = self._job_recommendations(w, day, date, short, scored.get(n), k=q.k, scope=q.scope, cfg=cfg, ledger=ledger)
        return out  # type: ignore[return-value]

    def _job_recommendations(self, w: _Worker, day: int, date: dt.date, short: _Shortlist | None,
                             scored: tuple[np.ndarray, np.ndarray] | None, *, k: int, scope: str, cfg: PolicyConfig,
                             ledger: ExposureLedger | None) -> Recommendations:
        """A scored shortlist through the policy layer (and the batch's ledger) into explained items."""
        items: list[RecommendedItem] = []
        if short is not None and scored is not None:
            X, scores = scored
            blocked = ledger.full() if ledger is not None else None
            ranked = self._policy_rank(w, day, short, scores, k=k, scope=scope, cfg=cfg, blocked=blocked)
            if len(ranked):
                if ledger is not None:
                    ledger.record(ranked.item_id.tolist())
                items = self._job_items(w, ranked, X, day)
        return Recommendations(
            worker_id=w.worker_id, item_type="job", as_of=date, scope=scope, model_version=self.version,
            age_band=str(age_band(self._age(w, day))), items=items,
        )

    # ---- courses ----------------------------------------------------------------

    def recommend_courses(
        self,
        worker: str | WorkerProfile | Mapping[str, Any],
        *,
        k: int = 5,
        as_of: dt.date | str | None = None,
        older_worker_weight: float | None = None,
    ) -> Recommendations:
        """Courses that close the worker's skill gap, with subsidy, own cost and the jobs they open."""
        w = self._worker(worker)
        day, date = self._day(as_of)
        model = self.bundle.courses
        items: list[RecommendedItem] = []
        n = len(self.course_pool)
        if model is not None and n:
            all_c = np.arange(n)
            ok, scope = course_feasible(w.view, self.course_pool, np.zeros(n, dtype=np.int64), all_c, day)
            cand = all_c[ok]
            if len(cand):
                as_of64 = EPOCH + np.timedelta64(day, "D")
                pairs = PairSet.one_to_many(w.block, self.world.courses, as_of64, items_idx=cand)
                with limit_threads(1):
                    X = model.ranker.featurizer_.transform(pairs)
                    scores = model.ranker.predict_features(X)
                _, _, reach = candidates_for(w.view, self.world.job_pool, 0, day, awardable=self.world.awardable)
                opens = self.world.course_jobs[cand][:, reach] if len(reach) else None
                n_open = np.asarray(opens.sum(axis=1)).ravel() if opens is not None else np.zeros(len(cand))
                scope_names = np.asarray(SCOPE_NAMES)[scope[ok]]
                frame = pd.DataFrame({"item_id": self.course_pool.ids[cand], "score": scores, "scope": scope_names,
                                      "row_": np.arange(len(cand)), "course_": cand, "opens_": n_open,
                                      "age_friendly": True})
                cfg = self.policy.with_overrides(older_worker_weight=older_worker_weight, max_per_employer=k, max_per_occupation=k)
                ranked = rerank(frame, age=self._age(w, day), k=k, scope="all", cfg=cfg)
                items = self._course_items(w, ranked, X, reach, day)
        return Recommendations(
            worker_id=w.worker_id, item_type="course", as_of=date, scope="all", model_version=self.version,
            age_band=str(age_band(self._age(w, day))), items=items,
        )

    def _course_items(self, w: _Worker, ranked: pd.DataFrame, X: np.ndarray, reach: np.ndarray, day: int) -> list[RecommendedItem]:
        skills_names, _ = _names(self.settings.taxonomy_extra and str(self.settings.taxonomy_extra))
        names = list(self.bundle.courses.feature_names())
        block = self.world.courses
        w_sk = set(np.asarray(w.block.skill_ids, dtype=object)[w.block.skills[0].indices])
        older = self._age(w, day) >= self.policy.older_worker_age
        items = []
        for row in ranked.itertuples(index=False):
            c = int(row.course_)
            feats = dict(zip(names, X[int(row.row_)].tolist(), strict=True))
            src = self._courses.iloc[c]
            course_sk = np.asarray(block.skill_ids, dtype=object)[block.skills[c].indices]
            new = [skills_names.get(s, (s, s)) for s in course_sk if s not in w_sk]
            fee, subsidy = _int(src["fee"]), _int(src["subsidy"])
            own = max(0, (fee or 0) - (subsidy or 0)) if fee is not None else None
            opens_idx = reach[self.world.course_jobs[c][:, reach].indices] if len(reach) else np.zeros(0, dtype=int)
            opens = [str(x) for x in self.world.job_pool.ids[opens_idx][:20]]
            reasons, warnings = course_reasons(
                feats, scope=row.scope, new_skills=new, certificate=_str(src["certificate"]), own_cost=own,
                subsidy=subsidy, opens_jobs=len(opens_idx), older_worker_priority=older and float(getattr(row, "policy_boost", 0) or 0) > 0,
            )
            region = str(src["region"])
            start = src["start_on"]
            items.append(
                RecommendedItem(
                    item_type="course", item_id=str(row.item_id), rank=int(row.rank), score=round(float(row.final_score), 5),
                    title=str(src["title"]), region=region, place=_place(region), scope=row.scope,
                    distance_km=_round(feats.get("distance_km")), reasons=reasons, warnings=warnings,
                    certificate=_str(src["certificate"]), fee=fee, subsidy=subsidy, own_cost=own,
                    start_on=None if pd.isna(start) else pd.Timestamp(start).date(), mode=_str(src["mode"]), opens_jobs=opens,
                )
            )
        return items

    # ---- batch ------------------------------------------------------------------

    def new_ledger(self) -> ExposureLedger:
        """An exposure ledger holding every job's batch cap (from its openings)."""
        ledger = ExposureLedger(self.policy)
        ledger.register(pd.DataFrame({"item_id": self.world.job_pool.ids, "openings": self._jobs["openings"].astype("Float64")}))
        return ledger

    def recommend_batch(
        self,
        workers: Sequence[str | WorkerProfile | Mapping[str, Any]],
        *,
        item_type: str = "job",
        k: int = 10,
        scope: str = "all",
        as_of: dt.date | str | None = None,
        age_policy: str | None = None,
        ledger: ExposureLedger | None = None,
        caps: bool = True,
    ) -> list[Recommendations | RecommenderError]:
        """Many workers at once; job exposure is capped by openings across the batch.

        An unknown worker or invalid profile yields its error in place, so one bad
        entry never costs the others their recommendations. ``ledger`` lets a caller
        share caps across calls (a partition of a larger batch); ``caps=False`` lifts them.
        """
        if ledger is None and caps:
            ledger = self.new_ledger()
        if as_of is not None and type(as_of) is not dt.date:
            as_of = self._day(as_of)[1]  # parsed once, not once per worker
        out: list[Recommendations | RecommenderError] = []
        workers = list(workers)
        for a in range(0, len(workers), PREFETCH_CHUNK):  # chunks: the prefetched stay in the worker cache until used
            chunk = workers[a : a + PREFETCH_CHUNK]
            self._prefetch([w for w in chunk if isinstance(w, str)])
            if item_type == "course":
                for worker in chunk:
                    try:
                        out.append(self.recommend_courses(worker, k=k, as_of=as_of))
                    except RecommenderError as exc:
                        out.append(exc)
                continue
            for b in range(0, len(chunk), SCORE_CHUNK):  # the ledger still sees the workers one by one, in input order
                queries = [JobQuery(w, k=k, scope=scope, as_of=as_of, age_policy=age_policy) for w in chunk[b : b + SCORE_CHUNK]]
                out.extend(self._jobs_many(queries, ledger))
        return out


@lru_cache(maxsize=65536)
def _place(code: str) -> str | None:
    try:
        return RegionIndex.default().get(code).full_name
    except Exception:  # an unknown code never breaks a response
        return None


def _str(v: Any) -> str | None:
    return None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else str(v)


def _int(v: Any) -> int | None:
    return None if v is None or pd.isna(v) else int(v)


def _bool(v: Any) -> bool | None:
    return None if v is None or pd.isna(v) else bool(v)


def _round(v: Any, nd: int = 1) -> float | None:
    if v is None:
        return None
    f = float(v)
    return None if np.isnan(f) else round(f, nd)
