"""``validate_row`` (one inline profile, no table) gives what ``validate_table`` gives on a
one-row table: the same typed values and dtypes, or the same errors (file, row, column,
value, reason) in the same order. Compared with both the vectorised and the small-table path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recommender.contract import COURSES, JOBS, WORKERS, FileSpec
from recommender.io import validate as V
from recommender.io.reader import RawTable, read_raw

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"
TODAY = dt.date(2025, 7, 1)


def _table(spec: FileSpec, cells: dict[str, object], max_cell_chars: int, vectorised: bool) -> V.ValidatedTable:
    frame = pd.DataFrame({c: [cells.get(c)] for c in spec.column_names}, dtype=object)
    raw = RawTable(file="profile", spec=spec, cells=frame, rows=np.array([7]), rows_read=1)
    old = V.SMALL_TABLE_ROWS
    if vectorised:
        V.SMALL_TABLE_ROWS = -1
    try:
        return V.validate_table(raw, max_cell_chars=max_cell_chars, today=TODAY)
    finally:
        V.SMALL_TABLE_ROWS = old


def _same(spec: FileSpec, cells: dict[str, object], max_cell_chars: int = 10_000) -> dict[str, object] | None:
    record, errors = V.validate_row(spec, cells, file="profile", row=7, max_cell_chars=max_cell_chars, today=TODAY)
    for vectorised in (True, False):
        table = _table(spec, cells, max_cell_chars, vectorised)
        assert errors == table.errors, (vectorised, cells)
        if table.errors:
            assert record is None and table.frame.empty
            continue
        assert record is not None and len(table.frame) == 1
        pd.testing.assert_frame_equal(V.record_frame(spec, record), table.frame, check_dtype=True, check_exact=True)
        for name in spec.column_names:  # the scalars themselves, type included
            want = table.frame[name].iloc[0]
            got = record[name]
            if pd.isna(want):
                assert got is None, name
            else:
                assert type(got) is type(want) and got == want, (name, got, want)
    return record


@pytest.mark.parametrize("spec", [WORKERS, JOBS, COURSES], ids=lambda s: s.name)
def test_every_sample_row_as_a_profile(spec: FileSpec) -> None:
    """Every row of the sample file, each validated alone, against the whole file's
    vectorised validation (rows are independent but for duplicate keys, which the samples
    do not have): the same record, dtypes and scalars, or the same errors."""
    raw = read_raw(SAMPLES / spec.filename, spec)
    old = V.SMALL_TABLE_ROWS
    V.SMALL_TABLE_ROWS = -1
    try:
        full = V.validate_table(raw, today=TODAY)
    finally:
        V.SMALL_TABLE_ROWS = old
    assert not any(e.reason.startswith("duplicate") for e in full.errors)
    by_row: dict[int, list] = {}
    for e in full.errors:
        by_row.setdefault(e.row, []).append(e)
    position = {int(r): i for i, r in enumerate(full.rows)}
    rows = raw.cells.to_dict("records")
    for cells, row in zip(rows, raw.rows.tolist(), strict=True):
        record, errors = V.validate_row(spec, cells, file=raw.file, row=row, today=TODAY)
        assert errors == by_row.get(row, [])
        if errors:
            assert record is None and row not in position
            continue
        want = full.frame.iloc[[position[row]]].reset_index(drop=True)
        pd.testing.assert_frame_equal(V.record_frame(spec, record), want, check_dtype=True, check_exact=True)
        for name in spec.column_names:
            w = want[name].iloc[0]
            assert (record[name] is None) if pd.isna(w) else (type(record[name]) is type(w) and record[name] == w), (row, name)
    assert len(position) > len(rows) * 0.9  # mostly valid: the record path is exercised
    for cells in rows[:60]:  # and as one-row tables, on both of validate_table's paths
        _same(spec, cells)


def test_sample_workers_with_a_tiny_cell_limit() -> None:
    raw = read_raw(SAMPLES / WORKERS.filename, WORKERS)
    for r in raw.cells.head(40).to_dict("records"):
        _same(WORKERS, r, max_cell_chars=8)


EDGE: list[dict[str, object]] = [
    {"worker_id": "W1", "birth_year": "１９７５", "home_region": "510112", "skills": "电焊；钢筋绑扎、 木工 ;; ", "mobility": "Province"},
    {"worker_id": " W2\u3000", "birth_year": "1980", "home_region": "成都市武侯区", "current_region": "440305",
     "education": "SENIOR_HIGH", "experience_years": "12.5", "expected_wage": "6,000", "registered_on": "2024-02-30"},
    {"worker_id": "110101199003077777", "birth_year": "1890", "home_region": "999999", "expected_wage": "-1"},
    {"worker_id": "W\x01", "birth_year": "2020", "home_region": "510112", "experience_years": "nan", "registered_on": "2024-01-05T10:00"},
    {"worker_id": "W" * 70, "birth_year": "abc", "home_region": "", "gender": "x", "mobility": "far"},
    {"worker_id": "W5", "birth_year": "1970.5", "home_region": "510112", "registered_on": "24-01-01", "experience_years": "81"},
    {"worker_id": "W8", "birth_year": "1965", "home_region": "510112", "certificates": "焊工证；电工证", "registered_on": "1899-12-31"},
    {"worker_id": "W9", "birth_year": "1965", "home_region": "sichuan chengdu wuhou", "current_region": "四川省成都市武侯区"},
    {"worker_id": "W10", "birth_year": "1965", "home_region": "河南省周口市郸城县", "skills": "，、；;"},
    {"worker_id": None, "birth_year": None, "home_region": None},
    {"worker_id": "W12", "birth_year": "1965", "home_region": "510112", "expected_wage": float("nan"), "skills": pd.NA},
]


@pytest.mark.parametrize("cells", EDGE)
def test_edge_cases(cells: dict[str, object]) -> None:
    _same(WORKERS, cells)
    _same(WORKERS, cells, max_cell_chars=6)


def test_cells_that_are_not_text_go_to_validate_table() -> None:
    """Cells are text by contract; anything else gets exactly validate_table's treatment (today: it raises)."""
    cells = {"worker_id": "W11", "birth_year": 1965, "home_region": "510112"}
    with pytest.raises(AttributeError):
        _table(WORKERS, cells, 10_000, vectorised=False)
    with pytest.raises(AttributeError):
        V.validate_row(WORKERS, cells, today=TODAY)


