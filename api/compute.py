"""Where the ranking work of a request runs.

Ranking is CPU-bound Python and numpy that holds the GIL most of the time. Run
in Starlette's shared thread pool (40 threads), 16 concurrent requests become
16 threads taking turns on the GIL of one process: each hand-off costs CPU and
every request waits for all the others. Instead each process has a small pool
of its own (``RECOMMENDER_COMPUTE_THREADS``, default 1): requests queue for it
in arrival order, the event loop keeps parsing, validating and writing
responses meanwhile, and the process's core does ranking, not switching.
Batch requests have their own limiter, so one long batch cannot hold up the
single-worker requests of a counsellor's page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
from fastapi import FastAPI, Request

from api.errors import ApiError

T = TypeVar("T")


def install_limiters(app: FastAPI, threads: int) -> None:
    """One limiter for single-worker requests and one for batches (called in the lifespan, inside the event loop)."""
    app.state.compute_limiter = anyio.CapacityLimiter(threads)
    app.state.batch_limiter = anyio.CapacityLimiter(threads)


def busy(app: FastAPI) -> bool:
    """Whether requests are being ranked or waiting to be (their served lists are about to be logged)."""
    for name in ("compute_limiter", "batch_limiter"):
        limiter: anyio.CapacityLimiter | None = getattr(app.state, name, None)
        if limiter is not None and (limiter.borrowed_tokens or limiter.statistics().tasks_waiting):
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
    limiter: anyio.CapacityLimiter | None = getattr(state, "batch_limiter" if batch else "compute_limiter", None)
    if limiter is not None:
        waiting = limiter.statistics().tasks_waiting
        if limiter.available_tokens == 0 and waiting >= state.settings.max_queued_requests:
            if getattr(state, "metrics", None) is not None:
                state.metrics.inc("requests_shed")
            raise ApiError(503, "overloaded", f"the service is at capacity ({waiting} requests waiting); retry shortly",
                           headers={"Retry-After": "1"})
    return await anyio.to_thread.run_sync(fn, limiter=limiter)
