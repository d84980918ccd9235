"""The model registry: versioned bundles on disk, one promoted at a time.

Layout under the registry root (``RECOMMENDER_MODELS``)::

    <root>/<version>/bundle.joblib     the fitted pipelines and rankers
    <root>/<version>/manifest.json     what it was trained on, how it scored
    <root>/PROMOTED                    JSON pointer to the served version
    <root>/promotions.jsonl            history of promotions (for rollback)

A version folder is written under a temporary name and renamed into place, and
the pointer is replaced with ``os.replace``: a crash leaves either the old
state or the new one, never half of either. joblib files can run code when
loaded, so only bundles inside the registry root are ever loaded.

The root may also be an fsspec URL (``s3://bucket/models``, ``memory://models``)
shared by every Dask worker and API replica; ``file://`` URLs are local
folders. On an object store, atomicity rests on single-object writes (see
:mod:`recommender.distributed.objectstore`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib

from recommender.errors import NotFoundError, RecommenderError

BUNDLE = "bundle.joblib"
MANIFEST = "manifest.json"
POINTER = "PROMOTED"
HISTORY = "promotions.jsonl"


class RegistryError(RecommenderError, ValueError):
    code = "registry_error"


def library_versions() -> dict[str, str]:
    import numpy
    import pandas
    import scipy
    import sklearn

    from recommender import __version__

    return {
        "python": platform.python_version(),
        "recommender": __version__,
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "pandas": pandas.__version__,
        "joblib": joblib.__version__,
    }


def _major(version: str) -> str:
    return version.split(".", 1)[0]


def check_compatible(recorded: dict[str, str]) -> None:
    """Refuse a bundle built with another major version of a pickled library."""
    current = library_versions()
    for lib in ("scikit-learn", "numpy", "scipy", "pandas"):
        was, now = recorded.get(lib), current.get(lib)
        if not was or not now:
            continue
        if _major(was) != _major(now):
            raise RegistryError(
                f"the model was built with {lib} {was} but {now} is installed; "
                f"retrain it (recommender train) or install {lib}=={was}"
            )
        if was.split(".")[:2] != now.split(".")[:2]:
            warnings.warn(f"model built with {lib} {was}, running {now}", RuntimeWarning, stacklevel=3)


@dataclass(frozen=True, slots=True)
class ModelVersion:
    version: str
    path: Path
    manifest: dict[str, Any]


class Registry:
    """Model versions in a folder."""

    def __init__(self, root: Path | str) -> None:
        from recommender.distributed.objectstore import ObjectStoreBackend, split_url

        scheme, where = split_url(root)
        self._remote = ObjectStoreBackend(where) if scheme is not None else None
        self.root: Any = where if self._remote is not None else Path(where).resolve()

    def _dir(self, version: str) -> Path:
        if self._remote is not None:
            if not version or version.startswith(".") or "/" in version or "\\" in version:
                raise RegistryError(f"invalid model version {version!r}")
            return Path(version)
        path = (self.root / version).resolve()
        if path.parent != self.root or not version or version.startswith("."):
            raise RegistryError(f"invalid model version {version!r}")
        return path

    def new_version_name(self, fingerprint: str = "") -> str:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")[:-3]
        tail = hashlib.sha1(f"{stamp}{fingerprint}{os.getpid()}".encode()).hexdigest()[:6]
        return f"v{stamp}-{tail}"

    def save(
        self,
        bundle: object,
        manifest: dict[str, Any],
        *,
        version: str | None = None,
        files: dict[str, bytes | str] | None = None,
    ) -> ModelVersion:
        """Write a new version atomically; returns it (not promoted).

        ``files`` (name -> content) are written into the version folder too (a
        report, for instance) before the folder is renamed into place, so they
        appear together with the bundle or not at all.
        """
        version = version or self.new_version_name(str(manifest.get("data_fingerprint", "")))
        final = self._dir(version)
        manifest = {
            **manifest,
            "version": version,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "libraries": library_versions(),
        }
        if self._remote is not None:
            return self._save_remote(bundle, manifest, version, files)
        self.root.mkdir(parents=True, exist_ok=True)
        if final.exists():
            raise RegistryError(f"model version {version} already exists")
        tmp = Path(tempfile.mkdtemp(prefix=".incoming-", dir=self.root))
        try:
            joblib.dump(bundle, tmp / BUNDLE, compress=3)
            (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
            extra = []
            for name, content in (files or {}).items():
                if name in (BUNDLE, MANIFEST) or "/" in name or "\\" in name or name.startswith("."):
                    raise RegistryError(f"invalid extra file name {name!r} for a model version")
                target = tmp / name
                if isinstance(content, str):
                    target.write_text(content, encoding="utf-8")
                else:
                    target.write_bytes(content)
                extra.append(target)
            for f in (tmp / BUNDLE, tmp / MANIFEST, *extra):
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return ModelVersion(version, final, manifest)

    def _save_remote(self, bundle: object, manifest: dict[str, Any], version: str,
                     files: dict[str, bytes | str] | None = None) -> ModelVersion:
        """On an object store: bundle and extra files first, the manifest last (it makes the version visible)."""
        r = self._remote
        if r.exists(version, MANIFEST):
            raise RegistryError(f"model version {version} already exists")
        r.dump_joblib(bundle, version, BUNDLE)
        for name, content in (files or {}).items():
            if name in (BUNDLE, MANIFEST) or "/" in name or "\\" in name or name.startswith("."):
                raise RegistryError(f"invalid extra file name {name!r} for a model version")
            r.write_bytes(content.encode("utf-8") if isinstance(content, str) else content, version, name)
        r.write_bytes(json.dumps(manifest, ensure_ascii=False, indent=2, default=str).encode("utf-8"), version, MANIFEST)
        return ModelVersion(version, r.path(version), manifest)  # type: ignore[arg-type]

    def versions(self) -> list[ModelVersion]:
        """Complete versions, oldest first (half-written folders are ignored)."""
        if self._remote is not None:
            out = []
            for name in self._remote.children():
                if name.startswith(".") or not (self._remote.exists(name, MANIFEST) and self._remote.exists(name, BUNDLE)):
                    continue
                try:
                    out.append(ModelVersion(name, self._remote.path(name), self._remote.read_json(name, MANIFEST)))  # type: ignore[arg-type]
                except (OSError, json.JSONDecodeError):
                    continue
            return out
        if not self.root.exists():
            return []
        out = []
        for path in sorted(self.root.iterdir()):
            if path.is_dir() and not path.name.startswith(".") and (path / MANIFEST).exists() and (path / BUNDLE).exists():
                try:
                    manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
                except (OSError, json.JSONDecodeError):
                    continue
                out.append(ModelVersion(path.name, path, manifest))
        return out

    def get(self, version: str) -> ModelVersion:
        path = self._dir(version)
        if self._remote is not None:
            if not (self._remote.exists(version, MANIFEST) and self._remote.exists(version, BUNDLE)):
                raise NotFoundError(f"no model version {version} in {self.root}")
            return ModelVersion(version, self._remote.path(version), self._remote.read_json(version, MANIFEST))  # type: ignore[arg-type]
        if not (path / MANIFEST).exists() or not (path / BUNDLE).exists():
            raise NotFoundError(f"no model version {version} in {self.root}")
        return ModelVersion(version, path, json.loads((path / MANIFEST).read_text(encoding="utf-8")))

    def promoted(self) -> str | None:
        if self._remote is not None:
            try:
                return str(self._remote.read_json(POINTER)["version"]) if self._remote.exists(POINTER) else None
            except (OSError, json.JSONDecodeError, KeyError):
                return None
        pointer = self.root / POINTER
        if not pointer.exists():
            return None
        try:
            return str(json.loads(pointer.read_text(encoding="utf-8"))["version"])
        except (OSError, json.JSONDecodeError, KeyError):
            return None

    def promote(self, version: str, *, reason: str = "") -> ModelVersion:
        """Point the service at ``version`` (atomic), and remember the previous one."""
        mv = self.get(version)
        previous = self.promoted()
        if self._remote is None:
            self.root.mkdir(parents=True, exist_ok=True)
        record = {
            "version": version,
            "previous": previous,
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "reason": reason,
        }
        if self._remote is not None:
            self._remote.write_bytes(json.dumps(record).encode("utf-8"), POINTER)  # one object: atomic
            lines = [json.dumps(r) for r in self.history()] + [json.dumps(record)]
            self._remote.write_bytes(("\n".join(lines) + "\n").encode("utf-8"), HISTORY)
            return mv
        tmp = self.root / f".{POINTER}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(record), encoding="utf-8")
        os.replace(tmp, self.root / POINTER)
        with open(self.root / HISTORY, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
        return mv

    def history(self) -> list[dict[str, Any]]:
        if self._remote is not None:
            if not self._remote.exists(HISTORY):
                return []
            text = self._remote.read_bytes(HISTORY).decode("utf-8")
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        path = self.root / HISTORY
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def rollback(self) -> ModelVersion:
        """Promote the version that was served before the current one."""
        current = self.promoted()
        for record in reversed(self.history()):
            if record["version"] == current and record.get("previous"):
                return self.promote(record["previous"], reason=f"rollback from {current}")
        raise RegistryError("nothing to roll back to: no earlier promoted version")

    def load(self, version: str | None = None) -> tuple[Any, dict[str, Any]]:
        """The bundle and manifest of ``version`` (default: the promoted one)."""
        version = version or self.promoted()
        if version is None:
            raise NotFoundError(f"no promoted model in {self.root}; run `recommender train`")
        mv = self.get(version)
        check_compatible(mv.manifest.get("libraries", {}))
        if self._remote is not None:
            return self._remote.load_joblib(version, BUNDLE), mv.manifest
        path = (mv.path / BUNDLE).resolve()
        if path.parent != mv.path:  # a bundle file linked out of the registry is never unpickled
            raise RegistryError(f"model version {version}: {BUNDLE} links outside the registry; refusing to load it")
        bundle = joblib.load(path)
        return bundle, mv.manifest
