"""Hostile and broken files through the one import path: rejected with a reason or imported safely.

Never a crash, never a valid row lost, never a file half-applied. The property
test builds a workers file from valid rows and injected bad rows of every kind
the reader must survive (wrong field counts, GBK bytes, NULs, control
characters, unbalanced quotes, over-long cells, bad values, national ID
numbers), shuffles them, imports it, and checks that exactly the valid rows
landed and every bad row was counted as rejected.
"""

from __future__ import annotations

import csv
import gzip
import io
import random
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from apitest_support import WORKERS, headers
from recommender.contract import spec_for
from recommender.ingest import Source, ingest
from recommender.store import Store

WORKER_SPEC = spec_for("workers.csv")
HEADER = list(WORKER_SPEC.column_names)
MAX_CELL = 200  # the tests' max_cell_chars, so over-long cells stay cheap to generate

# Text a worker may really write, including what a spreadsheet would run as a formula.
TEXTS = ["电焊;钢筋绑扎", "开叉车、仓库管理", "保洁，做饭", "welding; forklift", '=HYPERLINK("http://evil.example","点我")',
         "+86 电工", "-焊工", "@SUM(A1:A9)", 'says "hello", twice', "多行\n文本", "  全角　空格  ", ""]


def valid_row(i: int, rnd: random.Random) -> list[str]:
    return [
        f"W{i}", str(rnd.randint(1950, 2005)), rnd.choice(["", "F", "M"]),
        rnd.choice(["", "none", "primary", "junior_high", "college"]),
        rnd.choice(["510112", "440305", "411625", "440300", "330000"]), rnd.choice(["", "440306"]),
        rnd.choice(TEXTS), rnd.choice(["", "焊工证", "=1+1"]), rnd.choice(["", "3", "10.5"]),
        rnd.choice(["", "3500", "6000"]), rnd.choice(["", "local", "province", "anywhere"]), rnd.choice(["", "2024-03-18"]),
    ]


def _line(cells: list[str]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(cells)
    return buf.getvalue().encode("utf-8")


BAD_KINDS = ["extra_field", "short", "gbk", "nul", "control_id", "bad_year", "bad_region", "national_id",
             "too_long", "no_id", "unbalanced_quote", "bad_enum", "negative_wage"]


def bad_line(kind: str, i: int, rnd: random.Random) -> bytes:
    row = valid_row(i, rnd)
    row[0] = f"X{i}"
    if kind == "extra_field":
        return _line(row + ["extra"])
    if kind == "short":
        return _line(row[:5])
    if kind == "gbk":
        return _line(row[:6]).rstrip(b"\n") + b"," + "电焊".encode("gbk") + b"," + _line(row[7:])
    if kind == "nul":
        row[6] = "电\x00焊"
    elif kind == "control_id":
        row[0] = f"X\x01{i}"
    elif kind == "bad_year":
        row[1] = "一九八零"
    elif kind == "bad_region":
        row[4] = "Atlantis"
    elif kind == "national_id":
        row[0] = "11010119900307" + f"{i % 10000:04d}"[:3] + "X"
    elif kind == "too_long":
        row[6] = "焊" * (MAX_CELL + 1)
    elif kind == "no_id":
        row[0] = ""
    elif kind == "unbalanced_quote":
        return ",".join([row[0], row[1], '"' + row[2] + "oops"] + ["x"] * 3).encode() + b"\n"
    elif kind == "bad_enum":
        row[10] = "mars"
    elif kind == "negative_wage":
        row[9] = "-100"
    return _line(row)


def build_file(n_valid: int, bad: list[str], seed: int) -> tuple[bytes, set[str]]:
    rnd = random.Random(seed)
    lines = [(_line(valid_row(i, rnd)), True) for i in range(n_valid)]
    lines += [(bad_line(kind, 10_000 + j, rnd), False) for j, kind in enumerate(bad)]
    rnd.shuffle(lines)
    body = b"".join(line for line, _ in lines)
    return _line(HEADER) + body, {f"W{i}" for i in range(n_valid)}


def import_bytes(store: Store, data: bytes, name: str = "workers.csv"):
    return ingest([Source(name, spec_for(name), data=data)], store, max_cell_chars=MAX_CELL)


@hsettings(max_examples=int(__import__('os').environ.get('RELIABILITY_FILE_EXAMPLES', '40')), deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(n_valid=st.integers(0, 25), bad=st.lists(st.sampled_from(BAD_KINDS), max_size=12), seed=st.integers(0, 10**6))
def test_valid_rows_plus_bad_rows_import_exactly_the_valid_rows(tmp_path_factory: pytest.TempPathFactory, n_valid: int, bad: list[str], seed: int) -> None:
    data, valid_ids = build_file(n_valid, bad, seed)
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('prop') / 's.db'}")
    report = import_bytes(store, data)
    stored = set(store.keys("workers"))
    assert stored == valid_ids, (sorted(stored ^ valid_ids), report.format_text())
    f = report.files[0]
    assert f.inserted == n_valid and f.rejected == len(bad), report.format_text()
    assert f.rows_read == n_valid + len(bad)
    assert all(e.reason for e in f.errors)  # every rejection says why
    store.dispose()


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_each_bad_kind_is_rejected_with_a_reason(tmp_path: Path, kind: str) -> None:
    data, valid_ids = build_file(3, [kind], seed=1)
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    report = import_bytes(store, data)
    assert set(store.keys("workers")) == valid_ids
    errors = report.files[0].errors
    assert len(errors) == 1 and errors[0].row >= 2 and errors[0].reason, report.format_text()


@hsettings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.binary(max_size=2000), name=st.sampled_from(["workers.csv", "jobs.csv", "placements.csv", "workers.parquet"]))
def test_random_bytes_never_crash_the_importer(tmp_path_factory: pytest.TempPathFactory, data: bytes, name: str) -> None:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('rnd') / 's.db'}")
    report = import_bytes(store, data, name)  # any exception fails the test
    assert report.files[0].rows_read >= 0
    store.dispose()


