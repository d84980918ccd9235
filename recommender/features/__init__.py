"""Feature pipelines: workers, jobs and courses encoded once, pair features as array arithmetic.

Encoders (scikit-learn transformers) turn the store's typed frames into
:class:`EntityBlock` objects; pair featurisers turn a :class:`PairSet` (which
worker meets which item, and when) into a float32 matrix with named columns.
The candidate generator, ranker, explanations and API code against these names.

    workers = WorkerEncoder().fit().transform(store.read_table("workers"))
    jobs = JobEncoder().fit().transform(jobs_frame)
    pairs = PairSet.one_to_many(workers, jobs, as_of="2024-06-01", worker=0)
    X = JobPairFeatures().fit(training_pairs).transform(pairs)
"""

from recommender.features.block import EntityBlock, PairSet
from recommender.features.costs import LivingCosts
from recommender.features.course_pairs import COURSE_PAIR_FEATURES, CoursePairFeatures
from recommender.features.courses import COURSE_NUM_COLUMNS, CourseEncoder
from recommender.features.demand import SkillDemand
from recommender.features.job_pairs import JOB_PAIR_FEATURES, JobPairFeatures
from recommender.features.jobs import JOB_NUM_COLUMNS, JobEncoder
from recommender.features.workers import WORKER_NUM_COLUMNS, WorkerEncoder

__all__ = [
    "COURSE_NUM_COLUMNS",
    "COURSE_PAIR_FEATURES",
    "CourseEncoder",
    "CoursePairFeatures",
    "EntityBlock",
    "JOB_NUM_COLUMNS",
    "JOB_PAIR_FEATURES",
    "JobEncoder",
    "JobPairFeatures",
    "LivingCosts",
    "PairSet",
    "SkillDemand",
    "WORKER_NUM_COLUMNS",
    "WorkerEncoder",
]
