"""Reasons a counsellor can read out, in Chinese and English, for every item.

Reasons are read off the very pair features the ranker scored (plus the
matched skill names), so an explanation can never cite something the model
did not see. Warnings flag what a counsellor should check or challenge.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from recommender.schemas import Reason

SCOPE_TEXT = {
    "local": ("本地（户籍所在县）", "local (home county)"),
    "province": ("省内", "within the home province"),
    "outbound": ("跨省外出", "outbound (another province)"),
}


def _num(features: Mapping[str, float], name: str) -> float | None:
    v = features.get(name)
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _names(items: Sequence[tuple[str, str]], limit: int = 4) -> tuple[str, str]:
    zh = "、".join(z for z, _ in items[:limit])
    en = ", ".join(e for _, e in items[:limit])
    return zh, en


#: the pair features ``job_reasons`` reads (a caller may pass only these)
JOB_REASON_FEATURES = ("distance_km", "wage_mid", "net_income", "housing_provided", "social_insurance",
                       "emp_public_welfare", "emp_platform", "wage_known")


def job_reasons(
    features: Mapping[str, float],
    *,
    scope: str | None,
    matched: Sequence[tuple[str, str]],
    missing: Sequence[tuple[str, str]],
    missing_certs: Sequence[tuple[str, str]],
    expected_wage: float | None,
    older_worker_priority: bool,
    age_flagged: bool,
) -> tuple[list[Reason], list[Reason]]:
    reasons: list[Reason] = []
    warnings: list[Reason] = []
    if matched:
        zh, en = _names(matched)
        reasons.append(Reason(code="skills_match", zh=f"技能对口：{zh}", en=f"Skills match: {en}"))
    if missing:
        zh, en = _names(missing, 3)
        reasons.append(Reason(code="skills_to_learn", zh=f"还需掌握：{zh}", en=f"Would need: {en}"))
    dist = _num(features, "distance_km")
    if scope in SCOPE_TEXT:
        zh, en = SCOPE_TEXT[scope]
        where_zh = f"{zh}，距现居地约{dist:.0f}公里" if dist is not None else zh
        where_en = f"{en}, about {dist:.0f} km from where the worker lives" if dist is not None else en
        reasons.append(Reason(code=f"scope_{scope}", zh=where_zh, en=where_en))
    wage = _num(features, "wage_mid")
    net = _num(features, "net_income")
    if wage is not None:
        if expected_wage:
            diff = wage - expected_wage
            zh = f"月薪约{wage:.0f}元，{'高于' if diff >= 0 else '低于'}期望{abs(diff):.0f}元"
            en = f"Pay about {wage:.0f} CNY/month, {abs(diff):.0f} {'above' if diff >= 0 else 'below'} the expected wage"
        else:
            zh, en = f"月薪约{wage:.0f}元", f"Pay about {wage:.0f} CNY/month"
        reasons.append(Reason(code="wage", zh=zh, en=en))
    if net is not None:
        reasons.append(
            Reason(
                code="net_income",
                zh=f"扣除食宿和回乡路费后每月约剩{net:.0f}元",
                en=f"About {net:.0f} CNY/month left after living costs and trips home",
            )
        )
    if _num(features, "housing_provided") == 1:
        reasons.append(Reason(code="housing", zh="提供住宿", en="Housing provided"))
    if _num(features, "social_insurance") == 1:
        reasons.append(Reason(code="social_insurance", zh="缴纳社会保险", en="Employer pays social insurance"))
    if _num(features, "emp_public_welfare") == 1:
        reasons.append(Reason(code="public_welfare", zh="公益性岗位", en="Public-welfare post"))
    if _num(features, "emp_platform") == 1:
        warnings.append(
            Reason(
                code="platform_work",
                zh="平台灵活就业：请核实职业伤害保障和计酬规则",
                en="Platform work: check occupational injury cover and pay rules",
            )
        )
    if older_worker_priority:
        reasons.append(
            Reason(code="older_worker_priority", zh="大龄劳动者就业援助优先推荐", en="Prioritised under older-worker employment assistance")
        )
    if age_flagged:
        warnings.append(
            Reason(code="age_limit", zh="岗位设有年龄限制，可与用人单位沟通", en="The posting sets an age limit; worth raising with the employer")
        )
    if missing_certs:
        zh, en = _names(missing_certs)
        warnings.append(Reason(code="certificate_missing", zh=f"需要证书：{zh}", en=f"Certificate required: {en}"))
    if _num(features, "wage_known") == 0:
        warnings.append(Reason(code="wage_unknown", zh="未注明工资", en="No wage posted"))
    return reasons, warnings


def course_reasons(
    features: Mapping[str, float],
    *,
    scope: str | None,
    new_skills: Sequence[tuple[str, str]],
    certificate: str | None,
    own_cost: float | None,
    subsidy: float | None,
    opens_jobs: int,
    older_worker_priority: bool,
) -> tuple[list[Reason], list[Reason]]:
    reasons: list[Reason] = []
    warnings: list[Reason] = []
    if new_skills:
        zh, en = _names(new_skills)
        reasons.append(Reason(code="skill_gap", zh=f"补上紧缺技能：{zh}", en=f"Teaches skills in demand the worker lacks: {en}"))
    if certificate and _num(features, "cert_new") == 1:
        reasons.append(Reason(code="certificate", zh=f"结业可获：{certificate}", en=f"Awards: {certificate}"))
    if opens_jobs:
        reasons.append(
            Reason(code="opens_jobs", zh=f"取得证书后可应聘{opens_jobs}个在招岗位", en=f"Opens {opens_jobs} open job(s) that require its certificate")
        )
    if subsidy:
        reasons.append(Reason(code="subsidy", zh=f"培训补贴{subsidy:.0f}元", en=f"Training subsidy {subsidy:.0f} CNY"))
    if own_cost is not None:
        reasons.append(
            Reason(code="own_cost", zh="个人免费" if own_cost == 0 else f"个人需付{own_cost:.0f}元",
                   en="Free for the worker" if own_cost == 0 else f"The worker pays {own_cost:.0f} CNY")
        )
    if scope in SCOPE_TEXT and _num(features, "travel_distance_km"):
        zh, en = SCOPE_TEXT[scope]
        reasons.append(Reason(code=f"scope_{scope}", zh=f"上课地点：{zh}", en=f"Held {en}"))
    if _num(features, "mode_online") == 1:
        reasons.append(Reason(code="online", zh="线上授课", en="Online course"))
    if older_worker_priority:
        reasons.append(Reason(code="older_worker_priority", zh="适合大龄劳动者转岗", en="Suited to an older worker's change of job"))
    if _num(features, "age_eligible") == 0:
        warnings.append(Reason(code="age_limit", zh="不符合课程年龄要求", en="Outside the course's age limits"))
    return reasons, warnings
