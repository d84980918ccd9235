"""Honest offline evaluation of job recommendations on a held-out time window.

For each worker with an outcome in the window, the question is: on the day
they came back, which ten of the jobs that were open and feasible for them
would each method have shown, and how many of those did they actually take
up? Every method ranks the same feasible candidates, and every metric is
reported overall, per age band and for cold-start and warm workers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from recommender.threads import limit_threads

from recommender import columns as C
from recommender.candidates import candidates_for, check_pairs, to_days
from recommender.evaluation.metrics import catalogue_coverage, per_worker_metrics
from recommender.features import PairSet
from recommender.policy import PolicyConfig, rerank
from recommender.ranking import top_n
from recommender.regions import SCOPE_NAMES
from recommender.training.jobs import JobModel
from recommender.training.world import EncodedWorld, positions

AGE_BANDS: tuple[str, ...] = ("under 30", "30-49", "50+")


def age_band(age: np.ndarray | pd.Series | float) -> np.ndarray:
    a = np.asarray(age, dtype=float)
    return np.where(a < 30, "under 30", np.where(a < 50, "30-49", "50+"))


@dataclass
class EvalQuery:
    w: int
    worker_id: str
    day: int
    age: float
    cold: bool


def heldout_queries(world: EncodedWorld, train: pd.DataFrame, test: pd.DataFrame) -> list[EvalQuery]:
    """One query per held-out worker with a take-up: the day they first came back."""
    positives = test.loc[test[C.RELEVANCE] > 0, C.WORKER].unique()
    first = test.loc[test[C.WORKER].isin(positives)].groupby(C.WORKER)["first_date"].min()
    warm = set(train[C.WORKER].unique())
    w_idx = positions(world.workers, first.index.to_numpy())
    days = to_days(first.to_numpy())
    birth = world.worker_view.birth_year
    years = (np.datetime64("1970-01-01", "D") + days.astype("timedelta64[D]")).astype("datetime64[Y]").astype(int) + 1970
    out = []
    for wid, w, d, y in zip(first.index, w_idx, days, years, strict=True):
        if w < 0:
            continue
        out.append(EvalQuery(int(w), str(wid), int(d), float(y - birth[w]), wid not in warm))
    return out


Scorer = Callable[[PairSet, np.ndarray], np.ndarray]


@dataclass
class RankedLists:
    """Top-k per query per method, plus what each item was."""

    rows: list[tuple[str, str, str, int, str, bool]] = field(default_factory=list)

    def add(self, method: str, q: EvalQuery, items: Sequence[str], scopes: Sequence[str], infeasible: Sequence[bool]) -> None:
        for rank, (item, scope, bad) in enumerate(zip(items, scopes, infeasible, strict=True), start=1):
            self.rows.append((method, q.worker_id, item, rank, scope, bool(bad)))

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=["method", C.WORKER, C.ITEM, C.RANK, C.SCOPE, "infeasible"])


def model_ranking(
    model: JobModel, world: EncodedWorld, q: EvalQuery, cand: np.ndarray, scope: np.ndarray, *, max_candidates: int
) -> tuple[np.ndarray, np.ndarray]:
    """The learned two-stage ranking of ``cand`` (job indices): (order into cand, scores)."""
    as_of = np.datetime64("1970-01-01", "D") + np.timedelta64(q.day, "D")
    pairs = PairSet.one_to_many(world.workers, world.jobs, as_of, worker=q.w, items_idx=cand)
    pre = model.prescorer.score(pairs, scope)
    keep = top_n(pre, max_candidates)  # == np.argsort(-pre, kind="stable")[:max_candidates]
    sub = PairSet.one_to_many(world.workers, world.jobs, as_of, worker=q.w, items_idx=cand[keep])
    scores = model.ranker.predict(sub)
    return keep, scores


def _infeasible(world: EncodedWorld, q: EvalQuery, jobs: np.ndarray) -> np.ndarray:
    """Re-check what was recommended, independently of how it was chosen."""
    f = check_pairs(world.worker_view, world.job_pool, np.full(len(jobs), q.w), jobs, q.day)
    return ~f.feasible("strict")


def evaluate_jobs(
    world: EncodedWorld,
    model: JobModel,
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    baselines: Sequence[object] = (),
    k: int = 10,
    max_candidates: int = 300,
    policy_weights: Sequence[float] | None = None,
    policy: PolicyConfig | None = None,
    max_queries: int | None = None,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Recommendation lists per method and the per-worker metrics table."""
    queries = heldout_queries(world, train, test)
    if max_queries is not None and len(queries) > max_queries:
        rng = np.random.default_rng(seed)
        queries = [queries[i] for i in sorted(rng.choice(len(queries), max_queries, replace=False))]
    for b in baselines:
        b.fit(train)  # type: ignore[attr-defined]
    cfg = policy or PolicyConfig()
    named = policy_weights is not None
    weights = list(policy_weights) if named else [cfg.older_worker_weight]
    kw: dict[str, Any] = dict(baselines=baselines, k=k, max_candidates=max_candidates, weights=weights, named=named, cfg=cfg)
    from recommender.distributed.training import active_client, rank_queries_on  # lazy: that module imports training

    client = active_client()
    recs = rank_queries(world, model, queries, **kw) if client is None else rank_queries_on(client, world, model, queries, **kw)
    return recs, _metrics(recs, queries, test, k, len(world.jobs))