def test_job_order_rules_and_defaults() -> None:
    _same(JOBS, {"job_id": "J1", "title": "电焊工", "region": "510112", "wage_min": "8000", "wage_max": "6000", "age_min": "50",
                 "age_max": "40", "posted_on": "2025-01-02", "closes_on": "2025-01-01", "housing": "是", "openings": "0"})
    _same(JOBS, {"job_id": "J2", "title": " 普工 ", "region": "440305", "housing": "maybe", "social_insurance": "T",
                 "employment_type": "Full_Time", "posted_on": "2025-01-02", "education_min": "junior_high"})
    _same(JOBS, {"job_id": "J3", "title": "普工", "region": "440305", "posted_on": "2025-01-02"})


def test_errors_name_field_and_reason() -> None:
    record, errors = V.validate_row(WORKERS, {"worker_id": "P", "birth_year": "19x0", "home_region": "510112", "mobility": "far"},
                                    file="profile", today=TODAY)
    assert record is None
    assert [(e.file, e.row, e.column, e.value) for e in errors] == [("profile", 1, "birth_year", "19x0"), ("profile", 1, "mobility", "far")]
    assert errors[0].reason == "not a whole number" and errors[1].reason.startswith("not one of:")


# ---- hostile cells ------------------------------------------------------------------------

_SEPARATED = st.lists(st.sampled_from(["电焊", "叉车", "welding", " ", "", "木工 ", "Ａ1"]), max_size=5).flatmap(
    lambda parts: st.lists(st.sampled_from([";", "；", "、", "，", " ; ", ";;", "，；"]), min_size=len(parts), max_size=len(parts)).map(
        lambda seps: "".join(p + s for p, s in zip(parts, seps, strict=True))
    )
)
_REGIONS = st.sampled_from([
    "510112", "５１０１１２", "510107", "440301", "440305", "411625", "000000", "999999", "51011", "5101120",
    "成都市武侯区", "四川省成都市武侯区", "武侯区", "武侯", "郸城县", "河南省周口市郸城县", "深圳市", "北京", "朝阳区",
    "chengdu", "Chengdu Wuhou", "wuhou", "sichuan", "Beijing", "shenzhen nanshan", "not a place anywhere", " 510112 ",
])
_MISSING = st.sampled_from([None, float("nan"), pd.NA, "", " ", "\u3000", "\t\n"])
_ANY_TEXT = st.text(max_size=12)
_HUGE = st.integers(10_001, 10_050).map(lambda n: "9" * n)


