"""Worker x job pair features: fit, reach, rules and money, one named column each.

What is fitted: the IDF of each skill over the jobs seen in ``fit`` (a skill
every posting asks for says little about fit). Everything else is arithmetic
on the encoded blocks, plus the documented living-cost table of
:mod:`recommender.features.costs`. Unknown values stay NaN (a gradient-boosted
ranker handles them; a linear model needs an imputer) and never pretend to be
zero. Neither the worker's gender nor any id is an input.
"""

from __future__ import annotations

import uuid

import numpy as np

from recommender.contract import EMPLOYMENT_TYPES
from recommender.features._pairs import (
    PairFeaturizer,
    PairView,
    age_band,
    education_rank,
)
from recommender.features.block import PairSet
from recommender.features.costs import LivingCosts

__all__ = ["JobPairFeatures", "JOB_PAIR_FEATURES"]

JOB_PAIR_FEATURES: tuple[str, ...] = (
    "skill_overlap_idf",  # IDF-weighted share of the job's skills the worker has (0..1)
    "skill_overlap_idf_sum",  # IDF mass of the matched skills
    "skill_share",  # share of the job's skills the worker has (confidence-weighted)
    "skills_missing",  # job skills the worker lacks
    "job_n_skills",
    "worker_n_skills",
    "certs_missing",  # required certificates the worker lacks
    "certs_missing_any",
    "job_n_certs",
    "occupation_match",  # dot of the occupation vectors (CSCO detailed codes)
    "occupation_group_match",  # same at CSCO minor-group level (焊工 vs 切割工)
    "occupation_major_match",  # same at CSCO major-group level (普工 vs any production job)
    "distance_km",  # from where the worker lives now
    "log_distance_km",
    "distance_home_km",  # from the household registration county
    "scope_local",  # seen from home (scope_codes); all three 0 if a region is unknown
    "scope_province",
    "scope_outbound",
    "mobility_ok",  # scope within the worker's stated mobility
    "mobility_excess",  # how many scope steps beyond it (0..2)
    "age",  # at as_of
    "age_band",  # 0 <25, 1 25-34, 2 35-44, 3 45-54, 4 55-59, 5 60+
    "age_below_min",
    "age_above_max",
    "age_margin_years",  # distance to the nearer posted limit (negative outside; NaN no limits)
    "wage_mid",
    "wage_known",
    "wage_to_expected",  # wage mid / expected wage
    "wage_shortfall",  # max(0, expected - wage mid)
    "living_cost",  # rent (unless housed or at home) + food and daily needs, per month
    "travel_cost",  # trips home, per month, for outbound work
    "net_income",  # wage mid - living cost - travel cost
    "net_to_expected",
    "education_gap",  # worker level - required level (NaN: no requirement or unknown)
    "education_below_min",
    "housing_provided",
    "housing_unknown",
    "social_insurance",
    "social_insurance_unknown",
    *(f"emp_{t}" for t in EMPLOYMENT_TYPES),
    "days_since_posted",
    "days_to_close",  # NaN: no closing date
    "log_openings",
    "worker_experience_years",
    "worker_education",  # level rank 0..5
    "parsed_from_text",  # some structured field of the job was read from its text
)


def _nan_div(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)


