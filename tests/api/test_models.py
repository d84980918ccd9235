"""The registry through the API, and the hot swap of a newly promoted model."""

from __future__ import annotations

import threading
import time
from typing import Any

from fastapi.testclient import TestClient

from apitest_support import fake_loader, headers, save_bundle
from api.main import create_app
from recommender.registry import Registry
from recommender.served_log import read_served
from recommender.store import Store

A = headers("admin")
P = headers("portal")
PROFILE = {"profile": {"birth_year": 1980, "home_region": "510112", "skills": ["电焊"]}}


def test_list_promote_rollback(client: TestClient, world: Any) -> None:
    save_bundle(world, "v2", ndcg=0.41)
    r = client.get("/v1/models", headers=A)
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 2 and body["promoted"] == "v1" and body["serving"] == "v1"
    v2 = next(m for m in body["data"] if m["version"] == "v2")
    assert v2["metrics"] == {"ndcg@10": 0.41} and not v2["promoted"] and v2["manifest"]["libraries"]
    r = client.post("/v1/models/v2/promote", json={"reason": "better ndcg"}, headers=A)
    assert r.status_code == 200
    assert r.json() == {"promoted": "v2", "previous": "v1", "serving": "v2", "load_error": None}
    assert client.post("/v1/recommendations/jobs", json=PROFILE, headers=P).json()["model_version"] == "v2"
    assert Registry(world.models).history()[-1]["reason"] == "better ndcg"
    r = client.post("/v1/models/rollback", headers=A)
    assert r.status_code == 200 and r.json()["promoted"] == "v1" and r.json()["serving"] == "v1"
    assert client.post("/v1/recommendations/jobs", json=PROFILE, headers=P).headers["X-Model-Version"] == "v1"


def test_promote_without_body_and_errors(client: TestClient, world: Any) -> None:
    save_bundle(world, "v2")
    assert client.post("/v1/models/v2/promote", headers=A).status_code == 200
    r = client.post("/v1/models/v404/promote", headers=A)
    assert r.status_code == 404 and r.json()["code"] == "not_found" and "v404" in r.json()["detail"]
    r = client.post("/v1/models/.hidden/promote", headers=A)
    assert r.status_code == 404


def test_rollback_with_nothing_earlier_is_409(client: TestClient) -> None:
    r = client.post("/v1/models/rollback", headers=A)
    assert r.status_code == 409 and r.json()["code"] == "conflict" and "nothing to roll back" in r.json()["detail"]


def test_a_broken_version_keeps_the_old_one_serving(client: TestClient, world: Any) -> None:
    save_bundle(world, "v2-broken", broken=True)
    r = client.post("/v1/models/v2-broken/promote", headers=A)
    assert r.status_code == 200
    assert r.json()["serving"] == "v1" and "broken" in r.json()["load_error"]
    assert client.post("/v1/recommendations/jobs", json=PROFILE, headers=P).json()["model_version"] == "v1"
    assert "recommender_model_load_failures_total 1" in client.get("/metrics").text
    assert client.get("/readyz").status_code == 200


def test_promotion_outside_the_api_is_picked_up_without_a_failed_request(client: TestClient, world: Any) -> None:
    """As `recommender promote` would do it: move the pointer on disk; the service swaps in the background."""
    save_bundle(world, "v2")
    versions: list[str] = []
    failures: list[int] = []
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            r = client.post("/v1/recommendations/jobs", json=PROFILE, headers=P)
            if r.status_code != 200:
                failures.append(r.status_code)
            else:
                versions.append(r.json()["model_version"])

    threads = [threading.Thread(target=hammer) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.2)
        Registry(world.models).promote("v2", reason="cli")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (not versions or versions[-1] != "v2"):
            time.sleep(0.05)
        time.sleep(0.2)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not failures
    assert versions[0] == "v1" and versions[-1] == "v2"
    # Serving order is that of the served log's times, not the order the posts returned in: a post returns
    # after its background task, which may be writing the served lists of later requests too.
    log = read_served(Store(world.db)).sort_values(["served_at", "id"], kind="stable").drop_duplicates("request_id")
    served = list(log["model_version"])
    assert len(served) == len(versions) and served[0] == "v1"
    assert set(served[served.index("v2"):]) == {"v2"}  # no flapping back
    assert 'recommender_model_info{version="v2"} 1' in client.get("/metrics").text
    assert client.get("/readyz").json()["model_version"] == "v2"


def test_service_starts_without_a_model_and_picks_one_up(empty_client: TestClient, settings: Any) -> None:
    assert empty_client.get("/readyz").status_code == 503
    save_bundle(settings, "v1", promote=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and empty_client.get("/readyz").status_code != 200:
        time.sleep(0.05)
    assert empty_client.get("/readyz").json()["model_version"] == "v1"


def test_missing_service_module_is_reported_not_crashed(world: Any) -> None:
    def loader(settings: Any, store: Any) -> Any:
        raise ModuleNotFoundError("No module named 'recommender.service'")

    with TestClient(create_app(world, loader=loader)) as c:
        r = c.get("/readyz")
        assert r.status_code == 503 and "service module" in r.json()["detail"]
        r = c.post("/v1/recommendations/jobs", json=PROFILE, headers=P)
        assert r.status_code == 503 and r.json()["code"] == "model_unavailable"


def test_fake_loader_is_only_for_tests() -> None:
    from api.serving import default_loader

    assert default_loader is not fake_loader


def test_new_postings_reload_the_serving_model(client: TestClient) -> None:
    """The model encodes open jobs when it loads: a written job makes the service reload the same version."""
    holder = client.app.state.models
    first = holder.current
    r = client.put("/v1/jobs/J9", json={"title": "焊工", "region": "440305", "posted_on": "2024-05-01"}, headers=A)
    assert r.status_code == 201
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and holder.current is first:
        time.sleep(0.05)
    assert holder.current is not first and holder.version == "v1"
    # a worker edit does not (workers are read per request)
    second = holder.current
    client.put("/v1/workers/W9", json={"birth_year": 1990, "home_region": "510112"}, headers=A)
    time.sleep(0.3)
    assert holder.current is second


def test_a_swap_hands_the_old_models_memory_back(client: TestClient, world: Any, monkeypatch: Any) -> None:
    """One poll interval after a swap the replaced model is collected and freed pages trimmed (once per swap)."""
    import api.serving as serving

    calls: list[int] = []
    real = serving.release_memory
    monkeypatch.setattr(serving, "release_memory", lambda: (calls.append(1), real())[1])
    save_bundle(world, "v2")
    Registry(world.models).promote("v2", reason="cli")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not calls:
        time.sleep(0.05)
    assert client.get("/readyz").json()["model_version"] == "v2"
    assert calls == [1]
    time.sleep(0.3)  # several more polls without a swap: nothing more to release
    assert calls == [1]
