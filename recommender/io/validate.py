"""Cell-by-cell validation of raw contract files, vectorised over columns.

The same function validates a million-row import and a one-row inline profile
from the API, so the rules can never drift apart. Every broken cell becomes a
``RowError`` naming file, row, column, value and reason; a row with any error
is left out, all other rows go on.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
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


@dataclass(slots=True)
class ValidatedTable:
    """Valid rows, typed; and why the others were rejected."""

    file: str
    spec: FileSpec
    frame: pd.DataFrame
    rows: np.ndarray
    errors: list[RowError] = field(default_factory=list)
    rows_read: int = 0

    @property
    def rejected_rows(self) -> int:
        return len({(e.row) for e in self.errors if e.row}) if self.errors else 0


class _Errors:
    """Collects errors per row index while columns are checked one by one."""

    def __init__(self, file: str, rows: np.ndarray) -> None:
        self.file = file
        self.rows = rows
        self.bad = np.zeros(len(rows), dtype=bool)
        self.items: list[tuple[int, RowError]] = []

    def add(self, mask: np.ndarray, column: str | None, values: pd.Series | None, reason: str | Callable[[object], str]) -> None:
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        self.bad[idx] = True
        for i in idx:
            value = None if values is None else values.iat[i]
            text = reason(value) if callable(reason) else reason
            self.items.append((int(i), RowError(self.file, int(self.rows[i]), column, preview(value), text)))

    def sorted(self) -> list[RowError]:
        return [e for _, e in sorted(self.items, key=lambda t: t[0])]


def _present(s: pd.Series) -> np.ndarray:
    return s.notna().to_numpy(dtype=bool)


def _clean(s: pd.Series, nfkc: bool) -> pd.Series:
    s = s.astype(object)
    if nfkc:
        s = s.str.normalize("NFKC")
    s = s.str.strip(_WS)
    return s.where(s.str.len() > 0, None)


def _parse_int(s: pd.Series, col: Column, err: _Errors) -> pd.Series:
    text = s.str.replace(",", "", regex=False)
    num = pd.to_numeric(text, errors="coerce")
    present = _present(s)
    bad = present & (num.isna().to_numpy() | ~np.isclose(num.fillna(0).to_numpy(), np.round(num.fillna(0).to_numpy())))
    err.add(bad, col.name, s, "not a whole number")
    out = num.where(~bad).round().astype("Int64")
    return _check_range(out, s, col, err, present & ~bad)


def _parse_number(s: pd.Series, col: Column, err: _Errors) -> pd.Series:
    num = pd.to_numeric(s.str.replace(",", "", regex=False), errors="coerce")
    present = _present(s)
    bad = present & (num.isna().to_numpy() | ~np.isfinite(num.fillna(0).to_numpy()))
    err.add(bad, col.name, s, "not a number")
    out = num.where(~bad).astype("Float64")
    return _check_range(out, s, col, err, present & ~bad)


def _check_range(out: pd.Series, raw: pd.Series, col: Column, err: _Errors, ok: np.ndarray) -> pd.Series:
    values = out.astype("Float64").fillna(np.nan).to_numpy(dtype=float)
    if col.minimum is not None:
        low = ok & (values < col.minimum)
        reason = "must not be negative" if col.minimum == 0 else f"below the minimum {col.minimum:g}"
        err.add(low, col.name, raw, reason)
        out = out.where(~low)
    if col.maximum is not None:
        high = ok & (values > col.maximum)
        err.add(high, col.name, raw, f"above the maximum {col.maximum:g}")
        out = out.where(~high)
    return out


def _parse_date(s: pd.Series, col: Column, err: _Errors) -> pd.Series:
    head = s.str.extract(_ISO_DATE, expand=False)
    parsed = pd.to_datetime(head, format="%Y-%m-%d", errors="coerce")
    present = _present(s)
    not_iso = present & head.isna().to_numpy()
    err.add(not_iso, col.name, s, "not an ISO 8601 date (YYYY-MM-DD)")
    invalid = present & ~not_iso & parsed.isna().to_numpy()
    err.add(invalid, col.name, s, "not a valid calendar date")
    years = parsed.dt.year.to_numpy(dtype=float, na_value=np.nan)
    odd = present & ~not_iso & ~invalid & ((years < 1900) | (years > 2200))
    err.add(odd, col.name, s, "year out of range 1900-2200")
    return parsed.where(~odd).astype("datetime64[ns]")


def _parse_bool(s: pd.Series, col: Column, err: _Errors) -> pd.Series:
    low = s.str.lower()
    is_true = low.isin(TRUE_WORDS).to_numpy()
    is_false = low.isin(FALSE_WORDS).to_numpy()
    bad = _present(s) & ~is_true & ~is_false
    err.add(bad, col.name, s, "not a boolean (use 1/0, true/false, yes/no, 是/否)")
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    out[is_true] = True
    out[is_false] = False
    return out


def _parse_enum(s: pd.Series, col: Column, err: _Errors) -> pd.Series:
    if not col.case_sensitive:
        lowered = {c.lower(): c for c in col.choices}
        s = s.str.lower().map(lambda v: lowered.get(v, v), na_action="ignore")
    ok = s.isin(col.choices).to_numpy()
    bad = _present(s) & ~ok
    err.add(bad, col.name, s, f"not one of: {', '.join(col.choices)}")
    return s.where(~bad, None)


def _parse_list(s: pd.Series, col: Column, err: _Errors) -> pd.Series:
    joined = s.str.replace(_LIST_SEP, ";", regex=True).str.replace(_LIST_JOIN, ";", regex=True).str.strip("; ")
    return joined.where(joined.str.len() > 0, None)


def _parse_id(s: pd.Series, col: Column, err: _Errors) -> pd.Series:
    present = _present(s)
    too_long = present & (s.str.len().fillna(0).to_numpy() > MAX_ID_CHARS)
    err.add(too_long, col.name, s, f"id longer than {MAX_ID_CHARS} characters")
    control = present & s.str.contains(_CONTROL, regex=True).fillna(False).to_numpy(dtype=bool)
    err.add(control & ~too_long, col.name, s, "id contains control characters")
    national = present & s.str.match(_NATIONAL_ID).fillna(False).to_numpy(dtype=bool)
    err.add(
        national,
        col.name,
        None,
        "looks like a national ID number; use the service's own id (ID numbers are never stored)",
    )
    return s.where(~(too_long | control | national), None)


def _parse_region(s: pd.Series, col: Column, err: _Errors) -> pd.Series:
    from recommender.regions import RegionIndex

    present = _present(s)
    if not present.any():
        return s
    index = RegionIndex.default()
    resolved = index.resolve_many(s[present].unique().tolist())
    codes = {k: (v.code if not isinstance(v, Exception) else None) for k, v in resolved.items()}
    reasons = {k: str(v) for k, v in resolved.items() if isinstance(v, Exception)}
    out = s.map(codes, na_action="ignore")
    bad = present & out.isna().to_numpy()
    err.add(bad, col.name, s, lambda v: reasons.get(str(v), "unknown region"))
    return out.astype(object).where(out.notna(), None)


_PARSERS: dict[Kind, Callable[[pd.Series, Column, _Errors], pd.Series]] = {
    Kind.INT: _parse_int,
    Kind.NUMBER: _parse_number,
    Kind.DATE: _parse_date,
    Kind.BOOL: _parse_bool,
    Kind.ENUM: _parse_enum,
    Kind.LIST: _parse_list,
    Kind.ID: _parse_id,
    Kind.REGION: _parse_region,
}
_NFKC_KINDS = {Kind.INT, Kind.NUMBER, Kind.DATE, Kind.BOOL, Kind.ENUM, Kind.ID, Kind.REGION}


def _empty_typed(spec: FileSpec) -> pd.DataFrame:
    dtypes = {
        Kind.INT: "Int64",
        Kind.NUMBER: "Float64",
        Kind.DATE: "datetime64[ns]",
        Kind.BOOL: "boolean",
    }
    return pd.DataFrame({c.name: pd.Series(dtype=dtypes.get(c.kind, object)) for c in spec.columns})


def validate_table(raw: RawTable, *, max_cell_chars: int = 10_000, today: dt.date | None = None) -> ValidatedTable:
    """Type every cell of ``raw``; return the valid rows and the errors of the others."""
    spec = raw.spec
    errors = list(raw.errors)
    if raw.missing_columns:
        missing = ", ".join(raw.missing_columns)
        errors.append(RowError(raw.file, 0, None, "", f"required column(s) missing from the header: {missing}"))
        return ValidatedTable(raw.file, spec, _empty_typed(spec), np.array([], dtype=np.int64), errors, raw.rows_read)
    n = len(raw.cells)
    err = _Errors(raw.file, raw.rows)
    typed: dict[str, pd.Series] = {}
    for col in spec.columns:
        if col.name in raw.cells.columns:
            cells = raw.cells[col.name].reset_index(drop=True)
        else:
            cells = pd.Series([None] * n, dtype=object)
        lengths = cells.str.len().fillna(0).to_numpy() if n else np.zeros(0)
        too_long = lengths > max_cell_chars
        err.add(too_long, col.name, cells, lambda v: f"cell too long ({len(str(v))} characters; at most {max_cell_chars})")
        cells = cells.where(~too_long, None)
        cells = _clean(cells, nfkc=col.kind in _NFKC_KINDS) if n else cells
        if col.required:
            missing = ~_present(cells) & ~too_long
            err.add(missing, col.name, None, "required value missing")
        parser = _PARSERS.get(col.kind)
        typed[col.name] = parser(cells, col, err) if parser and n else cells
    frame = pd.DataFrame(typed) if n else _empty_typed(spec)
    _apply_defaults(frame, spec)
    _cross_checks(frame, spec, err, today or dt.date.today())
    frame, rows = _drop_duplicate_keys(frame, spec, err)
    errors.extend(err.sorted())
    return ValidatedTable(raw.file, spec, frame, rows, errors, raw.rows_read)


def _apply_defaults(frame: pd.DataFrame, spec: FileSpec) -> None:
    if frame.empty:
        return
    for col in spec.columns:
        if col.default_from:
            frame[col.name] = frame[col.name].where(frame[col.name].notna(), frame[col.default_from])
        elif col.default is not None:
            frame[col.name] = frame[col.name].fillna(col.default)


def _cross_checks(frame: pd.DataFrame, spec: FileSpec, err: _Errors, today: dt.date) -> None:
    if frame.empty:
        return
    for left, right in ORDER_RULES.get(spec.name, ()):
        a, b = frame[left], frame[right]
        both = (a.notna() & b.notna()).to_numpy(dtype=bool)
        wrong = both & (a > b).fillna(False).to_numpy(dtype=bool)
        err.add(wrong, left, a.astype(object), f"{left} is greater than {right}")
    if spec.name == "workers":
        age = today.year - frame["birth_year"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        odd = (age < 14) | (age > 100)
        err.add(odd, "birth_year", frame["birth_year"].astype(object), "implies an age outside 14-100")


def _drop_duplicate_keys(frame: pd.DataFrame, spec: FileSpec, err: _Errors) -> tuple[pd.DataFrame, np.ndarray]:
    """Reject invalid rows, then later repeats of a key among the valid ones."""
    valid = ~err.bad
    if frame.empty:
        return frame, err.rows[valid] if len(err.rows) else np.array([], dtype=np.int64)
    if len(spec.key) == 1:
        shown = frame[spec.key[0]].astype(object)
    else:
        parts = [frame[k].astype(object).tolist() for k in spec.key]
        shown = pd.Series(
            [None if any(p is None or p is pd.NA for p in ps) else "/".join(map(str, ps)) for ps in zip(*parts)],
            dtype=object,
        )
    dup = valid & shown.where(valid).duplicated(keep="first").to_numpy() & shown.notna().to_numpy()
    if dup.any():
        valid_idx = np.flatnonzero(valid)
        first_row: dict[str, int] = {}
        for i in valid_idx:
            first_row.setdefault(shown.iat[i], int(err.rows[i]))
        label = "/".join(spec.key)
        err.add(dup, label, shown, lambda v: f"duplicate {label} {v} (first at row {first_row[str(v)]})")
        valid = valid & ~dup
    return frame[valid].reset_index(drop=True), err.rows[valid]
