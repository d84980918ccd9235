"""Work that outgrows one process, on Dask (``dask.distributed``).

Nothing here is a scheduler of our own: a ``Client`` (a remote scheduler's
address, or a ``LocalCluster`` of N processes) runs plain functions of this
package on partitions of workers.

- :mod:`recommender.distributed.batch`: batch recommendations. Each Dask worker
  loads one :class:`~recommender.service.Recommender` (pinned model version,
  shared store) once, through a worker plugin, and scores partitions of
  worker ids; the capacity ledger is split between partitions (see there).
- :mod:`recommender.distributed.training`: training pairs (negative sampling)
  and their feature matrix, partitioned by worker, identical to one process
  (``recommender train --cluster``); the fits stay in the client.
- :mod:`recommender.distributed.cluster`: connecting (``local`` or an address).

Dask is an optional dependency (extra ``dask``): importing this package does
not import it; the functions that need it say how to install it.
"""

from __future__ import annotations

INSTALL_HINT = "Dask is not installed: pip install 'recommender[dask]' (or 'dask[distributed]')"


def require_dask() -> None:
    """Raise a ConfigError that says what to install when dask.distributed is missing."""
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        from recommender.errors import ConfigError

        raise ConfigError(INSTALL_HINT) from exc
