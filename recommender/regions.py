"""Administrative regions: codes, names, coordinates, distance and scope.

Every region in the data contract is a 6-digit GB/T 2260 code (county,
prefecture or province level), or a name we resolve to one. The code table is
cpca's ``resources/adcodes.csv`` (3,511 codes with coordinates), read in place
without importing cpca: the import costs a fraction of a second and is only
needed to parse free-text addresses. English / pinyin names are matched
against the same names through pypinyin, also imported lazily.

Quirks of cpca's table handled here (it dates from about 2016):

- Municipalities have prefecture placeholders (``110100`` 市辖区, ``500200``
  县). They stay valid prefecture-level codes but are shown under the
  municipality's name, and never appear inside a ``full_name``.
- Counties directly under a province sit under pseudo-prefectures such as
  ``429000`` 省直辖县级行政区划 (仙桃, 潜江...). Such a pseudo-prefecture is no
  real prefecture: for ``scope`` it only says "somewhere in the province".
- 282 county-level ``xx01`` 市辖区 rows ("the urban districts of X") have no
  coordinates; they are accepted as aliases of their prefecture.
- A few real counties lack coordinates (定州, 辛集 are fixed here; abolished
  or renamed ones such as 邯郸县 take their prefecture's point).
- Codes created after the table (梁平区 500155...) are unknown; their names
  still resolve to the older entry (梁平区 -> 梁平县 500228).
"""

from __future__ import annotations

import csv
import functools
import importlib.util
import itertools
import re
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from recommender.errors import UnknownRegionError

__all__ = [
    "Level",
    "MacroRegion",
    "Region",
    "RegionIndex",
    "Scope",
    "SCOPE_LOCAL",
    "SCOPE_NAMES",
    "SCOPE_OUTBOUND",
    "SCOPE_PROVINCE",
    "distance_km",
    "scope",
    "scope_codes",
]

Level = Literal["province", "prefecture", "county"]
MacroRegion = Literal["east", "central", "west", "northeast"]
Scope = Literal["local", "province", "outbound"]

SCOPE_LOCAL = 0
SCOPE_PROVINCE = 1
SCOPE_OUTBOUND = 2
SCOPE_NAMES: tuple[Scope, Scope, Scope] = ("local", "province", "outbound")

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius

