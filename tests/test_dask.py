"""Dask runs give the single-process results: batch recommendations and training pairs.

A LocalCluster of 2 processes over the sample world (``data_samples/``). Skips
with the reason when dask.distributed is not installed.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed", reason="dask.distributed is not installed (pip install 'dask[distributed]')")

pytestmark = pytest.mark.slow

N_WORKERS = 120


@pytest.fixture(scope="module")
def client():
    from recommender.distributed.cluster import close, connect

    c = connect("local", n_workers=2, threads_per_worker=1)
    yield c
    close(c)


@pytest.fixture(scope="module")
def worker_ids(sample_store):
    ids = sample_store.read_table("workers", columns=["worker_id"])["worker_id"].tolist()[:N_WORKERS]
    return ids[:100] + ["NO-SUCH-WORKER"] + ids[100:]


@pytest.fixture(scope="module")
def spec(sample_settings):
    from recommender.distributed.batch import pinned_spec

    return pinned_spec(sample_settings)


def lists(results):
    return [("error", type(r).__name__) if isinstance(r, Exception) else [(i.item_id, i.rank, i.score, i.scope) for i in r.items]
            for r in results]


def test_without_caps_every_list_is_the_single_process_list(client, spec, recommender_service, worker_ids):
    from recommender.distributed.batch import recommend_batch, recommend_sequential

    as_of = recommender_service.default_as_of()
    local = recommend_sequential(recommender_service, worker_ids, k=10, as_of=as_of)
    dist = recommend_batch(client, worker_ids, spec, k=10, caps=False, partition_size=37)
    assert lists(dist) == lists(local)
    assert lists(dist)[100] == ("error", "NotFoundError")
    assert sum(len(r.items) for r in local if not isinstance(r, Exception)) > 0


def test_with_caps_one_partition_is_recommend_batch(client, spec, recommender_service, worker_ids):
    from recommender.distributed.batch import recommend_batch

    local = recommender_service.recommend_batch(worker_ids, k=10)
    dist = recommend_batch(client, worker_ids, spec, k=10, partition_size=len(worker_ids))
    assert lists(dist) == lists(local)


def test_with_caps_split_over_partitions_no_job_exceeds_its_cap(client, spec, recommender_service, worker_ids):
    from recommender.distributed.batch import job_capacities, recommend_batch

    ids, caps = job_capacities(recommender_service)
    cap = dict(zip(ids.tolist(), caps.tolist(), strict=True))
    uncapped = recommend_batch(client, worker_ids, spec, k=10, caps=False, partition_size=50)
    shown_uncapped = Counter(i.item_id for r in uncapped if not isinstance(r, Exception) for i in r.items)
    assert any(n > cap[j] for j, n in shown_uncapped.items()), "the sample batch should make some cap bind"
    dist = recommend_batch(client, worker_ids, spec, k=10, partition_size=50)
    shown = Counter(i.item_id for r in dist if not isinstance(r, Exception) for i in r.items)
    assert all(n <= cap[j] for j, n in shown.items())
    # the sequential single-process run honours the same caps
    local = recommender_service.recommend_batch(worker_ids, k=10)
    shown_local = Counter(i.item_id for r in local if not isinstance(r, Exception) for i in r.items)
    assert all(n <= cap[j] for j, n in shown_local.items())
    # and the split loses little: total exposure within 10% of the sequential run
    assert sum(shown.values()) >= 0.9 * sum(shown_local.values())


def test_shares_add_up_to_the_cap():
    from recommender.distributed.batch import partitions, shares

    caps = np.array([1, 2, 3, 7, 30, 301])
    for n, size in [(10, 3), (1000, 37), (5, 5), (7, 1)]:
        total = sum(shares(caps, a, b, n) for a, b in partitions(n, size))
        assert (total == caps).all()
        assert all((shares(caps, a, b, n) >= 0).all() for a, b in partitions(n, size))


def test_partition_ledger_keeps_the_sequential_full_set_up_to_date():
    """_PartitionLedger.full() is ExposureLedger's rule (shown >= cap) plus the jobs whose share is 0,
    maintained by record() instead of rebuilt per worker."""
    from recommender.distributed.batch import _PartitionLedger
    from recommender.policy import PolicyConfig

    rng = np.random.default_rng(3)
    items = [f"J{i}" for i in range(40)]
    capacity = dict(zip(items, rng.integers(0, 4, len(items)).tolist(), strict=True))
    closed = {i for i, n in capacity.items() if n <= 0}
    ledger = _PartitionLedger(PolicyConfig(), dict(capacity))
    def rule() -> set[str]:  # the sequential rule, from the counts
        return {i for i, n in ledger.shown.items() if n >= capacity.get(i, 1)} | closed

    for _ in range(80):
        assert ledger.full() == rule()
        ledger.record(rng.choice(items + ["NOT-IN-POOL"], size=int(rng.integers(0, 6))).tolist())  # repeats included
    assert ledger.full() == rule()
    assert len(ledger.full()) > len(closed)


def test_a_partition_refuses_other_jobs_than_the_client_saw(spec, recommender_service, worker_ids):
    from recommender.distributed.batch import job_capacities, job_digest, score_partition
    from recommender.errors import RecommenderError

    _, caps = job_capacities(recommender_service)
    kw = dict(start=0, total=3, caps=caps, item_type="job", k=5, scope="all", as_of="2024-06-01", age_policy=None)
    assert len(score_partition(spec, worker_ids[:3], jobs=job_digest(recommender_service), **kw)) == 3
    with pytest.raises(RecommenderError, match="jobs changed"):
        score_partition(spec, worker_ids[:3], jobs="another pool", **kw)


def test_a_worker_loads_while_a_writer_holds_the_sqlite_lock(tmp_path, sample_store, sample_settings, recommender_service, worker_ids):
    """The worker's snapshot read is a read transaction (SnapshotReadStore), not BEGIN IMMEDIATE: it neither
    waits for a writer (the Dask processes of a host load side by side) nor sees the writer's uncommitted rows."""
    import sqlite3

    from recommender.distributed import batch
    from recommender.store import Store

    path = tmp_path / "copy.db"
    src = sqlite3.connect(sample_store.engine.url.database)
    dst = sqlite3.connect(path)
    src.backup(dst)
    src.close()
    dst.close()
    Store(f"sqlite:///{path}", create=False).dispose()  # (WAL mode, as every store connection sets it)
    writer = sqlite3.connect(path, isolation_level=None, timeout=0.1)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE jobs SET title = 'uncommitted'")
        settings = sample_settings.model_copy(update={"db": f"sqlite:///{path}"})
        spec = batch.RecommenderSpec(settings, recommender_service.version)
        rec = batch._load_recommender(spec, wait_seconds=0.0)  # would wait for the writer, then fail, under BEGIN IMMEDIATE
        assert "uncommitted" not in set(rec.snapshot.jobs["title"])
        assert isinstance(rec.store, batch.SnapshotReadStore)
        as_of = recommender_service.default_as_of()
        assert lists(rec.recommend_batch(worker_ids[:20], k=10, as_of=as_of)) == lists(
            recommender_service.recommend_batch(worker_ids[:20], k=10, as_of=as_of))
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_malloc_thresholds_of_a_nanny_spawned_process_are_restored():
    """A Dask nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536: every array above 128 KiB is then
    mmap'd and faulted in afresh. restore_malloc_thresholds() brings the page faults back to those of one process."""
    import platform
    import subprocess
    import sys

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("glibc only")
    code = (
        "import resource, numpy as np\n"
        "from recommender.distributed.cluster import restore_malloc_thresholds\n"
        "def faults():\n"
        "    r0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "    for _ in range(200):\n"
        "        np.ones(1 << 17).sum()\n"
        "    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r0\n"
        "before = faults(); ok = restore_malloc_thresholds(); faults(); after = faults()\n"
        "print(before, ok, after)\n"
    )
    import os

    env = {**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout.split()
    before, ok, after = int(out[0]), out[1], int(out[2])
    assert ok == "True"
    assert before > 10_000 and after < before / 10, (before, after)


def test_dask_workers_restore_their_malloc_thresholds(client):
    import os
    import platform

    from recommender.distributed.cluster import restore_malloc_thresholds

    if platform.libc_ver()[0] != "glibc" or not all(client.run(lambda: "MALLOC_TRIM_THRESHOLD_" in os.environ).values()):
        pytest.skip("glibc workers started with MALLOC_TRIM_THRESHOLD_ only")
    assert all(client.run(restore_malloc_thresholds).values())


def test_cli_cluster_local_writes_the_single_process_file(tmp_path, sample_settings, worker_ids, monkeypatch, capsys):
    from recommender.cli import main
    from recommender.settings import get_settings

    monkeypatch.setenv("RECOMMENDER_DB", sample_settings.db)
    monkeypatch.setenv("RECOMMENDER_MODELS", str(sample_settings.models))
    get_settings.cache_clear()
    try:
        src = tmp_path / "ids.csv"
        src.write_text("worker_id\n" + "\n".join(worker_ids[:60]) + "\n", encoding="utf-8")
        one, two = tmp_path / "one.csv", tmp_path / "two.csv"
        assert main(["recommend", "--workers", str(src), "--out", str(one), "--as-of", "2024-06-01"]) == 0
        # workers left without any item are counted, not silently missing from the file
        listed = {line.split(",")[0] for line in one.read_text(encoding="utf-8").splitlines()[1:]}
        said = [line for line in capsys.readouterr().err.splitlines() if "got no job" in line]
        assert [line.split(":")[0] for line in said] == ([] if len(listed) == 60 else [f"{60 - len(listed)} workers got no job"])
        assert main(["recommend", "--workers", str(src), "--out", str(two), "--as-of", "2024-06-01",
                     "--cluster", "local", "--processes", "2", "--partition-size", "60"]) == 0
        assert one.read_text(encoding="utf-8") == two.read_text(encoding="utf-8")
        # in-process slices share one ledger: the same file as one slice
        import recommender.cli.recommend as R

        monkeypatch.setattr(R, "IN_PROCESS_SLICE", 7)
        sliced = tmp_path / "sliced.csv"
        assert main(["recommend", "--workers", str(src), "--out", str(sliced), "--as-of", "2024-06-01"]) == 0
        assert sliced.read_text(encoding="utf-8") == one.read_text(encoding="utf-8")
        assert len(one.read_text(encoding="utf-8").splitlines()) > 1
    finally:
        get_settings.cache_clear()


# ---- the registry every worker and replica reads: fsspec URLs ----------------------


def test_registry_on_an_fsspec_url_saves_promotes_loads_and_rolls_back():
    pytest.importorskip("fsspec", reason="fsspec is not installed")
    from pathlib import Path

    from recommender.registry import Registry

    root = f"memory://models-{np.random.default_rng().integers(1 << 30)}"
    reg = Registry(root)
    assert reg.versions() == [] and reg.promoted() is None
    a = reg.save({"model": "a"}, {"note": "first"}, version="v1")
    reg.save({"model": "b"}, {"note": "second"}, version="v2")
    reg._remote.write_bytes(b"partial", "v3", "bundle.joblib")  # a crashed save: no manifest, so not a version
    assert [v.version for v in reg.versions()] == ["v1", "v2"]
    assert a.manifest["libraries"]["scikit-learn"]
    reg.promote("v1")
    reg.promote("v2")
    # the same registry through Settings.models (a Path folds 'memory://' into 'memory:/')
    other = Registry(Path(root))
    assert other.promoted() == "v2"
    assert other.load()[0] == {"model": "b"}
    assert other.rollback().version == "v1"
    assert reg.load()[0] == {"model": "a"}
    assert [h["version"] for h in reg.history()] == ["v1", "v2", "v1"]
    with pytest.raises(Exception, match="invalid model version"):
        reg.get("../x")


def test_file_urls_are_local_folders_with_atomic_renames(tmp_path):
    from recommender.registry import Registry

    reg = Registry(f"file://{tmp_path}/models")
    assert reg._remote is None and reg.root == (tmp_path / "models").resolve()
    reg.save({"m": 1}, {}, version="v1")
    reg.promote("v1")
    assert (tmp_path / "models" / "PROMOTED").exists()
    assert reg.load()[0] == {"m": 1}


# ---- training: negative sampling and pair features on Dask ------------------------------


@pytest.fixture(scope="module")
def encoded(sample_store):
    from recommender.snapshot import Snapshot
    from recommender.training.labels import JOB_GRADES, graded_pairs
    from recommender.training.world import EncodedWorld, Encoders

    snapshot = Snapshot.from_store(sample_store)
    return EncodedWorld.build(snapshot, Encoders.fit()), graded_pairs(snapshot.placements, "job_id", JOB_GRADES)


def test_training_pairs_features_and_model_on_dask_are_the_single_process_ones(client, encoded):
    from recommender.distributed.training import distributed_training_pairs, feature_slices
    from recommender.features import JobPairFeatures, PairSet
    from recommender.ranking import PairRanker
    from recommender.training.jobs import training_pairs

    world, graded = encoded
    # 97-worker partitions: ~21 partitions of the 2 000 sample workers, sampled on 2 processes
    local = training_pairs(world, graded, negatives=6, seed=3, partition_workers=97)
    dist = distributed_training_pairs(client, world, graded, negatives=6, seed=3, partition_workers=97, feature_rows=5_000)
    assert len(local.y) > 20_000 and int((local.y == 0).sum()) > 10_000
    for name in ("w", "i", "as_of"):
        assert np.array_equal(getattr(dist.pairs, name), getattr(local.pairs, name)), name
    for name in ("y", "scope", "day"):
        assert np.array_equal(getattr(dist, name), getattr(local, name)), name
    # the partitioning, not the process, decides the negatives: another seed or partition size gives others
    assert not np.array_equal(training_pairs(world, graded, negatives=6, seed=4, partition_workers=97).pairs.i, local.pairs.i)

    featurizer = JobPairFeatures().fit(local.pairs)
    X = featurizer.transform(local.pairs)
    assert len(feature_slices(local.pairs.w, 5_000)) > 4
    assert X.shape == dist.X.shape and X.dtype == dist.X.dtype and X.flags["F_CONTIGUOUS"] == dist.X.flags["F_CONTIGUOUS"]
    assert np.array_equal(X, dist.X, equal_nan=True)
    assert np.isnan(X).any()  # the comparison covered unknown values too

    # a ranker fitted on each gives the same predictions (short fit: the path, not the model, is under test)
    one = PairRanker(JobPairFeatures(), max_iter=25).fit(local.pairs, local.y)
    two = PairRanker(dist.featurizer, max_iter=25).fit(dist.pairs, dist.y, X=dist.X)
    rng = np.random.default_rng(0)
    pick = rng.choice(len(local.y), 3_000, replace=False)
    probe = PairSet(world.workers, world.jobs, local.pairs.w[pick], local.pairs.i[pick], local.pairs.as_of[pick])
    assert np.array_equal(one.predict(probe), two.predict(probe))


def test_feature_slices_never_hold_one_worker_alone():
    from recommender.distributed.training import feature_slices

    w = np.array([0, 1, 2, 2, 2, 2, 2, 2, 3, 4, 5, 5])
    slices = feature_slices(w, 2)
    assert slices[0][0] == 0 and slices[-1][1] == len(w)
    assert all(a == b for (_, a), (b, _) in zip(slices[:-1], slices[1:], strict=True))
    assert all(len(set(w[a:b].tolist())) > 1 for a, b in slices)
    assert feature_slices(np.array([7, 7, 7]), 1) == [(0, 3)]
    assert feature_slices(np.array([], dtype=int), 10) == []


def test_pipeline_inside_use_cluster_builds_the_pairs_on_dask(client, encoded, monkeypatch):
    """The training pipeline's hooks: single process without a client, Dask (with features) inside use_cluster."""
    from recommender.distributed import training as T
    from recommender.training.pipeline import TrainConfig

    world, graded = encoded
    cfg = TrainConfig(negatives=4, seed=1)
    plain = T.job_training_pairs(world, graded, cfg)
    assert not isinstance(plain, T.FeaturedPairs)
    calls = []

    def fake_fit(tp, *, objective, seed, sample_weight, older_weight, older_age, X):
        calls.append(X is None if not isinstance(tp, T.FeaturedPairs) else X is tp.X)
        return "fitted"

    monkeypatch.setattr(T, "fit_job_model", fake_fit)
    assert T.fit_jobs(plain, cfg, sample_weight=None) == "fitted"  # no matrix: fit_job_model computes the features
    with T.use_cluster(client):
        featured = T.job_training_pairs(world, graded, cfg)
        assert T.fit_jobs(featured, cfg, sample_weight=None) == "fitted"  # the Dask-built matrix is handed over
    assert T.active_client() is None
    assert isinstance(featured, T.FeaturedPairs)
    assert calls == [True, True]
    assert np.array_equal(featured.pairs.i, plain.pairs.i) and np.array_equal(featured.y, plain.y)
    assert featured.X.shape == (len(plain.y), len(featured.featurizer.get_feature_names_out()))


def test_cli_train_on_a_local_cluster_gives_the_single_process_model(
    tmp_path, sample_settings, trained_registry, encoded, monkeypatch, capsys
):
    """`recommender train --cluster local` saves a model that scores like the one trained in one process."""
    from recommender.cli import main
    from recommender.features import PairSet
    from recommender.registry import Registry
    from recommender.settings import get_settings

    monkeypatch.setenv("RECOMMENDER_DB", sample_settings.db)
    get_settings.cache_clear()
    try:
        # the fixture model: TrainConfig(negatives=6), no evaluation, in this process
        models = tmp_path / "models"
        assert main(["train", "--models", str(models), "--negatives", "6", "--no-evaluate",
                     "--cluster", "local", "--processes", "2"]) == 0
    finally:
        get_settings.cache_clear()
    assert "training pairs and features on Dask: local" in capsys.readouterr().err
    dist, _ = Registry(models).load()
    local, _ = trained_registry.load()
    world, _ = encoded
    rng = np.random.default_rng(1)
    w = rng.integers(0, len(world.workers), 2_000)
    i = rng.integers(0, len(world.jobs), 2_000)
    probe = PairSet(world.workers, world.jobs, w, i, np.datetime64("2024-06-01", "D"))
    scope = np.zeros(len(w), dtype=np.int8)
    assert np.array_equal(dist.jobs.ranker.predict(probe), local.jobs.ranker.predict(probe))
    assert np.array_equal(dist.jobs.prescorer.score(probe, scope), local.jobs.prescorer.score(probe, scope))


def test_the_same_blocks_can_be_sent_twice_in_a_row(client, encoded):
    """Training sends the same blocks for the evaluation fit and the final fit: no key clash between the two."""
    from recommender.distributed.training import pair_features
    from recommender.features import JobPairFeatures, PairSet

    world, _ = encoded
    pairs = PairSet(world.workers, world.jobs, np.arange(300) % len(world.workers), np.arange(300) % len(world.jobs),
                    np.datetime64("2024-06-01", "D"))
    featurizer = JobPairFeatures().fit(pairs)
    first = pair_features(client, pairs, featurizer, rows=100)
    second = pair_features(client, pairs, featurizer, rows=100)
    assert np.array_equal(first, second, equal_nan=True)
    assert np.array_equal(first, featurizer.transform(pairs), equal_nan=True)


def test_a_worker_waits_while_another_reads_the_sqlite_store(sample_settings, monkeypatch):
    """Dask workers load their snapshot one after the other on SQLite: "database is locked" means wait, not fail."""
    import sqlalchemy.exc

    from recommender.distributed import batch
    from recommender.service import Recommender

    calls = []

    def load(*args, **kwargs):
        calls.append(1)
        if len(calls) < 3:
            raise sqlalchemy.exc.OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))
        return "loaded"

    monkeypatch.setattr(Recommender, "load", load)
    monkeypatch.setattr(batch.time, "sleep", lambda s: None)
    spec = batch.RecommenderSpec(sample_settings, "v1")
    assert batch._load_recommender(spec) == "loaded" and len(calls) == 3
    calls.clear()
    with pytest.raises(sqlalchemy.exc.OperationalError):  # other errors, or past the deadline, are raised
        batch._load_recommender(spec, wait_seconds=0.0)


