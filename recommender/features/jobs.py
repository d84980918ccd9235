"""Jobs -> EntityBlock: what a posting asks for, pays and offers, and where.

Job boards put the conditions in the title (``急招普工18-45岁包吃住月薪6000-8000``)
more often than in the structured columns. Where a structured column is empty
it is filled from the title / skills text (``parse_posting_text``) and a
``parsed_*`` flag records it, so a model can learn how far to trust it. A
posting with no skills listed gets the skills its title names, discounted;
its occupations come from the title (top-k CSCO codes), or from its skills
when the title says nothing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from recommender.contract import EDUCATION_LEVELS, EMPLOYMENT_TYPES
from recommender.features._columns import bool_col, day_col, distinct, enum_col, num_col, per_distinct, region_arrays, text_col
from recommender.features._encoder import BaseEncoder
from recommender.features._sparse import max_product, replace_rows
from recommender.features.block import EntityBlock
from recommender.normalise import clean_text
from recommender.normalise.hints import strip_posting_noise

__all__ = ["JobEncoder", "JOB_NUM_COLUMNS"]

JOB_NUM_COLUMNS: tuple[str, ...] = (
    "region",
    "province",
    "prefecture",
    "lat",
    "lon",
    "city_level",  # 0 first tier .. 3 county, see recommender.features.costs
    "macro",  # index into costs.MACRO_REGIONS
    "wage_min",
    "wage_max",
    "wage_mid",  # mean of the range, or the one bound given; NaN if no wage at all
    "age_min",
    "age_max",
    "education_min",  # ordinal, NaN = no requirement
    "housing",  # 1 / 0 / NaN unknown
    "meals",  # from the text only (包吃): 1 / 0 / NaN
    "social_insurance",
    "daily_pay",  # 日结 said in the text
    "employment_type",  # index into contract.EMPLOYMENT_TYPES, -1 unknown
    "openings",
    "posted_on",  # days since 1970-01-01
    "closes_on",
    "parsed_wage",  # structured field filled from the text
    "parsed_age",
    "parsed_housing",
    "parsed_social_insurance",
    "parsed_any",
    "skills_from_title",
    "occupation_from_title",
    "title_score",  # best title-classifier score (0 = title not recognised)
    "wage_arrears_listed",  # employer on the wage-arrears list (never recommended)
    "n_skills",
    "n_certs",
)


def fill(values: np.ndarray, parsed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fill NaN from ``parsed``; returns the filled values and a 0/1 'was parsed' flag."""
    use = np.isnan(values) & ~np.isnan(parsed)
    return np.where(use, parsed, values), use.astype(np.float32)


