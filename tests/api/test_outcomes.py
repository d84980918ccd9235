"""Outcomes through the API obey the contract exactly, and are all-or-nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from apitest_support import headers
from recommender.store import Store

C = headers("counsellor")


def item(**over: Any) -> dict[str, Any]:
    return {"worker_id": "W2", "item_type": "job", "item_id": "J3", "outcome": "applied", "date": "2024-05-03", **over}


def test_outcomes_are_stored_and_listed(client: TestClient) -> None:
    items = [item(), item(outcome="hired", date="2024-05-10"), item(item_type="course", item_id="C2", outcome="Enrolled")]
    r = client.post("/v1/outcomes", json=items, headers=C)
    assert r.status_code == 200, r.text
    assert r.json() == {"recorded": 3, "inserted": 3, "updated": 0, "unchanged": 0, "by_file": {"placements": 2, "enrolments": 1}}
    r = client.get("/v1/outcomes", params={"worker_id": "W2"}, headers=C)
    assert r.status_code == 200 and r.json()["count"] == 4  # with the imported referral
    assert r.json()["data"][0] == {"worker_id": "W2", "item_type": "job", "item_id": "J3", "outcome": "hired", "date": "2024-05-10"}
    assert {d["outcome"] for d in r.json()["data"]} == {"referred", "applied", "hired", "enrolled"}
    r = client.get("/v1/outcomes", params={"worker_id": "W2", "item_type": "course"}, headers=C)
    assert [d["item_id"] for d in r.json()["data"]] == ["C2"]
    # the same outcomes again change nothing; a new date updates
    r = client.post("/v1/outcomes", json=items[:1], headers=C)
    assert r.json()["unchanged"] == 1
    r = client.post("/v1/outcomes", json=[item(date="2024-05-04")], headers=C)
    assert r.json()["updated"] == 1


def test_unknown_worker_or_item_is_404_naming_it_and_nothing_is_stored(client: TestClient, world: Any) -> None:
    before = Store(world.db).count("placements")
    r = client.post("/v1/outcomes", json=[item(), item(worker_id="W404"), item(item_id="J404", outcome="hired")], headers=C)
    assert r.status_code == 404
    body = r.json()
    assert body["code"] == "not_found" and "W404" in body["detail"]
    assert {tuple(e["loc"]): e["msg"] for e in body["errors"]} == {
        ("body", 1, "worker_id"): "unknown worker W404",
        ("body", 2, "item_id"): "unknown job J404",
    }
    assert Store(world.db).count("placements") == before


@pytest.mark.parametrize(
    ("bad", "loc", "msg"),
    [
        (item(outcome="enrolled"), ["body", 0, "outcome"], "not one of: referred, applied, hired, retained"),
        (item(item_type="course", item_id="C1", outcome="hired"), ["body", 0, "outcome"], "not one of: referred, enrolled"),
        (item(date="2024-02-30"), ["body", 0, "date"], ""),
        (item(date="1066-10-14"), ["body", 0, "date"], "year out of range"),
        (item(worker_id="110101199003071234"), ["body", 0, "worker_id"], "national ID"),
        (item(worker_id=""), ["body", 0, "worker_id"], "required"),
        (item(item_type="house"), ["body", 0, "item_type"], ""),
        ({"worker_id": "W1"}, ["body", 0, "item_type"], "required"),
    ],
)
def test_invalid_outcomes_are_422_with_field_path(client: TestClient, bad: dict[str, Any], loc: list[Any], msg: str) -> None:
    r = client.post("/v1/outcomes", json=[bad], headers=C)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "validation_error"
    assert any(e["loc"][: len(loc)] == loc and msg in e["msg"] for e in r.json()["errors"]), r.json()


def test_duplicate_in_one_call_and_empty_list(client: TestClient) -> None:
    r = client.post("/v1/outcomes", json=[item(), item()], headers=C)
    assert r.status_code == 422 and "duplicate" in r.json()["errors"][0]["msg"] and r.json()["errors"][0]["loc"] == ["body", 1]
    r = client.post("/v1/outcomes", json=[], headers=C)
    assert r.status_code == 422
    r = client.post("/v1/outcomes", json={"items": [item()]}, headers=C)
    assert r.status_code == 422


def test_library_function_directly(world: Any) -> None:
    from recommender.outcomes import OutcomeError, record_outcomes

    store = Store(world.db)
    with pytest.raises(OutcomeError) as info:
        record_outcomes(store, [item(worker_id="W404")])
    assert info.value.not_found and info.value.code == "not_found"
    assert record_outcomes(store, [item()]).inserted == 1
