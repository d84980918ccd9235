"""Shared machinery of the pair featurisers: gathering, fast paths, geography, age.

Two shapes of :class:`PairSet` matter. Serving asks for *one worker against
many items*: worker values are then scalars; a skill product touches only the
item entries in the worker's few skill columns (a column gather on a cached
CSC copy and a ``bincount``); anything that depends only on the (worker, item
region) pair is computed once per distinct item region (a few thousand) and
gathered; item-only columns are computed once per block and copied. Training
asks for *many mixed pairs*: rows are gathered from both blocks and multiplied
element-wise. Both give the same numbers (a test checks it); neither loops
over pairs in Python.

Blocks are not mutated after encoding, so derived matrices and arrays are
cached on them (``EntityBlock._cached``); a new block starts with no cache.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from recommender.features._sparse import binarise, max_product
from recommender.features.block import EntityBlock, PairSet
from recommender.features.vocab import group_matrix
from recommender.regions import PlaceCodes, distance_km, place_codes, scope_codes, scope_prepared

__all__ = ["PairView", "PairFeaturizer", "EDUCATION_RANK", "AGE_BANDS", "age_band"]

EPOCH = np.datetime64("1970-01-01", "D")

#: Education as levels: senior high school and secondary vocational school are the
#: same (upper-secondary) level in China, so neither counts as "above" the other.
EDUCATION_RANK = np.array([0, 1, 2, 3, 3, 4, 5], dtype=np.float64)  # contract.EDUCATION_LEVELS order
#: Upper bounds of the age bands: <25, 25-34, 35-44, 45-54, 55-59, 60+ (band 0..5).
AGE_BANDS = np.array([25, 35, 45, 55, 60], dtype=np.float64)
HAS = 0.5  # confidence from which a worker counts as having a skill / certificate


def age_band(age: np.ndarray) -> np.ndarray:
    """Band 0..5 (see ``AGE_BANDS``); NaN where the age is unknown."""
    age = np.asarray(age, dtype=np.float64)
    return np.where(np.isnan(age), np.nan, np.digitize(age, AGE_BANDS)).astype(np.float64)


def education_rank(code: np.ndarray) -> np.ndarray:
    """Contract education ordinal (NaN unknown) -> level rank (NaN unknown)."""
    code = np.asarray(code, dtype=np.float64)
    ok = ~np.isnan(code)
    out = np.full(code.shape, np.nan)
    out[ok] = EDUCATION_RANK[code[ok].astype(np.intp)]
    return out


def _cached(block: EntityBlock, key: str, build: Any) -> Any:
    return block._cached(key, build)


def region_groups(block: EntityBlock) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct regions of a block and each row's position among them (cached)."""

    def build() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        codes = block.num["region"]
        uniq, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
        return uniq, inverse.astype(np.intp), block.num["lat"][first], block.num["lon"][first]

    return _cached(block, "region_groups", build)


def binary_skills(block: EntityBlock) -> sp.csr_matrix:
    return derived(block, "skills_bin")


def held(m: sp.csr_matrix) -> sp.csr_matrix:
    """1 where the confidence reaches ``HAS``."""
    return binarise(m, HAS - 1e-9)


_DERIVED = {
    "skills": lambda b: b.skills,
    "skills_bin": lambda b: binarise(b.skills),  # the item asks for / teaches the skill
    "skills_held": lambda b: held(b.skills),  # the worker has it (confidence >= HAS)
    "certs": lambda b: b.certs,
    "certs_bin": lambda b: binarise(b.certs),
    "certs_held": lambda b: held(b.certs),
    "occupations": lambda b: b.occupations,
}


def derived(block: EntityBlock, name: str) -> sp.csr_matrix:
    """A named matrix derived from a block (cached on it); ``occ_groups`` is set by the featuriser."""
    if name in ("skills", "certs", "occupations"):
        return getattr(block, name)
    return _cached(block, f"m:{name}", lambda: _DERIVED[name](block))


def derived_csc(block: EntityBlock, name: str) -> sp.csc_matrix:
    """CSC copy (float64) of a derived matrix, for the one-worker column gathers."""
    return _cached(block, f"csc:{name}", lambda: sp.csc_matrix(derived(block, name), dtype=np.float64))


