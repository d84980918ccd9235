"""Shared GET-one and PUT routes for the four record resources."""

# No `from __future__ import annotations`: the route signatures use local types.
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel

from api.deps import ModelHolderDep, SettingsDep, StoreDep, allow
from api.errors import ApiError, ErrorBody, ErrorItem
from api.records import get_record, input_model, put_record
from api.security import Action
from recommender.contract import FileSpec



def add_record_routes(router: APIRouter, spec: FileSpec, public_model: type[BaseModel], label: str) -> None:
    """``GET`` and ``PUT /v1/<name>/{id}`` for one contract file."""
    key = spec.key[0]
    body_model = input_model(spec, f"{public_model.__name__.replace('Record', '')}In")
    RecordId = Annotated[str, Path(alias=key, min_length=1, max_length=64, description=f"the {label}'s id, as in {spec.filename}")]

    @router.get(
        f"/{{{key}}}",
        response_model=public_model,
        dependencies=[Depends(allow(Action.read_records))],
        responses={404: {"model": ErrorBody, "description": f"no such {label}"}},
        summary=f"One {label}",
        name=f"get_{label}",
    )
    def get_one(record_id: RecordId, store: StoreDep) -> Any:  # type: ignore[valid-type]
        record = get_record(store, spec, record_id)
        if record is None:
            raise ApiError(404, "not_found", f"{label} {record_id} not found", [ErrorItem(loc=["path", key], msg=f"unknown {label} {record_id}")])
        return record

    @router.put(
        f"/{{{key}}}",
        response_model=public_model,
        dependencies=[Depends(allow(Action.write_records))],
        responses={201: {"model": public_model, "description": f"{label} created"}},
        summary=f"Create or replace a {label}",
        name=f"put_{label}",
        description=(
            f"The body is one row of `{spec.filename}` as JSON and is validated exactly like an imported row "
            "(a full replacement: left-out optional fields become empty or take their contract default). "
            "201 when created, 200 when updated or unchanged."
        ),
    )
    def put_one(
        body: body_model,  # type: ignore[valid-type]
        response: Response,
        store: StoreDep,
        settings: SettingsDep,
        holder: ModelHolderDep,
        record_id: RecordId,  # type: ignore[valid-type]
    ) -> Any:
        record, result = put_record(store, spec, record_id, body, max_cell_chars=settings.max_cell_chars)
        response.status_code = 201 if result.inserted else 200
        if spec.name != "workers" and (result.inserted or result.updated):
            holder.mark_stale(f"{label} {record_id} written")  # the serving model encodes jobs, courses and employers at load
        elif spec.name == "workers" and result.updated and holder.current is not None:
            # this process forgets the worker's encoding now; other processes after WORKER_CACHE_SECONDS
            invalidate = getattr(holder.current, "invalidate", None)
            if invalidate is not None:
                invalidate(record_id)
        response.headers["X-Record-Status"] = "created" if result.inserted else ("updated" if result.updated else "unchanged")
        return record

