"""The model lifecycle: retrain on new outcomes, the gate, rollback, the lock, crashes, the report.

The slow tests replay history on the sample world: the store first holds the
outcomes before the held-out window and model v1 is trained on them; then the
later outcomes are imported ("new placements") and retrained on.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from recommender.cli import main
from recommender.lifecycle import GateConfig, RetrainBusy, RetrainLock, apply_gate
from recommender.lifecycle.retrain import EXIT_BUSY, EXIT_REFUSED, count_new_outcomes, remove_stale_incoming
from recommender.registry import Registry
from recommender.settings import Settings
from recommender.store import Store

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data_samples"
ADMIN = "admin-key-0123456789abcdef"
SMALL = ["--negatives", "4", "--max-queries", "150", "--policy-weights", "0,1", "--no-courses"]
SMALL_BODY = {"negatives": 4, "max_queries": 150, "policy_weights": [0.0, 1.0], "courses": False}
AS_OF = "2025-06-30"


# ---------------------------------------------------------------- fast: the gate and the lock


def _table(rows: dict[tuple[str, str], float], workers: int = 100) -> pd.DataFrame:
    return pd.DataFrame([{"segment": s, "method": m, "workers": workers, "ndcg@10": v} for (s, m), v in rows.items()])


def _both(new: dict[str, float], old: dict[str, float], workers: int = 100) -> pd.DataFrame:
    rows = {(s, "learned"): v for s, v in new.items()} | {(s, "previous"): v for s, v in old.items()}
    return _table(rows, workers)


def test_gate_passes_within_tolerance_and_refuses_beyond() -> None:
    old = {"all": 0.50, "age 50+": 0.45, "cold start": 0.40}
    ok = apply_gate(_both({"all": 0.495, "age 50+": 0.445, "cold start": 0.41}, old), GateConfig(), compared_with="v1")
    assert ok.passed and "not worse than v1" in ok.reason
    bad = apply_gate(_both({"all": 0.50, "age 50+": 0.42, "cold start": 0.40}, old), GateConfig(), compared_with="v1")
    assert not bad.passed and "age 50+" in bad.reason and "all" not in bad.reason.split(":", 1)[1]
    # 0.008 absolute is within 0.01 but 2% of 0.30 is 0.006: refused on the relative rule
    rel = apply_gate(_both({"all": 0.292, "age 50+": 0.45, "cold start": 0.40}, {**old, "all": 0.30}), GateConfig(), compared_with="v1")
    assert not rel.passed and "-2.7%" in rel.reason
    loose = apply_gate(_both({"all": 0.292, "age 50+": 0.45, "cold start": 0.40}, {**old, "all": 0.30}),
                       GateConfig(max_rel_drop=0.05), compared_with="v1")
    assert loose.passed


def test_gate_first_model_and_small_segments() -> None:
    assert apply_gate(pd.DataFrame(), GateConfig(), compared_with=None).passed
    tiny = apply_gate(_both({"all": 0.1, "age 50+": 0.1, "cold start": 0.1}, {"all": 0.5, "age 50+": 0.5, "cold start": 0.5}, workers=3),
                      GateConfig(), compared_with="v1")
    assert tiny.passed and all("not gated" in c["note"] for c in tiny.checks)


def test_second_lock_is_refused_and_released(tmp_path: Path) -> None:
    with RetrainLock(tmp_path):
        with pytest.raises(RetrainBusy, match="another retrain is running"):
            RetrainLock(tmp_path).acquire()
    with RetrainLock(tmp_path) as again:
        assert again.held


def test_cli_exits_busy_while_another_retrain_holds_the_lock(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    models = tmp_path / "models"
    with RetrainLock(models):
        code = main(["retrain", "--db", f"sqlite:///{tmp_path / 's.db'}", "--models", str(models)])
    assert code == EXIT_BUSY == 75
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["status"] == "busy" and "another retrain is running" in out["message"]


def test_lock_of_a_killed_holder_is_free(tmp_path: Path) -> None:
    code = f"from recommender.lifecycle import RetrainLock; RetrainLock({str(tmp_path)!r}).acquire(); print('held', flush=True); import time; time.sleep(60)"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        with pytest.raises(RetrainBusy, match=f"pid {proc.pid}"):
            RetrainLock(tmp_path).acquire()
    finally:
        proc.kill()
        proc.wait()
    with RetrainLock(tmp_path) as lock:
        assert lock.held


def test_extra_files_are_saved_with_the_version_and_incoming_folders_are_invisible(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    mv = reg.save({"w": 1}, {}, files={"report.html": "<html>ok</html>"})
    assert (mv.path / "report.html").read_text() == "<html>ok</html>"
    half = tmp_path / ".incoming-deadbeef"
    shutil.copytree(mv.path, half)
    assert [v.version for v in reg.versions()] == [mv.version]
    assert remove_stale_incoming(reg, older_than=0) == [half.name] and not half.exists()


def test_count_new_outcomes(sample_store: Store) -> None:
    everything = count_new_outcomes(sample_store, None)
    assert everything["placements"] == sample_store.count("placements") > 0
    assert count_new_outcomes(sample_store, pd.Timestamp("2100-01-01").to_pydatetime()) == {"placements": 0, "enrolments": 0}


# ---------------------------------------------------------------- slow: replaying history on the sample world


def _copy_db(src: Path, dst: Path) -> str:
    a, b = sqlite3.connect(src), sqlite3.connect(dst)
    with b:
        a.backup(b)
    a.close()
    b.close()
    return f"sqlite:///{dst}"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """History before the held-out window imported, model v1 trained on it and promoted; the new outcomes on disk."""
    from recommender.ingest import ingest
    from recommender.lifecycle.demo import heldout_start, split_outcomes
    from recommender.snapshot import Snapshot
    from recommender.training.pipeline import TrainConfig, train_and_register

    tmp = tmp_path_factory.mktemp("lifecycle")
    history, new = split_outcomes(SAMPLES, tmp / "files", before=heldout_start(SAMPLES))
    store = Store(f"sqlite:///{tmp / 'base.db'}")
    assert ingest(history, store).rejected == 0
    reg = Registry(tmp / "models")
    mv, _ = train_and_register(Snapshot.from_store(store), reg, TrainConfig(negatives=4), evaluate=False)
    store.dispose()
    return {"tmp": tmp, "db": tmp / "base.db", "models": tmp / "models", "new": new, "v1": mv.version}


@pytest.fixture(scope="module")
def world(base: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A writable copy of the base, with the new outcomes imported; state shared by the tests below."""
    from recommender.ingest import ingest

    tmp = tmp_path_factory.mktemp("world")
    db = _copy_db(base["db"], tmp / "store.db")
    shutil.copytree(base["models"], tmp / "models")
    settings = Settings(db=db, models=tmp / "models", api_keys={"admin": [ADMIN]}, environment="development",
                        rate_limit_per_minute=0, model_poll_seconds=0.1)
    store = Store(db)
    report = ingest(base["new"], store)
    assert report.rejected == 0
    state = {"settings": settings, "store": store, "registry": Registry(tmp / "models"), "v1": base["v1"],
             "v1_scores": _scores(settings, store)}
    yield state
    store.dispose()


