"""The import path: every contract rule, reported per row, nothing valid lost."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from recommender.ingest import Source, ingest
from recommender.contract import spec_for
from recommender.store import Store

TODAY = dt.date(2025, 6, 1)

WORKERS = """worker_id,birth_year,gender,education,home_region,current_region,skills,certificates,experience_years,expected_wage,mobility,registered_on
W1,1980,M,junior_high,510112,440305,电焊;钢筋绑扎,焊工证,10,6000,anywhere,2024-03-18
W2,1970,F,primary,411625,,保洁、做饭,,,3500,local,2024-04-01
W3,1995,,senior_high,广东省深圳市,,开叉车；仓库管理,叉车证,3,5000,province,
"""

JOBS = """job_id,employer_id,title,skills,certificates,region,wage_min,wage_max,age_min,age_max,education_min,housing,social_insurance,employment_type,openings,posted_on,closes_on
J1,E1,电焊工（二保焊）,电焊,焊工证,440305,6000,8000,18,50,,是,1,full_time,3,2024-03-01,2024-09-01
J2,E2,保洁员,保洁,,411625,3000,3500,,60,,no,0,part_time,,2024-03-05,
"""

EMPLOYERS = """employer_id,name,industry,wage_arrears_listed
E1,某机械厂,制造业,0
E2,某物业公司,居民服务,false
"""

COURSES = """course_id,title,skills,certificate,region,mode,start_on,duration_days,fee,subsidy,age_min,age_max,seats
C1,焊工（初级）培训班,电焊;氩弧焊,焊工证,510112,in_person,2024-05-01,30,2000,1800,16,55,30
"""

PLACEMENTS = """worker_id,job_id,outcome,date
W1,J1,hired,2024-03-20
W2,J2,referred,2024-04-03
"""

ENROLMENTS = """worker_id,course_id,outcome,date
W1,C1,certified,2024-06-01
"""


def write_world(folder: Path, **override: str) -> Path:
    files = {
        "workers": WORKERS,
        "jobs": JOBS,
        "employers": EMPLOYERS,
        "courses": COURSES,
        "placements": PLACEMENTS,
        "enrolments": ENROLMENTS,
    }
    files.update(override)
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        if text is not None:
            (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'store.db'}")
    yield s
    s.dispose()


def errors_by_row(report, kind):
    return {(e.row, e.column): e.reason for e in report.file(kind).errors}


def test_clean_world_imports_everything(tmp_path, store):
    report = ingest(write_world(tmp_path / "w"), store, today=TODAY)
    assert report.rejected == 0, report.format_text()
    assert store.counts()["workers"] == 3
    assert report.file("placements").inserted == 2
    workers = store.read_table("workers").set_index("worker_id")
    # current_region defaults to home_region; names resolve to codes; list separators unified
    assert workers.loc["W2", "current_region"] == "411625"
    assert workers.loc["W3", "home_region"] == "440300"
    assert workers.loc["W2", "skills"] == "保洁;做饭"
    assert workers.loc["W3", "skills"] == "开叉车;仓库管理"
    assert workers.loc["W3", "mobility"] == "province"
    jobs = store.read_table("jobs").set_index("job_id")
    assert bool(jobs.loc["J1", "housing"]) is True
    assert jobs.loc["J2", "openings"] == 1  # default
    assert pd.isna(jobs.loc["J2", "closes_on"])


def test_reimport_changes_nothing(tmp_path, store):
    folder = write_world(tmp_path / "w")
    first = ingest(folder, store, today=TODAY)
    before = {name: store.read_table(name) for name in ("workers", "jobs", "placements")}
    second = ingest(folder, store, today=TODAY)
    assert second.inserted == 0 and second.updated == 0
    assert second.unchanged == first.taken
    for name, frame in before.items():
        pd.testing.assert_frame_equal(frame, store.read_table(name))


def test_later_import_updates_by_id(tmp_path, store):
    ingest(write_world(tmp_path / "a"), store, today=TODAY)
    changed = WORKERS.replace("W2,1970,F,primary,411625,,保洁、做饭,,,3500", "W2,1970,F,primary,411625,,保洁、做饭,,,3800")
    report = ingest(write_world(tmp_path / "b", workers=changed), store, today=TODAY)
    assert report.file("workers").updated == 1
    assert report.file("workers").unchanged == 2
    assert store.get("workers", "W2")["expected_wage"] == 3800


BROKEN_WORKERS = (
    WORKERS
    + "W4,1985,M,junior_high,999999,,,,,5000,anywhere,2024-01-01\n"  # unknown region code
    + "W5,1985,M,junior_high,510112,,,,,5000,anywhere,2024-13-45\n"  # bad date
    + "W1,1990,M,junior_high,510112,,,,,5000,anywhere,2024-01-01\n"  # duplicate id
    + "W6,,M,junior_high,510112,,,,,5000,anywhere,2024-01-01\n"  # missing required birth_year
    + "W7,1985,X,junior_high,510112,,,,,5000,anywhere,2024-01-01\n"  # unknown enum
    + "W8,1985,M,junior_high,510112,,,,,-300,anywhere,2024-01-01\n"  # negative wage
    + "W9,1985,M,college,510112,,,,,5000,everywhere,2024-01-01\n"  # unknown mobility
    + "W10,１９８８,M,college,510112,,,,,５０００,local,2024-01-01\n"  # full-width digits: valid
    + "W11,1985,M,college,510112,,,,,5000\n"  # too few fields
    + "110101199003078515,1990,M,college,510112,,,,,5000,local,2024-01-01\n"  # a national ID as id
)


def test_broken_rows_are_reported_and_valid_rows_land(tmp_path, store):
    placements = PLACEMENTS + "W404,J1,applied,2024-03-10\nW1,J404,applied,2024-03-10\nW2,J1,promoted,2024-03-10\n"
    report = ingest(write_world(tmp_path / "w", workers=BROKEN_WORKERS, placements=placements), store, today=TODAY)
    errs = errors_by_row(report, "workers")
    assert "999999" in errs[(5, "home_region")]
    assert "date" in errs[(6, "registered_on")]
    assert "duplicate" in errs[(7, "worker_id")] and "row 2" in errs[(7, "worker_id")]
    assert "required" in errs[(8, "birth_year")]
    assert "F, M" in errs[(9, "gender")]
    assert "negative" in errs[(10, "expected_wage")]
    assert "anywhere" in errs[(11, "mobility")]
    assert "fields" in errs[(13, None)]
    assert "national ID" in errs[(14, "worker_id")]
    w = report.file("workers")
    assert w.rows_read == 13
    assert w.taken == 4 and w.rejected == 9
    ids = set(store.read_table("workers")["worker_id"])
    assert ids == {"W1", "W2", "W3", "W10"}
    assert store.get("workers", "W10")["expected_wage"] == 5000
    assert store.get("workers", "W1")["birth_year"] == 1980  # the first W1 wins
    p = errors_by_row(report, "placements")
    assert "unknown worker_id W404" in p[(4, "worker_id")]
    assert "unknown job_id J404" in p[(5, "job_id")]
    assert "hired" in p[(6, "outcome")]
    assert report.file("placements").taken == 2


def test_long_cell_and_bad_encoding(tmp_path, store):
    big = "焊" * 10_000_000
    workers = WORKERS + f"W4,1985,M,junior_high,510112,,{big},,,5000,anywhere,2024-01-01\n"
    folder = write_world(tmp_path / "w", workers=workers)
    gbk_line = "W5,1985,M,junior_high,510112,,电焊,,,5000,anywhere,2024-01-01\n".encode("gbk")
    with open(folder / "workers.csv", "ab") as fh:
        fh.write(gbk_line)
    report = ingest(folder, store, today=TODAY)
    errs = errors_by_row(report, "workers")
    assert "too long" in errs[(5, "skills")]
    assert "UTF-8" in errs[(6, "skills")]
    assert report.file("workers").taken == 3


def test_whole_file_in_gbk_is_rejected_with_reason(tmp_path, store):
    folder = write_world(tmp_path / "w")
    (folder / "workers.csv").write_bytes(WORKERS.encode("gbk"))
    report = ingest([folder / "workers.csv"], store, today=TODAY)
    w = report.file("workers")
    assert w.taken == 0
    assert any("GBK" in e.reason for e in w.errors)


def test_bom_whitespace_extra_columns_and_chinese_booleans(tmp_path, store):
    text = "\ufeffemployer_id , Name,industry,wage_arrears_listed,notes\n E9 ,  某厂 ,制造业, 是 ,anything\n"
    folder = tmp_path / "w"
    folder.mkdir()
    (folder / "employers.csv").write_text(text, encoding="utf-8")
    report = ingest(folder, store, today=TODAY)
    assert report.rejected == 0, report.format_text()
    e9 = store.get("employers", "E9")
    assert e9["name"] == "某厂" and bool(e9["wage_arrears_listed"]) is True


def test_missing_required_column_rejects_file_with_reason(tmp_path, store):
    folder = tmp_path / "w"
    folder.mkdir()
    (folder / "jobs.csv").write_text("job_id,title,posted_on\nJ1,保洁,2024-01-01\n", encoding="utf-8")
    report = ingest(folder, store, today=TODAY)
    j = report.file("jobs")
    assert j.taken == 0 and j.rejected == 1
    assert "region" in j.errors[0].reason


def test_unbalanced_quote_loses_only_its_row(tmp_path, store):
    text = EMPLOYERS + 'E3,"broken name,制造业,0\nE4,好厂,制造业,0\nE5,另一厂,建筑业,1\n'
    folder = tmp_path / "w"
    folder.mkdir()
    (folder / "employers.csv").write_text(text, encoding="utf-8")
    report = ingest(folder, store, today=TODAY)
    ids = set(store.read_table("employers")["employer_id"])
    assert {"E1", "E2", "E4", "E5"} <= ids and "E3" not in ids
    assert report.file("employers").rejected == 1


def test_cross_field_rules(tmp_path, store):
    jobs = JOBS + "J3,E1,普工,,,440305,8000,6000,,,,,,,1,2024-03-01,2024-01-01\n"
    report = ingest(write_world(tmp_path / "w", jobs=jobs), store, today=TODAY)
    reasons = [e.reason for e in report.file("jobs").errors if e.row == 4]
    assert any("wage_min is greater than wage_max" in r for r in reasons)
    assert any("posted_on is greater than closes_on" in r for r in reasons)


def test_parquet_files_import_like_csv(tmp_path, store):
    folder = write_world(tmp_path / "w")
    pq_folder = tmp_path / "pq"
    pq_folder.mkdir()
    for name in ("employers", "workers", "jobs"):
        frame = pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)
        if name == "workers":
            frame["birth_year"] = frame["birth_year"].astype(int)
        frame.to_parquet(pq_folder / f"{name}.parquet")
    report = ingest(pq_folder, store, today=TODAY)
    assert report.rejected == 0, report.format_text()
    assert store.get("workers", "W1")["birth_year"] == 1980


def test_uploaded_bytes_use_the_same_path(store):
    src = Source("employers.csv", spec_for("employers.csv"), data=EMPLOYERS.encode())
    report = ingest([src], store, today=TODAY)
    assert report.file("employers").inserted == 2
