"""What the worker, job and course encoders share: normalisers and string caches.

Real data repeats itself: 100,000 postings carry a few thousand distinct
titles and skill cells. Each distinct string is normalised once (per encoder
object, across calls), and rows are gathered from the distinct results, so
encoding cost follows the number of distinct strings, not of rows.
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from recommender.features._columns import distinct, per_distinct
from recommender.features._sparse import row_arrays, rows_to_csr
from recommender.features.block import EntityBlock
from recommender.features.vocab import Vocabulary, build_vocabulary, cached_taxonomy
from recommender.normalise import CertificateNormaliser, PostingHints, SkillNormaliser, TitleClassifier, parse_posting_text

__all__ = ["BaseEncoder", "join_cells"]

_Row = tuple[np.ndarray, np.ndarray]
_PACKED = ("skill_normaliser_", "cert_normaliser_", "title_classifier_", "_skill_index", "_cert_index", "_occ_index")
_MAX_CACHE = 500_000


def join_cells(*columns: np.ndarray) -> np.ndarray:
    """Row-wise union of list cells (``None`` where all are empty)."""
    out = np.empty(len(columns[0]), dtype=object)
    for k, parts in enumerate(zip(*columns, strict=True)):
        present = [p for p in parts if p]
        out[k] = ";".join(present) if present else None
    return out


class BaseEncoder(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Shared fit (taxonomy -> vocabulary + normalisers) and cached cell encoding.

    Subclasses list their numeric outputs in ``NUM_COLUMNS`` and implement
    ``_encode(frame)``. ``transform`` returns an :class:`EntityBlock`, which is
    not an array, so the set_output machinery is switched off.
    """

    NUM_COLUMNS: tuple[str, ...] = ()
    ID_COLUMN: str = ""
    _uses_titles: bool = False

    # -- sklearn plumbing ----------------------------------------------------------
    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # a frame of free text, not a numeric matrix
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True
        tags.requires_fit = True
        tags.target_tags.required = False
        return tags

    def __getstate__(self) -> dict[str, Any]:
        """No string caches in the file; the normalisers (many small dicts) go in as one
        blob from the C pickler, since joblib's pure-Python pickler is slow on them."""
        state = super().__getstate__()
        for key in ("_cells", "_titles", "_hints"):
            if key in state:
                state[key] = {}
        packed = {k: state.pop(k) for k in _PACKED if k in state}
        if packed:
            state["_packed"] = pickle.dumps(packed, protocol=pickle.HIGHEST_PROTOCOL)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        packed = state.pop("_packed", None)
        if packed is not None:
            state.update(pickle.loads(packed))  # noqa: S301 - our own state, inside our own bundle
        super().__setstate__(state)

    def fit(self, X: pd.DataFrame | None = None, y: object = None) -> BaseEncoder:
        """Build the vocabulary and normalisers from the taxonomy; ``X`` is not needed."""
        tax = cached_taxonomy(self.taxonomy_dir)  # type: ignore[attr-defined]
        self.vocab_: Vocabulary = build_vocabulary(tax, **self._vocab_params())
        self.skill_normaliser_ = SkillNormaliser(tax)
        self.cert_normaliser_ = CertificateNormaliser(tax)
        self.title_classifier_ = TitleClassifier(tax) if self._uses_titles else None
        self.taxonomy_version_ = tax.version
        self._skill_index = self.vocab_.skill_index()
        self._cert_index = self.vocab_.cert_index()
        self._occ_index = self.vocab_.occupation_index()
        self._cells: dict[tuple[str, str], tuple[_Row, int]] = {}
        self._titles: dict[tuple[str, int, float], _Row] = {}
        self._hints: dict[str, PostingHints] = {}
        return self

    def _vocab_params(self) -> dict[str, float]:
        return {}

    def transform(self, X: pd.DataFrame) -> EntityBlock:
        """Encode a typed frame (as ``Store.read_table`` returns it) into an EntityBlock."""
        check_is_fitted(self, "vocab_")
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"{type(self).__name__}.transform takes a pandas DataFrame, got {type(X).__name__}")
        if self.ID_COLUMN not in X.columns:
            raise ValueError(f"{type(self).__name__}: the frame has no {self.ID_COLUMN!r} column")
        block = self._encode(X)
        missing = set(self.NUM_COLUMNS) ^ set(block.num)
        if missing:  # a programming error, not a data error
            raise RuntimeError(f"{type(self).__name__} produced unexpected num columns: {sorted(missing)}")
        return block

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """Names of everything a block holds: ``skills__<id>``, ``certs__<id>``,
        ``occupations__<code>`` and ``num__<name>``."""
        check_is_fitted(self, "vocab_")
        names = (
            [f"skills__{s}" for s in self.vocab_.skill_ids]
            + [f"certs__{c}" for c in self.vocab_.cert_ids]
            + [f"occupations__{o}" for o in self.vocab_.occupation_codes]
            + [f"num__{n}" for n in self.NUM_COLUMNS]
        )
        return np.asarray(names, dtype=object)

    # -- cached encoding ----------------------------------------------------------------
    def _block(self, ids: np.ndarray, skills: sp.csr_matrix, certs: sp.csr_matrix, occ: sp.csr_matrix, num: dict[str, np.ndarray]) -> EntityBlock:
        return EntityBlock(
            ids=ids,
            skills=skills,
            certs=certs,
            occupations=occ,
            num=num,
            skill_ids=self.vocab_.skill_ids,
            cert_ids=self.vocab_.cert_ids,
            occupation_codes=self.vocab_.occupation_codes,
        )

    def _encode_cells(self, cells: np.ndarray, kind: str) -> tuple[sp.csr_matrix, np.ndarray]:
        """List cells -> (n x vocab CSR of confidences, count of unknown items per row)."""
        index = self._skill_index if kind == "skill" else self._cert_index
        positions, uniques = distinct(cells)
        keys = [(kind, str(u)) for u in uniques]
        todo = [k[1] for k in keys if k not in self._cells]
        if todo:
            if len(self._cells) + len(todo) > _MAX_CACHE:
                self._cells.clear()
                todo = [k[1] for k in keys]  # the cached ones went too
            self._normalise_cells(kind, todo)
        results = [self._cells[k] for k in keys] + [(_EMPTY_ROW, 0)]
        table = rows_to_csr([r[0] for r in results], len(index))
        unknown = np.array([r[1] for r in results], dtype=np.float32)
        rows = np.where(positions < 0, len(results) - 1, positions)
        return table[rows], unknown[rows]

    def _cell(self, kind: str, cell: str | None) -> tuple[_Row, int]:
        """One cleaned cell -> ((sorted columns, confidences), count of unknown items); the
        entry ``_encode_cells`` uses for it (``None``: nothing written)."""
        if cell is None:
            return _EMPTY_ROW, 0
        key = (kind, str(cell))
        hit = self._cells.get(key)
        if hit is None:
            if len(self._cells) >= _MAX_CACHE:
                self._cells.clear()
            self._normalise_cells(kind, [key[1]])
            hit = self._cells[key]
        return hit

    def _normalise_cells(self, kind: str, todo: list[str]) -> None:
        """Normalise cells not yet seen and cache their ((columns, confidences), unknown count)."""
        normaliser = self.skill_normaliser_ if kind == "skill" else self.cert_normaliser_
        index = self._skill_index if kind == "skill" else self._cert_index
        for cell, matches in zip(todo, normaliser.match_many(todo), strict=True):
            known = row_arrays((index[m.id], float(m.score)) for m in matches if m.id is not None and m.id in index)
            self._cells[(kind, cell)] = (known, sum(1 for m in matches if m.id is None))

    def _classify_titles(self, titles: np.ndarray, k: int, min_score: float) -> sp.csr_matrix:
        """Titles -> top-k CSCO codes with scores (n x occupations CSR)."""
        positions, uniques = distinct(titles)
        keys = [(str(u), k, min_score) for u in uniques]
        for key in keys:
            if key not in self._titles:
                if len(self._titles) > _MAX_CACHE:
                    self._titles.clear()
                found = self.title_classifier_.top_k(key[0], k)  # type: ignore[union-attr]
                self._titles[key] = row_arrays(
                    (self._occ_index[m.code], float(m.score))
                    for m in found
                    if m.code in self._occ_index and m.score >= min_score
                )
        table = rows_to_csr([self._titles[key] for key in keys] + [_EMPTY_ROW], len(self._occ_index))
        return table[np.where(positions < 0, len(keys), positions)]

    def _hint_arrays(self, texts: np.ndarray, attrs: tuple[str, ...]) -> dict[str, np.ndarray]:
        """``parse_posting_text`` once per distinct text, as float arrays per attribute
        (NaN where the text says nothing; booleans as 1/0)."""
        positions, uniques = distinct(texts)
        hints = []
        for u in uniques:
            t = str(u)
            h = self._hints.get(t)
            if h is None:
                if len(self._hints) > _MAX_CACHE:
                    self._hints.clear()
                h = self._hints[t] = parse_posting_text(t)
            hints.append(h)
        out = {}
        for attr in attrs:
            values = [np.nan if getattr(h, attr) is None else float(getattr(h, attr)) for h in hints]
            out[attr] = per_distinct(positions, values, np.nan, dtype=np.float64)
        return out


_EMPTY_ROW = (np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))