def rank_queries(
    world: EncodedWorld, model: JobModel, queries: Sequence[EvalQuery], *, baselines: Sequence[object], k: int,
    max_candidates: int, weights: Sequence[float], named: bool, cfg: PolicyConfig,
) -> pd.DataFrame:
    """Every method's top ``k`` for each query, in query order (each query is independent, so a
    contiguous slice of the queries gives exactly that slice of the rows: the Dask path relies on it)."""
    lists = RankedLists()
    ids = world.jobs.ids
    jobs_frame = world.snapshot.jobs
    public_welfare = (jobs_frame["employment_type"] == "public_welfare").to_numpy()
    employers = jobs_frame["employer_id"].to_numpy()
    age_max = world.job_pool.age_max
    with limit_threads(1):
        for q in queries:
            cand, feas, _ = candidates_for(world.worker_view, world.job_pool, q.w, q.day, age_policy="strict")
            if not len(cand):
                continue
            scope_names = np.asarray(SCOPE_NAMES)[feas.scope]
            keep, scores = model_ranking(model, world, q, cand, feas.scope, max_candidates=max_candidates)
            sub = cand[keep]
            for weight in weights:
                frame = pd.DataFrame(
                    {
                        "item_id": ids[sub],
                        "score": scores,
                        "scope": scope_names[keep],
                        "employer_id": employers[sub],
                        "age_friendly": ~(age_max[sub] < q.age + 5),
                        "public_welfare": public_welfare[sub],
                    }
                )
                top = rerank(frame, age=q.age, k=k, cfg=cfg.with_overrides(older_worker_weight=weight))
                name = f"learned@w={weight:g}" if named else "learned"
                chosen = positions(world.jobs, top["item_id"].to_numpy())
                lists.add(name, q, top["item_id"].tolist(), top["scope"].tolist(), _infeasible(world, q, chosen))
            as_of = np.datetime64("1970-01-01", "D") + np.timedelta64(q.day, "D")
            pairs = PairSet.one_to_many(world.workers, world.jobs, as_of, worker=q.w, items_idx=cand)
            for b in baselines:
                s = b.score(pairs)  # type: ignore[attr-defined]
                order = np.argsort(-s, kind="stable")[:k]
                lists.add(b.name, q, ids[cand[order]].tolist(), scope_names[order].tolist(), _infeasible(world, q, cand[order]))  # type: ignore[attr-defined]
    return lists.frame()


