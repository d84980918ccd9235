"""The FastAPI application.

``create_app`` builds a fresh app from a ``Settings`` (from the environment
when none is given), so tests and ``recommender serve`` each get their own.
Nothing is loaded at import time: the store is opened and the promoted model
loaded in the lifespan, and a background task swaps in newly promoted models.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy.exc import SQLAlchemyError

from api.coalesce import JobQueue
from api.compute import busy, close_limiters, install_limiters
from api.deps import StoreDep, allow
from api.edge import EdgeMiddleware
from api.errors import install_handlers
from api.limits import BodyLimitMiddleware
from api.metrics import Metrics, MetricsShare
from api.routes import courses, employers, imports, jobs, models, ops, outcomes, recommendations, workers
from api.security import Action, KeyRing, RateLimiter
from api.served import ServedLogWriter  # imports recommender.served_log: its table is on the store's metadata before the store creates tables
from api.serving import Loader, ModelHolder
from api.web.router import install_web, session_scope
from recommender import __version__, served_log
from recommender.settings import Settings, get_settings
from recommender.store import Store

log = logging.getLogger("api")

#: how often each process publishes its counters when several share /metrics (settings.metrics_dir)
METRICS_PUBLISH_SECONDS = 1.0
#: how often the served log is cut to ``settings.served_log_days`` days
PRUNE_SERVED_SECONDS = 3600.0

DESCRIPTION = """
Job matching and vocational-training recommendations for public employment services.

**Keys.** Send an API key in `X-API-Key` (or `Authorization: Bearer <key>`). Roles:
`portal` (recommendations for inline profiles only), `counsellor` (read records,
recommendations by worker id or profile, record outcomes), `admin` (everything:
imports, record edits, models).

**Errors** are JSON `{"code", "detail", "errors": [{"loc", "msg"}]}` with a stable `code`.
"""

TAGS = [
    {"name": "recommendations", "description": "ranked jobs and courses, with reasons"},
    {"name": "workers", "description": "registered workers (workers.csv)"},
    {"name": "jobs", "description": "job postings (jobs.csv)"},
    {"name": "courses", "description": "training courses (courses.csv)"},
    {"name": "employers", "description": "employers (employers.csv)"},
    {"name": "outcomes", "description": "placements and enrolments as they happen"},
    {"name": "imports", "description": "bulk upload of contract files"},
    {"name": "models", "description": "the model registry"},
    {"name": "ops", "description": "health, readiness, metrics"},
]


def _open_store(settings: Settings) -> tuple[Store, bool]:
    """The store, with its tables; a store that is down at start-up is retried by /readyz."""
    try:
        return Store(settings.db), True
    except SQLAlchemyError as exc:
        log.error("store unavailable at start-up (%s); serving without it until it answers", exc)
        return Store(settings.db, create=False), False


async def _prune_served(store: Store, days: int) -> None:
    """Keep the served log to ``days`` days: at start-up, then every ``PRUNE_SERVED_SECONDS``
    (every process does it; a run with nothing to delete is one indexed look-up)."""
    while True:
        try:
            cutoff = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=days)
            n = await anyio.to_thread.run_sync(lambda: served_log.prune(store, cutoff))
            if n:
                log.info("served log: %d rows older than %d days deleted", n, days)
        except SQLAlchemyError as exc:  # the store is down or locked: try again next time
            log.warning("served log not pruned (%s)", exc.__class__.__name__)
        await asyncio.sleep(PRUNE_SERVED_SECONDS)


async def _publish_metrics(share: MetricsShare) -> None:
    """Publish this process's counters every ``METRICS_PUBLISH_SECONDS`` for the other processes' scrapes."""
    while True:
        await anyio.to_thread.run_sync(share.publish)
        await asyncio.sleep(METRICS_PUBLISH_SECONDS)


def create_app(settings: Settings | None = None, *, loader: Loader | None = None) -> FastAPI:
    """Build the app. ``loader(settings, store)`` returns the Recommender to serve (tests pass a fake)."""
    settings = settings or get_settings()
    keyring = KeyRing.from_settings(settings)  # refuses placeholder keys in production, before anything starts
    settings = settings.model_copy(update={"api_keys": {}})  # from here on only the keyring's hashes hold the keys
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store, ready = _open_store(settings)
        holder = ModelHolder(settings, store, loader=loader, metrics=metrics)
        app.state.store = store
        app.state.store_ready = ready
        app.state.models = holder
        app.state.served_log = served = ServedLogWriter(store, metrics, busy=lambda: busy(app))
        install_limiters(app, settings.compute_threads)
        app.state.job_queue = JobQueue(metrics=metrics)
        share = app.state.metrics_share = MetricsShare(settings.metrics_dir, metrics) if settings.metrics_dir else None
        publisher = asyncio.create_task(_publish_metrics(share), name="metrics-publish") if share else None
        pruner = asyncio.create_task(_prune_served(store, settings.served_log_days), name="served-log-prune") if settings.served_log_days else None
        await holder.start()
        try:
            yield
        finally:
            if pruner is not None:
                pruner.cancel()
            await holder.stop()
            await anyio.to_thread.run_sync(served.flush)  # lists queued by the last requests
            close_limiters(app)
            store.dispose()
            if publisher is not None and share is not None:
                publisher.cancel()
                share.publish()  # this process's final counts stay in the others' totals

    app = FastAPI(
        title="Job and training recommender",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.keyring = keyring
    app.state.metrics = metrics
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute)

    install_handlers(app)
    # One layer (api.edge) for the session key, security headers, metrics and, without CORS, the body limit;
    # with CORS the body limit runs inside it (a 413 carries the CORS headers): edge > CORS > body limit.
    if settings.cors_origins:
        app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "PUT", "POST"],
            allow_headers=["X-API-Key", "Authorization", "Content-Type"],
            expose_headers=["X-Model-Version", "X-Request-ID", "Retry-After"],
        )
    app.add_middleware(
        EdgeMiddleware,
        metrics=metrics,
        max_bytes=None if settings.cors_origins else settings.max_body_bytes,
        session_scope=session_scope,
    )

    app.include_router(ops.router)
    for module in (recommendations, workers, jobs, courses, employers, outcomes, imports, models):
        app.include_router(module.router)
    app.include_router(__import__("api.routes.retrain", fromlist=["router"]).router)  # /v1/models/retrain jobs
    install_web(app)  # the counsellors' page at /web/; its session key is read by EdgeMiddleware

    @app.get("/v1/summary", tags=["ops"], dependencies=[Depends(allow(Action.read_records))], summary="Rows per table")
    def summary(store: StoreDep) -> dict[str, int]:
        """Rows per table in the store."""
        return store.counts()

    return app