@hsettings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(cut=st.integers(0, 10_000))
def test_truncated_or_corrupted_files_keep_every_intact_row(tmp_path_factory: pytest.TempPathFactory, cut: int) -> None:
    data, _ = build_file(30, [], seed=7)
    cut = cut % (len(data) + 1)
    truncated = data[:cut]
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('cut') / 's.db'}")
    report = import_bytes(store, truncated)
    stored = set(store.keys("workers"))
    # Every complete line before the cut is a row that must land (the cut line may or may not form a valid row).
    complete = truncated[: truncated.rfind(b"\n") + 1] if b"\n" in truncated else b""
    reference = Store(f"sqlite:///{tmp_path_factory.mktemp('ref') / 's.db'}")
    import_bytes(reference, complete) if complete.count(b"\n") >= 1 else None
    assert set(reference.keys("workers")) <= stored, report.format_text()
    store.dispose()
    reference.dispose()


def test_a_gbk_file_is_rejected_row_by_row_with_an_encoding_hint(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    report = import_bytes(store, WORKERS.encode("gbk"))
    f = report.files[0]
    assert f.inserted == 0 and f.rejected == 3
    assert all("GBK" in e.reason and "UTF-8" in e.reason for e in f.errors), report.format_text()


def test_a_ten_megabyte_cell_rejects_only_its_row(tmp_path: Path) -> None:
    data, valid_ids = build_file(5, [], seed=3)
    big = _line(["XBIG", "1980", "", "", "510112", "", "焊" * 10_000_000, "", "", "", "", ""])
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    started = time.perf_counter()
    report = ingest([Source("workers.csv", WORKER_SPEC, data=data + big)], store)  # the default 10,000-character limit
    assert time.perf_counter() - started < 30
    assert set(store.keys("workers")) == valid_ids
    (err,) = report.files[0].errors
    assert err.column == "skills" and "10000" in err.reason.replace(",", "") and len(err.value) < 200


@pytest.mark.slow
def test_a_hundred_thousand_columns_are_read_and_ignored(tmp_path: Path) -> None:
    extra = [f"c{i}" for i in range(100_000)]
    rnd = random.Random(0)
    rows = [valid_row(i, rnd) for i in range(5)]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER + extra)
    for r in rows:
        w.writerow(r + ["0"] * len(extra))
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    started = time.perf_counter()
    report = import_bytes(store, buf.getvalue().encode())
    assert time.perf_counter() - started < 60
    assert report.files[0].inserted == 5 and set(store.keys("workers")) == {f"W{i}" for i in range(5)}
    # The same as Parquet: only the contract columns are read.
    table = pa.table({**{c: [r[j] for r in rows] for j, c in enumerate(HEADER)}, **{c: ["0"] * 5 for c in extra[:20_000]}})
    out = io.BytesIO()
    pq.write_table(table, out)
    report = import_bytes(store, out.getvalue(), "workers.parquet")
    assert report.files[0].unchanged == 5, report.format_text()


def _parquet_bytes(table: pa.Table) -> bytes:
    out = io.BytesIO()
    pq.write_table(table, out, compression="zstd")
    return out.getvalue()


