"""Courses -> EntityBlock: what a course teaches and awards, its cost and when.

A course's certificate is what makes it worth taking for many workers (a
special-operation certificate is required by law for the job), so it is
normalised like a worker's. A course with no skills listed teaches what its
title names, or else what its certificate attests.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from recommender.contract import COURSE_MODES
from recommender.features._columns import day_col, enum_col, num_col, region_arrays, text_col
from recommender.features._encoder import BaseEncoder
from recommender.features._sparse import max_product, replace_rows
from recommender.features.block import EntityBlock
from recommender.normalise import clean_text
from recommender.normalise.hints import strip_posting_noise

__all__ = ["CourseEncoder", "COURSE_NUM_COLUMNS"]

# Words that say "a course", and bracketed levels: 焊工（初级）培训班 -> 焊工.
_COURSE_NOISE = re.compile(r"\([^)]*\)|\[[^\]]*\]|培训班|培训|考证班|取证班|速成班|考证|取证|课程|训练营|班$")

COURSE_NUM_COLUMNS: tuple[str, ...] = (
    "region",
    "province",
    "prefecture",
    "lat",
    "lon",
    "city_level",
    "macro",
    "mode",  # index into contract.COURSE_MODES (default in_person)
    "start_on",  # days since 1970-01-01
    "duration_days",
    "fee",
    "subsidy",
    "own_cost",  # fee - subsidy, floored at 0 (NaN if the fee is unknown)
    "age_min",
    "age_max",
    "seats",
    "n_skills",
    "n_certs",
    "skills_from_title",
    "occupation_from_title",
)


class CourseEncoder(BaseEncoder):
    """Encode the courses frame.

    Parameters
    ----------
    taxonomy_dir : optional taxonomy extension folder.
    title_top_k, title_min_score : CSCO codes kept per course title.
    title_skill_weight : confidence factor of skills read from the title or certificate
        when no skills are listed.
    skill_occupation_weight : factor of occupations derived from skills when the title gives none.
    """

    NUM_COLUMNS = COURSE_NUM_COLUMNS
    ID_COLUMN = "course_id"
    _uses_titles = True

    def __init__(
        self,
        *,
        taxonomy_dir: str | Path | None = None,
        title_top_k: int = 3,
        title_min_score: float = 0.35,
        title_skill_weight: float = 0.8,
        skill_occupation_weight: float = 0.8,
    ) -> None:
        self.taxonomy_dir = taxonomy_dir
        self.title_top_k = title_top_k
        self.title_min_score = title_min_score
        self.title_skill_weight = title_skill_weight
        self.skill_occupation_weight = skill_occupation_weight

    def _encode(self, frame: pd.DataFrame) -> EntityBlock:
        v = self.vocab_
        n = len(frame)
        ids = text_col(frame, "course_id")
        titles = text_col(frame, "title")
        core = np.array([_core_title(t) for t in titles], dtype=object)
        skills, _ = self._encode_cells(text_col(frame, "skills"), "skill")
        certs, _ = self._encode_cells(text_col(frame, "certificate"), "cert")
        from_title = np.zeros(n, dtype=np.float32)
        empty = np.flatnonzero(np.diff(skills.indptr) == 0)
        if len(empty) and self.title_skill_weight > 0:
            guessed, _ = self._encode_cells(core[empty], "skill")
            attested = max_product(certs[empty], v.cert_skills)
            guessed = guessed.maximum(attested) * float(self.title_skill_weight)
            skills = replace_rows(skills, empty, guessed)
            from_title[empty] = (np.diff(guessed.indptr) > 0).astype(np.float32)

        occ = self._classify_titles(core, int(self.title_top_k), float(self.title_min_score))
        occ_from_title = (np.diff(occ.indptr) > 0).astype(np.float32)
        none = np.flatnonzero(occ_from_title == 0)
        if len(none):
            derived = max_product(skills[none], v.skill_occupations) * float(self.skill_occupation_weight)
            occ = replace_rows(occ, none, derived)

        fee, subsidy = num_col(frame, "fee"), num_col(frame, "subsidy")
        num: dict[str, np.ndarray] = dict(region_arrays(text_col(frame, "region")))
        num.update(
            mode=enum_col(frame, "mode", COURSE_MODES, default=COURSE_MODES.index("in_person")),
            start_on=day_col(frame, "start_on"),
            duration_days=num_col(frame, "duration_days").astype(np.float32),
            fee=fee.astype(np.float32),
            subsidy=subsidy.astype(np.float32),
            own_cost=np.maximum(fee - np.nan_to_num(subsidy, nan=0.0), 0.0).astype(np.float32),
            age_min=num_col(frame, "age_min").astype(np.float32),
            age_max=num_col(frame, "age_max").astype(np.float32),
            seats=num_col(frame, "seats").astype(np.float32),
            n_skills=np.diff(skills.indptr).astype(np.float32),
            n_certs=np.diff(certs.indptr).astype(np.float32),
            skills_from_title=from_title,
            occupation_from_title=occ_from_title,
        )
        return self._block(ids, skills, certs, occ, num)


def _core_title(title: str | None) -> str | None:
    """A course title without the words that say "course" (焊工（初级）培训班 -> 焊工)."""
    if not title:
        return None
    s = _COURSE_NOISE.sub(" ", strip_posting_noise(clean_text(title)))
    s = " ".join(s.split())
    return s or title
