"""Train, evaluate and register: the whole offline run in one place.

1. Split outcomes by time; fit on the earlier part; evaluate on the held-out
   window against the baselines (the numbers that go in the manifest).
2. Refit on all outcomes (same recipe) and save that bundle: the served model
   uses every outcome, the reported metrics come from the honest split.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from recommender.threads import limit_threads

from recommender.bundle import ModelBundle
from recommender.errors import RecommenderError
from recommender.policy import PolicyConfig
from recommender.registry import ModelVersion, Registry
from recommender.snapshot import Snapshot
from recommender.training import baselines as B
from recommender.training.courses import CourseModel, CoursePool, course_training_pairs, fit_course_model
from recommender.training.evaluate import evaluate_courses, evaluate_jobs, summary_table
from recommender.distributed.training import fit_jobs, job_training_pairs  # Dask when a cluster is active
from recommender.training.jobs import JobModel, TrainingPairs, at_older_weight
from recommender.training.labels import COURSE_GRADES, JOB_GRADES, add_impressions, graded_pairs
from recommender.training.split import TimeSplit, choose_split, guard_no_leakage, split_pairs
from recommender.training.world import EncodedWorld, Encoders


@dataclass(frozen=True)
class TrainConfig:
    test_days: int = 90
    negatives: int = 10
    course_negatives: int = 5
    objective: str = "regression"
    max_candidates: int = 50
    seed: int = 0
    eval_max_queries: int | None = 4000
    older_worker_weight: float = 1.0  # older-worker correction and serving boost for workers 50+ (0 = off)
    older_worker_age: int = 50
    policy_weights: tuple[float, ...] = (0.0, 1.0, 2.0, 4.0, 8.0)
    taxonomy_dir: str | None = None
    n_threads: int | None = None
    shown_not_taken: bool = True  # jobs shown to stored workers and not taken up are negatives (the served log)

    @classmethod
    def from_settings(cls, settings: Any = None, **overrides: Any) -> TrainConfig:
        """Defaults taken from the project settings (policy knobs, taxonomy), then ``overrides``."""
        from recommender.settings import get_settings

        s = settings or get_settings()
        base: dict[str, Any] = {
            "max_candidates": s.max_candidates,
            "older_worker_weight": s.older_worker_weight,
            "older_worker_age": s.older_worker_age,
            "taxonomy_dir": str(s.taxonomy_extra) if s.taxonomy_extra else None,
            "shown_not_taken": s.train_shown_not_taken,
        }
        return cls(**{**base, **overrides})


@dataclass
class Evaluation:
    split: TimeSplit
    jobs: pd.DataFrame  # summary table (segment × method)
    tradeoff: pd.DataFrame  # older-worker weight trade-off
    courses: pd.DataFrame | None
    rows: dict[str, int] = field(default_factory=dict)

    def metrics(self) -> dict[str, Any]:
        """The manifest's metrics: learned ranker and baselines, per segment."""
        def table(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
            if frame is None or frame.empty:
                return []
            return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()} for r in frame.to_dict("records")]

        return {"jobs": table(self.jobs), "courses": table(self.courses), "older_worker_tradeoff": table(self.tradeoff)}


Progress = Callable[[str], None]


def impressions_for(snapshot: Snapshot, cfg: TrainConfig) -> pd.DataFrame:
    """The snapshot's impressions when the recipe trains on jobs shown and not taken, else none."""
    return snapshot.impressions if cfg.shown_not_taken else snapshot.impressions.iloc[:0]


def _say(progress: Progress | None, text: str) -> None:
    if progress:
        progress(text)


def fit_job_ranker(tp: TrainingPairs, cfg: TrainConfig, weight: float) -> JobModel:
    """The job model at older-worker weight ``weight`` (it sets the ranker's older-worker correction)."""
    with limit_threads(cfg.n_threads):
        return fit_jobs(tp, cfg, older_weight=weight)


