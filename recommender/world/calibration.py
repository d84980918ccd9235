"""Calibration targets (NBS 2023 migrant worker survey) and the check of a written world.

The targets are data, with their source, so the generator and the check read
the same numbers. ``calibration_table`` measures every marginal from the
contract files alone (it never sees the generator's hidden state), so it
also checks a world copied around or read back from Parquet.

What each marginal is measured on (see docs/world.md):

- age, education, gender, home region: workers.csv (age = survey year minus
  birth_year; the survey year is the year of the earliest job posting);
- outbound: current_region (defaulting to home_region) in another county
  than home_region; cross-province: another province, among outbound workers;
- work region: the macro region of current_region;
- industry and income: each worker's *current job*, the job of their latest
  ``hired``/``retained`` placement; industry from its employer's
  ``industry``, income the middle of its posted wage range. Income by group
  splits those workers by their own outbound status, the job's industry and
  the worker's work region.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recommender.errors import ContractError
from recommender.regions import RegionIndex
from recommender.world.vocabulary import INDUSTRY_GROUPS, VOCABULARY

SOURCE = (
    "国家统计局《2023年农民工监测调查报告》, 2024-04-30 "
    "(https://www.stats.gov.cn/sj/zxfb/202404/t20240430_1948783.html)"
)


@dataclass(frozen=True)
class Target:
    """One calibrated marginal: a share in percent, or a mean (years, CNY per month)."""

    group: str
    marginal: str
    value: float
    unit: str  # "%" (share) | "years" | "CNY"
    tolerance: float  # percentage points for shares, relative % for means

    @property
    def is_share(self) -> bool:
        return self.unit == "%"


def _t(group: str, marginal: str, value: float, unit: str = "%", tol: float | None = None) -> Target:
    default = 3.0 if unit == "%" else (3.0 if unit == "years" else 5.0)
    return Target(group, marginal, value, unit, default if tol is None else tol)


# Headline figures, for reference and docs (not marginals of a sample).
TOTAL_MIGRANT_WORKERS_M = 297.53
OUTBOUND_MIGRANT_WORKERS_M = 176.58

_ORIGIN = np.array([10484, 9904, 8367, 998], dtype=float)  # 10k persons, by home region
_WORK = np.array([15277, 6982, 6552, 872], dtype=float)  # 10k persons, by work region

TARGETS: tuple[Target, ...] = (
    _t("mobility", "outbound (outside home county)", 59.4),
    _t("mobility", "cross-province, among outbound", 38.2),
    _t("age", "mean age", 43.1, "years"),
    _t("age", "mean age, local", 46.6, "years"),
    _t("age", "mean age, outbound", 38.9, "years"),
    _t("age", "16-20", 1.2),
    _t("age", "21-30", 15.4),
    _t("age", "31-40", 28.0),
    _t("age", "41-50", 24.8),
    _t("age", "over 50", 30.6),
    _t("education", "none", 0.8),
    _t("education", "primary", 13.8),
    _t("education", "junior high", 52.1),
    _t("education", "senior high (incl. secondary vocational)", 17.5),
    _t("education", "college and above", 15.8),
    _t("gender", "men", 62.7),
    _t("gender", "men, local", 57.0),
    _t("gender", "men, outbound", 69.5),
    _t("industry", "manufacturing", 27.5),
    _t("industry", "construction", 15.4),
    _t("industry", "wholesale and retail", 13.2),
    _t("industry", "transport, storage and post", 7.1),
    _t("industry", "accommodation and catering", 6.7),
    _t("industry", "resident services, repair and other", 12.7),
    _t("industry", "other industries", 17.4),
    _t("income", "mean monthly income", 4780, "CNY"),
    _t("income", "outbound", 5441, "CNY"),
    _t("income", "local", 4131, "CNY"),
    _t("income", "construction", 5488, "CNY"),
    _t("income", "working in the east", 5172, "CNY"),
    *(
        _t("home region", m, round(100 * v / _ORIGIN.sum(), 2))
        for m, v in zip(("east", "central", "west", "northeast"), _ORIGIN, strict=True)
    ),
    *(
        _t("work region", m, round(100 * v / _WORK.sum(), 2))
        for m, v in zip(("east", "central", "west", "northeast"), _WORK, strict=True)
    ),
)

AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("16-20", 16, 20),
    ("21-30", 21, 30),
    ("31-40", 31, 40),
    ("41-50", 41, 50),
    ("over 50", 51, 200),
)
EDUCATION_GROUPS: dict[str, str] = {
    "none": "none",
    "primary": "primary",
    "junior_high": "junior high",
    "senior_high": "senior high (incl. secondary vocational)",
    "secondary_vocational": "senior high (incl. secondary vocational)",
    "college": "college and above",
    "bachelor_plus": "college and above",
}
INDUSTRY_MARGINALS: dict[str, str] = dict(
    zip(
        INDUSTRY_GROUPS,
        (
            "manufacturing",
            "construction",
            "wholesale and retail",
            "transport, storage and post",
            "accommodation and catering",
            "resident services, repair and other",
            "other industries",
        ),
        strict=True,
    )
)


def target(group: str, marginal: str) -> float:
    """The target value of one marginal."""
    for t in TARGETS:
        if t.group == group and t.marginal == marginal:
            return t.value
    raise KeyError((group, marginal))


# --------------------------------------------------------------------------- reading


def _read(data_dir: Path, name: str, columns: list[str], *, keep: tuple[str, set[str]] | None = None) -> pd.DataFrame:
    """One contract file (CSV or Parquet) as strings, only the columns needed.

    ``keep=(column, values)`` drops the other rows while still in Arrow (the
    placements of a million workers hold ten million rows, a tenth of them hires).
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    parquet, csv = data_dir / f"{name}.parquet", data_dir / f"{name}.csv"
    if parquet.exists():
        table = pq.read_table(parquet, columns=columns)
    elif csv.exists():
        convert = pacsv.ConvertOptions(
            include_columns=columns,
            column_types={c: pa.string() for c in columns},
            strings_can_be_null=True,
        )
        table = pacsv.read_csv(csv, convert_options=convert)
    else:
        raise ContractError(f"{data_dir} has no {name}.csv or {name}.parquet")
    table = table.select(columns)
    table = pa.table({c: pc.cast(table[c], pa.string()) for c in columns})
    if keep is not None:
        column, values = keep
        table = table.filter(pc.is_in(table[column], value_set=pa.array(sorted(values))))
    return table.to_pandas()


