"""The per-cell path of ``validate_table`` (tiny tables, e.g. an inline profile) gives
exactly what the vectorised path gives: same typed frame, rows and errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.contract import COURSES, JOBS, WORKERS, FileSpec
from recommender.io import validate as V
from recommender.io.reader import RawTable, read_raw

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"
TODAY = dt.date(2025, 7, 1)


def _both(raw: RawTable, max_cell_chars: int = 10_000):  # type: ignore[no-untyped-def]
    small = V._validate_small(raw, max_cell_chars, TODAY, list(raw.errors))
    assert small is not None
    old = V.SMALL_TABLE_ROWS
    V.SMALL_TABLE_ROWS = -1  # force the vectorised path
    try:
        full = V.validate_table(raw, max_cell_chars=max_cell_chars, today=TODAY)
    finally:
        V.SMALL_TABLE_ROWS = old
    return small, full


def _same(raw: RawTable, max_cell_chars: int = 10_000) -> None:
    small, full = _both(raw, max_cell_chars)
    pd.testing.assert_frame_equal(small.frame, full.frame, check_dtype=True, check_exact=True)
    np.testing.assert_array_equal(small.rows, full.rows)
    assert small.errors == full.errors


def _raw(spec: FileSpec, rows: list[dict[str, object]]) -> RawTable:
    cells = pd.DataFrame({c: [r.get(c) for r in rows] for c in spec.column_names}, dtype=object)
    return RawTable(file="t", spec=spec, cells=cells, rows=np.arange(2, len(rows) + 2), rows_read=len(rows))


@pytest.mark.parametrize("spec", [WORKERS, JOBS, COURSES], ids=lambda s: s.name)
def test_sample_files_in_small_chunks(spec: FileSpec) -> None:
    raw = read_raw(SAMPLES / spec.filename, spec)
    for start in range(0, min(len(raw.cells), 120), 5):
        part = RawTable(raw.file, spec, raw.cells.iloc[start : start + 5].reset_index(drop=True),
                        raw.rows[start : start + 5], [], 5)
        _same(part)


WORKER_CASES: list[list[dict[str, object]]] = [
    [{"worker_id": "W1", "birth_year": "１９７５", "home_region": "510112", "skills": "电焊；钢筋绑扎、 木工 ;; ", "mobility": "Province"}],
    [{"worker_id": " W2\u3000", "birth_year": "1980", "home_region": "成都市武侯区", "current_region": "440305",
      "education": "SENIOR_HIGH", "experience_years": "12.5", "expected_wage": "6,000", "registered_on": "2024-02-30"}],
    [{"worker_id": "110101199003077777", "birth_year": "1890", "home_region": "999999", "expected_wage": "-1"}],
    [{"worker_id": "W\x01", "birth_year": "2020", "home_region": "510112", "experience_years": "nan", "registered_on": "2024-01-05T10:00"}],
    [{"worker_id": "W" * 70, "birth_year": "abc", "home_region": "", "gender": "x", "mobility": "far"}],
    [{"worker_id": "W5", "birth_year": "1970.5", "home_region": "510112", "registered_on": "24-01-01", "experience_years": "81"}],
    [{"worker_id": "W6", "birth_year": "1970", "home_region": "510112", "skills": "x" * 50},
     {"worker_id": "W6", "birth_year": "1971", "home_region": "510112"},
     {"worker_id": "W7", "birth_year": None, "home_region": "510112"},
     {"worker_id": None, "birth_year": "1960", "home_region": "510112"}],
    [{"worker_id": "W8", "birth_year": "1965", "home_region": "510112", "certificates": "焊工证；电工证", "registered_on": "1899-12-31"}],
]


@pytest.mark.parametrize("rows", WORKER_CASES)
def test_worker_edge_cases(rows: list[dict[str, object]]) -> None:
    _same(_raw(WORKERS, rows))
    _same(_raw(WORKERS, rows), max_cell_chars=20)  # too-long cells


def test_job_order_rules_and_defaults() -> None:
    rows = [
        {"job_id": "J1", "title": "电焊工", "region": "510112", "wage_min": "8000", "wage_max": "6000", "age_min": "50",
         "age_max": "40", "posted_on": "2025-01-02", "closes_on": "2025-01-01", "housing": "是", "openings": "0"},
        {"job_id": "J2", "title": " 普工 ", "region": "440305", "housing": "maybe", "social_insurance": "T",
         "employment_type": "Full_Time", "posted_on": "2025-01-02", "education_min": "junior_high"},
    ]
    _same(_raw(JOBS, rows))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "worker_id": st.one_of(st.none(), st.sampled_from(["W1", "W2", " W1", "１２３"]), st.text(max_size=8)),
                "birth_year": st.one_of(st.none(), st.integers(1850, 2150).map(str), st.text(max_size=6)),
                "education": st.one_of(st.none(), st.sampled_from(["primary", "Bachelor_Plus", "x", " "])),
                "home_region": st.one_of(st.none(), st.sampled_from(["510112", "成都市武侯区", "440301", "000000", "武侯"])),
                "current_region": st.one_of(st.none(), st.sampled_from(["510112", "bad"])),
                "skills": st.one_of(st.none(), st.text(alphabet="电焊;；、， a", max_size=10)),
                "experience_years": st.one_of(st.none(), st.floats(allow_nan=True).map(str), st.text(max_size=5)),
                "expected_wage": st.one_of(st.none(), st.integers(-10, 200_000).map(str), st.sampled_from(["1,000", "1e3", "inf"])),
                "mobility": st.one_of(st.none(), st.sampled_from(["local", "ANYWHERE", "province ", "no"])),
                "registered_on": st.one_of(st.none(), st.dates().map(str), st.sampled_from(["2024-13-01", "2024-01-01 12:00", "x"])),
            }
        ),
        min_size=1,
        max_size=4,
    )
)
def test_random_workers(rows: list[dict[str, object]]) -> None:
    _same(_raw(WORKERS, rows))


def test_profiles_take_the_small_path(monkeypatch: pytest.MonkeyPatch) -> None:
    called = []
    real = V._validate_small
    monkeypatch.setattr(V, "_validate_small", lambda *a: called.append(1) or real(*a))
    table = V.validate_table(_raw(WORKERS, WORKER_CASES[0]))
    assert called and len(table.frame) == 1 and not table.errors