def tradeoff_base(model: JobModel, cfg: TrainConfig, fit_with_correction: Callable[[], JobModel]) -> JobModel:
    """A model that holds the older-worker correction, for ``at_older_weight`` at every weight of the
    trade-off: ``model`` itself unless it was fitted at weight 0 and a curve weight is above 0."""
    if cfg.older_worker_weight > 0 or max(cfg.policy_weights, default=0.0) <= 0:
        return model
    return fit_with_correction()


def evaluate_snapshot(snapshot: Snapshot, cfg: TrainConfig, *, progress: Progress | None = None) -> Evaluation:
    """Time-split evaluation of the learned rankers against the baselines."""
    job_pairs = graded_pairs(snapshot.placements, "job_id", JOB_GRADES)
    split = choose_split(job_pairs, test_days=cfg.test_days)
    train, test = split_pairs(job_pairs, split)
    guard_no_leakage(train, test)
    _say(progress, f"split: {split.describe()} ({len(train):,} train pairs, {len(test):,} test pairs)")
    encoders = Encoders.fit(cfg.taxonomy_dir)
    world = EncodedWorld.build(snapshot, encoders, certs_as_of=split.cutoff)
    tp = job_training_pairs(world, add_impressions(train, impressions_for(snapshot, cfg), before=split.cutoff, exclude=test), cfg)
    _say(progress, f"job training pairs: {len(tp.y):,} ({int((tp.y > 0).sum()):,} taken up)")
    def fit(weight: float) -> JobModel:
        return fit_job_ranker(tp, cfg, weight)

    model = fit(cfg.older_worker_weight)
    policy = PolicyConfig(older_worker_weight=cfg.older_worker_weight, older_worker_age=cfg.older_worker_age)
    _say(progress, "evaluating jobs on the held-out window ...")
    _, per_worker = evaluate_jobs(
        world, model, train, test, baselines=B.all_baselines(cfg.seed), max_candidates=cfg.max_candidates,
        max_queries=cfg.eval_max_queries, seed=cfg.seed, policy=policy,
    )
    jobs_table = summary_table(per_worker)
    curves = []
    with_correction = tradeoff_base(model, cfg, lambda: fit(1.0))
    for weight in cfg.policy_weights:
        _say(progress, f"older-worker weight {weight:g}: evaluate ...")
        m = at_older_weight(with_correction, weight)
        _, curve = evaluate_jobs(
            world, m, train, test, baselines=(), max_candidates=cfg.max_candidates, policy=policy,
            policy_weights=(weight,), max_queries=cfg.eval_max_queries, seed=cfg.seed,
        )
        curves.append(curve)
    tradeoff = tradeoff_table(pd.concat(curves, ignore_index=True))
    course_table = evaluate_courses_at(snapshot, world, split, cfg, progress=progress)
    return Evaluation(split, jobs_table, tradeoff, course_table, rows={"train_pairs": len(train), "test_pairs": len(test), "training_rows": len(tp.y)})


def evaluate_courses_at(
    snapshot: Snapshot, world: EncodedWorld, split: TimeSplit, cfg: TrainConfig, *, progress: Progress | None = None
) -> pd.DataFrame | None:
    """The course ranker fitted before ``split.cutoff`` and evaluated after it (None with too few outcomes)."""
    course_pairs = graded_pairs(snapshot.enrolments, "course_id", COURSE_GRADES)
    c_train = course_pairs.loc[course_pairs["first_date"] < split.cutoff]
    c_test = course_pairs.loc[course_pairs["first_date"] >= split.cutoff]
    if (c_train["relevance"] > 0).sum() < 20 or (c_test["relevance"] > 0).sum() < 5:
        return None
    guard_no_leakage(c_train, c_test)
    pool = CoursePool.build(snapshot.courses)
    ctp = course_training_pairs(world, pool, c_train, snapshot.placements.loc[snapshot.placements["date"] < split.cutoff],
                                negatives=cfg.course_negatives, seed=cfg.seed)
    with limit_threads(cfg.n_threads):
        cmodel = fit_course_model(world, ctp, seed=cfg.seed)
    _say(progress, "evaluating courses on the held-out window ...")
    return summary_table(evaluate_courses(world, cmodel, pool, c_train, c_test, baselines=B.all_baselines(cfg.seed)))