def derived_rows(block: EntityBlock, name: str) -> sp.csr_matrix | None:
    """Float64 CSR copy of a derived matrix for :func:`row_dot` (cached); ``None`` when the
    matrix is not canonical (sorted, no duplicates), where only ``column_dot`` keeps the order."""

    def build() -> sp.csr_matrix | None:
        m = derived(block, name)
        if not m.has_canonical_format:
            return None
        return sp.csr_matrix((m.data.astype(np.float64), m.indices, m.indptr), shape=m.shape)

    return _cached(block, f"csr64:{name}", build)


def row_dot(csr: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> np.ndarray:
    """``column_dot(csc, cols, vals)[rows]``, bit for bit, touching only the given rows.

    Serving scores a few hundred candidates among 100,000 items: their rows hold a few
    thousand entries, the worker's columns over all items many more. Each row's terms are
    summed from 0 in ascending column order, as ``column_dot`` sums them when ``cols``
    ascend (the caller checks); the item's other columns add exact zeros.
    """
    n = len(rows)
    idx, counts = _row_entries(csr, rows)
    if len(idx) == 0 or len(cols) == 0:
        return np.zeros(n)
    dense = np.zeros(csr.shape[1])
    dense[cols] = vals
    terms = csr.data[idx] * dense[csr.indices[idx]]
    return np.bincount(np.repeat(np.arange(n), counts), weights=terms, minlength=n)


def _row_entries(csr: sp.csr_matrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions in ``csr.data`` of the given rows' entries, row after row, and each row's count."""
    starts = csr.indptr[rows]
    counts = csr.indptr[rows + 1] - starts
    total = int(counts.sum())
    return np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(total), counts


DENSE_WORKER_LOOKUP = 1 << 21  # worker x column cells up to which pairs_dot reads a dense copy


def pairs_dot(items: sp.csr_matrix, i: np.ndarray, workers: sp.csr_matrix, w: np.ndarray,
              weights: np.ndarray | None = None) -> np.ndarray:
    """``sum_k items[i, k] * workers[w, k] * weights[k]`` per pair, with :func:`row_dot`'s arithmetic.

    ``items``: a canonical float64 CSR (``derived_rows``); ``workers``: canonical CSR.
    Each term is the item's entry times (the worker's value times the weight), in float64,
    and a pair's terms are summed from 0 in ascending column order: the very numbers the
    one-worker path gives each worker, so scoring many workers' candidates in one pass
    changes nothing (a float32 product summed in float32 would differ in the last bit).
    """
    n = len(i)
    idx, counts = _row_entries(items, i)
    if len(idx) == 0 or workers.nnz == 0:
        return np.zeros(n)
    cols = items.indices[idx].astype(np.intp)
    wrow = np.repeat(np.asarray(w, dtype=np.intp), counts)
    n_workers, n_cols = workers.shape
    if n_workers * n_cols <= DENSE_WORKER_LOOKUP:
        values = workers.toarray().astype(np.float64)[wrow, cols]
    else:  # the worker's entry at (row, column), found by its position in the sorted CSR
        keys = np.repeat(np.arange(n_workers, dtype=np.int64), np.diff(workers.indptr)) * n_cols + workers.indices
        wanted = wrow.astype(np.int64) * n_cols + cols
        pos = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
        values = np.where(keys[pos] == wanted, workers.data[pos].astype(np.float64), 0.0)
    if weights is not None:
        values = values * np.asarray(weights, dtype=np.float64)[cols]
    terms = items.data[idx] * values
    return np.bincount(np.repeat(np.arange(n), counts), weights=terms, minlength=n)


def column_dot(csc: sp.csc_matrix, cols: np.ndarray, vals: np.ndarray) -> np.ndarray:
    """``csc[:, cols] @ vals`` without slicing: gather the columns' entries and bincount.

    One worker has a handful of skills; only the item entries in those columns
    are touched, instead of the whole item matrix.
    """
    n_rows = csc.shape[0]
    if len(cols) == 0:
        return np.zeros(n_rows)
    starts, ends = csc.indptr[cols], csc.indptr[cols + 1]
    counts = ends - starts
    total = int(counts.sum())
    if total == 0:
        return np.zeros(n_rows)
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    idx = np.repeat(starts, counts) + offsets
    weights = csc.data[idx] * np.repeat(np.asarray(vals, dtype=np.float64), counts)
    return np.bincount(csc.indices[idx], weights=weights, minlength=n_rows)


class PairView:
    """Per-pair access to both blocks with the one-worker / all-items shapes detected once."""

    def __init__(self, pairs: PairSet) -> None:
        self.pairs = pairs
        self.n = len(pairs)
        w, i = pairs.w, pairs.i
        self.one_worker = self.n > 0 and int(w.min()) == int(w.max())
        self.w0 = int(w[0]) if self.one_worker else -1
        n_items = len(pairs.items)
        self.all_items = (
            self.n == n_items and (self.n == 0 or (i[0] == 0 and i[-1] == n_items - 1 and bool((np.diff(i) == 1).all())))
        )
        as_of = pairs.as_of
        if as_of.ndim == 0:
            missing = bool(np.isnat(as_of))
            self.as_of_days: np.ndarray | float = np.nan if missing else float((as_of - EPOCH).astype(np.int64))
            self.as_of_year: np.ndarray | float = (
                np.nan if missing else float(as_of.astype("datetime64[Y]").astype(np.int64) + 1970)
            )
        else:
            days = (as_of - EPOCH).astype(np.float64)
            days[np.isnat(as_of)] = np.nan
            self.as_of_days = days
            years = (as_of.astype("datetime64[Y]").astype(np.int64) + 1970).astype(np.float64)
            years[np.isnat(as_of)] = np.nan
            self.as_of_year = years

    # -- gathering ---------------------------------------------------------------------
    def worker(self, key: str) -> np.ndarray | float:
        """A worker array per pair (a scalar on the one-worker path)."""
        arr = self.pairs.workers.num[key]
        if self.one_worker:
            return arr[self.w0].item()
        return arr[self.pairs.w]

    def item(self, key: str) -> np.ndarray:
        """An item array per pair (the block's own array when pairs cover all items in order)."""
        arr = self.pairs.items.num[key]
        return arr if self.all_items else arr[self.pairs.i]

    def per_item(self, values: np.ndarray) -> np.ndarray:
        """Values computed for every item of the block, gathered per pair."""
        return values if self.all_items else values[self.pairs.i]

    def worker_row(self, m: sp.csr_matrix) -> np.ndarray:
        """The single worker's row as a dense float64 vector (one-worker path)."""
        return np.asarray(m[self.w0].todense(), dtype=np.float64).ravel()

    def worker_entries(self, m: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        """(columns, values) of the single worker's row, straight from the CSR arrays."""
        lo, hi = m.indptr[self.w0], m.indptr[self.w0 + 1]
        return m.indices[lo:hi].astype(np.intp), m.data[lo:hi].astype(np.float64)

    def item_rows(self, m: sp.csr_matrix) -> sp.csr_matrix:
        return m if self.all_items else m[self.pairs.i]

    # -- products ----------------------------------------------------------------------------
    def dot(self, item_name: str, worker_name: str, weights: np.ndarray | None = None) -> np.ndarray:
        """``sum_k items[i, k] * workers[w, k] * weights[k]`` per pair, for named derived matrices."""
        if self.n == 0:
            return np.zeros(0)
        items, workers = self.pairs.items, self.pairs.workers
        if self.one_worker:
            cols, vals = self.worker_entries(derived(workers, worker_name))
            if weights is not None:
                vals = vals * weights[cols]
            if not self.all_items and (len(cols) < 2 or bool((cols[1:] > cols[:-1]).all())):
                rows = derived_rows(items, item_name)
                if rows is not None:
                    return row_dot(rows, self.pairs.i, cols, vals)
            return self.per_item(column_dot(derived_csc(items, item_name), cols, vals))
        wm = derived(workers, worker_name)
        rows = derived_rows(items, item_name)
        if rows is not None and wm.has_canonical_format:
            return pairs_dot(rows, self.pairs.i, wm, self.pairs.w, weights)
        prod = self.item_rows(derived(items, item_name)).multiply(wm[self.pairs.w]).tocsr()
        if weights is None:
            return np.asarray(prod.sum(axis=1), dtype=np.float64).ravel()
        return prod @ np.asarray(weights, dtype=np.float64)

    # -- geography ---------------------------------------------------------------------------
    def distance_and_scope(self, lat_key: str, lon_key: str, home_key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(distance from the worker's ``lat/lon`` km, distance from home km, scope of the
        item seen from the worker's home: 0 local, 1 province, 2 outbound, -1 unknown)."""
        items, workers = self.pairs.items, self.pairs.workers
        if self.n == 0:
            z = np.zeros(0)
            return z, z, z
        if self.one_worker:
            uniq, inverse, ulat, ulon = region_groups(items)
            w = self.w0
            inv = self.per_item(inverse)
            places = _item_places(items)
            if not self.all_items and len(inv) < len(uniq):  # only the candidates' places (elementwise: same numbers)
                used, inv = np.unique(inv, return_inverse=True)
                uniq, ulat, ulon, places = uniq[used], ulat[used], ulon[used], places.take(used)
            d_u = np.asarray(distance_km(workers.num[lat_key][w], workers.num[lon_key][w], ulat, ulon))
            d_home_u = np.asarray(distance_km(workers.num[f"home_{lat_key}"][w], workers.num[f"home_{lon_key}"][w], ulat, ulon))
            s_u = _scope(np.asarray([workers.num[home_key][w]]), uniq, places)
            inv = inv.ravel()
            return d_u[inv], d_home_u[inv], s_u[inv]
        w, i = self.pairs.w, self.pairs.i
        ilat, ilon = items.num["lat"][i], items.num["lon"][i]
        d = np.asarray(distance_km(workers.num[lat_key][w], workers.num[lon_key][w], ilat, ilon))
        d_home = np.asarray(distance_km(workers.num[f"home_{lat_key}"][w], workers.num[f"home_{lon_key}"][w], ilat, ilon))
        return d, d_home, _scope(workers.num[home_key][w], items.num["region"][i])

    def age(self) -> np.ndarray | float:
        """Age in whole years at ``as_of`` (birth month unknown: year difference)."""
        return self.as_of_year - np.asarray(self.worker("birth_year"), dtype=np.float64)


def _scope(home: np.ndarray, place: np.ndarray, prepared: PlaceCodes | None = None) -> np.ndarray:
    """scope_codes on canonical ints; -1 where either side is unknown. ``prepared``: the
    places already through ``place_codes`` (as :func:`_item_places` keeps them)."""
    home = np.asarray(home, dtype=np.int64)
    place = np.asarray(place, dtype=np.int64)
    ok = (home > 0) & (place > 0)
    if prepared is None:
        s = scope_codes(np.where(home > 0, home, 110000), np.where(place > 0, place, 110000), as_int=True)
    else:
        s = scope_prepared(place_codes(np.where(home > 0, home, 110000)), prepared)
    return np.where(ok, s, -1).astype(np.float64)


def _item_places(block: EntityBlock) -> PlaceCodes:
    """The block's distinct regions (``region_groups``) prepared for scope arithmetic (cached):
    ``place_codes`` is elementwise, so a subset is ``take`` of this."""
    uniq = region_groups(block)[0]
    return _cached(block, "region_places", lambda: place_codes(np.where(uniq > 0, uniq, 110000)))


_SAME_VOCAB: dict[tuple[int, ...], tuple[tuple[str, ...], ...]] = {}


class PairFeaturizer(TransformerMixin, BaseEstimator):
    """Base of the pair featurisers: tags, vocabulary checks, output buffer."""

    FEATURES: tuple[str, ...] = ()

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # a PairSet of encoded blocks, not a numeric matrix
        tags.input_tags.allow_nan = True
        tags.target_tags.required = False
        return tags

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray(self.FEATURES, dtype=object)

    def _check_pairs(self, pairs: object) -> PairSet:
        if not isinstance(pairs, PairSet):
            raise TypeError(f"{type(self).__name__} takes a PairSet, got {type(pairs).__name__}")
        return pairs

    def _fit_vocab(self, pairs: PairSet) -> None:
        items, workers = pairs.items, pairs.workers
        for attr in ("skill_ids", "cert_ids", "occupation_codes"):
            if getattr(items, attr) != getattr(workers, attr):
                raise ValueError(
                    f"workers and items were encoded with different taxonomies ({attr} differ); "
                    "fit all encoders with the same taxonomy_dir"
                )
        self.skill_ids_ = items.skill_ids
        self.cert_ids_ = items.cert_ids
        self.occupation_codes_ = items.occupation_codes
        self.groups_, self.group_codes_ = group_matrix(items.occupation_codes, "minor")
        self.majors_, self.major_codes_ = group_matrix(items.occupation_codes, "major")

    def _check_vocab(self, pairs: PairSet) -> None:
        check_is_fitted(self, "skill_ids_")
        for block in (pairs.items, pairs.workers):
            both = (block.skill_ids, block.cert_ids, block.occupation_codes, self.skill_ids_, self.cert_ids_, self.occupation_codes_)
            key = tuple(id(t) for t in both)
            hit = _SAME_VOCAB.get(key)
            if hit is not None and all(a is b for a, b in zip(hit, both, strict=True)):
                continue  # these very tuples were found equal before (a new worker block per request, same vocabulary)
            if (block.skill_ids, block.cert_ids, block.occupation_codes) != (
                self.skill_ids_,
                self.cert_ids_,
                self.occupation_codes_,
            ):
                raise ValueError(
                    f"{type(self).__name__} was fitted on blocks with another taxonomy vocabulary; "
                    "refit it, or encode with the encoders it was fitted with"
                )
            if len(_SAME_VOCAB) > 64:
                _SAME_VOCAB.clear()
            _SAME_VOCAB[key] = both  # holds the tuples, so their ids stay theirs

    def _set_groups(self, *blocks: EntityBlock) -> None:
        """Occupation vectors lifted to CSCO minor / major groups (max within a group),
        cached as the derived matrices ``occ_groups`` / ``occ_majors`` (the same
        vocabulary gives the same groups, so featurisers can share them)."""
        for block in blocks:
            block._cached("m:occ_groups", lambda b=block: max_product(b.occupations, self.groups_))
            block._cached("m:occ_majors", lambda b=block: max_product(b.occupations, self.majors_))

    #: derived item matrices the one-worker path gathers columns from
    _ITEM_MATRICES: tuple[str, ...] = ("skills", "skills_bin", "certs_bin", "occupations", "occ_groups", "occ_majors")

    def prepare(self, items: EntityBlock) -> EntityBlock:
        """Build an items block's caches now (region groups, CSC copies, item-only
        columns), so the first request after start-up is as fast as the others.

        Keep one block of open items and select candidates with
        ``PairSet.one_to_many(..., items_idx=...)``: ``EntityBlock.take`` makes a
        new block, whose caches start empty.
        """
        check_is_fitted(self, "skill_ids_")
        region_groups(items)
        _item_places(items)
        self._set_groups(items)
        for name in self._ITEM_MATRICES:
            derived_csc(items, name)
            derived_rows(items, name)
        self._prepare_items(items)
        return items

    def _prepare_items(self, items: EntityBlock) -> None:
        """Featuriser-specific item caches (overridden)."""

    def _item_static(self, items: EntityBlock, key: object, build: Any) -> np.ndarray:
        """Item-only feature rows (k x n_items float32), computed once per block and key."""
        return items._cached(("static", type(self).__name__, key), build)

    @staticmethod
    def _idf(items: EntityBlock, rows: np.ndarray) -> np.ndarray:
        """Smoothed IDF of each skill over the given item rows (sklearn's formula)."""
        b = binary_skills(items)[np.unique(rows)] if len(rows) else binary_skills(items)
        n = b.shape[0]
        df = np.asarray((b > 0).sum(axis=0), dtype=np.float64).ravel()
        return np.log((1.0 + n) / (1.0 + df)) + 1.0

    def _buffer(self, n: int) -> np.ndarray:
        return np.empty((len(self.FEATURES), n), dtype=np.float32)

    @staticmethod
    def _finish(buf: np.ndarray) -> np.ndarray:
        """(n_pairs x n_features) float32 view (column-major: each feature is contiguous)."""
        return buf.T
