"""Regions: codes, names, coordinates, distance and scope, as importers and features use them."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import recommender.regions as regions_module
from recommender.errors import RecommenderError, UnknownRegionError
from recommender.regions import (
    SCOPE_LOCAL,
    SCOPE_NAMES,
    SCOPE_OUTBOUND,
    SCOPE_PROVINCE,
    Region,
    RegionIndex,
    distance_km,
    scope,
    scope_codes,
)


@pytest.fixture(scope="module")
def index() -> RegionIndex:
    return RegionIndex.default()


# --------------------------------------------------------------------------- codes


def test_default_is_a_shared_singleton() -> None:
    assert RegionIndex.default() is RegionIndex.default()


def test_codes_at_three_levels(index: RegionIndex) -> None:
    county, prefecture, province = index.get("440305"), index.get("440300"), index.get("440000")
    assert county.name == "南山区"
    assert (county.full_name, county.level) == ("广东省深圳市南山区", "county")
    assert (county.province_code, county.prefecture_code, county.county_code) == (
        "440000",
        "440300",
        "440305",
    )
    assert (prefecture.name, prefecture.full_name, prefecture.level) == (
        "深圳市",
        "广东省深圳市",
        "prefecture",
    )
    assert (prefecture.prefecture_code, prefecture.county_code) == ("440300", None)
    assert (province.name, province.level) == ("广东省", "province")
    assert province.prefecture_code is None
    assert county.macro_region == "east"
    assert 113 < county.longitude < 115 and 22 < county.latitude < 23


@pytest.mark.parametrize(
    ("code", "macro"),
    [
        ("110000", "east"),
        ("420000", "central"),
        ("510000", "west"),
        ("230000", "northeast"),
        ("150000", "west"),
        ("460000", "east"),
        ("810000", "east"),
        ("710000", "east"),
    ],
)
def test_macro_region(index: RegionIndex, code: str, macro: str) -> None:
    assert index.get(code).macro_region == macro


def test_municipality_placeholders_are_presented_by_the_municipality(index: RegionIndex) -> None:
    assert index.get("110108").full_name == "北京市海淀区"
    assert index.get("110108").prefecture_code == "110100"
    beijing_urban = index.get("110100")
    assert (beijing_urban.name, beijing_urban.full_name, beijing_urban.level) == (
        "北京市",
        "北京市",
        "prefecture",
    )
    assert index.get("500200").name == "重庆市"
    assert index.get("500233").full_name == "重庆市忠县"
    assert all("市辖区" not in r.full_name and not r.full_name.endswith("市县") for r in index)


def test_prefecture_cities_without_counties(index: RegionIndex) -> None:
    for code, name in [("441900", "东莞市"), ("442000", "中山市"), ("460400", "儋州市")]:
        region = index.get(code)
        assert (region.name, region.level) == (name, "prefecture")
        assert index.children(code) == []


def test_counties_directly_under_a_province(index: RegionIndex) -> None:
    xiantao = index.get("429004")
    assert (xiantao.full_name, xiantao.level, xiantao.prefecture_code) == (
        "湖北省仙桃市",
        "county",
        "429000",
    )
    assert index.get("429000").full_name == "湖北省直辖县级行政区划"
    assert index.get("659001").full_name == "新疆维吾尔自治区石河子市"


def test_hong_kong_macau_taiwan_resolve(index: RegionIndex) -> None:
    assert index.get("810000").name == "香港特别行政区"
    assert index.get("820000").level == "province"
    assert index.resolve("台湾省").code == "710000"
    assert index.resolve("香港").code == "810000"


def test_every_region_has_coordinates_in_china(index: RegionIndex) -> None:
    for region in index:
        assert 73 < region.longitude < 136 and 3 < region.latitude < 54, region


def test_urban_district_placeholder_code_is_its_prefecture(index: RegionIndex) -> None:
    """cpca lists 282 'xx01 市辖区' rows; they mean the prefecture's urban districts."""
    assert "440301" in index
    assert index.get("440301").code == "440300"
    assert "市辖区" not in {r.name for r in index.counties()}


@pytest.mark.parametrize(
    "spelling", ["510112", "５１０１１２", " 510112 ", "510112000000", "510112.0"]
)
def test_code_spellings(index: RegionIndex, spelling: str) -> None:
    assert index.get(spelling).code == "510112"
    assert index.resolve(spelling).code == "510112"
    assert spelling in index


