"""Thread-pool limits without re-scanning the loaded libraries on every request.

``threadpool_limits`` inspects every loaded shared library each time it is
entered (milliseconds once BLAS, OpenMP and friends are loaded); a request
path needs the limit entered in microseconds, so one controller is built once.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from functools import lru_cache
from typing import Any

from threadpoolctl import ThreadpoolController


@lru_cache(maxsize=1)
def _controller() -> ThreadpoolController:
    return ThreadpoolController()


def limit_threads(n: int | None) -> AbstractContextManager[Any]:
    """``with limit_threads(1): ...`` — small predictions run faster on one thread."""
    return _controller().limit(limits=n)
