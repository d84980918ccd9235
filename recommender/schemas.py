"""Pydantic models shared by the API, the CLI and batch jobs.

Record models are derived from the data contract (``recommender.contract``),
so a field added there appears in the API schema without a second edit. The
recommendation models describe what every entry point returns.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from recommender.contract import BY_NAME, Column, FileSpec, Kind

ScopeName = Literal["local", "province", "outbound"]
ScopeRequest = Literal["local", "province", "outbound", "all", "balanced"]
AgePolicyName = Literal["strict", "flag"]


def _python_type(col: Column) -> Any:
    if col.kind == Kind.INT:
        return int
    if col.kind == Kind.NUMBER:
        return float
    if col.kind == Kind.DATE:
        return dt.date
    if col.kind == Kind.BOOL:
        return bool
    if col.kind == Kind.ENUM:
        return Literal[col.choices]  # type: ignore[valid-type]
    if col.kind == Kind.LIST:
        return list[str]
    return str


def record_model(spec: FileSpec, *, name: str, all_optional: bool = False, exclude: tuple[str, ...] = ()) -> type[BaseModel]:
    """A pydantic model with one field per contract column."""
    fields: dict[str, Any] = {}
    for col in spec.columns:
        if col.name in exclude:
            continue
        typ = _python_type(col)
        required = col.required and not all_optional
        if required:
            fields[col.name] = (typ, Field(..., description=col.description or None))
        else:
            fields[col.name] = (typ | None, Field(None, description=col.description or None))
    return create_model(name, __config__=ConfigDict(extra="ignore"), **fields)  # type: ignore[call-overload]


WorkerRecord = record_model(BY_NAME["workers"], name="WorkerRecord")
JobRecord = record_model(BY_NAME["jobs"], name="JobRecord")
CourseRecord = record_model(BY_NAME["courses"], name="CourseRecord")
EmployerRecord = record_model(BY_NAME["employers"], name="EmployerRecord")
PlacementRecord = record_model(BY_NAME["placements"], name="PlacementRecord")
EnrolmentRecord = record_model(BY_NAME["enrolments"], name="EnrolmentRecord")

# An inline profile, as a job portal sends it: contract fields, no id needed.
_ProfileBase = record_model(BY_NAME["workers"], name="_ProfileBase", exclude=("worker_id", "gender"))


class WorkerProfile(_ProfileBase):  # type: ignore[misc, valid-type]
    """A worker described inline (portals send profiles the service never stored).

    Lists may be given as JSON arrays or as one contract cell (``电焊;叉车``);
    regions as codes or names. ``gender`` is not accepted: it is never a model input.
    """

    worker_id: str | None = Field(None, description="optional caller's reference, echoed back")
    skills: list[str] | str | None = None  # type: ignore[assignment]
    certificates: list[str] | str | None = None  # type: ignore[assignment]
    home_region: str = Field(..., description="home county code or name")  # type: ignore[assignment]
    birth_year: int = Field(..., ge=1900, le=2100)  # type: ignore[assignment]


class Reason(BaseModel):
    code: str
    zh: str
    en: str


class RecommendedItem(BaseModel):
    item_type: Literal["job", "course"]
    item_id: str
    rank: int
    score: float
    title: str | None = None
    region: str | None = None
    place: str | None = None
    scope: ScopeName | None = None
    distance_km: float | None = None
    reasons: list[Reason] = Field(default_factory=list)
    warnings: list[Reason] = Field(default_factory=list)
    # jobs
    employer_id: str | None = None
    employer_name: str | None = None
    wage_min: int | None = None
    wage_max: int | None = None
    net_income: float | None = Field(None, description="estimated monthly income after living costs and travel home")
    housing: bool | None = None
    social_insurance: bool | None = None
    employment_type: str | None = None
    older_worker_priority: bool = False
    # courses
    certificate: str | None = None
    fee: int | None = None
    subsidy: int | None = None
    own_cost: int | None = None
    start_on: dt.date | None = None
    mode: str | None = None
    opens_jobs: list[str] = Field(default_factory=list, description="ids of open jobs the course would make reachable")


class Recommendations(BaseModel):
    worker_id: str | None
    item_type: Literal["job", "course"]
    as_of: dt.date
    scope: ScopeRequest
    model_version: str
    age_band: str | None = None
    items: list[RecommendedItem]
