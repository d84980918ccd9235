"""Validation of one inline worker profile: the one-row table path (``validate_table``
on a one-row ``RawTable``, as ``Recommender`` did) against ``validate_row``.

    python benchmarks/bench_validate_row.py [--profiles 1000] [--repeat 5]

Profiles are the rows of data_samples/workers.csv as cells; each is validated
once per pass (the per-value parse cache is warm after the first pass, as in a
serving process). Prints microseconds per profile, best pass, CPU time; also validation plus the
step to the row ``WorkerEncoder.encode_row`` takes (the serving glue).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from recommender.contract import WORKERS
from recommender.io.reader import RawTable
from recommender.io import validate as V

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples" / "workers.csv"


def _table_path(cells: dict[str, str | None]) -> object:
    frame = pd.DataFrame({c: [cells.get(c)] for c in WORKERS.column_names}, dtype=object)
    raw = RawTable(file="profile", spec=WORKERS, cells=frame, rows=np.array([1]), rows_read=1)
    return V.validate_table(raw)


def _row_path(cells: dict[str, str | None]) -> object:
    return V.validate_row(WORKERS, cells, file="profile")


def _table_to_row(cells: dict[str, str | None]) -> object:
    from recommender.features.workers import worker_columns, worker_row

    return worker_row(worker_columns(_table_path(cells).frame), 0)  # type: ignore[attr-defined]


def _record_to_row(cells: dict[str, str | None]) -> object:
    from recommender.service import _record_row

    record, _ = _row_path(cells)  # type: ignore[misc]
    return _record_row(record) if record is not None else None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profiles", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    raw = pd.read_csv(SAMPLES, dtype=str, keep_default_na=False).head(args.profiles)
    profiles = [{c: (v or None) for c, v in r.items()} for r in raw.to_dict("records")]
    paths = [("validate_table (one-row table)", _table_path)]
    if hasattr(V, "validate_row"):
        paths.append(("validate_row", _row_path))
        paths.append(("table -> worker_columns row", _table_to_row))
        paths.append(("validate_row -> _record_row", _record_to_row))
    for name, fn in paths:
        for p in profiles:  # warm the parse cache
            fn(p)
        best = float("inf")
        for _ in range(args.repeat):
            t0 = time.process_time()
            for p in profiles:
                fn(p)
            best = min(best, time.process_time() - t0)
        print(f"{name:32s} {best / len(profiles) * 1e6:8.1f} us/profile (CPU, best of {args.repeat} x {len(profiles)})")


if __name__ == "__main__":
    main()
