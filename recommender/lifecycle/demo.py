"""Replaying history: split a contract folder's outcomes at a date.

For walkthroughs and tests of the lifecycle: ``split_outcomes`` writes the
files of ``src`` into ``out/history`` with only the placements and enrolments
dated before ``before``, and the later ones into ``out/new`` (placements and
enrolments only), so importing ``history``, training, then importing ``new``
replays "new outcomes have come in since the model was trained".
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

OUTCOME_FILES = ("placements.csv", "enrolments.csv")


def split_outcomes(src: Path | str, out: Path | str, *, before: str | pd.Timestamp) -> tuple[Path, Path]:
    """(history folder, new-outcomes folder); the split is by each outcome's ``date``."""
    src, out = Path(src), Path(out)
    history, new = out / "history", out / "new"
    history.mkdir(parents=True, exist_ok=True)
    new.mkdir(parents=True, exist_ok=True)
    cut = pd.Timestamp(before)
    for path in sorted(src.glob("*.csv")):
        if path.name not in OUTCOME_FILES:
            shutil.copyfile(path, history / path.name)
            continue
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        dates = pd.to_datetime(frame["date"], errors="coerce")
        frame.loc[dates < cut].to_csv(history / path.name, index=False)
        frame.loc[~(dates < cut)].to_csv(new / path.name, index=False)
    return history, new


def heldout_start(src: Path | str, *, test_days: int = 90) -> pd.Timestamp:
    """The first day of the held-out window a retrain on all of ``src`` would choose."""
    from recommender.training.labels import JOB_GRADES, graded_pairs
    from recommender.training.split import choose_split

    p = pd.read_csv(Path(src) / "placements.csv", dtype=str, keep_default_na=False)
    p["date"] = pd.to_datetime(p["date"])
    return choose_split(graded_pairs(p, "job_id", JOB_GRADES), test_days=test_days).cutoff
