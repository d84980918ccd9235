"""The one import path: contract files -> validated rows -> store, with a report.

The CLI (``recommender ingest``), the API's upload endpoint and the Python API
all call :func:`ingest`, so a file is accepted or rejected the same way
wherever it comes from. Each file is written in its own transaction: a file
either lands whole (its valid rows) or, if writing fails, not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recommender.contract import FILES, FileSpec, spec_for
from recommender.errors import ContractError
from recommender.io.reader import PARQUET_SUFFIXES, read_raw
from recommender.io.report import FileReport, ImportReport, RowError
from recommender.io.validate import ValidatedTable, validate_table
from recommender.store import Store

SUFFIXES = (".csv", *PARQUET_SUFFIXES)


@dataclass(frozen=True, slots=True)
class Source:
    """One file to import: a path, or bytes with the name it was uploaded under."""

    name: str
    spec: FileSpec
    path: Path | None = None
    data: bytes | None = None


def find_sources(paths: Path | str | Iterable[Path | str]) -> list[Source]:
    """Contract files in a folder, or the given files, in import order."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    found: list[Source] = []
    for p in map(Path, paths):
        if p.is_dir():
            for spec in FILES:
                for suffix in SUFFIXES:
                    candidate = p / f"{spec.name}{suffix}"
                    if candidate.exists():
                        found.append(Source(candidate.name, spec, path=candidate))
                        break
        elif p.exists():
            found.append(Source(p.name, spec_for(p.name), path=p))
        else:
            raise ContractError(f"{p}: no such file or folder")
    if not found:
        names = ", ".join(s.filename for s in FILES)
        raise ContractError(f"no contract files found (expected some of {names})")
    return sort_sources(found)


def sort_sources(sources: Sequence[Source]) -> list[Source]:
    order = {spec.name: i for i, spec in enumerate(FILES)}
    return sorted(sources, key=lambda s: order[s.spec.name])


def _check_references(table: ValidatedTable, store: Store, conn: object) -> ValidatedTable:
    """Reject rows that point at a worker, job or course the store does not hold."""
    if table.frame.empty or not table.spec.references:
        return table
    bad = np.zeros(len(table.frame), dtype=bool)
    errors: list[RowError] = []
    for col, target in table.spec.references.items():
        known = store.keys(target, conn=conn)  # type: ignore[arg-type]
        values = table.frame[col]
        missing = ~values.isin(pd.Index(known)).to_numpy()
        for i in np.flatnonzero(missing):
            errors.append(
                RowError(
                    table.file,
                    int(table.rows[i]),
                    col,
                    str(values.iat[i]),
                    f"unknown {col} {values.iat[i]} (not in {target}.csv nor in the store)",
                )
            )
        bad |= missing
    if not bad.any():
        return table
    merged = sorted(table.errors + errors, key=lambda e: e.row)
    return ValidatedTable(
        table.file,
        table.spec,
        table.frame[~bad].reset_index(drop=True),
        table.rows[~bad],
        merged,
        table.rows_read,
    )


def ingest(
    sources: Path | str | Iterable[Path | str] | Sequence[Source],
    store: Store,
    *,
    max_cell_chars: int = 10_000,
    max_errors: int = 1_000,
    today: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
) -> ImportReport:
    """Import contract files into ``store`` and say what happened to every row."""
    if isinstance(sources, (list, tuple)) and sources and isinstance(sources[0], Source):
        items = sort_sources(sources)  # type: ignore[arg-type]
    else:
        items = find_sources(sources)  # type: ignore[arg-type]
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    report = ImportReport()
    for src in items:
        if progress:
            progress(src.name)
        raw = read_raw(src.path if src.path is not None else (src.data or b""), src.spec, file=src.name)
        table = validate_table(raw, max_cell_chars=max_cell_chars, today=today)
        file_report = FileReport(file=src.name, kind=src.spec.name, rows_read=table.rows_read)
        with store.begin() as conn:
            table = _check_references(table, store, conn)
            result = store.upsert(conn, src.spec.name, table.frame)
        file_report.inserted = result.inserted
        file_report.updated = result.updated
        file_report.unchanged = result.unchanged
        file_report.rejected = file_report.rows_read - file_report.taken
        file_report.add_errors(table.errors, max_errors)
        report.files.append(file_report)
    with store.begin() as conn:
        names = ",".join(s.name for s in items)
        store.log_import(conn, source=names, started=started, report=_summary(report))
    return report


def _summary(report: ImportReport) -> dict[str, object]:
    data = report.to_dict()
    for f in data["files"]:  # type: ignore[union-attr]
        f["errors"] = f["errors"][:20]
    return data
