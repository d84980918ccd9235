"""Employers, job postings and training courses, placed where the workers are.

Jobs are allocated to local labour markets (a home county for local work, a
destination city for outbound work) and industries in proportion to the
workers there, with every populated market/industry cell getting a job
first, so that even a small world has jobs within reach of most workers.
Wages follow the job type, the macro region and whether the market is a
city or a county; the ``WAGE_*`` constants are tuned so that the wages of the
jobs workers end up holding meet the NBS income targets.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from recommender.world.population import (
    EDUCATION_LEVELS,
    Population,
    day_number,
    type_cert_table,
    type_skill_table,
    wage_factor,
    window_end,
)
from recommender.world.sampling import (
    GroupIndex,
    mask_from_ids,
    quota_counts,
    rng_for,
    stratified_normal,
    weighted_choice,
)
from recommender.world.vocabulary import VOCABULARY

# Wage model: type base wage (vocabulary, a big eastern city) x scale x macro
# region x county/city x noise. Tuned against calibration.
WAGE_SCALE = 1.018
WAGE_MACRO = np.array([1.0, 0.86, 0.85, 0.82])  # east, central, west, northeast
WAGE_CITY_KIND = np.array([0.875, 1.0])  # county (local work), city
WAGE_NOISE = 0.08
WAGE_INDUSTRY = {"construction": 0.872}  # posted construction wages overstate what is earned


def type_wages() -> np.ndarray:
    """Typical monthly wage of each job type in a big eastern city (before area factors)."""
    return np.array(
        [t.wage * WAGE_SCALE * WAGE_INDUSTRY.get(t.industry, 1.0) for t in VOCABULARY.job_types]
    )

EMPLOYMENT_TYPES: tuple[str, ...] = ("full_time", "part_time", "seasonal", "platform", "public_welfare")
COURSE_MODES: tuple[str, ...] = ("in_person", "online", "blended")
ARREARS_SHARE = 0.03
JOBS_PER_EMPLOYER = 6
MAX_JOB_SKILLS = 5

# Certificates an employer cannot waive (special operations, driving). A food
# worker's health certificate is as required, but is a medical check done in a
# few days, so employers often hire first and send the worker to get it.
_STRICT_KINDS = frozenset({"special_operation", "special_equipment", "driving"})


@dataclass
class Jobs:
    """Job postings as parallel arrays (index = job number - 1), with hidden fields."""

    n: int
    type: np.ndarray
    industry: np.ndarray  # index into VOCABULARY.industries
    area: np.ndarray
    place: np.ndarray
    employer: np.ndarray
    wage: np.ndarray  # true monthly wage (middle of the posted range)
    wage_min: np.ndarray
    wage_max: np.ndarray
    wage_posted: np.ndarray
    age_min: np.ndarray  # 0 = not posted
    age_max: np.ndarray  # 0 = not posted
    age_enforced: np.ndarray
    education_min: np.ndarray  # -1 = none
    housing: np.ndarray
    insurance: np.ndarray
    etype: np.ndarray
    openings: np.ndarray
    posted: np.ndarray  # day numbers
    closes: np.ndarray
    skill_ids: np.ndarray
    skills: np.ndarray
    certs: np.ndarray
    cert_enforced: np.ndarray


@dataclass
class Employers:
    """Employers: one industry each; ``effect`` is a hidden hiring propensity."""

    n: int
    industry: np.ndarray
    area: np.ndarray
    name: list[str]
    arrears: np.ndarray
    effect: np.ndarray  # hidden hiring propensity


@dataclass
class Courses:
    """Course instances of the course families, where and when they are held."""

    n: int
    family: np.ndarray
    area: np.ndarray
    place: np.ndarray
    mode: np.ndarray
    start: np.ndarray  # day number
    days: np.ndarray
    fee: np.ndarray
    subsidy: np.ndarray
    age_min: np.ndarray
    age_max: np.ndarray
    seats: np.ndarray
    skill_ids: np.ndarray
    skills: np.ndarray
    cert: np.ndarray  # certificate id awarded


@dataclass
class Market:
    """Everything workers can be referred to."""

    jobs: Jobs
    employers: Employers
    courses: Courses


def n_jobs_for(workers: int) -> int:
    """About one job posting per five workers, never fewer than 300."""
    return max(300, workers // 5)


def n_courses_for(workers: int) -> int:
    """About one course per 25 workers, never fewer than 60."""
    return max(60, workers // 25)


def _industry_of_type() -> np.ndarray:
    return np.array([VOCABULARY.industry_id[t.industry] for t in VOCABULARY.job_types], dtype=np.int16)


# --------------------------------------------------------------------------- jobs


def _allocate(demand_keys: np.ndarray, n_items: int) -> np.ndarray:
    """Cell key per item: each populated cell first (largest first), the rest by demand."""
    keys, counts = np.unique(demand_keys, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    alloc = np.zeros(len(keys), dtype=np.int64)
    first = min(len(keys), int(n_items * 0.8))
    alloc[order[:first]] = 1
    alloc += quota_counts(n_items - first, counts)
    return np.repeat(keys, alloc)


def _jobs(rng: np.random.Generator, pop: Population, n_jobs: int, start: dt.date, months: int) -> Jobs:
    """Jobs where the workers are, with wages, limits, certificates and windows."""
    types = VOCABULARY.job_types
    ind_of_type = _industry_of_type()
    n_ind = len(VOCABULARY.industries)
    worker_cell = pop.area.astype(np.int64) * n_ind + ind_of_type[pop.trade]
    cell = _allocate(worker_cell, n_jobs)
    rng.shuffle(cell)
    area = (cell // n_ind).astype(np.int32)
    industry = (cell % n_ind).astype(np.int16)

    # job type: the trade of a worker in the cell, or another type of the industry
    by_cell = GroupIndex(worker_cell)
    worker = by_cell.draw(cell, rng.random(n_jobs))
    jtype = pop.trade[worker].astype(np.int16)
    weight = np.array([t.weight for t in types])
    other = rng.random(n_jobs) < 0.15
    for i in np.unique(industry[other]):
        where = np.flatnonzero(other & (industry == i))
        cand = np.flatnonzero(ind_of_type == i)
        jtype[where] = cand[weighted_choice(rng, weight[cand], len(where))]
    place = pop.areas.random_place(rng, area)

    noise = np.exp(WAGE_NOISE * stratified_normal(rng, n_jobs))
    mid = type_wages()[jtype] * wage_factor(pop.areas, area) * noise
    spread = rng.uniform(0.08, 0.25, n_jobs)
    wage_min = (np.round(mid * (1 - spread) / 100) * 100).astype(np.int32)
    wage_max = (np.round(mid * (1 + spread) / 100) * 100).astype(np.int32)
    wage = (wage_min + wage_max) / 2.0
    wage_posted = rng.random(n_jobs) < 0.95

    age_lo = np.array([t.age[0] for t in types], dtype=np.int16)
    age_hi = np.array([t.age[1] for t in types], dtype=np.int16)
    age_p = np.array([t.age_posted for t in types])
    posted_age = rng.random(n_jobs) < age_p[jtype]
    jitter = np.array([-5, 0, 0, 5], dtype=np.int16)[rng.integers(0, 4, n_jobs)]
    age_max = np.where(posted_age, age_hi[jtype] + jitter, 0).astype(np.int16)
    # employers where the workforce is older often relax their limit (to 60 or 65)
    spawn_age = pop.age[worker]
    relax = posted_age & (spawn_age > age_max) & (rng.random(n_jobs) < 0.6)
    age_max = np.where(relax, np.minimum(5 * np.ceil(spawn_age / 5), 65), age_max).astype(np.int16)
    age_min = np.where(posted_age | (rng.random(n_jobs) < 0.2), age_lo[jtype], 0).astype(np.int16)
    age_enforced = rng.random(n_jobs) < 0.85

    edu_req = np.array(
        [EDUCATION_LEVELS.index(t.education_min) if t.education_min else -1 for t in types], dtype=np.int8
    )
    education_min = np.where(rng.random(n_jobs) < 0.6, edu_req[jtype], -1).astype(np.int8)
    county = pop.areas.kind[area] == 0
    housing_p = np.array([t.housing for t in types])[jtype] * np.where(county, 0.6, 1.0)
    insurance_p = np.array([t.insurance for t in types])[jtype] * np.where(county, 0.8, 1.0)
    housing = rng.random(n_jobs) < housing_p
    insurance = rng.random(n_jobs) < insurance_p

    etype = np.zeros(n_jobs, dtype=np.int8)
    for t_idx, t in enumerate(types):
        where = np.flatnonzero(jtype == t_idx)
        if len(where) == 0:
            continue
        labels = [EMPLOYMENT_TYPES.index(k) for k, _ in t.etype]
        probs = np.array([p for _, p in t.etype])
        etype[where] = np.array(labels, dtype=np.int8)[weighted_choice(rng, probs, len(where))]
    mean_open = np.array([t.openings for t in types])
    openings = (1 + rng.poisson(np.maximum(mean_open[jtype] - 1, 0))).astype(np.int32)

    s = day_number(start)
    e = day_number(window_end(start, months))
    posted = rng.integers(s, max(s + 1, e - 20), n_jobs).astype(np.int32)
    posted[0] = s  # the survey year is read from the earliest posting
    duration = np.clip(np.exp(rng.normal(np.log(180), 0.45, n_jobs)), 45, 420).astype(np.int32)
    closes = posted + duration

    table, core = type_skill_table()
    own = table[jtype]
    k = np.arange(own.shape[1])[None, :]
    keep = (k < core[jtype][:, None]) | (rng.random(own.shape) < 0.45)
    skill_ids = np.where(keep & (own >= 0), own, -1).astype(np.int16)
    skills = mask_from_ids(skill_ids)

    cert_ids, cert_p = type_cert_table()
    certs = np.zeros(n_jobs, dtype=np.uint64)
    strict = np.zeros(n_jobs, dtype=bool)
    kinds = np.array([c.kind in _STRICT_KINDS for c in VOCABULARY.certificates])
    for j in range(cert_ids.shape[1]):
        c = cert_ids[jtype, j]
        need = (c >= 0) & (rng.random(n_jobs) < cert_p[jtype, j])
        certs[need] |= np.left_shift(np.uint64(1), c[need].astype(np.uint64))
        strict |= need & kinds[np.maximum(c, 0)]
    cert_enforced = np.where(strict, rng.random(n_jobs) < 0.95, rng.random(n_jobs) < 0.6)

    return Jobs(
        n=n_jobs, type=jtype, industry=industry, area=area, place=place.astype(np.int32),
        employer=np.zeros(n_jobs, dtype=np.int32), wage=wage, wage_min=wage_min, wage_max=wage_max,
        wage_posted=wage_posted, age_min=age_min, age_max=age_max, age_enforced=age_enforced,
        education_min=education_min, housing=housing, insurance=insurance, etype=etype,
        openings=openings, posted=posted, closes=closes.astype(np.int32), skill_ids=skill_ids,
        skills=skills, certs=certs, cert_enforced=cert_enforced,
    )


# --------------------------------------------------------------------------- employers

_BRANDS = "鑫达华宏盛恒泰源丰隆兴旺顺发金利德信诚嘉和瑞祥安康佳美新亿众联通宇辉腾晟科创凯博"
_SUFFIX_BY_TYPE: dict[str, tuple[str, ...]] = {
    "electronics_operator": ("电子科技有限公司", "光电有限公司", "智能科技有限公司"),
    "sewing_operator": ("服装有限公司", "服饰有限公司", "制衣厂"),
    "food_factory_worker": ("食品有限公司", "食品加工厂"),
    "delivery_rider": ("网络科技有限公司", "即时配送服务有限公司"),
    "ride_hailing_driver": ("汽车租赁有限公司", "出行科技有限公司"),
    "errand_runner": ("同城配送有限公司",),
    "courier": ("快递服务有限公司", "速运有限公司"),
    "truck_driver": ("运输有限公司", "物流有限公司"),
    "streamer": ("文化传媒有限公司", "电子商务有限公司"),
    "livestream_assistant": ("文化传媒有限公司",),
    "ecommerce_cs": ("电子商务有限公司",),
    "auto_mechanic": ("汽车维修服务有限公司", "汽车服务中心"),
    "appliance_technician": ("家电服务有限公司", "制冷设备安装有限公司"),
    "phone_technician": ("通讯器材维修部",),
    "hairdresser": ("美发店", "形象设计工作室"),
    "beautician": ("美容美体店", "美甲工作室"),
    "massage_therapist": ("足浴养生会所", "推拿保健中心"),
    "maternity_nurse": ("母婴护理服务有限公司",),
    "nanny": ("家政服务有限公司",),
    "housekeeper": ("家政服务有限公司",),
    "cleaner": ("保洁服务有限公司",),
    "mover": ("搬家服务有限公司",),
    "livestock_worker": ("养殖专业合作社", "牧业有限公司"),
    "fruit_picker": ("果业专业合作社", "生态农业园"),
    "farm_worker": ("农业科技有限公司", "种植专业合作社"),
    "elderly_carer": ("养老服务中心", "颐养院"),
    "hospital_carer": ("护理服务有限公司",),
    "landscaper": ("园林绿化工程有限公司",),
    "sanitation_worker": ("环境卫生服务有限公司", "环卫所"),
    "public_welfare_post": ("人力资源和社会保障局", "乡镇人民政府"),
}
_SUFFIX_BY_INDUSTRY: dict[str, tuple[str, ...]] = {
    "manufacturing": ("精密机械有限公司", "塑胶制品有限公司", "实业有限公司", "五金制品有限公司"),
    "construction": ("建筑劳务有限公司", "建设工程有限公司", "建筑装饰工程有限公司"),
    "wholesale_retail": ("商贸有限公司", "超市有限公司", "百货有限公司"),
    "transport": ("物流有限公司", "供应链管理有限公司"),
    "accommodation_catering": ("餐饮管理有限公司", "酒店有限公司", "饭店"),
    "resident_services": ("生活服务有限公司",),
    "agriculture": ("农业发展有限公司",),
    "business_services": ("保安服务有限公司",),
    "real_estate": ("物业管理有限公司",),
    "health_social": ("养老服务有限公司",),
    "it_services": ("数据科技有限公司", "信息技术有限公司"),
    "public_facilities": ("市政环卫有限公司",),
    "public_admin": ("人力资源和社会保障局",),
}


def _employers(rng: np.random.Generator, pop: Population, jobs: Jobs, geo_names: list[str]) -> Employers:
    """Employers of ~6 jobs each, one industry each, regionally concentrated."""
    n_target = max(50, jobs.n // JOBS_PER_EMPLOYER)
    n_ind = len(VOCABULARY.industries)
    per_ind = np.bincount(jobs.industry, minlength=n_ind)
    n_emp_ind = np.minimum(np.maximum(quota_counts(n_target, per_ind), (per_ind > 0).astype(int)), per_ind)
    employer = np.zeros(jobs.n, dtype=np.int32)
    offset = 0
    emp_industry, emp_area = [], []
    for i in range(n_ind):
        where = np.flatnonzero(jobs.industry == i)
        k = int(n_emp_ind[i])
        if k == 0:
            continue
        order = where[np.lexsort((rng.random(len(where)), jobs.area[where], pop.areas.province[jobs.area[where]]))]
        cuts = np.sort(rng.choice(np.arange(1, len(order)), size=k - 1, replace=False)) if k > 1 else np.array([], int)
        chunk = np.zeros(len(order), dtype=np.int32)
        chunk[cuts] = 1
        chunk = np.cumsum(chunk)
        employer[order] = offset + chunk
        firsts = np.concatenate([[0], cuts])
        emp_industry.extend([i] * k)
        emp_area.extend(jobs.area[order[firsts]].tolist())
        offset += k
    n = offset
    industry = np.array(emp_industry, dtype=np.int16)
    area = np.array(emp_area, dtype=np.int32)
    jobs.employer[:] = employer

    # names: place + brand + a suffix fitting its first job type
    first_type = np.full(n, -1, dtype=np.int32)
    first_type[employer[::-1]] = jobs.type[::-1]
    brand_a = rng.integers(0, len(_BRANDS), n)
    brand_b = rng.integers(0, len(_BRANDS), n)
    pick = rng.random(n)
    names = []
    for e in range(n):
        t = VOCABULARY.job_types[first_type[e]] if first_type[e] >= 0 else None
        ind = VOCABULARY.industries[industry[e]].key
        options = _SUFFIX_BY_TYPE.get(t.key if t else "", ()) or _SUFFIX_BY_INDUSTRY[ind]
        suffix = options[int(pick[e] * len(options))]
        place = geo_names[int(area[e])]
        if suffix in ("人力资源和社会保障局", "乡镇人民政府"):
            names.append(place + suffix)
        else:
            names.append(place + _BRANDS[brand_a[e]] + _BRANDS[brand_b[e]] + suffix)

    weight = np.where(industry == VOCABULARY.industry_id["construction"], 2.5, 1.0)
    weight = np.where(industry == VOCABULARY.industry_id["public_admin"], 0.0, weight)
    k = max(1, int(round(ARREARS_SHARE * n)))
    listed = rng.choice(n, size=k, replace=False, p=weight / weight.sum())
    arrears = np.zeros(n, dtype=bool)
    arrears[listed] = True
    effect = rng.normal(0, 0.35, n).astype(np.float32)
    return Employers(n=n, industry=industry, area=area, name=names, arrears=arrears, effect=effect)


# --------------------------------------------------------------------------- courses


def _courses(rng: np.random.Generator, pop: Population, n_courses: int, start: dt.date, months: int) -> Courses:
    """Course instances: families in proportion to the trades, placed where those workers are."""
    families = VOCABULARY.families
    fam_of_type = np.array([VOCABULARY.family_id[t.family] for t in VOCABULARY.job_types], dtype=np.int16)
    wfam = fam_of_type[pop.trade]
    demand = np.bincount(wfam, minlength=len(families)).astype(float)
    cover = (demand > 0).astype(np.int64) if n_courses >= (demand > 0).sum() else np.zeros(len(families), int)
    counts = cover + quota_counts(n_courses - int(cover.sum()), demand)
    family = np.repeat(np.arange(len(families), dtype=np.int16), counts)
    rng.shuffle(family)
    n = len(family)

    # where: the work area, or (40%) the home county, of a worker of that trade family
    worker = GroupIndex(wfam).draw(family, rng.random(n))
    area = pop.area[worker].astype(np.int64)
    place = pop.areas.random_place(rng, area)
    county_areas = np.flatnonzero(pop.areas.kind == 0)
    area_of_place = np.full(int(max(pop.areas.place_idx.max(), pop.home.max())) + 1, -1, dtype=np.int64)
    area_of_place[pop.areas.place_idx[pop.areas.ptr[county_areas]]] = county_areas
    home_place = pop.home[worker]
    home_area = area_of_place[home_place]
    use_home = (rng.random(n) < 0.4) & (home_area >= 0)
    area[use_home] = home_area[use_home]
    place[use_home] = home_place[use_home]

    online = np.array([f.online for f in families])[family]
    u = rng.random(n)
    mode = np.where(u < online * 0.6, 1, np.where(u < online, 2, 0)).astype(np.int8)
    s = day_number(start)
    e = day_number(window_end(start, months))
    start_on = rng.integers(s + 10, max(s + 11, e - 20), n).astype(np.int32)
    days = np.maximum(1, np.round(np.array([f.days for f in families])[family] * rng.uniform(0.7, 1.3, n))).astype(np.int32)
    fee = (np.round(np.array([f.fee for f in families])[family] * rng.uniform(0.8, 1.3, n) / 10) * 10).astype(np.int32)
    fee = np.where(mode == 1, (fee * 0.6 // 10 * 10).astype(np.int32), fee)
    cover_share = np.array([1.0, 0.8, 0.6, 0.5, 0.0])[weighted_choice(rng, np.array([0.45, 0.2, 0.15, 0.1, 0.1]), n)]
    subsidy = (np.round(fee * cover_share / 10) * 10).astype(np.int32)
    posted_age = rng.random(n) < 0.9
    age_min = np.where(posted_age, np.array([f.age[0] for f in families])[family], 0).astype(np.int16)
    age_max = np.where(posted_age, np.array([f.age[1] for f in families])[family], 0).astype(np.int16)
    seats = (rng.integers(4, 13, n) * 5).astype(np.int32)

    ids = np.full((len(families), 5), -1, dtype=np.int16)
    for i, f in enumerate(families):
        sk = [VOCABULARY.skill_id[k] for k in f.skills][:5]
        ids[i, : len(sk)] = sk
    skill_ids = ids[family]
    cert = np.array([VOCABULARY.cert_id[f.certificate] for f in families], dtype=np.int16)[family]
    return Courses(
        n=n, family=family, area=area.astype(np.int32), place=place.astype(np.int32), mode=mode,
        start=start_on, days=days, fee=fee, subsidy=subsidy, age_min=age_min, age_max=age_max,
        seats=seats, skill_ids=skill_ids, skills=mask_from_ids(skill_ids), cert=cert,
    )


def generate_market(
    pop: Population, area_names: list[str], *, seed: int, start: dt.date, months: int
) -> Market:
    """Jobs, employers and courses for a population."""
    jobs = _jobs(rng_for(seed, 2), pop, n_jobs_for(pop.n), start, months)
    employers = _employers(rng_for(seed, 2, 1), pop, jobs, area_names)
    courses = _courses(rng_for(seed, 2, 2), pop, n_courses_for(pop.n), start, months)
    return Market(jobs=jobs, employers=employers, courses=courses)
