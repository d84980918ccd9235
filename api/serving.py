"""The model being served, and its hot swap.

The service holds one ``Recommender`` reference. A background task watches
the registry's ``PROMOTED`` pointer (a cheap ``stat`` every few seconds);
when it changes, the newly promoted version is loaded in a worker thread
while the old one keeps serving, and the reference is then replaced in one
assignment. A request takes the reference once at its start, so it is served
wholly by one model and names that model's version; a swap never fails a
request, and a version that does not load leaves the previous one serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from recommender.errors import NotFoundError
from recommender.registry import POINTER, Registry
from recommender.settings import Settings
from recommender.store import Store

log = logging.getLogger("api")

Loader = Callable[[Settings, Store], Any]


def default_loader(settings: Settings, store: Store, version: str | None = None) -> Any:
    """``recommender.service.Recommender.load``, imported only when a model is needed."""
    from recommender.service import Recommender  # lazy: the library module may be absent or heavy

    return Recommender.load(settings, store=store, version=version)


def release_memory() -> None:
    """Collect the replaced model and hand freed heap pages back to the OS.

    A model is a few hundred MB of numpy arrays and Python objects allocated by
    several threads. Freed, they stay in glibc's per-thread arenas, so without
    this the resident size creeps up with each swap (the soak measured about
    +100 MiB over 15 swaps); Arrow's pool keeps pages the same way.
    ``malloc_trim`` exists only in glibc; elsewhere this is just a collection.
    """
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    arrow = sys.modules.get("pyarrow")  # pandas' Arrow-backed strings allocate from Arrow's own pool
    if arrow is not None:
        arrow.default_memory_pool().release_unused()
    name = ctypes.util.find_library("c")
    if name is None:
        return
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)


class ModelHolder:
    """The current Recommender (or None), with why it is missing."""

    def __init__(self, settings: Settings, store: Store, *, loader: Loader | None = None, metrics: Any = None) -> None:
        self.settings = settings
        self.store = store
        self.loader = loader or default_loader
        self.metrics = metrics
        self.registry = Registry(settings.models)
        self.current: Any | None = None
        self.loaded_at: float | None = None
        self.error: str | None = "not loaded yet"
        self._seen: tuple[int, int, str | None] | None = None  # pointer signature last acted on
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stale: str | None = None
        self.fallback_from: str | None = None  # a promoted version that failed to load while an earlier one serves
        self._release_pending = False

    @property
    def version(self) -> str | None:
        return None if self.current is None else str(getattr(self.current, "version", "unknown"))

    def _pointer_signature(self) -> tuple[int, int, str | None]:
        path = Path(self.registry.root) / POINTER
        try:
            st = path.stat()
        except FileNotFoundError:
            return (0, 0, None)
        return (st.st_mtime_ns, st.st_size, self.registry.promoted())

    def _load(self) -> Any:
        return self.loader(self.settings, self.store)

    async def refresh(self, *, force: bool = False) -> bool:
        """Load the promoted version if it changed; True if a new model now serves."""
        async with self._lock:
            signature = await asyncio.to_thread(self._pointer_signature)
            if not force and signature == self._seen:
                return False
            self._seen = signature
            promoted = signature[2]
            if promoted is None:
                if self.current is None:
                    self.error = f"no model promoted in {self.registry.root}; train one and promote it"
                return False  # a removed pointer keeps the current model serving
            if self.current is not None and promoted == self.version and not force:
                return False
            try:
                model = await asyncio.to_thread(self._load)
            except NotFoundError as exc:
                self._note_failure(f"no model available: {exc}", promoted)
                return False
            except ModuleNotFoundError as exc:
                self._note_failure(f"the recommender service module is not available: {exc}", promoted)
                return False
            except Exception as exc:  # a broken bundle must not take the service down
                self._note_failure(f"model {promoted} failed to load: {type(exc).__name__}: {exc}", promoted)
                model = await asyncio.to_thread(self._load_fallback, promoted) if self.current is None else None
                if model is None:
                    return False
            previous = self.version
            if self.current is not None:
                self._release_pending = True  # the old model's memory, once the requests holding it finish
            self.current = model  # the atomic swap
            self.loaded_at = time.time()
            self.error = None
            if previous is not None and previous != self.version and self.metrics is not None:
                self.metrics.inc("model_swaps")
            log.info("serving model %s (was %s)", self.version, previous)
            return True

    def _load_fallback(self, failed: str) -> Any | None:
        """With nothing serving, the newest earlier promoted version that loads (never the failed one)."""
        tried = {failed}
        for record in reversed(self.registry.history()):
            for version in (record.get("version"), record.get("previous")):
                if not version or version in tried:
                    continue
                tried.add(version)
                try:
                    model = self.loader(self.settings, self.store, version=version)
                except Exception as exc:  # keep looking further back
                    log.warning("fallback model %s failed to load: %s", version, type(exc).__name__)
                    continue
                self.fallback_from = failed
                log.warning("promoted model %s does not load; serving the earlier version %s", failed, version)
                return model
        return None

    def _note_failure(self, message: str, promoted: str | None) -> None:
        if self.current is None:
            self.error = message
        log.warning("%s; %s", message, f"still serving {self.version}" if self.current is not None else "no model serving")
        if self.metrics is not None:
            self.metrics.inc("model_load_failures")

    def mark_stale(self, reason: str) -> None:
        """The store's jobs, courses or employers changed: reload the serving version on the next check.

        The Recommender encodes the open items once when it loads, so new or edited
        postings reach recommendations after this reload (debounced by the poll interval).
        """
        self._stale = reason

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.settings.model_poll_seconds)
            if self._release_pending:  # a poll interval after a swap: in-flight requests on the old model are done
                self._release_pending = False
                await asyncio.to_thread(release_memory)
            try:
                if self._stale is not None and self.current is not None:
                    log.info("reloading model %s: %s", self.version, self._stale)
                    self._stale = None
                    await self.refresh(force=True)
                else:
                    await self.refresh()
            except Exception:  # keep watching whatever happens
                log.exception("model refresh failed")

    async def start(self) -> None:
        """Load the promoted model (if any), then watch for promotions."""
        await self.refresh(force=True)
        self._task = asyncio.create_task(self._watch(), name="model-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
