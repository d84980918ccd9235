"""Shown, not taken: jobs the service showed stored workers become training negatives.

The served log (``recommender.served_log``) is read back as impressions (one row per
stored worker and job, the day first shown); ``add_impressions`` adds those without an
outcome to the graded pairs with relevance 0, before the cutoff and never on both sides
of a split; ``fit_bundle`` trains on them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from recommender import columns as C
from recommender import served_log
from recommender.schemas import Recommendations, RecommendedItem
from recommender.settings import Settings
from recommender.snapshot import Snapshot
from recommender.store import Store
from recommender.training.labels import JOB_GRADES, add_impressions, graded_pairs
from recommender.training.pipeline import TrainConfig, fit_bundle
from recommender.training.split import guard_no_leakage


def _list(worker_id: str | None, item_type: str, ids: list[str], day: dt.date = dt.date(2025, 1, 1)) -> Recommendations:
    items = [RecommendedItem(item_type=item_type, item_id=i, rank=n + 1, score=1.0 - n / 10) for n, i in enumerate(ids)]  # type: ignore[arg-type]
    return Recommendations(worker_id=worker_id, item_type=item_type, as_of=day, scope="all", model_version="v1", items=items)  # type: ignore[arg-type]


def _placements(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["worker_id", "job_id", "outcome", "date"]).assign(date=lambda f: pd.to_datetime(f["date"]))


def test_add_impressions_adds_shown_pairs_without_an_outcome() -> None:
    pairs = graded_pairs(_placements([("W1", "J1", "hired", "2025-01-10"), ("W2", "J2", "applied", "2025-03-05")]), "job_id", JOB_GRADES)
    shown = pd.DataFrame({
        "worker_id": ["W1", "W1", "W1", "W2", "W3"],
        "job_id": ["J1", "J5", "J6", "J2", "J7"],
        "date": pd.to_datetime(["2025-01-02", "2025-01-03", "2025-03-02", "2025-01-04", "2025-01-05"]),
    })
    cutoff = pd.Timestamp("2025-03-01")
    train, test = pairs.loc[pairs["first_date"] < cutoff], pairs.loc[pairs["first_date"] >= cutoff]
    out = add_impressions(train, shown, before=cutoff, exclude=test)
    added = out.iloc[len(train):]
    # J1 has an outcome (kept as it was), J6 was shown after the cutoff, (W2, J2) is held out
    assert sorted(zip(added[C.WORKER], added[C.ITEM], strict=True)) == [("W1", "J5"), ("W3", "J7")]
    assert (added[C.RELEVANCE] == 0).all() and added[C.RELEVANCE].dtype == train[C.RELEVANCE].dtype
    assert list(added["first_date"]) == list(pd.to_datetime(["2025-01-03", "2025-01-05"]))
    pd.testing.assert_frame_equal(out.iloc[: len(train)], train.reset_index(drop=True))
    guard_no_leakage(out, test)  # nothing on both sides
    assert add_impressions(train, shown.iloc[:0]) is train
    # without a split (the model that is served): everything shown that was not taken up
    everything = add_impressions(pairs, shown)
    assert len(everything) - len(pairs) == 3  # J5, J6, J7


def test_impressions_are_the_stored_workers_jobs_first_shown(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    assert served_log.impressions(store).empty  # no served log yet: no table, no rows
    at = dt.datetime(2025, 2, 1, 9, 30)
    served_log.log_served(store, [_list("W1", "job", ["J1", "J2"])], worker_source="store", served_at=at)
    served_log.log_served(store, [_list("W1", "job", ["J2", "J3"])], worker_source="store", served_at=at + dt.timedelta(days=3))
    served_log.log_served(store, [_list("P9", "job", ["J4"])], worker_source="profile", served_at=at)  # not a stored worker
    served_log.log_served(store, [_list("W1", "course", ["C1"])], worker_source="store", served_at=at)  # a course
    got = served_log.impressions(store).sort_values(["worker_id", "job_id"]).reset_index(drop=True)
    assert list(zip(got["worker_id"], got["job_id"], strict=True)) == [("W1", "J1"), ("W1", "J2"), ("W1", "J3")]
    assert list(got["date"]) == list(pd.to_datetime(["2025-02-01", "2025-02-01", "2025-02-04"]))
    assert str(got["date"].dtype) == "datetime64[ns]"


def test_training_learns_from_jobs_shown_and_not_taken(tmp_path: Path, copy_sample_store) -> None:
    """The served log of a store reaches training: its shown-not-taken pairs are counted and trained on;
    the snapshot's fingerprint names the data; serving's snapshot does not read the log."""
    store = Store(copy_sample_store(tmp_path / "store.db"))
    plain = Snapshot.from_store(store, impressions=True)
    worker = str(plain.workers["worker_id"].iloc[0])
    taken = set(plain.placements.loc[plain.placements["worker_id"] == worker, "job_id"])
    fresh = [j for j in plain.jobs["job_id"].astype(str) if j not in taken][:3]
    served_log.log_served(store, [_list(worker, "job", fresh)], worker_source="store", served_at=dt.datetime(2024, 6, 1))
    snap = Snapshot.from_store(store, impressions=True)
    assert len(snap.impressions) == 3 and Snapshot.from_store(store).impressions.empty
    assert snap.fingerprint() != plain.fingerprint() and plain.fingerprint() == Snapshot.from_store(store).fingerprint()
    cfg = TrainConfig(negatives=4)
    _, rows = fit_bundle(snap, cfg)
    _, rows_plain = fit_bundle(plain, cfg)
    assert rows["shown_not_taken"] == 3 and rows_plain["shown_not_taken"] == 0
    assert rows["job_training_rows"] > rows_plain["job_training_rows"]
    # switched off (RECOMMENDER_TRAIN_SHOWN_NOT_TAKEN=false: outcomes not recorded reliably)
    _, rows_off = fit_bundle(snap, TrainConfig(negatives=4, shown_not_taken=False))
    assert rows_off["shown_not_taken"] == 0 and rows_off["job_training_rows"] == rows_plain["job_training_rows"]
    assert TrainConfig.from_settings(Settings(train_shown_not_taken=False)).shown_not_taken is False
