"""The shipped taxonomy: counts, integrity, and the extension folder."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from recommender.errors import ConfigError, ContractError
from recommender.taxonomy import display_name, load_taxonomy


@pytest.fixture(scope="module")
def tax():
    return load_taxonomy()


def test_counts(tax):
    assert len(tax.skills) >= 300
    assert len(tax.certificates) >= 80
    raw = pd.read_csv(Path(__file__).parents[1] / "recommender/taxonomy/data/csco22.csv", dtype=str)
    assert (raw["level"] == "4").sum() == 1634  # as published, with two duplicated rows
    assert len(tax.occupations) == 1632  # distinct detailed-occupation codes
    assert tax.occupations["code"].is_unique and tax.skills["skill_id"].is_unique
    assert tax.certificates["cert_id"].is_unique


def test_references_resolve(tax):
    codes = set(tax.groups["code"])
    skill_ids = set(tax.skills["skill_id"])
    for row in tax.skills.itertuples():
        assert set(row.occupation_codes) <= codes, row.skill_id
        assert not row.parent_id or row.parent_id in skill_ids
    for row in tax.certificates.itertuples():
        assert set(row.occupation_codes) <= codes, row.cert_id
        assert set(row.skill_ids) <= skill_ids, row.cert_id
    assert set(tax.occupation_aliases["code"]) <= codes


def test_required_certificates_present(tax):
    ids = set(tax.certificates["cert_id"])
    for must in ("so_low_voltage", "so_high_voltage", "so_welding", "so_scaffolding", "so_height_install",
                 "so_refrigeration_repair", "se_n1_forklift", "se_q1_crane_command", "se_q2_crane_driver",
                 "se_t_elevator", "se_g1_industrial_boiler", "health_certificate", "dl_a1", "dl_b2", "dl_c1",
                 "skill_level_5", "skill_level_1", "voc_infant_care", "voc_elderly_care", "voc_security_guard",
                 "tq_ride_hailing", "tq_freight"):
        assert must in ids
    levels = tax.certificates.set_index("cert_id").loc[[f"skill_level_{i}" for i in range(1, 6)], "level"]
    assert list(levels) == ["1", "2", "3", "4", "5"]


def test_display_names_strip_markers(tax):
    assert display_name("园艺技术人员L") == "园艺技术人员"
    assert display_name("增材制造设备操作员L/S") == "增材制造设备操作员"
    assert display_name("电子商务师S") == "电子商务师"
    occ = tax.occupations.set_index("code")
    assert occ.loc["4-01-06-01", "name"] == "电子商务师" and bool(occ.loc["4-01-06-01", "digital"])
    assert not occ["name"].str.contains(r"[LS]$").any()
    assert occ.loc["6-18-02-04", "name"] == "焊工"


def test_extension_folder_appends_and_overrides(tmp_path):
    (tmp_path / "skills.csv").write_text(
        "skill_id,name_zh,name_en,category,parent_id,synonyms,occupation_codes\n"
        "welding,电焊作业,welding,welding,,焊活,6-18-02-04\n"
        "drone_light_show,无人机编队表演,drone light show,platform,,无人机灯光秀,4-02-04-06\n",
        encoding="utf-8",
    )
    (tmp_path / "occupation_aliases.csv").write_text("alias,code,weight\n飞手小哥,4-02-04-06,1\n", encoding="utf-8")
    base = load_taxonomy()
    ext = load_taxonomy(tmp_path)
    assert len(ext.skills) == len(base.skills) + 1
    row = ext.skills.set_index("skill_id").loc["welding"]
    assert row["name_zh"] == "电焊作业" and row["synonyms"] == ("焊活",)
    assert list(ext.skills["skill_id"]).index("welding") == list(base.skills["skill_id"]).index("welding")
    assert ext.version != base.version

    from recommender.normalise import SkillNormaliser, TitleClassifier

    assert SkillNormaliser(ext).match("无人机灯光秀")[0].id == "drone_light_show"
    assert TitleClassifier(ext).classify("飞手小哥 日结").code == "4-02-04-06"


def test_extension_errors(tmp_path):
    with pytest.raises(ConfigError):
        load_taxonomy(tmp_path / "missing")
    (tmp_path / "skills.csv").write_text("skill_id,name_zh\nx,y\n", encoding="utf-8")
    with pytest.raises(ContractError, match="lacks column"):
        load_taxonomy(tmp_path)
