"""The served log kept to its last N days: ``served_log.prune``, ``recommender prune-served``
and the service's hourly run (``RECOMMENDER_SERVED_LOG_DAYS``)."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from apitest_support import fake_loader
from api.main import create_app
from recommender import served_log
from recommender.cli import main as cli
from recommender.settings import Settings
from recommender.store import Store

NOW = dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _log(store: Store, days_ago: list[int]) -> None:
    for n, ago in enumerate(days_ago):
        lists = [{"worker_id": f"W{n}", "item_type": "job", "model_version": "v1", "scope": "all",
                  "items": [{"item_id": "J1", "rank": 1, "score": 0.5}, {"item_id": "J2", "rank": 2, "score": 0.4}]}]
        served_log.log_served(store, lists, worker_source="store", served_at=NOW - dt.timedelta(days=ago, hours=1))


def _ages(store: Store) -> list[int]:
    frame = served_log.read_served(store)
    return sorted({(NOW - t).days for t in frame["served_at"]})


def test_prune_deletes_old_rows_in_batches_and_keeps_the_rest(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    assert served_log.prune(store, NOW) == 0  # nothing logged yet
    _log(store, [400, 200, 95, 10, 0])
    n = served_log.prune(store, NOW - dt.timedelta(days=90), batch=3)  # 6 rows, batches of 3: looped
    assert n == 6 and _ages(store) == [0, 10]


def test_the_cli_prunes_to_the_days_given(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    store = Store(url)
    _log(store, [40, 5])
    assert cli(["prune-served", "--db", url, "--days", "30"]) == 0
    assert "2 rows served before" in capsys.readouterr().out and _ages(store) == [5]
    monkeypatch.setattr("recommender.settings.get_settings", lambda: Settings(db=url, served_log_days=None))
    assert cli(["prune-served", "--db", url]) == 2  # no days anywhere: refused, nothing deleted
    assert "--days" in capsys.readouterr().err and _ages(store) == [5]


def test_the_service_keeps_the_days_set(world: Settings) -> None:
    store = Store(world.db)
    _log(store, [100, 50, 1])
    app = create_app(world.model_copy(update={"served_log_days": 60}), loader=fake_loader)
    with TestClient(app) as c:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _ages(store) != [1, 50]:
            time.sleep(0.1)
        assert _ages(store) == [1, 50]
        assert c.get("/healthz").status_code == 200
    with TestClient(create_app(world, loader=fake_loader)):  # unset: nothing deleted
        time.sleep(0.3)
    assert _ages(store) == [1, 50]


def test_status_shows_the_served_log(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    store = Store(url)
    monkeypatch.setattr("recommender.settings.get_settings", lambda: Settings(db=url, served_log_days=90))
    assert cli(["status", "--db", url]) == 0
    assert "served log" in capsys.readouterr().out  # no log yet: 0 rows
    _log(store, [3, 1])
    assert cli(["status", "--db", url]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "served log" in x)
    first, last = (NOW - dt.timedelta(days=3, hours=1)).date(), (NOW - dt.timedelta(days=1, hours=1)).date()
    assert " 4 " in line and f"served {first} to {last}" in line and "kept 90 days" in line