def summary_table(per_worker: pd.DataFrame) -> pd.DataFrame:
    """Mean metrics per method: overall, per age band, cold and warm."""
    groups: list[tuple[str, pd.Series]] = [("all", pd.Series(True, index=per_worker.index))]
    groups += [(f"age {band}", per_worker[C.AGE_BAND] == band) for band in AGE_BANDS]
    groups += [("cold start", per_worker["cold"]), ("warm", ~per_worker["cold"])]
    out = []
    coverage = per_worker.attrs.get("coverage", {})
    for label, mask in groups:
        part = per_worker.loc[mask]
        for method, g in part.groupby("method", sort=False):
            out.append(
                {
                    "segment": label,
                    "method": method,
                    "workers": len(g),
                    "ndcg@10": g["ndcg"].mean(),
                    "recall@10": g["recall"].mean(),
                    "mrr@10": g["mrr"].mean(),
                    "local_share": g["local_share"].mean(),
                    "infeasible": g["infeasible_share"].mean(),
                    "coverage": coverage.get(method, np.nan) if label == "all" else np.nan,
                }
            )
    return pd.DataFrame(out)


def evaluate_courses(
    world: EncodedWorld,
    model: object,
    pool: object,
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    baselines: Sequence[object] = (),
    k: int = 10,
) -> pd.DataFrame:
    """Per-worker metrics of course recommendations on the held-out window."""
    from recommender.training.courses import course_feasible

    queries = heldout_queries(world, train, test)
    for b in baselines:
        b.fit(train)  # type: ignore[attr-defined]
    lists = RankedLists()
    ids = world.courses.ids
    all_courses = np.arange(len(world.courses))
    scope_names = np.asarray(SCOPE_NAMES)
    with limit_threads(1):
        for q in queries:
            ok, scope = course_feasible(world.worker_view, pool, np.full(len(all_courses), q.w), all_courses, q.day)  # type: ignore[arg-type]
            cand = all_courses[ok]
            if not len(cand):
                continue
            as_of = np.datetime64("1970-01-01", "D") + np.timedelta64(q.day, "D")
            pairs = PairSet.one_to_many(world.workers, world.courses, as_of, worker=q.w, items_idx=cand)
            methods = [("learned", model.ranker.predict(pairs))]  # type: ignore[attr-defined]
            methods += [(b.name, b.score(pairs)) for b in baselines]  # type: ignore[attr-defined]
            for name, s in methods:
                order = np.argsort(-s, kind="stable")[:k]
                lists.add(name, q, ids[cand[order]].tolist(), scope_names[scope[ok][order]].tolist(), [False] * len(order))
    return _metrics(lists.frame(), queries, test, k, len(world.courses))


def _metrics(recs: pd.DataFrame, queries: list[EvalQuery], test: pd.DataFrame, k: int, catalogue: int) -> pd.DataFrame:
    info = pd.DataFrame(
        {C.WORKER: [q.worker_id for q in queries], "age": [q.age for q in queries], "cold": [q.cold for q in queries]}
    )
    info[C.AGE_BAND] = age_band(info["age"])
    truth = test.loc[test[C.WORKER].isin(info[C.WORKER])]
    rows = []
    for method, part in recs.groupby("method", sort=False):
        m = per_worker_metrics(part, truth, k=k).merge(info, on=C.WORKER, how="left")
        m["method"] = method
        top = part.loc[part[C.RANK] <= k]
        m["local_share"] = m[C.WORKER].map(top.groupby(C.WORKER)[C.SCOPE].apply(lambda s: float((s == "local").mean()))).fillna(0.0)
        m["infeasible_share"] = m[C.WORKER].map(top.groupby(C.WORKER)["infeasible"].mean()).fillna(0.0)
        rows.append(m)
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    out.attrs["coverage"] = {method: catalogue_coverage(part, catalogue, k=k) for method, part in recs.groupby("method")}
    return out