def _cell(specific: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(_MISSING, specific, _ANY_TEXT, _HUGE)


_WORKER_CELLS = st.fixed_dictionaries({
    "worker_id": _cell(st.sampled_from(["W1", " W2 ", "１２３", "110101199003077777", "W\x00", "x" * 65])),
    "birth_year": _cell(st.one_of(st.integers(1800, 2200).map(str), st.sampled_from(["1,970", "1970.0", "1970.5", "-1970", "１９７０", "1e3"]))),
    "gender": _cell(st.sampled_from(["F", "M", "f", "x"])),
    "education": _cell(st.sampled_from(["primary", "Bachelor_Plus", "COLLEGE", "none", "初中", " junior_high "])),
    "home_region": _cell(_REGIONS),
    "current_region": _cell(_REGIONS),
    "skills": _cell(_SEPARATED),
    "certificates": _cell(_SEPARATED),
    "experience_years": _cell(st.one_of(st.floats().map(str), st.sampled_from(["-1", "-0.0", "81", "1,5", "inf", "NaN", "3"]))),
    "expected_wage": _cell(st.one_of(st.integers(-10_000, 10**7).map(str), st.sampled_from(["6,000", "1e3", "-0", "5000.0", "5000.5"]))),
    "mobility": _cell(st.sampled_from(["local", "ANYWHERE", "province ", "Province", "no", "本地"])),
    "registered_on": _cell(st.one_of(st.dates().map(str), st.sampled_from(
        ["2024-13-01", "2024-02-30", "2024-01-01 12:00", "2024-01-01T00:00:00Z", "1899-12-31", "2201-01-01", "２０２４-０１-０１", "24-1-1"]))),
})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_WORKER_CELLS)
def test_random_hostile_workers(cells: dict[str, object]) -> None:
    _same(WORKERS, cells)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(list(WORKERS.column_names)), st.one_of(st.none(), st.text(max_size=30)), max_size=12))
def test_random_unicode_anywhere(cells: dict[str, object]) -> None:
    _same(WORKERS, cells)
    _same(WORKERS, cells, max_cell_chars=5)


# ---- the one-value fast parsers -----------------------------------------------------------

_COLUMNS = {c.name: c for c in (*WORKERS.columns, *JOBS.columns, *COURSES.columns)}
_FAST_CASES = st.one_of(
    st.tuples(st.sampled_from(["birth_year", "expected_wage"]),
              st.one_of(st.integers(0, 10**15 - 1).map(str), st.from_regex(r"[0-9]{1,16}", fullmatch=True))),
    st.tuples(st.just("experience_years"),
              st.one_of(st.from_regex(r"[0-9]{1,10}(\.[0-9]{0,7})?", fullmatch=True),
                        st.floats(0, 90, allow_nan=False).map(lambda f: f"{f:.{len(str(f))}g}"),
                        st.decimals(0, 10**9, places=6, allow_nan=False, allow_infinity=False).map(str))),
    st.tuples(st.just("registered_on"),
              st.one_of(st.dates().map(str), st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True))),
)


@settings(max_examples=1500, deadline=None)
@given(_FAST_CASES)
def test_fast_one_value_parsers_equal_the_pandas_parsers(case: tuple[str, str]) -> None:
    """What ``_fast_one`` takes it parses exactly as the column's pandas parser: same value,
    same scalar type (and datetime unit), no reason; what it declines it leaves to them."""
    name, value = case
    col = _COLUMNS[name]
    fast = V._fast_one(col, value)
    typed, reasons = V._PARSERS[col.kind](pd.Series([value], dtype=object), col)
    if fast is None:
        return
    want = typed.iloc[0]
    assert reasons[0] is None, (value, reasons[0])
    assert type(fast) is type(want) and fast == want, (value, fast, want)
    if isinstance(want, pd.Timestamp):
        assert fast.unit == want.unit


def test_fast_one_value_parsers_take_the_plain_forms() -> None:
    """The forms profiles carry are taken (else the test above proves nothing)."""
    assert V._fast_one(_COLUMNS["expected_wage"], "4500") == 4500
    assert V._fast_one(_COLUMNS["experience_years"], "3.5") == 3.5
    assert V._fast_one(_COLUMNS["registered_on"], "2024-02-29") == pd.Timestamp("2024-02-29")
    for name, value in [("expected_wage", "4,500"), ("birth_year", "1800"), ("experience_years", "81"),
                        ("registered_on", "2023-02-29"), ("registered_on", "1899-12-31"), ("registered_on", "2024-01-01T08:00")]:
        assert V._fast_one(_COLUMNS[name], value) is None, (name, value)
