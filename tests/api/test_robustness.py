"""Property: whatever JSON arrives, the recommendation and outcome routes never answer 500.

The client re-raises any unhandled exception, so a crash fails the test even
before the status is looked at.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings, strategies as st

from apitest_support import fake_loader, headers, make_settings, save_bundle, write_world
from api.main import create_app
from recommender.ingest import ingest
from recommender.store import Store

ALLOWED = {200, 403, 404, 413, 422}


def post(client: TestClient, path: str, body: Any, role: str, method: str = "POST") -> Any:
    """Send the body as Python's json writes it (NaN and Infinity included: clients do send them)."""
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return client.request(method, path, content=data, headers={**headers(role), "Content-Type": "application/json"})

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**20), max_value=10**20), st.floats(allow_nan=False), st.text(max_size=30),
    st.sampled_from(["W1", "W2", "J1", "C1", "510112", "广东省深圳市", "2024-05-01", "2024-02-30", "hired", "enrolled",
                     "job", "course", "all", "balanced", "flag", "1", "", " ", "110101199003071234", "电焊;叉车"]),
)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)

profiles = st.fixed_dictionaries(
    {},
    optional={
        "birth_year": st.one_of(st.integers(1900, 2100), json_values),
        "home_region": st.one_of(st.sampled_from(["510112", "440305", "Shenzhen", "Atlantis"]), json_values),
        "current_region": json_values,
        "skills": json_values,
        "certificates": json_values,
        "education": st.one_of(st.sampled_from(["primary", "college", "phd"]), json_values),
        "mobility": json_values,
        "expected_wage": json_values,
        "experience_years": json_values,
        "worker_id": json_values,
        "gender": json_values,
    },
)
recommendation_bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "worker_id": st.one_of(st.sampled_from(["W1", "W404", ""]), json_values),
            "profile": st.one_of(profiles, json_values),
            "k": st.one_of(st.integers(-5, 200), json_values),
            "scope": st.one_of(st.sampled_from(["local", "province", "outbound", "all", "balanced", "mars"]), json_values),
            "as_of": st.one_of(st.sampled_from(["2024-05-01", "2024-13-01"]), json_values),
            "age_policy": st.one_of(st.sampled_from(["strict", "flag"]), json_values),
            "workers": st.one_of(st.lists(st.one_of(st.sampled_from(["W1", "W3", "W404"]), profiles), max_size=4), json_values),
            "item_type": st.one_of(st.sampled_from(["job", "course"]), json_values),
        },
    ),
)
outcome_items = st.fixed_dictionaries(
    {},
    optional={
        "worker_id": st.one_of(st.sampled_from(["W1", "W2", "W404", "110101199003071234"]), json_values),
        "item_type": st.one_of(st.sampled_from(["job", "course", "Job", "house"]), json_values),
        "item_id": st.one_of(st.sampled_from(["J1", "J2", "C1", "J404"]), json_values),
        "outcome": st.one_of(st.sampled_from(["referred", "applied", "hired", "retained", "enrolled", "Certified"]), json_values),
        "date": st.one_of(st.sampled_from(["2024-05-01", "2024-02-30", "1066-01-01", "2024-05-01T10:00:00"]), json_values),
    },
)
outcome_bodies = st.one_of(json_values, st.lists(outcome_items, min_size=0, max_size=5))


@pytest.fixture(scope="module")
def robust_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp = tmp_path_factory.mktemp("robust")
    s = make_settings(tmp)
    ingest(write_world(tmp / "world"), Store(s.db))
    save_bundle(s, "v1", promote=True)
    with TestClient(create_app(s, loader=fake_loader)) as client:
        yield client


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@FAST
@given(path=st.sampled_from(["/v1/recommendations/jobs", "/v1/recommendations/courses", "/v1/recommendations/batch"]),
       body=recommendation_bodies, role=st.sampled_from(["counsellor", "portal"]))
def test_recommendation_routes_never_fail_on_bad_input(robust_client: TestClient, path: str, body: Any, role: str) -> None:
    r = post(robust_client, path, body, role)
    assert r.status_code in ALLOWED, r.text
    if r.status_code != 200:
        err = r.json()
        assert set(err) == {"code", "detail", "errors"} and isinstance(err["code"], str)


@FAST
@given(body=outcome_bodies)
def test_outcome_route_never_fails_on_bad_input(robust_client: TestClient, body: Any) -> None:
    r = post(robust_client, "/v1/outcomes", body, "counsellor")
    assert r.status_code in ALLOWED, r.text
    if r.status_code != 200:
        assert set(r.json()) == {"code", "detail", "errors"}


@FAST
@given(body=st.dictionaries(st.sampled_from(["birth_year", "home_region", "skills", "mobility", "education", "worker_id", "registered_on"]), json_values))
def test_record_put_never_fails_on_bad_input(robust_client: TestClient, body: Any) -> None:
    r = post(robust_client, "/v1/workers/W-prop", body, "admin", method="PUT")
    assert r.status_code in ALLOWED | {201}, r.text