# National Bureau of Statistics split of the provinces (2-digit prefixes).
_MACRO: dict[str, MacroRegion] = {
    **dict.fromkeys(
        ("11", "12", "13", "31", "32", "33", "35", "37", "44", "46", "71", "81", "82"), "east"
    ),
    **dict.fromkeys(("14", "34", "36", "41", "42", "43"), "central"),
    **dict.fromkeys(
        ("15", "45", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"), "west"
    ),
    **dict.fromkeys(("21", "22", "23"), "northeast"),
}

_LEVEL_RANK: dict[str, int] = {"province": 0, "prefecture": 1, "county": 2}

# Prefecture rows that are placeholders under a municipality, not real places.
_MUNICIPAL_PLACEHOLDERS = frozenset({"市辖区", "县"})

# Counties cpca has without coordinates that have no usable parent point
# (their parent is the pseudo-prefecture 139000). (longitude, latitude)
_COORD_FIXES: dict[str, tuple[float, float]] = {
    "139001": (114.990, 38.516),  # 定州市
    "139002": (115.218, 37.943),  # 辛集市
}

# Short names used instead of suffix stripping (as cpca does).
_SPECIAL_CORES: dict[str, tuple[str, ...]] = {
    "150000": ("内蒙古",),
    "450000": ("广西",),
    "540000": ("西藏",),
    "640000": ("宁夏",),
    "650000": ("新疆",),
    "810000": ("香港",),
    "820000": ("澳门",),
    "429021": ("神农架",),
}

_PROVINCE_SUFFIXES = ("省", "市")
_PREFECTURE_SUFFIXES = ("自治州", "地区", "市", "盟")
_COUNTY_SUFFIXES = ("自治县", "自治旗", "新区", "特区", "区", "县", "市", "旗")
# Suffixes an outdated or newer county name may carry (梁平县 became 梁平区).
_COUNTY_VARIANT_SUFFIXES = ("区", "县", "市", "旗")

# Quality of a name match (lower is better).
_Q_OFFICIAL = 0
_Q_CORE = 1
_Q_VARIANT = 2

# Exonyms and conventional romanisations that pinyin does not produce.
_EXONYMS: dict[str, tuple[str, ...]] = {
    "150000": ("innermongolia",),
    "540000": ("tibet",),
    "610000": ("shaanxi", "shaanxisheng"),
    "810000": ("hongkong",),
    "820000": ("macau", "macao"),
}
# Pinyin keys generated for these regions that collide with a conventional
# spelling of another one ("Shanxi" is 山西; 陕西 is "Shaanxi").
_PINYIN_SUPPRESS: dict[str, frozenset[str]] = {"610000": frozenset({"shanxi", "shanxisheng"})}

# Readings pypinyin gets wrong in place names (朝阳 is chaoyang, 长治 changzhi...).
# Both readings are indexed so either spelling matches.
_POLYPHONES: dict[str, tuple[str, ...]] = {
    "朝": ("chao", "zhao"),
    "长": ("chang", "zhang"),
    "单": ("shan", "dan"),
    "洞": ("tong", "dong"),
    "六": ("lu", "liu"),
    "乐": ("le", "yue"),
    "蔚": ("yu", "wei"),
    "莘": ("shen", "xin"),
    "番": ("pan", "fan"),
    "铅": ("yan", "qian"),
    "厦": ("xia", "sha"),
    "重": ("chong", "zhong"),
    "堡": ("bao", "bu", "pu"),
    "浚": ("xun", "jun"),
    "陂": ("pi", "bei"),
    "蚌": ("beng", "bang"),
    "柏": ("bai", "bo"),
    "曲": ("qu",),
    "都": ("du", "dou"),
    "会": ("hui", "kuai"),
    "大": ("da", "dai"),
    "兴": ("xing",),
    "和": ("he",),
    "行": ("xing", "hang"),
    "华": ("hua",),
    "阿": ("a", "e"),
}

# English words that name a level; they follow a name ("Wuhou District").
# word -> (levels it can mean, suffix the official name then ends with)
_ALL_LEVELS = frozenset(_LEVEL_RANK)
_EN_SUFFIXES: dict[str, tuple[frozenset[str], str | None]] = {
    "province": (frozenset({"province"}), "省"),
    "sheng": (frozenset({"province"}), "省"),
    "municipality": (frozenset({"province"}), "市"),
    "autonomous": (_ALL_LEVELS, None),
    "region": (frozenset({"province", "prefecture"}), None),
    "zizhiqu": (frozenset({"province"}), "区"),
    "sar": (frozenset({"province"}), None),
    "special": (frozenset({"province"}), None),
    "administrative": (frozenset({"province"}), None),
    "city": (_ALL_LEVELS, "市"),
    "shi": (_ALL_LEVELS, "市"),
    "prefecture": (frozenset({"prefecture"}), None),
    "zizhizhou": (frozenset({"prefecture"}), "州"),
    "diqu": (frozenset({"prefecture"}), "区"),
    "league": (frozenset({"prefecture"}), "盟"),
    "meng": (frozenset({"prefecture"}), "盟"),
    "district": (frozenset({"county", "prefecture"}), "区"),
    "qu": (frozenset({"county", "prefecture"}), "区"),
    "county": (frozenset({"county"}), "县"),
    "xian": (frozenset({"county"}), "县"),
    "zizhixian": (frozenset({"county"}), "县"),
    "banner": (frozenset({"county"}), "旗"),
    "qi": (frozenset({"county"}), "旗"),
    "new": (frozenset({"county"}), "区"),
    "area": (frozenset({"county"}), "区"),
}
_EN_NOISE = frozenset({"china", "prc", "pr", "people", "peoples", "republic", "of", "the"})

_CODE_RE = re.compile(r"[0-9]{6}", re.ASCII)
_CODE12_RE = re.compile(r"[0-9]{12}", re.ASCII)
_FLOAT_CODE_RE = re.compile(r"([0-9]{6})\.0*", re.ASCII)
_DIGITS_RE = re.compile(r"[0-9]+(?:\.[0-9]*)?", re.ASCII)
_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_ZH_DROP_RE = re.compile(r"[\s\W_]+")
_ZH_COUNTRY_RE = re.compile(r"^(?:中华人民共和国|中国)")
_EN_GROUP_RE = re.compile(r"[,;/|()\[\]\n\t、，；（）]+")
_EN_WORD_RE = re.compile(r"[a-z]+")
_EN_JOIN_RE = re.compile(r"['’`]")  # Xi'an -> xian
_MAX_PARTS = 8


@dataclass(frozen=True, slots=True)
class Region:
    """One administrative division, with its ancestors' codes for cheap scope checks."""

    code: str
    name: str
    full_name: str
    level: Level
    province_code: str
    prefecture_code: str | None
    county_code: str | None
    longitude: float
    latitude: float
    macro_region: MacroRegion


# --------------------------------------------------------------------------- codes


def _normalize_code(value: object) -> str:
    """6-digit code from the spellings a spreadsheet produces, or UnknownRegionError.

    Accepts full-width digits, surrounding blanks, cpca's 12-digit form with a
    zero tail and the ``510112.0`` a float column leaves behind.
    """
    if value is None or (isinstance(value, float) and value != value):
        raise UnknownRegionError("empty region code")
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if _CODE_RE.fullmatch(text):
        return text
    if _CODE12_RE.fullmatch(text):
        if text[6:] == "000000":
            return text[:6]
        raise UnknownRegionError(
            f"region code {text} names a township or village; use the 6-digit code {text[:6]}"
        )
    match = _FLOAT_CODE_RE.fullmatch(text)
    if match:
        return match.group(1)
    raise UnknownRegionError(f"not a 6-digit region code: {value!r}")


def _is_pseudo_prefecture(code: str) -> bool:
    """``xx90xx``: counties directly under the province, not a real prefecture."""
    return code[2] == "9"


def _code_ints(codes: Sequence[str] | np.ndarray | str) -> np.ndarray:
    """Codes as int64 (same shape), vectorised for plain 6-digit strings.

    The fast path reads the digits of a fixed-width string array directly;
    irregular values (full-width digits, 12-digit codes, blanks) go through
    ``_normalize_code`` once per distinct value.
    """
    arr = np.asarray(codes)
    if arr.dtype.kind in "iu":
        out = arr.astype(np.int64)
        bad = (out < 100000) | (out > 999999)
        if bad.any():
            raise UnknownRegionError(f"not a 6-digit region code: {out[bad].flat[0]!r}")
        return out
    if arr.dtype.kind == "S":
        arr = np.char.decode(arr, "ascii", errors="replace")
    elif arr.dtype.kind != "U":
        arr = np.array([("" if v is None else str(v)) for v in arr.ravel()], dtype=str).reshape(
            arr.shape
        )
    shape = arr.shape
    flat = np.ascontiguousarray(arr.ravel())
    width = flat.dtype.itemsize // 4
    out = np.zeros(flat.shape[0], dtype=np.int64)
    if flat.shape[0] == 0:
        return out.reshape(shape)
    if width >= 6:
        chars = flat.view(np.uint32).reshape(flat.shape[0], width)
        digits = chars[:, :6].astype(np.int64) - 48
        ok = ((digits >= 0) & (digits <= 9)).all(axis=1)
        if width > 6:
            ok &= (chars[:, 6:] == 0).all(axis=1)
        out = digits @ (10 ** np.arange(5, -1, -1, dtype=np.int64))
    else:
        ok = np.zeros(flat.shape[0], dtype=bool)
    if not ok.all():
        irregular = flat[~ok]
        values = {v: int(_normalize_code(v)) for v in dict.fromkeys(irregular.tolist())}
        out[~ok] = [values[v] for v in irregular.tolist()]
    return out.reshape(shape)


# --------------------------------------------------------------------------- names


def _strip_ethnic(text: str, nations: Sequence[str]) -> str:
    """Drop trailing ethnic names: 海西蒙古族藏族 -> 海西."""
    changed = True
    while changed:
        changed = False
        for nation in nations:
            if text.endswith(nation) and len(text) - len(nation) >= 2:
                text = text[: -len(nation)]
                changed = True
    return text


def _cores(region: Region, official: str, nations: Sequence[str]) -> list[str]:
    """Short forms people write: 深圳 for 深圳市, 延边 for 延边朝鲜族自治州."""
    special = _SPECIAL_CORES.get(region.code)
    if special:
        return list(special)
    suffixes = {
        "province": _PROVINCE_SUFFIXES,
        "prefecture": _PREFECTURE_SUFFIXES,
        "county": _COUNTY_SUFFIXES,
    }[region.level]
    for suffix in suffixes:
        if official.endswith(suffix) and len(official) - len(suffix) >= 2:
            core = official[: -len(suffix)]
            if suffix.startswith("自治"):
                core = _strip_ethnic(core, nations)
            return [core]
    return []


@functools.lru_cache(maxsize=1)
def _pinyin_module() -> Any:
    """pypinyin, imported on first English query (its import costs ~0.3 s)."""
    import pypinyin

    return pypinyin


def _pinyin_keys(text: str) -> list[str]:
    """Toneless pinyin spellings of a Chinese name, ü written as u."""
    pypinyin = _pinyin_module()
    default = pypinyin.lazy_pinyin(text, style=pypinyin.Style.NORMAL, errors="ignore")
    if len(default) != len(text):
        return ["".join(default).replace("v", "u")]
    options = [
        tuple(dict.fromkeys((syl.replace("v", "u"), *_POLYPHONES.get(ch, ()))))
        for ch, syl in zip(text, default, strict=True)
    ]
    keys: list[str] = []
    for combo in itertools.islice(itertools.product(*options), 16):
        keys.append("".join(combo))
    return keys


def _ascii_fold(text: str) -> str:
    """Lower-case ASCII letters of an English name: Chéngdū -> chengdu, Lüliang -> luliang."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def _display(region: Region) -> str:
    return f"{region.full_name} ({region.code})"


# --------------------------------------------------------------------------- index


def _cpca_resource(name: str) -> Path:
    """Path of a file in cpca/resources, found without importing cpca."""
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("cpca is not installed; it provides the region code table")
    return Path(next(iter(spec.submodule_search_locations))) / "resources" / name


def _read_cpca_rows() -> list[tuple[str, str, float | None, float | None]]:
    """cpca's adcodes.csv as (code, name, longitude, latitude) rows."""
    path = _cpca_resource("adcodes.csv")
    if path.is_file():
        text = path.read_text(encoding="utf-8")
    else:  # installed as a zip or similar: fall back to the resource API
        from importlib.resources import files

        text = files("cpca.resources").joinpath("adcodes.csv").read_text(encoding="utf-8")
    rows = []
    for record in csv.DictReader(text.splitlines()):
        lon, lat = record["longitude"], record["latitude"]
        rows.append(
            (
                record["adcode"],
                record["name"],
                float(lon) if lon else None,
                float(lat) if lat else None,
            )
        )
    return rows


def _read_nations() -> tuple[str, ...]:
    """Ethnic group names (with and without 族), longest first, for name shortening."""
    path = _cpca_resource("56_nations.csv")
    names = path.read_text(encoding="utf-8").split() if path.is_file() else []
    forms = set(names) | {n[:-1] for n in names if n.endswith("族") and len(n) >= 3}
    return tuple(sorted(forms, key=len, reverse=True))


class RegionIndex:
    """All known regions, with lookup by code, by name and vectorised by code arrays."""

    def __init__(
        self,
        rows: Iterable[tuple[str, str, float | None, float | None]],
        *,
        nations: Sequence[str] = (),
    ) -> None:
        """Build from (code, name, longitude, latitude) rows in cpca's layout."""
        raw: dict[str, tuple[str, float | None, float | None]] = {}
        aliases: dict[str, str] = {}
        for code, name, lon, lat in rows:
            code6 = _normalize_code(code)
            if code6[4:] != "00" and name == "市辖区":
                aliases[code6] = code6[:4] + "00"
                continue
            raw[code6] = (name, lon, lat)
        self._nations = tuple(nations)
        self._aliases = {a: p for a, p in aliases.items() if p in raw}

        def level_of(code: str) -> Level:
            if code[2:] == "0000":
                return "province"
            return "prefecture" if code[4:] == "00" else "county"

        coords: dict[str, tuple[float, float] | None] = {
            c: ((lon, lat) if lon is not None and lat is not None else None)
            for c, (_, lon, lat) in raw.items()
        }
        coords.update({c: xy for c, xy in _COORD_FIXES.items() if c in raw})
        kids: dict[str, list[str]] = defaultdict(list)
        for code in sorted(raw):
            level = level_of(code)
            if level == "prefecture":
                kids[code[:2] + "0000"].append(code)
            elif level == "county":
                parent = code[:4] + "00"
                kids[parent if parent in raw else code[:2] + "0000"].append(code)
        # Fill missing points: a prefecture from its counties, a county from its parent.
        for code in sorted(raw):
            if coords[code] is None and level_of(code) != "county":
                points = [coords[k] for k in kids.get(code, ()) if coords[k] is not None]
                if points:
                    coords[code] = (
                        sum(p[0] for p in points) / len(points),
                        sum(p[1] for p in points) / len(points),
                    )
        for code in sorted(raw):
            if coords[code] is None:
                for parent in (code[:4] + "00", code[:2] + "0000"):
                    if coords.get(parent) is not None:
                        coords[code] = coords[parent]
                        break
        missing = [c for c, xy in coords.items() if xy is None]
        if missing:
            raise ValueError(f"region table has no coordinates for {missing[:5]}")

        regions: dict[str, Region] = {}
        for code in sorted(raw):
            name = raw[code][0]
            level = level_of(code)
            province = code[:2] + "0000"
            province_name = raw[province][0] if province in raw else ""
            prefecture = None if level == "province" else code[:4] + "00"
            if level == "prefecture" and name in _MUNICIPAL_PLACEHOLDERS:
                name = province_name
            if level == "province":
                full = name
            elif level == "prefecture":
                if _is_pseudo_prefecture(code):
                    full = province_name + name.removeprefix("省").removeprefix("自治区")
                else:
                    full = name if name == province_name else province_name + name
            else:
                parent_name = raw[prefecture][0] if prefecture in raw else ""
                placeholder = (
                    prefecture is None
                    or prefecture not in raw
                    or parent_name in _MUNICIPAL_PLACEHOLDERS
                    or _is_pseudo_prefecture(prefecture)
                )
                full = province_name + ("" if placeholder else parent_name) + name
            lon, lat = coords[code]  # type: ignore[misc]
            regions[code] = Region(
                code=code,
                name=name,
                full_name=full,
                level=level,
                province_code=province,
                prefecture_code=prefecture,
                county_code=code if level == "county" else None,
                longitude=float(lon),
                latitude=float(lat),
                macro_region=_MACRO.get(code[:2], "east"),
            )
        self._regions = regions
        self._raw_names = {c: n for c, (n, _, _) in raw.items()}
        self._children = {p: tuple(regions[k] for k in ks) for p, ks in kids.items()}

        lookup = sorted(
            [(int(c), c) for c in regions] + [(int(a), p) for a, p in self._aliases.items()]
        )
        self._lookup_ints = np.array([i for i, _ in lookup], dtype=np.int64)
        self._lookup_latlon = np.array(
            [(regions[c].latitude, regions[c].longitude) for _, c in lookup], dtype=np.float64
        )
        self._alias_ints = np.array(sorted(int(a) for a in self._aliases), dtype=np.int64)
        self._lock = threading.Lock()
        self._zh: dict[str, list[tuple[str, int]]] | None = None
        self._zh_maxlen = 0
        self._py: dict[str, list[tuple[str, int]]] | None = None

    @classmethod
    def from_cpca(cls) -> RegionIndex:
        """A fresh index from the code table shipped with cpca."""
        return cls(_read_cpca_rows(), nations=_read_nations())

    @classmethod
    @functools.cache
    def default(cls) -> RegionIndex:
        """The shared index; built once because every import and request uses it."""
        return cls.from_cpca()

    # ------------------------------------------------------------------ by code

    def _canonical(self, value: object) -> str:
        code = _normalize_code(value)
        if code in self._regions:
            return code
        if code in self._aliases:
            return self._aliases[code]
        hint = ""
        parent = self._regions.get(code[:4] + "00") or self._regions.get(code[:2] + "0000")
        if parent is not None:
            hint = (
                f" (no such division in {parent.full_name}; "
                "codes created after cpca's table of about 2016 are not known)"
            )
        raise UnknownRegionError(f"unknown region code {code}{hint}")

    def get(self, code: str) -> Region:
        """Region of a code; a 市辖区 code (440301) gives its prefecture."""
        return self._regions[self._canonical(code)]

    def __contains__(self, code: object) -> bool:
        try:
            self._canonical(code)
        except UnknownRegionError:
            return False
        return True

    def __len__(self) -> int:
        return len(self._regions)

    def __iter__(self) -> Iterator[Region]:
        return iter(self._regions.values())

    def provinces(self) -> list[Region]:
        """Province-level regions (incl. municipalities, HK, Macau, Taiwan), by code."""
        return [r for r in self._regions.values() if r.level == "province"]

    def children(self, code: str) -> list[Region]:
        """Prefectures of a province, or counties of a prefecture (none for 东莞-like cities)."""
        region = self.get(code)
        return list(self._children.get(region.code, ()))

    def counties(self, province_code: str | None = None) -> list[Region]:
        """County-level regions, optionally of one province (not 东莞-like prefectures)."""
        if province_code is None:
            return [r for r in self._regions.values() if r.level == "county"]
        province = self.get(province_code)
        if province.level != "province":
            raise UnknownRegionError(
                f"{province_code} is not a province-level code; use {province.province_code}"
            )
        return [
            r
            for r in self._regions.values()
            if r.level == "county" and r.province_code == province.code
        ]

    def coordinates(self, codes: Sequence[str] | np.ndarray) -> np.ndarray:
        """(n, 2) array of latitude, longitude for an array of codes."""
        ints = _code_ints(codes)
        flat = ints.ravel()
        pos = np.searchsorted(self._lookup_ints, flat)
        pos = np.minimum(pos, len(self._lookup_ints) - 1)
        found = self._lookup_ints[pos] == flat
        if not found.all():
            unknown = list(dict.fromkeys(f"{v:06d}" for v in flat[~found].tolist()))
            shown = ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else "")
            raise UnknownRegionError(f"unknown region code {shown}")
        return self._lookup_latlon[pos].reshape(ints.shape + (2,))

    # ------------------------------------------------------------------ by name

    def resolve(self, text: str) -> Region:
        """Region of a code, a Chinese name or address, or an English/pinyin name."""
        result = self.resolve_many([text])[text]
        if isinstance(result, UnknownRegionError):
            raise result
        return result

    def resolve_many(self, values: Iterable[str]) -> dict[str, Region | UnknownRegionError]:
        """Resolve each distinct value once; errors are returned, not raised.

        Free-text addresses that need cpca are parsed in one batch.
        """
        out: dict[Any, Region | UnknownRegionError] = {}
        pending: dict[Any, str] = {}
        for value in dict.fromkeys(values):
            try:
                region, needs_cpca = self._resolve_fast(value)
            except UnknownRegionError as err:
                out[value] = err
                continue
            if region is not None:
                out[value] = region
            else:
                pending[value] = needs_cpca  # type: ignore[assignment]
        if pending:
            parsed = self._resolve_with_cpca(list(pending.values()))
            for value, result in zip(pending, parsed, strict=True):
                out[value] = result
        return out

    def _resolve_fast(self, value: object) -> tuple[Region | None, str | None]:
        """Resolve without cpca, or return the cleaned text that needs cpca."""
        if value is None or (isinstance(value, float) and value != value):
            raise UnknownRegionError("empty region value")
        raw = str(value)
        text = unicodedata.normalize("NFKC", raw).strip()
        if not text:
            raise UnknownRegionError("empty region value")
        if _DIGITS_RE.fullmatch(text):
            return self.get(text), None
        if _CJK_RE.search(text):
            zh = _ZH_COUNTRY_RE.sub("", _ZH_DROP_RE.sub("", text))
            parts = self._segment_zh(zh) if zh else None
            if parts is not None:
                return self._choose(raw, parts), None
            return None, text
        if re.search("[A-Za-z]", _ascii_fold(text)):
            return self._resolve_pinyin(raw, text), None
        raise UnknownRegionError(f"cannot resolve region {raw!r}")

    # Chinese names ---------------------------------------------------------

    def _zh_index(self) -> dict[str, list[tuple[str, int]]]:
        """Chinese name -> [(code, quality)], built on first use."""
        if self._zh is None:
            with self._lock:
                if self._zh is None:
                    index: dict[str, dict[str, int]] = defaultdict(dict)

                    def add(key: str, code: str, quality: int) -> None:
                        if len(key) >= 2 and quality < index[key].get(code, 99):
                            index[key][code] = quality

                    for region in self._regions.values():
                        if self._is_placeholder(region):
                            continue
                        official = self._raw_names[region.code]
                        add(official, region.code, _Q_OFFICIAL)
                        for core in _cores(region, official, self._nations):
                            add(core, region.code, _Q_CORE)
                            if region.level == "county":
                                for suffix in _COUNTY_VARIANT_SUFFIXES:
                                    add(core + suffix, region.code, _Q_VARIANT)
                    self._zh_maxlen = max(map(len, index))
                    self._zh = {k: sorted(v.items()) for k, v in index.items()}
        return self._zh

    def _is_placeholder(self, region: Region) -> bool:
        """Prefecture rows that name no place of their own (市辖区, 县, 省直辖...)."""
        return region.level == "prefecture" and (
            self._raw_names[region.code] in _MUNICIPAL_PLACEHOLDERS
            or _is_pseudo_prefecture(region.code)
        )

    def _segment_zh(self, text: str) -> list[list[tuple[str, int]]] | None:
        """Split text into known names (fewest pieces), or None if something is left over."""
        index = self._zh_index()
        n = len(text)
        best: list[tuple[int, int] | None] = [None] * (n + 1)  # (pieces, start)
        best[0] = (0, 0)
        for end in range(1, n + 1):
            for start in range(max(0, end - self._zh_maxlen), end):
                prev = best[start]
                if prev is not None and text[start:end] in index:
                    if best[end] is None or prev[0] + 1 < best[end][0]:  # type: ignore[index]
                        best[end] = (prev[0] + 1, start)
        if best[n] is None:
            return None
        pieces: list[str] = []
        end = n
        while end > 0:
            start = best[end][1]  # type: ignore[index]
            pieces.append(text[start:end])
            end = start
        return [index[p] for p in reversed(pieces)]

    def _resolve_with_cpca(self, texts: list[str]) -> list[Region | UnknownRegionError]:
        """Parse addresses with cpca, then re-check its pick for same-named counties.

        cpca silently takes the first of several same-named counties (朝阳区 in
        北京 or 长春); we only accept a pick the text's own context supports.
        """
        try:
            frame = _cpca_transform(texts)
        except Exception as err:  # a third-party parser: never let it leak other errors
            failure = UnknownRegionError(f"cannot parse region address: {err}")
            return [failure for _ in texts]
        index = self._zh_index()
        results: list[Region | UnknownRegionError] = []
        for text, record in zip(texts, frame, strict=True):
            parts = []
            for level, name_key, pos_key in (
                ("province", "省", "省_pos"),
                ("prefecture", "市", "市_pos"),
                ("county", "区", "区_pos"),
            ):
                name, pos = record.get(name_key), record.get(pos_key, -1)
                if not isinstance(name, str) or pos is None or pos < 0:
                    continue
                cands = [
                    (c, q)
                    for c, q in index.get(name, ())
                    if q == _Q_OFFICIAL and self._regions[c].level == level
                ]
                if cands:
                    parts.append(cands)
            try:
                if not parts:
                    raise UnknownRegionError(f"cannot resolve region {text!r}")
                results.append(self._choose(text, parts, context=text))
            except UnknownRegionError as err:
                results.append(err)
        return results

    # English / pinyin names ------------------------------------------------

    def _py_index(self) -> dict[str, list[tuple[str, int]]]:
        """Pinyin key -> [(code, quality)], built on first English query."""
        if self._py is None:
            with self._lock:
                if self._py is None:
                    index: dict[str, dict[str, int]] = defaultdict(dict)

                    def add(key: str, code: str, quality: int) -> None:
                        if key in _PINYIN_SUPPRESS.get(code, ()):
                            return
                        if key and quality < index[key].get(code, 99):
                            index[key][code] = quality

                    for region in self._regions.values():
                        if self._is_placeholder(region):
                            continue
                        official = self._raw_names[region.code]
                        for key in _pinyin_keys(official):
                            add(key, region.code, _Q_OFFICIAL)
                        for core in _cores(region, official, self._nations):
                            for key in _pinyin_keys(core):
                                add(key, region.code, _Q_CORE)
                    for code, keys in _EXONYMS.items():
                        if code in self._regions:
                            for key in keys:
                                add(key, code, _Q_CORE)
                    self._py = {k: sorted(v.items()) for k, v in index.items()}
        return self._py

    def _resolve_pinyin(self, raw: str, text: str) -> Region:
        """'Wuhou District, Chengdu' -> 510107: name chunks narrowed by level words."""
        index = self._py_index()
        folded = _EN_JOIN_RE.sub("", _ascii_fold(text))
        parts: list[list[tuple[str, int]]] = []
        for group in _EN_GROUP_RE.split(folded):
            words = [w for w in _EN_WORD_RE.findall(group) if w not in _EN_NOISE]
            i = 0
            hints: list[str] = []
            current: list[tuple[str, int]] | None = None
            while i < len(words):
                if current is not None and words[i] in _EN_SUFFIXES:
                    hints.append(words[i])
                    i += 1
                    continue
                for size in range(min(4, len(words) - i), 0, -1):
                    key = "".join(words[i : i + size])
                    if key in index:
                        if current is not None:
                            parts.append(self._apply_hints(current, hints))
                        current, hints = list(index[key]), []
                        i += size
                        break
                else:
                    i += 1  # a word that names nothing (a street, a postcode...)
            if current is not None:
                parts.append(self._apply_hints(current, hints))
        if not parts:
            raise UnknownRegionError(f"cannot resolve region {raw!r}")
        return self._choose(raw, parts)

    def _apply_hints(
        self, candidates: list[tuple[str, int]], hints: list[str]
    ) -> list[tuple[str, int]]:
        """Narrow a name's candidates by the level words after it ("District" -> ...区)."""
        if not hints:
            return candidates
        levels = frozenset(_ALL_LEVELS)
        suffix = None
        for word in hints:
            word_levels, word_suffix = _EN_SUFFIXES[word]
            levels = levels & word_levels or levels
            suffix = word_suffix or suffix
        narrowed = [(c, q) for c, q in candidates if self._regions[c].level in levels]
        narrowed = narrowed or candidates
        if suffix is None:
            return narrowed
        return [
            (c, _Q_OFFICIAL if self._raw_names[c].endswith(suffix) else q) for c, q in narrowed
        ]

    # Choosing among candidates ----------------------------------------------

    def _is_within(self, ancestor: str, region: Region) -> bool:
        return ancestor in (region.code, region.prefecture_code, region.province_code)

    def _choose(
        self, raw: str, parts: list[list[tuple[str, int]]], *, context: str | None = None
    ) -> Region:
        """The one region all name parts agree on, or UnknownRegionError.

        Each candidate R is scored by how well every part names R or one of its
        ancestors: better name matches first, then parts that add detail
        (吉林省吉林 is the city), then the higher level (吉林 is the province).
        A tie is ambiguous unless ``context`` mentions only one candidate's parents.
        """
        parts = parts[:_MAX_PARTS]
        scored: list[tuple[tuple[int, int, int], Region]] = []
        for code in dict.fromkeys(c for part in parts for c, _ in part):
            region = self._regions[code]
            total, used = 0, set()
            for part in parts:
                fits = [(q, c) for c, q in part if self._is_within(c, region)]
                if not fits:
                    break
                q_best = min(q for q, _ in fits)
                total += q_best
                used.update(c for q, c in fits if q == q_best)
            else:
                detail = min(len(parts), len(used))  # distinct places the parts can name
                scored.append(((total, -detail, _LEVEL_RANK[region.level]), region))
        if not scored:
            names = " / ".join(
                "|".join(dict.fromkeys(self._regions[c].full_name for c, _ in part))
                for part in parts
            )
            raise UnknownRegionError(
                f"cannot resolve region {raw!r}: its parts ({names}) do not name one place"
            )
        best = min(key for key, _ in scored)
        winners = [r for key, r in scored if key == best]
        if len(winners) > 1 and context is not None:
            mentioned = [r for r in winners if self._parents_mentioned(r, context)]
            if len(mentioned) == 1:
                return mentioned[0]
        if len(winners) > 1:
            listed = ", ".join(_display(r) for r in winners[:10])
            more = f" and {len(winners) - 10} more" if len(winners) > 10 else ""
            raise UnknownRegionError(
                f"ambiguous region {raw!r}: could be {listed}{more}; "
                "add the province or city, or use the 6-digit code"
            )
        return winners[0]

    def _parents_mentioned(self, region: Region, text: str) -> bool:
        """Whether the text names the region's province or prefecture anywhere."""
        for code in (region.prefecture_code, region.province_code):
            if code is None or code == region.code or code not in self._regions:
                continue
            parent = self._regions[code]
            if self._is_placeholder(parent):
                continue
            official = self._raw_names[code]
            if any(n in text for n in (official, *_cores(parent, official, self._nations))):
                return True
        return False


