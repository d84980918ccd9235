"""One retrain at a time per registry: ``fcntl.flock`` on ``<models>/.retrain.lock``.

The lock belongs to an open file, so the operating system releases it when the
holder exits however it exits (a crash or SIGKILL included): a stale lock can
never block the next cron run. The file itself stays; only the lock matters.
It also holds the holder's pid and start time, for the message a second run prints.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from pathlib import Path
from types import TracebackType

from recommender.errors import RecommenderError

LOCK_NAME = ".retrain.lock"


class RetrainBusy(RecommenderError, RuntimeError):
    """Another retrain holds the registry's lock."""

    code = "retrain_running"


class RetrainLock:
    """Non-blocking exclusive lock; ``acquire`` raises ``RetrainBusy`` when held elsewhere."""

    def __init__(self, root: Path | str) -> None:
        self.path = Path(root) / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> RetrainLock:
        if self._fd is not None:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise RetrainBusy(f"another retrain is running on {self.path.parent}{holder}; try again when it has finished") from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        info = {"pid": os.getpid(), "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        os.write(fd, json.dumps(info).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __enter__(self) -> RetrainLock:
        return self.acquire()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


def _read_holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 200, 0).decode() or "{}")
        return f" (pid {info['pid']}, since {info['since']})"
    except (OSError, ValueError, KeyError):
        return ""
