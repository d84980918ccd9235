"""Where the ranking work of a request runs.

Ranking is CPU-bound Python and numpy that holds the GIL most of the time. Run
in Starlette's shared thread pool (40 threads), 16 concurrent requests become
16 threads taking turns on the GIL of one process: each hand-off costs CPU and
every request waits for all the others. Instead each process has a small pool
of its own (``RECOMMENDER_COMPUTE_THREADS``, default 1): requests queue for it
in arrival order, the event loop keeps parsing, validating and writing
responses meanwhile, and the process's core does ranking, not switching.
Batch requests have their own pool, so one long batch cannot hold up the
single-worker requests of a counsellor's page.

A pool is a plain ``ThreadPoolExecutor`` (FIFO) awaited through the event
loop, with its own count of the requests in it. ``anyio.to_thread.run_sync``
with a ``CapacityLimiter`` did the same at several times the cost per request
(backend and library look-ups, the limiter, cancel scopes, the shared
worker-thread bookkeeping), paid on the event loop by every request.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
from collections.abc import Callable
from typing import TypeVar

import anyio
from fastapi import FastAPI, Request

from api.errors import ApiError

T = TypeVar("T")


class ComputePool:
    """``threads`` threads that run ranking work in arrival order; ``in_flight`` counts the requests in it.

    ``in_flight`` is changed only on the event loop. A request cancelled while its work
    runs leaves the count only when the work has finished (as a thread limiter would).
    """

    def __init__(self, threads: int, name: str) -> None:
        self.threads = max(1, int(threads))
        self.in_flight = 0
        self._executor = concurrent.futures.ThreadPoolExecutor(self.threads, thread_name_prefix=name)

    @property
    def available_tokens(self) -> int:
        """Threads free now."""
        return max(0, self.threads - self.in_flight)

    @property
    def waiting(self) -> int:
        """Requests queued for a thread."""
        return max(0, self.in_flight - self.threads)

    async def run(self, fn: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        ctx = contextvars.copy_context()
        self.in_flight += 1
        work = self._executor.submit(ctx.run, fn)
        try:
            result = await asyncio.wrap_future(work, loop=loop)
        except asyncio.CancelledError:
            if not work.cancel():  # already running: count it until it ends
                work.add_done_callback(lambda _: loop.call_soon_threadsafe(self._done))
                raise
            self._done()
            raise
        except BaseException:
            self._done()
            raise
        self._done()
        return result

    def _done(self) -> None:
        self.in_flight -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def install_limiters(app: FastAPI, threads: int) -> None:
    """One pool for single-worker requests and one for batches (called in the lifespan, inside the event loop)."""
    app.state.compute_limiter = ComputePool(threads, "rank")
    app.state.batch_limiter = ComputePool(threads, "rank-batch")


def close_limiters(app: FastAPI) -> None:
    for name in ("compute_limiter", "batch_limiter"):
        pool = getattr(app.state, name, None)
        if pool is not None:
            pool.close()


def busy(app: FastAPI) -> bool:
    """Whether requests are being ranked or waiting to be (their served lists are about to be logged)."""
    for name in ("compute_limiter", "batch_limiter"):
        pool: ComputePool | None = getattr(app.state, name, None)
        if pool is not None and pool.in_flight:
            return True
    return False


async def run_compute(request: Request, fn: Callable[[], T], *, batch: bool = False) -> T:
    """``fn()`` on the process's ranking thread(s); exceptions propagate to the caller.

    The queue is bounded (``RECOMMENDER_MAX_QUEUED_REQUESTS``): when more
    requests wait than that, the newcomer gets 503 ``overloaded`` with a
    ``Retry-After`` at once. Under overload an unbounded queue turns every
    answer into a timeout; shedding keeps the accepted ones fast and tells the
    rest when to come back (a load balancer can send them to another replica).
    """
    state = request.app.state
    pool: ComputePool | None = getattr(state, "batch_limiter" if batch else "compute_limiter", None)
    if pool is None:  # an app used without its lifespan
        return await anyio.to_thread.run_sync(fn)
    waiting = pool.waiting
    if pool.in_flight >= pool.threads and waiting >= state.settings.max_queued_requests:
        if getattr(state, "metrics", None) is not None:
            state.metrics.inc("requests_shed")
        raise ApiError(503, "overloaded", f"the service is at capacity ({waiting} requests waiting); retry shortly",
                       headers={"Retry-After": "1"})
    return await pool.run(fn)
