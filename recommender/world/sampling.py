"""Vectorised sampling helpers shared by the generator's stages.

Calibrated marginals are drawn by *quota* (exact counts, then shuffled)
rather than independently, so that a 2,000-worker world hits its targets as
closely as a million-worker one and no seed lands outside the tolerance.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MASK_WORDS = 2  # skills live in a 128-bit mask (two uint64 words)


def rng_for(seed: int, *stream: int) -> np.random.Generator:
    """An independent generator per (seed, stage, chunk...): stages never shift each other."""
    return np.random.default_rng([int(seed), *map(int, stream)])


def quota_counts(n: int, probs: Sequence[float] | np.ndarray) -> np.ndarray:
    """Integer counts summing to n, as close to n*probs as possible (largest remainder)."""
    p = np.asarray(probs, dtype=np.float64)
    total = p.sum()
    if n <= 0 or total <= 0:
        return np.zeros(len(p), dtype=np.int64)
    exact = n * p / total
    counts = np.floor(exact).astype(np.int64)
    short = n - int(counts.sum())
    if short > 0:
        order = np.argsort(-(exact - counts), kind="stable")
        counts[order[:short]] += 1
    return counts


def quota_labels(rng: np.random.Generator, n: int, probs: Sequence[float] | np.ndarray) -> np.ndarray:
    """n labels 0..K-1 with exact quota counts, in random order."""
    counts = quota_counts(n, probs)
    labels = np.repeat(np.arange(len(counts), dtype=np.int16), counts)
    rng.shuffle(labels)
    return labels


def stratified_labels(
    rng: np.random.Generator, strata: np.ndarray, probs: np.ndarray
) -> np.ndarray:
    """Per-stratum quota labels: ``probs[s]`` is the distribution within stratum ``s``."""
    out = np.zeros(len(strata), dtype=np.int16)
    for s in np.unique(strata):
        where = np.flatnonzero(strata == s)
        out[where] = quota_labels(rng, len(where), probs[s])
    return out


def sinkhorn(
    row_counts: np.ndarray, col_targets: np.ndarray, affinity: np.ndarray, iters: int = 300
) -> np.ndarray:
    """Scale ``affinity`` so rows sum to ``row_counts`` and columns to ``col_targets``.

    Used to give workers a trade that depends on who they are (gender, age,
    education, outbound) while the totals per trade still meet the targets.
    """
    x = affinity.astype(np.float64) + 1e-12
    col_targets = col_targets * (row_counts.sum() / max(col_targets.sum(), 1e-12))
    for _ in range(iters):
        x *= (row_counts / np.maximum(x.sum(axis=1), 1e-12))[:, None]
        x *= (col_targets / np.maximum(x.sum(axis=0), 1e-12))[None, :]
    x *= (row_counts / np.maximum(x.sum(axis=1), 1e-12))[:, None]
    return x


def sinkhorn_bounded(
    row_targets: np.ndarray, col_targets: np.ndarray, seed: np.ndarray, upper: np.ndarray, iters: int = 200
) -> np.ndarray:
    """Like ``sinkhorn`` but no cell may exceed ``upper`` (bounded raking).

    Where the bounds make the margins unreachable the result simply falls
    short; the caller checks the margins it got.
    """
    x = seed.astype(np.float64) + 1e-12
    for _ in range(iters):
        x *= (row_targets / np.maximum(x.sum(axis=1), 1e-12))[:, None]
        x = np.minimum(x, upper)
        x *= (col_targets / np.maximum(x.sum(axis=0), 1e-12))[None, :]
        x = np.minimum(x, upper)
    return x


def round_rows(x: np.ndarray) -> np.ndarray:
    """Integer matrix with each row's sum preserved (largest remainder per row)."""
    out = np.zeros(x.shape, dtype=np.int64)
    for i in range(x.shape[0]):
        out[i] = quota_counts(int(round(x[i].sum())), x[i])
    return out


