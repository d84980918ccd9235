"""Batch output rows, shared by the single-process and the Dask paths (no Dask import)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from recommender.errors import RecommenderError

OUTPUT_COLUMNS = ["worker_id", "rank", "item_type", "item_id", "score", "scope", "reasons"]


def to_rows(workers: Sequence[str], results: Sequence[Any], *, lang: str = "zh") -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """One row per recommended item (the columns of ``recommender recommend``) and the (worker, error) pairs."""
    rows: list[tuple[Any, ...]] = []
    errors: list[tuple[str, str]] = []
    for worker, result in zip(workers, results, strict=True):
        if isinstance(result, RecommenderError):
            errors.append((str(worker), str(result)))
            continue
        for item in result.items:
            reasons = "; ".join(getattr(r, lang) for r in item.reasons + item.warnings)
            rows.append((str(worker), item.rank, item.item_type, item.item_id, float(item.score), item.scope or "", reasons))
    return pd.DataFrame.from_records(rows, columns=OUTPUT_COLUMNS), errors
