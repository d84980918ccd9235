"""Single-worker job requests that queued together are ranked together.

A process ranks on one thread (``api.compute``); under load several requests
wait for it. Each would pay the fixed cost of featurising its ~100 candidates
and walking the trees over them; ranked together they pay it once
(``Recommender.recommend_jobs_many``: four requests at once cost about 3.2 ms
each instead of 5.2 ms on 100,000 open jobs), and every result is the one the
request gets alone. Nothing waits to form a group: when the ranking thread
gets to a request, it takes that request and whatever else is already queued
behind it (up to ``MAX_GROUP``), so a lone request goes through as before.

Each request queues its query, then its turn on the ranking thread
(``run_compute``); the queries are taken in arrival order, so a request's
query has been ranked when its own turn ends (with one ranking thread; with
more, a turn may end while another thread still ranks the query, so the
request awaits the query's own future).
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import threading
from typing import Any

from fastapi import Request

from api.compute import run_compute
from api.metrics import Metrics
from recommender.errors import RecommenderError
from recommender.service import JobQuery

MAX_GROUP = 16  # queries ranked in one pass at most


class JobQueue:
    """Queued ``JobQuery`` s with the Recommender each was asked of, and their futures."""

    def __init__(self, max_group: int = MAX_GROUP, metrics: Metrics | None = None) -> None:
        self.max_group = max(1, int(max_group))
        self.metrics = metrics if metrics is not None else Metrics()  # counts the passes and the queries ranked
        self._items: collections.deque[tuple[Any, JobQuery, concurrent.futures.Future[Any]]] = collections.deque()
        self._lock = threading.Lock()

    def add(self, rec: Any, query: JobQuery) -> concurrent.futures.Future[Any]:
        fut: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._lock:
            self._items.append((rec, query, fut))
        return fut

    def drain(self) -> None:
        """Rank the first live query and those behind it that share its Recommender (a promotion
        swaps it), in one pass; queries whose request is gone (shed, cancelled) are dropped."""
        rec: Any = None
        group: list[tuple[JobQuery, concurrent.futures.Future[Any]]] = []
        with self._lock:
            while self._items and len(group) < self.max_group:
                item = self._items[0]
                if group and item[0] is not rec:
                    break
                self._items.popleft()
                if item[2].set_running_or_notify_cancel():  # False: its request is gone
                    rec = item[0]
                    group.append((item[1], item[2]))
        if not group:
            return
        try:
            results = rec.recommend_jobs_many([q for q, _ in group])
        except Exception as exc:  # noqa: BLE001 - a bug reaches every request of the pass, as it would each alone
            for _, fut in group:
                fut.set_exception(exc)
            return
        self.metrics.inc("ranking_passes")
        self.metrics.inc("ranked_queries", len(group))
        for (_, fut), result in zip(group, results, strict=True):
            if isinstance(result, RecommenderError):
                fut.set_exception(result)
            else:
                fut.set_result(result)


async def recommend_jobs(request: Request, rec: Any, query: JobQuery) -> Any:
    """``rec.recommend_jobs(query...)`` through the process's queue; raises what that call raises."""
    queue: JobQueue | None = getattr(request.app.state, "job_queue", None)
    if queue is None:  # an app used without its lifespan
        queue = JobQueue()
    fut = queue.add(rec, query)
    try:
        await run_compute(request, queue.drain)
        return await asyncio.wrap_future(fut)
    finally:
        fut.cancel()  # no-op once ranked; otherwise (503, client gone) the pass skips it

