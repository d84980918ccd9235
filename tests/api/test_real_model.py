"""The service over the real ``recommender.service.Recommender`` and a model trained on data_samples/.

Reuses the session's trained model (``trained_registry`` from tests/conftest.py)
when there is one, copied so these tests may write; otherwise trains its own.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from apitest_support import headers, make_settings
from api.main import create_app
from recommender.registry import Registry
from recommender.served_log import read_served
from recommender.settings import Settings
from recommender.store import Store

pytest.importorskip("recommender.service")

SAMPLES = Path(__file__).resolve().parents[2] / "data_samples"
C = headers("counsellor")
P = headers("portal")
A = headers("admin")
PROFILE = {"birth_year": 1968, "home_region": "成都市武侯区", "skills": ["电焊", "钢筋绑扎"], "expected_wage": 5000, "mobility": "anywhere"}


@pytest.fixture(scope="module")
def real_settings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    if not (SAMPLES / "workers.csv").exists():
        pytest.skip("data_samples/ is empty")
    tmp = tmp_path_factory.mktemp("real")
    try:
        registry = request.getfixturevalue("trained_registry")
        db = request.getfixturevalue("copy_sample_store")(tmp / "store.db")
        shutil.copytree(registry.root, tmp / "models")
    except pytest.FixtureLookupError:
        from recommender.ingest import ingest
        from recommender.snapshot import Snapshot
        from recommender.training.pipeline import TrainConfig, train_and_register

        db = f"sqlite:///{tmp / 'store.db'}"
        store = Store(db)
        ingest(SAMPLES, store)
        train_and_register(Snapshot.from_store(store), Registry(tmp / "models"), TrainConfig(negatives=6), evaluate=False)
        store.dispose()
    return make_settings(tmp, db=db, models=tmp / "models")


@pytest.fixture(scope="module")
def real(real_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(real_settings)) as client:  # the default loader: recommender.service
        yield client


@pytest.fixture(scope="module")
def a_worker(real_settings: Settings) -> str:
    return str(Store(real_settings.db).read_table("workers", columns=["worker_id"])["worker_id"].iloc[0])


def test_ready_with_the_promoted_model(real: TestClient, real_settings: Settings) -> None:
    r = real.get("/readyz")
    assert r.status_code == 200 and r.json()["model_version"] == Registry(real_settings.models).promoted()


def test_jobs_for_a_stored_worker(real: TestClient, a_worker: str, real_settings: Settings) -> None:
    r = real.post("/v1/recommendations/jobs", json={"worker_id": a_worker, "k": 5, "scope": "all"}, headers=C)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["worker_id"] == a_worker and body["model_version"] == Registry(real_settings.models).promoted()
    assert r.headers["X-Model-Version"] == body["model_version"]
    assert 0 < len(body["items"]) <= 5 and [i["rank"] for i in body["items"]] == list(range(1, len(body["items"]) + 1))
    assert all(i["item_type"] == "job" and i["reasons"] for i in body["items"])
    log = read_served(Store(real_settings.db), worker_id=a_worker)
    assert set(log["item_id"]) >= {i["item_id"] for i in body["items"]}


@pytest.mark.parametrize("scope", ["local", "province", "outbound", "balanced"])
def test_scopes_for_a_profile(real: TestClient, scope: str) -> None:
    r = real.post("/v1/recommendations/jobs", json={"profile": PROFILE, "k": 5, "scope": scope, "age_policy": "flag"}, headers=P)
    assert r.status_code == 200, r.text
    if scope != "balanced":
        assert all(i["scope"] == scope for i in r.json()["items"])


def test_courses_for_a_profile_and_by_id(real: TestClient, a_worker: str) -> None:
    r = real.post("/v1/recommendations/courses", json={"profile": PROFILE, "k": 3}, headers=P)
    assert r.status_code == 200, r.text
    assert all(i["item_type"] == "course" for i in r.json()["items"])
    r = real.post("/v1/recommendations/courses", json={"worker_id": a_worker}, headers=C)
    assert r.status_code == 200


def test_errors_from_the_real_model(real: TestClient) -> None:
    r = real.post("/v1/recommendations/jobs", json={"worker_id": "W-nobody"}, headers=C)
    assert r.status_code == 404 and "W-nobody" in r.json()["detail"]
    r = real.post("/v1/recommendations/jobs", json={"profile": {"birth_year": 1980, "home_region": "Atlantis"}}, headers=P)
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    assert r.json()["errors"][0]["loc"] == ["body", "profile", "home_region"]
    r = real.post("/v1/recommendations/jobs", json={"profile": {"birth_year": 2020, "home_region": "510112"}}, headers=P)
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "profile", "birth_year"]


def test_requests_queued_together_are_ranked_in_one_pass_with_their_own_answers(real: TestClient, real_settings: Settings) -> None:
    """Requests that wait for the ranking thread together are ranked in one pass (``api.coalesce``),
    and each gets exactly the answer it gets alone: ids, profiles, scopes, days, k, age policies and errors mixed."""
    import threading
    import time

    ids = Store(real_settings.db).read_table("workers", columns=["worker_id"])["worker_id"].tolist()
    asks: list[tuple[dict[str, Any], dict[str, str]]] = [
        ({"worker_id": ids[3], "k": 5}, C),
        ({"profile": PROFILE, "scope": "balanced"}, P),
        ({"worker_id": "W-nobody"}, C),
        ({"worker_id": ids[40], "scope": "local", "as_of": "2024-03-01"}, C),
        ({"profile": {"birth_year": 1980, "home_region": "Atlantis"}}, P),
        ({"profile": {**PROFILE, "birth_year": 1990}, "k": 3, "age_policy": "flag"}, P),
        ({"worker_id": ids[77], "scope": "outbound", "as_of": "2024-03-01"}, C),
        ({"worker_id": ids[3], "k": 10, "scope": "province"}, C),
    ]
    queue = real.app.state.job_queue
    pool = real.app.state.compute_limiter
    gate = threading.Event()
    pool._executor.submit(gate.wait, 30)  # the ranking thread is busy: the requests queue behind it
    got: dict[int, Any] = {}

    def ask(n: int) -> None:
        body, key = asks[n]
        got[n] = real.post("/v1/recommendations/jobs", json=body, headers=key)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(len(asks))]
    groups, ranked = queue.metrics.ranking_passes, queue.metrics.ranked_queries
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while len(queue._items) < len(asks) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(queue._items) == len(asks)
    finally:
        gate.set()
        for t in threads:
            t.join(60)
    assert queue.metrics.ranking_passes == groups + 1 and queue.metrics.ranked_queries == ranked + len(asks)  # one pass for all of them
    for n, (body, key) in enumerate(asks):
        alone = real.post("/v1/recommendations/jobs", json=body, headers=key)
        assert got[n].status_code == alone.status_code, (n, got[n].text)
        assert got[n].json() == alone.json(), n
    assert [got[n].status_code for n in range(len(asks))] == [200, 200, 404, 200, 422, 200, 200, 200]
    assert queue.metrics.ranking_passes == groups + 1 + len(asks)  # alone: one pass each


def test_batch_with_a_bad_entry(real: TestClient, a_worker: str) -> None:
    workers = [a_worker, "W-nobody", {"birth_year": 1980, "home_region": "Atlantis"}, PROFILE]
    r = real.post("/v1/recommendations/batch", json={"workers": workers, "k": 3, "age_policy": "flag"}, headers=C)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == 4 and body["failed"] == 2
    assert body["data"][1]["code"] == "not_found" and body["data"][2]["code"] == "validation_error"
    assert body["data"][0]["items"] and body["data"][3]["items"] is not None


def test_promoting_a_new_version_swaps_the_real_model(real: TestClient, real_settings: Settings) -> None:
    registry = Registry(real_settings.models)
    old = registry.promoted()
    assert old is not None
    bundle, manifest = registry.load(old)
    new = registry.save(bundle, {k: v for k, v in manifest.items() if k not in ("version", "created")}, version=f"{old}-copy").version
    r = real.post(f"/v1/models/{new}/promote", headers=A)
    assert r.status_code == 200 and r.json()["serving"] == new, r.text
    r = real.post("/v1/recommendations/jobs", json={"profile": PROFILE, "k": 3}, headers=P)
    assert r.json()["model_version"] == new
    r = real.post("/v1/models/rollback", headers=A)
    assert r.status_code == 200 and r.json()["serving"] == old
    models = real.get("/v1/models", headers=A).json()
    assert {m["version"] for m in models["data"]} >= {old, new} and models["serving"] == old


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**12), 10**12), st.floats(allow_nan=True), st.text(max_size=20),
    st.sampled_from(["510112", "广东省深圳市", "Shenzhen", "2024-05-01", "电焊;叉车", "college", "local", ""]),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)
profiles = st.fixed_dictionaries(
    {"birth_year": st.one_of(st.integers(1900, 2100), values), "home_region": st.one_of(st.sampled_from(["510112", "440305", "Atlantis", "北京"]), values)},
    optional={k: values for k in ("current_region", "skills", "certificates", "education", "mobility", "expected_wage",
                                  "experience_years", "registered_on", "worker_id")},
)


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(path=st.sampled_from(["/v1/recommendations/jobs", "/v1/recommendations/courses"]), profile=profiles,
       k=st.integers(1, 100), as_of=st.one_of(st.none(), st.dates().map(str)))
def test_random_profiles_never_give_500(real: TestClient, path: str, profile: dict[str, Any], k: int, as_of: str | None) -> None:
    body: dict[str, Any] = {"profile": profile, "k": k}
    if as_of is not None:
        body["as_of"] = as_of
    data = json.dumps(body, ensure_ascii=False).encode()
    r = real.post(path, content=data, headers={**P, "Content-Type": "application/json"})
    assert r.status_code in (200, 422), r.text


def test_a_worker_changed_through_put_is_served_as_changed(real: TestClient, real_settings: Settings) -> None:
    """The encoded worker is cached between requests: a PUT must not leave the old record serving."""
    wid = str(Store(real_settings.db).read_table("workers", columns=["worker_id"])["worker_id"].iloc[7])
    ask = {"worker_id": wid, "k": 3, "as_of": "2024-06-01"}
    before = real.post("/v1/recommendations/jobs", json=ask, headers=C)
    assert before.status_code == 200, before.text
    record = real.get(f"/v1/workers/{wid}", headers=A).json()
    older = before.json()["age_band"] != "50+"
    body = {"birth_year": 1960 if older else 2000, "home_region": record["home_region"]}
    assert real.put(f"/v1/workers/{wid}", json=body, headers=A).status_code == 200
    after = real.post("/v1/recommendations/jobs", json=ask, headers=C)
    assert after.status_code == 200, after.text
    assert after.json()["age_band"] == ("50+" if older else "under 30")
