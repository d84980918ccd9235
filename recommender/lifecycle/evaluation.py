"""The held-out evaluation behind a retrain's gate and report.

``evaluate_candidate`` follows the recipe of
``recommender.training.pipeline.evaluate_snapshot`` (same split, same
training pairs, same baselines, same trade-off curve) and keeps what the gate
and the report need besides the summary tables:

- the promoted model evaluated on the same split and the same queries
  (method ``previous``);
- the recommendation lists of every method (local / province / outbound mix);
- the candidate's scores on the held-out candidates of a sample of queries,
  with what the workers took up (calibration) and permutation importances.

Which promoted model is compared: its served bundle when it was trained only on
outcomes before the held-out window (it has never seen the window), else its
recorded parameters refit on the same training split (its bundle has seen the
window, so scoring it there would flatter it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from recommender import columns as C
from recommender.candidates import candidates_for
from recommender.features import PairSet
from recommender.policy import PolicyConfig
from recommender.threads import limit_threads
from recommender.training import baselines as B
from recommender.training.evaluate import age_band, evaluate_jobs, heldout_queries, model_ranking, summary_table
from recommender.training.jobs import JobModel, at_older_weight, training_pairs
from recommender.training.labels import JOB_GRADES, add_impressions, graded_pairs
from recommender.training.pipeline import (
    Evaluation,
    TrainConfig,
    evaluate_courses_at,
    fit_job_ranker,
    impressions_for,
    tradeoff_base,
    tradeoff_table,
)
from recommender.training.split import choose_split, guard_no_leakage, split_pairs
from recommender.training.world import EncodedWorld, Encoders

Step = Callable[[str, float], None]  # (message, fraction of this stage done)


@dataclass
class Reference:
    """The promoted model to compare with."""

    version: str
    bundle: Any  # ModelBundle
    manifest: dict[str, Any]


@dataclass
class LifecycleEvaluation(Evaluation):
    """``Evaluation`` plus what the gate and the report need."""

    recs: pd.DataFrame = field(default_factory=pd.DataFrame)  # top-10 lists per method (with age band)
    mix: pd.DataFrame = field(default_factory=pd.DataFrame)  # method × age band × scope shares
    calibration: pd.DataFrame = field(default_factory=pd.DataFrame)  # score decile vs observed take-up
    importances: pd.DataFrame = field(default_factory=pd.DataFrame)  # permutation importance (NDCG@10 drop)
    compared_with: str | None = None
    comparison: str | None = None
    queries: int = 0


def config_from_params(params: dict[str, Any] | None, default: TrainConfig) -> TrainConfig:
    """A ``TrainConfig`` from a manifest's ``params`` (unknown keys ignored, missing ones from ``default``)."""
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    kw = {k: v for k, v in (params or {}).items() if k in names}
    if "policy_weights" in kw:
        kw["policy_weights"] = tuple(kw["policy_weights"])
    return dataclasses.replace(default, **kw)


