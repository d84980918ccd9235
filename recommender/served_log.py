"""The served-recommendation log: what was shown, to whom (by id), by which model.

Every list the service returns is written here, one row per item shown, so
that items shown but not taken up can later become training negatives (joined
to placements and enrolments by worker and item id). No personal data: only
ids, ranks, scores, the model version and a timestamp. Profile fields (age,
region, skills...) are never written. ``worker_id`` is the store's worker id
for lookups by id; for inline profiles it is the caller's own reference as
given (``worker_source = 'profile'``), or NULL when the profile has none or
the reference looks like a national ID number.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
import weakref
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import pandas as pd
import sqlalchemy as sa

from recommender.store import Store, metadata

served_recommendations = sa.Table(
    "served_recommendations",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(36), nullable=False, index=True),
    sa.Column("served_at", sa.DateTime(), nullable=False, index=True),
    sa.Column("model_version", sa.String(128), nullable=False),
    sa.Column("item_type", sa.String(8), nullable=False),
    sa.Column("worker_id", sa.String(64), nullable=True, index=True),
    sa.Column("worker_source", sa.String(8), nullable=False),  # 'store' or 'profile'
    sa.Column("scope", sa.String(16), nullable=True),
    sa.Column("rank", sa.Integer(), nullable=False),
    sa.Column("item_id", sa.String(64), nullable=False),
    sa.Column("score", sa.Float(), nullable=True),
)

WORKER_SOURCES = ("store", "profile")
_NATIONAL_ID = re.compile(r"^\d{17}[\dXx]$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_created: "weakref.WeakSet[sa.engine.Engine]" = weakref.WeakSet()


def ensure_table(store: Store) -> None:
    """Create the table if the store was opened before this module was imported."""
    if store.engine not in _created:
        served_recommendations.create(store.engine, checkfirst=True)
        _created.add(store.engine)


def loggable_worker_id(worker_id: str | None) -> str | None:
    """The reference as given if it is a plausible id; None otherwise (never an ID number)."""
    if worker_id is None:
        return None
    text = str(worker_id).strip()
    if not text or len(text) > 64 or _CONTROL.search(text) or _NATIONAL_ID.match(text):
        return None
    return text


def _get(obj: Any, name: str, default: Any = None) -> Any:
    return obj.get(name, default) if isinstance(obj, dict) else getattr(obj, name, default)


def rows_for(
    lists: Iterable[Any],
    *,
    worker_source: str,
    request_id: str | None = None,
    served_at: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Log rows (one per item) of ``Recommendations`` objects or their dicts."""
    if worker_source not in WORKER_SOURCES:
        raise ValueError(f"worker_source must be one of {WORKER_SOURCES}")
    request_id = request_id or str(uuid.uuid4())
    served_at = served_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows: list[dict[str, Any]] = []
    for recs in lists:
        worker = loggable_worker_id(_get(recs, "worker_id"))
        for item in _get(recs, "items", ()) or ():
            score = _get(item, "score")
            rows.append(
                {
                    "request_id": request_id,
                    "served_at": served_at,
                    "model_version": str(_get(recs, "model_version", "")),
                    "item_type": str(_get(item, "item_type") or _get(recs, "item_type")),
                    "worker_id": worker,
                    "worker_source": worker_source,
                    "scope": _get(recs, "scope"),
                    "rank": int(_get(item, "rank")),
                    "item_id": str(_get(item, "item_id")),
                    "score": None if score is None else float(score),
                }
            )
    return rows


class Served(NamedTuple):
    """The lists one request served from one kind of source, as handed to ``log_served_many``."""

    lists: Sequence[Any]
    worker_source: str
    request_id: str | None = None
    served_at: dt.datetime | None = None


def log_served(
    store: Store,
    lists: Sequence[Any],
    *,
    worker_source: str,
    request_id: str | None = None,
    served_at: dt.datetime | None = None,
) -> int:
    """Write the items of ``lists`` in one transaction; returns the rows written."""
    return log_served_many(store, [Served(lists, worker_source, request_id, served_at)])


