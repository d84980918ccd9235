"""Skill and certificate cells -> canonical ids with a confidence.

Order of evidence, cheapest and surest first: the whole key in the alias
dictionary; the key without filler words ("熟练", "5年经验"); the same pinyin
(typing slips such as 电悍 for 电焊); aliases found inside a longer phrase
("会开叉车和电焊"); and only then rapidfuzz on the characters and on the
pinyin. A token that reaches no alias with enough confidence comes back with
``id=None`` and the best score seen, so callers can tell unknown from known.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from recommender.normalise._index import AliasIndex, Hit
from recommender.normalise.text import make_key, split_cell, strip_noise
from recommender.taxonomy import Taxonomy, load_taxonomy

__all__ = ["Match", "SkillNormaliser", "CertificateNormaliser"]

# Scores of each kind of evidence (confidence in 0..1).
EXACT = 1.0
EXACT_AFTER_NOISE = 0.97
HOMOPHONE = 0.9
#: Cells (or items) that say "none": no match and no unknown item.
NONE_WORDS = frozenset(
    {"无", "没有", "暂无", "无证", "没证", "没有证", "无证书", "不会", "没", "否", "none", "no", "n/a", "na", "nil", "null", "-", "--", "/", "0"}
)
SCAN_BASE, SCAN_SPAN = 0.55, 0.4  # score = base + span * covered share
FUZZY_PINYIN_FACTOR = 0.92
LEAD_UNEXPLAINED, LEAD_PENALTY = 3, 0.1  # >= 3 unexplained leading characters before a scan hit


@dataclass(frozen=True, slots=True)
class Match:
    """One normalised item: ``id`` is ``None`` when the text stayed unknown."""

    id: str | None
    name: str | None
    score: float
    surface: str

    @property
    def known(self) -> bool:
        """True when the text was mapped to a taxonomy id."""
        return self.id is not None


class _PhraseNormaliser:
    """Shared engine of :class:`SkillNormaliser` and :class:`CertificateNormaliser`."""

    _id_column = ""
    _frame = ""

    def __init__(
        self,
        taxonomy: Taxonomy | None = None,
        *,
        threshold: float = 0.75,
        fuzzy_cutoff: float = 80.0,
        cache_size: int = 200_000,
    ) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be within 0..1, got {threshold}")
        self.threshold = float(threshold)
        self.fuzzy_cutoff = float(fuzzy_cutoff)
        self.cache_size = int(cache_size)
        tax = taxonomy if taxonomy is not None else load_taxonomy()
        self.taxonomy_version = tax.version
        frame = getattr(tax, self._frame)
        self._names: dict[str, str] = dict(zip(frame[self._id_column], frame["name_zh"], strict=True))
        self._index = AliasIndex(self._entries(frame), min_scan_len=2)
        self._cache: dict[str, tuple[Match, ...]] = {}

    # -- construction -----------------------------------------------------
    def _entries(self, frame) -> Iterable[tuple[str, str, float]]:
        for row in frame.itertuples(index=False):
            ident = getattr(row, self._id_column)
            yield row.name_zh, ident, 1.0
            yield ident.replace("_", " "), ident, 0.99
            if row.name_en:
                yield row.name_en, ident, 0.98
            for syn in row.synonyms:
                yield syn, ident, 0.97

    # -- pickling: no cache in the file ------------------------------------
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_cache"] = {}
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    # -- public API ------------------------------------------------------------
    @property
    def ids(self) -> list[str]:
        """All canonical ids this normaliser can return."""
        return list(self._names)

    def name(self, ident: str) -> str | None:
        """Chinese name of an id."""
        return self._names.get(ident)

    def match(self, text: object) -> list[Match]:
        """Normalise one cell (a list separated by ``;`` ``、`` ``，`` ...).

        Known items are deduplicated by id (highest score kept) in the order
        they appear; unknown items are kept with ``id=None``.
        """
        return self._merge(self._match_token(tok) for tok in split_cell(text))

    def match_many(self, cells: Sequence[object]) -> list[list[Match]]:
        """Normalise many cells; distinct tokens are matched once, fuzzy in one batch."""
        split = [split_cell(c) for c in cells]
        pending: dict[str, tuple[str, tuple[Match, ...]]] = {}
        for toks in split:
            for tok in toks:
                if tok in self._cache or tok in pending:
                    continue
                done, key, partial = self._cheap(tok)
                if done is not None:
                    self._remember(tok, done)
                else:
                    pending[tok] = (key, partial)
        if pending:
            toks = list(pending)
            fuzzies = self._index.fuzzy_many(
                [pending[t][0] for t in toks], score_cutoff=self.fuzzy_cutoff
            )
            for tok, fz in zip(toks, fuzzies, strict=True):
                key, partial = pending[tok]
                self._remember(tok, self._finish(tok, key, partial, fz))
        return [self._merge(self._cache.get(t) or self._match_token(t) for t in toks) for toks in split]

    def best(self, text: object) -> Match:
        """The single most confident item of a cell (unknown if none)."""
        found = [m for m in self.match(text) if m.known]
        if found:
            return max(found, key=lambda m: m.score)
        surface = " ".join(split_cell(text))
        return Match(None, None, 0.0, surface)

    # -- engine ------------------------------------------------------------------
    def _merge(self, groups: Iterable[tuple[Match, ...]]) -> list[Match]:
        out: list[Match] = []
        pos: dict[str, int] = {}
        for group in groups:
            for m in group:
                if m.id is None:
                    out.append(m)
                elif m.id in pos:
                    if m.score > out[pos[m.id]].score:
                        out[pos[m.id]] = m
                else:
                    pos[m.id] = len(out)
                    out.append(m)
        return out

    def _remember(self, tok: str, result: tuple[Match, ...]) -> None:
        if self.cache_size <= 0:
            return
        if len(self._cache) >= self.cache_size:
            self._cache.clear()
        self._cache[tok] = result

    def _match_token(self, tok: str) -> tuple[Match, ...]:
        hit = self._cache.get(tok)
        if hit is not None:
            return hit
        done, key, partial = self._cheap(tok)
        if done is None:
            fz = self._index.fuzzy(key, score_cutoff=self.fuzzy_cutoff)
            done = self._finish(tok, key, partial, fz)
        self._remember(tok, done)
        return done

    def _make(self, ident: str, score: float, surface: str) -> Match:
        return Match(ident, self._names.get(ident), round(min(max(score, 0.0), 1.0), 4), surface)

    def _targets(self, alias_key: str) -> tuple[tuple[str, float], ...]:
        return self._index.get(alias_key)

    def _cheap(self, tok: str) -> tuple[tuple[Match, ...] | None, str, tuple[Match, ...]]:
        """Dictionary, noise-stripped, homophone and phrase-scan evidence.

        Returns ``(result, key, partial)``: a final result, or ``None`` with the
        key to try fuzzily and any low-coverage scan matches found so far.
        """
        key = make_key(tok)
        if not key or key in NONE_WORDS or tok in NONE_WORDS:
            return (), key, ()
        targets = self._targets(key)
        if targets:
            return self._post(key, (self._make(targets[0][0], EXACT, tok),)), key, ()
        core = strip_noise(key)
        if core != key:
            targets = self._targets(core)
            if targets:
                return self._post(core, (self._make(targets[0][0], EXACT_AFTER_NOISE, tok),)), core, ()
        homo = self._index.homophone(core)
        if homo is not None:
            return self._post(core, (self._make(self._targets(homo)[0][0], HOMOPHONE, tok),)), core, ()
        hits = self._index.scan(core)
        partial: tuple[Match, ...] = ()
        if hits:
            covered = sum(h.end - h.start for h in hits)
            share = covered / max(1, len(core.replace(" ", "")))
            score = SCAN_BASE + SCAN_SPAN * min(1.0, share)
            if hits[0].start >= LEAD_UNEXPLAINED:
                # An unrecognised modifier in front of the phrase ("住建部电工证",
                # "无人机驾驶执照") may change what it is: not sure enough to assert.
                score -= LEAD_PENALTY
            partial = tuple(self._make(self._targets(h.alias)[0][0], score, tok) for h in hits)
            partial = self._post(core, partial, hits)
            if score >= self.threshold:
                return partial, core, partial
        return None, core, partial

    def _finish(
        self, tok: str, key: str, partial: tuple[Match, ...], fz: tuple[str, float] | None
    ) -> tuple[Match, ...]:
        """Pick the best of scan, fuzzy and fuzzy-pinyin evidence; else unknown."""
        best_score = max((m.score for m in partial), default=0.0)
        best: tuple[Match, ...] = partial
        if fz is not None and fz[1] / 100.0 > best_score:
            best_score = fz[1] / 100.0
            best = self._post(key, (self._make(self._targets(fz[0])[0][0], best_score, tok),))
        if best_score < self.threshold:
            fp = self._index.fuzzy_pinyin(key, score_cutoff=85.0)
            if fp is not None and fp[1] / 100.0 * FUZZY_PINYIN_FACTOR > best_score:
                best_score = fp[1] / 100.0 * FUZZY_PINYIN_FACTOR
                best = (self._make(self._targets(fp[0])[0][0], best_score, tok),)
        if best and best_score >= self.threshold:
            return best
        return (Match(None, None, round(best_score, 4), tok),)

    def _post(self, key: str, found: tuple[Match, ...], hits: Sequence[Hit] = ()) -> tuple[Match, ...]:
        """Hook for subclasses (certificate levels)."""
        return found


class SkillNormaliser(_PhraseNormaliser):
    """Free-text skill cells -> canonical skill ids (``taxonomy.skills``)."""

    _id_column = "skill_id"
    _frame = "skills"


_LEVEL_RE = re.compile(
    r"(高级技师|技师|高级工|中级工|初级工|高级|中级|初级|[一二三四五12345]级)"
)
_LEVEL_IDS = {
    "高级技师": "skill_level_1",
    "技师": "skill_level_2",
    "高级工": "skill_level_3",
    "高级": "skill_level_3",
    "中级工": "skill_level_4",
    "中级": "skill_level_4",
    "初级工": "skill_level_5",
    "初级": "skill_level_5",
    "一级": "skill_level_1",
    "1级": "skill_level_1",
    "二级": "skill_level_2",
    "2级": "skill_level_2",
    "三级": "skill_level_3",
    "3级": "skill_level_3",
    "四级": "skill_level_4",
    "4级": "skill_level_4",
    "五级": "skill_level_5",
    "5级": "skill_level_5",
}


class CertificateNormaliser(_PhraseNormaliser):
    """Free-text certificate cells -> canonical certificate ids.

    A national skill level written next to a vocational certificate
    ("焊工证（中级）", "高级电工证") is returned as a second match
    (``skill_level_4`` ...), after the certificate itself.
    """

    _id_column = "cert_id"
    _frame = "certificates"

    def __init__(self, taxonomy: Taxonomy | None = None, **kwargs) -> None:
        tax = taxonomy if taxonomy is not None else load_taxonomy()
        super().__init__(tax, **kwargs)
        self._kinds: dict[str, str] = dict(zip(tax.certificates["cert_id"], tax.certificates["kind"], strict=True))

    def kind(self, ident: str) -> str | None:
        """Certificate kind (``special_operation``, ``driving_licence`` ...)."""
        return self._kinds.get(ident)

    def _post(self, key: str, found: tuple[Match, ...], hits: Sequence[Hit] = ()) -> tuple[Match, ...]:
        if not found or any(self._kinds.get(m.id or "") in ("skill_level", "professional") for m in found):
            return found
        if not any(self._kinds.get(m.id or "") in ("vocational", "special_operation") for m in found):
            return found
        m = _LEVEL_RE.search(key)
        if m is None:
            return found
        level = _LEVEL_IDS.get(m.group(1))
        if level is None or level not in self._names:
            return found
        return (*found, self._make(level, min(mm.score for mm in found) * 0.98, found[0].surface))
