"""Monthly living and travel costs: a documented assumption, not a fitted model.

A job's posted wage is not what a migrant worker keeps. Where no dormitory is
provided the worker pays rent; everyone pays for food and daily needs; a worker
far from home pays for trips back (Spring Festival at least). The figures
below are round, deliberately simple assumptions of the order of magnitude
reported for migrant workers (shared room or urban-village rent, canteen-level
food, 2024 price level). They are not fitted to any data set — in particular
not to the synthetic world — so the ranker can learn how much net income
matters without the feature itself encoding anyone's rule. Replace them with a
local table through :class:`LivingCosts` when a service has better figures.

City level from the GB/T 2260 code:

* level 0 — first-tier cities: Beijing, Shanghai, Guangzhou, Shenzhen;
* level 1 — other municipalities' districts, provincial capitals, sub-provincial
  cities and a few large manufacturing cities (listed in ``LEVEL1_PREFECTURES``);
* level 2 — districts of other prefecture-level cities (county digits 01-20),
  county-level cities (81-99), prefecture-only codes and province-only codes;
* level 3 — counties (county digits 21-80, the GB/T 2260 numbering of 县/旗).

The macro-region factor (NBS east / central / west / northeast split) scales
levels 1-3; first-tier cities are priced as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["LivingCosts", "city_level", "MACRO_REGIONS", "LEVEL1_PREFECTURES", "CITY_LEVELS"]

CITY_LEVELS = ("tier1", "major", "city", "county")
MACRO_REGIONS = ("east", "central", "west", "northeast")

#: Province-level codes priced as first-tier cities as a whole.
_TIER1_PROVINCES = frozenset({110000, 310000})
#: Prefecture codes priced as first-tier cities.
_TIER1_PREFECTURES = frozenset({440100, 440300})
#: Municipalities whose districts are level 1 (their counties stay level 3).
_MAJOR_PROVINCES = frozenset({120000, 500000})
#: Provincial capitals, sub-provincial cities and large manufacturing cities.
LEVEL1_PREFECTURES = frozenset(
    {
        130100, 140100, 150100, 210100, 220100, 230100, 320100, 330100, 340100, 350100,
        360100, 370100, 410100, 420100, 430100, 450100, 460100, 510100, 520100, 530100,
        540100, 610100, 620100, 630100, 640100, 650100,  # provincial capitals
        210200, 330200, 350200, 370200,  # 大连 宁波 厦门 青岛 (sub-provincial)
        320500, 320200, 441900, 440600, 442000,  # 苏州 无锡 东莞 佛山 中山
    }
)


def city_level(code: int) -> int:
    """City level 0-3 of a canonical 6-digit code (see the module docstring); -1 if unknown."""
    if code <= 0:
        return -1
    province, prefecture, county = code // 10000 * 10000, code // 100 * 100, code % 100
    if province in _TIER1_PROVINCES or prefecture in _TIER1_PREFECTURES:
        return 0
    if code == province:
        return 2
    is_county = 21 <= county <= 80
    if province in _MAJOR_PROVINCES:
        return 3 if is_county or (code // 100) % 100 == 2 else 1
    if is_county:
        return 3
    if prefecture in LEVEL1_PREFECTURES and (county == 0 or county <= 20):
        return 1
    return 2


@dataclass(frozen=True)
class LivingCosts:
    """Monthly costs (CNY) of one worker living away from the family home.

    ``rent[level]`` and ``other[level]`` are indexed by :func:`city_level`;
    ``macro_factor[m]`` by ``MACRO_REGIONS``. Meals provided (包吃) cut the
    ``other`` costs by ``meals_share``. Travel home: ``trips_per_year`` round
    trips at ``fare_base + fare_per_km * km`` each way, spread over 12 months.
    """

    rent: tuple[float, float, float, float] = (1500.0, 900.0, 600.0, 400.0)
    other: tuple[float, float, float, float] = (1600.0, 1300.0, 1100.0, 900.0)
    macro_factor: tuple[float, float, float, float] = (1.0, 0.85, 0.85, 0.85)
    meals_share: float = 0.4
    trips_per_year: float = 2.0
    fare_base: float = 50.0
    fare_per_km: float = 0.3
    unknown_level: int = 2
    _rent: np.ndarray = field(init=False, repr=False, compare=False)
    _other: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        factor = np.ones((4, 4))
        factor[1:, :] = np.asarray(self.macro_factor)[None, :]
        object.__setattr__(self, "_rent", np.asarray(self.rent)[:, None] * factor)
        object.__setattr__(self, "_other", np.asarray(self.other)[:, None] * factor)

    def _cells(self, level: np.ndarray, macro: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lv = np.where(level < 0, self.unknown_level, level).astype(np.intp)
        mc = np.where(macro < 0, 0, macro).astype(np.intp)
        return lv, mc

    def rent_at(self, level: np.ndarray, macro: np.ndarray) -> np.ndarray:
        """Monthly rent where no housing is provided."""
        lv, mc = self._cells(np.asarray(level), np.asarray(macro))
        return self._rent[lv, mc]

    def other_at(self, level: np.ndarray, macro: np.ndarray) -> np.ndarray:
        """Monthly food and daily needs."""
        lv, mc = self._cells(np.asarray(level), np.asarray(macro))
        return self._other[lv, mc]

    def travel_home(self, km: np.ndarray) -> np.ndarray:
        """Monthly cost of the trips home over ``km`` (one way)."""
        km = np.nan_to_num(np.asarray(km, dtype=np.float64), nan=0.0)
        return self.trips_per_year * 2.0 * (self.fare_base + self.fare_per_km * km) / 12.0
