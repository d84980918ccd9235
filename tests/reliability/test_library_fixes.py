"""Regression tests for the library bugs the fuzzing found (each fixed minimally)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from apitest_support import headers
from recommender.store import Store


def test_a_key_with_a_nul_character_is_simply_not_found(tmp_path: Path) -> None:
    """SQLite refuses NUL inside statement text; Store.get used to raise (the API answered 503)."""
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    assert store.get("workers", "W1\x00") is None
    assert store.get("jobs", "\x00") is None
    assert store.raw_rows("workers", "W1\x00") == [] and store.raw_rows("enrolments", "\x00", by="worker_id") == []


def test_raw_rows_binds_the_value_in_a_statement_compiled_once(tmp_path: Path) -> None:
    """The one-key reader compiles each statement shape once and binds the value, so quotes
    and injection-shaped ids are plain values."""
    from recommender.ingest import ingest

    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    ingest(Path(__file__).resolve().parents[2] / "data_samples", store)
    wid = str(store.keys("workers").iloc[0])
    (row,) = store.raw_rows("workers", wid, columns=("worker_id", "education"))
    assert row[0] == wid
    assert store.raw_rows("workers", "x' OR '1'='1", columns=("worker_id",)) == []
    assert len(store._sql_cache) == 2  # two column lists, two statements, whatever the values
    store.raw_rows("workers", wid, columns=("worker_id", "education"))
    assert len(store._sql_cache) == 2


def test_nul_ids_through_the_api_are_not_store_outages(client: TestClient) -> None:
    r = client.get("/v1/workers/W1%00", headers=headers("counsellor"))
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = client.post("/v1/recommendations/batch", json={"workers": ["W1", "\x00"]}, headers=headers("counsellor"))
    assert r.status_code in (200, 404, 422), r.text


def test_huge_offsets_are_a_validation_error_not_a_crash(client: TestClient) -> None:
    for path in ("/v1/workers", "/v1/jobs", "/v1/courses", "/v1/employers", "/v1/outcomes"):
        r = client.get(path, params={"offset": 10**30}, headers=headers("admin"))
        assert r.status_code == 422 and r.json()["code"] == "validation_error", (path, r.text)
        assert client.get(path, params={"offset": 10**9}, headers=headers("admin")).status_code == 200
