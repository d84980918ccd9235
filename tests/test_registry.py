"""Model registry: atomic versions, promotion pointer, rollback, refusals."""

from __future__ import annotations

import json

import pytest

from recommender.errors import NotFoundError
from recommender.registry import Registry, RegistryError, check_compatible, library_versions


def test_save_promote_load_and_rollback(tmp_path):
    reg = Registry(tmp_path / "models")
    a = reg.save({"weights": [1, 2]}, {"metrics": {"ndcg": 0.3}})
    b = reg.save({"weights": [3, 4]}, {"metrics": {"ndcg": 0.4}})
    assert [v.version for v in reg.versions()] == sorted([a.version, b.version])
    assert reg.promoted() is None
    with pytest.raises(NotFoundError):
        reg.load()
    reg.promote(a.version)
    reg.promote(b.version)
    bundle, manifest = reg.load()
    assert bundle == {"weights": [3, 4]} and manifest["version"] == b.version
    assert manifest["libraries"]["scikit-learn"]
    back = reg.rollback()
    assert back.version == a.version and reg.load()[0] == {"weights": [1, 2]}


def test_rollback_without_history_is_an_error(tmp_path):
    reg = Registry(tmp_path)
    v = reg.save(1, {})
    reg.promote(v.version)
    with pytest.raises(RegistryError, match="nothing to roll back"):
        reg.rollback()


def test_half_written_versions_are_invisible(tmp_path):
    reg = Registry(tmp_path)
    (tmp_path / ".incoming-x").mkdir()
    (tmp_path / "v-broken").mkdir()
    (tmp_path / "v-broken" / "manifest.json").write_text("{}")
    assert reg.versions() == []
    with pytest.raises(NotFoundError):
        reg.promote("v-broken")


def test_versions_outside_the_registry_are_refused(tmp_path):
    reg = Registry(tmp_path / "models")
    for bad in ("../elsewhere", "/etc", "a/b", ".hidden"):
        with pytest.raises((RegistryError, NotFoundError)):
            reg.get(bad)


def test_major_version_mismatch_is_refused():
    recorded = dict(library_versions())
    recorded["scikit-learn"] = "0.1.0"
    with pytest.raises(RegistryError, match="retrain"):
        check_compatible(recorded)


def test_pointer_is_json_and_history_grows(tmp_path):
    reg = Registry(tmp_path)
    v = reg.save(1, {})
    reg.promote(v.version, reason="first")
    assert json.loads((tmp_path / "PROMOTED").read_text())["version"] == v.version
    assert reg.history()[0]["reason"] == "first"


def test_settings_keep_the_registry_root_as_text(tmp_path, monkeypatch):
    """A URL survives Settings (a Path would fold s3://b into s3:/b); a Path argument becomes its text."""
    from recommender.settings import Settings

    assert Settings(models="s3://bucket/models").models == "s3://bucket/models"
    monkeypatch.setenv("RECOMMENDER_MODELS", "memory://shared/models")
    assert Settings().models == "memory://shared/models"
    assert Settings(models=tmp_path / "models").models == str(tmp_path / "models")
    reg = Registry(Settings(models=f"file://{tmp_path}/m").models)
    assert reg.root == (tmp_path / "m").resolve()
