"""Skill and certificate demand by province, learned from the open jobs.

A course is worth more to a worker when it teaches what employers near them
ask for. ``SkillDemand`` is fitted on a jobs block and each job's openings:
demand for skill *s* in province *p* is the share of openings in *p* that ask
for *s* (weighted by the normaliser's confidence), shrunk towards the national
share with ``prior_openings`` pseudo-openings so a province with few postings
does not get extreme values. The caller decides which jobs count (e.g. those
open in the window before ``as_of``), so the features never see the future.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from recommender.features.block import EntityBlock

__all__ = ["SkillDemand"]


def _province_of(codes: np.ndarray | int | str) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(codes))
    if arr.dtype.kind not in "iu":
        arr = np.array([int(c) if c is not None and str(c).isdigit() else -1 for c in arr.ravel()], dtype=np.int64)
    arr = arr.astype(np.int64)
    return np.where(arr > 0, arr // 10000 * 10000, -1)


class SkillDemand(TransformerMixin, BaseEstimator):
    """Per-province and national demand vectors over skills and certificates.

    ``fit(jobs, openings=None)``: ``jobs`` is a JobEncoder block; ``openings``
    defaults to ``jobs.num["openings"]`` (1 where absent).
    ``transform(region_codes)`` returns the dense skill-demand rows (n x skills)
    for the provinces of the given region codes; an unknown province gets the
    national vector.
    """

    def __init__(self, *, prior_openings: float = 50.0) -> None:
        self.prior_openings = prior_openings

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # an EntityBlock, not a numeric matrix
        tags.target_tags.required = False
        return tags

    def fit(self, jobs: EntityBlock, y: object = None, *, openings: np.ndarray | None = None) -> SkillDemand:
        if not isinstance(jobs, EntityBlock):
            raise TypeError(f"SkillDemand.fit takes a jobs EntityBlock, got {type(jobs).__name__}")
        n = len(jobs)
        if openings is None:
            openings = jobs.num.get("openings", np.ones(n))
        weight = np.nan_to_num(np.asarray(openings, dtype=np.float64), nan=1.0).clip(min=0.0)
        province = _province_of(jobs.num["province"]) if "province" in jobs.num else np.full(n, -1)
        provinces = np.unique(province[province > 0])
        row = np.searchsorted(provinces, province)
        row = np.where(province > 0, row, len(provinces))  # unknown province: national only
        n_rows = len(provinces) + 1
        agg = sp.csr_matrix((weight, (row, np.arange(n))), shape=(n_rows, n))
        totals = np.asarray(agg.sum(axis=1)).ravel()

        def vectors(m: sp.csr_matrix) -> np.ndarray:
            sums = np.asarray((agg @ m).todense(), dtype=np.float64)
            national = sums.sum(axis=0) / max(totals.sum(), 1e-9)
            k = float(self.prior_openings)
            with np.errstate(divide="ignore", invalid="ignore"):
                out = (sums + k * national[None, :]) / (totals[:, None] + k)
            out = np.nan_to_num(out, nan=0.0)
            out[-1] = national
            return out.astype(np.float32)

        self.provinces_ = provinces
        self.skills_ = vectors(jobs.skills)
        self.certs_ = vectors(jobs.certs)
        self.openings_ = totals
        self.skill_ids_ = tuple(jobs.skill_ids)
        self.cert_ids_ = tuple(jobs.cert_ids)
        return self

    def rows(self, region_codes: np.ndarray | int | str) -> np.ndarray:
        """Row of ``skills_`` / ``certs_`` for each region's province (last row = national)."""
        check_is_fitted(self, "skills_")
        province = _province_of(region_codes)
        pos = np.searchsorted(self.provinces_, province)
        pos = np.minimum(pos, max(len(self.provinces_) - 1, 0))
        found = (len(self.provinces_) > 0) & (self.provinces_[pos] == province) if len(self.provinces_) else np.zeros(len(province), bool)
        return np.where(found, pos, len(self.provinces_))

    @property
    def national_row(self) -> int:
        check_is_fitted(self, "skills_")
        return len(self.provinces_)

    def skill_demand(self, region_codes: np.ndarray | int | str) -> np.ndarray:
        """Dense skill demand (n x skills) for the regions' provinces."""
        check_is_fitted(self, "skills_")
        return self.skills_[self.rows(region_codes)]

    def cert_demand(self, region_codes: np.ndarray | int | str) -> np.ndarray:
        """Dense certificate demand (n x certs) for the regions' provinces."""
        check_is_fitted(self, "certs_")
        return self.certs_[self.rows(region_codes)]

    def transform(self, X: np.ndarray) -> np.ndarray:
        return self.skill_demand(X)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        check_is_fitted(self, "skills_")
        return np.asarray([f"demand__{s}" for s in self.skill_ids_], dtype=object)
