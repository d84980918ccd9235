"""The served-log writer (many requests per transaction) and the ranking pool, without HTTP."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import pytest

from api.compute import ComputePool
from api.metrics import Metrics
from api.served import ServedLogWriter, entries
from recommender import served_log
from recommender.schemas import Recommendations, RecommendedItem
from recommender.store import Store


def _recs(worker_id: str, n: int = 2) -> Recommendations:
    items = [RecommendedItem(item_type="job", item_id=f"J{i}", rank=i + 1, score=1.0 / (i + 1)) for i in range(n)]
    return Recommendations(worker_id=worker_id, item_type="job", as_of=dt.date(2024, 6, 1), scope="all", model_version="v1", items=items)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'log.db'}")


@pytest.fixture
def transactions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Requests written per call of log_served_many (one call, one transaction)."""
    calls: list[int] = []
    real = served_log.log_served_many

    def counting(store: Store, served: Any) -> int:
        served = list(served)
        calls.append(len({s.request_id for s in served}))
        return real(store, served)

    monkeypatch.setattr(served_log, "log_served_many", counting)
    return calls


def test_concurrent_requests_share_one_transaction(store: Store, transactions: list[int]) -> None:
    writer = ServedLogWriter(store, Metrics(), busy=lambda: True, delay=0.2)

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            for i in range(20):
                tg.start_soon(writer.submit, entries({"store": [_recs(f"W{i}")]}, f"r{i}"))

    anyio.run(main)
    log = served_log.read_served(store)
    assert len(log) == 40 and log["request_id"].nunique() == 20
    assert transactions == [20]


def test_a_request_served_alone_is_written_at_once(store: Store, transactions: list[int]) -> None:
    writer = ServedLogWriter(store, Metrics(), busy=lambda: False, delay=10.0)
    t0 = time.monotonic()
    anyio.run(writer.submit, entries({"profile": [_recs("ref-1")]}, "r1"))
    assert time.monotonic() - t0 < 5
    log = served_log.read_served(store)
    assert list(log["worker_source"]) == ["profile", "profile"] and transactions == [1]


def test_max_pending_cuts_the_wait_short(store: Store) -> None:
    writer = ServedLogWriter(store, Metrics(), busy=lambda: True, delay=30.0, max_pending=5)

    async def main() -> None:
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                for i in range(5):
                    tg.start_soon(writer.submit, entries({"store": [_recs(f"W{i}")]}, f"r{i}"))

    anyio.run(main)
    assert served_log.read_served(store)["request_id"].nunique() == 5


def test_a_cancelled_wait_leaves_the_lists_to_the_next_request_and_the_flush(store: Store) -> None:
    writer = ServedLogWriter(store, Metrics(), busy=lambda: True, delay=30.0)

    async def main() -> None:
        with anyio.move_on_after(0.1):
            await writer.submit(entries({"store": [_recs("W1")]}, "r1"))
        assert served_log.read_served(store).empty
        writer.busy = lambda: False
        await writer.submit(entries({"store": [_recs("W2")]}, "r2"))

    anyio.run(main)
    assert set(served_log.read_served(store)["request_id"]) == {"r1", "r2"}
    writer._pending.append(entries({"store": [_recs("W3")]}, "r3"))  # as if queued after the last drain
    writer.flush()
    assert set(served_log.read_served(store)["request_id"]) == {"r1", "r2", "r3"}


def test_a_bad_row_costs_only_its_own_request(store: Store) -> None:
    metrics = Metrics()
    writer = ServedLogWriter(store, metrics, busy=lambda: True, delay=0.2)
    bad = {"worker_id": "W9", "item_type": "job", "scope": "all", "model_version": "v1", "items": [{"item_id": "J1", "rank": "first"}]}

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(writer.submit, entries({"store": [_recs("W1")]}, "ok-1"))
            tg.start_soon(writer.submit, entries({"store": [bad]}, "bad"))
            tg.start_soon(writer.submit, entries({"store": [_recs("W2")]}, "ok-2"))

    anyio.run(main)
    assert set(served_log.read_served(store)["request_id"]) == {"ok-1", "ok-2"}
    assert metrics.served_log_failures == 1


def test_the_pool_counts_requests_until_their_work_ends() -> None:
    pool = ComputePool(1, "test")
    release = threading.Event()

    def fail() -> None:
        raise ValueError("boom")

    async def main() -> None:
        with pytest.raises(ValueError):
            await pool.run(fail)
        assert pool.in_flight == 0
        assert await pool.run(lambda: 7) == 7
        with anyio.move_on_after(0.1):  # cancelled while its work runs: still counted, the thread is busy
            await pool.run(lambda: release.wait(10))
        assert pool.in_flight == 1 and pool.available_tokens == 0
        release.set()
        with anyio.fail_after(10):
            while pool.in_flight:
                await anyio.sleep(0.01)

    try:
        anyio.run(main)
    finally:
        release.set()
        pool.close()
