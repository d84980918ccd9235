"""The synthetic world: contract files, determinism, calibration, behaviour.

Small worlds (300-2,000 workers) keep the whole module to a few seconds.
Files are checked as a user would read them (pandas, strings), against the
contract's column lists written out here rather than imported, so a drift
in the writer cannot hide behind the same constant.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recommender.cli import main
from recommender.regions import RegionIndex
from recommender.world import build_world, calibration_table, generate_world
from recommender.world.sampling import popcount

START = dt.date(2024, 1, 1)
END = dt.date(2025, 6, 30)  # 18 months

CONTRACT = {
    "workers": "worker_id birth_year gender education home_region current_region skills certificates "
    "experience_years expected_wage mobility registered_on",
    "jobs": "job_id employer_id title skills certificates region wage_min wage_max age_min age_max "
    "education_min housing social_insurance employment_type openings posted_on closes_on",
    "employers": "employer_id name industry wage_arrears_listed",
    "courses": "course_id title skills certificate region mode start_on duration_days fee subsidy age_min "
    "age_max seats",
    "placements": "worker_id job_id outcome date",
    "enrolments": "worker_id course_id outcome date",
}
REQUIRED = {
    "workers": ["worker_id", "birth_year", "home_region"],
    "jobs": ["job_id", "title", "region", "posted_on"],
    "employers": ["employer_id"],
    "courses": ["course_id", "title", "region"],
    "placements": ["worker_id", "job_id", "outcome", "date"],
    "enrolments": ["worker_id", "course_id", "outcome", "date"],
}
ENUMS = {
    ("workers", "gender"): {"F", "M"},
    ("workers", "education"): {
        "none", "primary", "junior_high", "senior_high", "secondary_vocational", "college", "bachelor_plus",
    },
    ("workers", "mobility"): {"local", "province", "anywhere"},
    ("jobs", "employment_type"): {"full_time", "part_time", "seasonal", "platform", "public_welfare"},
    ("jobs", "housing"): {"true", "false"},
    ("jobs", "social_insurance"): {"true", "false"},
    ("employers", "wage_arrears_listed"): {"true", "false"},
    ("courses", "mode"): {"in_person", "online", "blended"},
    ("placements", "outcome"): {"referred", "applied", "hired", "retained"},
    ("enrolments", "outcome"): {"referred", "enrolled", "completed", "certified"},
}


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False).replace({"": None})


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("world2k_s0")
    generate_world(folder, workers=2000, seed=0, start=START, months=18)
    return folder


@pytest.fixture(scope="module")
def frames(world: Path) -> dict[str, pd.DataFrame]:
    return {name: _read(world, name) for name in CONTRACT}


# --------------------------------------------------------------------------- contract


def test_files_have_the_contract_columns_in_order(world: Path) -> None:
    for name, columns in CONTRACT.items():
        header = (world / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0]
        assert header.split(",") == columns.split(), name


def test_row_counts_follow_the_world_size(frames: dict[str, pd.DataFrame]) -> None:
    assert len(frames["workers"]) == 2000
    assert len(frames["jobs"]) == 400  # workers / 5
    assert len(frames["courses"]) == 80  # workers / 25
    assert 50 <= len(frames["employers"]) <= 90  # jobs / 6
    per_worker = len(frames["placements"]) / 2000
    assert 4 <= per_worker <= 15


def test_required_fields_are_filled_and_enums_valid(frames: dict[str, pd.DataFrame]) -> None:
    for name, columns in REQUIRED.items():
        for column in columns:
            assert frames[name][column].notna().all(), (name, column)
    for (name, column), allowed in ENUMS.items():
        values = set(frames[name][column].dropna())
        assert values <= allowed, (name, column, values - allowed)


def test_ids_are_unique_strings(frames: dict[str, pd.DataFrame]) -> None:
    for name, column, pattern in (
        ("workers", "worker_id", r"W\d{7}"),
        ("jobs", "job_id", r"J\d{6}"),
        ("employers", "employer_id", r"E\d{5}"),
        ("courses", "course_id", r"C\d{5}"),
    ):
        ids = frames[name][column]
        assert ids.is_unique, name
        assert ids.str.fullmatch(pattern).all(), name
    assert not frames["placements"].duplicated(["worker_id", "job_id"]).any()
    assert not frames["enrolments"].duplicated(["worker_id", "course_id"]).any()


def test_references_point_to_existing_records(frames: dict[str, pd.DataFrame]) -> None:
    workers = set(frames["workers"]["worker_id"])
    assert set(frames["placements"]["worker_id"]) <= workers
    assert set(frames["enrolments"]["worker_id"]) <= workers
    assert set(frames["placements"]["job_id"]) <= set(frames["jobs"]["job_id"])
    assert set(frames["enrolments"]["course_id"]) <= set(frames["courses"]["course_id"])
    assert set(frames["jobs"]["employer_id"]) <= set(frames["employers"]["employer_id"])


def test_outcome_dates_lie_in_the_job_window_and_after_registration(frames: dict[str, pd.DataFrame]) -> None:
    p = frames["placements"].merge(frames["jobs"][["job_id", "posted_on", "closes_on"]], on="job_id")
    p = p.merge(frames["workers"][["worker_id", "registered_on"]], on="worker_id")
    date = pd.to_datetime(p["date"])
    assert (date >= pd.to_datetime(p["posted_on"])).all()
    assert (date <= pd.to_datetime(p["closes_on"])).all()
    assert (date >= pd.to_datetime(p["registered_on"])).all()
    assert date.min() >= pd.Timestamp(START) and date.max() <= pd.Timestamp(END)
    e = frames["enrolments"].merge(frames["courses"][["course_id", "start_on"]], on="course_id")
    edate = pd.to_datetime(e["date"])
    assert edate.min() >= pd.Timestamp(START) and edate.max() <= pd.Timestamp(END)
    referred = e["outcome"] == "referred"
    assert (edate[referred] < pd.to_datetime(e.loc[referred, "start_on"])).all()
    assert (edate[~referred] >= pd.to_datetime(e.loc[~referred, "start_on"])).all()
    posted = pd.to_datetime(frames["jobs"]["posted_on"])
    assert posted.min() == pd.Timestamp(START) and posted.max() <= pd.Timestamp(END)


def test_regions_are_real_and_some_written_as_names(frames: dict[str, pd.DataFrame]) -> None:
    index = RegionIndex.default()
    cells = pd.concat(
        [frames["workers"]["home_region"], frames["workers"]["current_region"].dropna(),
         frames["jobs"]["region"], frames["courses"]["region"]]
    )
    resolved = index.resolve_many(cells.unique().tolist())
    bad = [k for k, v in resolved.items() if not hasattr(v, "code")]
    assert not bad
    names = ~cells.str.fullmatch(r"\d{6}")
    assert 0.005 < names.mean() < 0.05
    homes = [resolved[c] for c in frames["workers"]["home_region"]]
    assert all(r.level == "county" for r in homes)
    assert {r.province_code[:2] for r in homes} >= {"41", "51", "34"}  # Henan, Sichuan, Anhui


def test_lists_use_mostly_semicolons_and_no_national_ids(world: Path, frames: dict[str, pd.DataFrame]) -> None:
    skills = frames["workers"]["skills"].dropna()
    multi = skills[skills.str.len() > 6]
    semi = multi.str.contains(";").mean()
    other = multi.str.contains("[、，]").mean()
    assert semi > 0.6 and other > 0.05
    id_number = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
    for path in world.iterdir():
        assert not id_number.search(path.read_text(encoding="utf-8")), path.name


def test_text_is_noisy_like_real_postings(frames: dict[str, pd.DataFrame]) -> None:
    titles = frames["jobs"]["title"]
    assert titles.str.contains("包吃住|急招|日结|岁").mean() > 0.1
    assert titles.str.fullmatch(r"[A-Za-z][A-Za-z \-]+").any()  # an English title
    skills = " ".join(frames["workers"]["skills"].dropna())
    assert re.search(r"熟练|经验|会", skills)
    assert re.search(r"[A-Za-z]{4,}", skills)


# --------------------------------------------------------------------------- determinism


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate_world(a, workers=400, seed=7)
    generate_world(b, workers=400, seed=7)
    generate_world(c, workers=400, seed=8)
    assert _digest(a) == _digest(b)
    da, dc = _digest(a), _digest(c)
    assert all(da[k] != dc[k] for k in da)
    pa, pb = tmp_path / "pa", tmp_path / "pb"
    generate_world(pa, workers=300, seed=7, fmt="parquet")
    generate_world(pb, workers=300, seed=7, fmt="parquet")
    assert _digest(pa) == _digest(pb)


@pytest.mark.parametrize("workers", [1, 7])
def test_tiny_worlds_still_follow_the_contract(tmp_path: Path, workers: int) -> None:
    counts = generate_world(tmp_path, workers=workers, seed=1, start=dt.date(2024, 12, 20), months=2)
    assert counts["workers.csv"] == workers and counts["jobs.csv"] == 300
    table = calibration_table(tmp_path)  # measurable, even if far from the targets
    assert len(table) == 38


# --------------------------------------------------------------------------- calibration


@pytest.mark.parametrize("seed", [0, 1])
def test_calibration_within_tolerance(tmp_path: Path, world: Path, seed: int) -> None:
    folder = world
    if seed:
        folder = tmp_path / "w"
        generate_world(folder, workers=2000, seed=seed)
    table = calibration_table(folder)
    assert list(table.columns) == ["group", "marginal", "target", "actual", "diff", "ok"]
    assert len(table) >= 30
    assert table["ok"].all(), table.loc[~table["ok"]].to_string()


def test_calibration_reads_parquet_the_same_as_csv(tmp_path: Path) -> None:
    csv, parquet = tmp_path / "csv", tmp_path / "parquet"
    generate_world(csv, workers=300, seed=3, fmt="csv")
    generate_world(parquet, workers=300, seed=3, fmt="parquet")
    assert sorted(p.name for p in parquet.iterdir())[0] == "courses.parquet"
    a, b = calibration_table(csv), calibration_table(parquet)
    pd.testing.assert_frame_equal(a, b)


# --------------------------------------------------------------------------- behaviour


@pytest.fixture(scope="module")
def hidden():  # type: ignore[no-untyped-def]
    return build_world(workers=5000, seed=0)


def test_hires_follow_skill_fit(hidden) -> None:  # type: ignore[no-untyped-def]
    pop, jobs, out = hidden.population, hidden.market.jobs, hidden.outcomes
    w, j = out.p_worker, out.p_job
    fit = popcount(pop.skills[w] & jobs.skills[j]) / np.maximum(popcount(jobs.skills[j]), 1)
    hired = out.p_outcome >= 2
    assert hired[fit >= 0.5].mean() > 2 * hired[fit == 0].mean()


def test_older_workers_are_hired_closer_to_home(frames: dict[str, pd.DataFrame]) -> None:
    index = RegionIndex.default()
    held = frames["placements"][frames["placements"]["outcome"].isin(["hired", "retained"])]
    held = held.merge(frames["workers"][["worker_id", "birth_year", "home_region"]], on="worker_id")
    held = held.merge(frames["jobs"][["job_id", "region"]], on="job_id")
    codes = index.resolve_many(pd.concat([held["home_region"], held["region"]]).unique().tolist())
    local = np.array([codes[h].code == codes[r].code for h, r in zip(held["home_region"], held["region"])])
    old = (2024 - held["birth_year"].astype(int) > 50).to_numpy()
    assert local[old].mean() > local[~old].mean() + 0.1


def test_age_limits_bind_older_workers(hidden) -> None:  # type: ignore[no-untyped-def]
    pop, jobs, out = hidden.population, hidden.market.jobs, hidden.outcomes
    age, amax = pop.age[out.p_worker], jobs.age_max[out.p_job]
    too_old = (amax > 0) & (age > amax)
    hired = out.p_outcome >= 2
    assert too_old[pop.age[out.p_worker] >= 50].mean() > too_old[pop.age[out.p_worker] < 40].mean()
    assert hired[too_old].mean() < 0.5 * hired[~too_old].mean()


def test_certificates_won_on_courses_lead_to_jobs_that_need_them(hidden) -> None:  # type: ignore[no-untyped-def]
    pop, jobs, out = hidden.population, hidden.market.jobs, hidden.outcomes
    hired = out.p_outcome >= 2
    w, j = out.p_worker[hired], out.p_job[hired]
    won = out.gained_certs[w] & ~pop.certs[w] & jobs.certs[j]
    assert (won != 0).sum() >= 1
    assert (out.e_outcome == 3).sum() > 0


def test_wage_arrears_employers_cold_starts_and_most_workers_with_outcomes(
    frames: dict[str, pd.DataFrame],
) -> None:
    listed = frames["employers"]["wage_arrears_listed"] == "true"
    assert 1 <= listed.sum() <= 0.1 * len(listed)
    registered = pd.to_datetime(frames["workers"]["registered_on"])
    assert (registered > pd.Timestamp(END) - pd.Timedelta(days=60)).mean() > 0.03
    with_outcomes = frames["workers"]["worker_id"].isin(frames["placements"]["worker_id"])
    assert with_outcomes.mean() > 0.85
    hired = frames["placements"]["outcome"].isin(["hired", "retained"])
    assert 0.4 < frames["placements"].loc[hired, "worker_id"].nunique() / len(frames["workers"]) < 0.95


# --------------------------------------------------------------------------- CLI


def test_cli_generates_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    code = main(["generate", "--out", str(out), "--workers", "300", "--seed", "2", "--format", "parquet"])
    assert code == 0
    assert (out / "placements.parquet").exists()
    code = main(["generate", "--check", str(out)])
    text = capsys.readouterr().out
    assert code in (0, 1)
    assert "marginals within tolerance" in text and "manufacturing" in text
    assert main(["generate"]) == 2
