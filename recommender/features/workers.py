"""Workers -> EntityBlock: what they can do, hold, expect and where they are.

A worker's skills are what they wrote, plus what it implies: a CO2 welder can
weld (the taxonomy's parent skill, at ``parent_weight``), a 焊工证 holder can
weld (the certificate's attested skills, at ``cert_skill_weight``). Their
certificates include what a certificate legally covers (an A1 licence covers
C1). Their occupations come from their skills and certificates through the
taxonomy's occupation links, since a worker profile has no job title.

``gender`` is never read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from recommender.contract import EDUCATION_LEVELS, MOBILITY_LEVELS
from recommender.features._columns import day_col, enum_col, num_col, region_arrays, text_col
from recommender.features._encoder import BaseEncoder, join_cells
from recommender.features._sparse import max_product
from recommender.features.block import EntityBlock

__all__ = ["WorkerEncoder", "WORKER_NUM_COLUMNS"]

_REGION_KEYS = ("region", "province", "prefecture", "lat", "lon", "city_level", "macro")

WORKER_NUM_COLUMNS: tuple[str, ...] = (
    *_REGION_KEYS,  # where the worker lives now (current_region, defaulting to home_region)
    *(f"home_{k}" for k in _REGION_KEYS),  # household registration (hukou)
    "birth_year",
    "education",  # ordinal 0 (none) .. 6 (bachelor_plus), NaN unknown
    "experience_years",
    "expected_wage",
    "mobility",  # 0 local, 1 province, 2 anywhere (the contract default)
    "registered_on",  # days since 1970-01-01
    "n_skills",  # skill items written that were recognised
    "n_unknown_skills",
    "n_certs",
)


class WorkerEncoder(BaseEncoder):
    """Encode the workers frame.

    Parameters
    ----------
    taxonomy_dir : optional taxonomy extension folder (see ``load_taxonomy``).
    parent_weight : confidence kept when a skill implies its parent skill.
    cert_skill_weight : confidence of a skill implied by a held certificate.
    secondary_occupation_weight : weight of a skill's less typical occupations.
    cert_occupation_weight : weight of the occupations a certificate is for.
    """

    NUM_COLUMNS = WORKER_NUM_COLUMNS
    ID_COLUMN = "worker_id"

    def __init__(
        self,
        *,
        taxonomy_dir: str | Path | None = None,
        parent_weight: float = 0.9,
        cert_skill_weight: float = 0.8,
        secondary_occupation_weight: float = 0.6,
        cert_occupation_weight: float = 0.8,
    ) -> None:
        self.taxonomy_dir = taxonomy_dir
        self.parent_weight = parent_weight
        self.cert_skill_weight = cert_skill_weight
        self.secondary_occupation_weight = secondary_occupation_weight
        self.cert_occupation_weight = cert_occupation_weight

    def _vocab_params(self) -> dict[str, float]:
        return {
            "parent_weight": float(self.parent_weight),
            "secondary_occupation_weight": float(self.secondary_occupation_weight),
        }

    def _encode(self, frame: pd.DataFrame) -> EntityBlock:
        v = self.vocab_
        ids = text_col(frame, "worker_id")
        direct, n_unknown = self._encode_cells(text_col(frame, "skills"), "skill")
        cert_text = text_col(frame, "certificates")
        if "extra_certificates" in frame.columns:  # certified enrolments, passed by the caller
            cert_text = join_cells(cert_text, text_col(frame, "extra_certificates"))
        held, _ = self._encode_cells(cert_text, "cert")
        certs = max_product(held, v.cert_implies)
        skills = max_product(direct, v.skill_implies).maximum(
            max_product(certs, v.cert_skills) * float(self.cert_skill_weight)
        )
        occupations = max_product(direct, v.skill_occupations).maximum(
            max_product(certs, v.cert_occupations) * float(self.cert_occupation_weight)
        )

        home = text_col(frame, "home_region")
        current = text_col(frame, "current_region")
        current = np.where(pd.isna(current), home, current)
        num: dict[str, np.ndarray] = {}
        num.update(region_arrays(current))
        num.update(region_arrays(home, prefix="home_"))
        education = enum_col(frame, "education", EDUCATION_LEVELS).astype(np.float32)
        education[education < 0] = np.nan
        mobility = enum_col(frame, "mobility", MOBILITY_LEVELS, default=MOBILITY_LEVELS.index("anywhere"))
        num.update(
            birth_year=num_col(frame, "birth_year").astype(np.float32),
            education=education,
            experience_years=num_col(frame, "experience_years").astype(np.float32),
            expected_wage=num_col(frame, "expected_wage").astype(np.float32),
            mobility=mobility.astype(np.int8),
            registered_on=day_col(frame, "registered_on"),
            n_skills=np.diff(direct.indptr).astype(np.float32),
            n_unknown_skills=n_unknown,
            n_certs=np.diff(held.indptr).astype(np.float32),
        )
        return self._block(ids, skills, certs, occupations, num)