def _resolve_codes(values: pd.Series, index: RegionIndex) -> np.ndarray:
    """Region cells (codes or Chinese names) -> 6-digit int codes; 0 where empty or unknown."""
    number = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    out = np.where(np.isnan(number), 0, number).astype(np.int64)
    named = np.flatnonzero(np.isnan(number) & values.notna().to_numpy())
    if len(named):
        names = values.iloc[named].astype(str)
        resolved = index.resolve_many(names.unique().tolist())
        codes = {k: int(getattr(v, "code", 0) or 0) for k, v in resolved.items()}
        out[named] = names.map(codes).to_numpy(dtype=np.int64)
    return out


def _macro_of(codes: np.ndarray, index: RegionIndex) -> np.ndarray:
    """Macro region name of each 6-digit code ('' for 0 / unknown), vectorised by province."""
    table = np.full(100, "", dtype=object)
    for p in index.provinces():
        table[int(p.code[:2])] = p.macro_region
    return table[np.clip(codes // 10000, 0, 99)]


# --------------------------------------------------------------------------- measuring


def measure(data_dir: Path) -> dict[tuple[str, str], float]:
    """Every calibrated marginal measured on the files in ``data_dir``."""
    data_dir = Path(data_dir)
    index = RegionIndex.default()
    workers = _read(
        data_dir, "workers", ["worker_id", "birth_year", "gender", "education", "home_region", "current_region"]
    )
    jobs = _read(data_dir, "jobs", ["job_id", "employer_id", "wage_min", "wage_max", "posted_on"])
    employers = _read(data_dir, "employers", ["employer_id", "industry"])
    placements = _read(
        data_dir, "placements", ["worker_id", "job_id", "outcome", "date"], keep=("outcome", {"hired", "retained"})
    )

    out: dict[tuple[str, str], float] = {}
    home = _resolve_codes(workers["home_region"], index)
    current = _resolve_codes(workers["current_region"], index)
    current = np.where(current == 0, home, current)
    outbound = current != home
    cross = (current // 10000) != (home // 10000)
    home_macro = _macro_of(home, index)
    work_macro = _macro_of(current, index)

    def pct(mask: np.ndarray, base: np.ndarray | None = None) -> float:
        values = mask if base is None else mask[base]
        return 100.0 * float(np.mean(values)) if len(values) else float("nan")

    def avg(values: np.ndarray) -> float:
        return float(np.mean(values)) if len(values) else float("nan")

    out[("mobility", "outbound (outside home county)")] = pct(outbound)
    out[("mobility", "cross-province, among outbound")] = pct(cross, outbound)

    year = int(pd.to_datetime(jobs["posted_on"]).min().year)
    birth = pd.to_numeric(workers["birth_year"], errors="coerce").to_numpy()
    age = year - birth
    has_age = ~np.isnan(age)
    out[("age", "mean age")] = avg(age[has_age])
    out[("age", "mean age, local")] = avg(age[has_age & ~outbound])
    out[("age", "mean age, outbound")] = avg(age[has_age & outbound])
    for label, lo, hi in AGE_BANDS:
        out[("age", label)] = pct((age >= lo) & (age <= hi), has_age)

    edu = workers["education"].map(EDUCATION_GROUPS)
    has_edu = edu.notna().to_numpy()
    for label in dict.fromkeys(EDUCATION_GROUPS.values()):
        out[("education", label)] = pct((edu == label).to_numpy(), has_edu)

    gender = workers["gender"].fillna("").to_numpy(dtype=object)
    has_g = np.isin(gender, ["F", "M"])
    men = gender == "M"
    out[("gender", "men")] = pct(men, has_g)
    out[("gender", "men, local")] = pct(men, has_g & ~outbound)
    out[("gender", "men, outbound")] = pct(men, has_g & outbound)

    for label in ("east", "central", "west", "northeast"):
        out[("home region", label)] = pct(home_macro == label)
        out[("work region", label)] = pct(work_macro == label)

    # current job = latest hired/retained placement of each worker
    held = placements[placements["outcome"].isin(["hired", "retained"])]
    held = held.sort_values(["worker_id", "date"]).drop_duplicates("worker_id", keep="last")
    label_group = VOCABULARY.group_of_industry_label()
    emp = employers.assign(group=employers["industry"].map(label_group).fillna("other"))
    jobs = jobs.merge(emp[["employer_id", "group"]], on="employer_id", how="left")
    jobs["group"] = jobs["group"].fillna("other")
    jobs["wage"] = (pd.to_numeric(jobs["wage_min"], errors="coerce") + pd.to_numeric(jobs["wage_max"], errors="coerce")) / 2
    wpos = pd.Series(np.arange(len(workers)), index=workers["worker_id"].to_numpy())
    held = held.merge(jobs[["job_id", "group", "wage"]], on="job_id", how="left")
    hpos = wpos.reindex(held["worker_id"].to_numpy()).to_numpy()
    ok = ~np.isnan(hpos)
    held = held[ok]
    hpos = hpos[ok].astype(np.int64)
    group = held["group"].to_numpy()
    for g, label in INDUSTRY_MARGINALS.items():
        out[("industry", label)] = pct(group == g)
    wage = held["wage"].to_numpy(dtype=float)
    has_w = ~np.isnan(wage)
    def mean(mask: np.ndarray) -> float:
        return avg(wage[has_w & mask])

    every = np.ones(len(wage), dtype=bool)
    out[("income", "mean monthly income")] = mean(every)
    out[("income", "outbound")] = mean(outbound[hpos])
    out[("income", "local")] = mean(~outbound[hpos])
    out[("income", "construction")] = mean(group == "construction")
    out[("income", "working in the east")] = mean(work_macro[hpos] == "east")
    return out


def calibration_table(data_dir: Path) -> pd.DataFrame:
    """Each calibrated marginal next to its target, measured on the files in ``data_dir``.

    Columns: group, marginal, target, actual, diff (percentage points for
    shares, relative % for means), ok (within the target's tolerance).
    """
    actual = measure(Path(data_dir))
    rows = []
    for t in TARGETS:
        value = actual.get((t.group, t.marginal), float("nan"))
        diff = value - t.value if t.is_share else 100.0 * (value - t.value) / t.value
        rows.append(
            {
                "group": t.group,
                "marginal": t.marginal + ("" if t.is_share else f" ({t.unit})"),
                "target": t.value,
                "actual": round(value, 2),
                "diff": round(diff, 2),
                "ok": bool(abs(diff) <= t.tolerance),
            }
        )
    return pd.DataFrame(rows, columns=["group", "marginal", "target", "actual", "diff", "ok"])