def weighted_choice(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    """Indices drawn with probability proportional to ``weights`` (cumulative search)."""
    cum = np.cumsum(np.asarray(weights, dtype=np.float64))
    u = rng.random(size) * cum[-1]
    return np.minimum(np.searchsorted(cum, u, side="right"), len(cum) - 1)


def stratified_normal(rng: np.random.Generator, n: int) -> np.ndarray:
    """Standard normal values spread evenly over quantiles: low-variance noise for small worlds."""
    if n == 0:
        return np.zeros(0)
    from statistics import NormalDist

    u = (rng.permutation(n) + rng.random(n)) / n
    inv = np.vectorize(NormalDist().inv_cdf, otypes=[np.float64])
    return inv(np.clip(u, 1e-9, 1 - 1e-9))


def popcount(words: np.ndarray) -> np.ndarray:
    """Set bits per row of a (n, MASK_WORDS) uint64 mask, or of a 1-D uint64 array."""
    counts = np.bitwise_count(words)
    return counts.sum(axis=-1) if counts.ndim > 1 else counts


def mask_from_ids(ids: np.ndarray, words: int = MASK_WORDS) -> np.ndarray:
    """(n, words) uint64 masks from an (n, k) array of ids (-1 = empty slot)."""
    n = ids.shape[0]
    out = np.zeros((n, words), dtype=np.uint64)
    for j in range(ids.shape[1]):
        col = ids[:, j]
        ok = col >= 0
        word = (col[ok] // 64).astype(np.int64)
        bit = np.left_shift(np.uint64(1), (col[ok] % 64).astype(np.uint64))
        rows = np.flatnonzero(ok)
        for w in range(words):
            sel = word == w
            out[rows[sel], w] |= bit[sel]
    return out


class GroupIndex:
    """Items grouped by an integer key, for drawing a random item of a given key fast.

    ``draw(keys, u)`` returns, for each query key, a uniformly chosen item with
    that key (``u`` in [0, 1)), or -1 where no item has the key.
    """

    def __init__(self, keys: np.ndarray) -> None:
        keys = np.asarray(keys, dtype=np.int64)
        self.order = np.argsort(keys, kind="stable")
        sorted_keys = keys[self.order]
        self.uniq, self.starts, self.counts = np.unique(
            sorted_keys, return_index=True, return_counts=True
        )

    def count(self, queries: np.ndarray) -> np.ndarray:
        """How many items have each query key."""
        if len(self.uniq) == 0:
            return np.zeros(len(queries), dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.uniq, queries), len(self.uniq) - 1)
        return np.where(self.uniq[pos] == queries, self.counts[pos], 0)

    def draw(self, queries: np.ndarray, u: np.ndarray) -> np.ndarray:
        """One item per query key (chosen by ``u``), or -1 where the key has none."""
        if len(self.uniq) == 0:
            return np.full(len(queries), -1, dtype=np.int64)
        queries = np.asarray(queries, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.uniq, queries), len(self.uniq) - 1)
        found = self.uniq[pos] == queries
        offset = np.minimum((u * self.counts[pos]).astype(np.int64), self.counts[pos] - 1)
        item = self.order[self.starts[pos] + offset]
        return np.where(found, item, -1)


def draw_chain(
    indexes: Sequence[tuple[GroupIndex, np.ndarray]], u: np.ndarray
) -> np.ndarray:
    """Draw from the first (index, query keys) level that has an item; -1 if none has."""
    out = np.full(len(u), -1, dtype=np.int64)
    for index, queries in indexes:
        todo = out < 0
        if not todo.any():
            break
        out[todo] = index.draw(queries[todo], u[todo])
    return out


def group_argmax(groups: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Index of the highest score within each run of equal ``groups`` (groups sorted)."""
    order = np.lexsort((-scores, groups))
    first = np.ones(len(order), dtype=bool)
    first[1:] = groups[order][1:] != groups[order][:-1]
    return order[first]
