"""The data contract, version 1, as data.

This module is the single description of the six import files
(``docs/data-contract.md``): their columns, types, keys and references. The
importer validates against it, the store derives its tables from it, and the
API derives its record schemas from it, so the three can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

CONTRACT_VERSION = 1


class Kind(StrEnum):
    """How a cell is parsed and stored."""

    ID = "id"  # non-empty string key
    TEXT = "text"  # free text, kept as written (trimmed)
    INT = "int"
    NUMBER = "number"
    DATE = "date"  # ISO 8601
    BOOL = "bool"
    ENUM = "enum"
    LIST = "list"  # free-text items separated by ; ； 、 ，
    REGION = "region"  # 6-digit code or a resolvable place name


EDUCATION_LEVELS: tuple[str, ...] = (
    "none",
    "primary",
    "junior_high",
    "senior_high",
    "secondary_vocational",
    "college",
    "bachelor_plus",
)
MOBILITY_LEVELS: tuple[str, ...] = ("local", "province", "anywhere")
EMPLOYMENT_TYPES: tuple[str, ...] = ("full_time", "part_time", "seasonal", "platform", "public_welfare")
COURSE_MODES: tuple[str, ...] = ("in_person", "online", "blended")
GENDERS: tuple[str, ...] = ("F", "M")
JOB_OUTCOMES: tuple[str, ...] = ("referred", "applied", "hired", "retained")
COURSE_OUTCOMES: tuple[str, ...] = ("referred", "enrolled", "completed", "certified")

LIST_SEPARATORS: tuple[str, ...] = (";", "；", "、", "，")
TRUE_WORDS: frozenset[str] = frozenset({"1", "true", "yes", "是", "y", "t"})
FALSE_WORDS: frozenset[str] = frozenset({"0", "false", "no", "否", "n", "f"})


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a contract file."""

    name: str
    kind: Kind
    required: bool = False
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    default: object | None = None
    case_sensitive: bool = False
    default_from: str | None = None  # another column of the same row supplies the default
    description: str = ""


@dataclass(frozen=True, slots=True)
class FileSpec:
    """One contract file: its columns, key and references to other files."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    references: dict[str, str] = field(default_factory=dict)  # column -> referenced file
    optional_file: bool = False
    description: str = ""

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


_WAGE = dict(minimum=0, maximum=1_000_000)
_AGE = dict(minimum=14, maximum=100)

WORKERS = FileSpec(
    name="workers",
    key=("worker_id",),
    description="Registered workers (job seekers).",
    columns=(
        Column("worker_id", Kind.ID, required=True, description="unique id (never a national ID number)"),
        Column("birth_year", Kind.INT, required=True, minimum=1900, maximum=2100, description="year of birth"),
        Column("gender", Kind.ENUM, choices=GENDERS, case_sensitive=False, description="fairness audits only"),
        Column("education", Kind.ENUM, choices=EDUCATION_LEVELS),
        Column("home_region", Kind.REGION, required=True, description="county of household registration"),
        Column("current_region", Kind.REGION, default_from="home_region", description="where the worker lives now; defaults to home_region"),
        Column("skills", Kind.LIST),
        Column("certificates", Kind.LIST),
        Column("experience_years", Kind.NUMBER, minimum=0, maximum=80),
        Column("expected_wage", Kind.INT, **_WAGE),
        Column("mobility", Kind.ENUM, choices=MOBILITY_LEVELS, default="anywhere"),
        Column("registered_on", Kind.DATE),
    ),
)

JOBS = FileSpec(
    name="jobs",
    key=("job_id",),
    description="Job postings.",
    columns=(
        Column("job_id", Kind.ID, required=True),
        Column("employer_id", Kind.ID),
        Column("title", Kind.TEXT, required=True),
        Column("skills", Kind.LIST),
        Column("certificates", Kind.LIST),
        Column("region", Kind.REGION, required=True),
        Column("wage_min", Kind.INT, **_WAGE),
        Column("wage_max", Kind.INT, **_WAGE),
        Column("age_min", Kind.INT, **_AGE),
        Column("age_max", Kind.INT, **_AGE),
        Column("education_min", Kind.ENUM, choices=EDUCATION_LEVELS),
        Column("housing", Kind.BOOL),
        Column("social_insurance", Kind.BOOL),
        Column("employment_type", Kind.ENUM, choices=EMPLOYMENT_TYPES),
        Column("openings", Kind.INT, minimum=1, maximum=100_000, default=1),
        Column("posted_on", Kind.DATE, required=True),
        Column("closes_on", Kind.DATE),
    ),
)

EMPLOYERS = FileSpec(
    name="employers",
    key=("employer_id",),
    optional_file=True,
    description="Employers (optional file).",
    columns=(
        Column("employer_id", Kind.ID, required=True),
        Column("name", Kind.TEXT),
        Column("industry", Kind.TEXT),
        Column("wage_arrears_listed", Kind.BOOL, default=False),
    ),
)

COURSES = FileSpec(
    name="courses",
    key=("course_id",),
    description="Subsidised vocational training courses.",
    columns=(
        Column("course_id", Kind.ID, required=True),
        Column("title", Kind.TEXT, required=True),
        Column("skills", Kind.LIST),
        Column("certificate", Kind.TEXT),
        Column("region", Kind.REGION, required=True),
        Column("mode", Kind.ENUM, choices=COURSE_MODES, default="in_person"),
        Column("start_on", Kind.DATE),
        Column("duration_days", Kind.INT, minimum=0, maximum=3650),
        Column("fee", Kind.INT, minimum=0, maximum=10_000_000),
        Column("subsidy", Kind.INT, minimum=0, maximum=10_000_000),
        Column("age_min", Kind.INT, **_AGE),
        Column("age_max", Kind.INT, **_AGE),
        Column("seats", Kind.INT, minimum=0, maximum=1_000_000),
    ),
)

PLACEMENTS = FileSpec(
    name="placements",
    key=("worker_id", "job_id", "outcome"),
    references={"worker_id": "workers", "job_id": "jobs"},
    description="Job outcomes (training labels).",
    columns=(
        Column("worker_id", Kind.ID, required=True),
        Column("job_id", Kind.ID, required=True),
        Column("outcome", Kind.ENUM, required=True, choices=JOB_OUTCOMES),
        Column("date", Kind.DATE, required=True),
    ),
)

ENROLMENTS = FileSpec(
    name="enrolments",
    key=("worker_id", "course_id", "outcome"),
    references={"worker_id": "workers", "course_id": "courses"},
    description="Course outcomes (training labels).",
    columns=(
        Column("worker_id", Kind.ID, required=True),
        Column("course_id", Kind.ID, required=True),
        Column("outcome", Kind.ENUM, required=True, choices=COURSE_OUTCOMES),
        Column("date", Kind.DATE, required=True),
    ),
)

# Import order: referenced files before the files that reference them.
FILES: tuple[FileSpec, ...] = (EMPLOYERS, WORKERS, JOBS, COURSES, PLACEMENTS, ENROLMENTS)
BY_NAME: dict[str, FileSpec] = {spec.name: spec for spec in FILES}


def spec_for(name: str) -> FileSpec:
    """The spec of a contract file, by name (``workers``) or file name (``workers.csv``)."""
    stem = name.rsplit("/", 1)[-1]
    for suffix in (".csv", ".parquet", ".pq"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    try:
        return BY_NAME[stem.lower()]
    except KeyError:
        from recommender.errors import ContractError

        known = ", ".join(s.filename for s in FILES)
        raise ContractError(f"{name}: not a contract file (expected one of {known})") from None
