"""Policy re-ranking after the model: what the service owes each worker beyond fit.

The learned ranker estimates how well an item fits; public employment policy
adds duties on top: targeted assistance for older workers, both local and
outbound options, no pile-up of many workers on one opening, and variety in
what is shown. Each knob is a setting and can be overridden per request.

Candidates arrive as a frame with at least ``item_id``, ``score`` and
``scope``; optional columns (``employer_id``, ``occupation``, ``age_friendly``,
``public_welfare``, ``openings``) switch the matching rules on.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

ScopeRequest = Literal["local", "province", "outbound", "all", "balanced"]
SCOPES: tuple[str, ...] = ("local", "province", "outbound")
SCOPE_REQUESTS: tuple[str, ...] = ("local", "province", "outbound", "all", "balanced")


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    """Knobs of the policy layer (defaults come from settings)."""

    older_worker_weight: float = 1.0  # 0 turns older-worker assistance off
    older_worker_age: int = 50
    max_per_employer: int = 2
    max_per_occupation: int = 4
    balanced_min_share: float = 0.3  # in `balanced`, each of local and away gets at least this share of k
    exposure_per_opening: float = 3.0  # batch runs: a job is shown to at most this many workers per opening

    def with_overrides(self, **overrides: object) -> PolicyConfig:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


#: standard deviations of the worker's scores that a local, age-friendly public-welfare post
#: gains per unit of older-worker weight. Near the ranker's own order a small shift costs
#: little accuracy while moving local work up; at 1 per unit the default weight cost older
#: workers 0.001 NDCG@10 for +1.2 points of local share, at 0.25 nothing measurable for
#: +0.4 (README, "Evaluation"). Larger weights buy more local work at a visible cost.
BOOST_SD_PER_WEIGHT = 0.25


def _boost(score: np.ndarray, local: np.ndarray, friendly: np.ndarray, welfare: np.ndarray, age: float, cfg: PolicyConfig) -> np.ndarray:
    n = len(score)
    if cfg.older_worker_weight <= 0 or age < cfg.older_worker_age or n == 0:
        return np.zeros(n)
    spread = float(np.std(score)) or 1.0
    return BOOST_SD_PER_WEIGHT * cfg.older_worker_weight * spread * (0.5 * local + 0.3 * friendly + 0.4 * welfare)


def older_worker_boost(cands: pd.DataFrame, age: float, cfg: PolicyConfig) -> np.ndarray:
    """Extra score for workers at or over the age threshold.

    The boost is measured in units of the spread of this worker's candidate
    scores, so the weight means the same whatever the ranker's scale: feasible
    local work, posts without a binding age limit and public-welfare posts move
    up by up to ``0.3 * weight`` standard deviations (``BOOST_SD_PER_WEIGHT``).
    """
    return _boost(
        cands["score"].to_numpy(dtype=float),
        (cands["scope"].to_numpy() == "local").astype(float),
        _flag(cands, "age_friendly"),
        _flag(cands, "public_welfare"),
        age,
        cfg,
    )


def _flag(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame.columns:
        return np.zeros(len(frame))
    return frame[col].fillna(False).to_numpy(dtype=float)


def filter_scope(cands: pd.DataFrame, scope: str) -> pd.DataFrame:
    if scope in ("all", "balanced"):
        return cands
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPE_REQUESTS)}")
    return cands.loc[cands["scope"] == scope]


def _diverse_positions(
    final: np.ndarray, items: np.ndarray, employers: np.ndarray | None, occupations: np.ndarray | None,
    k: int, cfg: PolicyConfig, blocked: set[str] | None = None,
) -> list[int]:
    """Greedy top-k by score that caps items per employer and per occupation.

    When the caps leave fewer than k items, the best skipped ones fill the rest:
    variety should never leave a worker with a shorter list.
    """
    order = np.argsort(-final, kind="stable")
    per_emp: Counter[object] = Counter()
    per_occ: Counter[object] = Counter()
    chosen: list[int] = []
    skipped: list[int] = []
    for pos in order.tolist():
        if blocked and items[pos] in blocked:
            continue
        emp = employers[pos] if employers is not None else None
        occ = occupations[pos] if occupations is not None else None
        if (emp is not None and emp == emp and per_emp[emp] >= cfg.max_per_employer) or (
            occ is not None and occ == occ and per_occ[occ] >= cfg.max_per_occupation
        ):
            skipped.append(pos)
            continue
        chosen.append(pos)
        per_emp[emp] += 1
        per_occ[occ] += 1
        if len(chosen) >= k:
            return chosen
    return chosen + skipped[: k - len(chosen)]


def _diverse_order(cands: pd.DataFrame, k: int, cfg: PolicyConfig, blocked: set[str] | None = None) -> list[int]:
    return _diverse_positions(
        cands["final_score"].to_numpy(dtype=float),
        cands["item_id"].to_numpy(),
        cands["employer_id"].to_numpy() if "employer_id" in cands.columns else None,
        cands["occupation"].to_numpy() if "occupation" in cands.columns else None,
        k, cfg, blocked,
    )


def _balanced_positions(scopes: np.ndarray, score: np.ndarray, picked: list[int], k: int, cfg: PolicyConfig) -> list[int]:
    """Make sure local and away (province or outbound) options both appear when both exist.

    Each of local and away gets at least ``balanced_min_share`` of k, and at
    least one outbound item is shown when there is one. Missing items replace
    the lowest-scored items whose removal keeps every other requirement met.
    """
    quota = max(1, math.floor(cfg.balanced_min_share * k))
    needs: list[tuple[frozenset[str], int]] = [
        (frozenset({"local"}), quota),
        (frozenset({"province", "outbound"}), quota),
        (frozenset({"outbound"}), 1),
    ]
    order = list(np.argsort(-score, kind="stable"))
    result = list(picked)

    def count(group: frozenset[str], items: list[int]) -> int:
        return sum(1 for p in items if scopes[p] in group)

    def removable(q: int) -> bool:
        rest = [p for p in result if p != q]
        return all(count(g, rest) >= min(n, count(g, result)) for g, n in needs if scopes[q] in g)

    for group, n in needs:
        pool = [p for p in order if scopes[p] in group and p not in result]
        while count(group, result) < n and pool:
            if len(result) >= k:
                victims = [q for q in result if scopes[q] not in group and removable(q)]
                if not victims:
                    break
                result.remove(min(victims, key=lambda q: score[q]))
            result.append(pool.pop(0))
    result.sort(key=lambda p: -score[p])
    return result[:k]


def _balanced(cands: pd.DataFrame, picked: list[int], k: int, cfg: PolicyConfig) -> list[int]:
    return _balanced_positions(cands["scope"].to_numpy(), cands["final_score"].to_numpy(dtype=float), picked, k, cfg)


@dataclass(frozen=True, slots=True)
class Reranked:
    """``rerank_arrays``: positions of the top ``k`` in the candidate arrays, best first,
    with the boost and final score of every candidate."""

    positions: np.ndarray  # intp, rank order
    policy_boost: np.ndarray
    final_score: np.ndarray

    def __len__(self) -> int:
        return len(self.positions)


def rerank_arrays(
    score: np.ndarray,
    scope: np.ndarray,
    items: np.ndarray,
    *,
    age: float,
    k: int,
    scope_request: str = "all",
    cfg: PolicyConfig | None = None,
    blocked: set[str] | None = None,
    employer: np.ndarray | None = None,
    occupation: np.ndarray | None = None,
    age_friendly: np.ndarray | None = None,
    public_welfare: np.ndarray | None = None,
) -> Reranked:
    """``rerank`` over aligned arrays (no frame): the same rules, for the serving path.

    Flags are booleans (missing already read as False); ``employer`` and
    ``occupation`` are object arrays (None or NaN: no cap applies).
    """
    cfg = cfg or PolicyConfig()
    score = np.asarray(score, dtype=float)
    n = len(score)
    if scope_request not in ("all", "balanced"):
        if scope_request not in SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SCOPE_REQUESTS)}")
        keep = np.flatnonzero(scope == scope_request)
    else:
        keep = None
    if keep is not None and len(keep) < n:
        sub = lambda a: None if a is None else a[keep]  # noqa: E731
        inner = rerank_arrays(score[keep], scope[keep], items[keep], age=age, k=k, scope_request="all", cfg=cfg,
                              blocked=blocked, employer=sub(employer), occupation=sub(occupation),
                              age_friendly=sub(age_friendly), public_welfare=sub(public_welfare))
        boost, final = np.zeros(n), score.copy()
        boost[keep], final[keep] = inner.policy_boost, inner.final_score
        return Reranked(keep[inner.positions], boost, final)
    zeros = np.zeros(n)
    boost = _boost(
        score,
        (scope == "local").astype(float),
        zeros if age_friendly is None else np.asarray(age_friendly, dtype=float),
        zeros if public_welfare is None else np.asarray(public_welfare, dtype=float),
        age,
        cfg,
    )
    final = score + boost
    picked = _diverse_positions(final, items, employer, occupation, k, cfg, blocked) if n else []
    if scope_request == "balanced" and n:
        picked = _balanced_positions(scope, final, picked, k, cfg)
    return Reranked(np.asarray(picked, dtype=np.intp), boost, final)


def rerank(
    cands: pd.DataFrame,
    *,
    age: float,
    k: int,
    scope: str = "all",
    cfg: PolicyConfig | None = None,
    blocked: set[str] | None = None,
) -> pd.DataFrame:
    """The top ``k`` after policy: a copy with ``policy_boost``, ``final_score`` and ``rank``."""
    cfg = cfg or PolicyConfig()
    cands = filter_scope(cands, scope).reset_index(drop=True).copy()
    if cands.empty:
        return cands.assign(policy_boost=pd.Series(dtype=float), final_score=pd.Series(dtype=float), rank=pd.Series(dtype=int))
    cands["policy_boost"] = older_worker_boost(cands, age, cfg)
    cands["final_score"] = cands["score"].to_numpy(dtype=float) + cands["policy_boost"].to_numpy()
    picked = _diverse_order(cands, k, cfg, blocked)
    if scope == "balanced":
        picked = _balanced(cands, picked, k, cfg)
    out = cands.iloc[picked].copy()
    out["rank"] = np.arange(1, len(out) + 1)
    return out.reset_index(drop=True)


class ExposureLedger:
    """Capacity-aware batch runs: how often each job has been recommended so far.

    A job with ``openings`` places is shown to at most ``exposure_per_opening``
    times that many workers in one batch, so that five hundred workers are not
    all sent to the same opening.
    """

    def __init__(self, cfg: PolicyConfig | None = None) -> None:
        self.cfg = cfg or PolicyConfig()
        self.shown: Counter[str] = Counter()
        self.capacity: dict[str, int] = {}
        self._full: set[str] = set()  # kept up to date by register/record: full() is asked once per worker

    def register(self, items: pd.DataFrame) -> None:
        openings = items["openings"].fillna(1).to_numpy(dtype=float) if "openings" in items.columns else np.ones(len(items))
        for item, n in zip(items["item_id"].tolist(), openings.tolist(), strict=True):
            if item not in self.capacity:
                self.capacity[item] = max(1, math.ceil(self.cfg.exposure_per_opening * max(n, 1.0)))
                self._update(item)

    def _update(self, item: str) -> None:
        if self.shown.get(item, 0) >= self.capacity.get(item, 1):
            self._full.add(item)
        else:
            self._full.discard(item)

    def full(self) -> set[str]:
        """Jobs at their cap: shown at least ``capacity`` times (1 for an unregistered job).

        The ledger's own set, kept up to date (not rebuilt from everything shown, which made
        a long batch quadratic): read it, do not keep or change it.
        """
        return self._full

    def record(self, items: Iterable[str]) -> None:
        for item in items:
            self.shown[item] += 1
            self._update(item)
