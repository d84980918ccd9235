"""Encoded entities and the pairs that bring them together.

An :class:`EntityBlock` is what an encoder makes of a frame of workers, jobs or
courses: sparse skill / certificate / occupation matrices plus named numeric
arrays, all aligned by row, so pair features are array arithmetic over rows
instead of per-record Python. A :class:`PairSet` says which worker meets which
item and when. Blocks are treated as immutable once built: derived arrays that
several featurisers need (binarised skills, region groups) are cached on the
block, and ``take`` returns a fresh block with an empty cache.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["EntityBlock", "PairSet", "as_day_array"]


def _csr(m: Any, n_rows: int) -> sp.csr_matrix:
    if m is None:
        return sp.csr_matrix((n_rows, 0), dtype=np.float32)
    out = m if isinstance(m, sp.csr_matrix) else sp.csr_matrix(m)
    return out.astype(np.float32, copy=False)


@dataclass(eq=False)
class EntityBlock:
    """Encoded entities, arrays aligned by row.

    ``skill_ids`` / ``cert_ids`` / ``occupation_codes`` name the matrix columns
    (the taxonomy vocabulary the encoder used), so consumers can check that two
    blocks share a vocabulary and can name what a column means.
    """

    ids: np.ndarray
    skills: sp.csr_matrix
    certs: sp.csr_matrix
    occupations: sp.csr_matrix
    num: dict[str, np.ndarray] = field(default_factory=dict)
    skill_ids: tuple[str, ...] = ()
    cert_ids: tuple[str, ...] = ()
    occupation_codes: tuple[str, ...] = ()
    _cache: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.ids = np.asarray(self.ids, dtype=object)
        n = len(self.ids)
        self.skills = _csr(self.skills, n)
        self.certs = _csr(self.certs, n)
        self.occupations = _csr(self.occupations, n)
        for name, m in (("skills", self.skills), ("certs", self.certs), ("occupations", self.occupations)):
            if m.shape[0] != n:
                raise ValueError(f"EntityBlock.{name} has {m.shape[0]} rows for {n} ids")
        for key, arr in self.num.items():
            if len(arr) != n:
                raise ValueError(f"EntityBlock.num[{key!r}] has {len(arr)} rows for {n} ids")

    def __len__(self) -> int:
        return len(self.ids)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_cache"] = {}
        return state

    def take(self, idx: Sequence[int] | np.ndarray) -> EntityBlock:
        """Row subset (or reordering / repetition) as a new block."""
        idx = np.asarray(idx)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        return EntityBlock(
            ids=self.ids[idx],
            skills=self.skills[idx],
            certs=self.certs[idx],
            occupations=self.occupations[idx],
            num={k: v[idx] for k, v in self.num.items()},
            skill_ids=self.skill_ids,
            cert_ids=self.cert_ids,
            occupation_codes=self.occupation_codes,
        )

    def index_of(self, ids: Sequence[object] | np.ndarray | object) -> np.ndarray:
        """Row positions of ids; raises ``LookupError`` naming the ids that are absent."""
        from recommender.errors import NotFoundError

        scalar = np.ndim(ids) == 0
        wanted = np.atleast_1d(np.asarray(ids, dtype=object))
        index = self._cached("id_index", lambda: pd.Index(self.ids))
        pos = index.get_indexer(wanted)
        if (pos < 0).any():
            missing = [str(v) for v in wanted[pos < 0][:5]]
            raise NotFoundError(f"not in this block: {', '.join(missing)}")
        return pos[0] if scalar else pos

    def _cached(self, key: Any, build: Callable[[], Any]) -> Any:
        """A derived value, built once per block (blocks are not mutated after encoding)."""
        try:
            return self._cache[key]
        except KeyError:
            value = self._cache[key] = build()
            return value


def as_day_array(value: object) -> np.ndarray:
    """Dates (scalar, sequence, pandas or numpy) as ``datetime64[D]``; NaT stays NaT."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "M":
        return value.astype("datetime64[D]")
    if isinstance(value, (str, dt.date, pd.Timestamp, np.datetime64)):
        return np.asarray(pd.Timestamp(value).to_datetime64()).astype("datetime64[D]")
    ts = pd.to_datetime(pd.Series(np.asarray(value, dtype=object)), errors="coerce")
    return ts.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")


@dataclass(eq=False)
class PairSet:
    """Which worker meets which item, and when.

    ``as_of`` is one date for all pairs (a 0-d array) or one per pair. Build one
    worker against a whole block with :meth:`one_to_many`; featurisers detect
    that shape and take a faster path. To featurise a worker's candidates, keep
    the full block of open items and pass ``items_idx`` rather than
    ``items.take(...)``: the block's caches (built by the first request, or by
    ``featuriser.prepare(items)``) are then reused.
    """

    workers: EntityBlock
    items: EntityBlock
    w: np.ndarray
    i: np.ndarray
    as_of: np.ndarray

    def __post_init__(self) -> None:
        self.w = np.asarray(self.w, dtype=np.intp).ravel()
        self.i = np.asarray(self.i, dtype=np.intp).ravel()
        if self.w.shape != self.i.shape:
            raise ValueError(f"PairSet: w has {len(self.w)} entries but i has {len(self.i)}")
        self.as_of = as_day_array(self.as_of)
        if self.as_of.ndim > 1 or (self.as_of.ndim == 1 and len(self.as_of) != len(self.w)):
            raise ValueError("PairSet.as_of must be one date or one date per pair")
        if len(self.w):
            if self.w.min() < 0 or self.w.max() >= len(self.workers):
                raise IndexError("PairSet.w points outside the workers block")
            if self.i.min() < 0 or self.i.max() >= len(self.items):
                raise IndexError("PairSet.i points outside the items block")

    def __len__(self) -> int:
        return len(self.w)

    @classmethod
    def one_to_many(
        cls,
        workers: EntityBlock,
        items: EntityBlock,
        as_of: object,
        *,
        worker: int = 0,
        items_idx: np.ndarray | None = None,
    ) -> PairSet:
        """One worker (row ``worker``) against all items, or against ``items_idx``."""
        i = np.arange(len(items)) if items_idx is None else np.asarray(items_idx)
        return cls(workers, items, np.full(len(i), worker, dtype=np.intp), i, as_of)

    @classmethod
    def from_ids(
        cls,
        workers: EntityBlock,
        items: EntityBlock,
        worker_ids: Sequence[object],
        item_ids: Sequence[object],
        as_of: object,
    ) -> PairSet:
        """Pairs named by ids (e.g. rows of placements.csv)."""
        return cls(workers, items, workers.index_of(worker_ids), items.index_of(item_ids), as_of)
