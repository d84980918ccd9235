"""``POST /v1/recommendations/{jobs,courses,batch}``: ranked jobs or courses for workers.

A worker is named by ``worker_id`` (a stored worker; counsellors and admins)
or described inline by ``profile`` (anyone, and the only way for portals).
Each answer names the model version that produced it (also in the
``X-Model-Version`` header), and every list served is written to the served
log (ids, ranks, model version; no profile fields) after the response.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from api import coalesce
from api.compute import run_compute
from api.deps import PrincipalDep, RecommenderDep, SettingsDep, check_allowed
from api.errors import ERROR_RESPONSES, ApiError, ErrorBody, ErrorItem, recommender_error_items
from api.metrics import Metrics
from api.security import Action, Role
from api.served import ServedLogWriter
from api.served import entries as served_entries
from recommender.errors import NotFoundError, RecommenderError
from recommender.schemas import AgePolicyName, Recommendations, ScopeRequest, WorkerProfile
from recommender.service import JobQuery

log = logging.getLogger("api")

WorkerId = Annotated[str, StringConstraints(min_length=1, max_length=64)]

RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    404: {"model": ErrorBody, "description": "unknown worker id (named in `detail` and `errors`)"},
    503: {"model": ErrorBody, "description": "no model loaded (`model_unavailable`), store down (`store_unavailable`), or at capacity (`overloaded`, with `Retry-After`)"},
}


async def recommend_guard(request: Request, principal: PrincipalDep) -> Role:
    """Who may ask, in one dependency for the whole router (each dependency costs CPU per request).

    Any role may ask for recommendations (``Action.recommend_profile``); portals may only send
    inline profiles: a stored-worker lookup by a portal key is refused before anything else runs.
    """
    role = check_allowed(principal.role, Action.recommend_profile)
    if role != Role.portal:
        return role
    try:
        body = await request.json()  # already read and cached by FastAPI
    except Exception:
        return role  # FastAPI reports a bad body itself
    ids: list[list[str | int]] = []
    if isinstance(body, dict):
        if body.get("worker_id") is not None:
            ids.append(["body", "worker_id"])
        workers = body.get("workers")
        if isinstance(workers, list):
            ids.extend(["body", "workers", i] for i, w in enumerate(workers) if isinstance(w, str))
    if ids:
        raise ApiError(
            403,
            "forbidden",
            "a portal key may only send inline profiles, not stored worker ids",
            [ErrorItem(loc=loc, msg="worker ids need a counsellor or admin key; send a profile") for loc in ids],
        )
    return role


def _role(request: Request) -> Role:
    """The caller's role, as ``recommend_guard`` (through ``get_principal``) found it."""
    return request.state.principal.role


router = APIRouter(
    prefix="/v1/recommendations",
    tags=["recommendations"],
    responses=RESPONSES,
    dependencies=[Depends(recommend_guard)],
)


class _WorkerChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    worker_id: WorkerId | None = Field(None, description="a stored worker (counsellor and admin keys)")
    profile: WorkerProfile | None = Field(None, description="a worker described inline (any key)")

    @model_validator(mode="after")
    def _one_of(self) -> _WorkerChoice:
        if (self.worker_id is None) == (self.profile is None):
            raise ValueError("send exactly one of worker_id or profile")
        return self

    @property
    def worker(self) -> str | WorkerProfile:
        return self.worker_id if self.worker_id is not None else self.profile  # type: ignore[return-value]


class JobRequest(_WorkerChoice):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"profile": {"birth_year": 1975, "home_region": "510112", "skills": ["电焊", "钢筋绑扎"]}, "k": 10, "scope": "all"},
        {"worker_id": "W1", "k": 10, "scope": "balanced"},
    ]})

    k: int = Field(10, ge=1, le=100, description="how many jobs")
    scope: ScopeRequest = Field("all", description="local (home county), province, outbound, all, or balanced (a mix)")
    as_of: dt.date | None = Field(None, description="the day to recommend for (default: today)")
    age_policy: AgePolicyName | None = Field(None, description="posted age limits: strict filters, flag keeps and marks (default: the service setting)")


