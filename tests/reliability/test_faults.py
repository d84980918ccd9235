"""Faults: broken models, a store that is locked or gone, SIGKILL mid-import, concurrent imports, promotions under load."""

from __future__ import annotations

import csv
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from apitest_support import FILES, fake_loader, headers, make_settings, save_bundle, write_world
from api.main import create_app
from recommender.ingest import ingest
from recommender.registry import BUNDLE, Registry
from recommender.store import Store

ROOT = Path(__file__).resolve().parents[2]
PROFILE = {"birth_year": 1975, "home_region": "510112", "skills": ["电焊"]}


def _wait(predicate, timeout: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


# ---- models -------------------------------------------------------------------------------------


def _corrupt(registry: Registry, version: str, how: str) -> None:
    bundle = registry.get(version).path / BUNDLE
    if how == "missing":
        bundle.unlink()
    elif how == "truncated":
        bundle.write_bytes(bundle.read_bytes()[:200])
    else:
        bundle.write_bytes(os.urandom(4096))


@pytest.mark.parametrize("how", ["garbage", "truncated", "missing"])
def test_a_broken_promoted_model_while_serving_keeps_the_last_good_one(real_settings, how: str) -> None:
    registry = Registry(real_settings.models)
    good = registry.promoted()
    bundle, manifest = registry.load(good)
    broken = registry.save(bundle, {"metrics": manifest.get("metrics", {})}).version
    _corrupt(registry, broken, how)
    settings = real_settings.model_copy(update={"model_poll_seconds": 0.05})
    with TestClient(create_app(settings)) as c:
        assert c.get("/readyz").json()["model_version"] == good
        r = c.post(f"/v1/models/{broken}/promote", headers=headers("admin"))
        assert r.status_code in (200, 404), r.text
        if r.status_code == 200:
            assert r.json()["serving"] == good and r.json()["load_error"]
        r = c.post("/v1/recommendations/jobs", json={"profile": PROFILE}, headers=headers("portal"))
        assert r.status_code == 200 and r.headers.get("X-Model-Version", good) == good
        assert c.get("/readyz").status_code == 200
    registry.promote(good, reason="test cleanup")


@pytest.mark.parametrize("how", ["garbage", "missing"])
def test_a_broken_model_at_start_up_is_named_by_readyz_and_the_service_recovers(tmp_path: Path, how: str) -> None:
    settings = make_settings(tmp_path)
    Store(settings.db).dispose()
    save_bundle(settings, "v1", promote=True)
    _corrupt(Registry(settings.models), "v1", how)
    with TestClient(create_app(settings, loader=fake_loader)) as c:
        r = c.get("/readyz")
        assert r.status_code == 503 and r.json()["code"] == "not_ready"
        assert "v1" in r.json()["detail"] and r.json()["errors"][0]["loc"] == ["model"]
        r = c.post("/v1/recommendations/jobs", json={"profile": PROFILE}, headers=headers("portal"))
        assert r.status_code == 503 and r.json()["code"] == "model_unavailable"
        assert c.get("/healthz").status_code == 200  # alive, just not ready
        save_bundle(settings, "v2", promote=True)
        assert _wait(lambda: c.get("/readyz").status_code == 200)
        assert c.get("/readyz").json()["model_version"] == "v2"


def test_a_broken_model_at_start_up_falls_back_to_the_last_good_version(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    Store(settings.db).dispose()
    save_bundle(settings, "v1", promote=True)
    save_bundle(settings, "v2", promote=True)
    _corrupt(Registry(settings.models), "v2", "garbage")
    with TestClient(create_app(settings, loader=fake_loader)) as c:
        r = c.get("/readyz")
        assert r.status_code == 200 and r.json()["model_version"] == "v1"


# ---- the store ----------------------------------------------------------------------------------


@pytest.fixture
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """The store waits 30 s for a lock; a test waits 0.3 s, with the same pragmas otherwise."""
    import recommender.store as store_module

    def pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=300")
        cur.close()

    monkeypatch.setattr(store_module, "_sqlite_pragmas", pragmas)


def test_a_locked_store_answers_503_with_a_clear_code_and_recovers(world, short_busy_timeout: None) -> None:
    A = headers("admin")
    with TestClient(create_app(world, loader=fake_loader)) as c:
        before = c.get("/v1/summary", headers=A).json()
        holder = sqlite3.connect(world.db.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # another process holding the write lock
        try:
            r = c.put("/v1/workers/W9", json={"birth_year": 1980, "home_region": "510112"}, headers=A)
            assert r.status_code == 503 and r.json()["code"] == "store_unavailable" and r.headers["Retry-After"]
            r = c.post("/v1/imports", files=[("files", ("workers.csv", FILES["workers"].replace("W3", "W4").encode(), "text/csv"))], headers=A)
            assert r.status_code == 503 and r.json()["code"] == "store_unavailable"
            assert c.get("/v1/workers/W1", headers=A).status_code == 200  # WAL: reads go on
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert c.get("/v1/summary", headers=A).json() == before  # nothing half-written
        r = c.put("/v1/workers/W9", json={"birth_year": 1980, "home_region": "510112"}, headers=A)
        assert r.status_code == 201


def test_a_store_in_a_missing_or_impossible_folder_is_reported_and_recovers(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the store's folder should be")
    settings = make_settings(tmp_path, db=f"sqlite:///{blocker / 'store.db'}")
    save_bundle(settings, "v1", promote=True)
    with TestClient(create_app(settings, loader=fake_loader)) as c:  # starts anyway
        r = c.get("/readyz")
        assert r.status_code == 503 and r.json()["errors"][0]["loc"] == ["store"], r.text
        r = c.get("/v1/workers", headers=headers("admin"))
        assert r.status_code == 503 and r.json()["code"] == "store_unavailable"
        blocker.unlink()
        blocker.mkdir()  # the volume comes back
        assert _wait(lambda: c.get("/readyz").status_code == 200)
        assert c.get("/v1/workers", headers=headers("admin")).status_code == 200


# ---- imports ------------------------------------------------------------------------------------


def _big_world(folder: Path, n_workers: int, n_jobs: int) -> dict[str, int]:
    folder.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(0)
    with open(folder / "employers.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["employer_id", "name", "industry", "wage_arrears_listed"])
        w.writerows([f"E{i}", f"某公司{i}", "制造业", "0"] for i in range(200))
    with open(folder / "workers.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["worker_id", "birth_year", "home_region", "skills", "expected_wage"])
        w.writerows([f"W{i}", rnd.randint(1960, 2004), rnd.choice(["510112", "440305", "411625"]), "电焊;开叉车", 5000] for i in range(n_workers))
    with open(folder / "jobs.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["job_id", "employer_id", "title", "region", "posted_on"])
        w.writerows([f"J{i}", f"E{i % 200}", "电焊工", "440305", "2024-03-01"] for i in range(n_jobs))
    with open(folder / "placements.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["worker_id", "job_id", "outcome", "date"])
        w.writerows([f"W{i}", f"J{i % n_jobs}", "hired", "2024-03-20"] for i in range(n_workers))
    return {"employers": 200, "workers": n_workers, "jobs": n_jobs, "placements": n_workers}


@pytest.mark.slow
def test_sigkill_during_an_import_loses_no_committed_row_and_shows_no_half_file(tmp_path: Path) -> None:
    expected = _big_world(tmp_path / "big", n_workers=300_000, n_jobs=50_000)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    Store(url).dispose()
    env = {**os.environ, "RECOMMENDER_DB": url}
    order = ["employers", "workers", "jobs", "placements"]
    seen_states = set()
    for delay in (1.0, 3.0, 5.0, 8.0):
        proc = subprocess.Popen([sys.executable, "-m", "recommender", "ingest", str(tmp_path / "big")], env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        store = Store(url)
        counts = store.counts()
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        store.dispose()
        done = [counts[name] == expected[name] for name in order]
        for name in order:  # each table is as before (empty) or fully imported, never half
            assert counts[name] in (0, expected[name]), (delay, counts)
        assert done == sorted(done, reverse=True), counts  # files complete in import order
        seen_states.add(sum(done))
        with sqlite3.connect(url.removeprefix("sqlite:///")) as raw:  # and the store is not left locked
            raw.execute("BEGIN IMMEDIATE")
            raw.execute("ROLLBACK")
    report = ingest(tmp_path / "big", Store(url))  # an interrupted import is finished by running it again
    assert report.rejected == 0
    assert {k: v for k, v in Store(url).counts().items() if k in expected} == expected
    assert len(seen_states) >= 1


def test_two_imports_at_once_both_complete_with_consistent_counts(tmp_path: Path) -> None:
    world = write_world(tmp_path / "world")
    url = f"sqlite:///{tmp_path / 'store.db'}"
    Store(url).dispose()
    with ThreadPoolExecutor(3) as pool:
        reports = list(pool.map(lambda _: ingest(world, Store(url)), range(3)))
    assert all(r.rejected == 0 for r in reports)
    counts = Store(url).counts()
    assert counts["workers"] == 3 and counts["jobs"] == 3 and counts["placements"] == 2
    assert sum(f.inserted for r in reports for f in r.files if f.kind == "workers") == 3  # each row inserted once


def test_two_uploads_at_once_through_the_api(world) -> None:
    A = headers("admin")
    with TestClient(create_app(world, loader=fake_loader)) as c:
        body = "worker_id,birth_year,home_region\n" + "".join(f"N{i},1980,510112\n" for i in range(2000))

        def upload(_: int) -> int:
            return c.post("/v1/imports", files=[("files", ("workers.csv", body.encode(), "text/csv"))], headers=A).status_code

        with ThreadPoolExecutor(4) as pool:
            assert list(pool.map(upload, range(4))) == [200] * 4
        assert c.get("/v1/summary", headers=A).json()["workers"] == 3 + 2000


def test_a_failed_write_rolls_the_whole_file_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An error that aborts a file mid-write leaves none of it (earlier files stay)."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store(url)
    world = write_world(tmp_path / "world")
    real_insert = Store._insert

    def failing_insert(self, conn, spec, frame, hashes, now):  # type: ignore[no-untyped-def]
        real_insert(self, conn, spec, frame, hashes, now)  # the rows are written ...
        if spec.name == "jobs":
            raise OSError("disk full")  # ... then the file fails

    monkeypatch.setattr(Store, "_insert", failing_insert)
    with pytest.raises(OSError):
        ingest(world, store)
    counts = store.counts()
    assert counts["employers"] == 2 and counts["workers"] == 3 and counts["jobs"] == 0 and counts["placements"] == 0


# ---- promotions under load -------------------------------------------------------------------------


@pytest.mark.slow
def test_promotions_during_traffic_fail_no_request(real_settings) -> None:
    registry = Registry(real_settings.models)
    first = registry.promoted()
    bundle, manifest = registry.load(first)
    second = registry.save(bundle, {"metrics": manifest.get("metrics", {})}).version
    settings = real_settings.model_copy(update={"model_poll_seconds": 0.1})
    statuses: list[int] = []
    versions: set[str] = set()
    stop = threading.Event()
    with TestClient(create_app(settings)) as c:
        ids = [w["worker_id"] for w in c.get("/v1/workers", params={"limit": 50}, headers=headers("counsellor")).json()["data"]]

        def traffic(seed: int) -> None:
            rnd = random.Random(seed)
            while not stop.is_set():
                if rnd.random() < 0.5:
                    r = c.post("/v1/recommendations/jobs", json={"profile": PROFILE}, headers=headers("portal"))
                else:
                    r = c.post("/v1/recommendations/jobs", json={"worker_id": rnd.choice(ids)}, headers=headers("counsellor"))
                statuses.append(r.status_code)
                versions.add(r.headers.get("X-Model-Version", ""))

        threads = [threading.Thread(target=traffic, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        try:
            for target in (second, first, second):
                time.sleep(1.0)
                r = c.post(f"/v1/models/{target}/promote", headers=headers("admin"))
                assert r.status_code == 200 and r.json()["serving"] == target, r.text
            registry.promote(first, reason="outside the API")  # the CLI's way: picked up by the watcher
            assert _wait(lambda: c.get("/readyz").json().get("model_version") == first)
            time.sleep(0.5)
        finally:
            stop.set()
            for t in threads:
                t.join()
    assert statuses and set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}
    assert {first, second} <= versions
