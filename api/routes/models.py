"""``/v1/models``: the model registry — list, promote, roll back (admins).

A promotion here (or by the CLI) moves the registry's pointer; the service
then loads the new version in the background and swaps it in without a
restart. These routes wait for that load, so their answer says which version
now serves (and why not, if the new one failed to load).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import ModelHolderDep, allow
from api.errors import ERROR_RESPONSES, ApiError, ErrorBody, ErrorItem
from api.security import Action
from recommender.errors import NotFoundError
from recommender.registry import RegistryError

router = APIRouter(
    prefix="/v1/models", tags=["models"], responses=ERROR_RESPONSES, dependencies=[Depends(allow(Action.manage_models))]
)


class ModelInfo(BaseModel):
    version: str
    created: str | None = None
    promoted: bool = Field(description="the registry's pointer names this version")
    serving: bool = Field(description="this process is serving this version now")
    metrics: dict[str, Any] = Field(default_factory=dict, description="evaluation metrics from the manifest")
    manifest: dict[str, Any] = Field(default_factory=dict)


class ModelList(BaseModel):
    data: list[ModelInfo]
    count: int
    promoted: str | None
    serving: str | None
    load_error: str | None = None


class PromoteBody(BaseModel):
    reason: str = Field("", max_length=500, description="kept in the promotion history")


class PromotionResult(BaseModel):
    promoted: str
    previous: str | None
    serving: str | None = Field(description="the version this process serves after the swap")
    load_error: str | None = Field(None, description="why the promoted version is not serving, if it is not")


@router.get("", response_model=ModelList, summary="Model versions in the registry")
def list_models(holder: ModelHolderDep) -> Any:
    reg = holder.registry
    promoted = reg.promoted()
    serving = holder.version
    data = [
        ModelInfo(
            version=v.version,
            created=str(v.manifest.get("created")) if v.manifest.get("created") else None,
            promoted=v.version == promoted,
            serving=v.version == serving,
            metrics=v.manifest.get("metrics") or {},
            manifest=v.manifest,
        )
        for v in reg.versions()
    ]
    return ModelList(data=data, count=len(data), promoted=promoted, serving=serving, load_error=holder.error)


async def _after_promotion(holder: Any, version: str, previous: str | None) -> PromotionResult:
    await holder.refresh()
    error = None if holder.version == version else (holder.error or f"model {version} did not load; see the service log")
    return PromotionResult(promoted=version, previous=previous, serving=holder.version, load_error=error)


@router.post(
    "/{version}/promote",
    response_model=PromotionResult,
    summary="Promote a version",
    responses={404: {"model": ErrorBody, "description": "no such version"}},
)
async def promote(version: str, holder: ModelHolderDep, body: PromoteBody | None = Body(None)) -> Any:
    reg = holder.registry
    previous = reg.promoted()
    try:
        await run_in_threadpool(reg.promote, version, reason=(body.reason if body else "") or "promoted through the API")
    except NotFoundError as exc:
        raise ApiError(404, "not_found", f"model version {version} not found", [ErrorItem(loc=["path", "version"], msg=str(exc))]) from exc
    except RegistryError as exc:
        raise ApiError(404, "not_found", str(exc), [ErrorItem(loc=["path", "version"], msg=str(exc))]) from exc
    return await _after_promotion(holder, version, previous)


@router.post(
    "/rollback",
    response_model=PromotionResult,
    summary="Roll back to the previously promoted version",
    responses={409: {"model": ErrorBody, "description": "nothing to roll back to"}},
)
async def rollback(holder: ModelHolderDep) -> Any:
    reg = holder.registry
    previous = reg.promoted()
    try:
        mv = await run_in_threadpool(reg.rollback)
    except (RegistryError, NotFoundError) as exc:
        raise ApiError(409, "conflict", str(exc)) from exc
    return await _after_promotion(holder, mv.version, previous)
