"""Recording outcomes one at a time (the API) under exactly the import rules.

An outcome sent to the service is a placement (job) or an enrolment (course)
row. Rather than re-implement the contract, the items are laid out as a small
raw table and go through :func:`recommender.io.validate.validate_table`, the
same references check the importer makes, and :meth:`Store.upsert`. A call is
all or nothing: if any item breaks the contract or names an unknown worker,
job or course, nothing is written and every problem is reported with the
item's position, so the caller can fix and resend the whole list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from recommender.contract import BY_NAME, FileSpec
from recommender.errors import RecommenderError
from recommender.io.reader import RawTable
from recommender.io.validate import ValidatedTable, validate_table
from recommender.store import TABLES, Store

ITEM_TYPES: dict[str, tuple[FileSpec, str]] = {
    "job": (BY_NAME["placements"], "job_id"),
    "course": (BY_NAME["enrolments"], "course_id"),
}
FIELDS = ("worker_id", "item_type", "item_id", "outcome", "date")


@dataclass(frozen=True, slots=True)
class OutcomeProblem:
    """Why one item was refused: its position, the field, the value and the reason."""

    index: int
    column: str | None  # field of the item (worker_id, item_id, outcome, date...), None for the whole item
    value: str
    reason: str
    not_found: bool = False  # an unknown worker, job or course

    def __str__(self) -> str:
        where = f"item {self.index}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.reason}"


class OutcomeError(RecommenderError, ValueError):
    """Some items break the contract or name records the store does not hold; nothing was written."""

    code = "validation_error"

    def __init__(self, problems: list[OutcomeProblem]) -> None:
        self.errors = problems
        self.not_found = bool(problems) and all(p.not_found for p in problems)
        if self.not_found:
            self.code = "not_found"
        head = "; ".join(str(p) for p in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        super().__init__(f"{len(problems)} outcome(s) refused, nothing recorded: {head}{more}")


@dataclass(slots=True)
class OutcomeResult:
    recorded: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    by_file: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "recorded": self.recorded,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "by_file": dict(self.by_file),
        }


def _cell(value: Any) -> str | None:
    """A JSON value as the cell a CSV would hold (validation does the typing)."""
    if value is None:
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _get(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)


def _field(spec_column: str | None, item_col: str) -> str | None:
    if spec_column == item_col:
        return "item_id"
    if spec_column and "/" in spec_column:  # a duplicate key: the whole item
        return None
    return spec_column


def _raw(spec: FileSpec, item_col: str, items: list[Any], positions: list[int]) -> RawTable:
    cells = pd.DataFrame(
        {
            "worker_id": [_cell(_get(items[i], "worker_id")) for i in positions],
            item_col: [_cell(_get(items[i], "item_id")) for i in positions],
            "outcome": [_cell(_get(items[i], "outcome")) for i in positions],
            "date": [_cell(_get(items[i], "date")) for i in positions],
        },
        dtype=object,
    )
    return RawTable(file="outcomes", spec=spec, cells=cells, rows=np.asarray(positions, dtype=np.int64), rows_read=len(positions))


def _unknown_references(conn: sa.Connection, table: ValidatedTable, item_col: str) -> list[OutcomeProblem]:
    """Items pointing at a worker, job or course the store does not hold (same rule as imports)."""
    problems: list[OutcomeProblem] = []
    for col, target in table.spec.references.items():
        wanted = sorted(set(table.frame[col].astype(str)))
        key = TABLES[target].c[BY_NAME[target].key[0]]
        known: set[str] = set()
        for i in range(0, len(wanted), 500):
            known.update(conn.execute(sa.select(key).where(key.in_(wanted[i : i + 500]))).scalars())
        for pos, value in zip(table.rows, table.frame[col].astype(str), strict=True):
            if value not in known:
                what = target[:-1] if target.endswith("s") else target
                problems.append(
                    OutcomeProblem(int(pos), _field(col, item_col), value, f"unknown {what} {value}", not_found=True)
                )
    return problems


def record_outcomes(
    store: Store,
    items: Iterable[Mapping[str, Any] | Any],
    *,
    max_cell_chars: int = 10_000,
    today: dt.date | None = None,
) -> OutcomeResult:
    """Validate ``items`` ({worker_id, item_type, item_id, outcome, date}) and store them, or raise OutcomeError."""
    items = list(items)
    problems: list[OutcomeProblem] = []
    positions: dict[str, list[int]] = {t: [] for t in ITEM_TYPES}
    for i, item in enumerate(items):
        kind = str(_get(item, "item_type") or "").strip().lower()
        if not kind:
            problems.append(OutcomeProblem(i, "item_type", "", "required value missing (job or course)"))
        elif kind not in ITEM_TYPES:
            problems.append(OutcomeProblem(i, "item_type", str(_get(item, "item_type")), "not one of: job, course"))
        else:
            positions[kind].append(i)
    tables: list[tuple[ValidatedTable, str]] = []
    for kind, pos in positions.items():
        if not pos:
            continue
        spec, item_col = ITEM_TYPES[kind]
        table = validate_table(_raw(spec, item_col, items, pos), max_cell_chars=max_cell_chars, today=today)
        for e in table.errors:
            reason = e.reason.replace("(first at row ", "(first at item ")
            problems.append(OutcomeProblem(int(e.row), _field(e.column, item_col), e.value, reason))
        tables.append((table, item_col))
    if problems:
        raise OutcomeError(sorted(problems, key=lambda p: p.index))
    result = OutcomeResult()
    with store.begin() as conn:
        for table, item_col in tables:
            problems.extend(_unknown_references(conn, table, item_col))
        if problems:
            raise OutcomeError(sorted(problems, key=lambda p: p.index))
        for table, _ in tables:
            up = store.upsert(conn, table.spec.name, table.frame)
            result.inserted += up.inserted
            result.updated += up.updated
            result.unchanged += up.unchanged
            result.by_file[table.spec.name] = len(table.frame)
    result.recorded = result.inserted + result.updated + result.unchanged
    return result
