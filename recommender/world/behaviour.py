"""The hidden behavioural model: who is referred where, and what comes of it.

Every exposure (a worker referred to a job or a course) gets utilities from
the worker's and the item's *latent* attributes, never from the written
strings. Job outcomes go through three stages, each a logistic draw:

- apply (the worker's choice): skill fit, own trade, wage against the
  expected wage, distance with an age-dependent decay, the worker's mobility,
  posted age limits, housing for work away from home, social insurance, a
  latent taste shared by similar workers (a low-rank cluster x job type
  factor), and noise;
- hire (the employer's choice): skill fit, experience, required certificates
  held (at that date, counting certificates won on courses), age limits
  (usually enforced), minimum education, an employer effect;
- retain (still there after three months): wage, housing, insurance, taste,
  fit, and whether the employer is on the wage-arrears list.

Each worker's *current job* is the best (highest utility, Gumbel noise)
feasible job among a few referrals in their trade's industry near where they
live; it is their latest hire. Other referrals may end in earlier hires
(previous jobs). Which workers hold a current job is settled per industry
by quota, so the industry mix of current jobs meets the survey. Course
outcomes (enrol, complete, certify) work the same way, and a certificate won
on a course opens jobs that require it later in the window.

See docs/world.md for the coefficients and their reasons.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from recommender.world.geography import Geography
from recommender.world.market import Market
from recommender.world.population import Population, day_number, type_cert_table, type_skill_table, window_end
from recommender.world.sampling import (
    GroupIndex,
    draw_chain,
    mask_from_ids,
    popcount,
    rng_for,
    round_rows,
    sinkhorn_bounded,
)
from recommender.world.vocabulary import INDUSTRY_GROUPS, VOCABULARY

JOB_OUTCOMES: tuple[str, ...] = ("referred", "applied", "hired", "retained")
COURSE_OUTCOMES: tuple[str, ...] = ("referred", "enrolled", "completed", "certified")
NEVER = np.int32(2**31 - 1)
MAX_SHARE_GAP = 0.015  # industry share of current jobs may miss its target by 1.5 points


@dataclass(frozen=True)
class Params:
    """Coefficients of the hidden utilities and the exposure process (documented in docs/world.md)."""

    anchor_draws: int = 6  # referrals per worker among which the current job is chosen
    other_referrals: float = 9.0  # mean further referrals of a worker active all window
    plausible_share: float = 0.55  # of further referrals: the worker's trade, within reach
    nearby_share: float = 0.25  # any job in the worker's labour market; the rest is random
    employed_share: float = 0.78  # workers holding a current job at the end of the window
    taste_rank: int = 3
    taste_scale: float = 0.45
    # apply
    a_const: float = -0.9
    a_fit: float = 1.6
    a_own_trade: float = 0.7
    a_own_industry: float = 0.9  # people look for work in the line they know
    a_wage: float = 1.3
    a_decay: float = 0.30  # distance decay at 35, +a_decay_age per year above
    a_decay_age: float = 0.02
    a_mobility: float = -4.0
    a_age_limit: float = -0.9
    a_housing_away: float = 0.5
    a_insurance: float = 0.3
    a_old_away: float = -0.7  # 50+ prefer work in their home county
    # hire
    h_const: float = -0.6
    h_fit: float = 2.4
    h_experience: float = 0.6
    h_cert_soft: float = -1.2
    h_age_soft: float = -1.0
    h_education: float = -1.5
    h_old: float = -0.3
    # retain
    r_const: float = 0.6
    r_wage: float = 0.9
    r_housing_away: float = 0.5
    r_insurance: float = 0.4
    r_taste: float = 0.6
    r_fit: float = 0.5
    r_arrears: float = -1.2
    # courses
    course_share: float = 0.25
    course_needs_cert: float = 0.35


PARAMS = Params()


@dataclass
class Outcomes:
    """One row per (worker, item) with the furthest outcome reached and its date."""

    p_worker: np.ndarray
    p_job: np.ndarray
    p_outcome: np.ndarray
    p_date: np.ndarray
    e_worker: np.ndarray
    e_course: np.ndarray
    e_outcome: np.ndarray
    e_date: np.ndarray
    current_job: np.ndarray  # per worker, -1 if none (hidden truth)
    gained_certs: np.ndarray  # per worker uint64 mask won on courses
    gained_on: np.ndarray  # per worker day number of the last certification


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _bit(ids: np.ndarray) -> np.ndarray:
    return np.left_shift(np.uint64(1), ids.astype(np.uint64))


class _Context:
    """Arrays shared by the stages: taste factors, type masks, indexes of items."""

    def __init__(self, geo: Geography, pop: Population, market: Market, seed: int, start: dt.date, months: int):
        self.geo, self.pop, self.market = geo, pop, market
        self.S = day_number(start)
        self.E = day_number(window_end(start, months))
        rng = rng_for(seed, 3)
        k = PARAMS.taste_rank
        n_clusters = int(pop.cluster.max()) + 1 if pop.n else 1
        scale = np.sqrt(PARAMS.taste_scale / np.sqrt(k))
        self.U = rng.normal(0, scale, (n_clusters, k)).astype(np.float32)
        self.V = rng.normal(0, scale, (len(VOCABULARY.job_types), k)).astype(np.float32)
        self.Vf = rng.normal(0, scale, (len(VOCABULARY.families), k)).astype(np.float32)
        table, _ = type_skill_table()
        self.type_skills = mask_from_ids(table)
        cert_ids, cert_p = type_cert_table()
        need = np.where(cert_p >= 0.3, cert_ids, -1)
        self.type_needs = np.zeros(len(VOCABULARY.job_types), dtype=np.uint64)
        for j in range(need.shape[1]):
            ok = need[:, j] >= 0
            self.type_needs[ok] |= _bit(need[ok, j])
        self.industry_of_type = np.array([VOCABULARY.industry_id[t.industry] for t in VOCABULARY.job_types])
        self.family_of_type = np.array([VOCABULARY.family_id[t.family] for t in VOCABULARY.job_types])
        self.active = np.maximum(pop.registered, self.S).astype(np.int32)
        self.area_province = pop.areas.province.astype(np.int64)
        self.indexes: dict[str, GroupIndex] = {}


# --------------------------------------------------------------------------- courses


def _course_stage(ctx: _Context, seed: int) -> tuple[np.ndarray, ...]:
    """Course referrals and outcomes, and the certificates each worker wins (mask, last date).

    Runs before the job referrals, because a certificate won here opens jobs later.
    """
    pop, courses, geo = ctx.pop, ctx.market.courses, ctx.geo
    rng = rng_for(seed, 4)
    P = PARAMS
    needs = (ctx.type_needs[pop.trade] & ~pop.certs) != 0
    young = pop.age < 35
    old = pop.age >= 50
    p = np.clip(P.course_share + P.course_needs_cert * needs + 0.08 * young - 0.1 * old, 0.02, 0.9)
    chosen = np.flatnonzero(rng.random(pop.n) < p)
    k = np.minimum(1 + rng.poisson(0.5, len(chosen)), 4)
    w = np.repeat(chosen, k)
    n = len(w)

    n_f = len(VOCABULARY.families)
    fam = ctx.family_of_type[pop.trade[w]]
    by_area = GroupIndex(courses.area.astype(np.int64) * n_f + courses.family)
    by_prov = GroupIndex(ctx.area_province[courses.area] * n_f + courses.family)
    by_fam = GroupIndex(courses.family.astype(np.int64))
    everything = GroupIndex(np.zeros(courses.n, dtype=np.int64))
    course = np.full(n, -1, dtype=np.int64)
    for attempt in range(2):
        todo = np.flatnonzero(course < 0)
        u = rng.random(len(todo))
        ww = w[todo]
        plausible = rng.random(len(todo)) < 0.7
        chain = draw_chain(
            [
                (by_area, pop.area[ww].astype(np.int64) * n_f + fam[todo]),
                (by_prov, ctx.area_province[pop.area[ww]] * n_f + fam[todo]),
                (by_fam, fam[todo].astype(np.int64)),
            ],
            u,
        )
        rand = everything.draw(np.zeros(len(todo), dtype=np.int64), u)
        c = np.where(plausible, chain, rand)
        ok = (c >= 0) & (courses.start[np.maximum(c, 0)] - 3 >= ctx.active[ww])
        course[todo[ok]] = c[ok]
    keep = course >= 0
    w, course, fam = w[keep], course[keep], fam[keep]
    # one referral per (worker, course)
    key = w.astype(np.int64) * courses.n + course
    _, first = np.unique(key, return_index=True)
    first.sort()
    w, course = w[first], course[first]
    n = len(w)

    start = courses.start[course]
    ref = np.maximum(start - rng.integers(3, 46, n), ctx.active[w]).astype(np.int32)
    rel = popcount(courses.skills[course] & ctx.type_skills[pop.trade[w]]) / np.maximum(
        popcount(courses.skills[course]), 1
    )
    cbit = _bit(courses.cert[course])
    held = (pop.certs[w] & cbit) != 0
    needs = ((ctx.type_needs[pop.trade[w]] & cbit) != 0) & ~held
    fee = courses.fee[course].astype(np.float32)
    sub = courses.subsidy[course].astype(np.float32)
    ratio = np.where(fee > 0, sub / np.maximum(fee, 1), 1.0)
    net = np.maximum(fee - sub, 0)
    mode = courses.mode[course]
    dist = geo.distance(pop.current[w], courses.place[course]) * np.where(mode == 1, 0.0, np.where(mode == 2, 0.5, 1.0))
    age = pop.age[w].astype(np.float32)
    decay = P.a_decay + P.a_decay_age * np.maximum(age - 35, 0)
    amin, amax = courses.age_min[course], courses.age_max[course]
    age_bad = ((amin > 0) & (age < amin)) | ((amax > 0) & (age > amax))
    taste = (ctx.U[pop.cluster[w]] * ctx.Vf[courses.family[course]]).sum(axis=1)
    edu3 = pop.edu3[w]
    c1 = (
        -1.3 + 1.6 * rel + 1.3 * needs - 1.0 * held + 0.7 * ratio - 0.35 * np.log1p(net / 300)
        - decay * np.log1p(dist / 25) - 0.4 * (age >= 50) + 0.3 * (age < 35) + taste
        - 3.0 * age_bad
    )
    c2 = 1.4 - 0.012 * courses.days[course] + 0.2 * edu3 - 0.3 * (age >= 50) + 0.3 * rel
    c3 = 0.9 + 0.3 * edu3 - 0.02 * np.maximum(age - 45, 0) + 0.4 * rel
    enrolled_on = start
    completed_on = start + courses.days[course]
    certified_on = completed_on + rng.integers(7, 31, n)
    enrol = (rng.random(n) < _sigmoid(c1)) & (enrolled_on <= ctx.E) & ~(age_bad & (rng.random(n) < 0.9))
    complete = enrol & (rng.random(n) < _sigmoid(c2)) & (completed_on <= ctx.E)
    certify = complete & (rng.random(n) < _sigmoid(c3)) & (certified_on <= ctx.E)
    outcome = enrol.astype(np.int8) + complete + certify
    date = np.select([certify, complete, enrol], [certified_on, completed_on, enrolled_on], ref).astype(np.int32)

    gained = np.zeros(pop.n, dtype=np.uint64)
    gained_on = np.full(pop.n, NEVER, dtype=np.int32)
    cw = w[certify]
    np.bitwise_or.at(gained, cw, cbit[certify])
    last = np.full(pop.n, -1, dtype=np.int64)
    np.maximum.at(last, cw, date[certify].astype(np.int64))
    gained_on[last >= 0] = last[last >= 0].astype(np.int32)
    order = np.lexsort((course, w))
    return w[order].astype(np.int32), course[order].astype(np.int32), outcome[order], date[order], gained, gained_on


# --------------------------------------------------------------------------- jobs


def _candidate_draws(
    ctx: _Context, rng: np.random.Generator, workers: np.ndarray, k: int, *, in_area: bool,
    own_type: np.ndarray,
) -> np.ndarray:
    """(len(workers), k) candidate current jobs near where each worker lives.

    In the worker's own labour market, columns 0-1 look for the worker's own
    job type first, columns 2-3 for the trade's industry, the rest for any
    job there (workers with a new certificate look for their own type in
    columns 0-3); each falls back to the same kind of market elsewhere in the
    province, then the province, then the country. With ``in_area`` false
    (the second round) the own market is searched for any job, then further.
    """
    pop, idx = ctx.pop, ctx.indexes
    n_t, n_i = len(VOCABULARY.job_types), len(VOCABULARY.industries)
    wa = np.repeat(workers, k)
    col = np.tile(np.arange(k), len(workers))
    t = pop.trade[wa].astype(np.int64)
    ind = ctx.industry_of_type[t].astype(np.int64)
    a = pop.area[wa].astype(np.int64)
    pr = ctx.area_province[pop.area[wa]]
    ak = pop.areas.kind[pop.area[wa]].astype(np.int64)
    u = rng.random(len(wa))
    near = [(idx["prov_kind_ind"], (pr * 2 + ak) * n_i + ind), (idx["prov_ind"], pr * n_i + ind), (idx["ind"], ind)]
    area_any = (idx["area"], a)
    if not in_area:
        return draw_chain([area_any, *near], u).reshape(len(workers), k)
    by_type = draw_chain([(idx["area_type"], a * n_t + t), (idx["area_ind"], a * n_i + ind), area_any, *near], u)
    by_ind = draw_chain([(idx["area_ind"], a * n_i + ind), area_any, *near], u)
    by_area = draw_chain([area_any, *near], u)
    type_cols = np.where(np.repeat(own_type, k), 4, 2)
    out = np.where(col < type_cols, by_type, np.where(col < 4, by_ind, by_area))
    return out.reshape(len(workers), k)


def _other_draws(ctx: _Context, rng: np.random.Generator, workers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Further referrals: mostly the worker's trade within reach, some nearby, some random."""
    pop, jobs, idx, P = ctx.pop, ctx.market.jobs, ctx.indexes, PARAMS
    n_t, n_i = len(VOCABULARY.job_types), len(VOCABULARY.industries)
    activity = (ctx.E - ctx.active[workers]) / max(ctx.E - ctx.S, 1)
    nb = rng.poisson(P.other_referrals * (0.25 + 0.75 * np.clip(activity, 0, 1)))
    wb = np.repeat(workers, nb)
    t = pop.trade[wb].astype(np.int64)
    a = pop.area[wb].astype(np.int64)
    pr = ctx.area_province[pop.area[wb]]
    u = rng.random(len(wb))
    kind = rng.random(len(wb))
    mob = pop.mobility[wb]
    reach = rng.random(len(wb))
    # how far the plausible referral reaches: 0 own market, 1 province, 2 country
    level = np.where(
        mob == 0, 0,
        np.where(mob == 1, (reach < 0.4).astype(int), np.where(reach < 0.4, 0, np.where(reach < 0.7, 1, 2))),
    )
    plaus = np.full(len(wb), -1, dtype=np.int64)
    for lv, chain in (
        (0, [(idx["area_type"], a * n_t + t), (idx["area_ind"], a * n_i + ctx.industry_of_type[t]), (idx["area"], a)]),
        (1, [(idx["prov_type"], pr * n_t + t), (idx["area_type"], a * n_t + t), (idx["area"], a)]),
        (2, [(idx["type"], t), (idx["area"], a)]),
    ):
        sel = level == lv
        plaus[sel] = draw_chain([(g, q[sel]) for g, q in chain], u[sel])
    nearby = draw_chain([(idx["area"], a), (idx["prov"], pr)], u)
    random = np.minimum((u * jobs.n).astype(np.int64), jobs.n - 1)
    job = np.where(kind < P.plausible_share, plaus, np.where(kind < P.plausible_share + P.nearby_share, nearby, random))
    return wb.astype(np.int32), job


