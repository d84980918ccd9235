"""The store on a real PostgreSQL server: same schema, same import path, same results.

The server URL is ``RECOMMENDER_TEST_PG`` or, by default, the one that
``.ci/setup.d/10-postgres.sh`` creates. Without psycopg or without a reachable
server the tests skip with the reason; under CI (``CI=true``) with psycopg
installed, an unreachable server is a failure, never a skip.

Every test runs in a schema of its own (``search_path``), dropped afterwards.
The cases of ``tests/test_ingest.py`` are collected here a second time with
their ``store`` fixture pointing at PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import uuid
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import pytest

pytestmark = pytest.mark.postgres

DEFAULT_URL = "postgresql+psycopg://recommender:recommender@127.0.0.1:5432/recommender_test"
SAMPLES = Path(__file__).resolve().parent.parent / "data_samples"


def _server_url() -> str:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg 3 is not installed (pip install 'psycopg[binary]')")
    url = os.environ.get("RECOMMENDER_TEST_PG") or DEFAULT_URL
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any connection failure means 'no server'
        reason = f"no PostgreSQL server reachable at {engine.url.render_as_string(hide_password=True)}: {exc.__class__.__name__}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI must run these tests: see .ci/setup.d/10-postgres.sh)")
        pytest.skip(reason + " (run .ci/setup.d/10-postgres.sh or set RECOMMENDER_TEST_PG)")
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def pg_server() -> str:
    return _server_url()


@pytest.fixture()
def pg_url(pg_server: str):
    """A URL whose connections see a fresh, empty schema of their own."""
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_server)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in pg_server else "?"
    yield f"{pg_server}{sep}options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


@pytest.fixture()
def store(pg_url: str):
    """Overrides the SQLite ``store`` fixture of the re-collected ingest cases."""
    from recommender.store import Store

    s = Store(pg_url)
    assert s.dialect == "postgresql"
    yield s
    s.dispose()


# The whole ingest test module, once more, against PostgreSQL (its `store` fixture is the one above).
from test_ingest import *  # noqa: E402,F401,F403


def _sqlite_samples(tmp_path: Path):
    from recommender.ingest import ingest
    from recommender.store import Store

    lite = Store(f"sqlite:///{tmp_path / 'lite.db'}")
    ingest(SAMPLES, lite)
    return lite


def test_sample_world_import_reimport_and_read_round_trip(store, tmp_path):
    from recommender.contract import FILES
    from recommender.ingest import ingest

    first = ingest(SAMPLES, store)
    assert first.rejected == 0, first.format_text()
    assert first.updated == 0 and first.unchanged == 0
    again = ingest(SAMPLES, store)
    assert again.inserted == 0 and again.updated == 0
    assert again.unchanged == first.taken
    lite = _sqlite_samples(tmp_path)
    assert store.counts() == lite.counts()
    for spec in FILES:
        key = list(spec.key)
        pg = store.read_table(spec.name).sort_values(key).reset_index(drop=True)
        sq = lite.read_table(spec.name).sort_values(key).reset_index(drop=True)
        pd.testing.assert_frame_equal(pg, sq, check_dtype=True)
    lite.dispose()


def test_changed_rows_update_through_the_staging_table(store, tmp_path):
    from recommender.ingest import ingest

    ingest(SAMPLES, store)
    workers = pd.read_csv(SAMPLES / "workers.csv", dtype=str, keep_default_na=False)
    changed = workers.iloc[:300].copy()
    changed["expected_wage"] = "7777"
    changed.loc[changed.index[:5], "skills"] = "电焊；叉车"
    path = tmp_path / "workers.csv"
    changed.to_csv(path, index=False)
    report = ingest([path], store)
    f = report.file("workers")
    assert (f.inserted, f.updated, f.rejected) == (0, 300, 0)
    stored = store.read_table("workers").set_index("worker_id")
    assert (stored.loc[changed["worker_id"], "expected_wage"] == 7777).all()
    before = _sqlite_samples(tmp_path).read_table("workers").set_index("worker_id")
    five = changed["worker_id"].iloc[:5]
    assert (stored.loc[five, "skills"] != before.loc[five, "skills"]).all()
    untouched = workers.iloc[300:]
    assert not (stored.loc[untouched["worker_id"], "expected_wage"] == 7777).any()
    # the hash of an updated row is the new content's: the same file again changes nothing
    again = ingest([path], store).file("workers")
    assert (again.updated, again.unchanged) == (0, 300)


def test_one_key_reads_bind_the_value_on_postgres(store):
    """``Store.raw_rows`` (the API's stored-worker read): a statement compiled once per shape with the
    value bound, in PostgreSQL's parameter style; quotes are plain values; a NUL finds nothing."""
    from recommender.ingest import ingest

    ingest([SAMPLES / "workers.csv"], store)
    wid = str(pd.read_csv(SAMPLES / "workers.csv", dtype=str)["worker_id"].iloc[0])
    (row,) = store.raw_rows("workers", wid, columns=("worker_id", "education"))
    assert row[0] == wid
    assert store.raw_rows("workers", "x' OR '1'='1", columns=("worker_id",)) == []
    assert store.raw_rows("enrolments", wid, columns=("course_id", "outcome"), by="worker_id") == []
    assert store.raw_rows("workers", "W1\x00") == []


def test_references_are_checked_against_the_postgres_store(store, tmp_path):
    from recommender.ingest import ingest

    ingest([SAMPLES / "workers.csv", SAMPLES / "employers.csv", SAMPLES / "jobs.csv"], store)
    path = tmp_path / "placements.csv"
    known_worker = pd.read_csv(SAMPLES / "workers.csv", dtype=str)["worker_id"].iloc[0]
    known_job = pd.read_csv(SAMPLES / "jobs.csv", dtype=str)["job_id"].iloc[0]
    path.write_text(
        "worker_id,job_id,outcome,date\n"
        f"{known_worker},{known_job},hired,2024-03-20\n"
        f"NOPE1,{known_job},hired,2024-03-20\n"
        f"{known_worker},NOJOB,referred,2024-03-21\n",
        encoding="utf-8",
    )
    f = ingest([path], store).file("placements")
    assert (f.inserted, f.rejected) == (1, 2)
    assert {e.row for e in f.errors} == {3, 4}
    assert store.count("placements") == 1


def test_import_runs_and_served_log_are_shared_tables(store):
    import sqlalchemy as sa

    from recommender.ingest import ingest
    from recommender.served_log import log_served, read_served
    from recommender.store import Store, import_runs

    ingest([SAMPLES / "workers.csv"], store)
    other = Store(store.url)  # another process or host: sees the same log
    with other.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(import_runs)).scalar_one() == 1
    lists = [{"worker_id": "W1", "item_type": "job", "model_version": "v1", "scope": "all",
              "items": [{"item_id": "J1", "rank": 1, "score": 0.5}, {"item_id": "J2", "rank": 2, "score": 0.25}]}]
    assert log_served(store, lists, worker_source="store") == 2
    assert list(read_served(other, worker_id="W1")["item_id"]) == ["J1", "J2"]
    from recommender.snapshot import Snapshot

    shown = Snapshot.from_store(other, impressions=True).impressions  # what training reads back
    assert sorted(shown["job_id"]) == ["J1", "J2"] and set(shown["worker_id"]) == {"W1"}
    from recommender.served_log import prune

    assert prune(store, dt.datetime(2000, 1, 1)) == 0 and prune(store, dt.datetime(2200, 1, 1), batch=1) == 2  # retention
    assert read_served(other).empty
    other.dispose()


