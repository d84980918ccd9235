"""Every CSV the project writes neutralises spreadsheet formula injection (=, +, -, @, tab, CR at the start)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from recommender.cli import main
from recommender.cli.recommend import safe_cell

FORMULAS = ['=HYPERLINK("http://evil.example","点我")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1", "=1+1"]


def _dangerous(cell: str) -> bool:
    return bool(cell) and cell[0] in "=+-@\t\r" and not _number(cell)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@given(st.text(max_size=40) | st.sampled_from(FORMULAS))
def test_safe_cell_never_leaves_a_formula(text: str) -> None:
    out = safe_cell(text)
    assert not _dangerous(out)
    assert out == text or out == "'" + text  # nothing else changes


def test_numbers_stay_numbers() -> None:
    assert safe_cell("-12") == "-12" and safe_cell("+3.5") == "+3.5" and safe_cell(None) == ""


def test_normalise_titles_csv_neutralises_formulas(tmp_path: Path) -> None:
    titles = tmp_path / "titles.csv"
    with open(titles, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["title"])
        w.writerows([[t] for t in [*FORMULAS, "电焊工（二保焊）"]])
    out = tmp_path / "out.csv"
    assert main(["normalise", "--titles", str(titles), "--out", str(out)]) == 0
    rows = list(csv.reader(open(out, encoding="utf-8", newline="")))
    assert len(rows) == len(FORMULAS) + 2
    assert not any(_dangerous(cell) for row in rows for cell in row), rows


@pytest.mark.slow
def test_batch_recommendations_csv_neutralises_formulas(real_settings, tmp_path: Path) -> None:
    """`recommender recommend` over a store holding a worker and a job whose id and title are formulas."""
    from recommender.ingest import ingest
    from recommender.store import Store

    folder = tmp_path / "evil"
    folder.mkdir()
    (folder / "workers.csv").write_text(
        'worker_id,birth_year,home_region,skills\n"=HYPERLINK(""http://x"",""y"")",1980,510112,电焊\n@W2,1975,440305,开叉车\n', encoding="utf-8")
    (folder / "jobs.csv").write_text(
        'job_id,title,region,skills,posted_on\n=J1,"=HYPERLINK(""http://x"",""电焊工"")",510112,电焊,2024-03-01\n', encoding="utf-8")
    store = Store(real_settings.db)
    assert ingest(folder, store).rejected == 0
    store.dispose()
    ids = tmp_path / "ids.csv"
    ids.write_text('worker_id\n"=HYPERLINK(""http://x"",""y"")"\n@W2\n', encoding="utf-8")
    out = tmp_path / "recs.csv"
    code = main(["recommend", "--workers", str(ids), "--out", str(out), "--db", real_settings.db, "--models", str(real_settings.models), "--k", "50"])
    assert code == 0
    rows = list(csv.reader(open(out, encoding="utf-8", newline="")))
    assert len(rows) > 1 and {r[0] for r in rows[1:]} == {"'=HYPERLINK(\"http://x\",\"y\")", "'@W2"}
    assert not any(_dangerous(cell) for row in rows for cell in row), [r for r in rows if any(_dangerous(c) for c in r)][:3]
