"""An alias index: exact keys, a character trie for phrases inside longer
text, pinyin keys for homophone typos, and rapidfuzz for the rest.

Plain dicts and lists only, so the index pickles (joblib) and loads anywhere.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections import Counter
from functools import lru_cache
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pypinyin import lazy_pinyin
from rapidfuzz import fuzz, process

from recommender.normalise.text import make_key

_LATIN = re.compile(r"[0-9a-z+#]")
_ALL_CJK = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff]+$")
_END = "\x00"  # trie terminal marker (never a key character)


@lru_cache(maxsize=32768)
def _char_pinyin(ch: str) -> str:
    return lazy_pinyin(ch, errors="default")[0]


def pinyin_key(key: str) -> str:
    """Toneless pinyin of an all-CJK key, syllables joined by spaces.

    Character by character (default reading of polyphones), cached per
    character: the same on both sides of a comparison and far cheaper than
    phrase-level conversion.
    """
    return " ".join(_char_pinyin(ch) for ch in key)


def _window(choices: list[str], lens: list[int], n: int, cutoff: float) -> list[str]:
    """Choices whose length allows an Indel ratio of at least ``cutoff``."""
    r = max(cutoff, 1.0) / 100.0
    lo = bisect_left(lens, int(n * r / (2.0 - r)))
    hi = bisect_right(lens, int(n * (2.0 - r) / r) + 1)
    return choices[lo:hi]


class _CharBags:
    """Character inverted index: an exact pre-filter for the Indel ratio.

    ``fuzz.ratio(a, b) = 200 * LCS(a, b) / (len(a) + len(b))`` and the longest
    common subsequence can never exceed the multiset intersection of the two
    strings' characters, so any choice whose shared-character count is below
    ``cutoff * (len(a) + len(b)) / 200`` cannot reach the cut-off. Counting
    shared characters takes a few vectorised adds over posting lists; only the
    survivors (usually a few dozen of thousands) are scored by rapidfuzz, in the
    original order, so the result is identical to a full scan.
    """

    def __init__(self, choices: Sequence[str]) -> None:
        import numpy as np

        self.choices = list(choices)  # sorted by length
        self.lens = np.fromiter((len(c) for c in self.choices), dtype=np.int32, count=len(self.choices))
        self.len_list = self.lens.tolist()
        alphabet = sorted({ch for c in self.choices for ch in c})
        # Small alphabets (pinyin: letters and spaces) use a dense count matrix
        # sliced to the length window; large ones (CJK) use posting lists.
        self.dense = len(alphabet) <= 64
        if self.dense:
            self.alpha = {ch: i for i, ch in enumerate(alphabet)}
            mat = np.zeros((len(self.choices), len(alphabet)), dtype=np.int16)
            for i, c in enumerate(self.choices):
                for ch, k in Counter(c).items():
                    mat[i, self.alpha[ch]] = k
            self.mat = mat
            self.post = {}
            self.post_lists = {}
            return
        post: dict[str, tuple[list[int], list[int]]] = {}
        for i, c in enumerate(self.choices):
            for ch, k in Counter(c).items():
                idx, cnt = post.setdefault(ch, ([], []))
                idx.append(i)
                cnt.append(k)
        self.post = {ch: (np.asarray(idx, dtype=np.int32), np.asarray(cnt, dtype=np.int32)) for ch, (idx, cnt) in post.items()}
        self.post_lists = {ch: idx for ch, (idx, _) in post.items()}

    def candidates(self, key: str, cutoff: float) -> list[str]:
        import numpy as np

        n = len(key)
        r = max(cutoff, 1.0) / 100.0
        lo = bisect_left(self.len_list, int(n * r / (2.0 - r)))
        hi = bisect_right(self.len_list, int(n * (2.0 - r) / r) + 1)
        if lo >= hi:
            return []
        if self.dense:
            q = np.zeros(self.mat.shape[1], dtype=np.int16)
            for ch, k in Counter(key).items():
                j = self.alpha.get(ch)
                if j is not None:
                    q[j] = k
            inter = np.minimum(self.mat[lo:hi], q).sum(axis=1)
        else:
            # Prefix filter: a choice sharing at least ``need`` characters with the
            # key must contain one of its ``n - need + 1`` rarest character
            # occurrences. Only the union of those (short) posting lists is scored.
            need = math.ceil((cutoff / 200.0) * (n + self.len_list[lo]) - 1e-9)
            if need <= 0:
                return self.choices[lo:hi]
            post = self.post
            occ = sorted(key, key=self._rarity)
            rare = {ch for ch in occ[: n - need + 1] if ch in post}
            if not rare:
                return []
            lists = self.post_lists
            spans = []
            for ch in rare:
                lst = lists[ch]
                a, b = bisect_left(lst, lo), bisect_left(lst, hi)
                if a < b:
                    spans.append(lst[a:b])
            if len(spans) == 1:
                sel = spans[0]
            else:
                sel = sorted({i for span in spans for i in span})
            choices = self.choices
            return [choices[i] for i in sel]
        need_arr = (cutoff / 200.0) * (self.lens[lo:hi] + n) - 1e-9
        choices = self.choices
        return [choices[lo + i] for i in np.flatnonzero(inter >= need_arr)]

    def _rarity(self, ch: str) -> int:
        p = self.post.get(ch)
        return len(p[0]) if p is not None else 0


@dataclass(frozen=True)
class Hit:
    """A taxonomy alias found inside a key (``key[start:end] == alias``)."""

    start: int
    end: int
    alias: str


class AliasIndex:
    """Maps alias keys to ``(target_id, weight)`` pairs.

    Built once from the taxonomy; lookups are dict hits, phrase scans walk a
    trie, and only unmatched keys pay for pinyin or fuzzy matching.
    """

    def __init__(self, entries: Iterable[tuple[str, str, float]], *, min_scan_len: int = 2) -> None:
        exact: dict[str, dict[str, float]] = {}
        for alias, target, weight in entries:
            key = make_key(alias)
            if not key:
                continue
            slot = exact.setdefault(key, {})
            slot[target] = max(weight, slot.get(target, 0.0))
        # Most specific first: higher weight, then the order of appearance.
        self.exact: dict[str, tuple[tuple[str, float], ...]] = {
            k: tuple(sorted(v.items(), key=lambda kv: -kv[1])) for k, v in exact.items()
        }
        self.min_scan_len = min_scan_len
        self.trie: dict = {}
        for key in self.exact:
            if len(key) < min_scan_len and not _ALL_CJK.match(key):
                continue
            node = self.trie
            for ch in key:
                node = node.setdefault(ch, {})
            node[_END] = key
        self.pinyin: dict[str, str] = {}
        for key in self.exact:
            if len(key) >= 2 and _ALL_CJK.match(key):
                self.pinyin.setdefault(pinyin_key(key), key)
        # Sorted by length, so a fuzzy search only visits aliases whose length
        # could reach the cut-off at all (Indel ratio bounds the length ratio).
        self.choices: list[str] = sorted(self.exact, key=len)
        self.choice_lens: list[int] = [len(c) for c in self.choices]
        self.pinyin_choices: list[str] = sorted(self.pinyin, key=len)
        self.pinyin_lens: list[int] = [len(c) for c in self.pinyin_choices]
        self._grams = _CharBags(self.choices)
        self._pinyin_grams = _CharBags(self.pinyin_choices)

    def __len__(self) -> int:
        return len(self.exact)

    def get(self, key: str) -> tuple[tuple[str, float], ...]:
        """Targets of an exact key (empty tuple if none)."""
        return self.exact.get(key, ())

    def scan(self, key: str, *, min_len: int = 2) -> list[Hit]:
        """Leftmost-longest aliases inside ``key`` (non-overlapping).

        Latin aliases must sit on a word boundary, so "ps" is not found inside
        "helps"; one-character CJK aliases are ignored unless ``min_len`` is 1.
        """
        hits: list[Hit] = []
        i, n = 0, len(key)
        trie = self.trie
        while i < n:
            node = trie
            best_end, best_alias = -1, ""
            j = i
            while j < n:
                node = node.get(key[j])
                if node is None:
                    break
                j += 1
                alias = node.get(_END)
                if alias is not None and j - i >= min_len and self._boundary(key, i, j):
                    best_end, best_alias = j, alias
            if best_end > 0:
                hits.append(Hit(i, best_end, best_alias))
                i = best_end
            else:
                i += 1
        return hits

    def longest_suffix(self, key: str, *, min_len: int = 2) -> Hit | None:
        """The longest alias that ends ``key`` and is shorter than it (or ``None``)."""
        n = len(key)
        exact = self.exact
        for i in range(1, n - min_len + 1):
            tail = key[i:]
            if tail in exact and self._boundary(key, i, n):
                return Hit(i, n, tail)
        return None

    @staticmethod
    def _boundary(key: str, i: int, j: int) -> bool:
        if _LATIN.match(key[i]) and i > 0 and _LATIN.match(key[i - 1]):
            return False
        if _LATIN.match(key[j - 1]) and j < len(key) and _LATIN.match(key[j]):
            return False
        return True

    def homophone(self, key: str) -> str | None:
        """The alias spelled with the same pinyin (a typing slip), if any."""
        if len(key) < 2 or not _ALL_CJK.match(key):
            return None
        return self.pinyin.get(pinyin_key(key))

    def fuzzy(self, key: str, *, score_cutoff: float) -> tuple[str, float] | None:
        """Best alias by normalised Indel similarity (0-100), or ``None``.

        Keys are already cleaned, hence ``processor=None``; the cut-off keeps
        rapidfuzz from scoring hopeless candidates in full.
        """
        if not key:
            return None
        found = process.extractOne(
            key,
            self._grams.candidates(key, score_cutoff),
            scorer=fuzz.ratio,
            processor=None,
            score_cutoff=score_cutoff,
        )
        if found is None:
            return None
        return found[0], float(found[1])

    def fuzzy_pinyin(self, key: str, *, score_cutoff: float) -> tuple[str, float] | None:
        """Best alias compared on pinyin: near-homophone slips and missing syllables."""
        if len(key) < 3 or not _ALL_CJK.match(key):
            return None
        py = pinyin_key(key)
        found = process.extractOne(
            py,
            self._pinyin_grams.candidates(py, score_cutoff),
            scorer=fuzz.ratio,
            processor=None,
            score_cutoff=score_cutoff,
        )
        if found is None:
            return None
        return self.pinyin[found[0]], float(found[1])

    def fuzzy_many(self, keys: Sequence[str], *, score_cutoff: float) -> list[tuple[str, float] | None]:
        """Batch :meth:`fuzzy` with one ``cdist`` call (one core, ``workers=1``)."""
        if not keys:
            return []
        import numpy as np

        scores = process.cdist(
            list(keys),
            self.choices,
            scorer=fuzz.ratio,
            processor=None,
            score_cutoff=score_cutoff,
            dtype=np.uint8,
            workers=1,
        )
        best = scores.argmax(axis=1)
        out: list[tuple[str, float] | None] = []
        for row, col in enumerate(best):
            s = float(scores[row, col])
            out.append((self.choices[int(col)], s) if s >= score_cutoff and s > 0 else None)
        return out
