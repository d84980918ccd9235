"""``/v1/models/retrain``: start a retrain as a background job (admins), and follow it.

The job runs ``recommender.lifecycle.retrain`` in a thread of this process,
with the registry's retrain lock taken before the 202 is sent (a retrain
already running here or from the CLI answers 409). The service keeps serving
meanwhile; when the job promotes a version, the model holder's watcher swaps
it in like any other promotion (no restart). Jobs are kept in memory (the
newest 50): a restarted service forgets them, the registry does not.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import uuid
from collections import OrderedDict
from typing import Any, Literal

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, Field

from api.deps import ModelHolderDep, SettingsDep, allow
from api.errors import ERROR_RESPONSES, ApiError, ErrorBody
from api.security import Action
from recommender.lifecycle import GateConfig, RetrainBusy, RetrainConfig, RetrainLock, retrain
from recommender.training.pipeline import TrainConfig

log = logging.getLogger("api")
KEEP_JOBS = 50

router = APIRouter(
    prefix="/v1/models/retrain", tags=["models"], responses=ERROR_RESPONSES,
    dependencies=[Depends(allow(Action.manage_models))],
)


class RetrainRequest(BaseModel):
    force: bool = Field(False, description="retrain even if no outcomes were recorded since the promoted model")
    promote: bool = Field(True, description="promote the candidate if the gate passes")
    max_abs_drop: float = Field(0.01, ge=0, le=1, description="gate: largest accepted NDCG@10 drop (absolute)")
    max_rel_drop: float = Field(0.02, ge=0, le=1, description="gate: largest accepted NDCG@10 drop (relative)")
    test_days: int = Field(90, ge=7, le=730)
    negatives: int = Field(10, ge=1, le=50)
    max_queries: int = Field(4000, ge=50, le=100_000, description="held-out workers evaluated at most")
    policy_weights: list[float] = Field([0.0, 1.0, 2.0, 4.0, 8.0], min_length=1, max_length=8)
    courses: bool = Field(True, description="evaluate the course ranker too")


class RetrainJob(BaseModel):
    job_id: str
    status: Literal["running", "succeeded", "failed"]
    progress: float = Field(description="0..1")
    step: str
    message: str
    started: str
    finished: str | None = None
    result: dict[str, Any] | None = Field(None, description="outcome: skipped, promoted, refused or saved, with the gate's verdict")
    error: str | None = None


class _Jobs:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.jobs: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def new(self) -> dict[str, Any]:
        job = {"job_id": uuid.uuid4().hex[:16], "status": "running", "progress": 0.0, "step": "queued", "message": "queued",
               "started": _now(), "finished": None, "result": None, "error": None}
        with self.lock:
            self.jobs[job["job_id"]] = job
            while len(self.jobs) > KEEP_JOBS:
                self.jobs.popitem(last=False)
        return job

    def update(self, job: dict[str, Any], **kw: Any) -> None:
        with self.lock:
            job.update(kw)

    def get(self, job_id: str) -> dict[str, Any] | None:
        with self.lock:
            job = self.jobs.get(job_id)
            return dict(job) if job else None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _jobs(request: Request) -> _Jobs:
    jobs = getattr(request.app.state, "retrain_jobs", None)
    if jobs is None:
        jobs = request.app.state.retrain_jobs = _Jobs()
    return jobs


def _config(body: RetrainRequest, settings: Any) -> RetrainConfig:
    train = dataclasses.replace(
        TrainConfig(), test_days=body.test_days, negatives=body.negatives, eval_max_queries=body.max_queries,
        policy_weights=tuple(body.policy_weights), max_candidates=settings.max_candidates,
        older_worker_weight=settings.older_worker_weight, older_worker_age=settings.older_worker_age,
        taxonomy_dir=str(settings.taxonomy_extra) if settings.taxonomy_extra else None,
        n_threads=1,  # leave the other cores to the requests being served
    )
    return RetrainConfig(train=train, gate=GateConfig(max_abs_drop=body.max_abs_drop, max_rel_drop=body.max_rel_drop),
                         force=body.force, promote=body.promote, courses=body.courses)


@router.post(
    "",
    status_code=202,
    response_model=RetrainJob,
    summary="Start a retrain in the background",
    responses={409: {"model": ErrorBody, "description": "a retrain is already running"}},
)
def start_retrain(request: Request, holder: ModelHolderDep, settings: SettingsDep, body: RetrainRequest | None = Body(None)) -> Any:
    body = body or RetrainRequest()
    lock = RetrainLock(holder.registry.root)
    try:
        lock.acquire()  # before answering: a second request gets 409, not a job that fails later
    except RetrainBusy as exc:
        raise ApiError(409, "retrain_running", str(exc)) from exc
    jobs = _jobs(request)
    job = jobs.new()
    cfg = _config(body, settings)

    def progress(step: str, fraction: float, message: str) -> None:
        jobs.update(job, step=step, progress=round(fraction, 3), message=message)

    def run() -> None:
        try:
            result = retrain(holder.store, holder.registry, cfg, progress=progress, lock=lock)
            jobs.update(job, status="succeeded", progress=1.0, step="done", message=result.message,
                        result=result.to_dict(), finished=_now())
            log.info("retrain job %s: %s %s", job["job_id"], result.status, result.version or "")
        except Exception as exc:  # the job reports it; the service carries on
            log.exception("retrain job %s failed", job["job_id"])
            jobs.update(job, status="failed", step="failed", message=f"{type(exc).__name__}: {exc}",
                        error=f"{type(exc).__name__}: {exc}", finished=_now())
        finally:
            lock.release()

    try:
        threading.Thread(target=run, name=f"retrain-{job['job_id']}", daemon=True).start()
    except BaseException:
        lock.release()
        raise
    return RetrainJob(**jobs.get(job["job_id"]))  # type: ignore[arg-type]


@router.get(
    "/{job_id}",
    response_model=RetrainJob,
    summary="Status, progress and result of a retrain job",
    responses={404: {"model": ErrorBody, "description": "no such job (in this process)"}},
)
def get_retrain(job_id: str, request: Request) -> Any:
    job = _jobs(request).get(job_id)
    if job is None:
        raise ApiError(404, "not_found", f"no retrain job {job_id} in this service (jobs are kept in memory, newest {KEEP_JOBS})")
    return RetrainJob(**job)
