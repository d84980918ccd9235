"""Operations: liveness, readiness and Prometheus metrics (no key needed, for probes and scrapers)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from api.deps import MetricsDep, ModelHolderDep, StoreDep
from api.errors import ErrorBody, ErrorItem, error_response
from api.metrics import CONTENT_TYPE
from recommender.store import Store, metadata

router = APIRouter(tags=["ops"])


@router.get("/healthz", summary="Alive")
def healthz() -> dict[str, str]:
    """The process answers; says nothing about the store or the model."""
    return {"status": "ok"}


def _store_ok(store: Store, request: Request) -> str | None:
    try:
        with store.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        if not getattr(request.app.state, "store_ready", True):
            metadata.create_all(store.engine)  # the store was down at start-up
            request.app.state.store_ready = True
    except Exception as exc:
        return f"store unreachable: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    return None


@router.get(
    "/readyz",
    summary="Ready to serve",
    responses={503: {"model": ErrorBody, "description": "store unreachable or no model loaded (`not_ready`), with reasons"}},
)
async def readyz(request: Request, store: StoreDep, holder: ModelHolderDep) -> Any:
    """200 when the store answers and a model is loaded; 503 naming what is missing otherwise."""
    problems: list[ErrorItem] = []
    store_error = await run_in_threadpool(_store_ok, store, request)
    if store_error:
        problems.append(ErrorItem(loc=["store"], msg=store_error))
    if holder.current is None:
        problems.append(ErrorItem(loc=["model"], msg=f"model_unavailable: {holder.error}"))
    if problems:
        return error_response(503, "not_ready", "; ".join(p.msg for p in problems), problems)
    return JSONResponse({"status": "ready", "store": "ok", "model_version": holder.version})


@router.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
def metrics(metrics: MetricsDep, holder: ModelHolderDep, request: Request) -> PlainTextResponse:
    """This process's counters, plus those the service's other processes published (``settings.metrics_dir``)."""
    share = getattr(request.app.state, "metrics_share", None)
    peers = share.peers() if share is not None else []
    text = metrics.render(model_version=holder.version, model_loaded_at=holder.loaded_at, peers=peers)
    return PlainTextResponse(text, media_type=CONTENT_TYPE)
