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
        self.root = Path(root).resolve()

    def _dir(self, version: str) -> Path:
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
        self.root.mkdir(parents=True, exist_ok=True)
        version = version or self.new_version_name(str(manifest.get("data_fingerprint", "")))
        final = self._dir(version)
        if final.exists():
            raise RegistryError(f"model version {version} already exists")
        manifest = {
            **manifest,
            "version": version,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "libraries": library_versions(),
        }
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

    def versions(self) -> list[ModelVersion]:
        """Complete versions, oldest first (half-written folders are ignored)."""
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
        if not (path / MANIFEST).exists() or not (path / BUNDLE).exists():
            raise NotFoundError(f"no model version {version} in {self.root}")
        return ModelVersion(version, path, json.loads((path / MANIFEST).read_text(encoding="utf-8")))

    def promoted(self) -> str | None:
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
        self.root.mkdir(parents=True, exist_ok=True)
        record = {
            "version": version,
            "previous": previous,
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "reason": reason,
        }
        tmp = self.root / f".{POINTER}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(record), encoding="utf-8")
        os.replace(tmp, self.root / POINTER)
        with open(self.root / HISTORY, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
        return mv

    def history(self) -> list[dict[str, Any]]:
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
        bundle = joblib.load(mv.path / BUNDLE)
        return bundle, mv.manifest
