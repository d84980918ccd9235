"""Age limits, wages and perks written inside titles and free-text cells.

Job boards put the conditions in the title (``急招普工18-45岁包吃住月薪6000-8000``)
far more often than in structured columns; these hints fill the contract's
``age_min``/``age_max``/``wage_min``/``wage_max``/``housing``/``social_insurance``
columns when they are empty. Hourly and daily pay are kept as written and also
converted to a monthly estimate (8 hours, 26 days), flagged by ``wage_basis``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from recommender.normalise.text import clean_text

__all__ = ["PostingHints", "parse_posting_text", "strip_posting_noise", "HOURS_PER_MONTH", "DAYS_PER_MONTH"]

HOURS_PER_MONTH = 8 * 26
DAYS_PER_MONTH = 26
_AGE_LO, _AGE_HI = 14, 80
_WAGE_LO, _WAGE_HI = 500, 200_000


@dataclass(frozen=True, slots=True)
class PostingHints:
    """What a posting's free text says about limits, pay and perks (``None`` = not said)."""

    age_min: int | None = None
    age_max: int | None = None
    wage_min: int | None = None
    wage_max: int | None = None
    housing: bool | None = None
    meals: bool | None = None
    social_insurance: bool | None = None
    daily_pay: bool | None = None
    hourly_wage: float | None = None
    daily_wage: float | None = None
    wage_basis: str | None = None  # "monthly", "hourly" or "daily"

    def as_dict(self) -> dict[str, object]:
        """Plain dict (for JSON and DataFrames)."""
        return asdict(self)

    @property
    def empty(self) -> bool:
        """True when nothing was found."""
        return all(v is None for v in asdict(self).values())


_NUM = r"(\d+(?:\.\d+)?)"
_RANGE_SEP = r"\s*(?:-|~|至|到|—|–|－)\s*"

_AGE_RANGE = re.compile(rf"(?:年龄|年纪|age)?\s*(\d{{2}})\s*(?:周?岁)?{_RANGE_SEP}(\d{{2}})\s*周?岁")
_AGE_RANGE_PREFIX = re.compile(rf"(?:年龄|年纪|age)\s*(?:要求|限)?\s*[:：]?\s*(\d{{2}}){_RANGE_SEP}(\d{{2}})")
_AGE_MAX = re.compile(r"(?:不超过|不大于|限|小于|低于)?\s*(\d{2})\s*周?岁\s*(?:以下|以内|之内|内|之下|及以下|以下均可)")
_AGE_MAX2 = re.compile(r"(?:年龄\s*)?(?:不超过|不大于|小于|低于|under)\s*(\d{2})\s*(?:周?岁)?")
_AGE_MIN = re.compile(r"(\d{2})\s*周?岁\s*(?:以上|及以上|或以上|之上)")
_AGE_EN = re.compile(r"(?:aged?|ages)\s*(\d{2})\s*(?:-|to)\s*(\d{2})")

_HOURLY = re.compile(
    rf"(?:时薪|小时工资|每小时)\s*{_NUM}|{_NUM}\s*元?\s*(?:/|每|一|一个)\s*(?:小时|时|h\b|hr\b|hour)|{_NUM}\s*元?\s*(?:per|an|/)\s*hour"
)
_DAILY = re.compile(rf"(?:日薪|日工资|每天|一天)\s*{_NUM}\s*元?|{_NUM}\s*元?\s*(?:/|每|一)\s*(?:天|日)(?!结)")
_WAN = r"(?:k|千|w|万)"
_MONTH_RANGE = re.compile(
    rf"(?<![\d.])(\d+(?:\.\d+)?)\s*({_WAN})?{_RANGE_SEP}(\d+(?:\.\d+)?)\s*({_WAN})?\s*(?:元|块)?\s*(?:/月|每月|一个月|per month|/month)?(?!\s*(?:周?岁|/时|/小时|元/时|元/小时|小时|/天|元/天|天|号|月\d|年|人|名|cm|kg))"
)
_MONTH_SINGLE = re.compile(
    rf"(?:月薪|月工资|工资|薪资|薪水|底薪|保底|综合工资|综合薪资|综合|到手|月入|月收入|收入|待遇|salary)\s*[:：]?\s*(\d+(?:\.\d+)?)\s*({_WAN})?\s*(?:元|块)?\s*(\+|以上|起|左右)?"
)
_MONTH_BARE = re.compile(rf"(?<![\d.\-~])(\d{{4,5}}|\d+(?:\.\d+)?\s*{_WAN})\s*(?:元|块)?\s*(?:/月|每月|一个月|\+|以上|起)")

