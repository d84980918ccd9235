"""``POST /v1/outcomes``: referrals, applications, hires, retention, enrolments... (counsellors, admins)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Body, Depends, Query
from pydantic import BaseModel, ConfigDict, WithJsonSchema

from api.deps import SettingsDep, StoreDep, allow
from api.errors import ERROR_RESPONSES, ApiError, ErrorBody, ErrorItem
from api.records import Page
from api.security import Action
from recommender.contract import COURSE_OUTCOMES, JOB_OUTCOMES
from recommender.outcomes import OutcomeError, record_outcomes
from recommender.store import TABLES

router = APIRouter(prefix="/v1/outcomes", tags=["outcomes"], responses=ERROR_RESPONSES)

MAX_ITEMS = 10_000
OUTCOME_NAMES = tuple(dict.fromkeys(JOB_OUTCOMES + COURSE_OUTCOMES))


class OutcomeIn(BaseModel):
    """One outcome: a placement row (job) or an enrolment row (course) of the contract.

    Fields are taken as the cells of a contract row and checked by the import's
    validation (so ``Hired`` is accepted like in a file); the schema shows the
    values that validation accepts.
    """

    model_config = ConfigDict(extra="ignore", json_schema_extra={
        "examples": [{"worker_id": "W1", "item_type": "job", "item_id": "J1", "outcome": "hired", "date": "2024-03-20"}]
    })

    worker_id: Annotated[str | None, WithJsonSchema({"type": "string", "maxLength": 64})] = None
    item_type: Annotated[str | None, WithJsonSchema({"type": "string", "enum": ["job", "course"]})] = None
    item_id: Annotated[str | None, WithJsonSchema({"type": "string", "maxLength": 64, "description": "job_id or course_id"})] = None
    outcome: Annotated[str | None, WithJsonSchema({
        "type": "string", "enum": list(OUTCOME_NAMES),
        "description": f"jobs: {', '.join(JOB_OUTCOMES)}; courses: {', '.join(COURSE_OUTCOMES)}",
    })] = None
    date: Annotated[dt.date | str | None, WithJsonSchema({"type": "string", "format": "date"})] = None


class OutcomesRecorded(BaseModel):
    recorded: int
    inserted: int
    updated: int
    unchanged: int
    by_file: dict[str, int]


@router.post(
    "",
    response_model=OutcomesRecorded,
    dependencies=[Depends(allow(Action.record_outcomes))],
    summary="Record outcomes",
    responses={404: {"model": ErrorBody, "description": "an unknown worker, job or course (named in `errors`)"}},
    description=(
        "A list of outcomes, validated like rows of placements.csv / enrolments.csv. All or nothing: if any "
        "item is invalid (422) or names an unknown worker, job or course (404), nothing is recorded and every "
        "problem is listed with its item index. Sending the same outcome again changes nothing."
    ),
)
def post_outcomes(
    items: Annotated[list[OutcomeIn], Body(min_length=1, max_length=MAX_ITEMS)],
    store: StoreDep,
    settings: SettingsDep,
) -> Any:
    try:
        result = record_outcomes(store, items, max_cell_chars=settings.max_cell_chars)
    except OutcomeError as exc:
        errors = [ErrorItem(loc=["body", p.index, *( [p.column] if p.column else [])], msg=p.reason) for p in exc.errors]
        status = 404 if exc.not_found else 422
        raise ApiError(status, exc.code, str(exc), errors) from exc
    return result.to_dict()


class OutcomeOut(BaseModel):
    worker_id: str
    item_type: Literal["job", "course"]
    item_id: str
    outcome: str
    date: dt.date


@router.get(
    "",
    response_model=Page[OutcomeOut],
    dependencies=[Depends(allow(Action.read_records))],
    summary="List recorded outcomes",
    description="Placements and enrolments, newest first; filter by worker, item type or item.",
)
def list_outcomes(
    store: StoreDep,
    worker_id: Annotated[str | None, Query(max_length=64)] = None,
    item_type: Annotated[Literal["job", "course"] | None, Query()] = None,
    item_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> Any:
    selects = []
    for kind, name, col in (("job", "placements", "job_id"), ("course", "enrolments", "course_id")):
        if item_type not in (None, kind):
            continue
        t = TABLES[name]
        stmt = sa.select(
            t.c.worker_id, sa.literal(kind).label("item_type"), t.c[col].label("item_id"), t.c.outcome, t.c.date
        )
        if worker_id is not None:
            stmt = stmt.where(t.c.worker_id == worker_id)
        if item_id is not None:
            stmt = stmt.where(t.c[col] == item_id)
        selects.append(stmt)
    union = sa.union_all(*selects).subquery() if len(selects) > 1 else selects[0].subquery()
    page = (
        sa.select(union)
        .order_by(union.c.date.desc(), union.c.worker_id, union.c.item_type, union.c.item_id, union.c.outcome)
        .limit(limit)
        .offset(offset)
    )
    with store.engine.connect() as conn:
        count = int(conn.execute(sa.select(sa.func.count()).select_from(union)).scalar_one())
        rows = [dict(r) for r in conn.execute(page).mappings()]
    for r in rows:
        if isinstance(r["date"], str):
            r["date"] = dt.date.fromisoformat(r["date"][:10])
    return {"data": rows, "count": count}
