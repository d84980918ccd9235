"""The encoded world: a store snapshot turned into blocks, pools and views once.

Training, evaluation and serving all start from this object, so the features
a model was trained on and the features it serves are computed by the same
fitted encoders.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender.candidates import JobPool, WorkerView
from recommender.features import CourseEncoder, EntityBlock, JobEncoder, WorkerEncoder
from recommender.snapshot import Snapshot


@dataclass
class Encoders:
    workers: WorkerEncoder
    jobs: JobEncoder
    courses: CourseEncoder

    @classmethod
    def fit(cls, taxonomy_dir: Path | None = None) -> Encoders:
        return cls(
            WorkerEncoder(taxonomy_dir=taxonomy_dir).fit(),
            JobEncoder(taxonomy_dir=taxonomy_dir).fit(),
            CourseEncoder(taxonomy_dir=taxonomy_dir).fit(),
        )


@dataclass
class EncodedWorld:
    snapshot: Snapshot
    encoders: Encoders
    workers: EntityBlock
    jobs: EntityBlock
    courses: EntityBlock
    worker_view: WorkerView
    job_pool: JobPool
    awardable: np.ndarray  # per certificate column: some course awards it
    course_jobs: sp.csr_matrix  # courses × jobs: the course awards a certificate the job requires

    @classmethod
    def build(cls, snapshot: Snapshot, encoders: Encoders, *, certs_as_of: pd.Timestamp | None = None) -> EncodedWorld:
        workers_frame = snapshot.workers_as_of(certs_as_of)
        workers = encoders.workers.transform(workers_frame)
        jobs = encoders.jobs.transform(snapshot.jobs)
        courses = encoders.courses.transform(snapshot.courses)
        return cls.from_blocks(snapshot, encoders, workers_frame, workers, jobs, courses)

    @classmethod
    def from_blocks(
        cls,
        snapshot: Snapshot,
        encoders: Encoders,
        workers_frame: pd.DataFrame,
        workers: EntityBlock,
        jobs: EntityBlock,
        courses: EntityBlock,
    ) -> EncodedWorld:
        pool = JobPool.build(
            snapshot.jobs,
            jobs.certs,
            age_min=jobs.num.get("age_min"),
            age_max=jobs.num.get("age_max"),
            cert_ids=tuple(jobs.cert_ids),
        )
        view = WorkerView.build(workers_frame, workers.certs)
        awarded = sp.csr_matrix(courses.certs)
        awarded.data = (awarded.data > 0).astype(np.float32)
        awardable = np.asarray(awarded.sum(axis=0)).ravel() > 0
        course_jobs = sp.csr_matrix(awarded @ pool.required.T)
        course_jobs.data = (course_jobs.data > 0).astype(np.float32)
        course_jobs.eliminate_zeros()
        return cls(snapshot, encoders, workers, jobs, courses, view, pool, awardable, course_jobs)

    def worker_index(self, worker_id: str) -> int:
        return int(self.workers.index_of([worker_id])[0])


def positions(block: EntityBlock, ids: np.ndarray | list[object]) -> np.ndarray:
    """Row positions of ids in a block, -1 for ids it does not hold."""
    return pd.Index(block.ids).get_indexer(np.asarray(ids, dtype=object))
