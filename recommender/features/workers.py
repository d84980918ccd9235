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

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from recommender.contract import EDUCATION_LEVELS, MOBILITY_LEVELS
from sklearn.utils.validation import check_is_fitted

from recommender.features._columns import _clean, day_col, distinct, num_col, per_distinct, region_arrays
from recommender.features._encoder import BaseEncoder, join_cells
from recommender.features._sparse import max_product, one_row_csr, row_max_product, row_maximum
from recommender.features.block import EntityBlock

__all__ = ["WorkerEncoder", "WORKER_NUM_COLUMNS", "ROW_COLUMNS", "worker_columns", "worker_row"]

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
        return self._encode_columns(worker_columns(frame))

    def encode_row(self, row: Mapping[str, object]) -> EntityBlock:
        """One worker from a row of :func:`worker_columns` values (see :func:`worker_row`).

        The block ``transform`` gives for the one-row frame, built without frames or
        per-call scipy machinery: serving encodes one worker per request.
        """
        check_is_fitted(self, "vocab_")
        return self._encode_columns({name: _one(row.get(name), name) for name in ROW_COLUMNS})

    def _encode_columns(self, cols: Mapping[str, np.ndarray]) -> EntityBlock:
        """The encoding proper, from the plain arrays :func:`worker_columns` reads."""
        v = self.vocab_
        ids = _text(cols["worker_id"])
        skill_cells = _text(cols["skills"])
        cert_text = join_cells(_text(cols["certificates"]), _text(cols["extra_certificates"]))
        if len(ids) == 1:
            skills, certs, occupations, n_skills, n_unknown, n_certs = self._one_row_sparse(skill_cells[0], cert_text[0])
        else:
            direct, n_unknown = self._encode_cells(skill_cells, "skill")
            held, _ = self._encode_cells(cert_text, "cert")
            certs = max_product(held, v.cert_implies)
            skills = max_product(direct, v.skill_implies).maximum(
                max_product(certs, v.cert_skills) * float(self.cert_skill_weight)
            )
            occupations = max_product(direct, v.skill_occupations).maximum(
                max_product(certs, v.cert_occupations) * float(self.cert_occupation_weight)
            )
            n_skills = np.diff(direct.indptr).astype(np.float32)
            n_certs = np.diff(held.indptr).astype(np.float32)

        home = _text(cols["home_region"])
        current = _text(cols["current_region"])
        current = np.where(pd.isna(current), home, current)
        num: dict[str, np.ndarray] = {}
        num.update(region_arrays(current))
        num.update(region_arrays(home, prefix="home_"))
        education = _enum(cols["education"], EDUCATION_LEVELS).astype(np.float32)
        education[education < 0] = np.nan
        mobility = _enum(cols["mobility"], MOBILITY_LEVELS, default=MOBILITY_LEVELS.index("anywhere"))
        num.update(
            birth_year=np.asarray(cols["birth_year"], dtype=np.float64).astype(np.float32),
            education=education,
            experience_years=np.asarray(cols["experience_years"], dtype=np.float64).astype(np.float32),
            expected_wage=np.asarray(cols["expected_wage"], dtype=np.float64).astype(np.float32),
            mobility=mobility.astype(np.int8),
            registered_on=np.asarray(cols["registered_on"], dtype=np.float64),
            n_skills=n_skills,
            n_unknown_skills=n_unknown,
            n_certs=n_certs,
        )
        return self._block(ids, skills, certs, occupations, num)

    def _one_row_sparse(self, skill_cell: str | None, cert_cell: str | None) -> tuple:  # type: ignore[type-arg]
        """Skills, certificates and occupations of one worker: the products of the general
        path on the row's (columns, values) arrays (:func:`row_max_product`), three CSR at the end."""
        v = self.vocab_
        (d_cols, d_vals), unknown = self._cell("skill", skill_cell)
        (h_cols, h_vals), _ = self._cell("cert", cert_cell)
        c_cols, c_vals = row_max_product(h_cols, h_vals, v.cert_implies)
        s_cols, s_vals = row_max_product(d_cols, d_vals, v.skill_implies)
        cs_cols, cs_vals = row_max_product(c_cols, c_vals, v.cert_skills)
        s_cols, s_vals = row_maximum(s_cols, s_vals, cs_cols, cs_vals * float(self.cert_skill_weight))
        o_cols, o_vals = row_max_product(d_cols, d_vals, v.skill_occupations)
        co_cols, co_vals = row_max_product(c_cols, c_vals, v.cert_occupations)
        o_cols, o_vals = row_maximum(o_cols, o_vals, co_cols, co_vals * float(self.cert_occupation_weight))
        return (
            one_row_csr(s_cols, s_vals, v.n_skills),
            one_row_csr(c_cols, c_vals, v.n_certs),
            one_row_csr(o_cols, o_vals, v.n_occupations),
            np.array([len(d_cols)], dtype=np.float32),
            np.array([unknown], dtype=np.float32),
            np.array([len(h_cols)], dtype=np.float32),
        )


#: what the encoder and feasibility read of a worker, in :func:`worker_columns` form
ROW_COLUMNS: tuple[str, ...] = (
    "worker_id", "skills", "certificates", "extra_certificates", "home_region", "current_region",
    "education", "mobility", "birth_year", "experience_years", "expected_wage", "registered_on",
)
_NUMBERS = ("birth_year", "experience_years", "expected_wage")
_DAYS = ("registered_on",)


def worker_columns(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The worker columns as plain arrays: text as objects (``None`` missing, not yet
    stripped), numbers and dates (days since 1970-01-01) as float64 (NaN missing).

    The frame-to-array step of the column helpers (``text_col``, ``num_col``,
    ``day_col``); what follows works on these arrays alone, so a worker given as
    one row of them (a cached snapshot row, a row read straight from the store)
    encodes exactly as the frame does. An absent column reads as missing.
    """
    out: dict[str, np.ndarray] = {}
    n = len(frame)
    for name in ROW_COLUMNS:
        if name in _NUMBERS:
            out[name] = num_col(frame, name)
        elif name in _DAYS:
            out[name] = day_col(frame, name)
        elif name in frame.columns:
            out[name] = frame[name].to_numpy(dtype=object, na_value=None)
        else:
            out[name] = np.full(n, None, dtype=object)
    return out


def worker_row(columns: Mapping[str, np.ndarray], pos: int) -> dict[str, object]:
    """Row ``pos`` of :func:`worker_columns` arrays, as the dict ``encode_row`` takes."""
    return {name: columns[name][pos] for name in ROW_COLUMNS}


def _one(value: object, name: str) -> np.ndarray:
    if name in _NUMBERS or name in _DAYS:
        return np.array([np.nan if value is None else value], dtype=np.float64)
    out = np.empty(1, dtype=object)
    out[0] = value
    return out


def _text(values: np.ndarray) -> np.ndarray:
    """``text_col`` after the frame: stripped strings, ``None`` for missing or blank."""
    if len(values) == 1:
        return _one(_clean(values[0]), "")
    positions, uniques = distinct(values)
    return per_distinct(positions, [_clean(u) for u in uniques], None)


def _enum(values: np.ndarray, levels: Sequence[str], default: int = -1) -> np.ndarray:
    """``enum_col`` after the frame."""
    lookup = {v: k for k, v in enumerate(levels)}
    positions, uniques = distinct(values)
    codes = [lookup.get(str(u).strip().lower(), default) for u in uniques]
    return per_distinct(positions, codes, default, dtype=np.int8)