def test_a_parquet_that_decompresses_huge_is_refused_before_it_expands(tmp_path: Path) -> None:
    n = 2_000_000  # 2 million rows pointing at one 1 MB string: 5 KB on disk, 2 TB decoded
    skills = pa.DictionaryArray.from_arrays(pa.array([0] * n, pa.int32()), pa.array(["焊" * 350_000]))
    ids = pa.DictionaryArray.from_arrays(pa.array([0] * n, pa.int32()), pa.array(["W1"]))
    data = _parquet_bytes(pa.table({"worker_id": ids, "birth_year": pa.array([1980] * n), "home_region": ids, "skills": skills}))
    assert len(data) < 100_000
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    report = import_bytes(store, data, "workers.parquet")
    (err,) = report.files[0].errors
    assert err.row == 0 and "decompresses" in err.reason
    assert store.count("workers") == 0


def test_a_corrupt_parquet_is_refused_with_a_reason(tmp_path: Path) -> None:
    good = _parquet_bytes(pa.table({"worker_id": ["W1"], "birth_year": [1980], "home_region": ["510112"]}))
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    for broken in (good[: len(good) // 2], good[:4] + b"\x00" * 64 + good[68:], b"PAR1" * 10):
        report = import_bytes(store, broken, "workers.parquet")
        assert report.files[0].errors[0].row == 0 and "Parquet" in report.files[0].errors[0].reason
    assert store.count("workers") == 0


def test_formula_text_is_stored_as_plain_text(tmp_path: Path) -> None:
    """Formulas are data to the importer (kept verbatim, never evaluated); exports neutralise them."""
    text = '=HYPERLINK("http://evil.example","点我")'
    data = _line(HEADER) + _line(["W1", "1980", "", "", "510112", "", text, "", "", "", "", ""])
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    import_bytes(store, data)
    assert store.get("workers", "W1")["skills"] == text


# ---- through the upload endpoint -------------------------------------------------------------


def _upload(client: TestClient, name: str, data: bytes, **extra_headers: str):
    return client.post("/v1/imports", files=[("files", (name, data, "application/octet-stream"))], headers={**headers("admin"), **extra_headers})


def test_upload_limit_holds_for_compressed_bodies(tmp_path: Path) -> None:
    """A gzip bomb as the request body: the service never inflates it, so the limit counts what arrives."""
    from apitest_support import fake_loader, make_settings

    from api.main import create_app

    with TestClient(create_app(make_settings(tmp_path, max_body_bytes=64 * 1024), loader=fake_loader)) as c:
        before = c.get("/v1/summary", headers=headers("admin")).json()
        payload = _line(HEADER) + b"W1,1980,,,510112,,," + b"a" * 50_000_000 + b",,,,\n"
        bomb = gzip.compress(payload, 9)
        assert len(bomb) < 64 * 1024
        body = b"--b\r\nContent-Disposition: form-data; name=files; filename=workers.csv\r\n\r\n" + payload[:1000] + b"\r\n--b--\r\n"
        r = c.post("/v1/imports", content=gzip.compress(body), headers={**headers("admin"), "Content-Type": "multipart/form-data; boundary=b", "Content-Encoding": "gzip"})
        assert 400 <= r.status_code < 500 and r.json()["code"], r.text
        r = _upload(c, "workers.csv", bomb)  # a gzip file named .csv: bytes that are not UTF-8
        assert r.status_code == 200 and r.json()["files"][0]["taken"] == 0
        r = _upload(c, "workers.csv.gz", bomb)
        assert r.status_code == 422 and r.json()["code"] == "validation_error"
        r = _upload(c, "workers.csv", payload[:200_000])  # over the body limit before any parsing
        assert r.status_code == 413 and r.json()["code"] == "payload_too_large"
        assert c.get("/v1/summary", headers=headers("admin")).json() == before


def test_upload_of_a_parquet_bomb_is_refused(client: TestClient) -> None:
    n = 1_000_000
    skills = pa.DictionaryArray.from_arrays(pa.array([0] * n, pa.int32()), pa.array(["x" * 1_000_000]))
    data = _parquet_bytes(pa.table({"worker_id": skills, "birth_year": pa.array([1980] * n), "home_region": skills}))
    r = _upload(client, "workers.parquet", data)
    assert r.status_code == 200, r.text
    f = r.json()["files"][0]
    assert f["taken"] == 0 and "decompresses" in f["errors"][0]["reason"]


def test_hostile_upload_imports_exactly_its_valid_rows(client: TestClient) -> None:
    data, valid_ids = build_file(20, BAD_KINDS, seed=11)
    r = client.post("/v1/imports", files=[("files", ("workers.csv", data, "text/csv"))], headers=headers("admin"))
    assert r.status_code == 200, r.text
    f = r.json()["files"][0]
    # the app's max_cell_chars is 10,000, so the 201-character cell is accepted there
    assert f["taken"] == len(valid_ids) + 1 and f["rejected"] == len(BAD_KINDS) - 1, f
    for wid in sorted(valid_ids)[:5]:
        assert client.get(f"/v1/workers/{wid}", headers=headers("admin")).status_code == 200