@pytest.mark.parametrize("code", ["999999", "440399", "500155"])
def test_unknown_well_formed_code_names_the_code(index: RegionIndex, code: str) -> None:
    with pytest.raises(UnknownRegionError, match=f"unknown region code {code}"):
        index.get(code)
    with pytest.raises(UnknownRegionError, match=code):
        index.resolve(code)
    assert code not in index


@pytest.mark.parametrize("value", ["12345", "5101120", "51011a", "510112001000", ""])
def test_malformed_code_is_rejected(index: RegionIndex, value: str) -> None:
    with pytest.raises(UnknownRegionError) as info:
        index.get(value)
    assert value in str(info.value) or "empty" in str(info.value)
    assert value not in index


def test_error_belongs_to_the_project_family(index: RegionIndex) -> None:
    with pytest.raises(RecommenderError):
        index.get("999999")
    with pytest.raises(LookupError):
        index.resolve("不存在的地方")


def test_provinces_children_counties(index: RegionIndex) -> None:
    provinces = index.provinces()
    assert len(provinces) == 34
    assert [p.code for p in provinces] == sorted(p.code for p in provinces)
    assert "440300" in {r.code for r in index.children("440000")}
    assert "440305" in {r.code for r in index.children("440300")}
    assert {r.code for r in index.children("110000")} == {"110100"}
    assert index.children("440305") == []
    guangdong = index.counties("440000")
    assert guangdong
    assert all(r.level == "county" and r.province_code == "440000" for r in guangdong)
    assert len(index.counties()) > 2800
    with pytest.raises(UnknownRegionError):
        index.counties("440300")
    with pytest.raises(UnknownRegionError):
        index.children("999999")


def test_region_is_immutable_and_hashable(index: RegionIndex) -> None:
    region = index.get("440305")
    with pytest.raises(AttributeError):
        region.name = "x"  # type: ignore[misc]
    assert {region: 1}[index.get("440305")] == 1


def test_coordinates_are_vectorised_lat_lon(index: RegionIndex) -> None:
    codes = np.array(["440305", "110108", "440301", "510112"])
    coords = index.coordinates(codes)
    assert coords.shape == (4, 2)
    nanshan = index.get("440305")
    assert tuple(coords[0]) == (nanshan.latitude, nanshan.longitude)
    assert tuple(coords[2]) == (index.get("440300").latitude, index.get("440300").longitude)
    assert index.coordinates(["５１０１１２"]).shape == (1, 2)
    assert index.coordinates(np.array([], dtype=str)).shape == (0, 2)
    with pytest.raises(UnknownRegionError, match="999999"):
        index.coordinates(["440305", "999999"])


def test_building_the_index_does_not_import_cpca_or_pypinyin() -> None:
    """Start-up stays fast: cpca and pypinyin load only when a name needs them."""
    script = (
        "import sys\n"
        "from recommender.regions import RegionIndex\n"
        "ix = RegionIndex.default()\n"
        "ix.get('440305'); ix.resolve('广东省深圳市南山区'); ix.coordinates(['440305'])\n"
        "assert 'cpca' not in sys.modules and 'pypinyin' not in sys.modules, 'lazy imports'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("广东省深圳市南山区", "440305"),
        ("深圳", "440300"),
        ("深圳市", "440300"),
        ("广东省", "440000"),
        ("成都市武侯区", "510107"),
        ("成都武侯", "510107"),
        ("武侯区", "510107"),
        ("中国广东省深圳市", "440300"),
        ("广西南宁", "450100"),
        ("延边", "222400"),
        ("北京市海淀区", "110108"),
        ("重庆忠县", "500233"),
        ("仙桃市", "429004"),
        ("吉林", "220000"),
        ("吉林市", "220200"),
        ("吉林省吉林", "220200"),
        ("广东省东莞市长安镇", "441900"),
        ("北京市朝阳区建国路88号", "110105"),
        ("梁平区", "500228"),  # renamed from 梁平县 after cpca's table
    ],
)
def test_chinese_names(index: RegionIndex, text: str, code: str) -> None:
    assert index.resolve(text).code == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Shenzhen", "440300"),
        ("Chengdu", "510100"),
        ("shenzhen shi", "440300"),
        ("Shenzhen City, Guangdong Province", "440300"),
        ("Wuhou District, Chengdu", "510107"),
        ("Nanshan District, Shenzhen 518057", "440305"),
        ("Chaoyang District, Beijing", "110105"),
        ("Chéngdū", "510100"),
        ("Xi'an", "610100"),
        ("Shanxi", "140000"),
        ("Shaanxi", "610000"),
        ("Hong Kong", "810000"),
        ("Inner Mongolia", "150000"),
        ("Taizhou, Zhejiang", "331000"),
        ("Pudong New Area, Shanghai", "310115"),
        ("Changzhi", "140400"),
    ],
)
def test_english_and_pinyin_names(index: RegionIndex, text: str, code: str) -> None:
    assert index.resolve(text).code == code


