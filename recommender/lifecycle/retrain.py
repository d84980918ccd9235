"""``retrain``: new outcomes in, a gated model version out.

1. Take the registry's retrain lock (a second run exits at once: ``RetrainBusy``).
2. Count the placements and enrolments recorded since the promoted model's data
   (``updated_at`` after its ``outcomes_as_of``, else its ``trained_at``). None
   and not forced: stop, nothing written. The same data already tried by the
   newest version (refused): stop too, so cron can run this as often as it likes.
3. Evaluate the candidate recipe on the latest weeks, and the promoted model on
   the same split and queries; apply the gate.
4. Fit on every outcome, write the version (bundle, manifest with the verdict,
   report.html) atomically, and promote it only if the gate passed.

A crash at any point leaves the registry as it was: the version folder appears
whole or not at all, and the pointer moves last.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
import sqlalchemy as sa

from recommender.errors import RecommenderError
from recommender.lifecycle.evaluation import LifecycleEvaluation, Reference, evaluate_candidate, shuffle_relevance
from recommender.lifecycle.gate import GateConfig, GateVerdict, apply_gate
from recommender.lifecycle.lock import RetrainLock
from recommender.lifecycle.report import REPORT, render_report
from recommender.registry import ModelVersion, Registry, library_versions
from recommender.snapshot import Snapshot
from recommender.store import TABLES, UPDATED_AT, Store
from recommender.training.pipeline import TrainConfig, fit_bundle

OUTCOME_TABLES = ("placements", "enrolments")
STALE_INCOMING_SECONDS = 3600

# exit codes of ``recommender retrain`` (also in RetrainResult.exit_code)
EXIT_OK = 0
EXIT_REFUSED = 3  # a candidate was trained and saved but the gate refused it
EXIT_BUSY = 75  # EX_TEMPFAIL: another retrain holds the lock

Progress = Callable[[str, float, str], None]  # (step, overall fraction 0..1, message)


@dataclass(frozen=True)
class RetrainConfig:
    train: TrainConfig = field(default_factory=TrainConfig)
    gate: GateConfig = field(default_factory=GateConfig)
    force: bool = False  # train even without new outcomes
    promote: bool = True  # False: save the candidate and its verdict, never move the pointer
    courses: bool = True  # evaluate the course ranker too (the course model is always fitted)
    report: bool = True
    shuffle_labels: bool = False  # gate self-test: train the candidate on permuted labels


@dataclass
class RetrainResult:
    status: str  # "skipped", "promoted", "refused", "saved" (gate passed, not promoted: --no-promote)
    message: str
    new_outcomes: dict[str, int]
    version: str | None = None
    compared_with: str | None = None
    gate: dict[str, Any] | None = None
    path: str | None = None
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        return EXIT_REFUSED if self.status == "refused" else EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "exit_code": self.exit_code}


def _naive_utc(value: str | dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    t = dt.datetime.fromisoformat(str(value)) if not isinstance(value, dt.datetime) else value
    return t.astimezone(dt.UTC).replace(tzinfo=None) if t.tzinfo else t


def outcomes_since(manifest: dict[str, Any] | None) -> dt.datetime | None:
    """When the data of a model version was read (naive UTC, as the store keeps ``updated_at``)."""
    if not manifest:
        return None
    return _naive_utc(manifest.get("outcomes_as_of") or manifest.get("trained_at"))


def count_new_outcomes(store: Store, since: dt.datetime | None) -> dict[str, int]:
    """Placements and enrolments recorded (inserted or updated) after ``since`` (all of them if None)."""
    out = {}
    with store.begin() as conn:
        for name in OUTCOME_TABLES:
            table = TABLES[name]
            stmt = sa.select(sa.func.count()).select_from(table)
            if since is not None:
                stmt = stmt.where(table.c[UPDATED_AT] > since)
            out[name] = int(conn.execute(stmt).scalar_one())
    return out


def latest_outcome_update(store: Store) -> dt.datetime | None:
    with store.begin() as conn:
        stamps = [conn.execute(sa.select(sa.func.max(TABLES[n].c[UPDATED_AT]))).scalar_one() for n in OUTCOME_TABLES]
    stamps = [pd.Timestamp(s).to_pydatetime() for s in stamps if s is not None]
    return max(stamps) if stamps else None


def remove_stale_incoming(registry: Registry, *, older_than: float = STALE_INCOMING_SECONDS) -> list[str]:
    """Half-written version folders left by a killed run (invisible anyway; this frees the disk)."""
    if not registry.root.exists():
        return []
    removed = []
    now = time.time()
    for path in registry.root.glob(".incoming-*"):
        try:
            if path.is_dir() and now - path.stat().st_mtime > older_than:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
        except OSError:
            continue
    return removed


def _same_attempt(mv: ModelVersion, fingerprint: str, cfg: RetrainConfig) -> bool:
    m = mv.manifest
    return (
        m.get("data_fingerprint") == fingerprint
        and m.get("params") == asdict(cfg.train) | {"policy_weights": list(cfg.train.policy_weights)}
        and (m.get("gate") or {}).get("config", {}).get("max_abs_drop") == cfg.gate.max_abs_drop
        and (m.get("gate") or {}).get("config", {}).get("max_rel_drop") == cfg.gate.max_rel_drop
    )


def retrain(
    store: Store,
    registry: Registry,
    cfg: RetrainConfig | None = None,
    *,
    progress: Progress | None = None,
    lock: RetrainLock | None = None,
) -> RetrainResult:
    """One retrain run (see the module docstring). ``lock``: an already acquired lock to use and release."""
    cfg = cfg or RetrainConfig()
    say = progress or (lambda _s, _f, _m: None)
    started = time.monotonic()
    own = lock or RetrainLock(registry.root)
    try:
        own.acquire()  # raises RetrainBusy
        result = _run(store, registry, cfg, say)
    finally:
        own.release()
    result.seconds = round(time.monotonic() - started, 1)
    return result


def _run(store: Store, registry: Registry, cfg: RetrainConfig, say: Progress) -> RetrainResult:
    removed = remove_stale_incoming(registry)
    if removed:
        say("cleanup", 0.0, f"removed {len(removed)} half-written version folder(s) left by an interrupted run")
    promoted = registry.promoted()
    ref_mv = registry.get(promoted) if promoted else None
    since = outcomes_since(ref_mv.manifest if ref_mv else None)
    as_of = latest_outcome_update(store)  # read before the snapshot: later imports count as new next time
    new = count_new_outcomes(store, since)
    total = sum(new.values())
    say("count", 0.01, f"{total} new outcome(s) since {promoted or 'the start'} "
        f"({new['placements']} placements, {new['enrolments']} enrolments)")
    if total == 0 and not cfg.force and promoted is not None:
        return RetrainResult("skipped", f"no new outcomes since {promoted} (trained on data up to {since}); nothing to do "
                             "(use --force to retrain anyway)", new, compared_with=promoted)
    snapshot = Snapshot.from_store(store, impressions=True)
    if snapshot.placements.empty:
        raise RecommenderError("no placements in the store: import outcomes first (recommender ingest)")
    fingerprint = snapshot.fingerprint()
    versions = registry.versions()
    if not cfg.force and versions:
        newest = max(versions, key=lambda v: str(v.manifest.get("created", "")))
        if newest.version != promoted and _same_attempt(newest, fingerprint, cfg):
            why = (newest.manifest.get("gate") or {}).get("reason", "")
            return RetrainResult("skipped", f"{newest.version} was already trained on exactly these outcomes and not "
                                 f"promoted ({why}); nothing to do (use --force to retrain anyway)", new,
                                 version=newest.version, compared_with=promoted, gate=newest.manifest.get("gate"))
    reference = None
    if ref_mv is not None:
        say("load", 0.03, f"loading the promoted model {promoted}")
        bundle, manifest = registry.load(promoted)
        reference = Reference(promoted, bundle, manifest)

    def stage(lo: float, hi: float, step: str) -> Callable[[str, float], None]:
        return lambda msg, frac: say(step, lo + (hi - lo) * frac, msg)

    ev: LifecycleEvaluation = evaluate_candidate(
        snapshot, cfg.train, reference=reference, shuffle_labels=cfg.shuffle_labels, courses=cfg.courses,
        step=stage(0.05, 0.7, "evaluate"),
    )
    verdict: GateVerdict = apply_gate(ev.jobs, cfg.gate, compared_with=ev.compared_with, comparison=ev.comparison)
    say("gate", 0.7, ("passed: " if verdict.passed else "REFUSED: ") + verdict.reason)
    fit_snapshot = snapshot
    if cfg.shuffle_labels:  # the served bundle learns from the same permuted labels as the evaluated one
        shuffled = snapshot.placements.assign(
            outcome=shuffle_relevance(snapshot.placements.rename(columns={"outcome": "relevance"}), cfg.train.seed)["relevance"]
        )
        fit_snapshot = Snapshot(snapshot.workers, snapshot.jobs, snapshot.courses, shuffled, snapshot.enrolments, snapshot.employers)
    say("fit", 0.72, "fitting the candidate on every outcome")
    bundle, rows = fit_bundle(fit_snapshot, cfg.train, progress=lambda m: say("fit", 0.8, m))
    dates = snapshot.placements["date"]
    will_promote = verdict.passed and cfg.promote
    version = registry.new_version_name(fingerprint)
    manifest: dict[str, Any] = {
        "version": version,
        "data_fingerprint": fingerprint,
        "training_window": {"from": str(dates.min().date()), "to": str(dates.max().date())},
        "rows": {**rows, **ev.rows},
        "split": {"cutoff": str(ev.split.cutoff.date()), "end": str(ev.split.end.date())},
        "feature_names": {"jobs": bundle.jobs.feature_names(), "courses": bundle.courses.feature_names() if bundle.courses else []},
        "params": asdict(cfg.train),
        "metrics": ev.metrics(),
        "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "outcomes_as_of": as_of.isoformat(sep=" ") if as_of else None,
        "new_outcomes": new,
        "compared_with": ev.compared_with,
        "gate": verdict.to_dict(),
        "promoted": will_promote,
        "retrain": {"forced": cfg.force, "shuffled_labels": cfg.shuffle_labels, "heldout_queries": ev.queries},
        "feature_importances": ev.importances.head(30).to_dict("records") if not ev.importances.empty else [],
        "calibration": ev.calibration.to_dict("records") if not ev.calibration.empty else [],
        "recommendation_mix": ev.mix.to_dict("records") if not ev.mix.empty else [],
        "libraries": library_versions(),
    }
    files: dict[str, bytes | str] = {}
    if cfg.report:
        say("report", 0.9, "writing the report")
        manifest["report"] = REPORT
        files[REPORT] = render_report(manifest, ev)
    say("save", 0.95, f"saving {version}")
    mv = registry.save(bundle, manifest, version=version, files=files)
    if will_promote:
        registry.promote(mv.version, reason=verdict.reason if promoted else "first model")
        say("promote", 1.0, f"promoted {mv.version}")
        status, message = "promoted", f"promoted {mv.version}: {verdict.reason}"
    elif verdict.passed:
        status, message = "saved", f"saved {mv.version} (gate passed, not promoted: --no-promote): {verdict.reason}"
    else:
        status, message = "refused", f"kept {mv.version} unpromoted; {promoted} still serves. Gate: {verdict.reason}"
    say("done", 1.0, message)
    return RetrainResult(status, message, new, version=mv.version, compared_with=ev.compared_with,
                         gate=verdict.to_dict(), path=str(mv.path))
