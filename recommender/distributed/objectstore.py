"""The model registry on an fsspec URL (``s3://bucket/models``, ``gcs://...``, ``memory://models``).

Every Dask worker and API replica reads the same registry: a shared folder (a
plain path or ``file://`` URL keeps the local registry with its atomic renames)
or an object store through fsspec. Object stores have no atomic rename of a
folder, so atomicity rests on single-object writes, which are atomic there:

- ``save`` writes ``bundle.joblib`` first and ``manifest.json`` last under the
  version's prefix; a version is listed only when both exist, so a crash
  mid-save leaves an invisible partial version, never a half-readable one;
- ``promote`` replaces the one ``PROMOTED`` object; the history is rewritten as
  one object (promotions are rare and made by staff, one at a time).

fsspec is an optional dependency (it comes with Dask); a URL registry without
it fails with a message that says what to install.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):/+(.*)$")


def split_url(root: Path | str) -> tuple[str | None, str]:
    """``(scheme, url)`` of a registry root; ``(None, path)`` for a local folder.

    ``Settings.models`` is text, so URLs arrive intact; a caller that still
    wraps one in a ``Path`` folds ``s3://b/m`` into ``s3:/b/m``, and that
    spelling is accepted too. ``file://`` URLs are local folders.
    """
    text = str(root)
    m = _SCHEME.match(text)
    if m is None or len(m.group(1)) == 1:  # no scheme, or a Windows drive letter
        return None, text
    scheme, rest = m.group(1).lower(), m.group(2)
    if scheme in ("file", "local"):
        return None, "/" + rest
    return scheme, f"{scheme}://{rest}"


class ObjectStoreBackend:
    """Registry files under an fsspec URL."""

    def __init__(self, url: str) -> None:
        try:
            import fsspec
        except ImportError as exc:
            from recommender.errors import ConfigError

            raise ConfigError(f"the model registry {url} needs fsspec: pip install 'recommender[dask]' (or fsspec)") from exc
        self.url = url.rstrip("/")
        self.fs, self.base = fsspec.core.url_to_fs(self.url)
        self.base = self.base.rstrip("/")

    def path(self, *parts: str) -> str:
        return "/".join([self.base, *parts])

    def exists(self, *parts: str) -> bool:
        return bool(self.fs.exists(self.path(*parts)))

    def read_bytes(self, *parts: str) -> bytes:
        with self.fs.open(self.path(*parts), "rb") as fh:
            return fh.read()

    def write_bytes(self, data: bytes, *parts: str) -> None:
        self.fs.makedirs(self.path(*parts[:-1]), exist_ok=True)
        with self.fs.open(self.path(*parts), "wb") as fh:
            fh.write(data)

    def read_json(self, *parts: str) -> Any:
        return json.loads(self.read_bytes(*parts).decode("utf-8"))

    def children(self) -> list[str]:
        if not self.fs.exists(self.base):
            return []
        out = []
        for info in self.fs.ls(self.base, detail=True):
            if info.get("type") == "directory":
                out.append(str(info["name"]).rstrip("/").rsplit("/", 1)[-1])
        return sorted(out)

    def dump_joblib(self, obj: object, *parts: str) -> None:
        import joblib

        buf = io.BytesIO()
        joblib.dump(obj, buf, compress=3)
        self.write_bytes(buf.getvalue(), *parts)

    def load_joblib(self, *parts: str) -> Any:
        import joblib

        return joblib.load(io.BytesIO(self.read_bytes(*parts)))