@pytest.mark.parametrize("text", ["朝阳区", "Chaoyang District", "朝阳区建国路88号"])
def test_ambiguous_county_without_context_lists_candidates(index: RegionIndex, text: str) -> None:
    with pytest.raises(UnknownRegionError, match="ambiguous") as info:
        index.resolve(text)
    message = str(info.value)
    assert text in message and "110105" in message and "220104" in message


def test_ambiguous_prefecture_pinyin(index: RegionIndex) -> None:
    with pytest.raises(UnknownRegionError, match="ambiguous.*321200.*331000"):
        index.resolve("Taizhou")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("北京朝阳区", "110105"),
        ("长春市朝阳区", "220104"),
        ("吉林省朝阳区", "220104"),
        ("朝阳区建国路，北京", "110105"),  # context after the county, which cpca ignores
        ("深圳南山", "440305"),
        ("Chaoyang District, Changchun", "220104"),
    ],
)
def test_ambiguous_county_uses_province_or_city_context(
    index: RegionIndex, text: str, code: str
) -> None:
    assert index.resolve(text).code == code


@pytest.mark.parametrize("text", ["火星", "foo", "市辖区", "!!", "广东省朝阳区", "Atlantis City"])
def test_unresolvable_name_names_the_value(index: RegionIndex, text: str) -> None:
    with pytest.raises(UnknownRegionError) as info:
        index.resolve(text)
    assert repr(text) in str(info.value)


@pytest.mark.parametrize("value", [None, float("nan"), "  "])
def test_empty_values_are_region_errors(index: RegionIndex, value: object) -> None:
    with pytest.raises(UnknownRegionError, match="empty"):
        index.resolve(value)  # type: ignore[arg-type]


def test_resolve_many_resolves_each_distinct_value_once(
    index: RegionIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = RegionIndex.from_cpca()
    calls: list[object] = []
    original = fresh._resolve_fast

    def counting(value: object) -> tuple[Region | None, str | None]:
        calls.append(value)
        return original(value)

    monkeypatch.setattr(fresh, "_resolve_fast", counting)
    values = ["深圳"] * 50_000 + ["Chengdu"] * 50_000 + ["999999"] * 10 + ["440305"] * 3
    result = fresh.resolve_many(values)
    assert sorted(calls, key=str) == sorted(["深圳", "Chengdu", "999999", "440305"], key=str)
    assert result["深圳"].code == "440300"  # type: ignore[union-attr]
    assert isinstance(result["999999"], UnknownRegionError)


def test_resolve_many_parses_addresses_in_one_batch(
    index: RegionIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches: list[list[str]] = []
    original = regions_module._cpca_transform

    def counting(texts: list[str]) -> list[dict[str, object]]:
        batches.append(list(texts))
        return original(texts)

    monkeypatch.setattr(regions_module, "_cpca_transform", counting)
    addresses = ["北京市海淀区中关村大街1号", "四川省成都市武侯区人民南路4段"] * 100
    result = index.resolve_many(addresses)
    assert len(batches) == 1 and len(batches[0]) == 2
    assert result[addresses[0]].code == "110108"  # type: ignore[union-attr]
    assert result[addresses[1]].code == "510107"  # type: ignore[union-attr]


_FRAGMENTS = sorted(
    {ch for r in RegionIndex.default() for ch in r.full_name}
    | set("0123456789 ,.'-省市区县ShenzhDistrictyo０１２３")
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), st.text(alphabet=st.sampled_from(_FRAGMENTS), max_size=16)))
def test_resolve_raises_only_unknown_region_error(text: str) -> None:
    index = RegionIndex.default()
    try:
        region = index.resolve(text)
    except UnknownRegionError:
        return
    assert isinstance(region, Region) and region.code in index


# --------------------------------------------------------------------------- distance