def _scores(settings: Settings, store: Store, version: str | None = None) -> list[tuple[str, float]]:
    from recommender.service import Recommender

    rec = Recommender.load(settings, store=store, version=version)
    out = []
    for wid in ("W0000002", "W0000010", "W0000100"):
        r = rec.recommend_jobs(wid, k=10, scope="all", as_of=AS_OF)
        out += [(i.item_id, round(i.score, 12)) for i in r.items]
    return out


@pytest.mark.slow
def test_no_new_outcomes_means_no_training(base: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = _copy_db(base["db"], tmp_path / "store.db")
    shutil.copytree(base["models"], tmp_path / "models")
    code = main(["retrain", "--db", db, "--models", str(tmp_path / "models"), "--json"])
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0 and out["status"] == "skipped" and "no new outcomes" in out["message"]
    assert [v.version for v in Registry(tmp_path / "models").versions()] == [base["v1"]]


def _api_retrain(state: dict[str, Any]) -> str:
    """Retrain through the running API; returns the new version once the service serves it."""
    from fastapi.testclient import TestClient

    from api.main import create_app

    settings = state["settings"]
    h = {"X-API-Key": ADMIN}
    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").json()["model_version"] == state["v1"]
        r = client.post("/v1/models/retrain", json=SMALL_BODY, headers=h)
        assert r.status_code == 202, r.text
        job = r.json()["job_id"]
        busy = client.post("/v1/models/retrain", json=SMALL_BODY, headers=h)
        assert busy.status_code == 409 and busy.json()["code"] == "retrain_running"
        seen_progress = set()
        deadline = time.monotonic() + 1800
        while True:
            assert client.get("/readyz").status_code == 200  # still serving during the retrain
            body = client.get(f"/v1/models/retrain/{job}", headers=h).json()
            seen_progress.add(body["progress"])
            if body["status"] != "running":
                break
            assert time.monotonic() < deadline
            time.sleep(0.5)
        assert body["status"] == "succeeded", body
        result = body["result"]
        assert result["status"] == "promoted" and result["compared_with"] == state["v1"], result
        assert len(seen_progress) > 1
        version = result["version"]
        deadline = time.monotonic() + 120
        while client.get("/readyz").json()["model_version"] != version:  # the hot swap, no restart
            assert time.monotonic() < deadline
            time.sleep(0.2)
        rec = client.post("/v1/recommendations/jobs", json={"worker_id": "W0000002", "k": 5, "scope": "all"}, headers=h)
        assert rec.status_code == 200 and rec.json()["model_version"] == version
        assert client.get(f"/v1/models/retrain/{'0' * 16}", headers=h).status_code == 404
    return version


@pytest.mark.slow
def test_new_outcomes_retrain_promote_and_the_running_api_serves_it(world: dict[str, Any]) -> None:
    version = _api_retrain(world)
    world["v2"] = version
    m = world["registry"].get(version).manifest
    assert m["compared_with"] == world["v1"] and m["gate"]["passed"] and m["promoted"]
    assert m["new_outcomes"]["placements"] > 1000
    assert "served bundle" in m["gate"]["comparison"]  # v1 never saw the held-out window
    assert {c["segment"] for c in m["gate"]["checks"]} == {"all", "age 50+", "cold start"}
    methods = {r["method"] for r in m["metrics"]["jobs"]}
    assert {"learned", "previous", "popularity", "random"} <= methods
    assert (world["registry"].get(version).path / "report.html").exists()


@pytest.mark.slow
def test_bad_candidate_is_refused_and_rollback_restores_the_previous_scores(
    world: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    reg: Registry = world["registry"]
    settings: Settings = world["settings"]
    if "v2" not in world:  # run alone: make the good retrain first
        world["v2"] = _api_retrain(world)
    capsys.readouterr()
    v2 = world["v2"]
    args = ["--db", settings.db, "--models", str(settings.models)]
    code = main(["retrain", *args, *SMALL, "--force", "--shuffle-labels"])
    out = capsys.readouterr()
    result = json.loads(out.out.strip().splitlines()[-1])
    assert code == EXIT_REFUSED == 3, result
    assert result["status"] == "refused" and "worse than" in result["message"] and "ndcg@10" in result["message"]
    bad = reg.get(result["version"]).manifest
    assert bad["gate"]["passed"] is False and bad["promoted"] is False and bad["gate"]["reason"] in result["message"]
    assert reg.promoted() == v2
    lines = [json.loads(line) for line in out.err.splitlines() if line.startswith("{")]
    assert lines and all(line["event"] == "retrain.progress" for line in lines)
    assert not any("W0" in line["message"] for line in lines)  # no worker ids in the logs
    # the same data again: nothing to do (idempotent from cron)
    assert main(["retrain", *args, *SMALL]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert main(["models", "--models", str(settings.models), "list"]) == 0
    listing = capsys.readouterr().out
    assert "refused" in listing and "passed" in listing and f"* {v2}" in listing
    assert main(["models", "--models", str(settings.models), "show", result["version"]]) == 0
    assert "REFUSED" in capsys.readouterr().out
    assert main(["models", "--models", str(settings.models), "rollback"]) == 0
    assert reg.promoted() == world["v1"]
    assert _scores(settings, world["store"]) == world["v1_scores"]
    assert main(["models", "--models", str(settings.models), "promote", v2]) == 0 and reg.promoted() == v2


@pytest.mark.slow
def test_a_retrain_killed_half_way_leaves_the_registry_as_it_was(base: dict[str, Any], tmp_path: Path) -> None:
    from recommender.ingest import ingest

    db = _copy_db(base["db"], tmp_path / "store.db")
    models = tmp_path / "models"
    shutil.copytree(base["models"], models)
    store = Store(db)
    ingest(base["new"], store)
    store.dispose()
    reg = Registry(models)
    before = ([v.version for v in reg.versions()], reg.promoted(), reg.history())
    cmd = [sys.executable, "-m", "recommender", "retrain", "--db", db, "--models", str(models), *SMALL]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stderr is not None
    steps = []
    for line in proc.stderr:
        if not line.startswith("{"):
            continue
        event = json.loads(line)
        steps.append(event["step"])
        if event["step"] == "evaluate" and "fitting the candidate" in event["message"]:
            time.sleep(1.0)  # inside the fit
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL and "evaluate" in steps
    assert ([v.version for v in reg.versions()], reg.promoted(), reg.history()) == before
    # a kill during the save would leave a complete-looking folder under .incoming-: never a version
    half = models / ".incoming-killed"
    shutil.copytree(reg.get(base["v1"]).path, half)
    assert [v.version for v in reg.versions()] == before[0]
    with RetrainLock(models) as lock:  # the dead process's lock is gone
        assert lock.held


@pytest.mark.slow
@pytest.mark.browser
def test_report_opens_in_headless_chromium_with_its_plots(world: dict[str, Any], tmp_path: Path) -> None:
    if "v2" not in world:
        world["v2"] = _api_retrain(world)
    report = world["registry"].get(world["v2"]).path / "report.html"
    page = report.read_text(encoding="utf-8")
    plots = page.count("src='data:image/png;base64,")
    if plots == 0:
        pytest.skip("matplotlib is not installed: the report has tables only (pip install matplotlib)")
    assert plots == 5 and "Gate PASSED" in page and "http" not in page.split("<body>", 1)[1][:2000]
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if chromium is None:
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    shot = tmp_path / "model-report.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--screenshot={shot}",
                    "--window-size=1280,2000", report.as_uri()], check=True, capture_output=True, timeout=120)
    image = pytest.importorskip("PIL.Image", reason="Pillow (installed with matplotlib) reads the screenshot")
    img = image.open(shot).convert("RGB")
    assert img.size == (1280, 2000)
    colours = img.resize((64, 100)).getcolors(64 * 100) or []
    assert len(colours) > 50  # plots, not a blank or error page
