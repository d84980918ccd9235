"""The served log, written after the responses, many requests per transaction.

Every list the service returns is logged (``recommender.served_log``). Writing
each request's rows in a transaction of its own costs a thread hop, a
``BEGIN IMMEDIATE`` (the store's write lock, shared by all server processes)
and a commit per request. Instead each app has one ``ServedLogWriter``: a
request's background task queues its lists; the first one to find no write
under way writes everything queued, in one transaction in a worker thread, and
again until nothing is left; the others return at once. When other requests
are being ranked at that moment (``busy``), it first waits a few milliseconds
(``delay``, cut short once ``max_pending`` requests are queued) so that their
lists join the same transaction; a request served alone is written at once.

Guarantees: every list served is written (when the only request in flight
finishes its background task, its rows are in the log); the lifespan calls
``flush`` after the last request, so nothing queued is lost on shutdown; a
failed write is counted once per request it held (``served_log_failures``)
and never fails a request. No profile field is ever written (see
``recommender.served_log``).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import anyio
from sqlalchemy.exc import OperationalError

from api.metrics import Metrics
from recommender import served_log
from recommender.store import Store

log = logging.getLogger("api")

#: How long the first request of a batch waits for others to join its transaction.
DELAY_SECONDS = 0.05
#: Requests queued that start the write at once, without waiting out the delay.
MAX_PENDING = 64


class ServedLogWriter:
    """Queues served lists and writes them in batches (thread-safe; ``submit`` runs on the event loop)."""

    def __init__(
        self, store: Store, metrics: Metrics, *, busy: Callable[[], bool] = lambda: True,
        delay: float = DELAY_SECONDS, max_pending: int = MAX_PENDING,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.busy = busy
        self.delay = delay
        self.max_pending = max_pending
        self._lock = threading.Lock()  # guards _pending and _writing
        self._write_lock = threading.Lock()  # one transaction at a time (a drain or the final flush)
        self._pending: list[list[served_log.Served]] = []  # one entry per request
        self._writing = False  # a request has taken on writing what is pending
        self._wake: anyio.Event | None = None

    async def submit(self, served: Sequence[served_log.Served]) -> None:
        """A request's background task: queue its lists; the first of a batch waits a moment, then writes them all."""
        if not served:
            return
        with self._lock:
            self._pending.append(list(served))
            if self._writing:
                if len(self._pending) >= self.max_pending and self._wake is not None:
                    self._wake.set()
                return
            self._writing = True
            self._wake = wake = anyio.Event()
        try:
            if self.busy():  # others are being ranked and will queue their lists in a moment
                with anyio.move_on_after(self.delay):
                    await wake.wait()
        except BaseException:  # cancelled while waiting: leave the lists to the next request or the final flush
            with self._lock:
                self._writing = False
                self._wake = None
            raise
        await anyio.to_thread.run_sync(self.drain)

    def drain(self) -> None:
        """Write until nothing is pending (lists queued meanwhile join the next transaction)."""
        try:
            with self._write_lock:
                while True:
                    with self._lock:
                        todo, self._pending = self._pending, []
                        if not todo:
                            self._writing = False
                            self._wake = None
                            return
                    self._write(todo)
        except BaseException:
            with self._lock:
                self._writing = False
                self._wake = None
            raise

    def flush(self) -> None:
        """Write whatever is queued now (the lifespan calls it after the last request)."""
        with self._write_lock:
            with self._lock:
                todo, self._pending = self._pending, []
            if todo:
                self._write(todo)

    def _write(self, todo: list[list[served_log.Served]]) -> None:
        try:
            served_log.log_served_many(self.store, [s for request in todo for s in request])
            return
        except Exception as exc:
            if len(todo) == 1 or isinstance(exc, OperationalError):  # one request, or the store is down or locked
                self._failed(todo)
                return
        for request in todo:  # a bad row fails only its own request: write the others one by one
            try:
                served_log.log_served_many(self.store, request)
            except Exception:
                self._failed([request])

    def _failed(self, requests: list[list[served_log.Served]]) -> None:
        for _ in requests:
            self.metrics.inc("served_log_failures")
        ids = ", ".join(sorted({s.request_id or "-" for request in requests for s in request})[:5])
        log.exception("could not write the served log for %d request(s) (%s)", len(requests), ids)


def served_now() -> dt.datetime:
    """The ``served_at`` of rows logged now (naive UTC, as the table stores it)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def entries(by_source: dict[str, list[Any]], request_id: str) -> list[served_log.Served]:
    """The served-log entries of one request: its lists by worker source, stamped with the time served."""
    at = served_now()
    return [served_log.Served(lists, source, request_id, at) for source, lists in by_source.items() if lists]
