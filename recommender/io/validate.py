"""Cell-by-cell validation of raw contract files.

The same function validates a million-row import and a one-row inline profile
from the API, so the rules can never drift apart. Every broken cell becomes a
``RowError`` naming file, row, column, value and reason; a row with any error
is left out, all other rows go on.

Each column is factorised first and every *distinct* value is cleaned and
parsed once: enum, region, date and boolean columns repeat a handful of
values over a million rows, so validation costs little more than reading.

A tiny table (an API's inline profile: one row) takes a per-cell path instead,
since pandas costs more than the work there. It applies the same rules with
the same code: cells are cleaned with the same string functions, and each
distinct cleaned value is typed by the *same* per-kind parser as above (called
on a one-value Series and remembered, so repeated values cost a dict lookup);
only free text, lists and ids, which rarely repeat, are parsed by the plain
Python functions that the pandas string methods apply element-wise. Both
paths give the same frame, rows and errors (``tests/test_validate_small.py``).

``validate_row`` is that per-cell path for one row without any table: the
service validates each inline profile with it (~15 us instead of ~1 ms), and
``record_frame`` gives its frame when one is needed (``tests/test_validate_row.py``).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from recommender.contract import FALSE_WORDS, TRUE_WORDS, Column, FileSpec, Kind
from recommender.io.reader import RawTable
from recommender.io.report import RowError, preview

_WS = " \t\r\n\u3000\u00a0\ufeff"
_LIST_SEP = re.compile(r"[；、，]")
_LIST_JOIN = re.compile(r"\s*;[\s;]*")
_ISO_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ][0-9:.+\-Z]*)?$")
_NATIONAL_ID = re.compile(r"^\d{17}[\dXx]$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_ID_CHARS = 64

# Cross-field rules: (left column, right column); a row where both are present
# and left > right is rejected.
ORDER_RULES: dict[str, tuple[tuple[str, str], ...]] = {
    "jobs": (("wage_min", "wage_max"), ("age_min", "age_max"), ("posted_on", "closes_on")),
    "courses": (("age_min", "age_max"),),
}

_DTYPES: dict[Kind, str] = {
    Kind.INT: "Int64",
    Kind.NUMBER: "Float64",
    Kind.DATE: "datetime64[ns]",
    Kind.BOOL: "boolean",
}


@dataclass(slots=True)
class ValidatedTable:
    """Valid rows, typed; and why the others were rejected."""

    file: str
    spec: FileSpec
    frame: pd.DataFrame
    rows: np.ndarray
    errors: list[RowError] = field(default_factory=list)
    rows_read: int = 0


# A parser takes the distinct cleaned values of a column (no missing values)
# and returns their typed form and, per value, None or the reason it is wrong.
Parsed = tuple[pd.Series, np.ndarray]


def _reasons(n: int) -> np.ndarray:
    return np.full(n, None, dtype=object)


def _set(reasons: np.ndarray, mask: np.ndarray, reason: str) -> None:
    reasons[mask & pd.isna(reasons)] = reason


def _parse_int(u: pd.Series, col: Column) -> Parsed:
    num = pd.to_numeric(u.str.replace(",", "", regex=False), errors="coerce").astype("Float64")
    values = num.to_numpy(dtype=float, na_value=np.nan)
    reasons = _reasons(len(u))
    _set(reasons, np.isnan(values) | (np.nan_to_num(values) != np.round(np.nan_to_num(values))), "not a whole number")
    _range(values, col, reasons)
    ok = pd.isna(reasons)
    return pd.Series(np.where(ok, values, np.nan)).round().astype("Int64"), reasons


def _parse_number(u: pd.Series, col: Column) -> Parsed:
    num = pd.to_numeric(u.str.replace(",", "", regex=False), errors="coerce").astype("Float64")
    values = num.to_numpy(dtype=float, na_value=np.nan)
    reasons = _reasons(len(u))
    _set(reasons, ~np.isfinite(values), "not a number")
    _range(values, col, reasons)
    return pd.Series(np.where(pd.isna(reasons), values, np.nan)).astype("Float64"), reasons


def _range(values: np.ndarray, col: Column, reasons: np.ndarray) -> None:
    with np.errstate(invalid="ignore"):
        if col.minimum is not None:
            reason = "must not be negative" if col.minimum == 0 else f"below the minimum {col.minimum:g}"
            _set(reasons, values < col.minimum, reason)
        if col.maximum is not None:
            _set(reasons, values > col.maximum, f"above the maximum {col.maximum:g}")


def _parse_date(u: pd.Series, col: Column) -> Parsed:
    head = u.str.extract(_ISO_DATE, expand=False)
    parsed = pd.to_datetime(head, format="%Y-%m-%d", errors="coerce")
    reasons = _reasons(len(u))
    _set(reasons, head.isna().to_numpy(), "not an ISO 8601 date (YYYY-MM-DD)")
    _set(reasons, parsed.isna().to_numpy(), "not a valid calendar date")
    years = parsed.dt.year.to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        _set(reasons, (years < 1900) | (years > 2200), "year out of range 1900-2200")
    return parsed.where(pd.isna(reasons)).astype("datetime64[ns]"), reasons


def _parse_bool(u: pd.Series, col: Column) -> Parsed:
    low = u.str.lower()
    is_true = low.isin(TRUE_WORDS).to_numpy()
    is_false = low.isin(FALSE_WORDS).to_numpy()
    reasons = _reasons(len(u))
    _set(reasons, ~is_true & ~is_false, "not a boolean (use 1/0, true/false, yes/no, 是/否)")
    out = pd.Series(pd.NA, index=range(len(u)), dtype="boolean")
    out[is_true] = True
    out[is_false] = False
    return out, reasons


def _parse_enum(u: pd.Series, col: Column) -> Parsed:
    if not col.case_sensitive:
        lowered = {c.lower(): c for c in col.choices}
        u = u.map(lambda v: lowered.get(v.lower(), v))
    ok = u.isin(col.choices).to_numpy()
    reasons = _reasons(len(u))
    _set(reasons, ~ok, f"not one of: {', '.join(col.choices)}")
    return u.where(ok, None).astype(object), reasons


def _parse_list(u: pd.Series, col: Column) -> Parsed:
    joined = u.str.replace(_LIST_SEP, ";", regex=True).str.replace(_LIST_JOIN, ";", regex=True).str.strip("; ")
    return joined.where(joined.str.len() > 0, None).astype(object), _reasons(len(u))


def _parse_text(u: pd.Series, col: Column) -> Parsed:
    return u.astype(object), _reasons(len(u))


def _parse_id(u: pd.Series, col: Column) -> Parsed:
    reasons = _reasons(len(u))
    _set(reasons, u.str.len().to_numpy() > MAX_ID_CHARS, f"id longer than {MAX_ID_CHARS} characters")
    _set(reasons, u.str.contains(_CONTROL, regex=True).to_numpy(dtype=bool), "id contains control characters")
    _set(
        reasons,
        u.str.match(_NATIONAL_ID).to_numpy(dtype=bool),
        "looks like a national ID number; use the service's own id (ID numbers are never stored)",
    )
    return u.astype(object), reasons


def _parse_region(u: pd.Series, col: Column) -> Parsed:
    from recommender.regions import RegionIndex

    resolved = RegionIndex.default().resolve_many(u.tolist())
    codes = [None if isinstance(r, Exception) else r.code for r in (resolved[v] for v in u.tolist())]
    reasons = np.array([str(r) if isinstance(r, Exception) else None for r in (resolved[v] for v in u.tolist())], dtype=object)
    return pd.Series(codes, dtype=object), reasons


_PARSERS: dict[Kind, Callable[[pd.Series, Column], Parsed]] = {
    Kind.INT: _parse_int,
    Kind.NUMBER: _parse_number,
    Kind.DATE: _parse_date,
    Kind.BOOL: _parse_bool,
    Kind.ENUM: _parse_enum,
    Kind.LIST: _parse_list,
    Kind.TEXT: _parse_text,
    Kind.ID: _parse_id,
    Kind.REGION: _parse_region,
}
# Free text keeps what the user wrote; everything else is compared after NFKC
# (full-width digits and letters become ASCII).
_NFKC_KINDS = {Kind.INT, Kind.NUMBER, Kind.DATE, Kind.BOOL, Kind.ENUM, Kind.ID, Kind.REGION}


class _Errors:
    """Row errors, gathered column by column."""

    def __init__(self, file: str, rows: np.ndarray) -> None:
        self.file = file
        self.rows = rows
        self.bad = np.zeros(len(rows), dtype=bool)
        self.items: list[tuple[int, int, RowError]] = []
        self._col = 0

    def add(
        self,
        mask: np.ndarray,
        column: str | None,
        values: pd.Series | np.ndarray | None,
        reason: str | np.ndarray | Callable[[object], str],
    ) -> None:
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        self._col += 1
        self.bad[idx] = True
        for i in idx:
            value = None if values is None else (values.iat[i] if isinstance(values, pd.Series) else values[i])
            if isinstance(reason, np.ndarray):
                text = str(reason[i])
            elif callable(reason):
                text = reason(value)
            else:
                text = reason
            self.items.append((int(i), self._col, RowError(self.file, int(self.rows[i]), column, preview(value), text)))

    def sorted(self) -> list[RowError]:
        return [e for _, _, e in sorted(self.items, key=lambda t: (t[0], t[1]))]


def _empty_typed(spec: FileSpec) -> pd.DataFrame:
    return pd.DataFrame({c.name: pd.Series(dtype=_DTYPES.get(c.kind, object)) for c in spec.columns})


def _validate_column(cells: pd.Series, col: Column, err: _Errors, max_cell_chars: int) -> pd.Series:
    """Type one column: factorise, check each distinct value once, broadcast back."""
    n = len(cells)
    codes, uniques = pd.factorize(cells.to_numpy(dtype=object), use_na_sentinel=True)
    raw_u = pd.Series(uniques, dtype=object)
    lengths = raw_u.str.len().to_numpy(dtype=float)
    too_long_u = lengths > max_cell_chars
    clean_u = raw_u.where(~too_long_u, "")
    if col.kind in _NFKC_KINDS:
        clean_u = clean_u.str.normalize("NFKC")
    clean_u = clean_u.str.strip(_WS)
    empty_u = (clean_u.str.len().to_numpy() == 0) & ~too_long_u
    present_u = ~empty_u & ~too_long_u
    typed_u = pd.Series([None] * len(raw_u), dtype=_DTYPES.get(col.kind, object))
    reasons_u = _reasons(len(raw_u))
    if present_u.any():
        parsed, why = _PARSERS[col.kind](clean_u[present_u].reset_index(drop=True), col)
        typed_u[present_u] = parsed.to_numpy()
        reasons_u[present_u] = why
    has = codes >= 0
    safe = np.where(has, codes, 0)
    if len(raw_u):
        long_rows = has & too_long_u[safe]
        err.add(long_rows, col.name, None, f"cell too long (more than {max_cell_chars} characters)")
        row_reasons = np.where(has, reasons_u[safe] if len(raw_u) else None, None)
        bad_rows = has & ~pd.isna(row_reasons)
        err.add(bad_rows, col.name, pd.Series(np.where(has, uniques[safe], None), dtype=object), row_reasons)
        missing = ~has | (empty_u[safe] & has)
    else:
        missing = np.ones(n, dtype=bool)
    if col.required:
        err.add(missing, col.name, None, "required value missing")
    if not len(raw_u):
        return pd.Series([None] * n, dtype=_DTYPES.get(col.kind, object))
    out = typed_u.take(safe).reset_index(drop=True)
    if (~has).any():
        out[~has] = None
    return out


#: Tables with at most this many rows take the per-cell path (``_validate_small``).
SMALL_TABLE_ROWS = 8
_SMALL_CACHE_SIZE = 100_000
_small_cache: dict[tuple[Column, str], tuple[object, str | None]] = {}
_CACHED_KINDS = {Kind.INT, Kind.NUMBER, Kind.DATE, Kind.BOOL, Kind.ENUM, Kind.REGION}


def _na(value: object) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value)


def _parse_list_one(value: str) -> str | None:
    # what _parse_list's .str.replace / .str.strip / .str.len apply to each element
    joined = _LIST_JOIN.sub(";", _LIST_SEP.sub(";", value)).strip("; ")
    return joined if len(joined) > 0 else None


def _parse_id_one(value: str) -> str | None:
    # _parse_id's rules in the same order (the first reason found is kept)
    if len(value) > MAX_ID_CHARS:
        return f"id longer than {MAX_ID_CHARS} characters"
    if _CONTROL.search(value) is not None:
        return "id contains control characters"
    if _NATIONAL_ID.match(value) is not None:
        return "looks like a national ID number; use the service's own id (ID numbers are never stored)"
    return None


_PLAIN_INT = re.compile(r"[0-9]{1,15}")
_PLAIN_DECIMAL = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,6})?")
_PLAIN_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


def _in_range(value: float, col: Column) -> bool:
    return (col.minimum is None or value >= col.minimum) and (col.maximum is None or value <= col.maximum)


def _fast_one(col: Column, value: str) -> object | None:
    """The typed value of a plainly written, valid number or date, as ``_PARSERS`` give it;
    ``None`` declines (anything else takes the pandas parser).

    Profiles sent to the API carry values seldom seen before (a wage, a date), so
    the per-value cache misses and a one-element pandas parse costs ~0.3 ms per
    cell. Only the unambiguous forms are taken here; a property test holds them
    to the pandas parsers.
    """
    kind = col.kind
    if kind is Kind.INT:
        if _PLAIN_INT.fullmatch(value) is None:
            return None
        number = int(value)
        return np.int64(number) if _in_range(number, col) else None
    if kind is Kind.NUMBER:
        if _PLAIN_DECIMAL.fullmatch(value) is None:
            return None
        real = float(value)
        return np.float64(real) if _in_range(real, col) else None
    if kind is Kind.DATE:
        m = _PLAIN_DATE.fullmatch(value)
        if m is None:
            return None
        year, month, day = int(m[1]), int(m[2]), int(m[3])
        if not 1900 <= year <= 2200:
            return None
        try:
            dt.date(year, month, day)
        except ValueError:
            return None
        return pd.Timestamp(year, month, day).as_unit("ns")
    return None


def _parse_one(col: Column, value: str) -> tuple[object, str | None]:
    """One cleaned, present cell -> (typed value or None, reason or None), as ``_PARSERS`` give it."""
    kind = col.kind
    if kind is Kind.TEXT:
        return value, None
    if kind is Kind.LIST:
        return _parse_list_one(value), None
    if kind is Kind.ID:
        return value, _parse_id_one(value)
    fast = _fast_one(col, value)
    if fast is not None:
        return fast, None
    key = (col, value)
    hit = _small_cache.get(key)
    if hit is None:
        typed, reasons = _PARSERS[kind](pd.Series([value], dtype=object), col)
        v = typed.iloc[0]
        hit = (None if _na(v) else v, reasons[0])
        if len(_small_cache) >= _SMALL_CACHE_SIZE:
            _small_cache.clear()
        _small_cache[key] = hit
    return hit


def _typed_array(values: list[object], kind: Kind) -> object:
    dtype = _DTYPES.get(kind)
    if dtype is None:
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return pd.Series(out, dtype=object, copy=False)  # object, as the general path keeps it (not pandas' str)
    return pd.array(values, dtype=dtype)


_OK, _MISSING, _TOO_LONG, _BAD, _NOT_TEXT = range(5)


def _check_cell(col: Column, cell: object, max_cell_chars: int) -> tuple[object, str | None, int]:
    """One raw cell -> (typed value or None, reason or None, status), by ``_validate_column``'s rules.

    Shared by the per-cell paths (``_validate_small``, ``validate_row``) so the
    cleaning order (length, NFKC, strip, emptiness) is written once.
    """
    if _na(cell):
        return None, None, _MISSING
    if not isinstance(cell, str):
        return None, None, _NOT_TEXT
    if len(cell) > max_cell_chars:
        return None, None, _TOO_LONG
    clean = (unicodedata.normalize("NFKC", cell) if col.kind in _NFKC_KINDS else cell).strip(_WS)
    if not clean:
        return None, None, _MISSING
    typed, why = _parse_one(col, clean)
    return typed, why, (_OK if why is None else _BAD)


def _default_one(col: Column, value: object, record: Mapping[str, object]) -> object:
    """``_apply_defaults`` for one cell (``default_from`` columns read the row's already-typed value)."""
    if value is not None:
        return value
    if col.default_from:
        return record[col.default_from]
    return _typed_default(col)


@functools.lru_cache(maxsize=256)
def _typed_default(col: Column) -> object:
    """A column's default as its typed frame holds it (``1`` in an Int64 column reads back as numpy.int64)."""
    v = _typed_array([col.default], col.kind)
    return v.iloc[0] if isinstance(v, pd.Series) else v[0]


def _order_wrong(x: object, y: object) -> bool:
    """``_cross_checks``' order rule for one pair of typed values."""
    return x is not None and y is not None and bool(x > y)  # type: ignore[operator]


def _age_odd(year: object, today: dt.date) -> bool:
    """``_cross_checks``' age rule for one typed birth year."""
    return year is not None and not 14 <= today.year - float(year) <= 100  # type: ignore[arg-type]


_AGE_REASON = "implies an age outside 14-100"


def _validate_small(raw: RawTable, max_cell_chars: int, today: dt.date, errors: list[RowError]) -> ValidatedTable | None:
    """``validate_table`` for a few rows, cell by cell; None when a cell is not text (the general path decides)."""
    spec = raw.spec
    if len(spec.key) != 1:
        return None
    n = len(raw.cells)
    err = _Errors(raw.file, raw.rows)
    given = dict(zip(raw.cells.columns, raw.cells.to_numpy(dtype=object).T.tolist(), strict=True))
    values: dict[str, list[object]] = {}
    for col in spec.columns:
        cells = given.get(col.name) or [None] * n
        typed: list[object] = [None] * n
        status = [_OK] * n
        why = np.full(n, None, dtype=object)
        for r, cell in enumerate(cells):
            typed[r], why[r], status[r] = _check_cell(col, cell, max_cell_chars)
            if status[r] == _NOT_TEXT:
                return None
        st = np.asarray(status)
        err.add(st == _TOO_LONG, col.name, None, f"cell too long (more than {max_cell_chars} characters)")
        err.add(st == _BAD, col.name, np.array(cells + [None], dtype=object)[:n], why)
        if col.required:
            err.add(st == _MISSING, col.name, None, "required value missing")
        values[col.name] = typed
    for col in spec.columns:  # _apply_defaults
        if col.default_from or col.default is not None:
            values[col.name] = [_default_one(col, values[col.name][r], {c: v[r] for c, v in values.items()}) for r in range(n)]
    for left, right in ORDER_RULES.get(spec.name, ()):  # _cross_checks
        a, b = values[left], values[right]
        wrong = np.array([_order_wrong(x, y) for x, y in zip(a, b, strict=True)], dtype=bool)
        err.add(wrong, left, np.array(a + [None], dtype=object)[:n], f"{left} is greater than {right}")
    if spec.name == "workers":
        years = values["birth_year"]
        odd = np.array([_age_odd(y, today) for y in years], dtype=bool)
        err.add(odd, "birth_year", np.array(years + [None], dtype=object)[:n], _AGE_REASON)
    valid = ~err.bad  # _drop_duplicate_keys (one key column: checked on entry)
    key = spec.key[0]
    first_row: dict[object, int] = {}
    dup = np.zeros(n, dtype=bool)
    why = np.full(n, None, dtype=object)
    for r in range(n):
        v = values[key][r]
        if not valid[r] or v is None:
            continue
        if v in first_row:
            dup[r] = True
            why[r] = f"duplicate {key} {v} (first at row {first_row[v]})"
        else:
            first_row[v] = int(err.rows[r])
    if dup.any():
        err.add(dup, key, np.array(values[key] + [None], dtype=object)[:n], why)
        valid = valid & ~dup
    keep = np.flatnonzero(valid)
    frame = pd.DataFrame({c.name: _typed_array([values[c.name][r] for r in keep], c.kind) for c in spec.columns})
    errors.extend(err.sorted())
    return ValidatedTable(raw.file, spec, frame, err.rows[valid], errors, raw.rows_read)


def validate_row(
    spec: FileSpec,
    cells: Mapping[str, object],
    *,
    file: str = "row",
    row: int = 1,
    max_cell_chars: int = 10_000,
    today: dt.date | None = None,
) -> tuple[dict[str, object] | None, list[RowError]]:
    """``validate_table`` of a one-row table, without the table: ``(record, [])`` or ``(None, errors)``.

    For the API's inline profiles: a one-row ``RawTable`` costs more in pandas
    (frame in, typed frame out) than the rules themselves. The same per-cell
    helpers as ``_validate_small`` apply the same rules, and the errors (file,
    row, column, value, reason) come in ``validate_table``'s order. ``record``
    maps every contract column to its typed value as the general path's frame
    holds it (``None`` when missing); ``record_frame`` turns it into that frame.
    A cell that is not text is left to ``validate_table`` itself.
    """
    errors: list[RowError] = []
    record: dict[str, object] = {}
    for col in spec.columns:
        cell = cells.get(col.name)
        typed, why, status = _check_cell(col, cell, max_cell_chars)
        if status == _NOT_TEXT:
            return _row_via_table(spec, cells, file, row, max_cell_chars, today)
        if status == _TOO_LONG:
            errors.append(RowError(file, row, col.name, preview(None), f"cell too long (more than {max_cell_chars} characters)"))
        elif status == _BAD:
            errors.append(RowError(file, row, col.name, preview(cell), str(why)))
        elif status == _MISSING and col.required:
            errors.append(RowError(file, row, col.name, preview(None), "required value missing"))
        record[col.name] = typed
    for col in spec.columns:  # _apply_defaults
        if col.default_from or col.default is not None:
            record[col.name] = _default_one(col, record[col.name], record)
    for left, right in ORDER_RULES.get(spec.name, ()):  # _cross_checks
        if _order_wrong(record[left], record[right]):
            errors.append(RowError(file, row, left, preview(record[left]), f"{left} is greater than {right}"))
    if spec.name == "workers" and _age_odd(record["birth_year"], today or dt.date.today()):
        errors.append(RowError(file, row, "birth_year", preview(record["birth_year"]), _AGE_REASON))
    return (None, errors) if errors else (record, errors)


def _row_via_table(
    spec: FileSpec, cells: Mapping[str, object], file: str, row: int, max_cell_chars: int, today: dt.date | None
) -> tuple[dict[str, object] | None, list[RowError]]:
    """``validate_row`` for cells that are not all text: the general path, its frame read back as a record."""
    frame = pd.DataFrame({c: [cells.get(c)] for c in spec.column_names}, dtype=object)
    table = validate_table(RawTable(file, spec, frame, np.array([row]), rows_read=1), max_cell_chars=max_cell_chars, today=today)
    if table.errors or table.frame.empty:
        return None, table.errors
    values = {c: table.frame[c].iloc[0] for c in spec.column_names}  # per column: each keeps its dtype's scalar
    return {c: (None if _na(v) else v) for c, v in values.items()}, []


def record_frame(spec: FileSpec, record: Mapping[str, object]) -> pd.DataFrame:
    """A ``validate_row`` record as the one-row typed frame ``validate_table`` gives (same dtypes)."""
    return pd.DataFrame({c.name: _typed_array([record[c.name]], c.kind) for c in spec.columns})


def validate_table(raw: RawTable, *, max_cell_chars: int = 10_000, today: dt.date | None = None) -> ValidatedTable:
    """Type every cell of ``raw``; return the valid rows and the errors of the others."""
    spec = raw.spec
    errors = list(raw.errors)
    if raw.missing_columns:
        missing = ", ".join(raw.missing_columns)
        errors.append(RowError(raw.file, 0, None, "", f"required column(s) missing from the header: {missing}"))
        return ValidatedTable(raw.file, spec, _empty_typed(spec), np.array([], dtype=np.int64), errors, raw.rows_read)
    n = len(raw.cells)
    if n == 0:
        return ValidatedTable(raw.file, spec, _empty_typed(spec), np.array([], dtype=np.int64), errors, raw.rows_read)
    if n <= SMALL_TABLE_ROWS:
        small = _validate_small(raw, max_cell_chars, today or dt.date.today(), errors)
        if small is not None:
            return small
    err = _Errors(raw.file, raw.rows)
    typed: dict[str, pd.Series] = {}
    for col in spec.columns:
        if col.name in raw.cells.columns:
            cells = raw.cells[col.name].reset_index(drop=True)
        else:
            cells = pd.Series([None] * n, dtype=object)
        typed[col.name] = _validate_column(cells, col, err, max_cell_chars)
    frame = pd.DataFrame(typed)
    _apply_defaults(frame, spec)
    _cross_checks(frame, spec, err, today or dt.date.today())
    frame, rows = _drop_duplicate_keys(frame, spec, err)
    errors.extend(err.sorted())
    return ValidatedTable(raw.file, spec, frame, rows, errors, raw.rows_read)


def _apply_defaults(frame: pd.DataFrame, spec: FileSpec) -> None:
    for col in spec.columns:
        if col.default_from:
            frame[col.name] = frame[col.name].where(frame[col.name].notna(), frame[col.default_from])
        elif col.default is not None:
            frame[col.name] = frame[col.name].fillna(col.default)


def _cross_checks(frame: pd.DataFrame, spec: FileSpec, err: _Errors, today: dt.date) -> None:
    for left, right in ORDER_RULES.get(spec.name, ()):
        a, b = frame[left], frame[right]
        both = (a.notna() & b.notna()).to_numpy(dtype=bool)
        wrong = both & (a > b).fillna(False).to_numpy(dtype=bool)
        err.add(wrong, left, a.astype(object), f"{left} is greater than {right}")
    if spec.name == "workers":
        age = today.year - frame["birth_year"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            odd = (age < 14) | (age > 100)
        err.add(odd, "birth_year", frame["birth_year"].astype(object), "implies an age outside 14-100")


def _drop_duplicate_keys(frame: pd.DataFrame, spec: FileSpec, err: _Errors) -> tuple[pd.DataFrame, np.ndarray]:
    """Reject invalid rows, then later repeats of a key among the valid ones."""
    valid = ~err.bad
    keys = frame[list(spec.key)]
    complete = keys.notna().all(axis=1).to_numpy()
    candidates = np.flatnonzero(valid & complete)
    dup = np.zeros(len(frame), dtype=bool)
    dup[candidates] = keys.iloc[candidates].duplicated(keep="first").to_numpy()
    if dup.any():
        shown = keys.astype(str).agg("/".join, axis=1) if len(spec.key) > 1 else keys.iloc[:, 0].astype(object)
        first_row: dict[str, int] = {}
        for i in np.flatnonzero(valid):
            first_row.setdefault(shown.iat[i], int(err.rows[i]))
        label = "/".join(spec.key)
        err.add(dup, label, shown, lambda v: f"duplicate {label} {v} (first at row {first_row[str(v)]})")
        valid = valid & ~dup
    return frame[valid].reset_index(drop=True), err.rows[valid]
