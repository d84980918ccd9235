"""Surface text: how the latent world is written down by people and systems.

Skills, certificates, titles and places are written the way job seekers,
recruiters and case workers write them: canonical terms, synonyms,
colloquial phrases (会开叉车), English, typos, noise words (熟练, 5年,
包吃住, 急招, 日结), mixed list separators, and now and then a region name
instead of its code. All choices are drawn from the world's seeded
generator, so the same seed writes the same bytes.
"""

from __future__ import annotations

import numpy as np

from recommender.world.vocabulary import VOCABULARY

SEPARATORS = (";", "、", "，", "；")
SEPARATOR_P = np.array([0.80, 0.10, 0.06, 0.04])
NAME_SHARE = 0.02  # region cells written as a Chinese name instead of a code

_PREFIXES = ("熟练", "会", "精通", "懂")
_SUFFIXES = ("（有经验）", "5年", "3年经验", "经验丰富", "（熟练）")


def _cumulative(p: np.ndarray) -> np.ndarray:
    c = np.cumsum(p)
    return c / c[-1]


def _pick(u: np.ndarray, p: np.ndarray) -> np.ndarray:
    return np.minimum(np.searchsorted(_cumulative(p), u, side="right"), len(p) - 1)


class Writer:
    """Renders latent ids as text with a dedicated random generator."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.skill_variants = [self._skill_variants(s) for s in VOCABULARY.skills]
        self.cert_variants = [self._cert_variants(c) for c in VOCABULARY.certificates]

    @staticmethod
    def _skill_variants(skill) -> tuple[list[str], np.ndarray]:  # type: ignore[no-untyped-def]
        forms = [skill.zh[0]]
        weights = [0.45]
        others = list(skill.zh[1:])
        for f in others:
            forms.append(f)
            weights.append(0.40 / max(len(others), 1))
        for f in skill.en:
            forms.append(f)
            weights.append(0.08 / len(skill.en))
        for f in skill.typos:
            forms.append(f)
            weights.append(0.04 / len(skill.typos))
        return forms, np.array(weights)

    @staticmethod
    def _cert_variants(cert) -> tuple[list[str], np.ndarray]:  # type: ignore[no-untyped-def]
        forms = [cert.forms[0], *cert.forms[1:], *cert.en]
        rest = len(cert.forms) - 1
        weights = [0.55] + [0.40 / max(rest, 1)] * rest + [0.05 / max(len(cert.en), 1)] * len(cert.en)
        return forms, np.array(weights)

    # ------------------------------------------------------------------ lists

    def separators(self, n: int) -> np.ndarray:
        return np.array(SEPARATORS, dtype=object)[_pick(self.rng.random(n), SEPARATOR_P)]

    @staticmethod
    def _table(variants: list[tuple[list[str], np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
        """Padded (items, K) form table and cumulative weights, for vectorised choice."""
        k = max(len(f) for f, _ in variants)
        forms = np.empty((len(variants), k), dtype=object)
        cum = np.ones((len(variants), k))
        for i, (f, w) in enumerate(variants):
            forms[i, : len(f)] = f
            forms[i, len(f) :] = f[0]
            cum[i, : len(f)] = np.cumsum(w) / w.sum()
        return forms, cum

    def _choose_forms(self, ids: np.ndarray, table: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """A surface form per id (object array, None for -1), drawn by the forms' weights."""
        forms, cum = table
        safe = np.maximum(ids, 0)
        u = self.rng.random(ids.shape)
        col = (u[..., None] >= cum[safe]).sum(axis=-1)
        col = np.minimum(col, forms.shape[1] - 1)
        out = forms[safe, col]
        out[ids < 0] = None
        return out

    def _join(self, cells: np.ndarray, empty: np.ndarray | None = None) -> list[str | None]:
        """One list cell per row, with a separator drawn per row (None if empty)."""
        seps = self.separators(cells.shape[0])
        rows = cells.tolist()
        out: list[str | None] = []
        for r, row in enumerate(rows):
            parts = [x for x in row if x is not None]
            out.append(seps[r].join(parts) if parts and (empty is None or not empty[r]) else None)
        return out

    def skill_lists(self, ids: np.ndarray, *, empty_share: float = 0.0, noise_share: float = 0.15) -> list[str | None]:
        """One cell per row of ``ids`` ((n, k) skill ids, -1 padded)."""
        if not hasattr(self, "_skill_table"):
            self._skill_table = self._table(self.skill_variants)
        cells = self._choose_forms(ids, self._skill_table)
        n, k = ids.shape
        u_noise = self.rng.random((n, k))
        u_word = self.rng.random((n, k))
        empty = self.rng.random(n) < empty_share
        noisy = (u_noise < noise_share) & (ids >= 0)
        rr, cc = np.nonzero(noisy)
        for r, c, x in zip(rr.tolist(), cc.tolist(), u_word[rr, cc].tolist(), strict=True):
            form = cells[r, c]
            if form.isascii():
                continue
            if x < 0.5:
                prefix = _PREFIXES[int(x * 8) % len(_PREFIXES)]
                if not form.startswith(("会", prefix)):
                    cells[r, c] = prefix + form
            else:
                cells[r, c] = form + _SUFFIXES[int(x * 10) % len(_SUFFIXES)]
        return self._join(cells, empty)

    def cert_ids(self, masks: np.ndarray, width: int = 4) -> np.ndarray:
        """(n, width) certificate ids held in each uint64 mask, -1 padded."""
        n_certs = len(VOCABULARY.certificates)
        out = np.full((len(masks), width), -1, dtype=np.int16)
        filled = np.zeros(len(masks), dtype=np.int64)
        for c in range(n_certs):
            has = np.flatnonzero((masks & (np.uint64(1) << np.uint64(c))) != 0)
            has = has[filled[has] < width]
            out[has, filled[has]] = c
            filled[has] += 1
        return out

    def cert_lists(self, masks: np.ndarray) -> list[str | None]:
        """One cell per certificate mask (uint64)."""
        if not hasattr(self, "_cert_table"):
            self._cert_table = self._table(self.cert_variants)
        ids = self.cert_ids(masks)
        return self._join(self._choose_forms(ids, self._cert_table))

    def cert_names(self, ids: np.ndarray) -> list[str]:
        """A single certificate (course award) per id."""
        if not hasattr(self, "_cert_table"):
            self._cert_table = self._table(self.cert_variants)
        return self._choose_forms(ids.reshape(-1, 1), self._cert_table)[:, 0].tolist()

    # ------------------------------------------------------------------ titles

    def job_titles(
        self,
        types: np.ndarray,
        *,
        housing: np.ndarray,
        insurance: np.ndarray,
        age_min: np.ndarray,
        age_max: np.ndarray,
        etype: np.ndarray,
        wage: np.ndarray,
    ) -> list[str]:
        """Titles as posted: '电焊工（二保焊）包吃住', '急招普工18-45岁', '外卖骑手 日结'."""
        n = len(types)
        u = self.rng.random((n, 8))
        out = []
        tl = VOCABULARY.job_types
        for r in range(n):
            t = tl[int(types[r])]
            titles = t.titles
            x = u[r, 0]
            title = titles[0] if x < 0.4 else titles[1 + int((x - 0.4) / 0.6 * (len(titles) - 1)) % max(len(titles) - 1, 1)] if len(titles) > 1 else titles[0]
            if title.isascii():
                out.append(title)
                continue
            if u[r, 1] < 0.12:
                title = ("急招" if u[r, 1] < 0.09 else "高薪诚聘") + title
            if age_max[r] > 0 and u[r, 2] < 0.2:
                title += f"{age_min[r] or 18}-{age_max[r]}岁"
            if u[r, 3] < 0.08 and wage[r] > 0:
                title += f"{int(round(wage[r] / 26 / 10))}/时" + ("白班" if u[r, 3] < 0.05 else "")
            elif u[r, 3] < 0.16:
                title += "长白班" if u[r, 3] < 0.12 else "两班倒"
            if etype[r] in (1, 3) and "日结" not in title and u[r, 4] < 0.3:
                title += " 日结"
            if housing[r] and u[r, 5] < 0.3:
                title += "包吃住"
            if insurance[r] and u[r, 6] < 0.12:
                title += "五险一金"
            out.append(title)
        return out

    def course_titles(self, families: np.ndarray, place_names: list[str], free: np.ndarray) -> list[str]:
        """'成都市焊工（初级）培训班（第3期）', '免费家政服务员（初级）培训'."""
        n = len(families)
        u = self.rng.random((n, 4))
        out = []
        fl = VOCABULARY.families
        for r in range(n):
            f = fl[int(families[r])]
            title = f.titles[int(u[r, 0] * len(f.titles)) % len(f.titles)]
            if u[r, 1] < 0.3:
                title = place_names[r] + title
            if free[r] and u[r, 2] < 0.3:
                title = "免费" + title
            if u[r, 3] < 0.2:
                title += f"（第{1 + int(u[r, 3] * 60)}期）"
            out.append(title)
        return out

    # ------------------------------------------------------------------ regions

    def regions(self, places: np.ndarray, codes: np.ndarray, names: dict[int, tuple[str, ...]]) -> list[str]:
        """Region cells: the 6-digit code, or for NAME_SHARE of cells a Chinese name."""
        n = len(places)
        as_name = self.rng.random(n) < NAME_SHARE
        which = self.rng.random(n)
        out = codes[places].tolist()
        for r in np.flatnonzero(as_name).tolist():
            forms = names.get(int(places[r]), ())
            if forms:
                out[r] = forms[int(which[r] * len(forms)) % len(forms)]
        return out