def _job_utilities(ctx: _Context, w: np.ndarray, j: np.ndarray, ref: np.ndarray, gained: np.ndarray, gained_on: np.ndarray) -> dict[str, np.ndarray]:
    """Deterministic parts of the apply / hire / retain utilities and the hard blocks."""
    pop, jobs, emp, geo, P = ctx.pop, ctx.market.jobs, ctx.market.employers, ctx.geo, PARAMS
    ws, js = pop.skills[w], jobs.skills[j]
    fit = (popcount(ws & js) / np.maximum(popcount(js), 1)).astype(np.float32)
    own = (jobs.type[j] == pop.trade[w]).astype(np.float32)
    own_ind = (jobs.industry[j] == ctx.industry_of_type[pop.trade[w]]).astype(np.float32)
    held = pop.certs[w] | np.where(ref > gained_on[w], gained[w], np.uint64(0))
    missing = (jobs.certs[j] & ~held) != 0
    age = pop.age[w].astype(np.float32)
    amin, amax = jobs.age_min[j], jobs.age_max[j]
    age_bad = ((amin > 0) & (age < amin)) | ((amax > 0) & (age > amax))
    edu_bad = (jobs.education_min[j] >= 0) & (pop.education[w] < jobs.education_min[j])
    place = jobs.place[j]
    dist = geo.distance(pop.current[w], place)
    away = place != pop.home[w]
    prov_j = geo.places.province[place]
    mob = pop.mobility[w]
    mob_bad = ((mob == 0) & away & (place != pop.current[w])) | (
        (mob == 1) & (prov_j != geo.places.province[pop.home[w]]) & (prov_j != geo.places.province[pop.current[w]])
    )
    wage_ratio = np.clip(np.log(jobs.wage[j] / np.maximum(pop.expected_wage[w], 500)), -1.0, 0.7).astype(np.float32)
    taste = (ctx.U[pop.cluster[w]] * ctx.V[jobs.type[j]]).sum(axis=1)
    decay = P.a_decay + P.a_decay_age * np.maximum(age - 35, 0)
    old = age >= 50
    housing, insurance = jobs.housing[j], jobs.insurance[j]
    apply = (
        P.a_const + P.a_fit * fit + P.a_own_trade * own + P.a_own_industry * own_ind + P.a_wage * wage_ratio
        - decay * np.log1p(dist / 25) + P.a_mobility * mob_bad + P.a_age_limit * age_bad
        + P.a_housing_away * (housing & away) + P.a_insurance * insurance + taste
        + P.a_old_away * (old & away)
    )
    exp = np.minimum(pop.experience[w], 10) / 10 * own
    hire = (
        P.h_const + P.h_fit * fit + P.h_experience * exp
        + P.h_cert_soft * (missing & ~jobs.cert_enforced[j]) + P.h_age_soft * (age_bad & ~jobs.age_enforced[j])
        + P.h_education * edu_bad + P.h_old * old + emp.effect[jobs.employer[j]]
    )
    retain = (
        P.r_const + P.r_wage * wage_ratio + P.r_housing_away * (housing & away) + P.r_insurance * insurance
        + P.r_taste * taste + P.r_fit * fit + P.r_arrears * emp.arrears[jobs.employer[j]]
    )
    blocked = (missing & jobs.cert_enforced[j]) | (age_bad & jobs.age_enforced[j])
    return {
        "apply": apply.astype(np.float32),
        "hire": hire.astype(np.float32),
        "retain": retain.astype(np.float32),
        "blocked": blocked,
        "mob_bad": mob_bad,
        "fit": fit,
    }