_HOUSING_NO = re.compile(r"(?:不包住|不包吃住|不提供住宿|无住宿|住宿自理|不含住宿|no (?:housing|accommodation))")
_HOUSING_YES = re.compile(
    r"(?:包吃住|包住|包食宿|吃住全包|管吃管住|管住|提供住宿|免费住宿|住宿免费|有宿舍|员工宿舍|免费宿舍|宿舍|住宿补贴|房补|租房补贴|包吃包住|housing|accommodation|dormitory)"
)
_MEALS_NO = re.compile(r"(?:不包吃|不包吃住|不管饭|伙食自理|不提供餐|no meals)")
_MEALS_YES = re.compile(
    r"(?:包吃住|包吃|包三餐|包两餐|包一餐|包食宿|吃住全包|管吃|管饭|提供工作餐|免费工作餐|工作餐|免费午餐|餐补|饭补|伙食补贴|食堂|包伙食|包吃包住|meals)"
)
_SI_NO = re.compile(r"(?:无社保|不买社保|不交社保|没有社保|不缴社保|不缴纳社保|no social insurance)")
_SI_YES = re.compile(
    r"(?:五险一金|六险一金|五险二金|五险|三险|缴纳社保|交社保|买社保|购买社保|缴社保|社保|保险齐全|social insurance)"
)
_DAILY_PAY = re.compile(r"(?:日结|当天结|天天结|当日结|日薪结|daily pay|paid daily)")

# Words that say nothing about the occupation; removed before classifying a title.
_TITLE_PREFIX_NOISE = re.compile(r"^(?:招|聘|急|找|寻|需要|求)+")
_TITLE_NOISE = re.compile(
    r"(?:急聘|急招|急需|诚聘|高薪诚聘|高薪招聘|高薪急聘|高薪|招聘|直招|厂家直招|厂直招|直聘|"
    r"长期招|长期|短期|大量|多名|若干名|若干|数名|男女不限|男女均可|限男性|限女性|男性|女性|男女|"
    r"包吃包住|包吃住|包食宿|包三餐|包吃|包住|管吃管住|吃住全包|提供住宿|免费住宿|有宿舍|"
    r"五险一金|六险一金|五险|缴纳社保|交社保|买社保|社保|"
    r"工资日结|工资周结|日结|周结|月结|当天结|天天结|"
    r"不加班|加班少|可加班|加班多|有加班|双休|单休|做六休一|做五休二|月休四天|"
    r"长白班|白班|夜班|两班倒|三班倒|倒班|坐班|站班|不穿无尘服|无尘服|坐着上班|站着上班|"
    r"无经验可|无需经验|经验不限|有经验|经验|零基础|可培训|带薪培训|包教包会|可带徒|学历不限|不限学历|"
    r"底薪|提成|计件|保底|年底双薪|年终奖|奖金|补贴|餐补|房补|交通补|全勤奖|"
    r"可兼职|兼职|全职|暑假工|寒假工|学生工|"
    r"包车票|报销车费|免费体检|入职即买|入职|上岗|工作轻松|轻松|简单|环境好|待遇优|待遇好|待遇|福利好|福利|"
    r"工资高|综合工资|综合薪资|薪资|工资|月薪|时薪|日薪|到手|"
    r"本地|就近|附近|同城|全国|外地|"
    r"\b(?:hiring|urgent|urgently|wanted|needed|now|immediate start|full[- ]time|part[- ]time|wanted)\b)"
)
_TITLE_NUMBERS = re.compile(
    r"(?<![a-z0-9.])\d+(?:\.\d+)?(?![0-9.a-jl-vx-z])\s*(?:k|千|w|万)?\s*(?:[-~至到—–－]\s*\d+(?:\.\d+)?\s*(?:k|千|w|万)?)?\s*(?:元|块)?\s*"
    r"(?:/|每|一个|一)?\s*(?:周?岁|小时|时|天|日|个月|月|年|名|人|h\b|hr\b|hour|day|month|\+|以上|以下|以内|起)*"
)