class CourseRequest(_WorkerChoice):
    model_config = ConfigDict(extra="forbid")

    k: int = Field(5, ge=1, le=100, description="how many courses")
    as_of: dt.date | None = None


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workers: list[WorkerId | WorkerProfile] = Field(
        ..., min_length=1, description="stored worker ids and/or inline profiles; at most RECOMMENDER_MAX_BATCH_WORKERS"
    )
    item_type: Literal["job", "course"] = "job"
    k: int = Field(10, ge=1, le=100)
    scope: ScopeRequest = "all"
    as_of: dt.date | None = None
    age_policy: AgePolicyName | None = Field(None, description="jobs only; default: the service setting")


class BatchEntryError(BaseModel):
    """A batch entry that got no recommendations (the others still did)."""

    index: int = Field(description="position of the worker in the request")
    worker_id: str | None = None
    code: str
    detail: str
    errors: list[ErrorItem] = Field(default_factory=list)


class BatchResponse(BaseModel):
    model_version: str
    data: list[Recommendations | BatchEntryError] = Field(description="one entry per worker, in request order: recommendations, or why there are none")
    count: int
    failed: int = Field(0, description="entries that are errors")


def _portal_may_not_name(role: Role, worker_id: str | None) -> None:
    """Also enforced by recommend_guard; kept here so the rule holds whatever the body parser did."""
    if worker_id is not None and role == Role.portal:
        raise ApiError(403, "forbidden", "a portal key may only send inline profiles, not stored worker ids")


def _library_error(exc: RecommenderError, loc: list[str | int], worker_id: str | None) -> ApiError:
    if isinstance(exc, NotFoundError):
        what = f"worker {worker_id} not found" if worker_id else str(exc)
        return ApiError(404, "not_found", what, [ErrorItem(loc=loc, msg=str(exc))])
    items = recommender_error_items(exc, loc) or [ErrorItem(loc=loc, msg=str(exc))]
    return ApiError(422, "validation_error", f"invalid {'profile' if loc[-1] == 'profile' else 'request'}: {exc}", items)


def _entry_error(index: int, worker: Any, exc: Exception) -> BatchEntryError:
    """A failed batch entry, in the shape of an error body (404/422 semantics, per entry)."""
    loc: list[str | int] = ["body", "workers", index]
    wid = worker if isinstance(worker, str) else getattr(worker, "worker_id", None)
    if isinstance(exc, NotFoundError):
        return BatchEntryError(index=index, worker_id=wid, code="not_found", detail=f"worker {wid} not found",
                               errors=[ErrorItem(loc=loc, msg=str(exc))])
    items = recommender_error_items(exc, loc) if isinstance(exc, RecommenderError) else []
    return BatchEntryError(index=index, worker_id=wid, code="validation_error", detail=str(exc),
                           errors=items or [ErrorItem(loc=loc, msg=str(exc))])


def _served(
    background: BackgroundTasks, response: Response, request: Request,
    by_source: dict[str, list[Any]], item_type: str, version: str,
) -> None:
    """Name the model and the request in headers; the lists go to the served log after the response."""
    request_id = str(uuid.uuid4())
    writer: ServedLogWriter = request.app.state.served_log
    entries = served_entries(by_source, request_id)
    if entries:
        background.add_task(writer.submit, entries)
    metrics: Metrics = request.app.state.metrics
    metrics.count_served(item_type, sum(len(v) for v in by_source.values()))
    response.headers["X-Model-Version"] = version
    response.headers["X-Request-ID"] = request_id


def _version(result: Any, rec: Any) -> str:
    return str(getattr(result, "model_version", None) or (result.get("model_version") if isinstance(result, dict) else None) or getattr(rec, "version", ""))


