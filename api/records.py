"""Stored records in and out of the API, under the import rules.

A record sent with ``PUT`` is laid out as a one-row raw table of cells and
validated by :func:`recommender.io.validate.validate_table`, exactly like a
row of an imported file, then written with ``Store.upsert``: the API cannot
accept what an import would refuse, nor refuse what it would accept (an
education of ``Junior_High``, a boolean ``是``, a region name). Records go
out as contract-shaped JSON (lists as arrays, dates as ISO strings).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Generic, TypeVar

import numpy as np
import pandas as pd
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, create_model

from api.errors import ApiError, ErrorItem
from recommender.contract import Column, FileSpec, Kind
from recommender.io.reader import RawTable
from recommender.io.validate import validate_table
from recommender.regions import RegionIndex
from recommender.store import TABLES, Store, UpsertResult

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A page of a list: the records, and how many match in all."""

    data: list[T]
    count: int = Field(description="records matching the filters (all pages)")


# What a cell may be in JSON; validation decides whether it is right.
Cell = str | int | float | bool | list[str] | None


def _json_schema(col: Column) -> dict[str, Any]:
    """The schema shown in /docs for a column (validation itself follows the contract)."""
    desc = col.description or ""
    if col.kind == Kind.INT:
        schema: dict[str, Any] = {"type": "integer"}
    elif col.kind == Kind.NUMBER:
        schema = {"type": "number"}
    elif col.kind == Kind.DATE:
        schema = {"type": "string", "format": "date"}
    elif col.kind == Kind.BOOL:
        schema = {"anyOf": [{"type": "boolean"}, {"type": "string"}], "description": "true/false, 1/0, yes/no, 是/否"}
    elif col.kind == Kind.ENUM:
        schema = {"type": "string", "enum": list(col.choices)}
    elif col.kind == Kind.LIST:
        schema = {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}],
                  "description": "array, or one cell separated by ; ； 、 ，"}
    elif col.kind == Kind.REGION:
        schema = {"type": "string", "description": "6-digit region code or a place name"}
    else:
        schema = {"type": "string"}
    if col.minimum is not None:
        schema["minimum"] = col.minimum
    if col.maximum is not None:
        schema["maximum"] = col.maximum
    if desc:
        schema["description"] = (schema.get("description", "") + ("; " if "description" in schema else "") + desc)
    return schema


def input_model(spec: FileSpec, name: str) -> type[BaseModel]:
    """Body of ``PUT /v1/<records>/{id}``: every contract column, the key optional (the path gives it)."""
    fields: dict[str, Any] = {}
    for col in spec.columns:
        required = col.required and col.name not in spec.key
        typ = Annotated[Cell, WithJsonSchema(_json_schema(col))]
        fields[col.name] = (typ, Field(... if required else None))
    return create_model(name, __config__=ConfigDict(extra="ignore"), **fields)  # type: ignore[call-overload]


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def put_record(store: Store, spec: FileSpec, key: str, body: BaseModel, *, max_cell_chars: int) -> tuple[dict[str, Any], UpsertResult]:
    """Validate one record as an import row and store it; 422 with field paths otherwise."""
    data = body.model_dump()
    key_col = spec.key[0]
    given = data.get(key_col)
    if given is not None and _cell(given) != key:
        raise ApiError(422, "validation_error", f"{key_col} in the body ({given}) differs from the id in the path ({key})",
                       [ErrorItem(loc=["body", key_col], msg="must match the id in the path or be left out")])
    data[key_col] = key
    cells = pd.DataFrame({c.name: [_cell(data.get(c.name))] for c in spec.columns}, dtype=object)
    raw = RawTable(file=spec.name, spec=spec, cells=cells, rows=np.array([1], dtype=np.int64), rows_read=1)
    table = validate_table(raw, max_cell_chars=max_cell_chars)
    if table.errors:
        items = [ErrorItem(loc=["path", key_col] if e.column == key_col else ["body", e.column or key_col], msg=e.reason)
                 for e in table.errors]
        first = items[0]
        raise ApiError(422, "validation_error", f"invalid {spec.name[:-1]}: {first.loc[-1]}: {first.msg}", items)
    with store.begin() as conn:
        result = store.upsert(conn, spec.name, table.frame)
    record = get_record(store, spec, key)
    if record is None:  # written a moment ago; gone only if someone deleted it in between
        raise ApiError(409, "conflict", f"{spec.name[:-1]} {key} changed while it was being written; try again")
    return record, result


def public(spec: FileSpec, row: dict[str, Any]) -> dict[str, Any]:
    """A stored row as contract-shaped JSON values."""
    out: dict[str, Any] = {}
    for col in spec.columns:
        value = row.get(col.name)
        if value is None or (isinstance(value, float) and value != value):
            out[col.name] = [] if col.kind == Kind.LIST else None
        elif col.kind == Kind.LIST:
            out[col.name] = [v for v in str(value).split(";") if v]
        elif col.kind == Kind.DATE and isinstance(value, str):
            out[col.name] = dt.date.fromisoformat(value[:10])
        elif col.kind == Kind.BOOL:
            out[col.name] = bool(value)
        else:
            out[col.name] = value
    return out


def get_record(store: Store, spec: FileSpec, key: str) -> dict[str, Any] | None:
    table = TABLES[spec.name]
    stmt = sa.select(*[table.c[c] for c in spec.column_names]).where(table.c[spec.key[0]] == key)
    with store.engine.connect() as conn:
        row = conn.execute(stmt).mappings().first()
    return None if row is None else public(spec, dict(row))


def list_records(
    store: Store, spec: FileSpec, conditions: list[sa.ColumnElement[bool]], *, limit: int, offset: int
) -> Page[dict[str, Any]]:
    table = TABLES[spec.name]
    where = sa.and_(sa.true(), *conditions)
    stmt = (
        sa.select(*[table.c[c] for c in spec.column_names])
        .where(where)
        .order_by(*[table.c[k] for k in spec.key])
        .limit(limit)
        .offset(offset)
    )
    with store.engine.connect() as conn:
        count = int(conn.execute(sa.select(sa.func.count()).select_from(table).where(where)).scalar_one())
        rows = conn.execute(stmt).mappings().all()
    return Page[dict[str, Any]](data=[public(spec, dict(r)) for r in rows], count=count)


def region_prefix(text: str, param: str = "region") -> str:
    """A region code or name as a code prefix: a province matches all its counties."""
    try:
        region = RegionIndex.default().resolve(text)
    except Exception as exc:
        raise ApiError(422, "validation_error", f"unknown region {text!r}: {exc}", [ErrorItem(loc=["query", param], msg=str(exc))]) from exc
    code = region.code
    if region.level == "province":
        return code[:2]
    if region.level == "prefecture":
        return code[:4]
    return code


def region_condition(columns: list[sa.ColumnElement[Any]], text: str, param: str = "region") -> sa.ColumnElement[bool]:
    prefix = region_prefix(text, param)
    if len(prefix) == 6:
        return sa.or_(*[c == prefix for c in columns])
    return sa.or_(*[c.like(f"{prefix}%") for c in columns])
