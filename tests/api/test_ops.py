"""Health, readiness, Prometheus metrics, the OpenAPI document, the error shape."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from apitest_support import headers
from api.main import create_app


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json() == {"status": "ready", "store": "ok", "model_version": "v1"}


def test_metrics_exposition(client: TestClient) -> None:
    client.get("/v1/workers/W1", headers=headers("counsellor"))
    client.get("/v1/workers/W2", headers=headers("counsellor"))
    client.get("/v1/workers/W1")
    client.get("/no/such/path")
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert 'recommender_http_requests_total{method="GET",route="/v1/workers/{worker_id}",status="200"} 2' in text
    assert 'recommender_http_requests_total{method="GET",route="/v1/workers/{worker_id}",status="401"} 1' in text
    assert 'route="unmatched",status="404"' in text
    assert 'recommender_http_request_duration_seconds_bucket{method="GET",route="/v1/workers/{worker_id}",le="+Inf"} 3' in text
    assert 'recommender_http_request_duration_seconds_count{method="GET",route="/v1/workers/{worker_id}"} 3' in text
    assert 'recommender_model_info{version="v1"} 1' in text and "recommender_model_loaded 1" in text
    # every sample line is "name{labels} value" or "name value"
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            float(value)
            assert name.startswith("recommender_")


def test_openapi_documents_every_route(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in ("/v1/workers/{worker_id}", "/v1/recommendations/jobs", "/v1/recommendations/batch", "/v1/imports",
                 "/v1/outcomes", "/v1/models/{version}/promote", "/v1/models/rollback", "/healthz", "/readyz", "/metrics"):
        assert path in paths
    assert "multipart/form-data" in paths["/v1/imports"]["post"]["requestBody"]["content"]
    assert {"APIKeyHeader", "HTTPBearer"} <= set(schema["components"]["securitySchemes"])
    assert "ErrorBody" in schema["components"]["schemas"]
    assert client.get("/docs").status_code == 200


def test_unknown_route_and_method_use_the_error_shape(client: TestClient) -> None:
    r = client.get("/v2/nothing")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = client.delete("/v1/workers/W1", headers=headers("admin"))
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"
    r = client.post("/v1/recommendations/jobs", content=b"{not json", headers={**headers("portal"), "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["code"] == "validation_error"


def test_store_down_is_503_store_unavailable(client: TestClient, tmp_path: Any) -> None:
    import sqlalchemy as sa

    from recommender.store import Store

    down = Store.__new__(Store)  # a store whose database cannot be opened
    down.url = "sqlite:///unreachable"
    down.engine = sa.create_engine(f"sqlite:///file:{tmp_path}/nowhere/x.db?mode=ro&uri=true")
    client.app.state.store = down
    r = client.get("/v1/workers/W1", headers=headers("admin"))
    assert r.status_code == 503 and r.json()["code"] == "store_unavailable" and r.headers["Retry-After"]
    r = client.post("/v1/outcomes", json=[{"worker_id": "W1", "item_type": "job", "item_id": "J1", "outcome": "hired", "date": "2024-01-01"}], headers=headers("admin"))
    assert r.status_code == 503 and r.json()["code"] == "store_unavailable"
    r = client.get("/readyz")
    assert r.status_code == 503 and r.json()["errors"][0]["loc"] == ["store"]
    # recommendations still answer from memory; the served-log failure is counted, not fatal
    r = client.post("/v1/recommendations/jobs", json={"profile": {"birth_year": 1980, "home_region": "510112"}}, headers=headers("portal"))
    assert r.status_code in (200, 503)


def test_create_app_needs_no_arguments(monkeypatch: Any, tmp_path: Any) -> None:
    from recommender.settings import get_settings

    monkeypatch.setenv("RECOMMENDER_DB", f"sqlite:///{tmp_path}/env.db")
    monkeypatch.setenv("RECOMMENDER_MODELS", str(tmp_path / "models"))
    monkeypatch.delenv("RECOMMENDER_API_KEYS", raising=False)
    get_settings.cache_clear()
    try:
        app = create_app()
        with TestClient(app) as c:
            assert c.get("/healthz").status_code == 200
            assert c.get("/readyz").status_code == 503  # no model in a fresh registry
            assert c.get("/v1/workers", headers={"X-API-Key": "dev-counsellor-key"}).json()["count"] == 0
    finally:
        get_settings.cache_clear()


def test_metrics_add_up_the_processes_of_one_service(tmp_path: Any) -> None:
    """With several processes each publishes its counters; a scrape of any one reports the sum
    (counters of a process that has gone stay counted); unreadable files are skipped."""
    from api.metrics import Metrics, MetricsShare

    a, b = Metrics(), Metrics()
    for m, n in ((a, 2), (b, 3)):
        for _ in range(n):
            m.observe("GET", "/v1/workers/{worker_id}", 200, 0.02)
        m.count_served("job", n)
        m.inc("ranking_passes")
        m.inc("ranked_queries", n)
    share_a = MetricsShare(tmp_path, a)
    MetricsShare(tmp_path, b).publish()
    (tmp_path / "4242.json").write_text('{"requests": [["GET", "/healthz", "200", 7]]}')  # a process that has gone
    (tmp_path / "4243.json").write_text("{not json")  # half written by another writer: skipped
    share_b_path = next(f for f in tmp_path.glob("*.json") if f.stem not in ("4242", "4243"))
    share_b_path.rename(tmp_path / "4244.json")  # b's file, under another pid than this test's own
    text = a.render(model_version="v1", peers=share_a.peers())
    assert 'recommender_http_requests_total{method="GET",route="/v1/workers/{worker_id}",status="200"} 5' in text
    assert 'recommender_http_request_duration_seconds_count{method="GET",route="/v1/workers/{worker_id}"} 5' in text
    assert 'recommender_http_request_duration_seconds_bucket{method="GET",route="/v1/workers/{worker_id}",le="0.025"} 5' in text
    assert 'recommender_http_requests_total{method="GET",route="/healthz",status="200"} 7' in text
    assert 'recommender_recommendations_served_total{item_type="job"} 5' in text
    assert "recommender_ranking_passes_total 2" in text and "recommender_ranked_queries_total 5" in text
    assert a.render(model_version="v1").count('status="200"} 2') == 1  # alone: this process's counts only


def test_metrics_share_through_the_app(world: Any, tmp_path: Any) -> None:
    """An app given a metrics folder publishes its counters there and reads the others'."""
    import json

    settings = world.model_copy(update={"metrics_dir": tmp_path / "m"})
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "1.json").write_text(json.dumps({"requests": [["GET", "/healthz", "200", 40]]}))
    with TestClient(create_app(settings)) as c:
        c.get("/healthz")
        text = c.get("/metrics").text
        assert 'recommender_http_requests_total{method="GET",route="/healthz",status="200"} 41' in text
    mine = [f for f in (tmp_path / "m").glob("*.json") if f.name != "1.json"]
    assert len(mine) == 1 and json.loads(mine[0].read_text())["requests"]  # published, last at shutdown