def _evaluate(
    ctx: _Context, rng: np.random.Generator, w: np.ndarray, job: np.ndarray, candidate: np.ndarray,
    lo_extra: np.ndarray, gained: np.ndarray, gained_on: np.ndarray,
) -> dict[str, np.ndarray]:
    """Dates, utilities and stage outcomes of referrals (``candidate``: current-job candidates)."""
    jobs = ctx.market.jobs
    n = len(w)
    j = np.maximum(job, 0)
    valid = job >= 0
    lo = np.maximum(np.maximum(ctx.active[w], jobs.posted[j]), lo_extra)
    hi = np.minimum(jobs.closes[j], ctx.E)
    hi_ref = np.where(candidate, hi - 25, hi)
    valid &= lo <= hi_ref
    # current-job candidates are referred early in their window (so retention can be seen)
    u = rng.random(n)
    u = np.where(candidate, u * u, u)
    ref = (lo + np.floor(u * (np.maximum(hi_ref - lo, 0) + 1))).astype(np.int32)
    applied_on = ref + rng.integers(0, 5, n)
    hired_on = applied_on + rng.integers(3, 21, n)
    retained_on = hired_on + 90
    util = _job_utilities(ctx, w, j, ref, gained, gained_on)
    apply = valid & (rng.random(n) < _sigmoid(util["apply"])) & (applied_on <= hi)
    hire = apply & ~util["blocked"] & (rng.random(n) < _sigmoid(util["hire"])) & (hired_on <= hi)
    stays = rng.random(n) < _sigmoid(util["retain"])
    retain = hire & stays & (retained_on <= hi)
    feasible = valid & ~util["blocked"] & ~util["mob_bad"]
    gumbel = -np.log(-np.log(rng.random(n) + 1e-12) + 1e-12)
    return {
        "worker": w, "job": j, "valid": valid, "candidate": candidate, "ref": ref,
        "applied": applied_on.astype(np.int32), "hired": hired_on.astype(np.int32),
        "retained": retained_on.astype(np.int32), "stage": (apply.astype(np.int8) + hire + retain),
        "score": np.where(feasible, util["apply"] + util["hire"] + gumbel, -np.inf),
        "keeps": stays & (retained_on <= hi),
    }


