"""``POST /v1/imports``: contract files uploaded and imported (admins)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from api import multipart
from api.deps import ModelHolderDep, SettingsDep, StoreDep, allow
from api.errors import ERROR_RESPONSES, ApiError, ErrorItem
from api.security import Action
from recommender.contract import FILES, spec_for
from recommender.errors import ContractError
from recommender.ingest import SUFFIXES, Source, ingest

# Files the serving model encodes when it loads; a change to them triggers a reload.
ITEM_FILES = frozenset({"jobs", "courses", "employers"})

router = APIRouter(prefix="/v1/imports", tags=["imports"], responses=ERROR_RESPONSES)

_FORM_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "files": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "contract files named by kind: " + ", ".join(s.filename for s in FILES) + " (or .parquet)",
                        }
                    },
                    "required": ["files"],
                }
            }
        },
    }
}


@router.post(
    "",
    dependencies=[Depends(allow(Action.import_files))],
    summary="Import contract files",
    openapi_extra=_FORM_SCHEMA,
    description=(
        "Upload one or more contract files (CSV or Parquet, recognised by file name, any form field name) "
        "as multipart/form-data. They go through the same import as `recommender ingest`: valid rows are "
        "stored, each rejected row is reported with file, row, column, value and reason. The answer is the "
        "import report; rejected rows do not make it an error. Bodies over RECOMMENDER_MAX_BODY_BYTES are "
        "refused (413): import larger files with `recommender ingest`."
    ),
)
async def import_files(request: Request, store: StoreDep, settings: SettingsDep, holder: ModelHolderDep) -> dict[str, Any]:
    body = await request.body()
    try:
        parts = multipart.parse(body, request.headers.get("content-type"))
    except multipart.MultipartError as exc:
        raise ApiError(422, "validation_error", str(exc), [ErrorItem(loc=["body"], msg=str(exc))]) from exc
    files = [p for p in parts if p.filename]
    if not files:
        raise ApiError(422, "validation_error", "no file in the upload", [ErrorItem(loc=["body", "files"], msg="attach at least one contract file")])
    sources: list[Source] = []
    problems: list[ErrorItem] = []
    seen: set[str] = set()
    for i, part in enumerate(files):
        name = part.filename.replace("\\", "/").rsplit("/", 1)[-1]  # type: ignore[union-attr]
        try:
            if not name.lower().endswith(SUFFIXES):
                raise ContractError(f"{name}: expected a .csv or .parquet file")
            spec = spec_for(name)
        except ContractError as exc:
            problems.append(ErrorItem(loc=["body", "files", i], msg=str(exc)))
            continue
        if spec.name in seen:
            problems.append(ErrorItem(loc=["body", "files", i], msg=f"{name}: a second {spec.filename} in one upload"))
            continue
        seen.add(spec.name)
        sources.append(Source(name, spec, data=part.data))
    if problems:
        raise ApiError(422, "validation_error", problems[0].msg, problems)
    report = await run_in_threadpool(
        ingest, sources, store, max_cell_chars=settings.max_cell_chars, max_errors=settings.max_errors_reported
    )
    changed = sorted({f.kind for f in report.files if f.inserted or f.updated} & ITEM_FILES)
    if changed:
        holder.mark_stale(f"imported {', '.join(changed)}")
    return report.to_dict()
