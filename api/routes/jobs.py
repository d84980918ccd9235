"""``/v1/jobs``: job postings (counsellors read, admins write)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query

from api.deps import StoreDep, allow
from api.errors import ERROR_RESPONSES
from api.records import Page, list_records, region_condition
from api.routes._records import add_record_routes
from api.security import Action
from recommender.contract import BY_NAME, EMPLOYMENT_TYPES
from recommender.schemas import JobRecord
from recommender.store import TABLES

SPEC = BY_NAME["jobs"]
T = TABLES["jobs"]
router = APIRouter(prefix="/v1/jobs", tags=["jobs"], responses=ERROR_RESPONSES)


@router.get("", response_model=Page[JobRecord], dependencies=[Depends(allow(Action.read_records))], summary="List jobs")
def list_jobs(
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
    region: Annotated[str | None, Query(description="code or name; a province or prefecture matches its counties")] = None,
    employment_type: Annotated[Literal[EMPLOYMENT_TYPES] | None, Query()] = None,  # type: ignore[valid-type]
    employer_id: Annotated[str | None, Query(max_length=64)] = None,
    open_on: Annotated[dt.date | None, Query(description="only jobs posted on or before this day and not closed before it")] = None,
) -> Any:
    conds = []
    if region:
        conds.append(region_condition([T.c.region], region))
    if employment_type:
        conds.append(T.c.employment_type == employment_type)
    if employer_id:
        conds.append(T.c.employer_id == employer_id)
    if open_on:
        conds.append(T.c.posted_on <= open_on)
        conds.append(sa.or_(T.c.closes_on.is_(None), T.c.closes_on >= open_on))
    return list_records(store, SPEC, conds, limit=limit, offset=offset)


add_record_routes(router, SPEC, JobRecord, "job")
