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


def add_impressions(
    pairs: pd.DataFrame,
    impressions: pd.DataFrame,
    *,
    before: pd.Timestamp | None = None,
    exclude: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Graded job pairs plus the jobs shown to a worker that they did not take up: relevance 0,
    dated the day first shown (when the recommendation was made).

    A shown pair with an outcome keeps the outcome's row. With ``before`` (a split's cutoff)
    only what was shown before it counts, and pairs in ``exclude`` (the held-out ones) are
    left out, so no pair lands on both sides of the split. Unlike jobs sampled at random,
    these are negatives the ranker itself put forward (hard ones); where outcomes go
    unrecorded they are wrong, hence ``TrainConfig.shown_not_taken``.
    """
    if impressions.empty:
        return pairs
    shown = impressions.rename(columns={"job_id": C.ITEM, "worker_id": C.WORKER})
    if before is not None:
        shown = shown.loc[shown["date"] < before]
    taken = pairs[[C.WORKER, C.ITEM]]
    if exclude is not None and len(exclude):
        taken = pd.concat([taken, exclude[[C.WORKER, C.ITEM]]], ignore_index=True)
    new = shown.merge(taken.drop_duplicates(), on=[C.WORKER, C.ITEM], how="left", indicator=True)
    new = new.loc[new["_merge"] == "left_only"]
    if new.empty:
        return pairs
    extra = pd.DataFrame({
        C.WORKER: new[C.WORKER].to_numpy(), C.ITEM: new[C.ITEM].to_numpy(),
        C.RELEVANCE: 0, "first_date": new["date"].to_numpy(), "last_date": new["date"].to_numpy(),
    })
    return pd.concat([pairs, extra.astype({C.RELEVANCE: pairs[C.RELEVANCE].dtype})], ignore_index=True)

