"""A consistent read of the store for training, evaluation and serving.

Everything downstream works on frames held here, so the store is read once
per training run or per model load, never per request.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pandas as pd

from recommender.store import Store


@dataclass(slots=True)
class Snapshot:
    workers: pd.DataFrame
    jobs: pd.DataFrame  # with the employer's industry and wage-arrears flag merged in
    courses: pd.DataFrame
    placements: pd.DataFrame
    enrolments: pd.DataFrame
    employers: pd.DataFrame
    #: jobs shown to stored workers, first day shown (``served_log.impressions``); read for training only
    impressions: pd.DataFrame = field(default_factory=lambda: _no_impressions())

    @classmethod
    def from_store(cls, store: Store, *, impressions: bool = False) -> Snapshot:
        """The store's tables; with ``impressions``, also the jobs the service has shown to stored
        workers (training turns those not taken up into negatives; serving does not need them)."""
        from recommender import served_log  # imports this module's store: loaded late

        with store.begin() as conn:  # one transaction: one consistent view
            frames = {name: store.read_table(name, conn=conn) for name in
                      ("workers", "jobs", "courses", "placements", "enrolments", "employers")}
            shown = served_log.impressions(store, conn) if impressions else _no_impressions()
        return cls(
            workers=frames["workers"],
            jobs=merge_employers(frames["jobs"], frames["employers"]),
            courses=frames["courses"],
            placements=frames["placements"],
            enrolments=frames["enrolments"],
            employers=frames["employers"],
            impressions=shown,
        )

    def fingerprint(self) -> str:
        """Identifies the data a model was trained on (row counts and content)."""
        h = hashlib.sha256()
        names = ["workers", "jobs", "courses", "placements", "enrolments", "employers"]
        if len(self.impressions):  # (absent: the fingerprints of stores without a served log stay as they were)
            names.append("impressions")
        for name in names:
            frame = getattr(self, name)
            h.update(f"{name}:{len(frame)}".encode())
            if len(frame):
                h.update(pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy().tobytes())
        return h.hexdigest()[:16]

    def workers_as_of(self, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
        """Workers with ``extra_certificates``: certificates gained by certified enrolments up to ``as_of``."""
        return add_certified(self.workers, self.enrolments, self.courses, as_of)


def _no_impressions() -> pd.DataFrame:
    return pd.DataFrame({"worker_id": pd.Series(dtype=object), "job_id": pd.Series(dtype=object),
                         "date": pd.Series(dtype="datetime64[ns]")})


def merge_employers(jobs: pd.DataFrame, employers: pd.DataFrame) -> pd.DataFrame:
    cols = ["employer_id", "industry", "wage_arrears_listed"]
    if employers.empty:
        out = jobs.copy()
        out["industry"] = None
        out["wage_arrears_listed"] = pd.array([False] * len(out), dtype="boolean")
        return out
    out = jobs.merge(employers[cols], on="employer_id", how="left")
    out["wage_arrears_listed"] = out["wage_arrears_listed"].fillna(False).astype("boolean")
    return out


def add_certified(
    workers: pd.DataFrame, enrolments: pd.DataFrame, courses: pd.DataFrame, as_of: pd.Timestamp | None
) -> pd.DataFrame:
    """The contract: a certified enrolment means the worker holds the course's certificate from that date."""
    out = workers.copy()
    out["extra_certificates"] = None
    if enrolments.empty or courses.empty:
        return out
    cert = enrolments.loc[enrolments["outcome"] == "certified", ["worker_id", "course_id", "date"]]
    if as_of is not None:
        cert = cert.loc[cert["date"] <= as_of]
    cert = cert.merge(courses[["course_id", "certificate"]], on="course_id", how="inner")
    cert = cert.loc[cert["certificate"].notna()]
    if cert.empty:
        return out
    extra = cert.groupby("worker_id")["certificate"].agg(lambda s: ";".join(sorted(set(s))))
    out["extra_certificates"] = out["worker_id"].map(extra)
    return out