def tradeoff_table(curve: pd.DataFrame) -> pd.DataFrame:
    """What each older-worker weight buys (50+) and costs (overall)."""
    rows = []
    for method, g in curve.groupby("method", sort=False):
        weight = float(str(method).split("w=")[-1]) if "w=" in str(method) else 0.0
        old = g.loc[g["age_band"] == "50+"]
        rows.append(
            {
                "weight": weight,
                "ndcg@10 all": g["ndcg"].mean(),
                "ndcg@10 50+": old["ndcg"].mean(),
                "recall@10 50+": old["recall"].mean(),
                "local share 50+": old["local_share"].mean(),
                "ndcg@10 under 50": g.loc[g["age_band"] != "50+", "ndcg"].mean(),
            }
        )
    return pd.DataFrame(rows).sort_values("weight").reset_index(drop=True)


def fit_bundle(snapshot: Snapshot, cfg: TrainConfig, *, progress: Progress | None = None) -> tuple[ModelBundle, dict[str, int]]:
    """Fit both rankers on every outcome in the store."""
    encoders = Encoders.fit(cfg.taxonomy_dir)
    world = EncodedWorld.build(snapshot, encoders)
    job_pairs = graded_pairs(snapshot.placements, "job_id", JOB_GRADES)
    if (job_pairs["relevance"] > 0).sum() == 0:
        raise RecommenderError("no job take-ups (applied, hired, retained) in the store: nothing to learn from")
    with_shown = add_impressions(job_pairs, impressions_for(snapshot, cfg))
    tp = job_training_pairs(world, with_shown, cfg)
    _say(progress, f"fitting the job ranker on {len(tp.y):,} pairs ...")
    jobs = fit_job_ranker(tp, cfg, cfg.older_worker_weight)
    courses: CourseModel | None = None
    course_pairs = graded_pairs(snapshot.enrolments, "course_id", COURSE_GRADES)
    if (course_pairs["relevance"] > 0).sum() >= 20:
        pool = CoursePool.build(snapshot.courses)
        ctp = course_training_pairs(world, pool, course_pairs, snapshot.placements, negatives=cfg.course_negatives, seed=cfg.seed)
        _say(progress, f"fitting the course ranker on {len(ctp.y):,} pairs ...")
        with limit_threads(cfg.n_threads):
            courses = fit_course_model(world, ctp, seed=cfg.seed)
    rows = {"job_pairs": len(job_pairs), "shown_not_taken": len(with_shown) - len(job_pairs), "job_training_rows": len(tp.y),
            "course_pairs": len(course_pairs)}
    return ModelBundle(encoders, jobs, courses, params=asdict(cfg)), rows


def train_and_register(
    snapshot: Snapshot,
    registry: Registry,
    cfg: TrainConfig | None = None,
    *,
    evaluate: bool = True,
    promote: str = "first",
    progress: Progress | None = None,
) -> tuple[ModelVersion, Evaluation | None]:
    """Evaluate, fit on everything, save a version; promote it if asked ('first', 'always', 'never')."""
    cfg = cfg or TrainConfig.from_settings()
    evaluation = evaluate_snapshot(snapshot, cfg, progress=progress) if evaluate else None
    bundle, rows = fit_bundle(snapshot, cfg, progress=progress)
    dates = snapshot.placements["date"]
    manifest: dict[str, Any] = {
        "data_fingerprint": snapshot.fingerprint(),
        "training_window": {"from": str(dates.min().date()), "to": str(dates.max().date())} if len(dates) else None,
        "rows": {**rows, **(evaluation.rows if evaluation else {})},
        "split": {"cutoff": str(evaluation.split.cutoff.date()), "end": str(evaluation.split.end.date())} if evaluation else None,
        "feature_names": {"jobs": bundle.jobs.feature_names(), "courses": bundle.courses.feature_names() if bundle.courses else []},
        "params": asdict(cfg),
        "metrics": evaluation.metrics() if evaluation else {},
        "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    mv = registry.save(bundle, manifest)
    if promote == "always" or (promote == "first" and registry.promoted() is None):
        registry.promote(mv.version, reason="first model" if promote == "first" else "promoted after training")
    return mv, evaluation
