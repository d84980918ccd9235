"""``/v1/courses``: vocational training courses (counsellors read, admins write)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from api.deps import StoreDep, allow
from api.errors import ERROR_RESPONSES
from api.records import Page, list_records, region_condition
from api.routes._records import add_record_routes
from api.security import Action
from recommender.contract import BY_NAME, COURSE_MODES
from recommender.schemas import CourseRecord
from recommender.store import TABLES

SPEC = BY_NAME["courses"]
T = TABLES["courses"]
router = APIRouter(prefix="/v1/courses", tags=["courses"], responses=ERROR_RESPONSES)


@router.get("", response_model=Page[CourseRecord], dependencies=[Depends(allow(Action.read_records))], summary="List courses")
def list_courses(
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
    region: Annotated[str | None, Query(description="code or name; a province or prefecture matches its counties")] = None,
    mode: Annotated[Literal[COURSE_MODES] | None, Query()] = None,  # type: ignore[valid-type]
    starts_from: Annotated[dt.date | None, Query(description="only courses starting on or after this day")] = None,
) -> Any:
    conds = []
    if region:
        conds.append(region_condition([T.c.region], region))
    if mode:
        conds.append(T.c.mode == mode)
    if starts_from:
        conds.append(T.c.start_on >= starts_from)
    return list_records(store, SPEC, conds, limit=limit, offset=offset)


add_record_routes(router, SPEC, CourseRecord, "course")
