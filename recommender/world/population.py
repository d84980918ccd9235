"""Migrant workers: who they are, where they live and work, what they can do.

Calibrated attributes (home region, outbound status, cross-province moves,
work region, age, education, gender) are assigned by quota within strata, so
a small world meets its targets as well as a large one. Trades (a worker's
usual job type) are given by affinity to gender, age, education and local vs
outbound work, scaled (Sinkhorn) so the totals per industry meet the targets.
Everything is vectorised over workers; loops run over provinces, cities or
strata, never over workers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from recommender.world import calibration as cal
from recommender.world.geography import (
    DEST_MACRO,
    HUB_CITIES,
    MACROS,
    ORIGIN_PROVINCE_WEIGHTS,
    P_INTERPROVINCE,
    P_OUTBOUND,
    Geography,
)
from recommender.world.sampling import (
    mask_from_ids,
    quota_labels,
    rng_for,
    round_rows,
    sinkhorn,
    stratified_labels,
    weighted_choice,
)
from recommender.world.vocabulary import INDUSTRY_GROUPS, VOCABULARY

EDUCATION_LEVELS: tuple[str, ...] = (
    "none", "primary", "junior_high", "senior_high", "secondary_vocational", "college", "bachelor_plus",
)
MOBILITY_LEVELS: tuple[str, ...] = ("local", "province", "anywhere")
MAX_WORKER_SKILLS = 6

# Age bands (NBS) and, per band, the share among outbound workers; the local
# shares follow from the overall targets. Within a band ages are tilted so
# that local workers are older (see docs/world.md for the arithmetic).
_BANDS = ((16, 20), (21, 30), (31, 40), (41, 50), (51, 70))
_OUTBOUND_BANDS = np.array([1.5, 20.0, 33.0, 25.0, 20.5])
_TILT = {False: (0.2, 0.8), True: (-0.25, 2.3)}  # outbound -> (tilt in 21..50, decay over 50)

# Men among local / outbound workers: the NBS overall, local and outbound
# shares are not consistent with a 59.4% outbound share; these split the
# 1.7-point gap evenly (overall 63.6, local 56.1, outbound 68.6).
_MEN = {False: 56.13, True: 68.63}

_AGE_PROFILES = {
    "young": (1.6, 1.5, 1.0, 0.5, 0.15),
    "prime": (0.6, 1.0, 1.2, 1.1, 0.6),
    "broad": (1.0, 1.0, 1.0, 1.0, 0.8),
    "old": (0.2, 0.4, 0.7, 1.2, 1.9),
}
_EDU_PROFILES = {"low": (1.3, 1.0, 0.5), "mid": (0.7, 1.0, 1.3), "high": (0.2, 0.8, 2.2)}


@dataclass
class Areas:
    """Local labour markets: a home county (local work) or a destination city.

    ``places`` of area ``a`` are ``place_idx[ptr[a]:ptr[a+1]]`` (districts of
    a city; the county itself for a county area).
    """

    kind: np.ndarray  # 0 county, 1 city
    code: np.ndarray  # county code or prefecture code (int)
    province: np.ndarray
    macro: np.ndarray
    ptr: np.ndarray
    place_idx: np.ndarray

    def __len__(self) -> int:
        return len(self.kind)

    def random_place(self, rng: np.random.Generator, area: np.ndarray) -> np.ndarray:
        """A place within each given area, uniformly among its districts."""
        start, stop = self.ptr[area], self.ptr[area + 1]
        return self.place_idx[start + (rng.random(len(area)) * (stop - start)).astype(np.int64)]


@dataclass
class Population:
    """All workers as parallel arrays (index = worker number - 1)."""

    n: int
    start: dt.date
    age: np.ndarray
    birth_year: np.ndarray
    male: np.ndarray
    education: np.ndarray  # index into EDUCATION_LEVELS
    home: np.ndarray  # place index
    current: np.ndarray  # place index
    outbound: np.ndarray
    inter: np.ndarray
    area: np.ndarray  # work area index
    trade: np.ndarray  # job type index
    skill_ids: np.ndarray  # (n, MAX_WORKER_SKILLS) int16, -1 padded
    skills: np.ndarray  # (n, 2) uint64
    certs: np.ndarray  # uint64 mask
    experience: np.ndarray
    expected_wage: np.ndarray
    mobility: np.ndarray
    registered: np.ndarray  # day number (days since 1970-01-01)
    cluster: np.ndarray
    areas: Areas

    @property
    def edu3(self) -> np.ndarray:
        """0: none/primary, 1: junior high, 2: senior high and above."""
        return np.select([self.education <= 1, self.education == 2], [0, 1], 2).astype(np.int8)

    @property
    def band(self) -> np.ndarray:
        return np.searchsorted([20, 30, 40, 50], self.age, side="left").astype(np.int8)


def day_number(d: dt.date) -> int:
    """Days since 1970-01-01 (Arrow's date32), the world's date unit."""
    return (d - dt.date(1970, 1, 1)).days


def window_end(start: dt.date, months: int) -> dt.date:
    """Last day of the window: ``months`` calendar months after ``start``, minus one day."""
    y, m = divmod(start.month - 1 + months, 12)
    day = min(start.day, 28)
    return dt.date(start.year + y, m + 1, day) - dt.timedelta(days=1)


# --------------------------------------------------------------------------- geography of workers


def _homes_and_destinations(
    rng: np.random.Generator, geo: Geography, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, Areas]:
    """Home county, current place, outbound and cross-province flags, work area."""
    origin_share = np.array([cal.target("home region", m) for m in MACROS])
    macro = quota_labels(rng, n, origin_share)

    provinces = sorted(ORIGIN_PROVINCE_WEIGHTS)
    prov_macro = {p: MACROS.index(geo.index.get(f"{p}0000").macro_region) for p in provinces}
    home_prov = np.zeros(n, dtype=np.int16)
    for m in range(4):
        where = np.flatnonzero(macro == m)
        provs = [p for p in provinces if prov_macro[p] == m]
        w = np.array([ORIGIN_PROVINCE_WEIGHTS[p] for p in provs])
        labels = quota_labels(rng, len(where), w)
        home_prov[where] = np.array([int(p) for p in provs], dtype=np.int16)[labels]

    home = np.zeros(n, dtype=np.int32)
    for p in np.unique(home_prov):
        where = np.flatnonzero(home_prov == p)
        counties = geo.origin_counties(int(p), len(where), rng)
        size = rng.gamma(2.0, 1.0, len(counties))
        home[where] = counties[weighted_choice(rng, size, len(where))]

    outbound = np.zeros(n, dtype=bool)
    inter = np.zeros(n, dtype=bool)
    dest_macro = macro.astype(np.int8).copy()
    for m in range(4):
        where = np.flatnonzero(macro == m)
        out = quota_labels(rng, len(where), [1 - P_OUTBOUND[m], P_OUTBOUND[m]]).astype(bool)
        outbound[where] = out
        w_out = where[out]
        cross = quota_labels(rng, len(w_out), [1 - P_INTERPROVINCE[m], P_INTERPROVINCE[m]]).astype(bool)
        inter[w_out] = cross
        w_cross = w_out[cross]
        dest_macro[w_cross] = quota_labels(rng, len(w_cross), DEST_MACRO[m])

    # destination cities: within the home province, or a hub of the destination macro region
    n_extra = int(np.clip(n // 30000, 0, 5))
    districts_per_city = int(np.clip(round(n / 3000), 1, 8))
    city_codes: list[str] = []
    city_of = np.full(n, -1, dtype=np.int32)

    def city_id(code: str) -> int:
        if code not in city_pos:
            city_pos[code] = len(city_codes)
            city_codes.append(code)
        return city_pos[code]

    city_pos: dict[str, int] = {}
    intra = outbound & ~inter
    for p in np.unique(home_prov[intra]):
        where = np.flatnonzero(intra & (home_prov == p))
        dests = geo.intra_destinations(int(p), n_extra, rng)
        codes = list(dests)
        pick = weighted_choice(rng, np.array([dests[c] for c in codes]), len(where))
        ids = np.array([city_id(c) for c in codes], dtype=np.int32)
        city_of[where] = ids[pick]
    hub_macro = {c: MACROS.index(geo.index.get(c).macro_region) for c in HUB_CITIES}
    # small worlds use only the biggest hubs of each region, so each keeps a labour market
    hubs_kept: list[str] = []
    for m in range(4):
        ranked = sorted((c for c in HUB_CITIES if hub_macro[c] == m), key=lambda c: -HUB_CITIES[c])
        keep = int(np.clip(round(n / 100 * len(ranked) / len(HUB_CITIES)), 3, len(ranked)))
        hubs_kept.extend(ranked[:keep])
    for m in range(4):
        for p in np.unique(home_prov[inter & (dest_macro == m)]):
            where = np.flatnonzero(inter & (dest_macro == m) & (home_prov == p))
            codes = [c for c in hubs_kept if hub_macro[c] == m and int(c[:2]) != p] or [
                c for c in HUB_CITIES if hub_macro[c] == m and int(c[:2]) != p
            ]
            pick = weighted_choice(rng, np.array([HUB_CITIES[c] for c in codes]), len(where))
            ids = np.array([city_id(c) for c in codes], dtype=np.int32)
            city_of[where] = ids[pick]

    # areas: every origin county with workers, then every destination city
    counties = np.unique(home)
    county_area = {int(c): i for i, c in enumerate(counties)}
    kind, code, province, amacro, ptr, place_idx = [], [], [], [], [0], []
    p = geo.places
    for c in counties:
        kind.append(0)
        code.append(int(p.code_int[c]))
        province.append(int(p.province[c]))
        amacro.append(int(p.macro[c]))
        place_idx.append(np.array([c]))
        ptr.append(ptr[-1] + 1)
    for c in city_codes:
        places = geo.city_places(c, districts_per_city)
        kind.append(1)
        code.append(int(c))
        province.append(int(c[:2]))
        amacro.append(MACROS.index(geo.index.get(c).macro_region))
        place_idx.append(places)
        ptr.append(ptr[-1] + len(places))
    areas = Areas(
        kind=np.array(kind, dtype=np.int8),
        code=np.array(code, dtype=np.int64),
        province=np.array(province, dtype=np.int16),
        macro=np.array(amacro, dtype=np.int8),
        ptr=np.array(ptr, dtype=np.int64),
        place_idx=np.concatenate(place_idx).astype(np.int32),
    )
    lookup = np.zeros(len(p.code), dtype=np.int32)
    lookup[counties] = np.arange(len(counties), dtype=np.int32)
    area = lookup[home]
    out_idx = np.flatnonzero(outbound)
    area[out_idx] = len(counties) + city_of[out_idx]

    current = home.copy()
    current[out_idx] = areas.random_place(rng, area[out_idx])
    # a destination district that happens to be the home county: take another district
    same = np.flatnonzero(outbound & (current == home))
    for i in same:
        a = area[i]
        options = areas.place_idx[areas.ptr[a] : areas.ptr[a + 1]]
        options = options[options != home[i]]
        if len(options):
            current[i] = options[rng.integers(len(options))]
        else:  # a one-district city that is the home county: the worker works locally
            outbound[i] = False
            inter[i] = False
            area[i] = county_area[int(home[i])]
    return home, current, outbound, inter, area, areas


# --------------------------------------------------------------------------- demography


def _ages(rng: np.random.Generator, outbound: np.ndarray) -> np.ndarray:
    """Ages by band quota per outbound status, tilted within bands (local older)."""
    overall = np.array([cal.target("age", b) for b in ("16-20", "21-30", "31-40", "41-50", "over 50")])
    share_out = float(np.mean(outbound)) if len(outbound) else 0.594
    local_bands = (overall - share_out * _OUTBOUND_BANDS) / max(1 - share_out, 1e-9)
    local_bands = np.clip(local_bands, 0.05, None)
    probs = np.stack([local_bands, _OUTBOUND_BANDS])
    band = stratified_labels(rng, outbound.astype(np.int8), probs)
    age = np.zeros(len(band), dtype=np.int16)
    for is_out in (False, True):
        tilt, decay = _TILT[is_out]
        for b, (lo, hi) in enumerate(_BANDS):
            where = np.flatnonzero((band == b) & (outbound == is_out))
            a = np.arange(lo, hi + 1)
            if b == 4:
                w = (hi + 1.0 - a) ** decay
            elif b == 0:
                w = np.ones(len(a))
            else:
                w = 1 + tilt * (a - (lo + hi) / 2) / ((hi - lo) / 2 + 0.5)
            age[where] = a[weighted_choice(rng, w, len(where))]
    return age


def _education(rng: np.random.Generator, age: np.ndarray) -> np.ndarray:
    """Education by quota, ranked so that younger workers tend to be better educated."""
    share = {
        "none": cal.target("education", "none"),
        "primary": cal.target("education", "primary"),
        "junior_high": cal.target("education", "junior high"),
        "senior": cal.target("education", "senior high (incl. secondary vocational)"),
        "college+": cal.target("education", "college and above"),
    }
    order_levels = ["college+", "senior", "junior_high", "primary", "none"]
    counts = np.floor(np.array([share[k] for k in order_levels]) / 100 * len(age)).astype(np.int64)
    counts[2] += len(age) - counts.sum()  # rounding to the largest group
    score = -(age - 40.0) / 12.0 + rng.normal(0, 1.0, len(age))
    ranked = np.argsort(-score, kind="stable")
    level = np.repeat(np.arange(5), counts)
    edu = np.zeros(len(age), dtype=np.int8)
    by_rank = np.empty(len(age), dtype=np.int8)
    by_rank[ranked] = level
    # map coarse levels to contract levels
    coarse_to = {0: None, 1: None, 2: 2, 3: 1, 4: 0}
    for c, lvl in coarse_to.items():
        if lvl is not None:
            edu[by_rank == c] = lvl
    college = np.flatnonzero(by_rank == 0)
    edu[college] = np.where(rng.random(len(college)) < 0.7, 5, 6)
    senior = np.flatnonzero(by_rank == 1)
    edu[senior] = np.where(rng.random(len(senior)) < 0.63, 3, 4)
    return edu


# --------------------------------------------------------------------------- trades


def industry_shares() -> np.ndarray:
    """Target share of each calibration group, in INDUSTRY_GROUPS order (sums to 1)."""
    values = np.array([cal.target("industry", cal.INDUSTRY_MARGINALS[g]) for g in INDUSTRY_GROUPS])
    return values / values.sum()


def type_shares() -> np.ndarray:
    """Share of each job type among all workers: industry share x weight within the industry."""
    groups = {ind.key: ind.group for ind in VOCABULARY.industries}
    shares = industry_shares()
    types = VOCABULARY.job_types
    group_idx = np.array([INDUSTRY_GROUPS.index(groups[t.industry]) for t in types])
    weight = np.array([t.weight for t in types], dtype=float)
    total = np.bincount(group_idx, weights=weight, minlength=len(INDUSTRY_GROUPS))
    return shares[group_idx] * weight / total[group_idx]


def _trades(
    rng: np.random.Generator, male: np.ndarray, band: np.ndarray, edu3: np.ndarray, outbound: np.ndarray
) -> np.ndarray:
    """Each worker's usual job type: affinity by who they are, totals per type on target."""
    types = VOCABULARY.job_types
    cell = ((male.astype(np.int64) * 5 + band) * 3 + edu3) * 2 + outbound
    n_cells = 2 * 5 * 3 * 2
    row = np.bincount(cell, minlength=n_cells).astype(float)
    men = float(np.clip(np.mean(male), 0.05, 0.95)) if len(male) else 0.6
    aff = np.ones((n_cells, len(types)))
    for c in range(n_cells):
        o = c % 2
        e = (c // 2) % 3
        b = (c // 6) % 5
        g = c // 30
        for t, jt in enumerate(types):
            gender = jt.male / men if g else (1 - jt.male) / (1 - men)
            local = (1 - jt.local) / 0.55 if o else jt.local / 0.45
            aff[c, t] = (gender + 0.01) * _AGE_PROFILES[jt.age_profile][b] * _EDU_PROFILES[jt.edu][e] * local
    x = round_rows(sinkhorn(row, type_shares() * len(male), aff))
    trade = np.zeros(len(male), dtype=np.int16)
    for c in np.flatnonzero(row):
        where = np.flatnonzero(cell == c)
        labels = np.repeat(np.arange(len(types), dtype=np.int16), x[c])
        rng.shuffle(labels)
        trade[where] = labels[: len(where)]
    return trade


# --------------------------------------------------------------------------- skills, certificates


def type_skill_table() -> tuple[np.ndarray, np.ndarray]:
    """(types, 5) skill ids of each job type (-1 padded) and the number of core skills."""
    types = VOCABULARY.job_types
    table = np.full((len(types), 5), -1, dtype=np.int16)
    core = np.zeros(len(types), dtype=np.int8)
    for i, t in enumerate(types):
        ids = [VOCABULARY.skill_id[s] for s in t.skills][:5]
        table[i, : len(ids)] = ids
        core[i] = t.core
    return table, core


def type_cert_table() -> tuple[np.ndarray, np.ndarray]:
    """(types, 3) certificate ids (-1 padded) and the probability a job requires each."""
    types = VOCABULARY.job_types
    ids = np.full((len(types), 3), -1, dtype=np.int16)
    prob = np.zeros((len(types), 3))
    for i, t in enumerate(types):
        for j, (c, p) in enumerate(t.certs[:3]):
            ids[i, j] = VOCABULARY.cert_id[c]
            prob[i, j] = p
    return ids, prob


def _skills(
    rng: np.random.Generator, trade: np.ndarray, experience: np.ndarray, edu3: np.ndarray, male: np.ndarray
) -> np.ndarray:
    """(n, MAX_WORKER_SKILLS) latent skill ids: the trade's, one from an earlier trade, a generic one."""
    table, core = type_skill_table()
    n = len(trade)
    own = table[trade]  # (n, 5)
    k = np.arange(5)[None, :]
    p_keep = 0.3 + 0.04 * np.minimum(experience, 10)[:, None]
    keep = (k < core[trade][:, None]) | (rng.random((n, 5)) < p_keep)
    ids = np.where(keep & (own >= 0), own, -1)
    # a skill from an earlier trade, and a generic one
    other = rng.integers(0, len(VOCABULARY.job_types), n)
    other_skill = table[other, 0]
    with_other = rng.random(n) < 0.3
    generic_keys = ["communication", "phone_app", "computer_basic", "car_driving"]
    generic = np.array([VOCABULARY.skill_id[g] for g in generic_keys])
    gp = np.select([edu3 == 2, edu3 == 1], [0.25, 0.12], 0.05)
    g_pick = generic[rng.integers(0, len(generic), n)]
    g_pick = np.where((g_pick == VOCABULARY.skill_id["car_driving"]) & ~male & (rng.random(n) < 0.6), generic[0], g_pick)
    with_generic = rng.random(n) < gp
    extra = np.stack([np.where(with_other, other_skill, -1), np.where(with_generic, g_pick, -1)], axis=1)
    allids = np.concatenate([ids, extra], axis=1).astype(np.int16)
    # drop duplicates within a row and compact to the left
    s = np.sort(allids, axis=1)[:, ::-1]
    dup = np.zeros_like(s, dtype=bool)
    dup[:, 1:] = s[:, 1:] == s[:, :-1]
    s = np.where(dup, -1, s)
    s = -np.sort(-s, axis=1)  # valid ids first (descending), -1 last
    out = s[:, :MAX_WORKER_SKILLS]
    # keep the trade's core skill first: shuffle order per row so lists look natural
    perm = np.argsort(np.where(out >= 0, rng.random(out.shape), 2.0), axis=1)
    return np.take_along_axis(out, perm, axis=1)


def _certs(
    rng: np.random.Generator, trade: np.ndarray, age: np.ndarray, male: np.ndarray
) -> np.ndarray:
    """Certificates held at registration (uint64 mask): the trade's, and a C1 driving licence."""
    ids, _ = type_cert_table()
    hold = np.array([t.hold for t in VOCABULARY.job_types])
    n = len(trade)
    mask = np.zeros(n, dtype=np.uint64)
    for j in range(3):
        c = ids[trade, j]
        p = hold[trade] * (1.0 if j == 0 else 0.5)
        has = (c >= 0) & (rng.random(n) < p)
        mask[has] |= np.left_shift(np.uint64(1), c[has].astype(np.uint64))
    c1 = VOCABULARY.cert_id["licence_c1"]
    p_c1 = np.where(male, 0.3, 0.1) * ((age >= 22) & (age <= 60))
    has = rng.random(n) < p_c1
    mask[has] |= np.uint64(1 << c1)
    return mask


# --------------------------------------------------------------------------- wages


def wage_factor(areas: Areas, area: np.ndarray) -> np.ndarray:
    """Wage level of an area relative to a big eastern city (see market.WAGE_*)."""
    from recommender.world.market import WAGE_CITY_KIND, WAGE_MACRO

    return WAGE_MACRO[areas.macro[area]] * WAGE_CITY_KIND[areas.kind[area]]


# --------------------------------------------------------------------------- main


def generate_population(
    geo: Geography, n: int, *, seed: int, start: dt.date, months: int
) -> Population:
    """All workers of a world with ``n`` workers."""
    rng = rng_for(seed, 1)
    home, current, outbound, inter, area, areas = _homes_and_destinations(rng, geo, n)
    age = _ages(rng_for(seed, 1, 1), outbound)
    r = rng_for(seed, 1, 2)
    birth_year = (start.year - age).astype(np.int16)
    male = np.zeros(n, dtype=bool)
    for is_out in (False, True):
        where = np.flatnonzero(outbound == is_out)
        p = _MEN[is_out] / 100
        male[where] = quota_labels(r, len(where), [1 - p, p]).astype(bool)
    education = _education(r, age)
    pop_band = np.searchsorted([20, 30, 40, 50], age, side="left").astype(np.int8)
    edu3 = np.select([education <= 1, education == 2], [0, 1], 2).astype(np.int8)
    trade = _trades(rng_for(seed, 1, 3), male, pop_band, edu3, outbound.astype(np.int64))

    r = rng_for(seed, 1, 4)
    experience = np.floor((age - 17).clip(0) * r.uniform(0.2, 0.85, n)).astype(np.float32)
    skill_ids = _skills(r, trade, experience, edu3, male)
    skills = mask_from_ids(skill_ids)
    certs = _certs(r, trade, age, male)

    from recommender.world.market import type_wages

    typical = type_wages()[trade] * wage_factor(areas, area)
    expected = typical * r.uniform(0.72, 1.0, n) * np.where(age >= 55, 0.9, 1.0)
    expected_wage = (np.round(expected / 100) * 100).astype(np.int32)

    mobility = np.full(n, 2, dtype=np.int8)
    local = ~outbound
    old = age >= 50
    for mask, probs in (
        (local & old, (0.85, 0.10, 0.05)),
        (local & ~old, (0.60, 0.25, 0.15)),
        (outbound & ~inter, (0.0, 0.6, 0.4)),
    ):
        where = np.flatnonzero(mask)
        mobility[where] = weighted_choice(r, np.array(probs), len(where))

    s = day_number(start)
    e = day_number(window_end(start, months))
    kind = weighted_choice(r, np.array([0.58, 0.34, 0.08]), n)
    registered = np.select(
        [kind == 0, kind == 1],
        [s - r.integers(0, 1000, n), r.integers(s, max(s + 1, e - 60), n)],
        r.integers(max(s, e - 60), max(s + 1, e - 5), n),
    ).astype(np.int32)

    home_macro = geo.places.macro[home].astype(np.int64)
    cluster = (((male.astype(np.int64) * 5 + pop_band) * 3 + edu3) * 4 + home_macro).astype(np.int16)
    return Population(
        n=n,
        start=start,
        age=age,
        birth_year=birth_year,
        male=male,
        education=education,
        home=home,
        current=current.astype(np.int32),
        outbound=outbound,
        inter=inter,
        area=area,
        trade=trade,
        skill_ids=skill_ids,
        skills=skills,
        certs=certs,
        experience=experience,
        expected_wage=expected_wage,
        mobility=mobility,
        registered=registered,
        cluster=cluster,
        areas=areas,
    )
