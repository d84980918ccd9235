"""Recommendation routes: who may ask what, errors, the served log, the model version."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from apitest_support import FakeRecommender, headers
from api.deps import get_recommender
from recommender.served_log import read_served, served_recommendations
from recommender.store import Store

C = headers("counsellor")
P = headers("portal")
PROFILE = {"birth_year": 1968, "home_region": "411625", "skills": ["保洁", "做饭"], "worker_id": "portal-ref-7"}


def test_jobs_by_id_name_the_model_and_are_logged(client: TestClient, world: Any) -> None:
    r = client.post("/v1/recommendations/jobs", json={"worker_id": "W1", "k": 2, "scope": "balanced", "as_of": "2024-05-15"}, headers=C)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model_version"] == "v1" and r.headers["X-Model-Version"] == "v1"
    assert body["worker_id"] == "W1" and body["scope"] == "balanced" and body["as_of"] == "2024-05-15"
    assert [i["rank"] for i in body["items"]] == [1, 2]
    log = read_served(Store(world.db))
    assert list(log["item_id"]) == [i["item_id"] for i in body["items"]]
    assert set(log["worker_id"]) == {"W1"} and set(log["worker_source"]) == {"store"} and set(log["model_version"]) == {"v1"}
    assert set(log["request_id"]) == {r.headers["X-Request-ID"]}


def test_profile_log_keeps_no_personal_data(client: TestClient, world: Any) -> None:
    r = client.post("/v1/recommendations/courses", json={"profile": PROFILE}, headers=P)
    assert r.status_code == 200 and r.json()["item_type"] == "course"
    r = client.post("/v1/recommendations/jobs", json={"profile": {k: v for k, v in PROFILE.items() if k != "worker_id"}}, headers=P)
    assert r.status_code == 200
    r = client.post("/v1/recommendations/jobs", json={"profile": {**PROFILE, "worker_id": "110101199003071234"}}, headers=P)
    assert r.status_code == 200
    log = read_served(Store(world.db))
    columns = {c.name for c in served_recommendations.columns}
    assert not columns & {"birth_year", "home_region", "current_region", "skills", "certificates", "gender", "education", "expected_wage"}
    by_request = [log.loc[log["request_id"] == rid, "worker_id"].iloc[0] for rid in log["request_id"].unique()]
    assert by_request[0] == "portal-ref-7" and pd.isna(by_request[1]) and pd.isna(by_request[2])  # an ID number is never logged
    assert set(log["worker_source"]) == {"profile"}


def test_batch_mixes_ids_and_profiles(client: TestClient, world: Any) -> None:
    r = client.post("/v1/recommendations/batch", json={"workers": ["W1", PROFILE, "W3"], "item_type": "course", "k": 1}, headers=C)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == 3 and body["model_version"] == "v1"
    assert [d["worker_id"] for d in body["data"]] == ["W1", "portal-ref-7", "W3"]
    log = read_served(Store(world.db))
    assert sorted(zip(log["worker_id"], log["worker_source"], strict=True)) == [("W1", "store"), ("W3", "store"), ("portal-ref-7", "profile")]


def test_unknown_worker_is_404_naming_the_id(client: TestClient) -> None:
    r = client.post("/v1/recommendations/jobs", json={"worker_id": "W404"}, headers=C)
    assert r.status_code == 404
    assert r.json()["code"] == "not_found" and "W404" in r.json()["detail"]
    assert r.json()["errors"][0]["loc"] == ["body", "worker_id"]


def test_batch_entries_fail_one_by_one(client: TestClient, world: Any) -> None:
    bad_profile = {"birth_year": 1980, "home_region": "Atlantis"}
    r = client.post("/v1/recommendations/batch", json={"workers": ["W1", "W404", bad_profile, PROFILE]}, headers=C)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == 4 and body["failed"] == 2
    ok, missing, invalid, fine = body["data"]
    assert ok["worker_id"] == "W1" and ok["items"] and fine["worker_id"] == "portal-ref-7"
    assert missing["code"] == "not_found" and missing["index"] == 1 and "W404" in missing["detail"]
    assert missing["errors"][0]["loc"] == ["body", "workers", 1]
    assert invalid["code"] == "validation_error" and invalid["errors"][0]["loc"] == ["body", "workers", 2, "home_region"]
    log = read_served(Store(world.db))
    assert set(log["worker_id"].dropna()) == {"W1", "portal-ref-7"}  # failed entries served nothing


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({}, ["body"]),
        ({"worker_id": "W1", "profile": PROFILE}, ["body"]),
        ({"worker_id": "W1", "k": 0}, ["body", "k"]),
        ({"worker_id": "W1", "k": 101}, ["body", "k"]),
        ({"worker_id": "W1", "scope": "abroad"}, ["body", "scope"]),
        ({"worker_id": "W1", "age_policy": "lenient"}, ["body", "age_policy"]),
        ({"worker_id": "W1", "as_of": "yesterday"}, ["body", "as_of"]),
        ({"worker_id": "W1", "limit": 3}, ["body", "limit"]),
        ({"profile": {"home_region": "510112"}}, ["body", "profile", "birth_year"]),
        ({"profile": {"birth_year": 1850, "home_region": "510112"}}, ["body", "profile", "birth_year"]),
    ],
)
def test_invalid_body_is_422_with_field_path(client: TestClient, body: dict[str, Any], loc: list[str]) -> None:
    r = client.post("/v1/recommendations/jobs", json=body, headers=C)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "validation_error"
    assert any(e["loc"][: len(loc)] == loc for e in r.json()["errors"]), r.json()


def test_invalid_profile_reported_by_the_model_is_422(client: TestClient) -> None:
    r = client.post("/v1/recommendations/jobs", json={"profile": {"birth_year": 1980, "home_region": "Atlantis"}}, headers=P)
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "profile", "home_region"]


def test_batch_size_limit(client: TestClient, world: Any) -> None:
    client.app.state.settings = world.model_copy(update={"max_batch_workers": 2})
    r = client.post("/v1/recommendations/batch", json={"workers": ["W1", "W2", "W3"]}, headers=C)
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "workers"] and "at most 2" in r.json()["detail"]
    assert client.post("/v1/recommendations/batch", json={"workers": []}, headers=C).status_code == 422


def test_no_model_means_503_and_not_ready(empty_client: TestClient) -> None:
    r = empty_client.post("/v1/recommendations/jobs", json={"profile": PROFILE}, headers=P)
    assert r.status_code == 503 and r.json()["code"] == "model_unavailable" and "no model" in r.json()["detail"]
    r = empty_client.get("/readyz")
    assert r.status_code == 503 and r.json()["errors"][0]["loc"] == ["model"]
    assert empty_client.get("/healthz").status_code == 200


def test_recommender_dependency_can_be_overridden(client: TestClient, world: Any) -> None:
    fake = FakeRecommender("override-1", Store(world.db))
    client.app.dependency_overrides[get_recommender] = lambda: fake
    try:
        r = client.post("/v1/recommendations/jobs", json={"worker_id": "W2"}, headers=C)
        assert r.json()["model_version"] == "override-1" and fake.calls == 1
    finally:
        client.app.dependency_overrides.clear()


def test_a_failing_served_log_does_not_fail_the_request(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import recommender.served_log as sl

    def boom(*a: Any, **k: Any) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(sl, "log_served_many", boom)
    r = client.post("/v1/recommendations/jobs", json={"worker_id": "W1"}, headers=C)
    assert r.status_code == 200
    assert "recommender_served_log_failures_total 1" in client.get("/metrics").text


def test_a_full_queue_sheds_load_with_503_overloaded_and_recovers(client: TestClient, world: Any) -> None:
    """One compute thread busy and no queue allowed: a second request is refused at once, not left waiting."""
    import threading
    import time

    release, started = threading.Event(), threading.Event()

    class Slow(FakeRecommender):
        def recommend_jobs(self, *a: Any, **k: Any) -> Any:
            started.set()
            assert release.wait(10)
            return super().recommend_jobs(*a, **k)

    client.app.state.settings = world.model_copy(update={"max_queued_requests": 0})
    client.app.dependency_overrides[get_recommender] = lambda: Slow("slow-1", Store(world.db))
    first: dict[str, Any] = {}
    t = threading.Thread(target=lambda: first.update(r=client.post("/v1/recommendations/jobs", json={"profile": PROFILE}, headers=P)))
    try:
        t.start()
        assert started.wait(10)
        r = client.post("/v1/recommendations/jobs", json={"profile": PROFILE}, headers=P)
        assert r.status_code == 503 and r.json()["code"] == "overloaded" and r.headers["Retry-After"] == "1"
        assert "recommender_requests_shed_total 1" in client.get("/metrics").text
    finally:
        release.set()
        t.join(10)
        client.app.dependency_overrides.clear()
    assert first["r"].status_code == 200
    deadline = time.monotonic() + 5  # the thread is handed back just after the response
    while client.app.state.compute_limiter.available_tokens == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    r = client.post("/v1/recommendations/jobs", json={"profile": PROFILE}, headers=P)
    assert r.status_code == 200


def test_job_queue_ranks_the_first_live_queries_that_share_a_recommender() -> None:
    """A pass takes the first live query and those behind it asked of the same Recommender (up to
    MAX_GROUP); a query whose request is gone is dropped, whatever Recommender it was asked of."""
    from recommender.errors import NotFoundError
    from recommender.service import JobQuery

    from api.coalesce import JobQueue

    class Rec:
        def __init__(self, name: str) -> None:
            self.name, self.passes = name, []

        def recommend_jobs_many(self, queries: list[JobQuery]) -> list[Any]:
            self.passes.append([q.worker for q in queries])
            return [NotFoundError(q.worker) if q.worker == "gone" else f"{self.name}:{q.worker}" for q in queries]

    a, b = Rec("a"), Rec("b")
    queue = JobQueue(max_group=2)
    shed = queue.add(a, JobQuery("shed"))
    futures = [queue.add(rec, JobQuery(w)) for rec, w in ((b, "1"), (b, "gone"), (b, "3"), (a, "4"))]
    assert shed.cancel()
    queue.drain()  # the shed query (asked of a) is dropped; b's first two, at most 2 per pass
    assert b.passes == [["1", "gone"]] and a.passes == []
    assert futures[0].result() == "b:1" and isinstance(futures[1].exception(), NotFoundError)
    queue.drain()  # b's last; a's query waits for the next pass
    queue.drain()
    queue.drain()  # nothing left: no pass
    assert b.passes == [["1", "gone"], ["3"]] and a.passes == [["4"]]
    assert [f.result() for f in (futures[2], futures[3])] == ["b:3", "a:4"]
    assert (queue.metrics.ranking_passes, queue.metrics.ranked_queries) == (3, 4)
