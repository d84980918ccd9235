"""The taxonomy as matrices: column vocabularies and the links between them.

Encoders turn free text into canonical ids with the normalisers; this module
gives those ids fixed column positions and turns the taxonomy's links into
sparse matrices, so "a CO2 welder can weld", "a 焊工证 holder welds" and "an
A1 licence covers C1" are one sparse product each instead of Python loops.
Every link here is a fact of the taxonomy or of the law, never fitted to data.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from recommender.features._sparse import link_matrix
from recommender.taxonomy import Taxonomy, load_taxonomy

__all__ = ["Vocabulary", "build_vocabulary", "cached_taxonomy", "LICENCE_COVERS", "occupation_group"]

#: Vehicle classes a driving licence also permits (准驾车型, 《机动车驾驶证申领和使用规定》 annex).
LICENCE_COVERS: dict[str, tuple[str, ...]] = {
    "dl_a1": ("dl_a3", "dl_b1", "dl_b2", "dl_c1", "dl_c2", "dl_c3", "dl_c4", "dl_m"),
    "dl_a2": ("dl_b1", "dl_b2", "dl_c1", "dl_c2", "dl_c3", "dl_c4", "dl_m"),
    "dl_a3": ("dl_c1", "dl_c2", "dl_c3", "dl_c4"),
    "dl_b1": ("dl_c1", "dl_c2", "dl_c3", "dl_c4", "dl_m"),
    "dl_b2": ("dl_c1", "dl_c2", "dl_c3", "dl_c4", "dl_m"),
    "dl_c1": ("dl_c2", "dl_c3", "dl_c4"),
    "dl_c3": ("dl_c4",),
    "dl_d": ("dl_e", "dl_f"),
    "dl_e": ("dl_f",),
}


@functools.lru_cache(maxsize=4)
def _load(extra_dir: str | None) -> Taxonomy:
    return load_taxonomy(extra_dir)


def cached_taxonomy(extra_dir: Path | str | None = None) -> Taxonomy:
    """The taxonomy, loaded once per extension folder (several encoders share it)."""
    return _load(None if extra_dir is None else str(Path(extra_dir)))


def occupation_group(code: str, level: str = "minor") -> str:
    """CSCO group of a code: minor ``6-18-02-04`` -> ``6-18-02``; major -> ``6``."""
    return code[:7] if level == "minor" else code[:1]


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """Column vocabularies and link matrices (all CSR float32)."""

    skill_ids: tuple[str, ...]
    cert_ids: tuple[str, ...]
    occupation_codes: tuple[str, ...]
    skill_implies: sp.csr_matrix  # skills x skills: itself 1, ancestors parent_weight**depth
    cert_implies: sp.csr_matrix  # certs x certs: itself 1, licence classes covered, lower skill levels
    cert_skills: sp.csr_matrix  # certs x skills: skills a certificate attests
    skill_occupations: sp.csr_matrix  # skills x occupations: 1 for the most typical, else secondary weight
    cert_occupations: sp.csr_matrix  # certs x occupations
    taxonomy_version: str = ""

    @property
    def n_skills(self) -> int:
        return len(self.skill_ids)

    @property
    def n_certs(self) -> int:
        return len(self.cert_ids)

    @property
    def n_occupations(self) -> int:
        return len(self.occupation_codes)

    def skill_index(self) -> dict[str, int]:
        return {s: k for k, s in enumerate(self.skill_ids)}

    def cert_index(self) -> dict[str, int]:
        return {s: k for k, s in enumerate(self.cert_ids)}

    def occupation_index(self) -> dict[str, int]:
        return {s: k for k, s in enumerate(self.occupation_codes)}


def build_vocabulary(
    tax: Taxonomy, *, parent_weight: float = 0.9, secondary_occupation_weight: float = 0.6
) -> Vocabulary:
    """Vocabularies in taxonomy order and the link matrices between them.

    Occupation columns are every CSCO code (levels 1-4): the title classifier
    answers a generic title (普工) with a major group, which must not be lost.
    """
    skill_ids = tuple(tax.skills["skill_id"])
    cert_ids = tuple(tax.certificates["cert_id"])
    occ_codes = tuple(tax.groups["code"])
    s_idx = {s: k for k, s in enumerate(skill_ids)}
    c_idx = {c: k for k, c in enumerate(cert_ids)}
    o_idx = {o: k for k, o in enumerate(occ_codes)}
    ns, nc, no = len(skill_ids), len(cert_ids), len(occ_codes)

    parent = dict(zip(tax.skills["skill_id"], tax.skills["parent_id"], strict=True))
    implies = []
    for s in skill_ids:
        implies.append((s_idx[s], s_idx[s], 1.0))
        seen, cur, w = {s}, parent.get(s, ""), parent_weight
        while cur and cur in s_idx and cur not in seen:
            implies.append((s_idx[s], s_idx[cur], w))
            seen.add(cur)
            cur, w = parent.get(cur, ""), w * parent_weight
    skill_implies = link_matrix(implies, (ns, ns))

    cert_links = [(c_idx[c], c_idx[c], 1.0) for c in cert_ids]
    for c, covered in LICENCE_COVERS.items():
        for d in covered:
            if c in c_idx and d in c_idx:
                cert_links.append((c_idx[c], c_idx[d], 1.0))
    levels = {
        c: int(lv)
        for c, kind, lv in zip(tax.certificates["cert_id"], tax.certificates["kind"], tax.certificates["level"], strict=True)
        if kind == "skill_level" and str(lv).isdigit()
    }
    for c, lv in levels.items():  # level 1 (高级技师) is above level 5 (初级工)
        for d, lv2 in levels.items():
            if lv2 > lv:
                cert_links.append((c_idx[c], c_idx[d], 1.0))
    cert_implies = link_matrix(cert_links, (nc, nc))

    cert_skills = link_matrix(
        (
            (c_idx[c], s_idx[s], 1.0)
            for c, skills in zip(tax.certificates["cert_id"], tax.certificates["skill_ids"], strict=True)
            for s in skills
            if s in s_idx
        ),
        (nc, ns),
    )

    def occ_links(ids: tuple[str, ...], index: dict[str, int], codes_col) -> list[tuple[int, int, float]]:
        out = []
        for ident, codes in zip(ids, codes_col, strict=True):
            for rank, code in enumerate(codes):
                if code in o_idx:
                    out.append((index[ident], o_idx[code], 1.0 if rank == 0 else secondary_occupation_weight))
        return out

    skill_occupations = link_matrix(
        occ_links(tuple(tax.skills["skill_id"]), s_idx, tax.skills["occupation_codes"]), (ns, no)
    )
    cert_occupations = link_matrix(
        occ_links(tuple(tax.certificates["cert_id"]), c_idx, tax.certificates["occupation_codes"]), (nc, no)
    )
    return Vocabulary(
        skill_ids=skill_ids,
        cert_ids=cert_ids,
        occupation_codes=occ_codes,
        skill_implies=skill_implies,
        cert_implies=cert_implies,
        cert_skills=cert_skills,
        skill_occupations=skill_occupations,
        cert_occupations=cert_occupations,
        taxonomy_version=tax.version,
    )


def group_matrix(occupation_codes: tuple[str, ...], level: str = "minor") -> tuple[sp.csr_matrix, tuple[str, ...]]:
    """Occupations -> CSCO minor (or major) groups (1 where a code lies in the group).

    At major level a generic title (普工 -> ``6-00-00-00``) meets every
    production occupation; at minor level it meets none.
    """
    groups = tuple(dict.fromkeys(occupation_group(c, level) for c in occupation_codes))
    g_idx = {g: k for k, g in enumerate(groups)}
    rows = np.arange(len(occupation_codes))
    cols = np.array([g_idx[occupation_group(c, level)] for c in occupation_codes], dtype=np.int64)
    m = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(occupation_codes), len(groups))
    )
    return m, groups
