"""Outcomes -> graded relevance, one row per (worker, item).

A later outcome implies the earlier ones, so each pair keeps its furthest
outcome as the grade; the pair's date is when it was first seen, which is
when a recommendation would have had to be made.
"""

from __future__ import annotations

import pandas as pd

from recommender import columns as C

JOB_GRADES: dict[str, int] = {"referred": 0, "applied": 1, "hired": 2, "retained": 3}
COURSE_GRADES: dict[str, int] = {"referred": 0, "enrolled": 1, "completed": 2, "certified": 3}


def graded_pairs(outcomes: pd.DataFrame, item_col: str, grades: dict[str, int]) -> pd.DataFrame:
    """Columns: worker_id, item_id, relevance (max grade), first_date, last_date."""
    if outcomes.empty:
        return pd.DataFrame(
            {C.WORKER: pd.Series(dtype=object), C.ITEM: pd.Series(dtype=object), C.RELEVANCE: pd.Series(dtype=int),
             "first_date": pd.Series(dtype="datetime64[ns]"), "last_date": pd.Series(dtype="datetime64[ns]")}
        )
    frame = outcomes.assign(_grade=outcomes["outcome"].map(grades).astype(int))
    out = frame.groupby(["worker_id", item_col], as_index=False).agg(
        relevance=("_grade", "max"), first_date=("date", "min"), last_date=("date", "max")
    )
    return out.rename(columns={"worker_id": C.WORKER, item_col: C.ITEM})