def _pick_current(rows: dict[str, np.ndarray], n_workers: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Best feasible candidate of each worker (rows laid out as n_workers x k); row or -1."""
    score = rows["score"].reshape(n_workers, k)
    best = np.argmax(score, axis=1)
    has = np.isfinite(score[np.arange(n_workers), best])
    return has, np.arange(n_workers) * k + best


def _job_chunk(ctx: _Context, seed: int, chunk: int, workers: np.ndarray, gained: np.ndarray, gained_on: np.ndarray) -> dict[str, np.ndarray]:
    """Referrals of one block of workers: dates, stage outcomes, current-job candidate."""
    rng = rng_for(seed, 5, chunk)
    pop = ctx.pop
    k = PARAMS.anchor_draws
    certified_for_trade = (gained & ctx.type_needs[pop.trade]) != 0
    # a certificate won on a course opens the trade's jobs from the day after
    cert_lo = np.where(certified_for_trade, np.minimum(gained_on, NEVER - 1) + 1, 0).astype(np.int32)

    cand = _candidate_draws(ctx, rng, workers, k, in_area=True, own_type=certified_for_trade[workers]).ravel()
    wa = np.repeat(workers, k)
    rows_a = _evaluate(ctx, rng, wa, cand, np.ones(len(wa), bool), cert_lo[wa], gained, gained_on)
    has, best = _pick_current(rows_a, len(workers), k)
    # a second round further afield for workers with nothing feasible at home
    retry = workers[~has]
    cand2 = _candidate_draws(ctx, rng, retry, k, in_area=False, own_type=np.zeros(len(retry), bool)).ravel()
    wr = np.repeat(retry, k)
    rows_r = _evaluate(ctx, rng, wr, cand2, np.ones(len(wr), bool), cert_lo[wr], gained, gained_on)
    has_r, best_r = _pick_current(rows_r, len(retry), k)

    wb, job_b = _other_draws(ctx, rng, workers)
    rows_b = _evaluate(ctx, rng, wb, job_b, np.zeros(len(wb), bool), np.zeros(len(wb), np.int32), gained, gained_on)

    cur_rows = np.concatenate([best[has], len(wa) + best_r[has_r]])
    rows = {key: np.concatenate([rows_a[key], rows_r[key], rows_b[key]]) for key in rows_a}
    valid = rows["valid"]
    cur = cur_rows
    return {
        "worker": rows["worker"][valid], "job": rows["job"][valid], "kind": (~rows["candidate"][valid]).astype(np.int8),
        "ref": rows["ref"][valid], "applied": rows["applied"][valid], "hired": rows["hired"][valid],
        "retained": rows["retained"][valid], "stage": rows["stage"][valid],
        "cur_worker": rows["worker"][cur], "cur_job": rows["job"][cur], "cur_ref": rows["ref"][cur],
        "cur_hired": rows["hired"][cur], "cur_retained": np.where(rows["keeps"][cur], rows["retained"][cur], -1),
    }


def _select_employed(rng: np.random.Generator, ctx: _Context, cur_worker: np.ndarray, cur_job: np.ndarray) -> np.ndarray:
    """Which workers with a current-job candidate hold it.

    Quotas per (industry group x outbound) are raked (Sinkhorn) from what is
    available so that industry shares meet the survey and the outbound share
    among job holders equals the outbound share of all workers; where a cell
    runs short the total shrinks until no industry misses by more than
    MAX_SHARE_GAP.
    """
    from recommender.world.population import industry_shares

    groups = {ind.key: INDUSTRY_GROUPS.index(ind.group) for ind in VOCABULARY.industries}
    group_of_ind = np.array([groups[ind.key] for ind in VOCABULARY.industries])
    g = group_of_ind[ctx.market.jobs.industry[cur_job]]
    o = ctx.pop.outbound[cur_worker].astype(np.int64)
    share = industry_shares()
    cell = g * 2 + o
    avail = np.bincount(cell, minlength=len(share) * 2).reshape(len(share), 2).astype(float)
    s_out = float(np.mean(ctx.pop.outbound)) if ctx.pop.n else 0.5
    cols = np.array([1 - s_out, s_out])
    # the mix of trades among local and outbound workers is the template, so the
    # industry mix within each group does not drift with the size of the world
    trade_g = group_of_ind[ctx.industry_of_type[ctx.pop.trade]]
    template = np.bincount(trade_g * 2 + ctx.pop.outbound, minlength=avail.size).reshape(avail.shape) + 0.5
    m = int(round(PARAMS.employed_share * ctx.pop.n))
    quota = np.zeros_like(avail, dtype=np.int64)
    while m > 0:
        x = sinkhorn_bounded(share * m, cols * m, template, avail)
        quota = np.minimum(round_rows(x), avail.astype(np.int64))
        total = max(int(quota.sum()), 1)
        gap_ind = np.max(np.abs(quota.sum(axis=1) / total - share))
        gap_out = abs(quota[:, 1].sum() / total - s_out)
        if gap_ind <= MAX_SHARE_GAP and gap_out <= MAX_SHARE_GAP:
            break
        m = int(m * 0.98)
    keep = np.zeros(len(cur_worker), dtype=bool)
    for c in range(quota.size):
        k = int(quota.flat[c])
        if k:
            where = np.flatnonzero(cell == c)
            keep[rng.choice(where, size=k, replace=False)] = True
    return keep


def simulate(
    geo: Geography, pop: Population, market: Market, *, seed: int, start: dt.date, months: int,
    chunk_workers: int = 200_000, progress: Callable[[str], None] | None = None,
) -> Outcomes:
    """Referrals and their outcomes for every worker (jobs and courses)."""
    ctx = _Context(geo, pop, market, seed, start, months)
    jobs = market.jobs
    n_t, n_i = len(VOCABULARY.job_types), len(VOCABULARY.industries)
    area_j = jobs.area.astype(np.int64)
    prov_j = ctx.area_province[jobs.area]
    market_kind = pop.areas.kind[jobs.area].astype(np.int64)
    ctx.indexes = {
        "area_type": GroupIndex(area_j * n_t + jobs.type),
        "area_ind": GroupIndex(area_j * n_i + jobs.industry),
        "prov_ind": GroupIndex(prov_j * n_i + jobs.industry),
        "prov_kind_ind": GroupIndex((prov_j * 2 + market_kind) * n_i + jobs.industry),
        "ind": GroupIndex(jobs.industry.astype(np.int64)),
        "prov_type": GroupIndex(prov_j * n_t + jobs.type),
        "type": GroupIndex(jobs.type.astype(np.int64)),
        "area": GroupIndex(area_j),
        "prov": GroupIndex(prov_j),
    }
    e_worker, e_course, e_outcome, e_date, gained, gained_on = _course_stage(ctx, seed)
    if progress:
        progress("course outcomes")

    parts: list[dict[str, np.ndarray]] = []
    for c, lo in enumerate(range(0, pop.n, chunk_workers)):
        workers = np.arange(lo, min(pop.n, lo + chunk_workers), dtype=np.int32)
        parts.append(_job_chunk(ctx, seed, c, workers, gained, gained_on))
    cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if parts else {}
    del parts

    rng = rng_for(seed, 6)
    keep = _select_employed(rng, ctx, cat["cur_worker"], cat["cur_job"])
    current_job = np.full(pop.n, -1, dtype=np.int64)
    current_ref = np.full(pop.n, -1, dtype=np.int32)  # no current job: every hire is cut
    cw = cat["cur_worker"][keep]
    current_job[cw] = cat["cur_job"][keep]
    current_ref[cw] = cat["cur_ref"][keep]

    # further referrals: hires only before the current job began (earlier jobs), and only
    # for workers who hold a current job; everyone else stops at "applied"
    w, j = cat["worker"], cat["job"]
    stage = cat["stage"].copy()
    cutoff = current_ref[w]
    candidate = cat["kind"] == 0
    stage = np.where(candidate, np.minimum(stage, 1), stage)
    late_hire = (stage >= 2) & (cat["hired"] >= cutoff)
    late_retain = (stage == 3) & (cat["retained"] >= cutoff)
    stage = np.where(late_hire, 1, np.where(late_retain, 2, stage))
    date = np.select([stage == 3, stage == 2, stage == 1], [cat["retained"], cat["hired"], cat["applied"]], cat["ref"])
    same_as_current = j == current_job[w]
    w, j, stage, date = w[~same_as_current], j[~same_as_current], stage[~same_as_current], date[~same_as_current]
    # the current jobs themselves
    cur_stage = np.where(cat["cur_retained"][keep] >= 0, 3, 2).astype(np.int8)
    cur_date = np.where(cur_stage == 3, cat["cur_retained"][keep], cat["cur_hired"][keep])
    w = np.concatenate([w, cw])
    j = np.concatenate([j, cat["cur_job"][keep]])
    stage = np.concatenate([stage, cur_stage])
    date = np.concatenate([date, cur_date]).astype(np.int32)
    # one row per (worker, job): the furthest outcome (earliest date among equals)
    # (one int64 sort key: worker, job, furthest stage first, earliest date first)
    span = int(date.max() - date.min() + 1) if len(date) else 1
    key = ((w.astype(np.int64) * jobs.n + j) * 4 + (3 - stage)) * span + (date - (date.min() if len(date) else 0))
    order = np.argsort(key, kind="stable")
    w, j, stage, date = w[order], j[order], stage[order], date[order]
    first = np.ones(len(w), dtype=bool)
    first[1:] = (w[1:] != w[:-1]) | (j[1:] != j[:-1])
    w, j, stage, date = w[first], j[first], stage[first], date[first]
    # a job has at least as many openings as hires
    hires = np.bincount(j[stage >= 2], minlength=jobs.n)
    jobs.openings[:] = np.maximum(jobs.openings, hires)
    if progress:
        progress("job outcomes")
    return Outcomes(
        p_worker=w.astype(np.int32), p_job=j.astype(np.int32), p_outcome=stage.astype(np.int8), p_date=date,
        e_worker=e_worker, e_course=e_course, e_outcome=e_outcome, e_date=e_date,
        current_job=current_job, gained_certs=gained, gained_on=gained_on,
    )