def shuffle_relevance(pairs: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The same pairs with their labels permuted: a model that can learn nothing (a gate self-test)."""
    rng = np.random.default_rng(seed + 7919)
    return pairs.assign(**{C.RELEVANCE: rng.permutation(pairs[C.RELEVANCE].to_numpy())})


def evaluate_candidate(
    snapshot: Any,
    cfg: TrainConfig,
    *,
    reference: Reference | None = None,
    shuffle_labels: bool = False,
    courses: bool = True,
    calibration_queries: int = 150,
    step: Step | None = None,
) -> LifecycleEvaluation:
    """Evaluate the candidate recipe (and the promoted model) on the latest weeks."""
    say = step or (lambda _m, _f: None)
    job_pairs = graded_pairs(snapshot.placements, "job_id", JOB_GRADES)
    split = choose_split(job_pairs, test_days=cfg.test_days)
    train, test = split_pairs(job_pairs, split)
    guard_no_leakage(train, test)
    say(f"split: {split.describe()} ({len(train):,} train pairs, {len(test):,} test pairs)", 0.02)
    encoders = Encoders.fit(cfg.taxonomy_dir)
    world = EncodedWorld.build(snapshot, encoders, certs_as_of=split.cutoff)
    shown = add_impressions(train, impressions_for(snapshot, cfg), before=split.cutoff, exclude=test)
    tp = training_pairs(world, shown, negatives=cfg.negatives, seed=cfg.seed)
    if shuffle_labels:  # every training row's label permuted (outcomes and sampled negatives): nothing left to learn
        tp = dataclasses.replace(tp, y=np.random.default_rng(cfg.seed + 7919).permutation(tp.y))
    say(f"fitting the candidate on {len(tp.y):,} pairs" + (" (labels shuffled)" if shuffle_labels else ""), 0.08)
    model = fit_job_ranker(tp, cfg, cfg.older_worker_weight)
    policy = PolicyConfig(older_worker_weight=cfg.older_worker_weight, older_worker_age=cfg.older_worker_age)
    common = dict(max_candidates=cfg.max_candidates, max_queries=cfg.eval_max_queries, seed=cfg.seed, policy=policy)
    say("evaluating the candidate and the baselines on the held-out window", 0.25)
    recs, per_worker = evaluate_jobs(world, model, train, test, baselines=B.all_baselines(cfg.seed), **common)
    coverage = dict(per_worker.attrs.get("coverage", {}))
    frames, rec_frames = [per_worker], [recs]
    compared_with = comparison = None
    if reference is not None:
        say(f"evaluating the promoted model {reference.version} on the same queries", 0.45)
        ref_model, ref_world, comparison = _reference_model(reference, snapshot, split, shown, cfg, world)  # the same training pairs
        ref_recs, ref_pw = evaluate_jobs(ref_world, ref_model, train, test, baselines=(), **common)
        coverage["previous"] = ref_pw.attrs.get("coverage", {}).get("learned", np.nan)
        frames.append(ref_pw.assign(method="previous"))
        rec_frames.append(ref_recs.assign(method="previous"))
        compared_with = reference.version
    all_pw = pd.concat(frames, ignore_index=True)
    all_pw.attrs["coverage"] = coverage
    jobs_table = summary_table(all_pw)
    curves = []
    with_correction = tradeoff_base(model, cfg, lambda: fit_job_ranker(tp, cfg, 1.0))
    for i, weight in enumerate(cfg.policy_weights):
        say(f"older-worker weight {weight:g}: evaluate", 0.55 + 0.2 * i / max(1, len(cfg.policy_weights)))
        m = at_older_weight(with_correction, weight)
        _, curve = evaluate_jobs(world, m, train, test, baselines=(), policy_weights=(weight,), **common)
        curves.append(curve)
    tradeoff = tradeoff_table(pd.concat(curves, ignore_index=True)) if curves else pd.DataFrame()
    say("calibration and feature importances", 0.78)
    calib, importances = _scores_on_heldout(world, model, train, test, cfg, calibration_queries)
    course_table = evaluate_courses_at(snapshot, world, split, cfg) if courses else None
    say("evaluation done", 1.0)
    all_recs = pd.concat(rec_frames, ignore_index=True)
    bands = all_pw.drop_duplicates(C.WORKER).set_index(C.WORKER)[C.AGE_BAND]
    all_recs[C.AGE_BAND] = all_recs[C.WORKER].map(bands)
    return LifecycleEvaluation(
        split=split,
        jobs=jobs_table,
        tradeoff=tradeoff,
        courses=course_table,
        rows={"train_pairs": len(train), "test_pairs": len(test), "training_rows": len(tp.y)},
        recs=all_recs,
        mix=recommendation_mix(all_recs),
        calibration=calib,
        importances=importances,
        compared_with=compared_with,
        comparison=comparison,
        queries=int(per_worker[C.WORKER].nunique()) if len(per_worker) else 0,
    )


def _reference_model(
    ref: Reference, snapshot: Any, split: Any, train: pd.DataFrame, cfg: TrainConfig, world: EncodedWorld
) -> tuple[JobModel, EncodedWorld, str]:
    window = ref.manifest.get("training_window") or {}
    to = pd.Timestamp(window["to"]) if window.get("to") else None
    if to is not None and to < split.cutoff:
        ref_world = EncodedWorld.build(snapshot, ref.bundle.encoders, certs_as_of=split.cutoff)
        return ref.bundle.jobs, ref_world, (
            f"served bundle of {ref.version} (trained on outcomes up to {to.date()}, before the held-out window)"
        )
    ref_cfg = config_from_params(ref.manifest.get("params"), cfg)
    tp = training_pairs(world, train, negatives=ref_cfg.negatives, seed=ref_cfg.seed)
    model = fit_job_ranker(tp, ref_cfg, ref_cfg.older_worker_weight)
    return model, world, (
        f"{ref.version}'s parameters refit on the same training split (its bundle was trained on outcomes up to "
        f"{to.date() if to is not None else 'an unknown date'}, inside the held-out window)"
    )


def recommendation_mix(recs: pd.DataFrame) -> pd.DataFrame:
    """Share of local / province / outbound items in a worker's top 10, averaged over workers (as the
    metrics table's ``local_share``), per method, overall and per age band."""
    cols = ["method", "age_band", "local", "province", "outbound"]
    if recs.empty:
        return pd.DataFrame(columns=cols)
    per_worker = pd.crosstab([recs["method"], recs[C.AGE_BAND], recs[C.WORKER]], recs[C.SCOPE], normalize="index")
    for s in ("local", "province", "outbound"):
        if s not in per_worker.columns:
            per_worker[s] = 0.0
    per_worker = per_worker[["local", "province", "outbound"]].reset_index()
    overall = per_worker.groupby("method", sort=False)[["local", "province", "outbound"]].mean().reset_index().assign(age_band="all")
    bands = per_worker.groupby(["method", C.AGE_BAND], sort=False)[["local", "province", "outbound"]].mean().reset_index()
    out = pd.concat([overall, bands.rename(columns={C.AGE_BAND: "age_band"})], ignore_index=True)
    out = out[cols].sort_values(["method", "age_band"]).reset_index(drop=True)
    out.columns.name = None
    return out


def _ndcg_per_query(scores: np.ndarray, gains: np.ndarray, starts: np.ndarray, k: int = 10) -> np.ndarray:
    out = []
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    for a, b in zip(starts[:-1], starts[1:], strict=True):
        g = gains[a:b]
        if g.max() <= 0:
            continue
        top = g[np.argsort(-scores[a:b], kind="stable")[:k]]
        ideal = np.sort(g)[::-1][:k]
        out.append(float((top * disc[: len(top)]).sum() / (ideal * disc[: len(ideal)]).sum()))
    return np.asarray(out)


def _scores_on_heldout(
    world: EncodedWorld, model: JobModel, train: pd.DataFrame, test: pd.DataFrame, cfg: TrainConfig, n_queries: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The candidate's scores on what it would rank for held-out queries, and what was taken up."""
    queries = heldout_queries(world, train, test)
    if len(queries) > n_queries:
        rng = np.random.default_rng(cfg.seed + 1)
        queries = [queries[i] for i in sorted(rng.choice(len(queries), n_queries, replace=False))]
    truth = test.set_index([C.WORKER, C.ITEM])[C.RELEVANCE]
    truth_map = truth.to_dict()
    ids = world.jobs.ids
    xs, ss, gs, starts = [], [], [], [0]
    with limit_threads(1):
        for q in queries:
            cand, feas, _ = candidates_for(world.worker_view, world.job_pool, q.w, q.day, age_policy="strict")
            if not len(cand):
                continue
            keep, scores = model_ranking(model, world, q, cand, feas.scope, max_candidates=cfg.max_candidates)
            as_of = np.datetime64("1970-01-01", "D") + np.timedelta64(q.day, "D")
            sub = PairSet.one_to_many(world.workers, world.jobs, as_of, worker=q.w, items_idx=cand[keep])
            xs.append(np.asarray(model.ranker.featurizer_.transform(sub)))
            ss.append(np.asarray(scores, dtype=float))
            gs.append(np.array([truth_map.get((q.worker_id, j), 0) for j in ids[cand[keep]]], dtype=float))
            starts.append(starts[-1] + len(keep))
    if not ss:
        return pd.DataFrame(), pd.DataFrame()
    X, s, g, st = np.vstack(xs), np.concatenate(ss), np.concatenate(gs), np.asarray(starts)
    decile = pd.qcut(pd.Series(s).rank(method="first"), 10, labels=False)
    calib = (
        pd.DataFrame({"decile": decile + 1, "score": s, "taken_up": g > 0})
        .groupby("decile")
        .agg(pairs=("score", "size"), mean_score=("score", "mean"), observed_take_up=("taken_up", "mean"))
        .reset_index()
    )
    base = _ndcg_per_query(s, g, st).mean()
    rng = np.random.default_rng(cfg.seed + 2)
    names = list(model.feature_names())
    rows = []
    with limit_threads(cfg.n_threads):
        for f, name in enumerate(names):
            Xp = X.copy()
            Xp[:, f] = X[rng.permutation(len(X)), f]
            rows.append({"feature": name, "importance": float(base - _ndcg_per_query(model.ranker.predict_features(Xp), g, st).mean())})
    imp = pd.DataFrame(rows).sort_values("importance", ascending=False).reset_index(drop=True)
    imp.attrs["baseline_ndcg"] = float(base)
    return calib, imp


__all__ = ["LifecycleEvaluation", "Reference", "age_band", "config_from_params", "evaluate_candidate", "recommendation_mix"]