def _cpca_transform(texts: list[str]) -> list[dict[str, Any]]:
    """cpca's parse with match positions (-1 where a level was inferred, not written)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cpca imports the deprecated pkg_resources
        import cpca

        frame = cpca.transform(texts, pos_sensitive=True)
    records: list[dict[str, Any]] = frame.to_dict("records")
    return records


# --------------------------------------------------------------------------- distance, scope


def distance_km(
    lat1: float | np.ndarray,
    lon1: float | np.ndarray,
    lat2: float | np.ndarray,
    lon2: float | np.ndarray,
) -> np.ndarray | float:
    """Great-circle (haversine, R=6371.0088 km) distance; numpy broadcasting."""
    phi1, lam1, phi2, lam2 = (
        np.radians(np.asarray(v, dtype=np.float64)) for v in (lat1, lon1, lat2, lon2)
    )
    h = (
        np.sin((phi2 - phi1) / 2) ** 2
        + np.cos(phi1) * np.cos(phi2) * np.sin((lam2 - lam1) / 2) ** 2
    )
    d = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return float(d) if np.ndim(d) == 0 else d


def _scope_level(region: Region) -> int:
    """0 province, 1 prefecture, 2 county; a pseudo-prefecture only tells the province."""
    if region.level == "prefecture" and _is_pseudo_prefecture(region.code):
        return 0
    return _LEVEL_RANK[region.level]


def scope(home: Region, place: Region) -> Scope:
    """Where a place lies seen from a worker's home, for mobility filters and the local mix.

    local: same county as the worker's home county; where either side is only known
    at prefecture level, same prefecture. province: same province, not local.
    outbound: another province. Either side at province level only (or in a
    pseudo-prefecture such as 429000): same province -> "province".
    """
    if home.province_code != place.province_code:
        return "outbound"
    level = min(_scope_level(home), _scope_level(place))
    if level == 2:
        return "local" if home.code == place.code else "province"
    if level == 1:
        return "local" if home.prefecture_code == place.prefecture_code else "province"
    return "province"


@dataclass(frozen=True, slots=True)
class PlaceCodes:
    """Codes prepared once for scope arithmetic: aliases folded, levels known."""

    code: np.ndarray  # int64, 市辖区 aliases (440301) folded to their prefecture
    level: np.ndarray  # 2 county, 1 prefecture, 0 province (pseudo-prefectures count as province)

    def take(self, idx: np.ndarray) -> PlaceCodes:
        return PlaceCodes(self.code[idx], self.level[idx])


_FEW_PLACES: dict[tuple[object, ...], PlaceCodes] = {}
_FEW_PLACES_SIZE = 20_000


def place_codes(codes: np.ndarray | Sequence[str] | str) -> PlaceCodes:
    """Prepare codes (strings or ints) for :func:`scope_prepared`; a job pool does this once.

    One or two codes (a worker's home and current place, per request) are kept per value:
    the same places come back request after request. Those arrays are shared, read-only.
    """
    if isinstance(codes, np.ndarray) and codes.ndim == 1 and 0 < len(codes) <= 2:
        key = (id(RegionIndex.default()), codes.dtype.kind, *codes.tolist())
        hit = _FEW_PLACES.get(key)
        if hit is None:
            hit = _place_codes(codes)
            hit.code.flags.writeable = False
            hit.level.flags.writeable = False
            if len(_FEW_PLACES) >= _FEW_PLACES_SIZE:
                _FEW_PLACES.clear()
            _FEW_PLACES[key] = hit
        return hit
    return _place_codes(codes)


def _place_codes(codes: np.ndarray | Sequence[str] | str) -> PlaceCodes:
    ints = _code_ints(codes)
    aliases = RegionIndex.default()._alias_ints
    ints = np.where(np.isin(ints, aliases), ints // 100 * 100, ints)
    pref, county = (ints // 100) % 100, ints % 100
    lvl = np.where(county != 0, 2, np.where(pref != 0, 1, 0))
    lvl = np.where((lvl == 1) & (pref >= 90), 0, lvl).astype(np.int8)
    return PlaceCodes(ints, lvl)


def scope_prepared(home: PlaceCodes, place: PlaceCodes) -> np.ndarray:
    """Scope (int8 SCOPE_*) of prepared codes; broadcasting one home against many places."""
    h, p = np.broadcast_arrays(home.code, place.code)
    lvl = np.minimum(home.level, place.level)
    same_province = h // 10000 == p // 10000
    local = np.where(lvl == 2, h == p, (lvl == 1) & (h // 100 == p // 100))
    return np.where(~same_province, SCOPE_OUTBOUND, np.where(local, SCOPE_LOCAL, SCOPE_PROVINCE)).astype(np.int8)


def scope_codes(
    home_codes: np.ndarray | Sequence[str] | str,
    place_codes_: np.ndarray | Sequence[str] | str,
    *,
    as_int: bool = False,
) -> np.ndarray:
    """``scope`` over arrays of 6-digit codes, for candidate filters over 100,000 places.

    Broadcasting is allowed (one home vs many places); integer arithmetic on the
    codes, no Python loop per element. Returns the strings 'local'/'province'/
    'outbound', or with ``as_int`` int8 SCOPE_LOCAL/SCOPE_PROVINCE/SCOPE_OUTBOUND
    (names in SCOPE_NAMES).

    Codes are not checked against the table (use RegionIndex for that), except
    that 市辖区 aliases (440301) count as their prefecture, as RegionIndex.get does.
    """
    result = scope_prepared(place_codes(home_codes), place_codes(place_codes_))
    if as_int:
        return result
    return np.asarray(SCOPE_NAMES)[result]
