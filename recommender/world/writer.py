"""Write a generated world as the six contract files (CSV or Parquet).

Columns, order and encodings follow /work/shared/spec/data-contract.md
exactly; tables are built with pyarrow from numpy arrays (ids and dates are
never formatted row by row) and written with pyarrow, which is both fast and
byte-for-byte reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from recommender.world.behaviour import COURSE_OUTCOMES, JOB_OUTCOMES, Outcomes
from recommender.world.geography import Geography
from recommender.world.market import COURSE_MODES, EMPLOYMENT_TYPES, Market
from recommender.world.population import EDUCATION_LEVELS, MOBILITY_LEVELS, Population
from recommender.world.sampling import rng_for
from recommender.world.surface import Writer
from recommender.world.vocabulary import VOCABULARY

COLUMNS: dict[str, tuple[str, ...]] = {
    "workers": (
        "worker_id", "birth_year", "gender", "education", "home_region", "current_region", "skills",
        "certificates", "experience_years", "expected_wage", "mobility", "registered_on",
    ),
    "jobs": (
        "job_id", "employer_id", "title", "skills", "certificates", "region", "wage_min", "wage_max",
        "age_min", "age_max", "education_min", "housing", "social_insurance", "employment_type",
        "openings", "posted_on", "closes_on",
    ),
    "employers": ("employer_id", "name", "industry", "wage_arrears_listed"),
    "courses": (
        "course_id", "title", "skills", "certificate", "region", "mode", "start_on", "duration_days",
        "fee", "subsidy", "age_min", "age_max", "seats",
    ),
    "placements": ("worker_id", "job_id", "outcome", "date"),
    "enrolments": ("worker_id", "course_id", "outcome", "date"),
}
FILES: tuple[str, ...] = tuple(COLUMNS)


def make_ids(prefix: str, n: int, width: int) -> pa.Array:
    """'W0000001'... as an Arrow string array (numbering starts at 1)."""
    width = max(width, len(str(n)))
    return pa.array([f"{prefix}{i:0{width}d}" for i in range(1, n + 1)], type=pa.string())


def _int(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(values).astype(np.int64), mask=missing)


def _date(days: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(days).astype(np.int32), type=pa.int32(), mask=missing).cast(pa.date32())


def _enum(labels: tuple[str, ...], codes: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    dictionary = pa.array(list(labels), type=pa.string())
    idx = pa.array(np.asarray(codes).astype(np.int32), mask=missing)
    return dictionary.take(idx)


def _bool(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(values).astype(bool), mask=missing)


@dataclass
class Tables:
    """The six contract tables of a world, as Arrow tables."""

    workers: pa.Table
    jobs: pa.Table
    employers: pa.Table
    courses: pa.Table
    placements: pa.Table
    enrolments: pa.Table


def area_names(geo: Geography, pop: Population) -> list[str]:
    """Short place names of the labour markets ('深圳市', '固始县'), for employer names."""
    out = []
    for kind, code, ptr in zip(pop.areas.kind, pop.areas.code, pop.areas.ptr[:-1], strict=True):
        if kind == 1:
            out.append(geo.index.get(f"{code:06d}").name)
        else:
            out.append(geo.regions[int(pop.areas.place_idx[ptr])].name)
    return out


def build_tables(geo: Geography, pop: Population, market: Market, outcomes: Outcomes, *, seed: int) -> Tables:
    """The six contract tables of a world."""
    rng = rng_for(seed, 7)
    text = Writer(rng_for(seed, 7, 1))
    codes = geo.places.code
    jobs, employers, courses = market.jobs, market.employers, market.courses

    used = np.concatenate([pop.home, pop.current, jobs.place, courses.place])
    names = geo.checked_name_forms(used)

    worker_ids = make_ids("W", pop.n, 7)
    job_ids = make_ids("J", jobs.n, 6)
    employer_ids = make_ids("E", employers.n, 5)
    course_ids = make_ids("C", courses.n, 5)

    # ---- workers
    n = pop.n
    u = rng.random((n, 8))
    anywhere = pop.mobility == 2
    current_missing = (~pop.outbound) & (u[:, 0] < 0.3)
    workers = pa.table(
        {
            "worker_id": worker_ids,
            "birth_year": _int(pop.birth_year),
            "gender": _enum(("F", "M"), pop.male.astype(np.int8), u[:, 1] < 0.01),
            "education": _enum(EDUCATION_LEVELS, pop.education, u[:, 2] < 0.02),
            "home_region": pa.array(text.regions(pop.home, codes, names), type=pa.string()),
            "current_region": pa.array(
                text.regions(pop.current, codes, names), type=pa.string(), mask=current_missing
            ),
            "skills": pa.array(text.skill_lists(pop.skill_ids.astype(np.int64), empty_share=0.07), type=pa.string()),
            "certificates": pa.array(text.cert_lists(pop.certs), type=pa.string()),
            "experience_years": _int(pop.experience, u[:, 3] < 0.10),
            "expected_wage": _int(pop.expected_wage, u[:, 4] < 0.15),
            "mobility": _enum(MOBILITY_LEVELS, pop.mobility, anywhere & (u[:, 5] < 0.1)),
            "registered_on": _date(pop.registered),
        }
    )

    # ---- jobs
    m = jobs.n
    u = rng.random((m, 4))
    titles = text.job_titles(
        jobs.type, housing=jobs.housing, insurance=jobs.insurance, age_min=jobs.age_min,
        age_max=jobs.age_max, etype=jobs.etype, wage=np.where(jobs.wage_posted, jobs.wage, 0),
    )
    no_wage = ~jobs.wage_posted
    jobs_table = pa.table(
        {
            "job_id": job_ids,
            "employer_id": employer_ids.take(pa.array(jobs.employer.astype(np.int64))),
            "title": pa.array(titles, type=pa.string()),
            "skills": pa.array(text.skill_lists(jobs.skill_ids.astype(np.int64), empty_share=0.12, noise_share=0.08), type=pa.string()),
            "certificates": pa.array(text.cert_lists(jobs.certs), type=pa.string()),
            "region": pa.array(text.regions(jobs.place, codes, names), type=pa.string()),
            "wage_min": _int(jobs.wage_min, no_wage),
            "wage_max": _int(jobs.wage_max, no_wage),
            "age_min": _int(jobs.age_min, jobs.age_min == 0),
            "age_max": _int(jobs.age_max, jobs.age_max == 0),
            "education_min": _enum(EDUCATION_LEVELS, np.maximum(jobs.education_min, 0), jobs.education_min < 0),
            "housing": _bool(jobs.housing, u[:, 0] < 0.05),
            "social_insurance": _bool(jobs.insurance, u[:, 1] < 0.05),
            "employment_type": _enum(EMPLOYMENT_TYPES, jobs.etype),
            "openings": _int(jobs.openings),
            "posted_on": _date(jobs.posted),
            "closes_on": _date(jobs.closes),
        }
    )

    # ---- employers
    labels = tuple(ind.label for ind in VOCABULARY.industries)
    employers_table = pa.table(
        {
            "employer_id": employer_ids,
            "name": pa.array(employers.name, type=pa.string()),
            "industry": _enum(labels, employers.industry),
            "wage_arrears_listed": _bool(employers.arrears),
        }
    )

    # ---- courses
    place_short = [geo.regions[int(p)].name for p in courses.place]
    free = (courses.fee > 0) & (courses.subsidy >= courses.fee)
    courses_table = pa.table(
        {
            "course_id": course_ids,
            "title": pa.array(text.course_titles(courses.family, place_short, free), type=pa.string()),
            "skills": pa.array(text.skill_lists(courses.skill_ids.astype(np.int64), noise_share=0.0), type=pa.string()),
            "certificate": pa.array(text.cert_names(courses.cert.astype(np.int64)), type=pa.string()),
            "region": pa.array(text.regions(courses.place, codes, names), type=pa.string()),
            "mode": _enum(COURSE_MODES, courses.mode),
            "start_on": _date(courses.start),
            "duration_days": _int(courses.days),
            "fee": _int(courses.fee),
            "subsidy": _int(courses.subsidy),
            "age_min": _int(courses.age_min, courses.age_min == 0),
            "age_max": _int(courses.age_max, courses.age_max == 0),
            "seats": _int(courses.seats),
        }
    )

    # ---- outcomes
    placements = pa.table(
        {
            "worker_id": worker_ids.take(pa.array(outcomes.p_worker.astype(np.int64))),
            "job_id": job_ids.take(pa.array(outcomes.p_job.astype(np.int64))),
            "outcome": _enum(JOB_OUTCOMES, outcomes.p_outcome),
            "date": _date(outcomes.p_date),
        }
    )
    enrolments = pa.table(
        {
            "worker_id": worker_ids.take(pa.array(outcomes.e_worker.astype(np.int64))),
            "course_id": course_ids.take(pa.array(outcomes.e_course.astype(np.int64))),
            "outcome": _enum(COURSE_OUTCOMES, outcomes.e_outcome),
            "date": _date(outcomes.e_date),
        }
    )
    return Tables(workers, jobs_table, employers_table, courses_table, placements, enrolments)


def _write_csv(table: pa.Table, path: Path) -> None:
    """A plain header line, then cells quoted only where a value needs it."""
    with open(path, "wb") as sink:
        sink.write((",".join(table.column_names) + "\n").encode("utf-8"))
        try:
            options = pacsv.WriteOptions(include_header=False, quoting_style="none")
            pacsv.write_csv(table, sink, write_options=options)
        except pa.ArrowInvalid:  # some value holds a comma or a quote
            sink.seek(0)
            sink.truncate()
            sink.write((",".join(table.column_names) + "\n").encode("utf-8"))
            options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
            pacsv.write_csv(table, sink, write_options=options)


def write_tables(tables: Tables, out_dir: Path, fmt: Literal["csv", "parquet"] = "csv") -> dict[str, int]:
    """Write each table as ``<name>.csv`` or ``<name>.parquet``; rows written per file."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for name in FILES:
        table: pa.Table = getattr(tables, name)
        if tuple(table.column_names) != COLUMNS[name]:
            raise RuntimeError(f"{name}: columns {table.column_names} differ from the contract")
        if fmt == "csv":
            path = out_dir / f"{name}.csv"
            _write_csv(table, path)
        elif fmt == "parquet":
            path = out_dir / f"{name}.parquet"
            pq.write_table(table, path, compression="zstd")
        else:
            raise ValueError(f"unknown format {fmt!r}: use 'csv' or 'parquet'")
        counts[f"{name}.{fmt}"] = table.num_rows
    return counts