class JobPairFeatures(PairFeaturizer):
    """Features of (worker, job) pairs.

    Parameters
    ----------
    living_costs : the cost table (default :class:`LivingCosts`), a documented assumption.
    """

    FEATURES = JOB_PAIR_FEATURES

    def __init__(self, *, living_costs: LivingCosts | None = None) -> None:
        self.living_costs = living_costs

    def fit(self, pairs: PairSet, y: object = None) -> JobPairFeatures:
        """Learn the skill IDF over the jobs the pairs refer to."""
        pairs = self._check_pairs(pairs)
        self._fit_vocab(pairs)
        self.idf_ = self._idf(pairs.items, pairs.i)
        self.n_items_seen_ = int(len(np.unique(pairs.i)))
        self._token = uuid.uuid4().hex  # names this fit's item caches (IDF mass) on shared blocks
        return self

    def _static(self, items) -> np.ndarray:  # type: ignore[no-untyped-def]
        """Item-only columns (``ITEM_ONLY``), once per jobs block."""

        def build() -> np.ndarray:
            num = items.num
            wage = num["wage_mid"]
            housing, insurance, etype = num["housing"], num["social_insurance"], num["employment_type"]
            values = {
                "job_n_skills": num["n_skills"],
                "job_n_certs": num["n_certs"],
                "wage_mid": wage,
                "wage_known": ~np.isnan(wage),
                "housing_provided": housing == 1,
                "housing_unknown": np.isnan(housing),
                "social_insurance": insurance == 1,
                "social_insurance_unknown": np.isnan(insurance),
                **{f"emp_{t}": etype == k for k, t in enumerate(EMPLOYMENT_TYPES)},
                "log_openings": np.log1p(num["openings"]),
                "parsed_from_text": num["parsed_any"],
            }
            return np.stack([np.asarray(values[name], dtype=np.float32) for name in ITEM_ONLY])

        return self._item_static(items, None, build)

    def _living(self, items, costs: LivingCosts) -> np.ndarray:  # type: ignore[no-untyped-def]
        """Per job: rent where no housing is provided, other costs after meals (2 x n)."""

        def build() -> np.ndarray:
            num = items.num
            level, macro = num["city_level"], num["macro"]
            rent = costs.rent_at(level, macro) * (num["housing"] != 1)
            other = costs.other_at(level, macro) * (1.0 - costs.meals_share * (num["meals"] == 1))
            return np.stack([rent, other])

        return self._item_static(items, ("living", costs), build)

    def _prepare_items(self, items) -> None:  # type: ignore[no-untyped-def]
        self._static(items)
        self._living(items, self.living_costs if self.living_costs is not None else _DEFAULT_COSTS)
        self._skill_mass(items)
        items._cached("education_rank", lambda: education_rank(items.num["education_min"]))

    def _skill_mass(self, items) -> np.ndarray:  # type: ignore[no-untyped-def]
        """IDF mass of each job's skills (the denominator of skill_overlap_idf)."""
        return items._cached(("skill_mass", self._token), lambda: items.skills @ self.idf_)

    def transform(self, pairs: PairSet) -> np.ndarray:
        """(n_pairs x n_features) float32."""
        pairs = self._check_pairs(pairs)
        self._check_vocab(pairs)
        costs = self.living_costs if self.living_costs is not None else _DEFAULT_COSTS
        v = PairView(pairs)
        items, workers = pairs.items, pairs.workers
        self._set_groups(items, workers)
        buf = self._buffer(v.n)
        col = self._columns
        static = self._static(items)
        buf[self._static_rows] = static if v.all_items else static[:, pairs.i]

        def put(name: str, values: object) -> None:
            buf[col[name]] = values

        # -- skills, certificates, occupations ---------------------------------------------------
        idf = self.idf_
        weighted = v.dot("skills", "skills", idf)
        mass = v.per_item(self._skill_mass(items))
        n_job_skills = v.item("n_skills").astype(np.float64)
        share_num = v.dot("skills_bin", "skills")
        matched = v.dot("skills_bin", "skills_held")
        put("skill_overlap_idf", np.where(mass > 0, weighted / np.where(mass > 0, mass, 1.0), 0.0))
        put("skill_overlap_idf_sum", weighted)
        put("skill_share", np.where(n_job_skills > 0, share_num / np.maximum(n_job_skills, 1.0), 0.0))
        put("skills_missing", n_job_skills - matched)
        put("worker_n_skills", v.worker("n_skills"))
        missing = np.maximum(v.item("n_certs") - v.dot("certs_bin", "certs_held"), 0.0)
        put("certs_missing", missing)
        put("certs_missing_any", missing > 0)
        put("occupation_match", v.dot("occupations", "occupations"))
        put("occupation_group_match", v.dot("occ_groups", "occ_groups"))
        put("occupation_major_match", v.dot("occ_majors", "occ_majors"))

        # -- where -------------------------------------------------------------------------------------
        dist, dist_home, scope = v.distance_and_scope("lat", "lon", "home_region")
        put("distance_km", dist)
        put("log_distance_km", np.log1p(dist))
        put("distance_home_km", dist_home)
        put("scope_local", scope == 0)
        put("scope_province", scope == 1)
        put("scope_outbound", scope == 2)
        mobility = np.asarray(v.worker("mobility"), dtype=np.float64)
        known = scope >= 0
        put("mobility_ok", np.where(known, scope <= mobility, np.nan))
        put("mobility_excess", np.where(known, np.maximum(scope - mobility, 0.0), np.nan))

        # -- who -----------------------------------------------------------------------------------------
        age = np.asarray(v.age(), dtype=np.float64)
        age_min, age_max = v.item("age_min"), v.item("age_max")
        put("age", age)
        put("age_band", age_band(age))
        put("age_below_min", age < age_min)
        put("age_above_max", age > age_max)
        put("age_margin_years", np.fmin(age - age_min, age_max - age))
        w_edu = education_rank(v.worker("education"))
        j_edu = v.per_item(items._cached("education_rank", lambda: education_rank(items.num["education_min"])))
        gap = w_edu - j_edu
        put("education_gap", gap)
        put("education_below_min", gap < 0)
        put("worker_experience_years", v.worker("experience_years"))
        put("worker_education", w_edu)

        # -- money ---------------------------------------------------------------------------------------
        wage = v.item("wage_mid")
        expected = np.asarray(v.worker("expected_wage"), dtype=np.float64)
        put("wage_to_expected", _nan_div(wage, expected))
        put("wage_shortfall", np.maximum(expected - wage, 0.0))
        living_items = self._living(items, costs)
        rent, other = (living_items if v.all_items else living_items[:, pairs.i])
        living = np.where(scope == 0, other, rent + other)  # at home: no rent
        travel = np.where(scope == 2, costs.travel_home(dist_home), 0.0)
        net = wage - living - travel
        put("living_cost", living)
        put("travel_cost", travel)
        put("net_income", net)
        put("net_to_expected", _nan_div(net, expected))

        # -- the posting ---------------------------------------------------------------------------------
        put("days_since_posted", v.as_of_days - v.item("posted_on"))
        put("days_to_close", v.item("closes_on") - v.as_of_days)
        return self._finish(buf)

    @property
    def _columns(self) -> dict[str, int]:
        return _COLUMNS

    @property
    def _static_rows(self) -> np.ndarray:
        return _STATIC_ROWS


ITEM_ONLY: tuple[str, ...] = (
    "job_n_skills",
    "job_n_certs",
    "wage_mid",
    "wage_known",
    "housing_provided",
    "housing_unknown",
    "social_insurance",
    "social_insurance_unknown",
    *(f"emp_{t}" for t in EMPLOYMENT_TYPES),
    "log_openings",
    "parsed_from_text",
)
_COLUMNS = {name: k for k, name in enumerate(JOB_PAIR_FEATURES)}
_DEFAULT_COSTS = LivingCosts()  # frozen: one instance, not one per request
_STATIC_ROWS = np.array([_COLUMNS[name] for name in ITEM_ONLY], dtype=np.intp)