def test_distance_beijing_shanghai(index: RegionIndex) -> None:
    beijing, shanghai = index.get("110000"), index.get("310000")
    km = distance_km(beijing.latitude, beijing.longitude, shanghai.latitude, shanghai.longitude)
    assert isinstance(km, float)
    assert km == pytest.approx(1067, rel=0.03)


def test_distance_broadcasts(index: RegionIndex) -> None:
    coords = index.coordinates(["110000", "310000", "440300"])
    km = distance_km(39.904211, 116.407394, coords[:, 0], coords[:, 1])
    assert km.shape == (3,) and km[0] == pytest.approx(0.0, abs=1e-9)
    assert np.all(km[1:] > 1000)


_lat = st.floats(-90, 90)
_lon = st.floats(-180, 180)


@given(_lat, _lon, _lat, _lon)
def test_distance_is_symmetric_zero_on_itself_and_bounded(
    lat1: float, lon1: float, lat2: float, lon2: float
) -> None:
    assert distance_km(lat1, lon1, lat1, lon1) == pytest.approx(0.0, abs=1e-6)
    there = distance_km(lat1, lon1, lat2, lon2)
    back = distance_km(lat2, lon2, lat1, lon1)
    assert there == pytest.approx(back, abs=1e-6)
    assert 0.0 <= there <= np.pi * 6371.0088 + 1e-6


# --------------------------------------------------------------------------- scope


@pytest.mark.parametrize(
    ("home", "place", "expected"),
    [
        ("440305", "440305", "local"),
        ("440305", "440306", "province"),  # another district of the same city
        ("440305", "440100", "province"),
        ("440305", "110108", "outbound"),
        # either side only known at prefecture level: same prefecture is local
        ("440300", "440305", "local"),
        ("440305", "440300", "local"),
        ("440300", "440300", "local"),
        ("440300", "440100", "province"),
        ("441900", "441900", "local"),  # 东莞 has no counties
        # either side only known at province level
        ("440000", "440305", "province"),
        ("440305", "440000", "province"),
        ("440000", "440000", "province"),
        ("440000", "450000", "outbound"),
        # municipalities
        ("110108", "110105", "province"),
        ("110100", "110105", "local"),
        ("110108", "110000", "province"),
        ("500101", "500233", "province"),
        ("500100", "500233", "province"),
        ("500200", "500233", "local"),
        ("110108", "120101", "outbound"),
        # counties directly under a province are not one prefecture
        ("429004", "429005", "province"),
        ("429000", "429004", "province"),
        ("429004", "429004", "local"),
        # 市辖区 alias counts as its prefecture
        ("440301", "440305", "local"),
    ],
)
def test_scope_rules(index: RegionIndex, home: str, place: str, expected: str) -> None:
    assert scope(index.get(home), index.get(place)) == expected
    assert scope_codes(np.array([home]), np.array([place]))[0] == expected


_ALL_CODES = sorted(
    [r.code for r in RegionIndex.default()] + list(RegionIndex.default()._aliases)
)


_CODE = st.sampled_from(_ALL_CODES)


@given(st.lists(st.tuples(_CODE, _CODE), min_size=1))
def test_scope_codes_agrees_with_scope(pairs: list[tuple[str, str]]) -> None:
    index = RegionIndex.default()
    homes = np.array([h for h, _ in pairs])
    places = np.array([p for _, p in pairs])
    expected = [scope(index.get(h), index.get(p)) for h, p in pairs]
    assert scope_codes(homes, places).tolist() == expected


@given(st.sampled_from(_ALL_CODES))
def test_scope_codes_one_home_against_many_places(home: str) -> None:
    index = RegionIndex.default()
    places = np.array(_ALL_CODES)
    names = scope_codes(np.array(home), places)
    ints = scope_codes(home, places, as_int=True)
    assert names.shape == ints.shape == places.shape
    assert np.array_equal(np.asarray(SCOPE_NAMES)[ints], names)
    assert (SCOPE_LOCAL, SCOPE_PROVINCE, SCOPE_OUTBOUND) == (0, 1, 2)
    sample = np.random.default_rng(0).choice(len(places), 50, replace=False)
    home_region = index.get(home)
    for i in sample:
        assert names[i] == scope(home_region, index.get(str(places[i])))


def test_scope_codes_rejects_malformed_codes() -> None:
    with pytest.raises(UnknownRegionError, match="abc"):
        scope_codes(np.array(["440305"]), np.array(["abc"]))