@router.post("/jobs", response_model=Recommendations, summary="Jobs for one worker")
async def recommend_jobs(
    req: JobRequest, rec: RecommenderDep,
    background: BackgroundTasks, response: Response, request: Request,
) -> Any:
    loc: list[str | int] = ["body", "worker_id"] if req.worker_id else ["body", "profile"]

    _portal_may_not_name(_role(request), req.worker_id)

    # queued with the other single-worker requests waiting for the ranking thread, ranked in one pass with them;
    # an unknown worker id is the recommender's NotFoundError (404): one store read, not two
    query = JobQuery(req.worker, k=req.k, scope=req.scope, as_of=req.as_of, age_policy=req.age_policy)
    try:
        result = await coalesce.recommend_jobs(request, rec, query)
    except RecommenderError as exc:
        raise _library_error(exc, loc, req.worker_id) from exc
    _served(background, response, request, {"store" if req.worker_id else "profile": [result]}, "job", _version(result, rec))
    return result


@router.post("/courses", response_model=Recommendations, summary="Courses for one worker")
async def recommend_courses(
    req: CourseRequest, rec: RecommenderDep,
    background: BackgroundTasks, response: Response, request: Request,
) -> Any:
    loc: list[str | int] = ["body", "worker_id"] if req.worker_id else ["body", "profile"]

    _portal_may_not_name(_role(request), req.worker_id)

    def work() -> Any:
        try:
            return rec.recommend_courses(req.worker, k=req.k, as_of=req.as_of)
        except RecommenderError as exc:
            raise _library_error(exc, loc, req.worker_id) from exc

    result = await run_compute(request, work)
    _served(background, response, request, {"store" if req.worker_id else "profile": [result]}, "course", _version(result, rec))
    return result


@router.post(
    "/batch",
    response_model=BatchResponse,
    summary="Jobs or courses for many workers at once",
    description=(
        "Capacity-aware across the batch: a job's openings are shared out among the workers of the batch. "
        "An unknown worker id or an invalid profile gives an error entry in its place (code, detail, errors); "
        "the other workers still get their recommendations."
    ),
)
async def recommend_batch(
    req: BatchRequest, rec: RecommenderDep,
    settings: SettingsDep, background: BackgroundTasks, response: Response, request: Request,
) -> Any:
    if len(req.workers) > settings.max_batch_workers:
        msg = f"at most {settings.max_batch_workers} workers per batch (got {len(req.workers)}); split the batch"
        raise ApiError(422, "validation_error", msg, [ErrorItem(loc=["body", "workers"], msg=msg)])
    if _role(request) == Role.portal and any(isinstance(w, str) for w in req.workers):
        raise ApiError(403, "forbidden", "a portal key may only send inline profiles, not stored worker ids")
    extra = {"age_policy": req.age_policy} if req.age_policy is not None and req.item_type == "job" else {}

    def work() -> list[Any]:
        try:
            return list(rec.recommend_batch(list(req.workers), item_type=req.item_type, k=req.k, scope=req.scope, as_of=req.as_of, **extra))
        except RecommenderError as exc:
            raise _library_error(exc, ["body", "workers"], None) from exc

    results = await run_compute(request, work, batch=True)
    data: list[Any] = []
    by_source: dict[str, list[Any]] = {"store": [], "profile": []}
    for i, (w, r) in enumerate(zip(req.workers, results, strict=True)):
        if isinstance(r, Exception):
            data.append(_entry_error(i, w, r))
            continue
        data.append(r)
        by_source["store" if isinstance(w, str) else "profile"].append(r)
    served = [r for r in data if not isinstance(r, BatchEntryError)]
    version = _version(served[0], rec) if served else str(getattr(rec, "version", ""))
    _served(background, response, request, by_source, req.item_type, version)
    return {"model_version": version, "data": data, "count": len(data), "failed": len(data) - len(served)}
