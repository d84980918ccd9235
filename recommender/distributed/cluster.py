"""Connecting to a Dask cluster: ``local`` (a LocalCluster of processes) or a scheduler address."""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Any

from recommender.distributed import require_dask


def connect(cluster: str, *, n_workers: int | None = None, threads_per_worker: int = 1, memory_limit: str | None = None) -> Any:
    """A ``distributed.Client``.

    ``cluster='local'`` starts a ``LocalCluster`` of ``n_workers`` processes (default:
    one per core) with one thread each (the ranker and the numeric code are single-threaded
    per request, so processes, not threads, give the parallelism). Anything else is a
    scheduler address such as ``tcp://10.0.0.5:8786``. Close the client (and, for ``local``,
    its cluster) with :func:`close`.
    """
    require_dask()
    from distributed import Client, LocalCluster

    if cluster == "local":
        kwargs: dict[str, Any] = {"n_workers": n_workers, "threads_per_worker": threads_per_worker, "processes": True,
                                  "dashboard_address": None}
        if memory_limit is not None:
            kwargs["memory_limit"] = memory_limit
        lc = LocalCluster(**kwargs)
        return Client(lc)
    return Client(cluster)


def close(client: Any) -> None:
    """Close a client from :func:`connect` and the LocalCluster it started, if any."""
    cluster = getattr(client, "cluster", None)
    client.close()
    if cluster is not None and type(cluster).__name__ == "LocalCluster":
        cluster.close()


# ---- inside a Dask worker process ------------------------------------------------------

_M_TRIM_THRESHOLD = -1  # glibc mallopt parameters (malloc.h)
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # glibc's ceiling for its dynamic mmap threshold on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX)
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD  # the trim threshold its dynamic rule pairs with it
_malloc_tuned = False


def restore_malloc_thresholds() -> bool:
    """Undo, in this process, the 64 KiB malloc trim threshold a Dask nanny gives its workers.

    The nanny spawns every worker with ``MALLOC_TRIM_THRESHOLD_=65536`` (dask's
    ``distributed.nanny.pre-spawn-environ``). Setting any glibc threshold turns off
    glibc's dynamic mmap threshold, so every allocation above 128 KiB becomes an
    ``mmap``/``munmap`` pair and its pages are faulted in and zeroed again on every
    use. Scoring one worker allocates many arrays over the whole job pool (800 KB
    each at 100,000 jobs): a Dask worker took ~1,700 minor page faults per
    recommendation at 100,000 jobs and ~5,600 at 200,000, against ~5 in one
    process, and twice the CPU per worker at 200,000 jobs (docs/scale.md). This sets the
    two thresholds to where glibc's dynamic rule ends up in a long-running process
    (32 MiB mmap, 64 MiB trim). Only where the variable is set (a process started by
    a nanny), only on glibc; idempotent and cheap, so every task may call it.
    Returns whether the thresholds are now set.
    """
    global _malloc_tuned
    if _malloc_tuned:
        return True
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    _malloc_tuned = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    return _malloc_tuned
