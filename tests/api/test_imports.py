"""Bulk upload: the same import as the CLI, the report as JSON."""

from __future__ import annotations

import io

import pandas as pd
from fastapi.testclient import TestClient

from apitest_support import FILES, headers

A = headers("admin")


def _file(name: str, text: str) -> tuple[str, tuple[str, io.BytesIO, str]]:
    return ("files", (name, io.BytesIO(text.encode("utf-8")), "text/csv"))


def test_upload_imports_and_reports_per_row(empty_client: TestClient) -> None:
    bad_workers = FILES["workers"] + "W4,1890,M,,510112,,,,,,,\nW5,1990,X,,Atlantis,,,,,,,\n"
    files = [_file("jobs.csv", FILES["jobs"]), _file("workers.csv", bad_workers), _file("employers.csv", FILES["employers"])]
    r = empty_client.post("/v1/imports", files=files, headers=A)
    assert r.status_code == 200, r.text
    report = r.json()
    assert [f["kind"] for f in report["files"]] == ["employers", "workers", "jobs"]  # import order, not upload order
    workers = report["files"][1]
    assert workers["rows_read"] == 5 and workers["taken"] == 3 and workers["rejected"] == 2
    errs = {(e["row"], e["column"]) for e in workers["errors"]}
    assert (5, "birth_year") in errs and (6, "gender") in errs and (6, "home_region") in errs
    assert report["inserted"] == 3 + 2 + 3
    # visible through the record routes
    assert empty_client.get("/v1/workers/W3", headers=A).status_code == 200
    # re-importing changes nothing
    again = empty_client.post("/v1/imports", files=[_file("jobs.csv", FILES["jobs"])], headers=A).json()
    assert again["unchanged"] == 3 and again["inserted"] == 0


def test_parquet_upload(empty_client: TestClient) -> None:
    frame = pd.read_csv(io.StringIO(FILES["employers"]), dtype=str)
    buf = io.BytesIO()
    frame.to_parquet(buf)
    r = empty_client.post("/v1/imports", files=[("files", ("employers.parquet", io.BytesIO(buf.getvalue()), "application/octet-stream"))], headers=A)
    assert r.status_code == 200 and r.json()["taken"] == 2


def test_reference_errors_in_an_upload_are_row_errors(empty_client: TestClient) -> None:
    r = empty_client.post("/v1/imports", files=[_file("placements.csv", FILES["placements"])], headers=A)
    assert r.status_code == 200
    assert r.json()["rejected"] == 2 and "unknown worker_id" in r.json()["files"][0]["errors"][0]["reason"]


def test_bad_uploads_are_422(empty_client: TestClient) -> None:
    r = empty_client.post("/v1/imports", files=[_file("people.csv", "a,b\n1,2\n")], headers=A)
    assert r.status_code == 422 and "not a contract file" in r.json()["detail"]
    assert r.json()["errors"][0]["loc"] == ["body", "files", 0]
    r = empty_client.post("/v1/imports", files=[_file("workers.txt", "a\n")], headers=A)
    assert r.status_code == 422
    r = empty_client.post("/v1/imports", files=[_file("workers.csv", FILES["workers"]), _file("workers.csv", FILES["workers"])], headers=A)
    assert r.status_code == 422 and "second" in r.json()["detail"]
    r = empty_client.post("/v1/imports", json={"files": []}, headers=A)
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    r = empty_client.post("/v1/imports", data={"note": "no file"}, headers=A)
    assert r.status_code == 422
    # a GBK file is reported, not crashed on
    r = empty_client.post("/v1/imports", files=[("files", ("employers.csv", io.BytesIO(FILES["employers"].encode("gbk")), "text/csv"))], headers=A)
    assert r.status_code == 200 and r.json()["rejected"] >= 1


def test_multipart_reader_handles_odd_names() -> None:
    from api import multipart

    body = (
        b"--XyZ\r\nContent-Disposition: form-data; name=\"files\"; filename*=UTF-8''%E5%B7%A5workers.csv\r\n"
        b"Content-Type: text/csv\r\n\r\na\r\nb\r\n\r\n--XyZ\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--XyZ--\r\n"
    )
    parts = multipart.parse(body, 'multipart/form-data; boundary="XyZ"')
    assert parts[0].filename == "工workers.csv" and parts[0].data == b"a\r\nb\r\n"
    assert parts[1].name == "x" and parts[1].filename is None and parts[1].data == b"1"
