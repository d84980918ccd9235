"""Time-based splits and the leakage guard.

Training sees only what happened before the cutoff; evaluation asks what the
model would have recommended at the moment each held-out worker came back.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from recommender import columns as C
from recommender.errors import RecommenderError


class LeakageError(RecommenderError, ValueError):
    code = "leakage"


@dataclass(frozen=True, slots=True)
class TimeSplit:
    cutoff: pd.Timestamp  # first day of the held-out window
    end: pd.Timestamp  # last day with outcomes

    def describe(self) -> str:
        return f"train < {self.cutoff.date()} <= test <= {self.end.date()}"


def choose_split(pairs: pd.DataFrame, *, test_days: int = 90, date_col: str = "first_date") -> TimeSplit:
    """Hold out the last ``test_days`` of outcomes (fewer if history is short)."""
    if pairs.empty:
        raise RecommenderError("no outcomes to split: import placements first")
    end = pd.Timestamp(pairs[date_col].max()).normalize()
    start = pd.Timestamp(pairs[date_col].min()).normalize()
    span = (end - start).days
    days = min(test_days, max(1, span // 4))
    return TimeSplit(cutoff=end - pd.Timedelta(days=days - 1), end=end)


def split_pairs(pairs: pd.DataFrame, split: TimeSplit, *, date_col: str = "first_date") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pairs first seen before the cutoff train; pairs first seen after it test."""
    train = pairs.loc[pairs[date_col] < split.cutoff]
    test = pairs.loc[pairs[date_col] >= split.cutoff]
    return train.reset_index(drop=True), test.reset_index(drop=True)


def guard_no_leakage(train: pd.DataFrame, test: pd.DataFrame) -> None:
    """Refuse to evaluate on interactions the model was trained on."""
    shared = train[[C.WORKER, C.ITEM]].merge(test[[C.WORKER, C.ITEM]], on=[C.WORKER, C.ITEM])
    if len(shared):
        example = shared.iloc[0]
        raise LeakageError(
            f"{len(shared)} (worker, item) pairs are in both the training and the test set "
            f"(e.g. {example[C.WORKER]}, {example[C.ITEM]}); split by time with split_pairs() "
            "so that each pair lands on one side"
        )
