"""Read the store's typed frames into plain numpy arrays.

Encoders accept the frames ``Store.read_table`` returns (``Int64``,
``Float64``, ``boolean``, ``datetime64[ns]``, object text) and also frames
built by hand with plain dtypes or with columns missing: an absent column
reads as "unknown" (NaN / -1 / None), never as an error.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from recommender.errors import UnknownRegionError
from recommender.features.costs import MACRO_REGIONS, city_level
from recommender.regions import RegionIndex

__all__ = ["distinct", "per_distinct", "text_col", "num_col", "bool_col", "day_col", "enum_col", "region_arrays", "EPOCH"]

EPOCH = np.datetime64("1970-01-01", "D")


_SMALL = 8  # arrays up to this long (one worker's row) are factorised in plain Python


def distinct(values: np.ndarray | pd.Series) -> tuple[np.ndarray, list[object]]:
    """(position of each row among the distinct values, the distinct values); -1 for missing."""
    if isinstance(values, np.ndarray) and values.dtype == object and values.ndim == 1 and len(values) <= _SMALL:
        small = _distinct_small(values)
        if small is not None:
            return small
    positions, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    return positions, list(uniques)


def _distinct_small(values: np.ndarray) -> tuple[np.ndarray, list[object]] | None:
    """``pd.factorize`` of a few strings / None / NaN (first-seen order, -1 for missing); None for anything else."""
    positions = np.empty(len(values), dtype=np.intp)
    seen: dict[str, int] = {}
    uniques: list[object] = []
    for k, v in enumerate(values.tolist()):
        if v is None or (type(v) is float and v != v):
            positions[k] = -1
        elif type(v) is str:
            p = seen.get(v)
            if p is None:
                p = seen[v] = len(uniques)
                uniques.append(v)
            positions[k] = p
        else:
            return None
    return positions, uniques


def per_distinct(positions: np.ndarray, values: Sequence[object], missing: object, dtype: object = object) -> np.ndarray:
    """Gather per-distinct results back to rows (``missing`` where the row was missing)."""
    table = np.empty(len(values) + 1, dtype=dtype)
    table[: len(values)] = values
    table[len(values)] = missing
    return table[np.where(positions < 0, len(values), positions)]


def _clean(v: object) -> str | None:
    if v is None or (isinstance(v, float) and v != v):
        return None
    s = str(v).strip()
    return s or None


def text_col(frame: pd.DataFrame, name: str) -> np.ndarray:
    """Object array of stripped strings, ``None`` for missing or blank cells."""
    if name not in frame.columns:
        return np.full(len(frame), None, dtype=object)
    positions, uniques = distinct(frame[name].to_numpy(dtype=object, na_value=None))
    return per_distinct(positions, [_clean(u) for u in uniques], None)


def num_col(frame: pd.DataFrame, name: str) -> np.ndarray:
    """float64 array, NaN where missing."""
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    s = frame[name]
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        s = pd.to_numeric(s, errors="coerce")
    return s.to_numpy(dtype=np.float64, na_value=np.nan)


def bool_col(frame: pd.DataFrame, name: str) -> np.ndarray:
    """1.0 / 0.0 / NaN (unknown)."""
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    s = frame[name]
    if s.dtype == object:
        from recommender.contract import FALSE_WORDS, TRUE_WORDS

        def one(v: object) -> float:
            if v is None or (isinstance(v, float) and v != v):
                return np.nan
            if isinstance(v, (bool, np.bool_, int, np.integer, float)):
                return float(bool(v))
            t = str(v).strip().lower()
            return 1.0 if t in TRUE_WORDS else 0.0 if t in FALSE_WORDS else np.nan

        return np.array([one(v) for v in s.tolist()], dtype=np.float64)
    return s.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)


def day_col(frame: pd.DataFrame, name: str) -> np.ndarray:
    """Days since 1970-01-01 as float64, NaN where missing."""
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    s = frame[name]
    if not pd.api.types.is_datetime64_any_dtype(s.dtype):
        s = pd.to_datetime(s, errors="coerce")
    d = s.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    out = (d - EPOCH).astype(np.float64)
    out[np.isnat(d)] = np.nan
    return out


def enum_col(frame: pd.DataFrame, name: str, levels: Sequence[str], default: int = -1) -> np.ndarray:
    """Position of each value in ``levels`` (int8), ``default`` where missing or unknown."""
    if name not in frame.columns:
        return np.full(len(frame), default, dtype=np.int8)
    lookup = {v: k for k, v in enumerate(levels)}
    positions, uniques = distinct(frame[name].to_numpy(dtype=object, na_value=None))
    codes = [lookup.get(str(u).strip().lower(), default) for u in uniques]
    return per_distinct(positions, codes, default, dtype=np.int8)


def _region_row(code: object, index: RegionIndex) -> tuple[int, int, int, float, float, int, int]:
    try:
        r = index.get(str(code))
    except (UnknownRegionError, KeyError):
        try:
            r = index.resolve(str(code))
        except UnknownRegionError:
            return (-1, -1, -1, np.nan, np.nan, -1, -1)
    code_int = int(r.code)
    return (
        code_int,
        int(r.province_code),
        int(r.prefecture_code) if r.prefecture_code else -1,
        float(r.latitude),
        float(r.longitude),
        city_level(code_int),
        MACRO_REGIONS.index(r.macro_region),
    )


_ONE_REGION: dict[tuple[int, str, str], dict[str, np.ndarray]] = {}
_ONE_REGION_SIZE = 20_000


def region_arrays(codes: np.ndarray, prefix: str = "") -> dict[str, np.ndarray]:
    """Canonical code, province, prefecture, lat/lon, city level and macro region per row.

    Resolved once per distinct value (a few thousand at most); unknown or
    missing regions give -1 / NaN rather than an error, since the import has
    already reported them. One row (a worker encoded per request) is kept per
    code: the arrays are shared, read-only.
    """
    index = RegionIndex.default()
    if len(codes) == 1 and isinstance(codes[0], str):
        key = (id(index), codes[0], prefix)
        hit = _ONE_REGION.get(key)
        if hit is None:
            hit = _region_arrays(codes, prefix, index)
            for a in hit.values():
                a.flags.writeable = False
            if len(_ONE_REGION) >= _ONE_REGION_SIZE:
                _ONE_REGION.clear()
            _ONE_REGION[key] = hit
        return dict(hit)
    return _region_arrays(codes, prefix, index)


def _region_arrays(codes: np.ndarray, prefix: str, index: RegionIndex) -> dict[str, np.ndarray]:
    positions, uniques = distinct(codes)
    table = np.array(
        [_region_row(c, index) for c in uniques] if uniques else np.empty((0, 7)),
        dtype=np.float64,
    ).reshape(-1, 7)
    table = np.vstack([table, [(-1, -1, -1, np.nan, np.nan, -1, -1)]])  # row for missing
    rows = table[np.where(positions < 0, len(table) - 1, positions)]
    return {
        f"{prefix}region": rows[:, 0].astype(np.int64),
        f"{prefix}province": rows[:, 1].astype(np.int64),
        f"{prefix}prefecture": rows[:, 2].astype(np.int64),
        f"{prefix}lat": rows[:, 3],
        f"{prefix}lon": rows[:, 4],
        f"{prefix}city_level": rows[:, 5].astype(np.int8),
        f"{prefix}macro": rows[:, 6].astype(np.int8),
    }
