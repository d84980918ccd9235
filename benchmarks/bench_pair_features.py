"""Speed of the pair features: one worker against 100,000 open jobs, and mixed pairs.

    python benchmarks/bench_pair_features.py [--jobs 100000] [--runs 100] [--pairs 1000000] [--seed 0]

Builds synthetic-but-plausible open jobs from the taxonomy alone (titles from
CSCO names, job-board aliases and skill synonyms, dressed with the conditions
job boards write into titles; skills from the title's skill family; required
certificates from the taxonomy's certificate -> skill links; regions drawn
from all counties), encodes them once, then times:

* ``JobPairFeatures.transform`` for one worker against all jobs (the serving
  path), p50 / p99 over ``--runs`` runs, each with a different worker;
* the same against a 2,000-job candidate subset;
* ``transform`` on ``--pairs`` mixed (worker, job) pairs (the training path),
  as pairs per second.

Runs on one thread (OMP/BLAS) so figures compare across machines.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from recommender.contract import EDUCATION_LEVELS, EMPLOYMENT_TYPES, MOBILITY_LEVELS  # noqa: E402
from recommender.features import JobEncoder, JobPairFeatures, PairSet, WorkerEncoder  # noqa: E402
from recommender.regions import RegionIndex  # noqa: E402
from recommender.taxonomy import load_taxonomy  # noqa: E402

AS_OF = np.datetime64("2024-06-01", "D")
_PREFIXES = ("", "", "", "急招", "诚聘", "高薪招聘", "长期招")
_SUFFIXES = ("", "", "", "18-45岁", "包吃住", "月薪6000-8000", "五险一金", "日结", "18-50岁包吃住", "底薪4500+提成")


def _title_pool(rng: np.random.Generator, n_titles: int) -> tuple[list[str], list[str]]:
    """Distinct titles and, for each, the skill category it belongs to."""
    tax = load_taxonomy()
    skills = tax.skills
    base: list[tuple[str, str]] = []
    for row in skills.itertuples(index=False):
        base.append((row.name_zh, row.category))
        base.extend((s, row.category) for s in row.synonyms if not s.isascii())
    category_of_code = {}
    for row in skills.itertuples(index=False):
        for code in row.occupation_codes:
            category_of_code.setdefault(code, row.category)
    for row in tax.occupation_aliases.itertuples(index=False):
        base.append((row.alias, category_of_code.get(row.code, "manufacturing")))
    titles: dict[str, str] = {}
    while len(titles) < n_titles:
        word, cat = base[rng.integers(len(base))]
        title = f"{_PREFIXES[rng.integers(len(_PREFIXES))]}{word}{_SUFFIXES[rng.integers(len(_SUFFIXES))]}"
        titles.setdefault(title, cat)
    return list(titles), list(titles.values())


def make_jobs(n: int, seed: int = 0, n_titles: int = 2000) -> pd.DataFrame:
    """n plausible open jobs in the store's typed-frame layout."""
    rng = np.random.default_rng(seed)
    tax = load_taxonomy()
    titles, title_cats = _title_pool(rng, n_titles)
    by_cat: dict[str, list[str]] = {}
    for row in tax.skills.itertuples(index=False):
        words = [row.name_zh, *(s for s in row.synonyms if not s.isascii())]
        by_cat.setdefault(row.category, []).extend(words)
    certs_for_cat: dict[str, list[str]] = {}
    skill_cat = dict(zip(tax.skills["skill_id"], tax.skills["category"], strict=True))
    for row in tax.certificates.itertuples(index=False):
        for s in row.skill_ids:
            if s in skill_cat:
                certs_for_cat.setdefault(skill_cat[s], []).append(row.synonyms[0] if row.synonyms else row.name_zh)
    counties = [r.code for r in RegionIndex.default().counties()]
    pick = rng.integers(len(titles), size=n)
    skills_cells, cert_cells = [], []
    for k in pick:
        cat = title_cats[k]
        words = by_cat.get(cat, by_cat["manufacturing"])
        m = int(rng.integers(0, 5))
        skills_cells.append(";".join(dict.fromkeys(words[j] for j in rng.integers(len(words), size=m))) or None)
        pool = certs_for_cat.get(cat)
        cert_cells.append(pool[rng.integers(len(pool))] if pool and rng.random() < 0.25 else None)
    wage_min = rng.integers(25, 90, size=n) * 100
    wage_max = wage_min + rng.integers(0, 40, size=n) * 100
    has_wage = rng.random(n) < 0.7
    age_min = np.where(rng.random(n) < 0.5, 18, np.nan)
    age_max = np.where(rng.random(n) < 0.6, rng.choice([35, 40, 45, 50, 55, 60], size=n), np.nan)
    posted = AS_OF - rng.integers(0, 60, size=n).astype("timedelta64[D]")
    closes = posted + rng.integers(20, 120, size=n).astype("timedelta64[D]")
    closes = np.where(rng.random(n) < 0.6, closes, np.datetime64("NaT"))

    def maybe_bool(p_known: float, p_true: float) -> pd.array:
        known = rng.random(n) < p_known
        val = rng.random(n) < p_true
        return pd.array([bool(v) if k else None for k, v in zip(known, val)], dtype="boolean")

    return pd.DataFrame(
        {
            "job_id": [f"J{k:06d}" for k in range(n)],
            "employer_id": [f"E{k:05d}" for k in rng.integers(0, n // 10 + 1, size=n)],
            "title": [titles[k] for k in pick],
            "skills": skills_cells,
            "certificates": cert_cells,
            "region": [counties[k] for k in rng.integers(len(counties), size=n)],
            "wage_min": pd.array(np.where(has_wage, wage_min, np.nan), dtype="Float64").astype("Int64"),
            "wage_max": pd.array(np.where(has_wage, wage_max, np.nan), dtype="Float64").astype("Int64"),
            "age_min": pd.array(age_min, dtype="Float64").astype("Int64"),
            "age_max": pd.array(age_max, dtype="Float64").astype("Int64"),
            "education_min": [EDUCATION_LEVELS[k] if k < 7 else None for k in rng.integers(0, 14, size=n)],
            "housing": maybe_bool(0.7, 0.5),
            "social_insurance": maybe_bool(0.6, 0.6),
            "employment_type": [EMPLOYMENT_TYPES[k] if k < 5 else None for k in rng.integers(0, 7, size=n)],
            "openings": pd.array(rng.geometric(0.3, size=n), dtype="Int64"),
            "posted_on": pd.to_datetime(posted).astype("datetime64[ns]"),
            "closes_on": pd.to_datetime(closes).astype("datetime64[ns]"),
        }
    )


def make_workers(n: int, seed: int = 1) -> pd.DataFrame:
    """n workers with skills drawn from the taxonomy."""
    rng = np.random.default_rng(seed)
    tax = load_taxonomy()
    words = [w for row in tax.skills.itertuples(index=False) for w in (row.name_zh, *row.synonyms) if not w.isascii()]
    certs = [row.synonyms[0] if row.synonyms else row.name_zh for row in tax.certificates.itertuples(index=False)]
    counties = [r.code for r in RegionIndex.default().counties()]
    home = [counties[k] for k in rng.integers(len(counties), size=n)]
    return pd.DataFrame(
        {
            "worker_id": [f"W{k:06d}" for k in range(n)],
            "birth_year": pd.array(rng.integers(1960, 2006, size=n), dtype="Int64"),
            "education": [EDUCATION_LEVELS[k] for k in rng.integers(0, 7, size=n)],
            "home_region": home,
            "current_region": [h if rng.random() < 0.6 else counties[rng.integers(len(counties))] for h in home],
            "skills": [";".join(words[j] for j in rng.integers(len(words), size=rng.integers(1, 5))) for _ in range(n)],
            "certificates": [certs[rng.integers(len(certs))] if rng.random() < 0.3 else None for _ in range(n)],
            "experience_years": pd.array(rng.integers(0, 30, size=n).astype(float), dtype="Float64"),
            "expected_wage": pd.array(rng.integers(30, 90, size=n) * 100, dtype="Int64"),
            "mobility": [MOBILITY_LEVELS[k] for k in rng.integers(0, 3, size=n)],
        }
    )


def _ms(seconds: list[float]) -> tuple[float, float, float]:
    a = np.asarray(seconds) * 1000.0
    return float(np.percentile(a, 50)), float(np.percentile(a, 99)), float(a.max())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--pairs", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    t = time.perf_counter()
    jobs_frame = make_jobs(args.jobs, args.seed)
    workers_frame = make_workers(args.workers, args.seed + 1)
    print(f"synthetic data: {args.jobs:,} jobs ({jobs_frame['title'].nunique():,} distinct titles, "
          f"{jobs_frame['skills'].nunique():,} distinct skill cells), {args.workers:,} workers "
          f"in {time.perf_counter() - t:.1f} s")

    t = time.perf_counter()
    job_enc = JobEncoder().fit()
    worker_enc = WorkerEncoder().fit()
    fit_s = time.perf_counter() - t
    t = time.perf_counter()
    jobs = job_enc.transform(jobs_frame)
    enc_jobs_s = time.perf_counter() - t
    t = time.perf_counter()
    jobs_again = job_enc.transform(jobs_frame)  # caches warm
    enc_jobs_warm_s = time.perf_counter() - t
    t = time.perf_counter()
    workers = worker_enc.transform(workers_frame)
    enc_workers_s = time.perf_counter() - t
    del jobs_again
    print(f"encoders fit {fit_s:.2f} s; encode {args.jobs:,} jobs {enc_jobs_s:.2f} s cold, "
          f"{enc_jobs_warm_s:.2f} s warm; {args.workers:,} workers {enc_workers_s:.2f} s")

    rng = np.random.default_rng(args.seed)
    fit_pairs = PairSet(workers, jobs, rng.integers(len(workers), size=200_000), rng.integers(len(jobs), size=200_000), AS_OF)
    featurizer = JobPairFeatures().fit(fit_pairs)
    n_feat = len(featurizer.get_feature_names_out())

    # the block caches (region groups, CSC copies, item-only columns) are built once, at start-up
    t = time.perf_counter()
    featurizer.prepare(jobs)
    first = time.perf_counter() - t
    times = []
    for r in range(args.runs):
        pairs = PairSet.one_to_many(workers, jobs, AS_OF, worker=r % len(workers))
        t = time.perf_counter()
        x = featurizer.transform(pairs)
        times.append(time.perf_counter() - t)
    assert x.shape == (len(jobs), n_feat)
    p50, p99, worst = _ms(times)
    print(f"one worker x {len(jobs):,} jobs ({n_feat} features): p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
          f"max {worst:.1f} ms over {args.runs} runs (prepare(jobs) once: {first * 1000:.0f} ms)")

    subset = np.sort(rng.choice(len(jobs), size=min(2000, len(jobs)), replace=False))
    times = []
    for r in range(args.runs):
        pairs = PairSet.one_to_many(workers, jobs, AS_OF, worker=r % len(workers), items_idx=subset)
        t = time.perf_counter()
        featurizer.transform(pairs)
        times.append(time.perf_counter() - t)
    p50, p99, worst = _ms(times)
    print(f"one worker x {len(subset):,} candidate jobs: p50 {p50:.2f} ms, p99 {p99:.2f} ms")

    w = rng.integers(len(workers), size=args.pairs)
    i = rng.integers(len(jobs), size=args.pairs)
    as_of = AS_OF - rng.integers(0, 365, size=args.pairs).astype("timedelta64[D]")
    pairs = PairSet(workers, jobs, w, i, as_of)
    runs = []
    for _ in range(3):
        t = time.perf_counter()
        x = featurizer.transform(pairs)
        runs.append(time.perf_counter() - t)
    best = min(runs)
    print(f"{args.pairs:,} mixed pairs (per-pair as_of): {best:.2f} s best of 3 "
          f"= {args.pairs / best / 1e6:.2f} M pairs/s; output {x.nbytes / 1e6:.0f} MB float32")


if __name__ == "__main__":
    main()
