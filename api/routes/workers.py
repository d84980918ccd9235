"""``/v1/workers``: registered workers (counsellors read, admins write)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from api.deps import StoreDep, allow
from api.errors import ERROR_RESPONSES
from api.records import Page, list_records, region_condition
from api.routes._records import add_record_routes
from api.security import Action
from recommender.contract import BY_NAME, EDUCATION_LEVELS, MOBILITY_LEVELS
from recommender.schemas import WorkerRecord
from recommender.store import TABLES

SPEC = BY_NAME["workers"]
T = TABLES["workers"]
router = APIRouter(prefix="/v1/workers", tags=["workers"], responses=ERROR_RESPONSES)


@router.get("", response_model=Page[WorkerRecord], dependencies=[Depends(allow(Action.read_records))], summary="List workers")
def list_workers(
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
    region: Annotated[str | None, Query(description="code or name; matches home or current region, a province or prefecture matches its counties")] = None,
    mobility: Annotated[Literal[MOBILITY_LEVELS] | None, Query()] = None,  # type: ignore[valid-type]
    education: Annotated[Literal[EDUCATION_LEVELS] | None, Query()] = None,  # type: ignore[valid-type]
) -> Any:
    conds = []
    if region:
        conds.append(region_condition([T.c.home_region, T.c.current_region], region))
    if mobility:
        conds.append(T.c.mobility == mobility)
    if education:
        conds.append(T.c.education == education)
    return list_records(store, SPEC, conds, limit=limit, offset=offset)


add_record_routes(router, SPEC, WorkerRecord, "worker")
