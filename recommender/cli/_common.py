"""Small helpers shared by the sub-commands."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def interactive() -> bool:
    """Progress bars only for a person at a terminal, never in logs or CI."""
    return sys.stderr.isatty()


def progress(items: Iterable[T], *, desc: str, total: int | None = None) -> Iterator[T]:
    if not interactive():
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, desc=desc, total=total, file=sys.stderr, leave=False)
