"""``/v1/employers``: employers (counsellors read, admins write)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from api.deps import StoreDep, allow
from api.errors import ERROR_RESPONSES
from api.records import Page, list_records
from api.routes._records import add_record_routes
from api.security import Action
from recommender.contract import BY_NAME
from recommender.schemas import EmployerRecord
from recommender.store import TABLES

SPEC = BY_NAME["employers"]
T = TABLES["employers"]
router = APIRouter(prefix="/v1/employers", tags=["employers"], responses=ERROR_RESPONSES)


@router.get("", response_model=Page[EmployerRecord], dependencies=[Depends(allow(Action.read_records))], summary="List employers")
def list_employers(
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
    wage_arrears_listed: Annotated[bool | None, Query(description="only employers on (true) or off (false) the wage-arrears list")] = None,
    industry: Annotated[str | None, Query(max_length=200)] = None,
) -> Any:
    conds = []
    if wage_arrears_listed is not None:
        conds.append(T.c.wage_arrears_listed.is_(wage_arrears_listed))
    if industry:
        conds.append(T.c.industry == industry)
    return list_records(store, SPEC, conds, limit=limit, offset=offset)


add_record_routes(router, SPEC, EmployerRecord, "employer")
