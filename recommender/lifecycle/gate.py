"""The promotion gate: a candidate is promoted only if it is not worse than the
promoted model beyond a tolerance, overall, for workers 50+ and for cold-start
workers. Both are measured on the same held-out window, the same queries.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

GATE_SEGMENTS: tuple[str, ...] = ("all", "age 50+", "cold start")


@dataclass(frozen=True)
class GateConfig:
    metric: str = "ndcg@10"
    max_abs_drop: float = 0.01  # refuse if the candidate is this much lower (absolute) ...
    max_rel_drop: float = 0.02  # ... or this fraction of the promoted model's value lower
    segments: tuple[str, ...] = GATE_SEGMENTS
    min_workers: int = 10  # a segment with fewer held-out workers is reported, not gated


@dataclass
class GateVerdict:
    passed: bool
    reason: str
    compared_with: str | None
    comparison: str | None  # how the promoted model was evaluated ("served bundle" or "refit on the same split")
    checks: list[dict[str, Any]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _value(table: pd.DataFrame, segment: str, method: str, metric: str) -> tuple[float, int]:
    row = table.loc[(table["segment"] == segment) & (table["method"] == method)]
    if row.empty:
        return math.nan, 0
    return float(row[metric].iloc[0]), int(row["workers"].iloc[0])


def apply_gate(
    table: pd.DataFrame,
    cfg: GateConfig,
    *,
    compared_with: str | None,
    comparison: str | None = None,
    candidate: str = "learned",
    reference: str = "previous",
) -> GateVerdict:
    """The verdict from a summary table holding both the candidate and the reference rows."""
    conf = asdict(cfg)
    if compared_with is None:
        return GateVerdict(True, "no model promoted yet: the first model is promoted", None, None, [], conf)
    checks, failed = [], []
    for seg in cfg.segments:
        new, n = _value(table, seg, candidate, cfg.metric)
        old, _ = _value(table, seg, reference, cfg.metric)
        check: dict[str, Any] = {"segment": seg, "workers": n, "candidate": new, "promoted": old}
        if n < cfg.min_workers or math.isnan(new) or math.isnan(old):
            check.update(drop=None, ok=True, note=f"not gated: {n} held-out workers (< {cfg.min_workers})")
            checks.append(check)
            continue
        drop = old - new
        rel = drop / old if old > 0 else 0.0
        ok = not (drop > cfg.max_abs_drop or rel > cfg.max_rel_drop)
        check.update(drop=round(drop, 4), relative_drop=round(rel, 4), ok=ok)
        checks.append(check)
        if not ok:
            failed.append(f"{cfg.metric} {seg} {new:.3f} vs {old:.3f} (-{drop:.3f}, -{100 * rel:.1f}%)")
    limits = f"tolerance {cfg.max_abs_drop:g} absolute / {100 * cfg.max_rel_drop:g}% relative"
    if failed:
        reason = f"worse than {compared_with} beyond the {limits}: " + "; ".join(failed)
        return GateVerdict(False, reason, compared_with, comparison, checks, conf)
    return GateVerdict(True, f"not worse than {compared_with} within the {limits}", compared_with, comparison, checks, conf)
