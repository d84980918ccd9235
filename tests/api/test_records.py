"""Records through the API: read, list with filters, write under the import rules."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from apitest_support import headers

A = headers("admin")
C = headers("counsellor")


def test_get_one_record_as_contract_json(client: TestClient) -> None:
    r = client.get("/v1/workers/W1", headers=C)
    assert r.status_code == 200
    w = r.json()
    assert w["skills"] == ["电焊", "钢筋绑扎"] and w["certificates"] == ["焊工证"]
    assert w["registered_on"] == "2024-03-18" and w["birth_year"] == 1980 and w["mobility"] == "anywhere"
    job = client.get("/v1/jobs/J1", headers=C).json()
    assert job["housing"] is True and job["openings"] == 3 and job["closes_on"] == "2024-09-01"
    assert client.get("/v1/courses/C2", headers=C).json()["mode"] == "blended"
    assert client.get("/v1/employers/E1", headers=C).json()["wage_arrears_listed"] is False


@pytest.mark.parametrize("path", ["/v1/workers/W404", "/v1/jobs/J404", "/v1/courses/C404", "/v1/employers/E404"])
def test_unknown_record_is_404_naming_the_id(client: TestClient, path: str) -> None:
    r = client.get(path, headers=C)
    assert r.status_code == 404
    body = r.json()
    assert body["code"] == "not_found" and path.rsplit("/", 1)[1] in body["detail"]
    assert body["errors"][0]["loc"][0] == "path"


def test_lists_page_and_filter(client: TestClient) -> None:
    r = client.get("/v1/workers", headers=C, params={"limit": 2})
    assert r.status_code == 200 and r.json()["count"] == 3 and [w["worker_id"] for w in r.json()["data"]] == ["W1", "W2"]
    r = client.get("/v1/workers", headers=C, params={"limit": 2, "offset": 2})
    assert [w["worker_id"] for w in r.json()["data"]] == ["W3"]
    # a prefecture code matches home or current county inside it
    r = client.get("/v1/workers", headers=C, params={"region": "440300"})
    assert {w["worker_id"] for w in r.json()["data"]} == {"W1", "W3"}
    r = client.get("/v1/workers", headers=C, params={"region": "四川省"})
    assert {w["worker_id"] for w in r.json()["data"]} == {"W1"}
    r = client.get("/v1/workers", headers=C, params={"mobility": "local"})
    assert [w["worker_id"] for w in r.json()["data"]] == ["W2"] and r.json()["count"] == 1
    r = client.get("/v1/jobs", headers=C, params={"employment_type": "full_time", "region": "广东省"})
    assert {j["job_id"] for j in r.json()["data"]} == {"J1", "J3"}
    r = client.get("/v1/jobs", headers=C, params={"open_on": "2024-07-01"})
    assert {j["job_id"] for j in r.json()["data"]} == {"J1", "J2"}  # J3 closed on 2024-06-01
    r = client.get("/v1/jobs", headers=C, params={"open_on": "2024-03-02"})
    assert {j["job_id"] for j in r.json()["data"]} == {"J1"}  # J2 not posted yet
    r = client.get("/v1/courses", headers=C, params={"mode": "blended"})
    assert [c["course_id"] for c in r.json()["data"]] == ["C2"]
    r = client.get("/v1/employers", headers=C, params={"wage_arrears_listed": "false"})
    assert r.json()["count"] == 2


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"mobility": "everywhere"}, ["query", "mobility"]),
        ({"limit": 0}, ["query", "limit"]),
        ({"limit": 5000}, ["query", "limit"]),
        ({"offset": -1}, ["query", "offset"]),
        ({"region": "Atlantis"}, ["query", "region"]),
    ],
)
def test_bad_list_parameters_are_422_with_path(client: TestClient, params: dict[str, object], loc: list[str]) -> None:
    r = client.get("/v1/workers", headers=C, params=params)
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    assert r.json()["errors"][0]["loc"] == loc


def test_put_creates_then_updates_under_import_rules(client: TestClient) -> None:
    body = {"birth_year": "1990", "home_region": "成都市武侯区", "skills": "电焊；氩弧焊", "education": "Junior_High", "mobility": "province"}
    r = client.put("/v1/workers/W9", json=body, headers=A)
    assert r.status_code == 201 and r.headers["X-Record-Status"] == "created"
    w = r.json()
    assert w["home_region"] == "510107" and w["current_region"] == "510107"  # name resolved; default from home
    assert w["skills"] == ["电焊", "氩弧焊"] and w["education"] == "junior_high"
    assert client.get("/v1/workers/W9", headers=C).json() == w
    r = client.put("/v1/workers/W9", json=body, headers=A)
    assert r.status_code == 200 and r.headers["X-Record-Status"] == "unchanged"
    r = client.put("/v1/workers/W9", json={**body, "expected_wage": 5000}, headers=A)
    assert r.status_code == 200 and r.headers["X-Record-Status"] == "updated" and r.json()["expected_wage"] == 5000
    # the job the same way; booleans as the contract writes them
    r = client.put("/v1/jobs/J9", json={"title": "焊工", "region": "440305", "posted_on": "2024-05-01", "housing": "是", "skills": ["电焊"]}, headers=A)
    assert r.status_code == 201 and r.json()["housing"] is True and r.json()["openings"] == 1


@pytest.mark.parametrize(
    ("path", "body", "loc", "reason"),
    [
        ("/v1/workers/W9", {"birth_year": 1990}, ["body", "home_region"], "required"),
        ("/v1/workers/W9", {"birth_year": "nineteen", "home_region": "510112"}, ["body", "birth_year"], "whole number"),
        ("/v1/workers/W9", {"birth_year": 1990, "home_region": "Atlantis"}, ["body", "home_region"], "Atlantis"),
        ("/v1/workers/W9", {"birth_year": 1990, "home_region": "510112", "mobility": "everywhere"}, ["body", "mobility"], "not one of"),
        ("/v1/workers/W9", {"birth_year": 2023, "home_region": "510112"}, ["body", "birth_year"], "age"),
        ("/v1/workers/110101199003071234", {"birth_year": 1990, "home_region": "510112"}, ["path", "worker_id"], "national ID"),
        ("/v1/workers/W9", {"worker_id": "W8", "birth_year": 1990, "home_region": "510112"}, ["body", "worker_id"], "path"),
        ("/v1/jobs/J9", {"title": "x", "region": "440305", "posted_on": "2024-05-01", "wage_min": 9000, "wage_max": 3000}, ["body", "wage_min"], "greater"),
        ("/v1/jobs/J9", {"title": "x", "region": "440305", "posted_on": "2024-02-30"}, ["body", "posted_on"], "calendar"),
        ("/v1/courses/C9", {"title": "x", "region": "510112", "fee": -5}, ["body", "fee"], "negative"),
        ("/v1/employers/E9", {"wage_arrears_listed": "maybe"}, ["body", "wage_arrears_listed"], "boolean"),
        ("/v1/workers/W9", {"birth_year": {"a": 1}, "home_region": "510112"}, ["body", "birth_year"], ""),
    ],
)
def test_put_rejects_what_an_import_rejects(client: TestClient, path: str, body: dict[str, object], loc: list[str], reason: str) -> None:
    r = client.put(path, json=body, headers=A)
    assert r.status_code == 422, r.text
    err = r.json()
    assert err["code"] == "validation_error"
    assert any(e["loc"][: len(loc)] == loc and reason in e["msg"] for e in err["errors"]), err
    assert client.get(path, headers=C).status_code in (404, 422)  # nothing stored


def test_summary_counts_rows(client: TestClient) -> None:
    r = client.get("/v1/summary", headers=C)
    assert r.status_code == 200 and r.json()["workers"] == 3 and r.json()["jobs"] == 3