def test_evaluation_on_dask_gives_the_single_process_lists_and_metrics(client, sample_store):
    """evaluate_jobs inside use_cluster ranks slices of the held-out queries on Dask: same lists, same metrics."""
    from recommender.distributed.training import use_cluster
    from recommender.snapshot import Snapshot
    from recommender.training import baselines as B
    from recommender.training.evaluate import evaluate_jobs, summary_table
    from recommender.training.jobs import fit_job_model, training_pairs
    from recommender.training.labels import JOB_GRADES, graded_pairs
    from recommender.training.split import choose_split, split_pairs
    from recommender.training.world import EncodedWorld, Encoders

    snapshot = Snapshot.from_store(sample_store)
    graded = graded_pairs(snapshot.placements, "job_id", JOB_GRADES)
    split = choose_split(graded, test_days=90)
    train, test = split_pairs(graded, split)
    world = EncodedWorld.build(snapshot, Encoders.fit(), certs_as_of=split.cutoff)
    model = fit_job_model(training_pairs(world, train, negatives=4, seed=0), seed=0)
    kw = dict(baselines=B.all_baselines(0), max_queries=120, seed=0, policy_weights=(0.0, 1.0))
    recs, per_worker = evaluate_jobs(world, model, train, test, **kw)
    with use_cluster(client):
        d_recs, d_per_worker = evaluate_jobs(world, model, train, test, **kw)
    assert len(recs) > 0 and recs["method"].nunique() >= 5
    pd.testing.assert_frame_equal(d_recs, recs)
    pd.testing.assert_frame_equal(summary_table(d_per_worker), summary_table(per_worker))
