"""Connecting to a Dask cluster: ``local`` (a LocalCluster of processes) or a scheduler address."""

from __future__ import annotations

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
