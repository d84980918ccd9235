"""Sparse-matrix helpers shared by the encoders and pair features."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import scipy.sparse as sp

__all__ = [
    "rows_to_csr", "row_arrays", "max_product", "binarise", "link_matrix", "replace_rows",
    "row_max_product", "row_maximum", "one_row_csr",
]


def rows_to_csr(rows: Sequence[tuple[np.ndarray, np.ndarray]], n_cols: int) -> sp.csr_matrix:
    """CSR from per-row ``(sorted unique columns, values)`` arrays (cheap concatenation)."""
    lengths = np.fromiter((len(r[0]) for r in rows), dtype=np.int64, count=len(rows))
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    if indptr[-1] == 0:
        return sp.csr_matrix((len(rows), n_cols), dtype=np.float32)
    indices = np.concatenate([r[0] for r in rows]).astype(np.int32)
    data = np.concatenate([r[1] for r in rows]).astype(np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(len(rows), n_cols))


def row_arrays(pairs: Iterable[tuple[int, float]]) -> tuple[np.ndarray, np.ndarray]:
    """One row's ``(column, value)`` pairs as sorted unique arrays (largest value kept)."""
    best: dict[int, float] = {}
    for c, v in pairs:
        if v > best.get(c, 0.0):
            best[c] = v
    cols = sorted(best)
    return np.asarray(cols, dtype=np.int32), np.asarray([best[c] for c in cols], dtype=np.float32)


def link_matrix(pairs: Iterable[tuple[int, int, float]], shape: tuple[int, int]) -> sp.csr_matrix:
    """CSR from ``(row, col, weight)`` triples; duplicates keep the largest weight."""
    triples = list(pairs)
    if not triples:
        return sp.csr_matrix(shape, dtype=np.float32)
    r, c, v = (np.asarray(x) for x in zip(*triples, strict=True))
    order = np.lexsort((-v, c, r))
    r, c, v = r[order], c[order], v[order]
    keep = np.ones(len(r), dtype=bool)
    keep[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    return sp.csr_matrix((v[keep].astype(np.float32), (r[keep], c[keep])), shape=shape)


def max_product(a: sp.csr_matrix, b: sp.csr_matrix) -> sp.csr_matrix:
    """``C[r, o] = max_s A[r, s] * B[s, o]`` (a max-times matrix product).

    Used to carry confidences along taxonomy links (skill -> occupation, skill ->
    parent skill) without letting several weak links add up past 1.
    """
    if a.shape[0] == 1 and isinstance(a, sp.csr_matrix) and isinstance(b, sp.csr_matrix):
        # one worker per request: the same arithmetic on the row's arrays, one CSR built at the end
        lo, hi = a.indptr[0], a.indptr[1]
        cols, vals = row_max_product(a.indices[lo:hi], a.data[lo:hi], b)
        return one_row_csr(cols, vals, b.shape[1])
    a = a.tocoo()
    b = sp.csr_matrix(b)
    counts = np.diff(b.indptr)[a.col]
    total = int(counts.sum())
    n_rows, n_cols = a.shape[0], b.shape[1]
    if total == 0:
        return sp.csr_matrix((n_rows, n_cols), dtype=np.float32)
    starts = np.repeat(b.indptr[a.col], counts)
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    idx = starts + offsets
    rows = np.repeat(a.row, counts).astype(np.int64)
    cols = b.indices[idx].astype(np.int64)
    vals = np.repeat(a.data, counts) * b.data[idx]
    key = rows * n_cols + cols
    order = np.argsort(key, kind="stable")
    key, vals = key[order], vals[order]
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    starts = np.flatnonzero(first)
    best = np.maximum.reduceat(vals, starts)
    ukey = key[starts]
    out = sp.csr_matrix(
        (best.astype(np.float32), (ukey // n_cols, ukey % n_cols)), shape=(n_rows, n_cols)
    )
    out.eliminate_zeros()
    return out


def row_max_product(cols: np.ndarray, vals: np.ndarray, b: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """One row of :func:`max_product`, given and returned as (sorted columns int32, values float32).

    The matrix version's steps restricted to row 0 (same products, same maxima, zeros
    dropped), without the scipy constructors that dominate at one row.
    """
    cols = np.asarray(cols, dtype=np.int64)
    counts = np.diff(b.indptr)[cols]
    total = int(counts.sum())
    if total == 0:
        return _NO_COLS, _NO_VALS
    starts = np.repeat(b.indptr[cols], counts)
    idx = starts + (np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts))
    key = b.indices[idx].astype(np.int64)
    prod = np.repeat(vals, counts) * b.data[idx]
    order = np.argsort(key, kind="stable")
    key, prod = key[order], prod[order]
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    at = np.flatnonzero(first)
    best = np.maximum.reduceat(prod, at).astype(np.float32)
    keep = best != 0
    return key[at][keep].astype(np.int32), best[keep]


def row_maximum(a_cols: np.ndarray, a_vals: np.ndarray, b_cols: np.ndarray, b_vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One row of ``csr_a.maximum(csr_b)``: union of the columns, absent entries count as 0,
    zero results dropped (as scipy's binary op does)."""
    cols = np.union1d(a_cols, b_cols)
    dtype = np.result_type(a_vals.dtype, b_vals.dtype)
    x = np.zeros(len(cols), dtype=dtype)
    y = np.zeros(len(cols), dtype=dtype)
    x[np.searchsorted(cols, a_cols)] = a_vals
    y[np.searchsorted(cols, b_cols)] = b_vals
    m = np.maximum(x, y)
    keep = m != 0
    return cols[keep].astype(np.int32), m[keep]


def one_row_csr(cols: np.ndarray, vals: np.ndarray, n_cols: int) -> sp.csr_matrix:
    """A 1 x n_cols CSR from sorted unique columns and their values."""
    indptr = np.array([0, len(cols)], dtype=np.int32)
    return sp.csr_matrix((np.asarray(vals, dtype=np.float32), np.asarray(cols, dtype=np.int32), indptr), shape=(1, n_cols))


def binarise(m: sp.csr_matrix, threshold: float = 0.0) -> sp.csr_matrix:
    """1.0 where the value exceeds ``threshold`` (same sparsity pattern otherwise dropped)."""
    if m.shape[0] == 1 and isinstance(m, sp.csr_matrix):  # one worker per request: no copy and prune
        lo, hi = m.indptr[0], m.indptr[1]
        keep = m.data[lo:hi] > threshold
        cols = m.indices[lo:hi][keep]
        return one_row_csr(cols, np.ones(len(cols), dtype=np.float32), m.shape[1])
    out = m.copy()
    out.data = (out.data > threshold).astype(np.float32)
    out.eliminate_zeros()
    return out


_NO_COLS = np.zeros(0, dtype=np.int32)
_NO_VALS = np.zeros(0, dtype=np.float32)


def replace_rows(m: sp.csr_matrix, rows: np.ndarray, new: sp.csr_matrix) -> sp.csr_matrix:
    """``m`` with ``m[rows]`` replaced by the rows of ``new`` (vectorised)."""
    keep = np.ones(m.shape[0], dtype=np.float32)
    keep[rows] = 0.0
    scatter = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, np.arange(len(rows)))), shape=(m.shape[0], len(rows))
    )
    out = (sp.diags(keep) @ m + scatter @ new).tocsr().astype(np.float32)
    out.eliminate_zeros()
    out.sort_indices()
    return out
