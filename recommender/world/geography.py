"""Where workers come from and where they work, on real divisions from ``recommender.regions``.

The world's places are real county-level divisions (plus the few prefectures
without counties, such as 东莞 and 中山, which stand for themselves). Homes are
drawn from counties of the big labour-exporting provinces; outbound work goes
to real destination cities: each province's capital and major cities for
moves within the province, and the national hubs (Pearl River Delta, Yangtze
River Delta, Beijing-Tianjin...) for moves across provinces. Small worlds
use fewer counties and districts, so that places still hold enough workers
and jobs to form a labour market.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recommender.regions import Region, RegionIndex, distance_km

MACROS: tuple[str, ...] = ("east", "central", "west", "northeast")

# Relative weight of each province among migrant workers' *homes* within its
# macro region (labour-exporting provinces first; municipalities have few
# rural-hukou workers). Rough shares after the provincial statistical yearbooks.
ORIGIN_PROVINCE_WEIGHTS: dict[str, float] = {
    # east
    "13": 10, "37": 14, "32": 8, "33": 5, "35": 6, "44": 12, "46": 1, "11": 0.3, "12": 0.5, "31": 0.2,
    # central
    "41": 30, "34": 18, "43": 17, "42": 14, "36": 13, "14": 8,
    # west
    "51": 25, "52": 14, "45": 15, "50": 10, "53": 12, "61": 9, "62": 7, "15": 3, "65": 3, "64": 1,
    "63": 1, "54": 0.3,
    # northeast
    "23": 35, "22": 25, "21": 40,
}

# Destination cities for moves across a province line, with their pull
# (prefecture code -> weight). Hubs of the east take most; capitals of the
# other regions take the rest.
HUB_CITIES: dict[str, float] = {
    # Pearl River Delta
    "440300": 14, "441900": 12, "440100": 10, "440600": 6, "441300": 3, "442000": 3, "440400": 1.5,
    # Yangtze River Delta
    "310100": 10, "320500": 10, "320200": 3, "320100": 3, "320400": 2, "330100": 6, "330200": 5,
    "330300": 3, "330700": 3, "330400": 2, "330600": 2, "331000": 2,
    # north and elsewhere in the east
    "110100": 8, "120100": 4, "350200": 3, "350500": 3, "350100": 2, "370200": 2, "370100": 1,
    "130100": 1, "460100": 1, "460200": 0.5,
    # central
    "420100": 4, "410100": 4, "430100": 3, "340100": 3, "360100": 2, "140100": 1.5,
    # west
    "510100": 4, "500100": 4, "610100": 3, "530100": 2, "520100": 1.5, "450100": 1.5, "650100": 1.5,
    "150100": 0.8, "640100": 0.4, "620100": 0.6, "630100": 0.3, "540100": 0.2,
    # northeast
    "210100": 2, "210200": 2, "220100": 1.5, "230100": 1.5,
}

# Divisions in the code table where mainland migrant workers do not live or work.
EXCLUDED_PLACES = frozenset({"350527"})  # 金门县 (administered from Taiwan)

# Flows between macro regions, solved so that home regions, work regions,
# the outbound share and the cross-province share all meet the NBS targets
# (see docs/world.md): per home macro region, P(outbound), P(cross-province |
# outbound) and, for cross-province movers, the macro region of destination.
P_OUTBOUND: tuple[float, ...] = (0.465, 0.685, 0.655, 0.55)
P_INTERPROVINCE: tuple[float, ...] = (0.15, 0.505, 0.43, 0.37)
DEST_MACRO: tuple[tuple[float, ...], ...] = (
    (0.80, 0.08, 0.09, 0.03),
    (0.88, 0.08, 0.04, 0.00),
    (0.79, 0.07, 0.14, 0.00),
    (0.64, 0.03, 0.03, 0.30),
)


@dataclass
class Places:
    """The world's places (county-level units) as parallel arrays."""

    code: np.ndarray  # '510107' strings
    code_int: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    province: np.ndarray  # 2-digit int
    prefecture: np.ndarray  # 6-digit int of the parent prefecture (or itself)
    macro: np.ndarray  # index into MACROS
    name_forms: list[tuple[str, ...]]  # Chinese names that resolve back to the code
    urban: np.ndarray  # a district (区) or a city standing for itself