def log_served_many(store: Store, served: Iterable[Served]) -> int:
    """Write the lists of many requests in one transaction (one executemany); returns the rows written.

    The service writes its log this way: one transaction for everything served in
    the last few milliseconds instead of one per request.
    """
    rows = [
        row
        for s in served
        for row in rows_for(s.lists, worker_source=s.worker_source, request_id=s.request_id, served_at=s.served_at)
    ]
    if not rows:
        return 0
    ensure_table(store)
    with store.begin() as conn:
        conn.execute(sa.insert(served_recommendations), rows)
    return len(rows)


def read_served(
    store: Store,
    *,
    worker_id: str | None = None,
    item_type: str | None = None,
    since: dt.datetime | None = None,
) -> pd.DataFrame:
    """The log as a frame (oldest first), optionally for one worker, item type or period."""
    ensure_table(store)
    t = served_recommendations
    stmt = sa.select(t).order_by(t.c.id)
    if worker_id is not None:
        stmt = stmt.where(t.c.worker_id == worker_id)
    if item_type is not None:
        stmt = stmt.where(t.c.item_type == item_type)
    if since is not None:
        stmt = stmt.where(t.c.served_at >= since)
    with store.engine.connect() as conn:
        rows = conn.execute(stmt).mappings().all()
    columns = [c.name for c in t.columns]
    return pd.DataFrame([dict(r) for r in rows], columns=columns)


def impressions(store: Store, conn: sa.engine.Connection | None = None) -> pd.DataFrame:
    """Jobs shown to stored workers: one row per (worker, job), dated the day it was first shown.

    What training turns into "shown, not taken" pairs (``training.labels.add_impressions``).
    Lists served for inline profiles are left out: their worker is not in the store.
    Aggregated in the database, so a log of millions of rows comes back as its distinct pairs.
    """
    t = served_recommendations
    stmt = (
        sa.select(t.c.worker_id, t.c.item_id, sa.func.min(t.c.served_at))
        .where(t.c.worker_source == "store", t.c.item_type == "job", t.c.worker_id.is_not(None))
        .group_by(t.c.worker_id, t.c.item_id)
    )

    def read(c: sa.engine.Connection) -> list[Any]:
        if not sa.inspect(c).has_table(t.name):
            return []
        return list(c.execute(stmt).all())

    if conn is not None:
        rows = read(conn)
    else:
        with store.engine.connect() as c:
            rows = read(c)
    return pd.DataFrame({
        "worker_id": pd.Series([r[0] for r in rows], dtype=object),
        "job_id": pd.Series([r[1] for r in rows], dtype=object),
        "date": pd.to_datetime(pd.Series([r[2] for r in rows], dtype=object)).dt.normalize().astype("datetime64[ns]"),
    })


PRUNE_BATCH = 50_000  # rows deleted per transaction: the store's write lock is never held for long


def prune(store: Store, older_than: dt.datetime, *, batch: int = PRUNE_BATCH) -> int:
    """Delete the log's rows served before ``older_than`` (naive UTC, as stored), in batches of
    ``batch`` rows, oldest first; returns the rows deleted.

    A portal calling at volume logs millions of rows a day; inserts into an ever larger table
    (three indexes) cost more, and training reads the log back. Keep what training needs
    (``RECOMMENDER_SERVED_LOG_DAYS`` above the training window).
    """
    ensure_table(store)
    t = served_recommendations
    total = 0
    while True:
        ids = sa.select(t.c.id).where(t.c.served_at < older_than).order_by(t.c.id).limit(batch).scalar_subquery()
        with store.begin() as conn:
            n = conn.execute(sa.delete(t).where(t.c.id.in_(ids))).rowcount or 0
        total += n
        if n < batch:
            return total


def summary(store: Store) -> tuple[int, dt.datetime | None, dt.datetime | None]:
    """(rows, first served_at, last served_at) of the log: what an operator sizes retention by."""
    t = served_recommendations
    with store.engine.connect() as conn:
        if not sa.inspect(conn).has_table(t.name):
            return 0, None, None
        n, first, last = conn.execute(sa.select(sa.func.count(), sa.func.min(t.c.served_at), sa.func.max(t.c.served_at))).one()
    return int(n), first, last

