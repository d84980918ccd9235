"""``recommender retrain``: retrain on new outcomes, gate, promote (safe from cron).

Exit codes: 0 promoted, nothing to do, or saved with --no-promote; 3 the gate
refused the candidate (saved, unpromoted, reason printed and in its manifest);
75 another retrain is running (the lock is held); 1 an error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from recommender.cli._common import interactive


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "retrain",
        help="retrain on the outcomes recorded since the promoted model; promote only if the gate passes",
        description="Counts the placements and enrolments recorded since the promoted model was trained (none: "
        "exits 0 without training unless --force), evaluates the candidate and the promoted model on the same "
        "latest weeks, fits on every outcome, saves the version with its report, and promotes it only if it is not "
        "worse than the promoted model beyond the tolerance overall, for workers 50+ and for cold-start workers. "
        "One retrain at a time per registry (exit 75 if another runs); exit 3 if the gate refused the candidate.",
    )
    p.add_argument("--db", help="store URL (default: RECOMMENDER_DB)")
    p.add_argument("--models", help="registry folder (default: RECOMMENDER_MODELS)")
    p.add_argument("--force", action="store_true", help="retrain even if no outcomes were recorded since the last model")
    p.add_argument("--no-promote", action="store_true", help="save the candidate and its verdict but never promote")
    p.add_argument("--max-abs-drop", type=float, default=0.01, help="gate: largest accepted NDCG@10 drop (absolute)")
    p.add_argument("--max-rel-drop", type=float, default=0.02, help="gate: largest accepted NDCG@10 drop (relative)")
    p.add_argument("--test-days", type=int, default=90, help="held-out window: the latest days of outcomes")
    p.add_argument("--negatives", type=int, default=10, help="sampled feasible negatives per training query")
    p.add_argument("--objective", choices=["regression", "classification"], default="regression")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-queries", type=int, default=4000, help="held-out workers evaluated at most (sampled)")
    p.add_argument("--policy-weights", default="0,1,2,4,8", help="older-worker weights of the trade-off curve")
    p.add_argument("--no-courses", action="store_true", help="skip the course evaluation (the course model is still fitted)")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.add_argument("--shuffle-labels", action="store_true", help=argparse.SUPPRESS)  # gate self-test
    p.set_defaults(func=run_retrain)


def config_from_args(args: argparse.Namespace) -> Any:
    from recommender.lifecycle import GateConfig, RetrainConfig
    from recommender.settings import get_settings
    from recommender.training.pipeline import TrainConfig

    settings = get_settings()
    weights = tuple(float(w) for w in str(args.policy_weights).split(",") if w.strip())
    train = TrainConfig(
        test_days=args.test_days, negatives=args.negatives, objective=args.objective, seed=args.seed,
        eval_max_queries=args.max_queries, max_candidates=settings.max_candidates, policy_weights=weights,
        older_worker_weight=settings.older_worker_weight, older_worker_age=settings.older_worker_age,
        taxonomy_dir=str(settings.taxonomy_extra) if settings.taxonomy_extra else None,
    )
    return RetrainConfig(
        train=train, gate=GateConfig(max_abs_drop=args.max_abs_drop, max_rel_drop=args.max_rel_drop), force=args.force,
        promote=not args.no_promote, courses=not args.no_courses, shuffle_labels=args.shuffle_labels,
    )


def progress_printer(tty: bool) -> Any:
    """Readable lines at a terminal; JSON lines (no personal data: steps, counts, metrics) otherwise."""

    def say(step: str, fraction: float, message: str) -> None:
        if tty:
            print(f"[{100 * fraction:3.0f}%] {message}", file=sys.stderr, flush=True)
        else:
            line = {"ts": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"), "event": "retrain.progress",
                    "step": step, "progress": round(fraction, 3), "message": message}
            print(json.dumps(line, ensure_ascii=False), file=sys.stderr, flush=True)

    return say


def run_retrain(args: argparse.Namespace) -> int:
    from recommender.lifecycle import RetrainBusy, retrain
    from recommender.lifecycle.retrain import EXIT_BUSY
    from recommender.registry import Registry
    from recommender.settings import get_settings
    from recommender.store import Store

    settings = get_settings()
    store = Store(args.db or settings.db)
    registry = Registry(args.models or settings.models)
    tty = interactive()
    try:
        result = retrain(store, registry, config_from_args(args), progress=progress_printer(tty))
    except RetrainBusy as exc:
        if args.json or not tty:
            print(json.dumps({"status": "busy", "message": str(exc), "exit_code": EXIT_BUSY}))
        else:
            print(f"busy: {exc}")
        return EXIT_BUSY
    finally:
        store.dispose()
    if args.json or not tty:
        print(json.dumps(result.to_dict(), ensure_ascii=False, default=str))
    else:
        print(result.message)
        for check in (result.gate or {}).get("checks", []):
            mark = "ok " if check.get("ok") else "BAD"
            print(f"  {mark} {check['segment']:<11} candidate {check['candidate']:.3f}  promoted {check['promoted']:.3f}"
                  f"  ({check['workers']} workers){'  ' + check['note'] if check.get('note') else ''}")
        if result.path:
            print(f"report: {result.path}/report.html")
    return result.exit_code