class Geography:
    """Real places, the origin counties and destination cities of one world."""

    def __init__(self, index: RegionIndex | None = None) -> None:
        self.index = index or RegionIndex.default()
        regions: list[Region] = list(self.index.counties())
        # prefectures with no counties (东莞, 中山, 儋州, 嘉峪关) stand for themselves
        for prov in self.index.provinces():
            for pref in self.index.children(prov.code):
                if pref.level == "prefecture" and not self.index.children(pref.code):
                    if not pref.code[2] == "9":
                        regions.append(pref)
        regions = [
            r for r in regions
            if r.province_code[:2] in ORIGIN_PROVINCE_WEIGHTS and r.code not in EXCLUDED_PLACES
        ]
        regions.sort(key=lambda r: r.code)
        self.regions = regions
        self.pos = {r.code: i for i, r in enumerate(regions)}
        self.places = Places(
            code=np.array([r.code for r in regions]),
            code_int=np.array([int(r.code) for r in regions], dtype=np.int64),
            lat=np.array([r.latitude for r in regions]),
            lon=np.array([r.longitude for r in regions]),
            province=np.array([int(r.code[:2]) for r in regions], dtype=np.int16),
            prefecture=np.array([int(r.prefecture_code or r.code) for r in regions], dtype=np.int64),
            macro=np.array([MACROS.index(r.macro_region) for r in regions], dtype=np.int8),
            name_forms=[self._name_forms(r) for r in regions],
            urban=np.array([r.name.endswith("区") or r.level == "prefecture" for r in regions]),
        )

    # ------------------------------------------------------------------ names

    def _name_forms(self, region: Region) -> tuple[str, ...]:
        """'四川省成都市武侯区' and '成都市武侯区' (only forms known to resolve back)."""
        forms = [region.full_name]
        if region.level == "county" and region.prefecture_code and region.prefecture_code[2] != "9":
            parent = self.index.get(region.prefecture_code)
            short = parent.name + region.name
            if short != region.full_name:
                forms.append(short)
        return tuple(forms)

    def checked_name_forms(self, place_idx: np.ndarray) -> dict[int, tuple[str, ...]]:
        """Name forms of the given places that the region index resolves to the same code."""
        out: dict[int, tuple[str, ...]] = {}
        wanted = {int(i): self.places.name_forms[int(i)] for i in np.unique(place_idx)}
        resolved = self.index.resolve_many([f for forms in wanted.values() for f in forms])
        for i, forms in wanted.items():
            code = self.places.code[i]
            good = tuple(
                f for f in forms if getattr(resolved.get(f), "code", None) == code
            )
            out[i] = good
        return out

    # ------------------------------------------------------------------ homes

    def origin_counties(self, province2: int, n_workers: int, rng: np.random.Generator) -> np.ndarray:
        """Places where this province's migrant workers live: rural counties first.

        Small worlds use fewer counties (about one per 70 workers) so each holds
        a local labour market.
        """
        hubs = {int(c) for c in HUB_CITIES}
        p = self.places
        cand = np.flatnonzero(
            (p.province == province2)
            & ~(np.isin(p.prefecture, list(hubs)) & p.urban)
            & (p.code_int % 100 != 0)
        )
        if len(cand) == 0:  # municipalities: every county is an urban district of the hub
            cand = np.flatnonzero((p.province == province2) & (p.code_int % 100 != 0))
        weight = np.where(p.urban[cand], 0.3, 1.0)
        k = int(np.clip(round(n_workers / 70), 1, len(cand)))
        chosen = rng.choice(cand, size=k, replace=False, p=weight / weight.sum())
        return np.sort(chosen)

    # ------------------------------------------------------------------ destinations

    def city_places(self, prefecture: str, k: int) -> np.ndarray:
        """The k central urban districts of a city (the city itself if it has none)."""
        pref = self.index.get(prefecture)
        kids = [r for r in self.index.children(pref.code) if r.code in self.pos]
        if not kids:
            return np.array([self.pos[pref.code]]) if pref.code in self.pos else np.array([], int)
        urban = [r for r in kids if r.name.endswith("区")] or kids
        d = np.array([distance_km(pref.latitude, pref.longitude, r.latitude, r.longitude) for r in urban])
        order = np.argsort(d, kind="stable")[:k]
        return np.array([self.pos[urban[i].code] for i in order])

    def intra_destinations(self, province2: int, n_extra: int, rng: np.random.Generator) -> dict[str, float]:
        """Cities a worker moves to without leaving the province: capital, hubs, a few others."""
        prov = f"{province2:02d}0000"
        capital = f"{province2:02d}0100"
        out: dict[str, float] = {}
        prefs = [r for r in self.index.children(prov) if r.level == "prefecture" and r.code[2] != "9"]
        codes = {r.code for r in prefs}
        if capital in codes:
            out[capital] = 4.0
        for code, w in HUB_CITIES.items():
            if code in codes:
                out[code] = max(out.get(code, 0.0), w)
        others = sorted(codes - set(out))
        if others and n_extra > 0:
            pick = rng.choice(len(others), size=min(n_extra, len(others)), replace=False)
            for i in sorted(pick):
                out[others[i]] = 0.6
        if not out and prefs:
            out[prefs[0].code] = 1.0
        return out

    def distance(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Great-circle km between places (vectorised)."""
        p = self.places
        return np.asarray(distance_km(p.lat[a], p.lon[a], p.lat[b], p.lon[b]), dtype=np.float32)