def _import_in_child(url: str, path: str, queue) -> None:  # pragma: no cover - runs in a child process
    from recommender.ingest import ingest
    from recommender.store import Store

    try:
        s = Store(url)
        r = ingest([path], s)
        queue.put(("ok", r.inserted, r.unchanged))
        s.dispose()
    except Exception as exc:  # noqa: BLE001
        queue.put(("error", repr(exc), 0))


@pytest.mark.slow
def test_concurrent_imports_from_two_processes_agree(pg_url, tmp_path):
    """Two importers of the same new file at once: one inserts, the other finds the rows unchanged."""
    from recommender.store import Store

    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_import_in_child, args=(pg_url, str(SAMPLES / "workers.csv"), queue)) for _ in range(2)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert all(r[0] == "ok" for r in results), results
    n = Store(pg_url).count("workers")
    assert sorted(r[1] for r in results) == [0, n]
    assert sorted(r[2] for r in results) == [0, n]


def test_dates_booleans_and_nulls_survive_copy(store, tmp_path):
    from recommender.ingest import ingest

    (tmp_path / "employers.csv").write_text("employer_id,name,industry,wage_arrears_listed\nE1,甲,制造业,1\nE2,乙,,0\n", encoding="utf-8")
    (tmp_path / "jobs.csv").write_text(
        "job_id,employer_id,title,skills,certificates,region,wage_min,wage_max,age_min,age_max,education_min,housing,social_insurance,employment_type,openings,posted_on,closes_on\n"
        'J1,E1,"电焊工, ""二保焊""",电焊;氩弧焊,焊工证,440305,6000,8000,18,50,,是,1,full_time,3,2024-03-01,2024-09-01\n'
        "J2,E2,保洁员\\N,保洁,,411625,3000,3500,,,,no,,part_time,,2024-03-05,\n",
        encoding="utf-8",
    )
    report = ingest(tmp_path, store, today=dt.date(2024, 6, 1))
    assert report.rejected == 0, report.format_text()
    jobs = store.read_table("jobs").set_index("job_id")
    assert jobs.loc["J1", "title"] == '电焊工, "二保焊"'
    assert jobs.loc["J2", "title"] == "保洁员\\N"
    assert jobs.loc["J1", "posted_on"] == pd.Timestamp("2024-03-01")
    assert pd.isna(jobs.loc["J2", "closes_on"]) and pd.isna(jobs.loc["J2", "age_max"])
    assert bool(jobs.loc["J1", "housing"]) is True and bool(jobs.loc["J2", "housing"]) is False
    assert pd.isna(jobs.loc["J2", "social_insurance"])
    employers = store.read_table("employers").set_index("employer_id")
    assert employers.loc["E2", "industry"] is None
