"""Job titles -> CSCO 2022 occupation codes, top-k with scores.

Real titles wrap one occupation word in conditions and filler
(``急招普工18-45岁``, ``摄像头镜片组装22/时白班包吃住``). The classifier strips
ages, pay and perks (:mod:`recommender.normalise.hints`), then looks for
evidence, surest first: the whole title or one bracketed segment as an alias;
aliases found inside the title, weighted by how much of it they cover and
whether they are the head (Chinese titles end with the role: ``镜片组装工``);
skill words (``二保焊`` -> welder); homophones; and finally rapidfuzz over the
alias keys.

Aliases come from the CSCO names and job-board aliases (all levels, so a
generic ``普工`` maps to the major group ``6-00-00-00`` as CSCO itself does),
the colloquial ``occupation_aliases.csv``, stems of ``…工/…员/…师`` names, and
the skills' occupation codes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from recommender.normalise._index import AliasIndex
from recommender.normalise.hints import strip_posting_noise
from recommender.normalise.text import clean_text, key_from_clean, make_key, strip_noise
from recommender.taxonomy import Taxonomy, load_taxonomy

__all__ = ["OccupationMatch", "TitleClassifier"]

_SEGMENT_RE = re.compile(r"[()\[\]{}<>（）【】「」『』〔〕《》\"'“”‘’:：;；,，、.。!！?？/|\\\-—–~·•*#@]+|\s+")
_ROLE_SUFFIX = re.compile(r"(?:工人|师傅|技工|技术员|操作工|操作员|工|员|师|手|匠)$")
_PART_ROLE = re.compile(r"(?:工|员|师|手|匠|司机|经理|主管|专员|助理|客服|总监|顾问|教练|生|长)$")
# Calibration of titles that are not a whole alias (see TitleClassifier._confident).
CONFIDENT_MARGIN = 0.1
MAX_UNEXPLAINED = 2
UNSURE_FACTOR, UNSURE_CAP = 0.5, 0.49
_WORKPLACE = ("厂", "工厂", "车间", "基地", "场", "厂家")
_SKILL_PREFIX = "\x01"  # marks skill-derived targets inside the shared index


@dataclass(frozen=True, slots=True)
class OccupationMatch:
    """A CSCO code for a title; ``code`` is ``None`` when the title stayed unknown."""

    code: str | None
    name: str | None
    score: float
    level: int | None = None

    @property
    def known(self) -> bool:
        """True when the title was mapped to a code."""
        return self.code is not None


class TitleClassifier:
    """Classify free-text job titles into CSCO 2022 codes.

    ``threshold`` is the score under which :meth:`classify` answers unknown;
    :meth:`top_k` always returns the scored candidates it found.
    """

    def __init__(
        self,
        taxonomy: Taxonomy | None = None,
        *,
        threshold: float = 0.5,
        fuzzy_cutoff: float = 70.0,
        cache_size: int = 200_000,
    ) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be within 0..1, got {threshold}")
        self.threshold = float(threshold)
        self.fuzzy_cutoff = float(fuzzy_cutoff)
        self.cache_size = int(cache_size)
        tax = taxonomy if taxonomy is not None else load_taxonomy()
        self.taxonomy_version = tax.version
        groups = tax.groups
        self._names: dict[str, str] = dict(zip(groups["code"], groups["name"], strict=True))
        self._levels: dict[str, int] = dict(zip(groups["code"], groups["level"].astype(int), strict=True))
        self._index = AliasIndex(self._entries(tax), min_scan_len=2)
        self._cache: dict[str, tuple[OccupationMatch, ...]] = {}

    # -- construction -----------------------------------------------------
    def _entries(self, tax: Taxonomy) -> Iterable[tuple[str, str, float]]:
        # occupation_aliases.csv has the last word on a title's weight: CSCO lists
        # generic words such as 司机 as aliases, which the file marks as generic.
        curated = {make_key(a) for a in tax.occupation_aliases["alias"]}
        for alias, code, w in self._csco_entries(tax):
            if make_key(alias) not in curated:
                yield alias, code, w
        for row in tax.occupation_aliases.itertuples(index=False):
            yield row.alias, row.code, float(row.weight)
        for row in tax.skills.itertuples(index=False):
            codes = list(row.occupation_codes)
            if not codes:
                continue
            names = [row.name_zh, row.name_en, *row.synonyms]
            for rank, code in enumerate(codes):
                w = 0.85 if rank == 0 else 0.6
                for alias in names:
                    if make_key(alias) not in curated:
                        yield alias, _SKILL_PREFIX + code, w

    @staticmethod
    def _csco_entries(tax: Taxonomy) -> Iterable[tuple[str, str, float]]:
        for row in tax.groups.itertuples(index=False):
            level = int(row.level)
            direct = 1.0 if level == 4 else 0.75
            yield row.name, row.code, direct
            yield row.raw_name, row.code, direct
            for alias in row.aliases:
                yield alias, row.code, 0.95 * direct
                if "/" in alias:
                    for part in alias.split("/"):
                        if len(part) >= 3 and _PART_ROLE.search(part):
                            yield part, row.code, 0.8 * direct
            if level == 4:
                stem = _ROLE_SUFFIX.sub("", row.name)
                if stem != row.name and len(stem) >= 2:
                    yield stem, row.code, 0.85

    # -- pickling ---------------------------------------------------------------
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_cache"] = {}
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    # -- public API ---------------------------------------------------------------
    def name(self, code: str) -> str | None:
        """Display name of a CSCO code."""
        return self._names.get(code)

    def top_k(self, title: object, k: int = 3) -> list[OccupationMatch]:
        """The ``k`` best codes for a title, best first (may be fewer, or empty)."""
        s = clean_text(title)
        found = self._cache.get(s)
        if found is None:
            found = self._classify(s)
            if self.cache_size > 0:
                if len(self._cache) >= self.cache_size:
                    self._cache.clear()
                self._cache[s] = found
        return list(found[: max(0, int(k))])

    def classify(self, title: object) -> OccupationMatch:
        """The best code, or ``code=None`` (with its score) under the threshold."""
        top = self.top_k(title, 1)
        if top and top[0].score >= self.threshold:
            return top[0]
        return OccupationMatch(None, None, top[0].score if top else 0.0, None)

    def top_k_many(self, titles: Sequence[object], k: int = 3) -> list[list[OccupationMatch]]:
        """:meth:`top_k` for many titles (repeated titles are classified once)."""
        return [self.top_k(t, k) for t in titles]

    def classify_many(self, titles: Sequence[object]) -> list[OccupationMatch]:
        """:meth:`classify` for many titles."""
        return [self.classify(t) for t in titles]

    # -- engine -------------------------------------------------------------------
    def _targets(self, key: str) -> list[tuple[str, float, bool]]:
        """``(code, weight, from_skill)`` for an alias key."""
        out = []
        for target, w in self._index.get(key):
            if target.startswith(_SKILL_PREFIX):
                out.append((target[1:], w, True))
            else:
                out.append((target, w, False))
        return out

    def _result(self, scores: dict[str, float]) -> tuple[OccupationMatch, ...]:
        if not scores:
            return ()
        specific = any(self._levels.get(c, 4) == 4 and s >= 0.45 for c, s in scores.items())
        adjusted = {}
        for code, s in scores.items():
            if specific and self._levels.get(code, 4) < 4:
                s *= 0.7  # a group code only wins when nothing more specific is in view
            adjusted[code] = min(1.0, s)
        ranked = sorted(adjusted.items(), key=lambda kv: (-kv[1], -self._levels.get(kv[0], 4), kv[0]))
        return tuple(
            OccupationMatch(code, self._names.get(code), round(score, 4), self._levels.get(code))
            for code, score in ranked[:10]
        )

    def _exact(self, key: str, scale: float) -> dict[str, float]:
        scores: dict[str, float] = {}
        for code, w, from_skill in self._targets(key):
            s = scale * (0.6 + 0.4 * w) * (0.9 if from_skill else 1.0)
            if s > scores.get(code, 0.0):
                scores[code] = s
        return scores

    def _classify(self, s: str) -> tuple[OccupationMatch, ...]:
        scores, info = self._evidence(s)
        ranked = self._result(scores)
        if not ranked or info["stage"] != "mixed" or self._confident(ranked, scores, info):
            return ranked
        # Not sure: keep the ranking (the best guess stays first) but report a
        # confidence under the default threshold, so classify() answers unknown.
        return tuple(
            OccupationMatch(m.code, m.name, round(min(UNSURE_CAP, m.score * UNSURE_FACTOR), 4), m.level) for m in ranked
        )

    def _confident(self, ranked: tuple[OccupationMatch, ...], scores: dict[str, float], info: dict) -> bool:
        """Is the best code of a title that is not a whole alias safe to assert?

        Calibrated on held-out style titles: the answer is asserted only when no
        fuzzy match was needed for it, no other specific occupation word is in the
        title, it leads the runner-up clearly, at most two characters of the title
        are unexplained, and the role word at the end is not a short word whose
        (unrecognised) modifier could change the occupation ("制衣厂车工").
        """
        win = ranked[0]
        if win.score < self.threshold:
            return False
        margin = win.score - (ranked[1].score if len(ranked) > 1 else 0.0)
        if margin < CONFIDENT_MARGIN:
            return False
        if scores.get(win.code, 0.0) > info.get("before_fuzzy", {}).get(win.code, 0.0) + 1e-9:
            return False  # only the fuzzy stage reached it
        hits = info.get("hits", ())
        if not hits:
            return False
        covered = 0
        for h in hits:
            covered += h.end - h.start
            t = self._targets(h.alias)
            if any(c == win.code for c, _, _ in t):
                continue
            if any(w >= 0.7 and self._levels.get(c, 4) == 4 for c, w, _ in t):
                return False  # another specific occupation is named in the title
        if info.get("len", 0) - covered > MAX_UNEXPLAINED:
            return False
        head = hits[-1]
        gap = head.start - (hits[-2].end if len(hits) >= 2 else 0)
        return gap <= 1 or head.end - head.start >= 3

    def _evidence(self, s: str) -> tuple[dict[str, float], dict]:
        info: dict = {"stage": None}
        if not s:
            return {}, info
        full = key_from_clean(s)
        if not full:
            return {}, info
        scores = self._exact(full, 1.0)
        if scores:
            info["stage"] = "exact"
            return scores, info
        core_text = strip_posting_noise(s)
        core = key_from_clean(core_text)
        info["core"] = core
        if core:
            scores = self._exact(core, 0.98)
            if not scores:
                bare = strip_noise(core)
                if bare != core:
                    scores = self._exact(bare, 0.96)
            if scores:
                info["stage"] = "exact_core"
                return scores, info
        else:
            return {}, info  # only recruiting filler, ages and pay: nothing about the job
        scores = self._segments(s)  # before filler removal: "招聘专员，男女不限"
        if not scores or max(scores.values()) < 0.85:
            for code, sc in self._segments(core_text).items():
                scores[code] = max(scores.get(code, 0.0), sc)
        info["seg"] = dict(scores)
        self._scan(core, scores, info)
        before = dict(scores)
        if not scores or max(scores.values()) < 0.6:
            self._fuzzy(core, scores, info)
        info["stage"] = "mixed"
        info["before_fuzzy"] = before
        return scores, info

    def _segments(self, text: str) -> dict[str, float]:
        """Exact aliases among the bracketed / spaced segments of a title."""
        scores: dict[str, float] = {}
        segs = [key_from_clean(p) for p in _SEGMENT_RE.split(text)]
        segs = [p for p in segs if p]
        if len(segs) < 2:
            return scores
        total = sum(len(p) for p in segs)
        for i, seg in enumerate(segs):
            share = len(seg) / total
            head = 0.05 if i == 0 else 0.0  # the role usually comes first, details in brackets
            for code, sc in self._exact(seg, 0.8 + 0.12 * share + head).items():
                if sc > scores.get(code, 0.0):
                    scores[code] = sc
        return scores

    def _scan(self, key: str, scores: dict[str, float], info: dict) -> None:
        """Aliases inside the title: coverage, head position and agreement."""
        hits = self._index.scan(key)
        n = len(key)
        # Chinese titles end with the role: prefer the longest alias that ends the
        # title ("景区讲解员" -> 讲解员) over a leftmost-longest hit that swallows it.
        tail = self._index.longest_suffix(key)
        if tail is not None and not any(h.end == n and h.start <= tail.start for h in hits):
            hits = [*self._index.scan(key[: tail.start]), tail] if tail.start >= 2 else [tail]
        if not hits:
            homo = self._index.homophone(key)
            if homo is not None:
                info["homo"] = homo
                for code, sc in self._exact(homo, 0.9).items():
                    scores[code] = max(scores.get(code, 0.0), sc)
            return
        length = max(1, len(key.replace(" ", "")))
        info["hits"] = hits
        info["len"] = length
        last_end = max(h.end for h in hits)
        targets = {h.alias: self._targets(h.alias) for h in hits}
        best_w = {a: max((w for _, w, _ in t), default=0.0) for a, t in targets.items()}
        specific_elsewhere = sum(1 for w in best_w.values() if w >= 0.8)
        head_hit = hits[-1] if hits[-1].end == last_end else None
        # A modifier right before the head that names a more specific occupation of the
        # same family ("细纱挡车工", "家具厂木工"), or a workplace ("玩具厂组装工") in
        # front of a role that is only a generic or skill-derived word, takes the head.
        promoted: set[str] = set()
        if head_hit is not None and len(hits) >= 2:
            mod = hits[-2]
            if mod.end == head_hit.start:
                head_codes = {c: (w, sk) for c, w, sk in targets[head_hit.alias]}
                head_generic = all(sk or w < 0.9 for w, sk in head_codes.values())
                workplace = mod.alias.endswith(_WORKPLACE)
                for code, w, _ in targets[mod.alias]:
                    if self._levels.get(code, 4) != 4 or code in head_codes:
                        continue
                    if any(code[:4] == hc[:4] and self._levels.get(hc, 4) == 4 for hc in head_codes) or (
                        workplace and head_generic
                    ):
                        promoted.add(code)
        info["promoted"] = promoted
        support: dict[str, float] = {}
        for h in hits:
            share = (h.end - h.start) / length
            head = 0.12 if h.end == last_end else 0.0
            for code, w, from_skill in targets[h.alias]:
                # Generic words (low weight: 司机, 普工) count for less inside a longer title.
                s = (0.45 + 0.45 * share) * (0.3 + 0.7 * w) * (0.85 if from_skill else 1.0) + head * w
                if w < 0.7 and specific_elsewhere:
                    s *= 0.75  # "挖掘机驾驶员": the specific word outranks the generic head
                if promoted:
                    if code in promoted:
                        s += 0.12 + 0.1 * w
                    elif h is head_hit:
                        s *= 0.85
                support[code] = support.get(code, 0.0) + s
                if s > scores.get(code, 0.0):
                    scores[code] = s
        for code, total in support.items():
            extra = total - scores.get(code, 0.0)
            if extra > 0:
                scores[code] = scores.get(code, 0.0) + min(0.1, 0.25 * extra)

    def _fuzzy(self, key: str, scores: dict[str, float], info: dict) -> None:
        """rapidfuzz over all alias keys, for typos and unseen word order."""
        found = self._index.fuzzy(key, score_cutoff=self.fuzzy_cutoff)
        if found is not None:
            alias, r = found
            for code, sc in self._exact(alias, 0.8 * r / 100.0).items():
                scores[code] = max(scores.get(code, 0.0), sc)
        if found is not None:
            return  # the pinyin stage only rescues titles the characters cannot reach
        fp = self._index.fuzzy_pinyin(key, score_cutoff=88.0)
        if fp is not None:
            alias, r = fp
            for code, sc in self._exact(alias, 0.85 * r / 100.0).items():
                scores[code] = max(scores.get(code, 0.0), sc)