class JobEncoder(BaseEncoder):
    """Encode the jobs frame (optionally merged with employers' ``industry`` and
    ``wage_arrears_listed``; both may be absent).

    Parameters
    ----------
    taxonomy_dir : optional taxonomy extension folder.
    title_top_k : how many CSCO codes to keep per title.
    title_min_score : drop title codes scored below this.
    title_skill_weight : confidence factor of skills read from the title (when no skills are listed).
    skill_occupation_weight : factor of occupations derived from skills when the title gives none.
    parse_text : fill empty structured columns from the text.
    """

    NUM_COLUMNS = JOB_NUM_COLUMNS
    ID_COLUMN = "job_id"
    _uses_titles = True

    def __init__(
        self,
        *,
        taxonomy_dir: str | Path | None = None,
        title_top_k: int = 3,
        title_min_score: float = 0.35,
        title_skill_weight: float = 0.8,
        skill_occupation_weight: float = 0.8,
        parse_text: bool = True,
    ) -> None:
        self.taxonomy_dir = taxonomy_dir
        self.title_top_k = title_top_k
        self.title_min_score = title_min_score
        self.title_skill_weight = title_skill_weight
        self.skill_occupation_weight = skill_occupation_weight
        self.parse_text = parse_text

    def _encode(self, frame: pd.DataFrame) -> EntityBlock:
        v = self.vocab_
        n = len(frame)
        ids = text_col(frame, "job_id")
        titles = text_col(frame, "title")
        skill_text = text_col(frame, "skills")
        skills, _ = self._encode_cells(skill_text, "skill")
        from_title = np.zeros(n, dtype=np.float32)
        if self.title_skill_weight > 0:
            empty = np.diff(skills.indptr) == 0
            if empty.any():
                positions, uniques = distinct(titles[empty])
                core = per_distinct(positions, [strip_posting_noise(clean_text(u)) or None for u in uniques], None)
                guessed, _ = self._encode_cells(core, "skill")
                guessed = guessed * float(self.title_skill_weight)
                rows = np.flatnonzero(empty)
                skills = replace_rows(skills, rows, guessed)
                from_title[rows] = (np.diff(guessed.indptr) > 0).astype(np.float32)
        certs, _ = self._encode_cells(text_col(frame, "certificates"), "cert")

        occ = self._classify_titles(titles, int(self.title_top_k), float(self.title_min_score))
        title_score = np.asarray(occ.max(axis=1).todense(), dtype=np.float32).ravel() if occ.shape[1] else np.zeros(n, np.float32)
        occ_from_title = (np.diff(occ.indptr) > 0).astype(np.float32)
        no_title = np.flatnonzero(occ_from_title == 0)
        if len(no_title):
            from_skills = max_product(skills[no_title], v.skill_occupations) * float(self.skill_occupation_weight)
            occ = replace_rows(occ, no_title, from_skills)

        num: dict[str, np.ndarray] = dict(region_arrays(text_col(frame, "region")))
        wage_min, wage_max = num_col(frame, "wage_min"), num_col(frame, "wage_max")
        age_min, age_max = num_col(frame, "age_min"), num_col(frame, "age_max")
        housing, insurance = bool_col(frame, "housing"), bool_col(frame, "social_insurance")
        meals, daily_pay = np.full(n, np.nan), np.zeros(n)
        parsed = {k: np.zeros(n, dtype=np.float32) for k in ("wage", "age", "housing", "social_insurance")}
        if self.parse_text:
            attrs = ("wage_min", "wage_max", "age_min", "age_max", "housing", "social_insurance", "meals", "daily_pay")
            in_title = self._hint_arrays(titles, attrs)
            in_skills = self._hint_arrays(skill_text, attrs)
            hint = {a: np.where(np.isnan(in_title[a]), in_skills[a], in_title[a]) for a in attrs}
            no_wage = np.isnan(wage_min) & np.isnan(wage_max)
            wage_min = np.where(no_wage, hint["wage_min"], wage_min)
            wage_max = np.where(no_wage, hint["wage_max"], wage_max)
            parsed["wage"] = (no_wage & (~np.isnan(hint["wage_min"]) | ~np.isnan(hint["wage_max"]))).astype(np.float32)
            no_age = np.isnan(age_min) & np.isnan(age_max)
            age_min = np.where(no_age, hint["age_min"], age_min)
            age_max = np.where(no_age, hint["age_max"], age_max)
            parsed["age"] = (no_age & (~np.isnan(hint["age_min"]) | ~np.isnan(hint["age_max"]))).astype(np.float32)
            housing, parsed["housing"] = fill(housing, hint["housing"])
            insurance, parsed["social_insurance"] = fill(insurance, hint["social_insurance"])
            meals = hint["meals"]
            daily_pay = np.nan_to_num(hint["daily_pay"], nan=0.0)
        lo = np.where(np.isnan(wage_min), wage_max, wage_min)
        hi = np.where(np.isnan(wage_max), wage_min, wage_max)
        education_min = enum_col(frame, "education_min", EDUCATION_LEVELS).astype(np.float32)
        education_min[education_min < 0] = np.nan
        openings = num_col(frame, "openings")
        parsed_any = np.maximum.reduce([parsed[k] for k in parsed])
        num.update(
            wage_min=wage_min.astype(np.float32),
            wage_max=wage_max.astype(np.float32),
            wage_mid=((lo + hi) / 2.0).astype(np.float32),
            age_min=age_min.astype(np.float32),
            age_max=age_max.astype(np.float32),
            education_min=education_min,
            housing=housing.astype(np.float32),
            meals=meals.astype(np.float32),
            social_insurance=insurance.astype(np.float32),
            daily_pay=daily_pay.astype(np.float32),
            employment_type=enum_col(frame, "employment_type", EMPLOYMENT_TYPES),
            openings=np.where(np.isnan(openings), 1.0, openings).astype(np.float32),
            posted_on=day_col(frame, "posted_on"),
            closes_on=day_col(frame, "closes_on"),
            parsed_wage=parsed["wage"],
            parsed_age=parsed["age"],
            parsed_housing=parsed["housing"],
            parsed_social_insurance=parsed["social_insurance"],
            parsed_any=parsed_any.astype(np.float32),
            skills_from_title=from_title,
            occupation_from_title=occ_from_title,
            title_score=title_score,
            wage_arrears_listed=np.nan_to_num(bool_col(frame, "wage_arrears_listed"), nan=0.0).astype(np.float32),
            n_skills=np.diff(skills.indptr).astype(np.float32),
            n_certs=np.diff(certs.indptr).astype(np.float32),
        )
        return self._block(ids, skills, certs, occ, num)