def _money(value: str, unit: str | None) -> float:
    v = float(value)
    if unit in ("k", "千"):
        v *= 1_000
    elif unit in ("w", "万"):
        v *= 10_000
    return v


def _plausible_age(a: int) -> bool:
    return _AGE_LO <= a <= _AGE_HI


def _plausible_wage(w: float) -> bool:
    return _WAGE_LO <= w <= _WAGE_HI


def _flag(text: str, yes: re.Pattern[str], no: re.Pattern[str]) -> bool | None:
    if no.search(text):
        return False
    if yes.search(text):
        return True
    return None


def _ages(s: str) -> tuple[int | None, int | None]:
    for rx in (_AGE_RANGE, _AGE_RANGE_PREFIX, _AGE_EN):
        m = rx.search(s)
        if m:
            lo, hi = int(m.group(1)), int(m.group(2))
            if _plausible_age(lo) and _plausible_age(hi) and lo <= hi:
                return lo, hi
    age_min = age_max = None
    m = _AGE_MAX.search(s) or _AGE_MAX2.search(s)
    if m and _plausible_age(int(m.group(1))):
        age_max = int(m.group(1))
    m = _AGE_MIN.search(s)
    if m and _plausible_age(int(m.group(1))):
        age_min = int(m.group(1))
    return age_min, age_max


def _monthly(s: str) -> tuple[int | None, int | None]:
    for m in _MONTH_RANGE.finditer(s):
        lo_unit = m.group(2) or m.group(4)
        lo = _money(m.group(1), lo_unit)
        hi = _money(m.group(3), m.group(4) or m.group(2))
        if _plausible_wage(lo) and _plausible_wage(hi) and lo <= hi:
            return int(lo), int(hi)
    m = _MONTH_SINGLE.search(s)
    if m:
        v = _money(m.group(1), m.group(2))
        if _plausible_wage(v):
            return int(v), (None if m.group(3) in ("+", "以上", "起") else int(v))
    m = _MONTH_BARE.search(s)
    if m:
        num = re.match(r"(\d+(?:\.\d+)?)\s*(k|千|w|万)?", m.group(1))
        if num:
            v = _money(num.group(1), num.group(2))
            if _plausible_wage(v):
                return int(v), None
    return None, None


def parse_posting_text(text: object) -> PostingHints:
    """Parse limits, pay and perks from a title or free-text cell.

    Never raises; unparseable text gives an empty :class:`PostingHints`.
    """
    s = clean_text(text)
    if not s:
        return PostingHints()
    age_min, age_max = _ages(s)

    hourly = daily = None
    wage_basis = None
    m = _HOURLY.search(s)
    if m:
        v = float(next(g for g in m.groups() if g is not None))
        if 5 <= v <= 500:
            hourly = v
    m = _DAILY.search(s)
    if m:
        v = float(next(g for g in m.groups() if g is not None))
        if 30 <= v <= 3000:
            daily = v
    # Remove ages, hourly and daily figures so they are not read as a monthly range.
    rest = _AGE_RANGE.sub(" ", s)
    rest = _HOURLY.sub(" ", rest)
    rest = _DAILY.sub(" ", rest)
    wage_min, wage_max = _monthly(rest)
    if wage_min is not None:
        wage_basis = "monthly"
    elif hourly is not None:
        wage_min = wage_max = int(round(hourly * HOURS_PER_MONTH))
        wage_basis = "hourly"
    elif daily is not None:
        wage_min = wage_max = int(round(daily * DAYS_PER_MONTH))
        wage_basis = "daily"

    daily_pay = True if _DAILY_PAY.search(s) else None
    return PostingHints(
        age_min=age_min,
        age_max=age_max,
        wage_min=wage_min,
        wage_max=wage_max,
        housing=_flag(s, _HOUSING_YES, _HOUSING_NO),
        meals=_flag(s, _MEALS_YES, _MEALS_NO),
        social_insurance=_flag(s, _SI_YES, _SI_NO),
        daily_pay=daily_pay,
        hourly_wage=hourly,
        daily_wage=daily,
        wage_basis=wage_basis,
    )


def strip_posting_noise(text: str) -> str:
    """A cleaned title without ages, pay, perks and recruiting filler words."""
    s = _TITLE_NUMBERS.sub(" ", text)
    s = _TITLE_NOISE.sub(" ", s)
    return _TITLE_PREFIX_NOISE.sub("", s.strip())
