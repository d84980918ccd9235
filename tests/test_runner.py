"""``api.runner``: several service processes, each accepting on its own SO_REUSEPORT socket.

Started as ``recommender serve --workers N`` starts it, on a free port, over a
copy of the sample store and the session's trained model.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import pytest

from api.runner import reuse_port_supported

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not reuse_port_supported(), reason="SO_REUSEPORT is Linux/BSD only")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(proc: subprocess.Popen) -> list[psutil.Process]:
    """The service processes (the spawn machinery's resource tracker left out)."""
    out = []
    for k in psutil.Process(proc.pid).children():
        try:
            if k.status() != psutil.STATUS_ZOMBIE and "resource_tracker" not in " ".join(k.cmdline()):
                out.append(k)
        except psutil.Error:  # gone (or a zombie) meanwhile
            pass
    return out


def _wait_ready(base: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail("the service did not become ready")


def test_processes_share_the_port_and_the_connections_and_stop_together(tmp_path, copy_sample_store, trained_registry) -> None:
    port = _free_port()
    started = time.time() - 1
    env = {**os.environ, "RECOMMENDER_DB": copy_sample_store(tmp_path / "store.db"), "RECOMMENDER_MODELS": str(trained_registry.root)}
    proc = subprocess.Popen([sys.executable, "-m", "api.runner", "--port", str(port), "--workers", "2", "--log-level", "warning",
                             "--no-access-log"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    clients: list[httpx.Client] = []
    try:
        _wait_ready(base)
        while len(_children(proc)) < 2 or not all(_ready_pid(k) for k in _children(proc)):
            time.sleep(0.2)
        for _ in range(24):  # 24 keep-alive connections: the kernel hashes them over the two sockets
            c = httpx.Client(base_url=base)
            assert c.get("/healthz").status_code == 200
            clients.append(c)
        served = {k.pid: sum(1 for c in k.net_connections("tcp") if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port)
                  for k in _children(proc)}
        assert sum(served.values()) == 24 and all(n > 0 for n in served.values()), served  # (2 / 2**24 odds of a false alarm)

        time.sleep(2.5)  # each process publishes its counters every second
        line = 'recommender_http_requests_total{method="GET",route="/healthz",status="200"} 24'
        for c in clients:  # whichever process a scrape reaches reports both processes' requests
            assert line in c.get("/metrics").text

        victim = _children(proc)[0]  # a process that dies is replaced
        victim.kill()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (victim.pid in {k.pid for k in _children(proc)} or len(_children(proc)) < 2):
            time.sleep(0.2)
        assert len(_children(proc)) == 2 and victim.pid not in {k.pid for k in _children(proc)}
        _wait_ready(base)
    finally:
        for c in clients:
            c.close()
        kids = _children(proc)
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    assert proc.returncode == 0
    gone, alive = psutil.wait_procs(kids, timeout=30)
    assert not alive  # no process left behind
    assert not [k for k in Path(tempfile.gettempdir()).glob("recommender-metrics-*") if k.stat().st_mtime > started]  # folder removed


def _ready_pid(proc: psutil.Process) -> bool:
    """A service process that listens (its lifespan ran)."""
    try:
        return any(c.status == psutil.CONN_LISTEN for c in proc.net_connections("tcp"))
    except psutil.Error:
        return False


def test_processes_that_keep_dying_at_start_up_stop_the_runner() -> None:
    """Settings that break every start-up end the runner with a message, not a restart loop."""
    port = _free_port()
    env = {**os.environ, "RECOMMENDER_COMPUTE_THREADS": "not-a-number"}
    proc = subprocess.run([sys.executable, "-c", "import api.runner as r; r.MAX_RESTARTS = 2; "
                           f"r.run('127.0.0.1', {port}, 2, log_level='critical')"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "service processes died 3 times" in proc.stderr
